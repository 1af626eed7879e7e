// Task graph: pure functions over tasks (no I/O); a graph that passes checkGraph is a DAG whose every edge names an existing task.
import { Graph, alg } from '@dagrejs/graphlib';
import { PivError } from '../errors.js';
import { compareIdsPure } from './ids.js';


/** The part of a task the graph needs. */
export interface GraphTask {
  id: string;
  blocked_by: readonly string[];
  estimated_tokens?: number | null;
  status?: string;
}

export type GraphProblem =
  | { kind: 'duplicate_id'; ids: string[]; message: string }
  | { kind: 'self_dependency'; ids: string[]; message: string }
  | { kind: 'missing_dependency'; ids: string[]; missing: string; message: string }
  | { kind: 'cycle'; ids: string[]; message: string };

/**
 * Every structural problem of a task list: duplicate ids, self-dependencies, references to missing ids, cycles.
 * Returns [] for a valid DAG. Each problem names the ids involved (a cycle in blocked_by order: a → b → a, a is blocked by b).
 */
export function checkGraph(tasks: readonly GraphTask[]): GraphProblem[] {
  const problems: GraphProblem[] = [];
  const seen = new Map<string, number>();
  for (const t of tasks) seen.set(t.id, (seen.get(t.id) ?? 0) + 1);
  for (const [id, n] of seen) if (n > 1) problems.push({ kind: 'duplicate_id', ids: [id], message: `duplicate task id ${id} (${n} tasks)` });
  for (const t of tasks) {
    for (const dep of t.blocked_by) {
      if (dep === t.id) problems.push({ kind: 'self_dependency', ids: [t.id], message: `${t.id} is blocked by itself` });
      else if (!seen.has(dep)) problems.push({ kind: 'missing_dependency', ids: [t.id], missing: dep, message: `${t.id} is blocked by ${dep}, which does not exist` });
    }
  }
  const g = buildGraph(tasks);
  for (const component of alg.findCycles(g)) {
    if (component.length === 1) continue; // a self-edge, reported above
    const cycle = orderCycle(g, component);
    problems.push({ kind: 'cycle', ids: cycle.slice(0, -1), message: `dependency cycle: ${cycle.join(' → ')} (each is blocked by the next)` });
  }
  return problems;
}

/** Throws PivError `invalid_graph` (exit 2) listing every problem when the tasks do not form a valid DAG. */
export function assertValidGraph(tasks: readonly GraphTask[], what = 'the task graph'): void {
  const problems = checkGraph(tasks);
  if (problems.length === 0) return;
  throw new PivError('invalid_graph', `${what} is invalid: ${problems.map((p) => p.message).join('; ')}`, {
    hint: 'Fix blocked_by so that every id exists, no task waits on itself and there is no cycle.',
    details: { problems },
  });
}

/** A graphlib digraph with one node per task and an edge dependency → dependent. Missing ids become nodes too. */
export function buildGraph(tasks: readonly GraphTask[]): Graph {
  const g = new Graph({ directed: true });
  for (const t of tasks) g.setNode(t.id, t);
  for (const t of tasks) for (const dep of t.blocked_by) if (dep !== t.id) g.setEdge(dep, t.id);
  return g;
}

/** Walks a strongly connected component along blocked_by edges to name one concrete cycle, from its smallest id; ends with the start id. */
function orderCycle(g: Graph, component: string[]): string[] {
  const inside = new Set(component);
  const start = [...component].sort(compareIdsPure)[0]!;
  const pathIds = [start];
  const onPath = new Set([start]);
  const visit = (node: string): boolean => {
    for (const next of ((g.predecessors(node) as string[] | undefined) ?? []).sort(compareIdsPure)) {
      if (!inside.has(next)) continue;
      if (next === start) return true;
      if (onPath.has(next)) continue;
      pathIds.push(next);
      onPath.add(next);
      if (visit(next)) return true;
      pathIds.pop();
      onPath.delete(next);
    }
    return false;
  };
  visit(start);
  return [...pathIds, start];
}

/**
 * Waves (levels): wave 0 holds the tasks with no dependency, wave n the tasks whose deepest dependency is in wave n-1.
 * Tasks of one wave can run in parallel. Ids sorted within a wave. Requires a valid DAG.
 */
export function waves(tasks: readonly GraphTask[]): string[][] {
  const g = buildGraph(tasks);
  const level = new Map<string, number>();
  for (const id of alg.topsort(g)) {
    const preds = (g.predecessors(id) as string[] | undefined) ?? [];
    level.set(id, preds.length === 0 ? 0 : Math.max(...preds.map((p) => level.get(p)!)) + 1);
  }
  const out: string[][] = [];
  for (const [id, n] of level) (out[n] ??= []).push(id);
  return out.map((w) => w.sort(compareIdsPure));
}

/** Topological order: wave by wave, ids ascending within a wave (deterministic). Requires a valid DAG. */
export function topologicalOrder(tasks: readonly GraphTask[]): string[] {
  return waves(tasks).flat();
}

/** Estimated tokens of a task for path lengths: its estimate, or 0 when unknown. */
function weight(t: GraphTask | undefined): number {
  return t?.estimated_tokens ?? 0;
}

/**
 * For each task, the heaviest path (sum of estimated tokens) from it to the end of the graph, itself included.
 * Used to schedule tasks on the critical path first. Requires a valid DAG.
 */
export function downstreamWeight(tasks: readonly GraphTask[]): Map<string, number> {
  const g = buildGraph(tasks);
  const byId = new Map(tasks.map((t) => [t.id, t]));
  const out = new Map<string, number>();
  for (const id of alg.topsort(g).reverse()) {
    const succ = (g.successors(id) as string[] | undefined) ?? [];
    out.set(id, weight(byId.get(id)) + (succ.length ? Math.max(...succ.map((s) => out.get(s)!)) : 0));
  }
  return out;
}

/**
 * The critical path: the chain of dependent tasks with the largest total estimated tokens (ties: more tasks, then smaller ids).
 * Returns its ids in order and its total (tokens). Requires a valid DAG; [] and 0 for no tasks.
 */
export function criticalPath(tasks: readonly GraphTask[]): { ids: string[]; tokens: number } {
  if (tasks.length === 0) return { ids: [], tokens: 0 };
  const g = buildGraph(tasks);
  const down = downstreamWeight(tasks);
  const depth = new Map<string, number>();
  for (const id of alg.topsort(g).reverse()) {
    const succ = (g.successors(id) as string[] | undefined) ?? [];
    depth.set(id, 1 + (succ.length ? Math.max(...succ.map((s) => depth.get(s)!)) : 0));
  }
  const better = (a: string, b: string) =>
    down.get(a)! - down.get(b)! || depth.get(a)! - depth.get(b)! || -compareIdsPure(a, b);
  const starts = tasks.map((t) => t.id).filter((id) => ((g.predecessors(id) as string[] | undefined) ?? []).length === 0);
  let node = starts.reduce((best, id) => (better(id, best) > 0 ? id : best));
  const ids = [node];
  for (;;) {
    const succ = (g.successors(node) as string[] | undefined) ?? [];
    if (succ.length === 0) break;
    node = succ.reduce((best, id) => (better(id, best) > 0 ? id : best));
    ids.push(node);
  }
  return { ids, tokens: down.get(ids[0]!)! };
}

/** Ids of the tasks that list `id` in blocked_by (the reverse edges, derived, never stored), sorted. */
export function dependentsOf(tasks: readonly GraphTask[], id: string): string[] {
  return tasks.filter((t) => t.blocked_by.includes(id)).map((t) => t.id).sort(compareIdsPure);
}
