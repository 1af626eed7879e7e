// Clones sharing a remote (claims.remote: origin): a claim is pushed with --force-with-lease, so a lost race is a rejected push.
import { chmodSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { git, piv, pivAsync, read, write } from '../helpers/repo.js';
import { plannedRepo, type Swarm } from '../helpers/swarm.js';

/** A planned feature with claims.remote: origin, pushed to a bare remote. */
const withRemote = () => plannedRepo('remote', 2, { config: (text) => text.replace('  remote: null', '  remote: origin') });

describe('claims shared through a remote', () => {
  let swarm: Swarm;
  afterEach(() => swarm.cleanup());

  /** Two clones of the remote. */
  function setUp(): { a: string; b: string; remote: string } {
    swarm = withRemote();
    return { remote: swarm.remote(), a: swarm.clone('a'), b: swarm.clone('b') };
  }

  it('two clones claiming at once get different tasks; the remote holds both claims', async () => {
    const { a, b, remote } = setUp();
    const [ra, rb] = await Promise.all([pivAsync(a, ['execute', '--json']), pivAsync(b, ['execute', '--json'])]);
    for (const r of [ra, rb]) expect(r.json.ok, JSON.stringify(r.json)).toBe(true);
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
  let swarm: Swarm;
  afterEach(() => swarm.cleanup());

  it('a push refused by a hook is an error (exit 1), not a lost race; an unreachable remote fails a new claim', () => {
    swarm = withRemote();
    const remote = swarm.remote();
    const a = swarm.clone('a');
    write(remote, { 'hooks/pre-receive': '#!/bin/sh\necho "claims are frozen" >&2\nexit 1\n' });
    chmodSync(path.join(remote, 'hooks/pre-receive'), 0o755);
    const refused = piv(a, ['execute', '--json']);
    expect(refused.code).toBe(1);
    expect(refused.json.error.code).toBe('git_failed');
    expect(refused.json.error.message).toContain('cannot write the claim refs/piv/claims/remote/task-001');
    expect(read(a, '.agents/tasks/task-001.yaml')).toContain('status: pending');

    git(a, 'remote', 'set-url', 'origin', path.join(path.dirname(remote), 'gone.git'));
    const offline = piv(a, ['execute', '--json']);
    expect(offline.code).toBe(1);
    expect(offline.json.error.message).toContain('cannot fetch the shared claims from origin');
  });
});
