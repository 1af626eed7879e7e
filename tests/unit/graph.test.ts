import { describe, expect, it } from 'vitest';
import { Graph, alg } from '@dagrejs/graphlib';
import { assertValidGraph, checkGraph, criticalPath, dependentsOf, downstreamWeight, topologicalOrder, unblockedPending, waves } from '../../src/core/graph.js';
import { compareIdsPure, sortIds } from '../../src/core/ids.js';
import { PivError } from '../../src/errors.js';
import { remaining } from '../../src/verbs/status.js';
import { task } from './fixtures.js';

// The seed's plan (shared/seeds/003): 1 → {2, 3} → 4 → 5.
const seed = [
  task('task-001', { estimated_tokens: 10_000 }),
  task('task-002', { blocked_by: ['task-001'], estimated_tokens: 12_000 }),
  task('task-003', { blocked_by: ['task-001'], estimated_tokens: 15_000 }),
  task('task-004', { blocked_by: ['task-002', 'task-003'], estimated_tokens: 15_000 }),
  task('task-005', { blocked_by: ['task-004'], estimated_tokens: 10_000 }),
];

describe('checkGraph', () => {
  it('accepts the seed plan', () => {
    expect(checkGraph(seed)).toEqual([]);
  });

  it('names a cycle in order, starting at its smallest id', () => {
    const problems = checkGraph([task('task-001'), task('task-002', { blocked_by: ['task-003'] }), task('task-003', { blocked_by: ['task-004'] }), task('task-004', { blocked_by: ['task-002'] })]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ kind: 'cycle', ids: ['task-002', 'task-003', 'task-004'] });
    expect(problems[0]!.message).toBe('dependency cycle: task-002 → task-003 → task-004 → task-002 (each is blocked by the next)');
  });

  it('reports self-dependencies, missing ids and duplicates with the ids involved', () => {
    const problems = checkGraph([task('task-001', { blocked_by: ['task-001'] }), task('task-002', { blocked_by: ['task-009'] }), task('task-002')]);
    expect(problems.map((p) => p.kind).sort()).toEqual(['duplicate_id', 'missing_dependency', 'self_dependency']);
    expect(problems.find((p) => p.kind === 'self_dependency')!.ids).toEqual(['task-001']);
    expect(problems.find((p) => p.kind === 'missing_dependency')).toMatchObject({ ids: ['task-002'], missing: 'task-009' });
  });

  it('assertValidGraph throws invalid_graph (exit 2) with every problem in details', () => {
    try {
      assertValidGraph([task('task-001', { blocked_by: ['task-002'] }), task('task-002', { blocked_by: ['task-001'] })]);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(PivError);
      expect((error as PivError).exitCode).toBe(2);
      expect((error as PivError).message).toContain('task-001 → task-002 → task-001');
    }
  });
});

describe('waves, topological order, critical path', () => {
  it('levels the seed plan into four waves', () => {
    expect(waves(seed)).toEqual([['task-001'], ['task-002', 'task-003'], ['task-004'], ['task-005']]);
    expect(topologicalOrder(seed)).toEqual(['task-001', 'task-002', 'task-003', 'task-004', 'task-005']);
  });

  it('orders ids numerically inside a wave (task-9 before task-10)', () => {
    expect(waves([task('task-010'), task('task-009'), task('task-100')])).toEqual([['task-009', 'task-010', 'task-100']]);
  });

  it('follows the heaviest chain by estimated tokens', () => {
    expect(criticalPath(seed)).toEqual({ ids: ['task-001', 'task-003', 'task-004', 'task-005'], tokens: 50_000 });
    expect(criticalPath([])).toEqual({ ids: [], tokens: 0 });
  });

  it('derives reverse edges (what a task unblocks)', () => {
    expect(dependentsOf(seed, 'task-001')).toEqual(['task-002', 'task-003']);
    expect(dependentsOf(seed, 'task-005')).toEqual([]);
  });
});

/** The graphlib formulation these functions replaced (several graph builds and topsorts per call), kept as the reference. */
function reference(tasks: ReturnType<typeof task>[]) {
  const g = new Graph({ directed: true });
  for (const t of tasks) g.setNode(t.id);
  for (const t of tasks) for (const d of t.blocked_by) g.setEdge(d, t.id);
  const level = new Map<string, number>();
  for (const id of alg.topsort(g)) {
    const preds = (g.predecessors(id) as string[]) ?? [];
    level.set(id, preds.length === 0 ? 0 : Math.max(...preds.map((p) => level.get(p)!)) + 1);
  }
  const w: string[][] = [];
  for (const [id, n] of level) (w[n] ??= []).push(id);
  const byId = new Map(tasks.map((t) => [t.id, t]));
  const down = new Map<string, number>();
  const depth = new Map<string, number>();
  for (const id of alg.topsort(g).reverse()) {
    const succ = (g.successors(id) as string[]) ?? [];
    down.set(id, (byId.get(id)!.estimated_tokens ?? 0) + (succ.length ? Math.max(...succ.map((s) => down.get(s)!)) : 0));
    depth.set(id, 1 + (succ.length ? Math.max(...succ.map((s) => depth.get(s)!)) : 0));
  }
  const better = (a: string, b: string) => down.get(a)! - down.get(b)! || depth.get(a)! - depth.get(b)! || -compareIdsPure(a, b);
  let node = tasks.map((t) => t.id).filter((id) => ((g.predecessors(id) as string[]) ?? []).length === 0).reduce((best, id) => (better(id, best) > 0 ? id : best));
  const ids = [node];
  for (let succ = g.successors(node) as string[]; succ.length; succ = g.successors(node) as string[]) ids.push((node = succ.reduce((best, id) => (better(id, best) > 0 ? id : best))));
  return { waves: w.map((x) => x.sort(compareIdsPure)), down, critical: { ids, tokens: down.get(ids[0]!)! } };
}

describe('linear graph functions agree with the graphlib formulation', () => {
  it.each([1, 2, 3, 4, 5, 6])('on a random DAG (seed %i), listed in shuffled order', (seed) => {
    let state = seed * 7919;
    const rand = () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648);
    const n = 50 + Math.floor(rand() * 400);
    const tasks = Array.from({ length: n }, (_, i) => {
      const deps = new Set<string>();
      for (let k = Math.floor(rand() * 4); k > 0 && i > 0; k--) deps.add(`task-${String(1 + Math.floor(rand() * i)).padStart(3, '0')}`);
      return task(`task-${String(i + 1).padStart(3, '0')}`, { blocked_by: [...deps], estimated_tokens: rand() < 0.1 ? null : 1000 * Math.floor(rand() * 20) });
    });
    const shuffled = [...tasks].sort(() => rand() - 0.5);
    const ref = reference(tasks);
    for (const list of [tasks, shuffled]) {
      expect(checkGraph(list)).toEqual([]);
      expect(waves(list)).toEqual(ref.waves);
      expect(criticalPath(list)).toEqual(ref.critical);
      expect(downstreamWeight(list)).toEqual(ref.down);
    }
    // The critical path of what remains, computed in place, is the one of the copied remaining graph.
    const done = new Set(tasks.filter(() => rand() < 0.4).map((t) => t.id));
    const marked = tasks.map((t) => ({ ...t, status: done.has(t.id) ? ('completed' as const) : t.status }));
    const rest = remaining(marked);
    const status = new Map(marked.map((t) => [t.id, t.status]));
    expect(unblockedPending(marked)).toEqual(marked.filter((t) => t.status === 'pending' && t.blocked_by.every((d) => status.get(d) === 'completed')));
    expect(criticalPath(marked, (t) => t.status !== 'completed')).toEqual(rest.length ? reference(rest).critical : { ids: [], tokens: 0 });
  });

  it('finds a cycle behind a long acyclic prefix, and names only it', () => {
    const chain = Array.from({ length: 300 }, (_, i) => task(`task-${String(i + 1).padStart(3, '0')}`, { blocked_by: i ? [`task-${String(i).padStart(3, '0')}`] : [] }));
    chain[0] = task('task-001', { blocked_by: ['task-300'] });
    chain.push(task('task-301', { blocked_by: ['task-150'] }));
    const problems = checkGraph(chain);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.ids).toHaveLength(300);
    expect(problems[0]!.ids[0]).toBe('task-001');
    expect(() => waves(chain)).toThrow(PivError);
  });
});

describe('sortIds', () => {
  it('orders exactly as compareIdsPure, by placement or by sorting', () => {
    const canonical = Array.from({ length: 500 }, (_, i) => `task-${String(i + 1).padStart(3, '0')}`).reverse();
    const odd = ['task-010', 'task-9', 'task-009', 'task-x', 'notes', 'task-1e3', 'task-100000000', 'task-2'];
    for (const list of [canonical, [...canonical, ...odd], odd, [], ['task-001']]) expect(sortIds(list)).toEqual([...list].sort(compareIdsPure));
  });
});
