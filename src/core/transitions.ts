// Transitions: the task state machine (DESIGN §2) as pure functions; an illegal move throws and changes nothing.
import { PivError } from '../errors.js';
import type { Attempt, Task } from '../store/schemas.js';

const note = (at: string, text: string) => ({ at, text });

/** Throws unless `task` is in_progress and held by `agent`: `invalid_transition` (exit 2) or `conflict` (exit 3). */
export function assertHeldBy(task: Task, agent: string): void {
  if (task.status !== 'in_progress') {
    throw new PivError('invalid_transition', `${task.id} is ${task.status}, not in_progress`, {
      hint: task.status === 'pending' ? `Claim it first with \`piv execute --agent ${agent}\`.` : `Only a claimed task can be completed; see \`piv status\`.`,
      details: { task: task.id, status: task.status },
    });
  }
  if (task.owner !== agent) {
    throw new PivError('conflict', `${task.id} is claimed by ${task.owner ?? 'nobody'}, not by ${agent}`, {
      hint: `Pass --agent ${task.owner ?? '<id>'} if you are that agent, or pick another task with \`piv execute --agent ${agent}\`.`,
      details: { task: task.id, owner: task.owner, agent },
    });
  }
}

/**
 * Any status → the same, with `text` (trimmed) appended to the task's notes at `now` (ISO), signed by `agent`; nothing
 * else changes (no lease, no owner). Throws `usage` (exit 2) for an empty text.
 */
export function addNote(task: Task, agent: string, now: string, text: string): Task {
  const body = text.trim();
  if (!body) throw new PivError('usage', 'a note needs a text', { hint: 'piv note <id> "what you found"' });
  return { ...task, notes: [...task.notes, note(now, `${agent}: ${body}`)] };
}

/** pending → in_progress for `agent`, with a lease ending leaseMs after `now` (ISO). The caller checks readiness. */
export function claim(task: Task, agent: string, now: string, leaseMs: number): Task {
  if (task.status !== 'pending') {
    throw new PivError(task.status === 'in_progress' ? 'conflict' : 'invalid_transition', `${task.id} is ${task.status}${task.owner ? ` (owner ${task.owner})` : ''}; only a pending task can be claimed`, {
      details: { task: task.id, status: task.status, owner: task.owner },
    });
  }
  return { ...task, status: 'in_progress', owner: agent, started_at: task.started_at ?? now, claimed_at: now, lease_expires_at: leaseEnd(now, leaseMs) };
}

/** Extends the lease of a task `agent` holds. */
export function renewLease(task: Task, agent: string, now: string, leaseMs: number): Task {
  assertHeldBy(task, agent);
  return { ...task, lease_expires_at: leaseEnd(now, leaseMs) };
}

function leaseEnd(now: string, leaseMs: number): string {
  return new Date(Date.parse(now) + leaseMs).toISOString();
}

/**
 * Records a failed verify run on a task `agent` holds. The task stays in_progress, or becomes `failed`
 * when maxAttempts > 0 failed runs have accumulated in the current round (since the last retry or reopen).
 */
export function recordFailedAttempt(task: Task, agent: string, attempt: Attempt, maxAttempts: number): Task {
  assertHeldBy(task, agent);
  const attempts = [...task.attempts, attempt];
  // Count the failures of the current round: since the last retry or reopen (its note marks the start).
  const roundStart = [...task.notes].reverse().find((n) => n.text.startsWith('retried by') || n.text.startsWith('reopened:'))?.at;
  const failures = attempts.filter((a) => !a.passed && (roundStart === undefined || a.at >= roundStart)).length;
  if (maxAttempts > 0 && failures >= maxAttempts) {
    return { ...task, attempts, status: 'failed', lease_expires_at: null, notes: [...task.notes, note(attempt.at, `failed: verify did not pass after ${failures} attempts`)] };
  }
  return { ...task, attempts };
}

/** in_progress (held by `agent`) → completed, with the passing (or skipped) attempt and optional actual tokens. */
export function complete(task: Task, agent: string, attempt: Attempt, now: string, actualTokens?: number): Task {
  assertHeldBy(task, agent);
  if (!attempt.passed) throw new PivError('internal', `complete() called with a failing attempt for ${task.id}`);
  const actual = actualTokens === undefined ? task.actual_tokens : (task.actual_tokens ?? 0) + actualTokens;
  return { ...task, status: 'completed', completed_at: now, lease_expires_at: null, attempts: [...task.attempts, attempt], actual_tokens: actual };
}

/** in_progress → pending: `agent` gives the claim back; with force, anyone takes back anyone's claim (resume and execute use it for expired leases). */
export function release(task: Task, agent: string, now: string, reason: string, force = false): Task {
  if (!force) assertHeldBy(task, agent);
  else if (task.status !== 'in_progress') throw new PivError('invalid_transition', `${task.id} is ${task.status}, not in_progress`);
  return { ...task, status: 'pending', owner: null, claimed_at: null, lease_expires_at: null, notes: [...task.notes, note(now, reason)] };
}

/**
 * in_progress (held by another agent, lease ended at `now`) → in_progress for `agent`, recorded in the task's notes.
 * Throws `invalid_transition` (exit 2) unless the task is in progress, `conflict` (exit 3) while its lease still runs.
 */
export function steal(task: Task, agent: string, now: string, leaseMs: number): Task {
  if (task.status !== 'in_progress') throw new PivError('invalid_transition', `${task.id} is ${task.status}, not in_progress`);
  if (task.lease_expires_at === null || Date.parse(task.lease_expires_at) > Date.parse(now)) {
    throw new PivError('conflict', `${task.id} is claimed by ${task.owner} until ${task.lease_expires_at ?? 'forever'}`, { details: { task: task.id, owner: task.owner, lease_expires_at: task.lease_expires_at } });
  }
  const stolen = note(now, `claim of ${task.owner} expired at ${task.lease_expires_at}; taken over by ${agent}`);
  return { ...task, owner: agent, claimed_at: now, lease_expires_at: leaseEnd(now, leaseMs), notes: [...task.notes, stolen] };
}

/** pending|in_progress → blocked, with the external reason. */
export function block(task: Task, reason: string, now: string): Task {
  if (task.status !== 'pending' && task.status !== 'in_progress') {
    throw new PivError('invalid_transition', `${task.id} is ${task.status}; only a pending or in_progress task can be blocked`);
  }
  return { ...task, status: 'blocked', blocker: reason, lease_expires_at: null, notes: [...task.notes, note(now, `blocked: ${reason}`)] };
}

/** blocked → in_progress (when someone held it) or pending. */
export function unblock(task: Task, now: string, leaseMs: number): Task {
  if (task.status !== 'blocked') throw new PivError('invalid_transition', `${task.id} is ${task.status}, not blocked`);
  const held = task.owner !== null;
  return { ...task, status: held ? 'in_progress' : 'pending', blocker: null, lease_expires_at: held ? leaseEnd(now, leaseMs) : null, notes: [...task.notes, note(now, 'unblocked')] };
}

/** failed → in_progress for `agent`: another round of attempts. */
export function retry(task: Task, agent: string, now: string, leaseMs: number): Task {
  if (task.status !== 'failed') throw new PivError('invalid_transition', `${task.id} is ${task.status}, not failed`);
  return { ...task, status: 'in_progress', owner: agent, claimed_at: now, lease_expires_at: leaseEnd(now, leaseMs), notes: [...task.notes, note(now, `retried by ${agent}`)] };
}

/** completed → in_progress for `agent`, with the reason (new work found after completion). */
export function reopen(task: Task, agent: string, now: string, reason: string, leaseMs: number): Task {
  if (task.status !== 'completed') throw new PivError('invalid_transition', `${task.id} is ${task.status}, not completed`);
  return { ...task, status: 'in_progress', owner: agent, completed_at: null, claimed_at: now, lease_expires_at: leaseEnd(now, leaseMs), notes: [...task.notes, note(now, `reopened: ${reason}`)] };
}

/** Repair after a crash: completed in the file but no commit carries its trailer → back to in_progress, with a note. */
export function revertUncommittedCompletion(task: Task, now: string, leaseMs: number): Task {
  return {
    ...task,
    status: 'in_progress',
    completed_at: null,
    lease_expires_at: leaseEnd(now, leaseMs),
    notes: [...task.notes, note(now, 'repaired: marked completed but no commit carries its Piv-Task trailer; back to in_progress — run `piv done` again')],
  };
}
