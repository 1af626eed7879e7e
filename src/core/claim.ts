// Claim decisions: which task an agent gets, as a pure function of the tasks, so every storage mode hands out claims by one rule.
import { PivError } from '../errors.js';
import type { Task } from '../store/schemas.js';
import { explainStall, isLeaseExpired, readySet, sortForScheduling } from './scheduler.js';
import { claim, renewLease, steal } from './transitions.js';

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
  /** Renew a held claim only when less than this share of the lease remains (1: always; a shared branch uses 0.5 to spare commits). */
  renewBelow: number;
}

export type ClaimDecision =
  | { outcome: 'claimed' | 'resumed' | 'taken_over'; task: Task; changed: boolean }
  | { outcome: 'none_ready' | 'all_done'; task: null; changed: false };

/**
 * The claim `req.agent` gets from `tasks` (DESIGN §3): the named task; else the task it already holds (lease renewed per
 * renewBelow); else the first ready task (priority, then critical path, then id); else, with stealExpired, the first
 * expired claim of another agent; else none_ready or all_done. Returns the decision and the task as it must be stored.
 * Throws `not_found` / `invalid_transition` (exit 2) for a named task that does not exist or is not ready, `conflict`
 * (exit 3) for one another agent holds.
 */
export function decideClaim(tasks: readonly Task[], req: ClaimRequest): ClaimDecision {
  const { agent, now, nowMs, leaseMs } = req;
  const resumed = (t: Task): ClaimDecision => {
    const remaining = t.lease_expires_at === null ? 0 : Date.parse(t.lease_expires_at) - nowMs;
    const renew = remaining < leaseMs * req.renewBelow;
    return { outcome: 'resumed', task: renew ? renewLease(t, agent, now, leaseMs) : t, changed: renew };
  };
  if (req.task !== undefined) {
    const chosen = tasks.find((t) => t.id === req.task);
    if (!chosen) throw new PivError('not_found', `task ${req.task} does not exist`, { hint: 'List tasks with `piv status`.' });
    if (chosen.status === 'in_progress' && chosen.owner === agent) return resumed(chosen);
    if (chosen.status === 'in_progress' && req.stealExpired && isLeaseExpired(chosen, nowMs)) return { outcome: 'taken_over', task: steal(chosen, agent, now, leaseMs), changed: true };
    const waiting = explainStall(tasks, nowMs).waiting.find((w) => w.id === chosen.id)?.waiting_on ?? [];
    if (chosen.status === 'pending' && waiting.length) {
      throw new PivError('invalid_transition', `${chosen.id} is not ready: it waits on ${waiting.join(', ')}`, { hint: 'Finish those first, or run `piv execute` to get a ready task.', details: { task: chosen.id, waiting_on: waiting } });
    }
    return { outcome: 'claimed', task: claim(chosen, agent, now, leaseMs), changed: true }; // throws for a task that is not pending
  }
  const held = tasks.find((t) => t.status === 'in_progress' && t.owner === agent);
  if (held) return resumed(held);
  const next = readySet(tasks)[0];
  if (next) return { outcome: 'claimed', task: claim(next, agent, now, leaseMs), changed: true };
  if (req.stealExpired) {
    const expired = sortForScheduling(tasks.filter((t) => isLeaseExpired(t, nowMs) && t.owner !== agent), tasks)[0];
    if (expired) return { outcome: 'taken_over', task: steal(expired, agent, now, leaseMs), changed: true };
  }
  return { outcome: tasks.length > 0 && tasks.every((t) => t.status === 'completed') ? 'all_done' : 'none_ready', task: null, changed: false };
}
