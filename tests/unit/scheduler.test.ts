import { describe, expect, it } from 'vitest';
import { randomTasks } from '../../bench/lib/graph.mjs';
import { explainStall, firstForScheduling, isLeaseExpired, nextTask, progress, readySet, sessionsNeeded, sortForScheduling } from '../../src/core/scheduler.js';
import { ConfigSchema, type Task } from '../../src/store/schemas.js';
import { task } from './fixtures.js';

const tokens = ConfigSchema.parse({ version: 1 }).tokens;

describe('readySet and nextTask', () => {
  it('is the pending tasks whose dependencies are all completed', () => {
    const tasks = [task('task-001', { status: 'completed' }), task('task-002', { blocked_by: ['task-001'] }), task('task-003', { blocked_by: ['task-002'] }), task('task-004', { status: 'in_progress', owner: 'a' })];
    expect(readySet(tasks).map((t) => t.id)).toEqual(['task-002']);
  });

  it('orders by priority, then the heavier path downstream, then id', () => {
    const tasks = [
      task('task-001', { priority: 'low' }),
      task('task-002', { priority: 'high', estimated_tokens: 1000 }),
      task('task-003', { priority: 'high', estimated_tokens: 1000 }),
      task('task-004', { blocked_by: ['task-003'], estimated_tokens: 9000 }),
      task('task-005', { priority: 'critical' }),
      task('task-006', { priority: 'high', estimated_tokens: 1000 }),
    ];
    expect(readySet(tasks).map((t) => t.id)).toEqual(['task-005', 'task-003', 'task-002', 'task-006', 'task-001']);
    expect(nextTask(tasks)!.id).toBe('task-005');
  });

  it('nextTask and firstForScheduling (one pass) pick what the full sort puts first, on seeded random graphs', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const tasks = randomTasks(60 + seed * 7, { seed, completedShare: (seed % 5) / 5 }) as Task[];
      expect(nextTask(tasks)?.id ?? null).toBe(readySet(tasks)[0]?.id ?? null);
      const some = tasks.filter((_, i) => (i * seed) % 3 === 0);
      expect(firstForScheduling(some, tasks)?.id ?? null).toBe(sortForScheduling(some, tasks)[0]?.id ?? null);
    }
    expect(firstForScheduling([], [])).toBeNull();
  });

  it('returns null when nothing is ready, and explains why', () => {
    const lease = '2026-11-22T10:00:00.000Z';
    const tasks = [task('task-001', { status: 'in_progress', owner: 'a', lease_expires_at: lease }), task('task-002', { blocked_by: ['task-001'] }), task('task-003', { status: 'blocked', blocker: 'waiting for API keys' })];
    expect(nextTask(tasks)).toBeNull();
    expect(explainStall(tasks, Date.parse(lease) - 1).in_progress).toEqual([{ id: 'task-001', owner: 'a', lease_expires_at: lease, expired: false }]);
    expect(explainStall(tasks, Date.parse(lease))).toEqual({
      all_done: false,
      in_progress: [{ id: 'task-001', owner: 'a', lease_expires_at: lease, expired: true }],
      blocked: [{ id: 'task-003', reason: 'waiting for API keys' }],
      failed: [],
      waiting: [{ id: 'task-002', waiting_on: ['task-001'] }],
    });
    expect(explainStall([task('task-001', { status: 'completed' })]).all_done).toBe(true);
  });
});

describe('leases, progress, sessions', () => {
  it('a lease expires at its end time', () => {
    const t = task('task-001', { status: 'in_progress', owner: 'a', lease_expires_at: '2026-11-22T10:00:00.000Z' });
    expect(isLeaseExpired(t, Date.parse('2026-11-22T09:59:59.000Z'))).toBe(false);
    expect(isLeaseExpired(t, Date.parse('2026-11-22T10:00:00.000Z'))).toBe(true);
  });

  it('counts by status and sums tokens', () => {
    const p = progress([task('task-001', { status: 'completed', actual_tokens: 900 }), task('task-002'), task('task-003', { status: 'failed' })]);
    expect(p).toMatchObject({ total: 3, done: 1, percent: 33, estimated_tokens: 3000, actual_tokens: 900 });
    expect(p.counts).toEqual({ pending: 1, in_progress: 0, completed: 1, blocked: 0, failed: 1 });
  });

  it('packs tasks in topological order into sessions of budget × critical_at − overhead', () => {
    // capacity = 200000 × 0.88 − 15000 = 161000 tokens
    const small = [task('task-001', { estimated_tokens: 60_000 }), task('task-002', { estimated_tokens: 60_000, blocked_by: ['task-001'] })];
    expect(sessionsNeeded(small, tokens)).toBe(1);
    const big = [...small, task('task-003', { estimated_tokens: 60_000, blocked_by: ['task-002'] })];
    expect(sessionsNeeded(big, tokens)).toBe(2);
    expect(sessionsNeeded([], tokens)).toBe(0);
    expect(sessionsNeeded([task('task-001', { estimated_tokens: 500_000 })], tokens)).toBe(1);
  });
});
