// resume: rebuilds a fresh context's picture from files and git, and repairs what a crash can leave (completed without commit, stale claims).
import { explainStall, featureTokens, isLeaseExpired, nextTask, progress, type Stall } from '../core/scheduler.js';
import { release, renewLease, revertUncommittedCompletion } from '../core/transitions.js';
import { PivError } from '../errors.js';
import type { CommandResult } from '../exec/run.js';
import { existsSync } from 'node:fs';
import { gitDirs } from '../git/worktrees.js';
import { layout, readAgentState, readAgentStates, readConfig, readTask, readTasks, requireSession, STATE_PATHS, withStateLock, writeAgentState, writeTask } from '../store/index.js';
import type { Checkpoint, Task } from '../store/schemas.js';
import { transact } from '../swarm/transact.js';
import { stateContext, type BaseOptions } from './context.js';
import { brief, decisionsOf, type TaskBrief } from './execute.js';
import { openQuestions } from '../core/session.js';

export interface ResumeOptions extends BaseOptions {
  agent?: string;
  /** Run the configured test command as a baseline (default true; never with `brief`). */
  baseline?: boolean;
  /** Also render `brief`, the compact text a hook injects into a fresh context; the baseline is skipped. */
  brief?: boolean;
  /**
   * The context is new (a start, /clear, a compaction): a new usage session starts for the agent (default true). false when a
   * conversation is resumed with its context: the state is read and repaired, the usage session goes on.
   */
  freshContext?: boolean;
}


export interface Repair {
  task: string;
  /**
   * finished_completion: a completion whose verify passed but whose commit never happened (a crash) was committed;
   * uncommitted_completion: a task marked completed without a passing attempt or commit went back to in_progress;
   * stale_claim: an expired claim of another agent was released; landed / followed / claim_lost: a swarm tree's task commit
   * was landed on the feature branch, or the tree followed one that had landed, or could not land (see message);
   * orphan_file: a temporary file a killed write left behind was removed.
   */
  kind: 'finished_completion' | 'uncommitted_completion' | 'stale_claim' | 'landed' | 'followed' | 'claim_lost' | 'orphan_file';
  message: string;
}

export interface ResumeResult {
  feature: string;
  title: string;
  request: string;
  phase: string;
  decisions: { question: string; answer: string }[];
  open_questions: string[];
  progress: { done: number; total: number; percent: number };
  completed: string[];
  /** The task this agent holds (resume it), if any. */
  current: TaskBrief | null;
  /** The task `piv execute` would claim next. */
  next: TaskBrief | null;
  stall: Stall | null;
  /** The newest checkpoint of any agent, with the agent that took it. */
  last_checkpoint: (Checkpoint & { agent: string }) | null;
  tokens: { feature_total: number; sessions: number };
  repairs: Repair[];
  /** The baseline test run; null when skipped or no test command is configured. */
  baseline: (Omit<CommandResult, 'output'> & { skipped: false }) | { skipped: true; reason: string };
  /** With `brief`: the compact text for a fresh context (≤ BRIEF_MAX_CHARS characters), else null. */
  brief: string | null;
}

/** The longest brief `resume --brief` renders: Claude Code keeps hook context up to 10,000 characters inline. */
export const BRIEF_MAX_CHARS = 8_000;

/**
 * Loads the feature for a fresh context and repairs crash leftovers (DESIGN §2, "a crash at any instant leaves state resume
 * can read"). In one working tree, under the lock: a task marked completed whose commit never happened is committed now when its
 * last attempt passed (the completion was decided, only the commit was lost), else goes back to in_progress; temporary files of
 * killed writes are removed. In a swarm: a completion this agent's tree decided but never committed is committed, and a task
 * commit of the tree that never landed is landed. Everywhere: expired claims of other agents go back to pending (recorded
 * in their notes), this agent's own claim is renewed, and a new usage session starts (tokens at 0). Then runs the baseline tests (config commands.test) unless `baseline` is false.
 * Throws `no_session` (exit 2). A failing baseline is reported in the result (the CLI exits 1).
 */
export async function resume(opts: ResumeOptions = {}): Promise<ResumeResult> {
  const { root, now, nowMs, agent, mode, leaseMs } = await stateContext(opts);
  const config = await readConfig(root);
  const repairs: Repair[] = [];
  // Repairs that commit run when asked for (not in the brief a hook injects at every session start), and never in a shallow
  // clone, whose history may lack the task commits that it would otherwise look for.
  const shallow = existsSync(`${gitDirs(root)?.commonDir ?? `${root}/.git`}/shallow`);
  if (opts.brief || shallow) {
    // nothing: the claims below are still repaired
  } else if (mode.kind === 'local') {
    await withStateLock(root, async () => {
      repairs.push(...(await removeOrphans(root)));
      const session = await requireSession(root);
      const tasks = await readTasks(root);
      if (!tasks.some((t) => t.status === 'completed')) return; // git is asked only when a completion needs checking
      const { taskCommits } = await import('../git/git.js');
      const commits = await taskCommits(root, session.feature);
      for (const t of tasks.filter((x) => x.status === 'completed' && !commits.has(x.id))) repairs.push(await repairCompletion(root, t, tasks, session.feature, now, leaseMs));
    });
  } else {
    const { recoverTree } = await import('../swarm/land.js');
    repairs.push(
      ...(await withStateLock(root, async () => {
        // A completion killed before its local commit is committed here first; recoverTree then lands it like any other.
        const finished = await finishTreeCompletions(root, agent, mode.feature, now);
        return [...finished, ...(await recoverTree(root, mode, agent))];
      })),
    );
  }
  const { result } = await transact(root, mode, async (view) => {
    if (!view.session) throw new PivError('no_session', 'no feature session is open', { hint: 'Open one with `piv discuss <feature>`.' });
    const changed: Task[] = [];
    const found: Repair[] = [];
    for (const t of view.tasks) {
      if (t.status === 'in_progress' && t.owner === agent) changed.push(renewLease(t, agent, now, leaseMs));
      else if (isLeaseExpired(t, nowMs)) {
        found.push({ task: t.id, kind: 'stale_claim', message: `claim of ${t.owner} on ${t.id} expired at ${t.lease_expires_at}: released to pending` });
        changed.push(release(t, agent, now, `stale claim of ${t.owner} released by resume (lease expired ${t.lease_expires_at})`, true));
      }
    }
    const tasks = view.tasks.map((t) => changed.find((c) => c.id === t.id) ?? t);
    // The shared session is marked active only in one working tree: in a swarm, pausing is each agent's own business.
    const session = mode.kind === 'local' && view.session.status !== 'active' ? { ...view.session, status: 'active' as const } : undefined;
    const change = changed.length || session ? { tasks: changed, ...(session ? { session } : {}), subject: `chore(piv): resume ${agent}${found.length ? `, release ${found.map((r) => r.task).join(', ')}` : ''}`, trailers: { 'Piv-Agent': agent } } : null;
    return { change, result: { session: session ?? view.session, tasks, found } };
  });
  repairs.push(...result.found);
  // A fresh context: a new usage session for this agent (tokens start at 0; the feature total keeps growing).
  const states = await withStateLock(root, async () => {
    if (opts.freshContext !== false) {
      const own = await readAgentState(root, agent);
      await writeAgentState(root, { ...own, sessions: [...own.sessions, { started_at: now, used: 0, transcript: null, last_attempt: null }] });
    }
    return readAgentStates(root);
  });
  const { session, tasks } = result;
  const sessions = states.flatMap((s) => s.sessions);
  const checkpoints = states.flatMap((s) => s.checkpoints.map((c) => ({ ...c, agent: s.agent }))).sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  const p = progress(tasks);
  const held = tasks.find((t) => t.status === 'in_progress' && t.owner === agent);
  const next = nextTask(tasks);
  let baseline: ResumeResult['baseline'];
  if (opts.brief) baseline = { skipped: true, reason: '--brief' };
  else if (opts.baseline === false) baseline = { skipped: true, reason: '--no-baseline' };
  else if (!config.commands.test) baseline = { skipped: true, reason: 'no test command in .agents/config.yaml' };
  else {
    const { runCommand } = await import('../exec/run.js');
    const { output: _output, ...run } = await runCommand(config.commands.test, { cwd: root, timeoutMs: config.verify.timeout_ms, tailLines: config.verify.tail_lines });
    baseline = { ...run, skipped: false };
  }
  const summary: ResumeResult = {
    feature: session.feature,
    title: session.title,
    request: session.request,
    phase: session.phase,
    decisions: decisionsOf(session),
    open_questions: openQuestions(session),
    progress: { done: p.done, total: p.total, percent: p.percent },
    completed: tasks.filter((t) => t.status === 'completed').map((t) => t.id),
    current: held ? brief(held, tasks) : null,
    next: next ? brief(next, tasks) : null,
    stall: held || next ? null : explainStall(tasks, nowMs),
    last_checkpoint: checkpoints.at(-1) ?? null,
    tokens: { feature_total: featureTokens(sessions), sessions: sessions.length },
    repairs,
    baseline,
    brief: null,
  };
  return opts.brief ? { ...summary, brief: renderBrief(summary) } : summary;
}
const clip = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1).trimEnd()}…`);

/**
 * The compact text of a resume for injection into a fresh context: feature, progress, decisions, open questions, the last
 * checkpoint, repairs, and the brief of the task held (else the next one). Plain statements of the state (hook context is read
 * as information, not as instructions), at most BRIEF_MAX_CHARS characters. Pure.
 */
export function renderBrief(r: ResumeResult): string {
  const lines = [`piv: feature ${r.feature}${r.title && r.title !== r.feature.replace(/-/g, ' ') ? ` (${r.title})` : ''}, phase ${r.phase}, ${r.progress.done}/${r.progress.total} tasks done.`];
  if (r.request) lines.push(`Request: ${clip(r.request, 600)}`);
  if (r.decisions.length) lines.push('Decisions:', ...r.decisions.slice(0, 20).map((d) => `- ${clip(d.question, 160)} → ${clip(d.answer, 300)}`));
  if (r.open_questions.length) lines.push(`Open questions: ${r.open_questions.map((q) => clip(q, 160)).join('; ')}`);
  const c = r.last_checkpoint;
  if (c) lines.push(`Last checkpoint ${c.at} by ${c.agent}: ${c.done}/${c.total} done${c.note ? `; note: ${clip(c.note, 300)}` : ''}.`);
  for (const repair of r.repairs) lines.push(`Repaired: ${repair.message}`);
  const task = r.current ?? r.next;
  if (task) {
    lines.push(
      r.current ? `In progress (held by this agent): ${task.id} ${task.name} [${task.priority}]` : `Next ready task: ${task.id} ${task.name} [${task.priority}]; \`piv execute\` claims it.`,
      ...(task.action ? [`Action: ${clip(task.action, 2_000)}`] : []),
      ...(task.files.length ? [`Files: ${task.files.slice(0, 30).join(', ')}`] : []),
      ...(task.verify ? [`Verify: ${clip(task.verify, 300)}`] : []),
      ...(task.done ? [`Done when: ${clip(task.done, 600)}`] : []),
    );
    if (r.current && task.last_attempt && !task.last_attempt.passed) lines.push(`Last verify failed (exit ${task.last_attempt.exit_code ?? 'none'}): ${clip(task.last_attempt.output_tail.split('\n').slice(-8).join('\n'), 800)}`);
    if (r.current) lines.push(`\`piv done ${task.id}\` runs verify and commits the task when it passes.`);
  } else if (r.stall) {
    lines.push(r.stall.all_done ? 'Every task is completed; `piv validate` is the gate.' : `No task is ready: ${[...r.stall.in_progress.map((t) => `${t.id} in progress (${t.owner ?? 'no owner'})`), ...r.stall.blocked.map((t) => `${t.id} blocked${t.reason ? ` (${clip(t.reason, 160)})` : ''}`), ...r.stall.failed.map((id) => `${id} failed`)].join(', ') || 'none pending'}.`);
  }
  return clip(lines.join('\n'), BRIEF_MAX_CHARS);
}

/**
 * A task marked completed with no commit carrying its trailer (a crash between the two). When its last attempt passed at the
 * completion time, the completion was decided and only its commit was lost: the commit is made now, as `piv done` would have.
 * Otherwise (or when git refuses) the task goes back to in_progress with a note, to be completed again.
 */
async function repairCompletion(root: string, task: Task, tasks: readonly Task[], feature: string, now: string, leaseMs: number): Promise<Repair> {
  const finished = await commitDecidedCompletion(root, task, tasks, feature, now);
  if (finished) return finished;
  const reverted = revertUncommittedCompletion(task, now, leaseMs);
  await writeTask(root, reverted);
  return { task: task.id, kind: 'uncommitted_completion', message: `${task.id} was marked completed but no commit carries "Piv-Task: ${task.id}": back to in_progress (owner ${reverted.owner ?? 'none'}); run piv done ${task.id} again` };
}

/** Whether `task` was decided complete: its last attempt passed at the completion time, and someone owns it. */
const decided = (task: Task) => {
  const last = task.attempts.at(-1);
  return task.status === 'completed' && task.owner !== null && last?.passed === true && last.at === task.completed_at;
};

/**
 * Makes the commit a completion's crash lost, as `piv done` would have: the task's files, its YAML and, when the crash came
 * before the reported tokens reached the agent's state, that state with them added (countAttemptUsage: never twice).
 * Returns the repair, or null when the completion was not decided (decided()) or git refused the commit.
 */
async function commitDecidedCompletion(root: string, task: Task, tasks: readonly Task[], feature: string, now: string): Promise<Repair | null> {
  if (!decided(task)) return null;
  const last = task.attempts.at(-1)!;
  const { completionMessage, countAttemptUsage, selectPaths } = await import('./done.js');
  const { commitPaths } = await import('../git/git.js');
  try {
    const selection = await selectPaths(root, task, task.owner!, tasks, {});
    const counted = await countAttemptUsage(root, task.owner!, task.id, last, now);
    const include = [...new Set([...selection.include, STATE_PATHS.task(task.id), ...(counted ? [STATE_PATHS.agentState(task.owner!)] : [])])].sort();
    const commit = await commitPaths(root, include, completionMessage(task, last, feature));
    return { task: task.id, kind: 'finished_completion', message: `${task.id} had passed verify and been marked completed, but its commit never happened: committed now as ${commit.slice(0, 7)}` };
  } catch (error) {
    if (!(error instanceof PivError)) throw error;
    return null;
  }
}

/**
 * In a swarm agent's tree: the completions of `agent` that `piv done` decided and wrote but was killed before committing
 * (the task's YAML changed since HEAD), committed now (commitDecidedCompletion) so that recoverTree lands them. Left as
 * they are when git refuses: `piv done` again completes them.
 */
async function finishTreeCompletions(root: string, agent: string, feature: string, now: string): Promise<Repair[]> {
  // One git status of the tasks folder first: a tree without a changed task file (the usual case) reads no task.
  const { changedPaths } = await import('../git/git.js');
  // Task files as the store lists them: the .yaml files directly in the tasks folder.
  const names = (await changedPaths(root, [STATE_PATHS.tasksDir])).map((p) => p.slice(STATE_PATHS.tasksDir.length + 1));
  const ids = names.filter((name) => name.endsWith('.yaml') && !name.includes('/')).map((name) => name.slice(0, -'.yaml'.length));
  const found: Task[] = [];
  for (const id of ids) {
    const task = await readTask(root, id).catch((error: unknown) => {
      // Deleted, or broken by hand: not a completion piv wrote (the branch, not this file, is what the swarm reads).
      if (error instanceof PivError && (error.code === 'not_found' || error.code === 'invalid_file')) return null;
      throw error;
    });
    if (task && decided(task) && task.owner === agent) found.push(task);
  }
  if (found.length === 0) return [];
  const tasks = await readTasks(root);
  const repairs: Repair[] = [];
  for (const t of found) {
    const repair = await commitDecidedCompletion(root, t, tasks, feature, now);
    if (repair) repairs.push(repair);
  }
  return repairs;
}

/** Removes temporary files that a write killed halfway left next to piv's files (write-file-atomic names them <file>.<number>). */
async function removeOrphans(root: string): Promise<Repair[]> {
  const { readdir, rm } = await import('node:fs/promises');
  const paths = layout(root);
  const repairs: Repair[] = [];
  for (const dir of [paths.tasksDir, paths.stateDir, paths.agentStatesDir]) {
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names.filter((n) => /\.yaml\.\d+$/.test(n))) {
      await rm(`${dir}/${name}`, { force: true });
      repairs.push({ task: name.split('.')[0]!, kind: 'orphan_file', message: `removed ${name}, a temporary file left by a write that was killed` });
    }
  }
  return repairs;
}
