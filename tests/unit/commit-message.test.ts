// A task's commit message: conventional subject from the task's commit type, phase and name, then the trailers piv reads back.
import { describe, expect, it } from 'vitest';
import { taskCommitMessage } from '../../src/git/git.js';

const subject = (type: string, scope: string | null, name: string) => taskCommitMessage(type, scope, name, 'task-001').split('\n')[0];

describe('taskCommitMessage', () => {
  it('puts the phase in the scope, and leaves a scope that repeats the type or is empty out', () => {
    expect(subject('feat', 'models', 'Create User model')).toBe('feat(models): Create User model');
    expect(subject('fix', 'fix', 'Mend it')).toBe('fix: Mend it');
    expect(subject('feat', null, 'Create User model')).toBe('feat: Create User model');
  });

  it('drops a leading "<scope>:" from the name, which the scope already says', () => {
    expect(subject('fix', 'plan', 'plan: warn about an oversized task')).toBe('fix(plan): warn about an oversized task');
    expect(subject('perf', 'bench', 'Bench:   time status')).toBe('perf(bench): time status');
  });

  it('keeps a name that only mentions the scope, or is nothing but it', () => {
    expect(subject('fix', 'plan', 'planner: warn')).toBe('fix(plan): planner: warn');
    expect(subject('fix', 'plan', 'The plan: warn')).toBe('fix(plan): The plan: warn');
    expect(subject('fix', 'plan', 'plan:')).toBe('fix(plan): plan:');
  });

  it('ends with the trailers: the task, and the feature when one is open', () => {
    expect(taskCommitMessage('feat', 'models', 'Create User model', 'task-007', 'Verified: npm test (exit 0, 12 ms)', 'auth')).toBe(
      'feat(models): Create User model\n\nVerified: npm test (exit 0, 12 ms)\n\nPiv-Task: task-007\nPiv-Feature: auth\n',
    );
    expect(taskCommitMessage('feat', null, 'X', 'task-008')).toBe('feat: X\n\nPiv-Task: task-008\n');
  });
});
