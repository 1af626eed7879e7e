// execute: claims the next ready task under the state lock, so one task is never given to two agents.
import { dependentsOf } from '../core/graph.js';
import { explainStall, isLeaseExpired, progress, readySet, type Stall } from '../core/scheduler.js';
import { claim, release, renewLease } from '../core/transitions.js';
import { PivError } from '../errors.js';
import { hasLinkedWorktrees } from '../git/worktrees.js';
import type { SharedClaim } from '../git/claims.js';
import { readConfig, readSession, readTask, readTaskSummaries, requireInitialized, withStateLock, writeSession, writeTask, type TaskSummary } from '../store/index.js';
import type { Session, Task } from '../store/schemas.js';
import { defaultAgent, resolve, type BaseOptions } from './context.js';
import { answeredDecisions } from '../core/session.js';

export interface ExecuteOptions extends BaseOptions {
  agent?: string;
  /** Claim this task instead of the scheduler's choice (it must be ready, or already yours). */
  task?: string;
}

/** Everything an agent needs to do one task in a fresh context. */
export interface TaskBrief {
  id: string;
  name: string;
  priority: Task['priority'];
  phase: string | null;
  status: Task['status'];
  owner: string | null;
  lease_expires_at: string | null;
  action: string;
  files: string[];
  verify: string | null;
  done: string;
  blocked_by: string[];
  /** Tasks that wait on this one (derived). */
  unblocks: string[];
  estimated_tokens: number | null;
  attempts: number;
  last_attempt: { at: string; exit_code: number | null; passed: boolean; output_tail: string } | null;
  notes: string[];
}

export interface ExecuteResult {
  agent: string;
  /** claimed: a new claim; resumed: the agent already held it; taken_over: an expired claim taken back; none_ready / all_done: no task. */
  outcome: 'claimed' | 'resumed' | 'taken_over' | 'none_ready' | 'all_done';
  task: TaskBrief | null;
  feature: string | null;
  decisions: { question: string; answer: string }[];
  progress: { done: number; total: number };
  /** Why nothing is ready (outcome none_ready / all_done). */
  stall: Stall | null;
  /** Ready tasks skipped because another working tree holds them (shared claims; [] with a single tree). */
  claimed_elsewhere: { id: string; agent: string; worktree: string; state: SharedClaim['state'] }[];
  /** Things the agent should know that did not stop the verb (e.g. the claims remote was unreachable). */
  warnings: string[];
}

/** The brief of a task (what to do, how it is verified, what it unblocks). */
export function brief(task: Task, all: readonly Pick<Task, 'id' | 'blocked_by'>[]): TaskBrief {
  const last = task.attempts.at(-1);
  return {
    id: task.id,
    name: task.name,
    priority: task.priority,
    phase: task.phase,
    status: task.status,
    owner: task.owner,
    lease_expires_at: task.lease_expires_at,
    action: task.action,
    files: task.files,
    verify: task.verify,
    done: task.done,
    blocked_by: task.blocked_by,
    unblocks: dependentsOf(all, task.id),
    estimated_tokens: task.estimated_tokens,
    attempts: task.attempts.length,
    last_attempt: last ? { at: last.at, exit_code: last.exit_code, passed: last.passed, output_tail: last.output_tail } : null,
    notes: task.notes.map((n) => `${n.at} ${n.text}`),
  };
}

/** Answered decisions of the session, for briefs. */
export function decisionsOf(session: Session | null): { question: string; answer: string }[] {
  return answeredDecisions(session).map(({ question, answer }) => ({ question, answer }));
}

/**
 * Gives `agent` its task: `task` when named (it must be ready or already held), else the one it already holds (lease renewed), else the next ready task
 * (priority, then critical path, then id), else an expired claim of another agent. Returns the brief, or why nothing is ready.
 * Throws `not_initialized` / `invalid_file` (exit 2); `lock_timeout` (exit 3).
 */
export async function execute(opts: ExecuteOptions = {}): Promise<ExecuteResult> {
  const { root, now, nowMs } = resolve(opts);
  const agent = defaultAgent(opts.agent);
  requireInitialized(root);
  const config = await readConfig(root);
  const leaseMs = config.claims.lease_minutes * 60_000;
  return withStateLock(root, async () => {
    // Summaries for choosing (the cache's index); the full task only for the one claimed.
    const tasks: TaskSummary[] = await readTaskSummaries(root);
    const full = (t: TaskSummary) => readTask(root, t.id);
    const session = await readSession(root);
    // With several working trees or a claims remote, a claim is also a ref written by compare-and-swap (git/claims.ts):
    // the file lock only covers this tree. A single tree without a claims remote never loads git here.
    const scope = { remote: config.claims.remote };
    const warnings: string[] = [];
    const held0 = tasks.find((t) => t.status === 'in_progress' && t.owner === agent);
    let sharing = session && (scope.remote || hasLinkedWorktrees(root)) ? await import('../git/claims.js') : null;
    let claims = new Map<string, SharedClaim>();
    if (sharing && session) {
      try {
        claims = await sharing.listClaims(root, session.feature, scope);
      } catch (error) {
        // Offline, an agent may go on with the task it holds; it may not take a new one (that could be a double claim).
        if (!held0 || opts.task !== undefined) throw error;
        warnings.push(`${(error as Error).message}; continuing with your claim on ${held0.id} offline`);
        sharing = null;
      }
    }
    const place = sharing ? await sharing.placeOf(root) : root;
    const mine = (c: SharedClaim) => c.worktree === place && c.agent === agent;
    // A `done` that could not reach the remote left its claim `claimed`: publish the completion now.
    for (const t of tasks) {
      const c = claims.get(t.id);
      if (sharing && session && c && t.status === 'completed' && c.state === 'claimed' && mine(c)) {
        const hash = await sharing.putClaim(root, session.feature, { ...c, state: 'completed', at: now, lease_expires_at: null }, c.hash, scope).catch(() => null);
        if (hash) claims.set(t.id, { ...c, state: 'completed', lease_expires_at: null, hash });
      }
    }
    const heldElsewhere = (id: string) => {
      const c = claims.get(id);
      return c !== undefined && !mine(c) && sharing !== null && sharing.isLive(c, nowMs);
    };
    /** Takes (or renews) the shared claim on `id`: the claim commit, 'local' without sharing, or null when another tree holds it. */
    const claimShared = async (id: string): Promise<string | null> => {
      if (!sharing || !session) return 'local';
      if (heldElsewhere(id)) return null;
      const current = claims.get(id);
      const lease = new Date(nowMs + leaseMs).toISOString();
      return sharing.putClaim(root, session.feature, { task: id, agent, worktree: place, state: 'claimed', at: now, lease_expires_at: lease }, current?.hash ?? null, scope);
    };
    /** Undoes a shared claim this call wrote, when writing the task file then failed (best effort). */
    const undoShared = async (id: string, hash: string) => {
      if (sharing && session && hash !== 'local') await sharing.dropClaim(root, session.feature, id, hash, scope).catch(() => false);
    };
    /** A task this agent held whose shared claim another tree now has: released here, and reported as a conflict. */
    const lost = async (task: Task): Promise<never> => {
      const c = claims.get(task.id);
      await writeTask(root, release(task, agent, now, `claim lost: ${c ? `${c.agent} (${c.worktree})` : 'another working tree'} holds ${task.id}`, true));
      throw new PivError('conflict', `${task.id} is now claimed in another working tree${c ? ` by ${c.agent} (${c.worktree})` : ''}; your claim was released`, {
        hint: 'Your lease had ended or the task was claimed before this tree shared claims. Keep your changes for its owner, and run `piv execute` for another task.',
        details: { task: task.id, owner: c?.agent ?? null, worktree: c?.worktree ?? null },
      });
    };
    const elsewhere = () =>
      [...claims.values()]
        .filter((c) => heldElsewhere(c.task) && tasks.some((t) => t.id === c.task && t.status !== 'completed'))
        .map((c) => ({ id: c.task, agent: c.agent, worktree: c.worktree, state: c.state }));
    const finish = async (outcome: ExecuteResult['outcome'], task: Task | null): Promise<ExecuteResult> => {
      if (task) {
        const index = tasks.findIndex((t) => t.id === task.id);
        tasks[index] = task;
        await writeTask(root, task);
        if (session && ((session.phase !== 'execute' && session.phase !== 'validate') || session.status !== 'active')) {
          // No updated_at bump: agents on two branches make the same edit, which merges cleanly.
          await writeSession(root, { ...session, phase: session.phase === 'validate' ? 'validate' : 'execute', status: 'active' });
        }
      }
      const p = progress(tasks);
      return {
        agent,
        outcome,
        task: task ? brief(task, tasks) : null,
        feature: session?.feature ?? null,
        decisions: decisionsOf(session),
        progress: { done: p.done, total: p.total },
        stall: task ? null : explainStall(tasks),
        claimed_elsewhere: elsewhere(),
        warnings,
      };
    };
    /** finish() for a task whose shared claim was just written: if the task file cannot be written, the claim is undone. */
    const finishClaimed = async (outcome: ExecuteResult['outcome'], task: Task, hash: string): Promise<ExecuteResult> => {
      try {
        return await finish(outcome, task);
      } catch (error) {
        await undoShared(task.id, hash);
        throw error;
      }
    };
    if (opts.task !== undefined) {
      const chosen = tasks.find((t) => t.id === opts.task);
      if (!chosen) throw new PivError('not_found', `task ${opts.task} does not exist`, { hint: 'List tasks with `piv status`.' });
      if (chosen.status === 'in_progress' && chosen.owner === agent) {
        if ((await claimShared(chosen.id)) === null) return lost(await full(chosen));
        return finish('resumed', renewLease(await full(chosen), agent, now, leaseMs));
      }
      const waiting = explainStall(tasks).waiting.find((w) => w.id === chosen.id)?.waiting_on ?? [];
      if (chosen.status === 'pending' && waiting.length) {
        throw new PivError('invalid_transition', `${chosen.id} is not ready: it waits on ${waiting.join(', ')}`, { hint: 'Finish those first, or run `piv execute` to get a ready task.', details: { task: chosen.id, waiting_on: waiting } });
      }
      const checked = claim(await full(chosen), agent, now, leaseMs); // throws for a task that is not pending
      const hash = await claimShared(chosen.id);
      if (hash === null) {
        const c = claims.get(chosen.id);
        throw new PivError('conflict', `${chosen.id} is claimed in another working tree${c ? ` by ${c.agent} (${c.worktree})` : ''}`, {
          hint: 'Pick another task with `piv execute`.',
          details: { task: chosen.id, owner: c?.agent ?? null, worktree: c?.worktree ?? null },
        });
      }
      return finishClaimed('claimed', checked, hash);
    }
    if (held0) {
      if (sharing && (await claimShared(held0.id)) === null) return lost(await full(held0));
      return finish('resumed', renewLease(await full(held0), agent, now, leaseMs));
    }
    for (const candidate of readySet(tasks)) {
      const hash = await claimShared(candidate.id);
      if (hash !== null) return finishClaimed('claimed', claim(await full(candidate), agent, now, leaseMs), hash);
    }
    const stale = tasks.find((t) => isLeaseExpired(t, nowMs));
    const staleHash = stale ? await claimShared(stale.id) : null;
    if (stale && staleHash !== null) {
      const released = release(await full(stale), agent, now, `claim of ${stale.owner} expired at ${stale.lease_expires_at}; taken over by ${agent}`, true);
      return finishClaimed('taken_over', claim(released, agent, now, leaseMs), staleHash);
    }
    return finish(tasks.length > 0 && tasks.every((t) => t.status === 'completed') ? 'all_done' : 'none_ready', null);
  });
}
