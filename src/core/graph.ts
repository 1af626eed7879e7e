// Task graph: pure functions over tasks (no I/O), each linear in tasks + edges; a graph that passes checkGraph is a DAG whose every edge names an existing task.
import { createRequire } from 'node:module';
import type { Graph } from '@dagrejs/graphlib';
import { PivError } from '../errors.js';
import { compareIdsPure, compareNumberedIds, idNumber } from './ids.js';

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
 * The graph as arrays: node i is the first task with id ids[i]; edges run dependency → dependent (blocked_by read
 * backwards), self-edges and edges from missing ids left out. `order` is a topological order (Kahn's algorithm); it
 * holds fewer than n nodes exactly when there is a cycle. Built in O(tasks + edges).
 */
interface Indexed {
  /** The array this was built from, element by element (to tell a reused array from a changed one). */
  input: readonly GraphTask[];
  n: number;
  ids: string[];
  tasks: GraphTask[];
  index: Map<string, number>;
  /** No duplicate id, no self-dependency, no dependency on a missing id. */
  clean: boolean;
  /** Successors of i: succ[succStart[i] .. succStart[i + 1]). */
  succStart: Int32Array;
  succ: Int32Array;
  /** Number of predecessors (distinct edges counted once per blocked_by entry). */
  preds: Int32Array;
  order: Int32Array;
  /** How many nodes `order` holds (n for a DAG). */
  ordered: number;
  /** Wave of each node: 0 without dependencies, else one more than its deepest dependency. */
  level: Int32Array;
  /** The number of each node's id (idNumber), and whether the ids come in compareIdsPure order: computed on first use (numbered). */
  nums?: Float64Array;
  ascending?: boolean;
}

const indexCache = new WeakMap<readonly GraphTask[], Indexed>();

/** Indexes `tasks`, once per array while its elements stay the same objects (the store's check and the scheduler share one list); estimates are read live. */
function indexed(tasks: readonly GraphTask[]): Indexed {
  const hit = indexCache.get(tasks);
  if (hit && hit.input.length === tasks.length && tasks.every((t, i) => hit.input[i] === t)) return hit;
  // One map write per task; only when two share an id is the list walked again to keep the first of each.
  let index = new Map<string, number>();
  for (let v = 0; v < tasks.length; v++) index.set(tasks[v]!.id, v);
  let ids: string[];
  let nodes: GraphTask[];
  if (index.size === tasks.length) {
    ids = tasks.map((t) => t.id);
    nodes = [...tasks];
  } else {
    index = new Map();
    ids = [];
    nodes = [];
    for (const t of tasks) {
      if (index.has(t.id)) continue;
      index.set(t.id, ids.length);
      ids.push(t.id);
      nodes.push(t);
    }
  }
  const n = ids.length;
  let clean = n === tasks.length;
  let edges = 0;
  for (let v = 0; v < n; v++) edges += nodes[v]!.blocked_by.length;
  // Each blocked_by entry resolved once (-1: missing or the task itself), then compressed adjacency lists built from
  // the counts: no map lookup twice, no array per node.
  const dep = new Int32Array(edges);
  const succStart = new Int32Array(n + 1);
  const preds = new Int32Array(n);
  for (let v = 0, p = 0; v < n; v++) {
    const deps = nodes[v]!.blocked_by;
    for (let k = 0; k < deps.length; k++, p++) {
      const u = index.get(deps[k]!);
      if (u === undefined || u === v) {
        clean = false;
        dep[p] = -1;
        continue;
      }
      dep[p] = u;
      succStart[u + 1]!++;
      preds[v]!++;
    }
  }
  for (let i = 0; i < n; i++) succStart[i + 1]! += succStart[i]!;
  const fill = succStart.slice(0, n);
  const succ = new Int32Array(succStart[n]!);
  for (let v = 0, p = 0; v < n; v++) {
    const end = p + nodes[v]!.blocked_by.length;
    for (; p < end; p++) {
      const u = dep[p]!;
      if (u >= 0) succ[fill[u]!++] = v;
    }
  }
  // Kahn's algorithm: a node enters the order once all its dependencies did; its level is one past the deepest one.
  const waiting = preds.slice();
  const level = new Int32Array(n);
  const order = new Int32Array(n);
  let ordered = 0;
  for (let v = 0; v < n; v++) if (waiting[v] === 0) order[ordered++] = v;
  for (let head = 0; head < ordered; head++) {
    const u = order[head]!;
    const next = level[u]! + 1;
    const end = succStart[u + 1]!;
    for (let e = succStart[u]!; e < end; e++) {
      const v = succ[e]!;
      if (level[v]! < next) level[v] = next;
      if (--waiting[v]! === 0) order[ordered++] = v;
    }
  }
  const result: Indexed = { input: [...tasks], n, ids, tasks: nodes, index, clean, succStart, succ, preds, order, ordered, level };
  indexCache.set(tasks, result);
  return result;
}

/** `g` with its ids' numbers and whether they come in order (computed once, by the views that order by id). */
function numbered(g: Indexed): Indexed & { nums: Float64Array; ascending: boolean } {
  if (!g.nums) {
    const nums = new Float64Array(g.n);
    let ascending = true;
    for (let v = 0; v < g.n; v++) {
      const num = (nums[v] = idNumber(g.ids[v]!));
      // Strictly increasing numbers are in order; equal or NaN ones are compared in full.
      if (v > 0 && ascending && !(num > nums[v - 1]!) && compareNumberedIds(nums[v - 1]!, g.ids[v - 1]!, num, g.ids[v]!) > 0) ascending = false;
    }
    g.nums = nums;
    g.ascending = ascending;
  }
  return g as Indexed & { nums: Float64Array; ascending: boolean };
}

/** Node indices sorted by id (compareIdsPure); linear when the tasks come sorted, as the store gives them. */
function byId(indexedGraph: Indexed): Int32Array {
  const g = numbered(indexedGraph);
  const out = new Int32Array(g.n);
  for (let i = 0; i < g.n; i++) out[i] = i;
  if (g.ascending) return out;
  return out.sort((a, b) => compareNumberedIds(g.nums[a]!, g.ids[a]!, g.nums[b]!, g.ids[b]!));
}

/**
 * Every structural problem of a task list: duplicate ids, self-dependencies, references to missing ids, cycles.
 * Returns [] for a valid DAG. Each problem names the ids involved (a cycle in blocked_by order: a → b → a, a is blocked by b).
 * Linear in tasks + edges; only when that pass finds a cycle is graphlib loaded to name each one.
 */
export function checkGraph(tasks: readonly GraphTask[]): GraphProblem[] {
  const g = indexed(tasks);
  if (g.clean && g.ordered === g.n) return [];
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
  if (g.ordered === g.n) return problems;
  const { alg } = graphlib();
  const full = buildGraph(tasks);
  for (const component of alg.findCycles(full)) {
    if (component.length === 1) continue; // a self-edge, reported above
    const cycle = orderCycle(full, component);
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

/** graphlib (CommonJS), loaded synchronously on first use: only a graph with a cycle needs it, so start-up never pays for it. */
function graphlib(): typeof import('@dagrejs/graphlib') {
  return createRequire(import.meta.url)('@dagrejs/graphlib') as typeof import('@dagrejs/graphlib');
}

/** A graphlib digraph with one node per task and an edge dependency → dependent. Missing ids become nodes too. */
export function buildGraph(tasks: readonly GraphTask[]): Graph {
  const g = new (graphlib().Graph)({ directed: true });
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

/** Throws when `g` has a cycle: the functions below need a DAG (the store never hands out another). */
function requireDag(g: Indexed): void {
  if (g.ordered !== g.n) throw new PivError('invalid_graph', 'the task graph has a cycle', { hint: 'Run `piv validate --stage state` to see it.' });
}

/**
 * Waves (levels): wave 0 holds the tasks with no dependency, wave n the tasks whose deepest dependency is in wave n-1.
 * Tasks of one wave can run in parallel. Ids sorted within a wave. Requires a valid DAG; linear in tasks + edges.
 */
export function waves(tasks: readonly GraphTask[]): string[][] {
  const g = indexed(tasks);
  requireDag(g);
  const out: string[][] = [];
  const sorted = byId(g);
  for (let k = 0; k < g.n; k++) {
    const v = sorted[k]!;
    (out[g.level[v]!] ??= []).push(g.ids[v]!);
  }
  return out;
}

/** Topological order: wave by wave, ids ascending within a wave (deterministic). Requires a valid DAG. */
export function topologicalOrder(tasks: readonly GraphTask[]): string[] {
  return waves(tasks).flat();
}

/**
 * Heaviest path (estimated tokens) and longest chain (tasks) from each node to the end of the graph, itself included;
 * with `keep`, over the kept nodes and the edges between them only (the others count as absent).
 */
function downstream(g: Indexed, keep?: Uint8Array): { down: Float64Array; depth: Int32Array } {
  requireDag(g);
  const down = new Float64Array(g.n);
  const depth = new Int32Array(g.n);
  for (let k = g.n - 1; k >= 0; k--) {
    const u = g.order[k]!;
    if (keep && !keep[u]) continue;
    let best = 0;
    let deepest = 0;
    for (let e = g.succStart[u]!; e < g.succStart[u + 1]!; e++) {
      const v = g.succ[e]!;
      if (keep && !keep[v]) continue;
      if (down[v]! > best) best = down[v]!;
      if (depth[v]! > deepest) deepest = depth[v]!;
    }
    down[u] = (g.tasks[u]!.estimated_tokens ?? 0) + best;
    depth[u] = 1 + deepest;
  }
  return { down, depth };
}

/**
 * For each task, the heaviest path (sum of estimated tokens) from it to the end of the graph, itself included.
 * Used to schedule tasks on the critical path first. Requires a valid DAG; linear in tasks + edges.
 */
export function downstreamWeight(tasks: readonly GraphTask[]): Map<string, number> {
  const g = indexed(tasks);
  const { down } = downstream(g);
  const out = new Map<string, number>();
  for (let i = 0; i < g.n; i++) out.set(g.ids[i]!, down[i]!);
  return out;
}

/** downstreamWeight as a lookup (0 for an id not in `tasks`), without building a map: for sorting a few candidates. */
export function downstreamLookup(tasks: readonly GraphTask[]): (id: string) => number {
  const g = indexed(tasks);
  const { down } = downstream(g);
  return (id) => {
    const i = g.index.get(id);
    return i === undefined ? 0 : down[i]!;
  };
}

/**
 * The critical path: the chain of dependent tasks with the largest total estimated tokens (ties: more tasks, then smaller ids).
 * With `include`, of the graph of the included tasks only (status: the work that remains, completed tasks left out), as if
 * the others and their edges were not there. Returns its ids in order and its total (tokens). Requires a valid DAG; [] and 0
 * for no tasks. Linear in tasks + edges.
 */
export function criticalPath<T extends GraphTask>(tasks: readonly T[], include?: (task: T) => boolean): { ids: string[]; tokens: number } {
  const g = indexed(tasks);
  let keep: Uint8Array | undefined;
  if (include) {
    keep = new Uint8Array(g.n);
    for (let i = 0; i < g.n; i++) keep[i] = include(g.tasks[i] as T) ? 1 : 0;
  }
  const kept = (i: number) => !keep || keep[i] === 1;
  // Start nodes: those with no dependency among the kept nodes.
  const preds = keep ? new Int32Array(g.n) : g.preds;
  if (keep) for (let u = 0; u < g.n; u++) if (keep[u]) for (let e = g.succStart[u]!; e < g.succStart[u + 1]!; e++) if (keep[g.succ[e]!]) preds[g.succ[e]!]!++;
  const { down, depth } = downstream(g, keep);
  const { nums } = numbered(g);
  const better = (a: number, b: number) => down[a]! - down[b]! || depth[a]! - depth[b]! || -compareNumberedIds(nums[a]!, g.ids[a]!, nums[b]!, g.ids[b]!);
  let node = -1;
  for (let v = 0; v < g.n; v++) if (kept(v) && preds[v] === 0 && (node < 0 || better(v, node) > 0)) node = v;
  if (node < 0) return { ids: [], tokens: 0 };
  const start = node;
  const ids = [g.ids[node]!];
  for (;;) {
    let next = -1;
    for (let e = g.succStart[node]!; e < g.succStart[node + 1]!; e++) {
      const v = g.succ[e]!;
      if (kept(v) && (next < 0 || better(v, next) > 0)) next = v;
    }
    if (next < 0) break;
    node = next;
    ids.push(g.ids[node]!);
  }
  return { ids, tokens: down[start]! };
}

/** The pending tasks whose every blocked_by task is completed, in the order given. Linear in tasks + edges. */
export function unblockedPending<T extends GraphTask>(tasks: readonly T[]): T[] {
  const g = indexed(tasks);
  if (!g.clean) {
    const status = new Map(tasks.map((t) => [t.id, t.status]));
    return tasks.filter((t) => t.status === 'pending' && t.blocked_by.every((d) => status.get(d) === 'completed'));
  }
  const done = new Int32Array(g.n);
  for (let u = 0; u < g.n; u++) if (g.tasks[u]!.status === 'completed') for (let e = g.succStart[u]!; e < g.succStart[u + 1]!; e++) done[g.succ[e]!]!++;
  const out: T[] = [];
  for (let v = 0; v < g.n; v++) if (g.tasks[v]!.status === 'pending' && done[v] === g.preds[v]) out.push(g.tasks[v] as T);
  return out;
}

/** Ids of the tasks that list `id` in blocked_by (the reverse edges, derived, never stored), sorted. */
export function dependentsOf(tasks: readonly GraphTask[], id: string): string[] {
  return tasks.filter((t) => t.blocked_by.includes(id)).map((t) => t.id).sort(compareIdsPure);
}
