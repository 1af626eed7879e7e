// A feature's life: once every task is completed, opening the next feature archives it; until then the session is kept.
import { chmodSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { exists, git, piv, read, seedRepo, tempRepo, write } from '../helpers/repo.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});
/** A new git repository for this test (removed after it), seeded with the sample plan when `seeded`. */
function repoDir(seeded = false): string {
  const { dir, cleanup } = tempRepo();
  cleanups.push(cleanup);
  if (seeded) seedRepo(dir);
  return dir;
}

describe('feature lifecycle', () => {

  it('refuses a second feature while the first has open tasks, archives it once all are completed', () => {
    const dir = repoDir();
    expect(piv(dir, ['init', '--agents', 'none']).code).toBe(0);
    expect(piv(dir, ['discuss', 'first', '--decide', 'Scope?=one task']).code).toBe(0);
    expect(piv(dir, ['plan', '-'], { input: 'tasks:\n  - name: Only task\n    files: [a.txt]\n    verify: test -f a.txt\n' }).code).toBe(0);

    const refused = piv(dir, ['discuss', 'second', '--json']);
    expect(refused.code).toBe(3);
    expect(refused.json.error).toMatchObject({ code: 'conflict', details: { feature: 'first' } });
    expect(refused.json.error.message).toContain('1 of 1 tasks not completed');

    expect(piv(dir, ['execute']).code).toBe(0);
    write(dir, { 'a.txt': 'done\n' });
    expect(piv(dir, ['done', 'task-001']).code).toBe(0);
    expect(git(dir, 'log', '-1', '--format=%s')).toBe('feat: Only task\n');

    const opened = piv(dir, ['discuss', 'second', '--json']);
    expect(opened.code).toBe(0);
    expect(opened.json.result).toMatchObject({ feature: 'second', opened: true, archived: '.agents/archive/first', decisions: [] });
    expect(read(dir, '.agents/archive/first/state/session.yaml')).toContain('feature: first');
    expect(read(dir, '.agents/archive/first/tasks/task-001.yaml')).toContain('status: completed');
    expect(exists(dir, '.agents/tasks/task-001.yaml')).toBe(false);
    expect(piv(dir, ['status', '--json']).json.result.progress.total).toBe(0);
  });
});

describe('task commits across features and hooks', () => {

  it('a new feature reusing task-001 is not satisfied by the old feature\'s commit; an id-less re-plan updates in place', () => {
    const dir = repoDir();
    const plan = 'tasks:\n  - name: One\n    verify: "true"\n  - name: Two\n    verify: "true"\n    blocked_by: [task-001]\n';
    piv(dir, ['init', '--agents', 'none']);
    piv(dir, ['discuss', 'first']);
    expect(piv(dir, ['plan', '-'], { input: plan }).code).toBe(0);
    // the same id-less plan again: same ids, nothing created or dropped
    const again = piv(dir, ['plan', '-', '--json'], { input: plan });
    expect(again.json.result).toMatchObject({ created: [], dropped: [], unchanged: ['task-001', 'task-002'] });
    for (const id of ['task-001', 'task-002']) {
      piv(dir, ['execute']);
      expect(piv(dir, ['done', id]).code).toBe(0);
    }
    expect(piv(dir, ['discuss', 'second']).code).toBe(0);
    expect(piv(dir, ['plan', '-'], { input: plan }).code).toBe(0);
    piv(dir, ['execute']);
    // a crash after the YAML said completed but before the commit: only the old feature's task-001 commit exists
    write(dir, { '.agents/tasks/task-001.yaml': read(dir, '.agents/tasks/task-001.yaml').replace('status: in_progress', 'status: completed') });
    const resumed = piv(dir, ['resume', '--no-baseline', '--json']);
    expect(resumed.json.result.repairs).toEqual([expect.objectContaining({ task: 'task-001', kind: 'uncommitted_completion' })]);
  });

  it('a pre-commit hook that rejects silently fails done (exit 1) and leaves the task claimed, the index clean', () => {
    const dir = repoDir();
    piv(dir, ['init', '--agents', 'none']);
    piv(dir, ['discuss', 'first']);
    piv(dir, ['plan', '-'], { input: 'tasks:\n  - name: One\n    files: [a.txt]\n    verify: "true"\n' });
    git(dir, 'add', '-A');
    git(dir, 'commit', '-qm', 'set up piv');
    write(dir, { '.git/hooks/pre-commit': '#!/bin/sh\nexit 1\n', 'a.txt': 'a\n' });
    chmodSync(path.join(dir, '.git/hooks/pre-commit'), 0o755);
    const headBefore = git(dir, 'rev-parse', 'HEAD');
    piv(dir, ['execute']);
    const done = piv(dir, ['done', 'task-001', '--json']);
    expect(done.code).toBe(1);
    expect(done.json.error.code).toBe('git_failed');
    expect(git(dir, 'rev-parse', 'HEAD')).toBe(headBefore);
    expect(read(dir, '.agents/tasks/task-001.yaml')).toContain('status: in_progress');
    expect(git(dir, 'diff', '--cached', '--name-only')).toBe('');
  });
});

describe('execute --task', () => {

  it('claims the named task when it is ready, and says what a blocked one waits on', () => {
    const dir = repoDir(true);
    const blocked = piv(dir, ['execute', '--task', 'task-004', '--json']);
    expect(blocked.code).toBe(2);
    expect(blocked.json.error).toMatchObject({ code: 'invalid_transition', details: { task: 'task-004', waiting_on: ['task-002', 'task-003'] } });
    expect(piv(dir, ['execute', '--task', 'task-404']).code).toBe(2);
    const claimed = piv(dir, ['execute', '--task', 'task-001', '--agent', 'a', '--json']);
    expect(claimed.json.result).toMatchObject({ outcome: 'claimed', task: { id: 'task-001', owner: 'a' } });
    const taken = piv(dir, ['execute', '--task', 'task-001', '--agent', 'b', '--json']);
    expect(taken.code).toBe(3);
    expect(taken.json.error.code).toBe('conflict');
  });
});

describe('piv note', () => {

  it('adds one signed note to a pending, claimed or completed task and changes nothing else in its file', () => {
    const dir = repoDir(true);
    const file = '.agents/tasks/task-001.yaml';
    const withoutNotes = (text: string) => text.replace(/^notes:[\s\S]*$/m, '');
    const before = read(dir, file);
    const pending = piv(dir, ['note', 'task-001', 'bench:', '148 ms', '--json']);
    expect(pending.code).toBe(0);
    expect(pending.json.result).toMatchObject({ id: 'task-001', op: 'note', from: 'pending', to: 'pending', owner: null });
    const after = read(dir, file);
    expect(withoutNotes(after)).toBe(withoutNotes(before));
    expect(after).toMatch(/text: "main: bench: 148 ms"/);
    expect(piv(dir, ['execute', '--task', 'task-001', '--agent', 'a']).code).toBe(0);
    const claimed = read(dir, file);
    expect(piv(dir, ['note', 'task-001', 'half way', '--agent', 'b', '--json']).json.result).toMatchObject({ from: 'in_progress', to: 'in_progress', owner: 'a' });
    expect(withoutNotes(read(dir, file))).toBe(withoutNotes(claimed));
    expect(read(dir, file)).toMatch(/text: "?b: half way"?/);
    expect(piv(dir, ['done', 'task-001', '--agent', 'a', '--no-verify']).code).toBe(0);
    expect(piv(dir, ['note', 'task-001', 'shipped']).code).toBe(0);
    expect(read(dir, file)).toMatch(/status: completed/);
    const empty = piv(dir, ['note', 'task-001', ' ', '--json']);
    expect(empty.code).toBe(2);
    expect(empty.json.error.code).toBe('usage');
    expect(piv(dir, ['note', 'task-404', 'x']).code).toBe(2);
  });
});
