import { describe, expect, it } from 'vitest';
import { mergePlan } from '../../src/core/plan.js';
import { PivError } from '../../src/errors.js';
import { PlanSchema } from '../../src/store/schemas.js';
import { T0, task } from './fixtures.js';

const plan = (tasks: unknown[]) => PlanSchema.parse({ tasks });

describe('mergePlan', () => {
  it('assigns missing ids in plan order after the highest existing id', () => {
    const merged = mergePlan([], plan([{ name: 'a' }, { name: 'b', blocked_by: ['task-001'] }]), T0);
    expect(merged.created).toEqual(['task-001', 'task-002']);
    expect(merged.tasks[1]).toMatchObject({ id: 'task-002', status: 'pending', blocked_by: ['task-001'], created_at: T0 });
    const again = mergePlan(merged.tasks, plan([{ id: 'task-001', name: 'a' }, { id: 'task-002', name: 'b', blocked_by: ['task-001'] }, { name: 'c' }]), T0);
    expect(again.created).toEqual(['task-003']);
    expect(again.unchanged).toEqual(['task-001', 'task-002']);
  });

  it('updates pending tasks, never rewrites completed or claimed ones', () => {
    const existing = [task('task-001', { status: 'completed', name: 'done' }), task('task-002', { status: 'in_progress', owner: 'a' }), task('task-003')];
    const merged = mergePlan(existing, plan([{ id: 'task-001', name: 'renamed' }, { id: 'task-002', name: 'renamed' }, { id: 'task-003', name: 'renamed', priority: 'high' }]), T0);
    expect(merged.updated).toEqual(['task-003']);
    expect(merged.tasks.find((t) => t.id === 'task-001')!.name).toBe('done');
    expect(merged.tasks.find((t) => t.id === 'task-002')!.status).toBe('in_progress');
    expect(merged.tasks.find((t) => t.id === 'task-003')).toMatchObject({ name: 'renamed', priority: 'high' });
    expect(merged.kept.map((k) => k.id)).toEqual(['task-001', 'task-002']);
  });

  it('with add, a plan only adds and updates: pending tasks it does not list stay, new ones take the next free ids', () => {
    const existing = [task('task-001', { status: 'completed' }), task('task-002'), task('task-003', { blocked_by: ['task-002'] })];
    const merged = mergePlan(existing, plan([{ name: 'new one' }, { id: 'task-002', name: 'renamed' }]), T0, { add: true });
    expect(merged.dropped).toEqual([]);
    expect(merged.created).toEqual(['task-004']);
    expect(merged.updated).toEqual(['task-002']);
    expect(merged.tasks.map((t) => t.id)).toEqual(['task-001', 'task-002', 'task-003', 'task-004']);
  });

  it('drops pending tasks left out of the plan and keeps the others', () => {
    const existing = [task('task-001', { status: 'completed' }), task('task-002'), task('task-003', { blocked_by: ['task-002'] })];
    // task-003 no longer waits on task-002, so the pending task-002 can go; the completed task-001 stays.
    const merged = mergePlan(existing, plan([{ id: 'task-003', name: 'x' }]), T0);
    expect(merged.dropped).toEqual(['task-002']);
    expect(merged.tasks.map((t) => t.id)).toEqual(['task-001', 'task-003']);
    expect(merged.kept).toEqual([{ id: 'task-001', reason: expect.stringContaining('never dropped') }]);
  });

  it('refuses a plan that drops a task another depends on', () => {
    const existing = [task('task-001'), task('task-002', { blocked_by: ['task-001'] })];
    expect(() => mergePlan(existing, plan([{ id: 'task-002', name: 'x', blocked_by: ['task-001'] }]), T0)).toThrow(/drops tasks that others depend on: task-002 → task-001/);
    const ok = mergePlan(existing, plan([{ id: 'task-002', name: 'x' }]), T0);
    expect(ok.dropped).toEqual(['task-001']);
  });

  it('rejects duplicate ids and cycles before anything is written', () => {
    expect(() => mergePlan([], plan([{ id: 'task-001', name: 'a' }, { id: 'task-001', name: 'b' }]), T0)).toThrow(PivError);
    expect(() => mergePlan([], plan([{ id: 'task-001', name: 'a', blocked_by: ['task-002'] }, { id: 'task-002', name: 'b', blocked_by: ['task-001'] }]), T0)).toThrow(/task-001 → task-002 → task-001/);
  });
});

describe('estimates on re-planning', () => {
  it('keeps a computed estimate while the task is unchanged, drops it (to recompute) when the task changes', () => {
    const existing = [task('task-001', { name: 'a', verify: null, estimated_tokens: 4321 })];
    expect(mergePlan(existing, plan([{ id: 'task-001', name: 'a' }]), T0).tasks[0]!.estimated_tokens).toBe(4321);
    expect(mergePlan(existing, plan([{ id: 'task-001', name: 'a', files: ['src'] }]), T0).tasks[0]!.estimated_tokens).toBeNull();
    expect(mergePlan(existing, plan([{ id: 'task-001', name: 'a', estimated_tokens: 99 }]), T0).tasks[0]!.estimated_tokens).toBe(99);
  });
});
