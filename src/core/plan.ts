// Re-planning: merges a plan into the existing tasks; completed and claimed work is never rewritten, and the result is checked whole before anything is written.
import { PivError } from '../errors.js';
import { FORMAT_VERSION, type Plan, type PlanTask, type Task } from '../store/schemas.js';
import { assertValidGraph } from './graph.js';
import { compareIdsPure, formatTaskId, taskNumber } from './ids.js';

export interface PlanMerge {
  /** Every task after the merge, sorted by id. */
  tasks: Task[];
  created: string[];
  updated: string[];
  unchanged: string[];
  /** Not pending, so not rewritten (listed with the reason when the plan differed). */
  kept: { id: string; reason: string }[];
  /** Pending tasks absent from the plan: their files are deleted. */
  dropped: string[];
}

const DEFINITION_KEYS = ['name', 'priority', 'phase', 'commit_type', 'blocked_by', 'files', 'action', 'verify', 'done', 'estimated_tokens'] as const;

/**
 * Merges `plan` into `existing` tasks at time `now` (ISO).
 * - A plan task without id takes the id of the one existing task with the same name, else the next free number in plan order
 *   (task-001 for the first task of a fresh plan).
 * - Pending tasks are updated to the plan's definition; other statuses are kept as they are.
 * - Pending tasks missing from the plan are dropped, unless a remaining task depends on them (error); with `add`, the plan only
 *   adds and updates tasks and nothing is dropped (several agents adding tasks at once each keep the others').
 * - The merged graph must be a valid DAG.
 * Throws PivError `invalid_plan` / `invalid_graph` (exit 2) naming the ids; on error nothing should be written.
 */
export function mergePlan(existing: readonly Task[], plan: Plan, now: string, opts: { add?: boolean } = {}): PlanMerge {
  const byId = new Map(existing.map((t) => [t.id, t]));
  const explicit = plan.tasks.map((t) => t.id).filter((id): id is string => id !== undefined);
  const dupes = explicit.filter((id, i) => explicit.indexOf(id) !== i);
  if (dupes.length) {
    throw new PivError('invalid_plan', `the plan lists ${[...new Set(dupes)].join(', ')} more than once`, {
      hint: 'Give every task its own id, or leave id out to have one assigned.',
      details: { ids: [...new Set(dupes)] },
    });
  }
  let next = Math.max(0, ...existing.map((t) => taskNumber(t.id)), ...explicit.map(taskNumber)) + 1;
  // A task without id is the existing task of the same name, if exactly one has it (re-running an id-less plan updates it).
  const taken = new Set(explicit);
  const byName = (name: string) => {
    const matches = existing.filter((t) => t.name === name && !taken.has(t.id));
    return matches.length === 1 ? matches[0]!.id : undefined;
  };
  const planned = plan.tasks.map((t) => {
    const id = t.id ?? byName(t.name) ?? formatTaskId(next++);
    taken.add(id);
    return { ...t, id };
  });

  const out = new Map<string, Task>();
  const result: Omit<PlanMerge, 'tasks'> = { created: [], updated: [], unchanged: [], kept: [], dropped: [] };
  for (const p of planned) {
    const current = byId.get(p.id);
    if (!current) {
      out.set(p.id, fromPlan(p, now));
      result.created.push(p.id);
      continue;
    }
    const merged = applyDefinition(current, p);
    if (current.status !== 'pending') {
      out.set(p.id, current);
      if (differs(current, merged)) result.kept.push({ id: p.id, reason: `${current.status}: not rewritten (reopen or release it to change it)` });
      else result.unchanged.push(p.id);
      continue;
    }
    out.set(p.id, merged);
    (differs(current, merged) ? result.updated : result.unchanged).push(p.id);
  }
  for (const t of existing) {
    if (out.has(t.id)) continue;
    if (opts.add) {
      out.set(t.id, t);
      result.unchanged.push(t.id);
    } else if (t.status === 'pending') result.dropped.push(t.id);
    else {
      out.set(t.id, t);
      result.kept.push({ id: t.id, reason: `${t.status}: not in the plan but kept (never dropped)` });
    }
  }
  const tasks = [...out.values()].sort((a, b) => compareIdsPure(a.id, b.id));
  const dropped = new Set(result.dropped);
  const orphans = tasks.flatMap((t) => t.blocked_by.filter((d) => dropped.has(d)).map((d) => `${t.id} → ${d}`));
  if (orphans.length) {
    throw new PivError('invalid_plan', `the plan drops tasks that others depend on: ${orphans.join(', ')}`, {
      hint: 'Keep those tasks in the plan, or remove them from the blocked_by lists that name them.',
      details: { edges: orphans },
    });
  }
  assertValidGraph(tasks, 'the plan');
  return { tasks, ...result };
}

function fromPlan(p: PlanTask & { id: string }, now: string): Task {
  return {
    version: FORMAT_VERSION,
    id: p.id,
    name: p.name,
    status: 'pending',
    priority: p.priority,
    phase: p.phase ?? null,
    commit_type: p.commit_type ?? 'feat',
    action: p.action,
    files: p.files,
    verify: p.verify ?? null,
    done: p.done,
    blocked_by: p.blocked_by,
    estimated_tokens: p.estimated_tokens ?? null,
    actual_tokens: null,
    owner: null,
    claimed_at: null,
    lease_expires_at: null,
    blocker: null,
    created_at: now,
    started_at: null,
    completed_at: null,
    attempts: [],
    notes: [],
  };
}

function applyDefinition(current: Task, p: PlanTask & { id: string }): Task {
  const fresh = fromPlan(p, current.created_at);
  const next: Task = { ...current };
  for (const key of DEFINITION_KEYS) (next as Record<string, unknown>)[key] = fresh[key];
  // An estimate the plan leaves out keeps the one piv computed before, unless the task changed (then piv computes it again).
  if (p.estimated_tokens === undefined) {
    next.estimated_tokens = current.estimated_tokens;
    if (differs(current, next)) next.estimated_tokens = null;
  }
  return next;
}

function differs(a: Task, b: Task): boolean {
  return DEFINITION_KEYS.some((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
}
