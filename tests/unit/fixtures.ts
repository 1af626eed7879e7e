// Builders for in-memory tasks (core is pure: no files needed).
import { FORMAT_VERSION, type Task } from '../../src/store/schemas.js';

export const T0 = '2026-11-22T10:00:00.000Z';

/** A valid pending task with overrides. */
export function task(id: string, over: Partial<Task> = {}): Task {
  return {
    version: FORMAT_VERSION,
    id,
    name: `Task ${id}`,
    status: 'pending',
    priority: 'medium',
    phase: null,
    commit_type: 'feat',
    action: '',
    files: [],
    verify: 'true',
    done: '',
    blocked_by: [],
    estimated_tokens: 1000,
    actual_tokens: null,
    owner: null,
    claimed_at: null,
    lease_expires_at: null,
    blocker: null,
    created_at: T0,
    started_at: null,
    completed_at: null,
    attempts: [],
    notes: [],
    ...over,
  };
}
