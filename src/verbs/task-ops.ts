// Task operations beyond claim/complete (release, block, unblock, retry, reopen): each one transition, under the lock.
import * as T from '../core/transitions.js';
import { hasLinkedWorktrees } from '../git/worktrees.js';
import { readConfig, readSession, readTask, withStateLock, writeTask } from '../store/index.js';
import type { Task } from '../store/schemas.js';
import { defaultAgent, resolve, type BaseOptions } from './context.js';

export type TaskOp = 'release' | 'block' | 'unblock' | 'retry' | 'reopen';

export interface TaskOpOptions extends BaseOptions {
  op: TaskOp;
  id: string;
  agent?: string;
  /** Reason (block, reopen, release). */
  reason?: string;
  /** release: take back another agent's claim. */
  force?: boolean;
}

export interface TaskOpResult {
  id: string;
  op: TaskOp;
  from: Task['status'];
  to: Task['status'];
  owner: string | null;
}

/**
 * Applies one state-machine transition to task `id` (DESIGN §2): release (in_progress → pending), block (→ blocked with a reason),
 * unblock, retry (failed → in_progress), reopen (completed → in_progress). Throws `invalid_transition` (exit 2), `conflict` (exit 3).
 */
export async function taskOp(opts: TaskOpOptions): Promise<TaskOpResult> {
  const { root, now } = resolve(opts);
  const agent = defaultAgent(opts.agent);
  const config = await readConfig(root);
  const leaseMs = config.claims.lease_minutes * 60_000;
  return withStateLock(root, async () => {
    const task = await readTask(root, opts.id);
    const reason = opts.reason?.trim();
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
    }
    await writeTask(root, next);
    if (opts.op === 'release' && (config.claims.remote || hasLinkedWorktrees(root))) await dropSharedClaim(root, task.id, config.claims.remote);
    return { id: task.id, op: opts.op, from: task.status, to: next.status, owner: next.owner };
  });
}

/** With shared claims, a released task's claim ref is deleted (compare-and-swap), so any tree or clone may claim it. */
async function dropSharedClaim(root: string, id: string, remote: string | null): Promise<void> {
  const session = await readSession(root);
  if (!session) return;
  const { dropClaim, listClaims } = await import('../git/claims.js');
  const current = (await listClaims(root, session.feature, { remote })).get(id);
  if (current && current.state === 'claimed') await dropClaim(root, session.feature, id, current.hash, { remote });
}
