// Claim decisions: which task an agent gets, as a pure function of the tasks, so every storage mode hands out claims by one rule.
import { PivError } from '../errors.js';
import type { Task } from '../store/schemas.js';
import { explainStall, firstForScheduling, isLeaseExpired, nextTask } from './scheduler.js';
import { claim, renewLease, steal } from './transitions.js';

/** What a claim decision reads of each task (a cache summary is enough). */
export type ClaimView = Pick<Task, 'id' | 'status' | 'owner' | 'priority' | 'blocked_by' | 'estimated_tokens' | 'lease_expires_at' | 'blocker'>;

export interface ClaimRequest {
  agent: string;
  /** Claim this task instead of the scheduler's choice: it must be ready, already the agent's, or (with stealExpired) expired. */
  task?: string;
  /** Take over another agent's claim whose lease has ended, when nothing is ready. */
  stealExpired: boolean;
  /** ISO time and ms since epoch of the decision. */
  now: string;
  nowMs: number;
  /** Lease length, ms. */
  leaseMs: number;
  /** Renew a held claim only when less than this share of the lease remains (0.5: at most one write per half lease). */
  renewBelow: number;
}

export type ClaimChoice =
  | { outcome: 'claimed' | 'taken_over'; id: string }
  | { outcome: 'resumed'; id: string; renew: boolean }
  | { outcome: 'none_ready' | 'all_done'; id: null };

/**
 * The claim `req.agent` gets from `tasks` (DESIGN §3): the named task; else the task it already holds (renewed when less than
 * `renewBelow` of the lease is left); else the first ready task (priority, then critical path, then id); else, with
 * stealExpired, the first expired claim of another agent; else none_ready or all_done.
 * Throws `not_found` / `invalid_transition` (exit 2) for a named task that does not exist or is not ready, `conflict`
 * (exit 3) for one another agent holds.
 */
export function chooseClaim(tasks: readonly ClaimView[], req: ClaimRequest): ClaimChoice {
  const { agent, nowMs, leaseMs } = req;
  const resumed = (t: ClaimView): ClaimChoice => {
    const remaining = t.lease_expires_at === null ? 0 : Date.parse(t.lease_expires_at) - nowMs;
    return { outcome: 'resumed', id: t.id, renew: remaining < leaseMs * req.renewBelow };
  };
  if (req.task !== undefined) {
    const chosen = tasks.find((t) => t.id === req.task);
    if (!chosen) throw new PivError('not_found', `task ${req.task} does not exist`, { hint: 'List tasks with `piv status`.' });
    if (chosen.status === 'in_progress' && chosen.owner === agent) return resumed(chosen);
    if (chosen.status === 'in_progress' && req.stealExpired && isLeaseExpired(chosen, nowMs)) return { outcome: 'taken_over', id: chosen.id };
    const waiting = explainStall(tasks, nowMs).waiting.find((w) => w.id === chosen.id)?.waiting_on ?? [];
    if (chosen.status === 'pending' && waiting.length) {
      throw new PivError('invalid_transition', `${chosen.id} is not ready: it waits on ${waiting.join(', ')}`, { hint: 'Finish those first, or run `piv execute` to get a ready task.', details: { task: chosen.id, waiting_on: waiting } });
    }
    if (chosen.status !== 'pending') {
      throw new PivError(chosen.status === 'in_progress' ? 'conflict' : 'invalid_transition', `${chosen.id} is ${chosen.status}${chosen.owner ? ` (owner ${chosen.owner})` : ''}; only a pending task can be claimed`, {
        details: { task: chosen.id, status: chosen.status, owner: chosen.owner },
      });
    }
    return { outcome: 'claimed', id: chosen.id };
  }
  const held = tasks.find((t) => t.status === 'in_progress' && t.owner === agent);
  if (held) return resumed(held);
  const next = nextTask(tasks);
  if (next) return { outcome: 'claimed', id: next.id };
  if (req.stealExpired) {
    const expired = firstForScheduling(tasks.filter((t) => isLeaseExpired(t, nowMs) && t.owner !== agent), tasks);
    if (expired) return { outcome: 'taken_over', id: expired.id };
  }
  return { outcome: tasks.length > 0 && tasks.every((t) => t.status === 'completed') ? 'all_done' : 'none_ready', id: null };
}

/** The task as `choice` leaves it (claimed, taken over, renewed), or null when the choice writes nothing. Throws like the transitions. */
export function applyClaim(task: Task, choice: ClaimChoice, req: ClaimRequest): Task | null {
  switch (choice.outcome) {
    case 'claimed':
      return claim(task, req.agent, req.now, req.leaseMs);
    case 'taken_over':
      return steal(task, req.agent, req.now, req.leaseMs);
    case 'resumed':
      return choice.renew ? renewLease(task, req.agent, req.now, req.leaseMs) : null;
    default:
      return null;
  }
}
