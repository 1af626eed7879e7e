// Clones sharing a remote (claims.remote: origin): a claim is pushed with --force-with-lease, so a lost race is a rejected push.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { git, piv, pivAsync, read, tempRepo, write } from '../helpers/repo.js';

const PLAN = `tasks:
  - id: task-001
    name: One
    files: [one.txt]
    verify: test -f one.txt
  - id: task-002
    name: Two
    files: [two.txt]
    verify: test -f two.txt
`;

describe('claims shared through a remote', () => {
  let repo: { dir: string; cleanup: () => void };
  let scratch = '';
  afterEach(() => {
    repo.cleanup();
    rmSync(scratch, { recursive: true, force: true });
  });

  /** A bare remote holding a planned feature with claims.remote: origin, and two clones of it. */
  function setUp(): { a: string; b: string; remote: string } {
    repo = tempRepo();
    const seed = repo.dir;
    piv(seed, ['init', '--agents', 'none']);
    write(seed, { '.agents/config.yaml': read(seed, '.agents/config.yaml').replace('  remote: null', '  remote: origin') });
    piv(seed, ['discuss', 'remote']);
    expect(piv(seed, ['plan', '-'], { input: PLAN }).code).toBe(0);
    git(seed, 'add', '-A');
    git(seed, 'commit', '-qm', 'plan');
    scratch = mkdtempSync(path.join(os.tmpdir(), 'piv-remote-'));
    const remote = path.join(scratch, 'remote.git');
    git(scratch, 'clone', '-q', '--bare', seed, remote);
    const clone = (name: string) => {
      git(scratch, 'clone', '-q', remote, name);
      const dir = path.join(scratch, name);
      git(dir, 'config', 'user.email', `${name}@example.com`);
      git(dir, 'config', 'user.name', name);
      return dir;
    };
    return { a: clone('a'), b: clone('b'), remote };
  }

  it('two clones claiming at once get different tasks; the remote holds both claims', async () => {
    const { a, b, remote } = setUp();
    const [ra, rb] = await Promise.all([pivAsync(a, ['execute', '--json']), pivAsync(b, ['execute', '--json'])]);
    expect([ra.json.result.task.id, rb.json.result.task.id].sort()).toEqual(['task-001', 'task-002']);
    expect(git(remote, 'for-each-ref', '--format=%(refname)', 'refs/piv/claims/').trim().split('\n')).toEqual([
      'refs/piv/claims/remote/task-001',
      'refs/piv/claims/remote/task-002',
    ]);
  });

  it('done marks the remote claim completed; release frees it for the other clone', () => {
    const { a, b, remote } = setUp();
    expect(piv(a, ['execute', '--json']).json.result.task.id).toBe('task-001');
    expect(piv(b, ['execute', '--json']).json.result.task.id).toBe('task-002');
    write(a, { 'one.txt': '1\n' });
    expect(piv(a, ['done', 'task-001']).code).toBe(0);
    expect(git(remote, 'log', '-1', '--format=%B', 'refs/piv/claims/remote/task-001')).toContain('State: completed');
    const none = piv(b, ['execute', '--agent', 'other', '--json']).json.result;
    expect(none.outcome).toBe('none_ready');
    expect(none.claimed_elsewhere.map((c: { id: string }) => c.id).sort()).toEqual(['task-001', 'task-002']);
    expect(piv(b, ['release', 'task-002']).code).toBe(0);
    expect(git(remote, 'for-each-ref', '--format=%(refname)', 'refs/piv/claims/').trim()).toBe('refs/piv/claims/remote/task-001');
    expect(piv(a, ['execute', '--json']).json.result.task.id).toBe('task-002');
  });
});

describe('a remote that refuses', () => {
  let repo: { dir: string; cleanup: () => void };
  let scratch = '';
  afterEach(() => {
    repo.cleanup();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('a push refused by a hook is an error (exit 1), not a lost race; an unreachable remote fails a new claim', () => {
    repo = tempRepo();
    const seed = repo.dir;
    piv(seed, ['init', '--agents', 'none']);
    write(seed, { '.agents/config.yaml': read(seed, '.agents/config.yaml').replace('  remote: null', '  remote: origin') });
    piv(seed, ['discuss', 'remote']);
    piv(seed, ['plan', '-'], { input: PLAN });
    git(seed, 'add', '-A');
    git(seed, 'commit', '-qm', 'plan');
    scratch = mkdtempSync(path.join(os.tmpdir(), 'piv-remote-'));
    const remote = path.join(scratch, 'remote.git');
    git(scratch, 'clone', '-q', '--bare', seed, remote);
    git(scratch, 'clone', '-q', remote, 'a');
    const a = path.join(scratch, 'a');
    write(remote, { 'hooks/pre-receive': '#!/bin/sh\necho "claims are frozen" >&2\nexit 1\n' });
    chmodSync(path.join(remote, 'hooks/pre-receive'), 0o755);
    const refused = piv(a, ['execute', '--json']);
    expect(refused.code).toBe(1);
    expect(refused.json.error.code).toBe('git_failed');
    expect(refused.json.error.message).toContain('cannot write the claim refs/piv/claims/remote/task-001');
    expect(read(a, '.agents/tasks/task-001.yaml')).toContain('status: pending');

    git(a, 'remote', 'set-url', 'origin', path.join(scratch, 'gone.git'));
    const offline = piv(a, ['execute', '--json']);
    expect(offline.code).toBe(1);
    expect(offline.json.error.message).toContain('cannot fetch the shared claims from origin');
  });
});
