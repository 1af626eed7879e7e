import { describe, expect, it } from 'vitest';
import { assertValidGraph, checkGraph, criticalPath, dependentsOf, topologicalOrder, waves } from '../../src/core/graph.js';
import { PivError } from '../../src/errors.js';
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
