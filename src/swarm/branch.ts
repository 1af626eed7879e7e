// The feature branch: read at its tip, changed only by a commit whose parent is the tip it was computed from (compare-and-swap).
import { PivError } from '../errors.js';
import { compareAndSwap, commitFiles, fetchRef, gitOk, gitRun, resolveCommit } from '../git/plumbing.js';
import { headBranch } from '../git/worktrees.js';
import { readStateAt, type CommitState } from '../store/at-commit.js';
import { renderSessionText, renderTaskText, STATE_PATHS } from '../store/index.js';
import type { Session, Task } from '../store/schemas.js';
import { agentOfBranch, type BranchMode } from './mode.js';

/** A change to the shared state: tasks to write, tasks to delete, the session; with the commit message that records it. */
export interface StateChange {
  tasks?: Task[];
  drop?: string[];
  session?: Session;
  /** Commit subject, e.g. `chore(piv): claim task-003 for a1`. */
  subject: string;
  body?: string;
  /** Trailers (`Piv-Claim: task-003`); Piv-Feature is added. */
  trailers?: Record<string, string>;
}

/**
 * The feature branch's tip: with a remote, fetched from it first (the remote is the truth), else the local ref.
 * Returns null when the branch does not exist. Throws `git_failed` when the remote cannot be reached.
 */
export async function featureTip(root: string, mode: BranchMode): Promise<string | null> {
  if (mode.remote) return fetchRef(root, mode.remote, mode.ref, mode.tracking);
  return resolveCommit(root, mode.ref);
}

/**
 * The feature branch's tip, creating the branch from HEAD when it does not exist yet (on the remote too, by compare-and-swap:
 * when another agent created it first, theirs is used). HEAD must hold the committed plan.
 * Throws `usage` (exit 2) when the task files or the session are not committed, `git_failed` (exit 1).
 */
export async function ensureFeatureBranch(root: string, mode: BranchMode): Promise<string> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const tip = await featureTip(root, mode);
    if (tip) return tip;
    const dirty = (await gitOk(root, ['--no-optional-locks', 'status', '--porcelain', '--untracked-files=all', '--', STATE_PATHS.tasksDir, STATE_PATHS.session])).trim();
    const head = await resolveCommit(root, 'HEAD');
    const planned = head ? (await gitOk(root, ['ls-tree', '--name-only', head, '--', `${STATE_PATHS.tasksDir}/`])).trim() : '';
    if (!head || dirty || !planned) {
      throw new PivError('usage', `the plan of ${mode.feature} is not committed, so a swarm cannot start from it`, {
        hint: 'Commit the plan first (`piv plan FILE --commit`, or git commit .agents), then run the command again.',
        details: { uncommitted: dirty.split('\n').filter(Boolean) },
      });
    }
    if (await compareAndSwap(root, mode.ref, head, null, mode.remote)) {
      if (mode.remote) await gitOk(root, ['update-ref', mode.tracking, head]);
      return head;
    }
  }
  throw new PivError('conflict', `could not create the feature branch ${mode.branch}`, { hint: 'Another agent keeps changing it; run the command again.' });
}

/** Reads the shared state at `tip` (errors name files as `piv/<feature>:<path>`). */
export function readTip(root: string, mode: BranchMode, tip: string): Promise<CommitState> {
  return readStateAt(root, tip, mode.branch);
}

/**
 * A commit on top of `state.commit` that writes `change` (files rendered keeping their comments), made without touching any
 * working tree. Returns its oid.
 */
export async function commitChange(root: string, mode: BranchMode, state: CommitState, change: StateChange): Promise<string> {
  const files = new Map<string, string | null>();
  for (const t of change.tasks ?? []) files.set(STATE_PATHS.task(t.id), await renderTaskText(t, state.texts.get(STATE_PATHS.task(t.id))));
  for (const id of change.drop ?? []) files.set(STATE_PATHS.task(id), null);
  if (change.session) files.set(STATE_PATHS.session, await renderSessionText(change.session, state.texts.get(STATE_PATHS.session)));
  const trailers = { ...change.trailers, 'Piv-Feature': mode.feature };
  const message = `${change.subject}\n\n${change.body ? `${change.body}\n\n` : ''}${Object.entries(trailers).map(([k, v]) => `${k}: ${v}`).join('\n')}\n`;
  return commitFiles(root, state.commit, files, message);
}

/**
 * Moves the feature branch from `expected` to `next` by compare-and-swap (see git/plumbing compareAndSwap). Returns false
 * when another agent moved it first (re-read and retry). With a remote, the local view of the tip follows.
 */
export async function advance(root: string, mode: BranchMode, expected: string, next: string): Promise<boolean> {
  const moved = await compareAndSwap(root, mode.ref, next, expected, mode.remote);
  if (moved && mode.remote) await gitRun(root, ['update-ref', mode.tracking, next]);
  return moved;
}

/**
 * Brings the agent's working tree at `root` (on its branch piv-agent/<feature>/<agent>) forward to `commit` when that is a
 * fast-forward that touches none of its uncommitted changes. Returns a warning when it could not, else null; a tree that
 * is not an agent tree of this feature is left alone.
 */
export async function syncTree(root: string, mode: BranchMode, commit: string): Promise<string | null> {
  if (agentOfBranch(mode.feature, headBranch(root)) === null) return null;
  const r = await gitRun(root, ['merge', '--ff-only', '--quiet', '--no-verify', commit]);
  if (r.exitCode === 0) return null;
  const why = r.stderr.trim().split('\n').filter(Boolean).slice(0, 2).join(' ');
  return `this working tree stays where it was (not fast-forwarded to ${mode.branch} ${commit.slice(0, 7)}): ${why}`;
}

/** Backoff before retry `attempt` of a lost compare-and-swap: exponential with jitter, 5 ms … 400 ms. */
export function backoff(attempt: number): Promise<void> {
  const ms = Math.min(400, 5 * 1.5 ** attempt) * (0.5 + Math.random());
  return new Promise((resolve) => setTimeout(resolve, ms));
}
