// Several working trees of one repository (git worktree): claims are shared through refs made by compare-and-swap.
import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { git, piv, pivAsync, tempRepo, write } from '../helpers/repo.js';

const PLAN = `tasks:
  - id: task-001
    name: One
    files: [one.txt]
    verify: test -f one.txt
  - id: task-002
    name: Two
    files: [two.txt]
    verify: test -f two.txt
  - id: task-003
    name: Three
    files: [three.txt]
    verify: test -f three.txt
`;

describe('shared claims across working trees', () => {
  let repo: { dir: string; cleanup: () => void };
  let other = '';
  afterEach(() => {
    if (other) git(repo.dir, 'worktree', 'remove', '--force', other);
    rmSync(other, { recursive: true, force: true });
    repo.cleanup();
  });

  /** A repository with the plan committed, and a second working tree on branch `b`. */
  function setUp(): { main: string; b: string } {
    repo = tempRepo();
    const main = repo.dir;
    piv(main, ['init', '--agents', 'none']);
    piv(main, ['discuss', 'shared']);
    expect(piv(main, ['plan', '-'], { input: PLAN }).code).toBe(0);
    git(main, 'add', '-A');
    git(main, 'commit', '-qm', 'plan');
    other = `${main}-b`;
    git(main, 'worktree', 'add', '-q', other, '-b', 'b');
    return { main, b: other };
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
    expect(path.basename(b)).toMatch(/-b$/);
  });
});
