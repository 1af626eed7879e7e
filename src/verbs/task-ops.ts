// Task operations beyond claim/complete (release, block, unblock, retry, reopen, note, heartbeat): each one transition, applied atomically.
import * as T from '../core/transitions.js';
import { PivError } from '../errors.js';
import type { Task } from '../store/schemas.js';
import { transactLight } from '../swarm/transact.js';
import { stateContext, type BaseOptions } from './context.js';

export type TaskOp = 'release' | 'block' | 'unblock' | 'retry' | 'reopen' | 'note';

export interface TaskOpOptions extends BaseOptions {
  op: TaskOp;
  id: string;
  agent?: string;
  /** Reason (block, reopen, release). */
  reason?: string;
  /** note: the note's text. */
  text?: string;
  /** release: take back another agent's claim. */
  force?: boolean;
}

export interface TaskOpResult {
  id: string;
  op: TaskOp;
  from: Task['status'];
  to: Task['status'];
  owner: string | null;
  /** The feature-branch commit that recorded it (a swarm), else null. */
  commit: string | null;
  warnings: string[];
}

/**
 * Applies one state-machine transition to task `id` (DESIGN §2): release (in_progress → pending), block (→ blocked with a reason),
 * unblock, retry (failed → in_progress), reopen (completed → in_progress), note (any status, unchanged: one more note, signed by
 * the agent). In a swarm the transition is a commit on the feature branch. Throws `not_found` / `invalid_transition` /
 * `usage` (exit 2), `conflict` (exit 3).
 */
export async function taskOp(opts: TaskOpOptions): Promise<TaskOpResult> {
  const { root, now, agent, mode, leaseMs } = await stateContext(opts);
  const reason = opts.reason?.trim();
  const { result, commit, warnings } = await transactLight(root, mode, async (view) => {
    if (!view.tasks.some((t) => t.id === opts.id)) throw new PivError('not_found', `task ${opts.id} does not exist`, { hint: 'List tasks with `piv status`.' });
    const task = await view.load(opts.id);
    let next: Task;
    switch (opts.op) {
      case 'release':
        next = T.release(task, agent, now, reason ? `released by ${agent}: ${reason}` : `released by ${agent}`, opts.force);
        break;
      case 'block':
        next = T.block(task, reason || 'no reason given', now);
        break;
      case 'unblock':
        next = T.unblock(task, now, leaseMs);
        break;
      case 'retry':
        next = T.retry(task, agent, now, leaseMs);
        break;
      case 'reopen':
        next = T.reopen(task, agent, now, reason || 'no reason given', leaseMs);
        break;
      case 'note':
        next = T.addNote(task, agent, now, opts.text ?? '');
        break;
    }
    return {
      change: { tasks: [next], subject: `chore(piv): ${opts.op === 'note' ? 'note on' : opts.op} ${task.id}${opts.op === 'release' || opts.op === 'retry' || opts.op === 'reopen' ? ` (${agent})` : ''}`, trailers: { 'Piv-Claim': task.id, 'Piv-Agent': agent } },
      result: { id: task.id, op: opts.op, from: task.status, to: next.status, owner: next.owner },
    };
  });
  return { ...result, commit, warnings };
}

export interface HeartbeatResult {
  agent: string;
  /** The claims whose leases were renewed, with their new ends. */
  renewed: { id: string; lease_expires_at: string }[];
  commit: string | null;
}

/**
 * Renews the lease of every task `agent` holds, so no other agent takes them over while it works (an agent calls it during a
 * long task; execute and done renew too). Returns what was renewed ([] when the agent holds nothing).
 * Throws `invalid_file` (exit 2), `lock_timeout` / `conflict` (exit 3).
 */
export async function heartbeat(opts: BaseOptions & { agent?: string } = {}): Promise<HeartbeatResult> {
  const { root, now, agent, mode, leaseMs } = await stateContext(opts);
  const { result, commit } = await transactLight(root, mode, async (view) => {
    const ids = view.tasks.filter((t) => t.status === 'in_progress' && t.owner === agent).map((t) => t.id);
    const held = (await Promise.all(ids.map((id) => view.load(id)))).map((t) => T.renewLease(t, agent, now, leaseMs));
    return {
      change: held.length ? { tasks: held, subject: `chore(piv): renew the lease of ${agent} on ${held.map((t) => t.id).join(', ')}`, trailers: { 'Piv-Agent': agent } } : null,
      result: held.map((t) => ({ id: t.id, lease_expires_at: t.lease_expires_at! })),
    };
  });
  return { agent, renewed: result, commit };
}
