// Several working trees of one repository (git worktree): claims are shared through refs made by compare-and-swap.
import { afterEach, describe, expect, it } from 'vitest';
import { git, piv, pivAsync, read, write } from '../helpers/repo.js';
import { plannedRepo, type Swarm } from '../helpers/swarm.js';

describe('shared claims across working trees', () => {
  let swarm: Swarm;
  afterEach(() => swarm.cleanup());

  /** A repository with a three-task plan committed, and a second working tree on branch `b`. */
  function setUp(): { main: string; b: string } {
    swarm = plannedRepo('shared', 3);
    return { main: swarm.main, b: swarm.worktree('b') };
  }

  it('a task claimed in one tree is never given in another; completed stays taken; release frees it', () => {
    const { main, b } = setUp();
    expect(piv(main, ['execute', '--agent', 'a', '--json']).json.result.task.id).toBe('task-001');
    const inB = piv(b, ['execute', '--agent', 'b', '--json']).json.result;
    expect(inB.task.id).toBe('task-002');
    expect(git(main, 'for-each-ref', '--format=%(refname)', 'refs/piv/claims/shared/').trim().split('\n')).toEqual([
      'refs/piv/claims/shared/task-001',
      'refs/piv/claims/shared/task-002',
    ]);

    write(main, { 'one.txt': '1\n' });
    expect(piv(main, ['done', 'task-001', '--agent', 'a']).code).toBe(0);
    // tree b has not merged task-001's commit: its file still says pending, yet it can never claim it again
    const again = piv(b, ['execute', '--task', 'task-001', '--agent', 'c', '--json']);
    expect(again.code).toBe(3);
    expect(again.json.error.message).toMatch(/^task-001 is claimed in another working tree by a \(/);
    expect(git(main, 'log', '-1', '--format=%B', 'refs/piv/claims/shared/task-001')).toContain('State: completed');

    expect(piv(b, ['release', 'task-002', '--agent', 'b']).code).toBe(0);
    expect(piv(main, ['execute', '--agent', 'a', '--json']).json.result.task.id).toBe('task-002');
  });

  it('agents in two trees claiming at once get different tasks', async () => {
    const { main, b } = setUp();
    const results = await Promise.all([
      pivAsync(main, ['execute', '--agent', 'a', '--json']),
      pivAsync(b, ['execute', '--agent', 'b', '--json']),
      pivAsync(main, ['execute', '--agent', 'c', '--json']),
      pivAsync(b, ['execute', '--agent', 'd', '--json']),
    ]);
    const ids = results.map((r) => r.json.result.task?.id ?? null);
    const claimed = ids.filter(Boolean);
    expect(claimed.sort()).toEqual(['task-001', 'task-002', 'task-003']);
    expect(ids.filter((x) => x === null)).toHaveLength(1);
    const none = results.find((r) => r.json.result.task === null)!.json.result;
    expect(none.outcome).toBe('none_ready');
    expect(none.claimed_elsewhere.length + none.stall.in_progress.length).toBeGreaterThanOrEqual(1);
  });
});

describe('losing a shared claim', () => {
  let swarm: Swarm;
  afterEach(() => swarm.cleanup());

  it('a claim taken over after its lease ended is reported lost (exit 3) and released here; done refuses; release removes only its own claim', async () => {
    // a lease of 30 ms in the main tree, so the test can let it end
    swarm = plannedRepo('shared', 3, { config: (text) => text.replace('lease_minutes: 120', 'lease_minutes: 0.0005') });
    const main = swarm.main;
    const other = swarm.worktree('b');

    expect(piv(main, ['execute', '--agent', 'a', '--task', 'task-001', '--json']).json.result.task.id).toBe('task-001');
    await new Promise((resolve) => setTimeout(resolve, 100)); // the 30 ms lease ends
    // tree b keeps the usual 2-hour lease (its own checkout of the config)
    write(other, { '.agents/config.yaml': read(other, '.agents/config.yaml').replace('lease_minutes: 0.0005', 'lease_minutes: 120') });
    expect(piv(other, ['execute', '--agent', 'b', '--task', 'task-001', '--json']).json.result.outcome).toBe('claimed');

    write(main, { 'one.txt': '1\n' });
    const done = piv(main, ['done', 'task-001', '--agent', 'a', '--json']);
    expect(done.code).toBe(3);
    expect(done.json.error.message).toMatch(/^task-001 is claimed in another working tree by b \(/);

    const again = piv(main, ['execute', '--agent', 'a', '--json']);
    expect(again.code).toBe(3);
    expect(again.json.error.message).toContain('your claim was released');
    expect(read(main, '.agents/tasks/task-001.yaml')).toContain('status: pending');

    // main cannot delete b's claim without --force
    expect(piv(main, ['execute', '--agent', 'a', '--task', 'task-002']).code).toBe(0);
    const rel = piv(main, ['release', 'task-002', '--agent', 'a', '--json']);
    expect(rel.json.result.warnings).toEqual([]);
    expect(git(main, 'for-each-ref', '--format=%(refname)', 'refs/piv/claims/shared/').trim()).toBe('refs/piv/claims/shared/task-001');
  });
});
