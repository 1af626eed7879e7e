import { describe, expect, it } from 'vitest';
import * as T from '../../src/core/transitions.js';
import { PivError } from '../../src/errors.js';
import type { Attempt } from '../../src/store/schemas.js';
import { T0, task } from './fixtures.js';

const HOUR = 3_600_000;
const attempt = (passed: boolean): Attempt => ({ at: T0, agent: 'a', exit_code: passed ? 0 : 1, passed, skipped: false, duration_ms: 5, timed_out: false, output_tail: passed ? '' : 'boom', tokens: null });
const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return (error as PivError).code;
  }
  return 'no error';
};

describe('the task state machine', () => {
  it('claim: pending → in_progress with owner and lease', () => {
    const t = T.claim(task('task-001'), 'a', T0, HOUR);
    expect(t).toMatchObject({ status: 'in_progress', owner: 'a', started_at: T0, lease_expires_at: '2026-11-22T11:00:00.000Z' });
    expect(code(() => T.claim(t, 'b', T0, HOUR))).toBe('conflict');
    expect(code(() => T.claim(task('task-002', { status: 'completed' }), 'b', T0, HOUR))).toBe('invalid_transition');
  });

  it('complete: only the owner, only in progress', () => {
    const held = T.claim(task('task-001'), 'a', T0, HOUR);
    expect(code(() => T.complete(held, 'b', attempt(true), T0))).toBe('conflict');
    expect(code(() => T.complete(task('task-001'), 'a', attempt(true), T0))).toBe('invalid_transition');
    const done = T.complete(held, 'a', attempt(true), T0, 1234);
    expect(done).toMatchObject({ status: 'completed', completed_at: T0, lease_expires_at: null, actual_tokens: 1234 });
    expect(done.attempts).toHaveLength(1);
  });

  it('a failing attempt keeps the claim; max_attempts turns it into failed; retry takes it back', () => {
    const held = T.claim(task('task-001'), 'a', T0, HOUR);
    const once = T.recordFailedAttempt(held, 'a', attempt(false), 2);
    expect(once).toMatchObject({ status: 'in_progress', owner: 'a' });
    const twice = T.recordFailedAttempt(once, 'a', attempt(false), 2);
    expect(twice.status).toBe('failed');
    expect(T.retry(twice, 'a', T0, HOUR).status).toBe('in_progress');
    expect(T.recordFailedAttempt(held, 'a', attempt(false), 0).status).toBe('in_progress');
  });

  it('release, block/unblock, reopen, and the crash repair', () => {
    const held = T.claim(task('task-001'), 'a', T0, HOUR);
    expect(T.release(held, 'a', T0, 'bye')).toMatchObject({ status: 'pending', owner: null });
    expect(code(() => T.release(held, 'b', T0, 'steal'))).toBe('conflict');
    expect(T.release(held, 'b', T0, 'stale', true).status).toBe('pending');
    const blocked = T.block(held, 'needs credentials', T0);
    expect(blocked).toMatchObject({ status: 'blocked', blocker: 'needs credentials' });
    expect(T.unblock(blocked, T0, HOUR)).toMatchObject({ status: 'in_progress', owner: 'a', blocker: null });
    const done = T.complete(held, 'a', attempt(true), T0);
    expect(T.reopen(done, 'a', T0, 'bug found', HOUR)).toMatchObject({ status: 'in_progress', completed_at: null });
    const repaired = T.revertUncommittedCompletion(done, T0, HOUR);
    expect(repaired.status).toBe('in_progress');
    expect(repaired.notes.at(-1)!.text).toContain('no commit carries its Piv-Task trailer');
  });
});

describe('retry starts a new round of attempts', () => {
  it('max_attempts counts only the failures since the last retry', () => {
    const at = (m: number) => `2026-11-22T10:0${m}:00.000Z`;
    const fail = (m: number): Attempt => ({ ...attempt(false), at: at(m) });
    let t = T.claim(task('task-001'), 'a', at(0), HOUR);
    t = T.recordFailedAttempt(t, 'a', fail(1), 2);
    t = T.recordFailedAttempt(t, 'a', fail(2), 2);
    expect(t.status).toBe('failed');
    t = T.retry(t, 'a', at(3), HOUR);
    t = T.recordFailedAttempt(t, 'a', fail(4), 2);
    expect(t.status).toBe('in_progress');
    t = T.recordFailedAttempt(t, 'a', fail(5), 2);
    expect(t.status).toBe('failed');
  });
});

describe('addNote', () => {
  it('appends one signed note in any status and changes nothing else; an empty text is a usage error', () => {
    for (const status of ['pending', 'in_progress', 'completed', 'blocked', 'failed'] as const) {
      const before = task('task-001', { status, owner: status === 'in_progress' ? 'a' : null });
      const after = T.addNote(before, 'b', T0, '  found it  ');
      expect(after.notes).toEqual([...before.notes, { at: T0, text: 'b: found it' }]);
      expect({ ...after, notes: before.notes }).toEqual(before);
    }
    expect(code(() => T.addNote(task('task-001'), 'a', T0, '   '))).toBe('usage');
  });
});
