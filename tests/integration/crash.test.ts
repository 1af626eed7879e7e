// Proof, crashes: `piv done` killed with SIGKILL at every named instant between verify and commit (and at random instants),
// then `piv resume` in a fresh process: state and history agree, nothing is lost, and the task can finish with one commit.
import { spawn, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAILPOINTS } from '../../src/failpoint.js';
import { seeded } from '../../bench/lib/random.mjs';
import { BIN, cloneRepo, edit, git, gitStatus, piv, seedRepo, taskYaml, tempRepo, write } from '../helpers/repo.js';
import { plannedRepo, taskCommitsOn, type Swarm } from '../helpers/swarm.js';

const cleanups: (() => void)[] = [];
afterAll(() => {
  for (const c of cleanups.splice(0)) c();
});

/** `piv done task-001 --tokens 500` killed at `point`; returns how it ended. */
function doneKilledAt(dir: string, point: string): { signal: NodeJS.Signals | null; status: number | null } {
  const r = spawnSync(process.execPath, [BIN, 'done', 'task-001', '--tokens', '500'], { cwd: dir, encoding: 'utf8', env: { ...process.env, PIV_AGENT: '', PIV_FAILPOINT: point } });
  return { signal: r.signal, status: r.status };
}

/** After any crash and `piv resume`: the task finishes (done again if needed) and exactly one commit carries it. Returns resume's repair kinds. */
function expectRecovered(dir: string, rev = 'HEAD', tree = dir): string[] {
  const resumed = piv(tree, ['resume', '--no-baseline', '--json']);
  expect([resumed.code, resumed.stderr]).toEqual([0, '']);
  const state = piv(tree, ['status', '--json']).json.result.tasks.find((t: { id: string }) => t.id === 'task-001');
  if (state.status !== 'completed') {
    expect(state).toMatchObject({ status: 'in_progress', owner: 'main' }); // still claimed: the work can be completed
    const again = piv(tree, ['done', 'task-001', '--tokens', '500']);
    expect([again.code, again.stderr]).toEqual([0, '']);
  }
  expect(taskCommitsOn(dir, rev).filter((c) => c.task === 'task-001')).toHaveLength(1); // one commit, never two
  const after = piv(tree, ['status', '--json']).json.result;
  expect(after.tasks.find((t: { id: string }) => t.id === 'task-001')).toMatchObject({ status: 'completed', actual_tokens: 500 });
  // The agent's usage counts the completion's tokens once: none lost to the crash, none added twice by its repair.
  expect(after.tokens.feature_total).toBe(500);
  expect(git(dir, 'show', `${rev}:src/user.js`)).toBe('export class User {}\n'); // the work is in history
  expect(piv(tree, ['validate', '--stage', 'state', '--no-report']).code).toBe(0);
  expect(gitStatus(tree).filter((l) => !l.includes('.agents/state/agents/'))).toEqual([]);
  return resumed.json.result.repairs.map((r: { kind: string }) => r.kind);
}

describe('one working tree', () => {
  let claimed = '';
  beforeAll(() => {
    const repo = tempRepo();
    cleanups.push(repo.cleanup);
    seedRepo(repo.dir);
    git(repo.dir, 'add', '-A');
    git(repo.dir, 'commit', '-qm', 'plan');
    expect(piv(repo.dir, ['execute', '--json']).json.result.task.id).toBe('task-001');
    write(repo.dir, { 'src/user.js': 'export class User {}\n' });
    claimed = repo.dir;
  });

  const local = FAILPOINTS.filter((p) => !p.includes('local-commit') && !p.includes('land'));
  it.each(local)('killed at %s: resume finds a consistent state and the task finishes once', (point) => {
    const copy = cloneRepo(claimed);
    cleanups.push(copy.cleanup);
    expect(doneKilledAt(copy.dir, point)).toEqual({ signal: 'SIGKILL', status: null });
    expectRecovered(copy.dir);
  });

  it('killed at 12 random instants of a completion (verify running, files being written, git committing): always recoverable', async () => {
    const { rand } = seeded(20261202);
    for (let i = 0; i < 12; i++) {
      const copy = cloneRepo(claimed);
      cleanups.push(copy.cleanup);
      // A verify that takes a while, so the kill can land before, during and after it.
      edit(copy.dir, '.agents/tasks/task-001.yaml', (t) => t.replace(/^verify: .*$/m, 'verify: "sleep 0.2 && test -f src/user.js"'));
      git(copy.dir, 'commit', '-qam', 'slower verify');
      const delay = Math.floor(rand() * 700);
      await new Promise<void>((resolve) => {
        const child = spawn(process.execPath, [BIN, 'done', 'task-001', '--tokens', '500'], { cwd: copy.dir, env: { ...process.env, PIV_AGENT: '' }, stdio: 'ignore' });
        const timer = setTimeout(() => child.kill('SIGKILL'), delay);
        child.on('close', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      expectRecovered(copy.dir);
    }
  }, 180_000);
});

describe('a swarm working tree', () => {
  let swarm: Swarm;
  let tree = '';
  beforeAll(() => {
    swarm = plannedRepo('crash', `tasks:\n  - id: task-001\n    name: Create User model\n    files: [src/user.js]\n    verify: test -f src/user.js\n  - id: task-002\n    name: Other\n    files: [two.txt]\n    verify: test -f two.txt\n`);
    cleanups.push(() => swarm.cleanup());
  });

  it.each(FAILPOINTS.filter((p) => p !== 'done:after-commit'))('killed at %s: resume lands or follows the task commit; the branch gets it once', (point) => {
    const copy = cloneRepo(swarm.main);
    cleanups.push(copy.cleanup);
    const main = copy.dir;
    const claimed = piv(main, ['execute', '--worktree', '--agent', 'main', '--json']).json.result;
    tree = claimed.swarm.worktree;
    cleanups.push(() => rmSync(`${main}.piv`, { recursive: true, force: true })); // the agents' trees
    // Another agent lands work first, so the killed completion must be rebased.
    const other = piv(main, ['execute', '--worktree', '--agent', 'other', '--json']).json.result;
    write(other.swarm.worktree, { 'two.txt': '2\n' });
    expect(piv(other.swarm.worktree, ['done', 'task-002']).code).toBe(0);

    write(tree, { 'src/user.js': 'export class User {}\n' });
    expect(doneKilledAt(tree, point)).toEqual({ signal: 'SIGKILL', status: null });
    const repairs = expectRecovered(main, 'piv/crash', tree);
    // Killed between its writes and its local commit, the decided completion is committed by resume, then landed.
    if (point === 'done:after-task-write' || point === 'done:after-state-write') expect(repairs).toEqual(['finished_completion', 'landed']);
    expect(taskCommitsOn(main, 'piv/crash').map((c) => c.task)).toEqual(['task-002', 'task-001']);
  });
});
