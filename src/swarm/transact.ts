// Transactions on the shared state: a change computed from one consistent view is applied whole or, after a lost race, recomputed — never lost.
import { PivError } from '../errors.js';
import { deleteTask, readSession, readTask, readTasks, readTaskSummaries, tryStateLock, withStateLock, writeSession, writeTask, type TaskSummary } from '../store/index.js';
import type { Session, Task } from '../store/schemas.js';
import type { StateChange } from './branch.js';
import type { Mode } from './mode.js';
import { trace } from '../trace.js';

/** The state a transaction computes from. */
export interface StateView<T extends TaskSummary = Task> {
  /** Every task (sorted by id): whole tasks, or in a light transaction only their summaries. */
  tasks: T[];
  /** One whole task of this view (for the one a light transaction changes). Throws `not_found` (exit 2). */
  load(id: string): Promise<Task>;
  session: Session | null;
  /** The feature-branch commit the view was read from; null for the working tree's files. */
  commit: string | null;
}

/** A view of whole tasks, or of summaries (served from the cache's index in one working tree: what a hot verb needs). */
type Reader<T extends TaskSummary> = (root: string) => Promise<T[]>;

export interface Transaction<R> {
  /** What to write; null writes nothing. */
  change: StateChange | null;
  result: R;
}

export interface TransactOptions {
  /** In a swarm, create the feature branch from HEAD when it does not exist yet (execute does; others fall back to the files). */
  create?: boolean;
  /** In a swarm, fast-forward this agent's working tree to the new tip afterwards (a new claim starts from the latest work). */
  sync?: boolean;
  /**
   * In one working tree, run `fn` once without the lock first and stop there when it changes nothing (an agent polling for
   * work while nothing is ready never queues behind the lock); otherwise run it again under the lock.
   */
  optimistic?: boolean;
}

export interface TransactResult<R> {
  result: R;
  /** The feature-branch commit that recorded the change (a swarm), else null. */
  commit: string | null;
  /** The tip the result was computed from (a swarm), else null. */
  tip: string | null;
  warnings: string[];
}

/** Attempts before a swarm transaction gives up: every lost race means another agent's change landed, so this bounds only pathological churn. */
const MAX_ATTEMPTS = 200;

/**
 * Runs `fn` on a consistent view of the shared state and applies the change it returns, all or nothing:
 * - one working tree: under the state lock, from the files; the change is written to the files;
 * - a swarm: from the feature branch's tip; the change becomes one commit on that tip, moved onto the branch by compare-and-swap;
 *   when another agent moved the branch first, `fn` runs again on the new tip (so `fn` must only compute).
 * Returns fn's result. Throws what `fn` throws, `lock_timeout` (exit 3), `conflict` (exit 3) when the branch kept moving,
 * `git_failed` (exit 1).
 */
export async function transact<R>(root: string, mode: Mode, fn: (view: StateView) => Promise<Transaction<R>>, opts: TransactOptions = {}): Promise<TransactResult<R>> {
  return run(root, mode, readTasks, fn, opts);
}

/** transact() on task summaries (StateView<TaskSummary>): `view.load(id)` gives the whole task to change. For the hot verbs. */
export async function transactLight<R>(root: string, mode: Mode, fn: (view: StateView<TaskSummary>) => Promise<Transaction<R>>, opts: TransactOptions = {}): Promise<TransactResult<R>> {
  return run(root, mode, readTaskSummaries, fn, opts);
}

async function run<T extends TaskSummary, R>(root: string, mode: Mode, read: Reader<T>, fn: (view: StateView<T>) => Promise<Transaction<R>>, opts: TransactOptions): Promise<TransactResult<R>> {
  if (opts.optimistic && mode.kind === 'local') {
    // A free lock is taken at once (one read). A busy one is not waited for until an unlocked read shows there is a change
    // to make, so an agent polling while nothing is ready never queues behind another agent's completion. Files are replaced
    // atomically, so an unlocked read sees each file whole; one racing a write may see a task change between its summary and
    // its file, and then decides again under the lock.
    const now = await tryStateLock(root, async () => applyToFiles(root, await filesView(root, read), fn));
    if (now.ran) return now.value;
    const first = await fn(await filesView(root, read)).catch(() => null);
    if (first && !first.change) return { result: first.result, commit: null, tip: null, warnings: [] };
  }
  return withStateLock(root, async () => {
    if (mode.kind === 'local') return applyToFiles(root, await filesView(root, read), fn);
    // git (execa) is loaded only in a swarm: one working tree never starts a git process here.
    const branch = await import('./branch.js');
    const tip = opts.create ? await branch.ensureFeatureBranch(root, mode) : await branch.featureTip(root, mode);
    if (tip === null) return applyToFiles(root, await filesView(root, read), fn); // no swarm yet: the files are still the state
    let current = tip;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const state = await branch.readTip(root, mode, current);
      const load = async (id: string) => state.tasks.find((t) => t.id === id) ?? (await readTask(root, id));
      const { change, result } = await fn({ tasks: state.tasks as unknown as T[], load, session: state.session, commit: current });
      if (!change) return { result, commit: null, tip: current, warnings: [] };
      const commit = await branch.commitChange(root, mode, state, change);
      if (await branch.advance(root, mode, current, commit)) {
        const warning = opts.sync ? await branch.syncTree(root, mode, commit) : null;
        return { result, commit, tip: current, warnings: warning ? [warning] : [] };
      }
      await branch.backoff(attempt);
      current = (await branch.featureTip(root, mode)) ?? current;
    }
    throw new PivError('conflict', `${mode.branch} kept moving: ${MAX_ATTEMPTS} attempts lost the race to other agents`, { hint: 'Run the command again.' });
  });
}

async function filesView<T extends TaskSummary>(root: string, read: Reader<T>): Promise<StateView<T>> {
  const [tasks, session] = await Promise.all([read(root), readSession(root)]);
  return { tasks, session, commit: null, load: (id) => readTask(root, id) };
}

/** One working tree (the caller holds the lock): fn on the files, its change written to them. */
async function applyToFiles<T extends TaskSummary, R>(root: string, view: StateView<T>, fn: (view: StateView<T>) => Promise<Transaction<R>>): Promise<TransactResult<R>> {
  trace('transaction: view read');
  const { change, result } = await fn(view);
  trace('transaction: change computed');
  if (change) {
    for (const t of change.tasks ?? []) await writeTask(root, t);
    for (const id of change.drop ?? []) await deleteTask(root, id);
    if (change.session) await writeSession(root, change.session);
    trace('transaction: change written');
  }
  return { result, commit: null, tip: null, warnings: [] };
}
