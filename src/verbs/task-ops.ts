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
  /** Things the agent should know that did not stop the verb (a shared claim left in place). */
  warnings: string[];
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
    const warnings: string[] = [];
    // The shared claim goes first: a released task whose ref stayed would be unclaimable elsewhere until its lease ends.
    if (opts.op === 'release' && (config.claims.remote || hasLinkedWorktrees(root))) await dropSharedClaim(root, task.id, agent, config.claims.remote, Boolean(opts.force), warnings);
    await writeTask(root, next);
    return { id: task.id, op: opts.op, from: task.status, to: next.status, owner: next.owner, warnings };
  });
}

/**
 * With shared claims, a released task's claim ref is deleted (compare-and-swap) so any tree or clone may claim it — only
 * this agent's own claim, or any with `force`. An unreachable remote becomes a warning (the claim then ends with its lease).
 */
async function dropSharedClaim(root: string, id: string, agent: string, remote: string | null, force: boolean, warnings: string[]): Promise<void> {
  const session = await readSession(root);
  if (!session) return;
  const { dropClaim, listClaims, placeOf } = await import('../git/claims.js');
  try {
    const current = (await listClaims(root, session.feature, { remote })).get(id);
    if (!current || current.state !== 'claimed') return;
    const mine = current.worktree === (await placeOf(root)) && current.agent === agent;
    if (!mine && !force) {
      warnings.push(`the shared claim on ${id} belongs to ${current.agent} (${current.worktree}) and was left in place (--force removes it)`);
      return;
    }
    if (!(await dropClaim(root, session.feature, id, current.hash, { remote }))) warnings.push(`the shared claim on ${id} changed meanwhile and was left in place`);
  } catch (error) {
    warnings.push(`${(error as Error).message}; the shared claim on ${id} stays until its lease ends`);
  }
}
