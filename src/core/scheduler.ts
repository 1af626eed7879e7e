// Scheduler: derives the ready set, the next task, progress and session counts from the tasks alone; nothing here is stored.
import type { Config, Priority, Task, TaskStatus } from '../store/schemas.js';
import { downstreamLookup, topologicalOrder, unblockedPending } from './graph.js';
import { compareNumberedIds, idNumber } from './ids.js';

export const PRIORITY_RANK: Record<Priority, number> = { critical: 0, high: 1, medium: 2, low: 3 };

/** What scheduling reads of a task (a full Task or the store's TaskSummary). */
export type Schedulable = Pick<Task, 'id' | 'status' | 'priority' | 'blocked_by' | 'estimated_tokens'>;

/** Tasks that can be claimed now: pending, with every blocked_by task completed. Sorted by scheduling order. Linear in tasks + edges, plus sorting the ready ones. */
export function readySet<T extends Schedulable>(tasks: readonly T[]): T[] {
  return sortForScheduling(unblockedPending(tasks), tasks);
}

/** A task with its scheduling key: priority rank, the weight of its heaviest path downstream (tokens), its id's number. */
interface Keyed<T> {
  t: T;
  rank: number;
  down: number;
  num: number;
}

/** Keys tasks of `all` for scheduling (downstream weights computed once for the graph). */
function keyer(all: readonly Schedulable[]): <T extends Schedulable>(t: T) => Keyed<T> {
  const down = downstreamLookup(all);
  return (t) => ({ t, rank: PRIORITY_RANK[t.priority], down: down(t.id), num: idNumber(t.id) });
}

/** Scheduling order (DESIGN §3): priority, then the heaviest path to the end of the graph (critical path first), then id. */
const bySchedulingOrder = <T extends Schedulable>(a: Keyed<T>, b: Keyed<T>) => a.rank - b.rank || b.down - a.down || compareNumberedIds(a.num, a.t.id, b.num, b.t.id);

/** `candidates` in scheduling order (bySchedulingOrder), keys computed once per candidate, not once per comparison. */
export function sortForScheduling<T extends Schedulable>(candidates: readonly T[], all: readonly Schedulable[]): T[] {
  return candidates.map(keyer(all)).sort(bySchedulingOrder).map((k) => k.t);
}

/** The task an agent should claim next (the first of readySet), or null when none is ready. Linear: the ready set is scanned, not sorted. */
export function nextTask<T extends Schedulable>(tasks: readonly T[]): T | null {
  return firstForScheduling(unblockedPending(tasks), tasks);
}

/** The first of `candidates` in scheduling order (sortForScheduling's first element), or null for none; one pass, no sort. */
export function firstForScheduling<T extends Schedulable>(candidates: readonly T[], all: readonly Schedulable[]): T | null {
  if (candidates.length === 0) return null;
  const key = keyer(all);
  let best = key(candidates[0]!);
  for (let i = 1; i < candidates.length; i++) {
    const k = key(candidates[i]!);
    if (bySchedulingOrder(k, best) < 0) best = k;
  }
  return best.t;
}

/** A claim whose lease has ended (`now` in ms since epoch). */
export function isLeaseExpired(task: Pick<Task, 'status' | 'lease_expires_at'>, now: number): boolean {
  return task.status === 'in_progress' && task.lease_expires_at !== null && Date.parse(task.lease_expires_at) <= now;
}

export interface Progress {
  total: number;
  done: number;
  /** 0–100, rounded down. */
  percent: number;
  counts: Record<TaskStatus, number>;
  estimated_tokens: number;
  /** Sum of actual tokens recorded on tasks. */
  actual_tokens: number;
}

/** Counts by status and totals (tokens) over all tasks. */
export function progress(tasks: readonly Pick<Task, 'status' | 'estimated_tokens' | 'actual_tokens'>[]): Progress {
  const counts: Record<TaskStatus, number> = { pending: 0, in_progress: 0, completed: 0, blocked: 0, failed: 0 };
  let estimated = 0;
  let actual = 0;
  for (const t of tasks) {
    counts[t.status]++;
    estimated += t.estimated_tokens ?? 0;
    actual += t.actual_tokens ?? 0;
  }
  const done = counts.completed;
  return { total: tasks.length, done, percent: tasks.length ? Math.floor((done * 100) / tasks.length) : 0, counts, estimated_tokens: estimated, actual_tokens: actual };
}

/** Why nothing is ready: each unfinished task and what it waits on. */
export interface Stall {
  all_done: boolean;
  /** Claimed tasks; `expired`: the lease ended, so `piv execute --steal-expired` (or `piv resume`) may take it back. */
  in_progress: { id: string; owner: string | null; lease_expires_at: string | null; expired: boolean }[];
  blocked: { id: string; reason: string | null }[];
  failed: string[];
  waiting: { id: string; waiting_on: string[] }[];
}

/** Explains an empty ready set: all done, or which tasks wait on which unfinished ones (leases judged at `nowMs`, ms since epoch). */
export function explainStall(tasks: readonly Pick<Task, 'id' | 'status' | 'owner' | 'blocker' | 'blocked_by' | 'lease_expires_at'>[], nowMs: number = Date.now()): Stall {
  const status = new Map(tasks.map((t) => [t.id, t.status]));
  return {
    all_done: tasks.length > 0 && tasks.every((t) => t.status === 'completed'),
    in_progress: tasks.filter((t) => t.status === 'in_progress').map((t) => ({ id: t.id, owner: t.owner, lease_expires_at: t.lease_expires_at, expired: isLeaseExpired(t, nowMs) })),
    blocked: tasks.filter((t) => t.status === 'blocked').map((t) => ({ id: t.id, reason: t.blocker })),
    failed: tasks.filter((t) => t.status === 'failed').map((t) => t.id),
    waiting: tasks
      .filter((t) => t.status === 'pending')
      .map((t) => ({ id: t.id, waiting_on: t.blocked_by.filter((d) => status.get(d) !== 'completed') }))
      .filter((w) => w.waiting_on.length > 0),
  };
}

/**
 * Context sessions a set of tasks needs: tasks packed in topological order into sessions of
 * budget × critical_at − session_overhead tokens each (a task is never split; one larger than a session gets its own).
 * Returns 0 for no tasks.
 */
export function sessionsNeeded(tasks: readonly Pick<Task, 'id' | 'blocked_by' | 'estimated_tokens'>[], tokens: Config['tokens']): number {
  if (tasks.length === 0) return 0;
  const capacity = Math.max(1, Math.floor(tokens.budget * tokens.critical_at) - tokens.session_overhead);
  const byId = new Map(tasks.map((t) => [t.id, t]));
  let sessions = 1;
  let used = 0;
  for (const id of topologicalOrder(tasks)) {
    const cost = byId.get(id)?.estimated_tokens ?? 0;
    if (used > 0 && used + cost > capacity) {
      sessions++;
      used = 0;
    }
    used += cost;
  }
  return sessions;
}

/** Sum of the usage sessions (tokens): the feature's total. */
export function featureTokens(sessions: readonly { used: number }[]): number {
  return sessions.reduce((sum, s) => sum + s.used, 0);
}
