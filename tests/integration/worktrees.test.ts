// Proof, several working trees: agents each in their own git worktree (piv execute --worktree) work one 40-task graph with
// dependencies to the end. The feature branch gets one commit per task, in an order that respects every dependency.
import { afterEach, describe, expect, it } from 'vitest';
import { git, gitStatus, piv, read, write } from '../helpers/repo.js';
import { plannedRepo, randomPlan, runWorkers, taskCommitsOn, type Swarm } from '../helpers/swarm.js';

let swarm: Swarm | null = null;
afterEach(() => {
  swarm?.cleanup(); // with the agents' trees
  swarm = null;
});

describe('agents in their own working trees (a swarm on one machine)', () => {
  it('4 agents in 4 worktrees complete a 40-task graph: one commit per task on piv/<feature>, dependencies first', async () => {
    const plan = randomPlan(40, 5, 3);
    swarm = plannedRepo('wt', plan.text);
    const main = swarm.main;
    const agents = ['w1', 'w2', 'w3', 'w4'];
    const started = Date.now();
    const { events, codes, stderr } = await runWorkers(agents.map((agent) => ({ cwd: main, agent, worktree: true })), 300_000);
    const seconds = (Date.now() - started) / 1000;
    expect(events.filter((e) => e.event === 'error')).toEqual([]);
    expect([codes, stderr]).toEqual([[0, 0, 0, 0], '']);

    const ids = [...plan.deps.keys()].sort();
    expect(events.filter((e) => e.event === 'done').map((e) => e.task).sort()).toEqual(ids); // each completed once
    const commits = taskCommitsOn(main, 'piv/wt');
    expect(commits.map((c) => c.task).sort()).toEqual(ids); // one commit per task on the feature branch
    const order = new Map(commits.map((c, i) => [c.task, i]));
    for (const [id, deps] of plan.deps) for (const d of deps) expect(order.get(d)!, `${d} lands before ${id}`).toBeLessThan(order.get(id)!);
    // Every agent worked, in its own tree, and some landings had to be rebased onto a tip another agent moved.
    expect(new Set(events.filter((e) => e.event === 'done').map((e) => e.agent))).toEqual(new Set(agents));
    expect(events.some((e) => e.event === 'done' && e.rebased)).toBe(true);
    // Each task commit holds exactly that task's file and its YAML.
    for (const { hash, task } of commits) expect(git(main, 'show', '--name-only', '--format=', hash).trim().split('\n').sort()).toEqual([`.agents/tasks/${task}.yaml`, `out/${task}.txt`]);

    // The main tree reads the swarm's state from the branch; merged, it passes the gate.
    expect(piv(main, ['status', '--json']).json.result).toMatchObject({ swarm: { branch: 'piv/wt' }, progress: { total: 40, done: 40 } });
    git(main, 'merge', '-q', '--ff-only', 'piv/wt');
    expect(piv(main, ['validate', '--stage', 'state,tasks', '--no-report']).code).toBe(0);
    for (const a of agents) expect(gitStatus(`${main}.piv/${a}`)).toEqual([]);

    // Prune: every agent is done and landed, so every tree and agent branch goes; the feature branch stays.
    const pruned = piv(main, ['worktree', 'prune', '--json']).json.result;
    expect(pruned.removed.map((r: { agent: string }) => r.agent).sort()).toEqual(agents);
    expect(pruned.kept).toEqual([]);
    expect(git(main, 'branch', '--list', 'piv-agent/*').trim()).toBe('');
    expect(git(main, 'rev-parse', '--verify', 'piv/wt').trim()).toMatch(/^[0-9a-f]{40}$/);
    console.log(`[bench] worktrees: 4 agents completed 40 tasks in ${seconds.toFixed(1)} s; ${events.filter((e) => e.event === 'done' && e.rebased).length} landings rebased`);
  }, 300_000);

  it('a landing that conflicts leaves the task claimed, nothing half-merged, and names the files', async () => {
    swarm = plannedRepo('clash', `tasks:\n  - id: task-001\n    name: One\n    files: [shared.txt]\n    verify: test -f shared.txt\n  - id: task-002\n    name: Two\n    files: [shared.txt]\n    verify: test -f shared.txt\n`);
    const main = swarm.main;
    const a = piv(main, ['execute', '--worktree', '--agent', 'a', '--json']).json.result;
    const b = piv(main, ['execute', '--worktree', '--agent', 'b', '--json']).json.result;
    expect([a.task.id, b.task.id]).toEqual(['task-001', 'task-002']);
    write(a.swarm.worktree, { 'shared.txt': 'from a\n' });
    write(b.swarm.worktree, { 'shared.txt': 'from b\n' });
    expect(piv(a.swarm.worktree, ['done', 'task-001']).code).toBe(0);
    const tip = git(main, 'rev-parse', 'piv/clash').trim();

    const clash = piv(b.swarm.worktree, ['done', 'task-002', '--json']);
    expect(clash.code).toBe(3);
    expect(clash.json.error).toMatchObject({ code: 'conflict', details: { task: 'task-002', files: ['shared.txt'] } });
    expect(clash.json.error.message).toBe('task-002 cannot land on piv/clash: shared.txt changed there too');
    expect(git(main, 'rev-parse', 'piv/clash').trim()).toBe(tip); // nothing landed
    const status = piv(main, ['status', '--json']).json.result;
    expect(status.in_progress).toMatchObject([{ id: 'task-002', owner: 'b' }]); // still claimed
    expect(read(b.swarm.worktree, 'shared.txt')).toBe('from b\n'); // the work is kept, uncommitted
    expect(gitStatus(b.swarm.worktree)).toEqual(['?? shared.txt']);
    expect(git(b.swarm.worktree, 'log', '-1', '--format=%s').trim()).toBe('chore(piv): claim task-002 for b'); // local commit undone
    expect(clash.json.error.hint).toContain('git merge piv/clash');

    // Resolve as the hint says: piv sync commits the work and merges the branch in, leaving markers where both changed.
    const wt = b.swarm.worktree;
    expect(clash.json.error.hint).toContain('piv sync');
    const synced = piv(wt, ['sync', '--json']);
    expect(synced.code).toBe(3);
    expect(synced.json.result).toMatchObject({ agent: 'b', branch: 'piv/clash', tip, outcome: 'conflicts', conflicts: ['shared.txt'], commit: null });
    expect(git(wt, 'log', '-1', '--format=%s', synced.json.result.wip_commit).trim()).toBe("wip(piv): b's work before merging piv/clash");
    expect(read(wt, 'shared.txt')).toMatch(/^<<<<<<< HEAD\nfrom b\n=======\nfrom a\n>>>>>>> [0-9a-f]{40}\n$/);
    // Markers in that file only (both added it); the rest of the branch merged and staged (a's completed task-001).
    expect(gitStatus(wt)).toEqual(['M  .agents/tasks/task-001.yaml', 'AA shared.txt']);
    // Again before resolving: the same conflicts, nothing committed (the markers never reach a commit).
    const again = piv(wt, ['sync', '--json']);
    expect([again.code, again.json.result.outcome, again.json.result.conflicts, again.json.result.wip_commit]).toEqual([3, 'conflicts', ['shared.txt'], null]);
    write(wt, { 'shared.txt': 'from a\nfrom b\n' });
    git(wt, 'add', 'shared.txt');
    const uncommitted = piv(wt, ['sync', '--json']);
    expect([uncommitted.code, uncommitted.json.error.code]).toEqual([2, 'usage']); // resolved, not yet committed
    git(wt, 'commit', '-qm', 'merge piv/clash');
    expect(piv(wt, ['sync', '--json']).json.result).toMatchObject({ outcome: 'up_to_date', wip_commit: null });
    expect(piv(wt, ['done', 'task-002']).code).toBe(0);
    expect(git(main, 'show', 'piv/clash:shared.txt')).toBe('from a\nfrom b\n');
    expect(taskCommitsOn(main, 'piv/clash').map((c) => c.task)).toEqual(['task-001', 'task-002']);
  }, 120_000);

  it('piv sync merges a feature branch that moved without a conflict, and runs only in an agent tree of a swarm', () => {
    swarm = plannedRepo('drift', `tasks:\n  - id: task-001\n    name: One\n    files: [one.txt]\n    verify: test -f one.txt\n  - id: task-002\n    name: Two\n    files: [two.txt]\n    verify: test -f two.txt\n`);
    const main = swarm.main;
    const notYet = piv(main, ['sync', '--json']);
    expect([notYet.code, notYet.json.error.code]).toEqual([2, 'usage']); // no swarm yet: the files are the state
    const a = piv(main, ['execute', '--worktree', '--agent', 'a', '--json']).json.result;
    const b = piv(main, ['execute', '--worktree', '--agent', 'b', '--json']).json.result;
    expect(piv(b.swarm.worktree, ['sync', '--json']).json.result).toMatchObject({ outcome: 'up_to_date', wip_commit: null, conflicts: [] });
    write(a.swarm.worktree, { 'one.txt': 'one\n' });
    expect(piv(a.swarm.worktree, ['done', 'task-001']).code).toBe(0);
    write(b.swarm.worktree, { 'two.txt': 'two\n' });
    const synced = piv(b.swarm.worktree, ['sync', '--json']);
    expect(synced.code).toBe(0);
    expect(synced.json.result).toMatchObject({ agent: 'b', branch: 'piv/drift', tip: git(main, 'rev-parse', 'piv/drift').trim(), outcome: 'merged', conflicts: [] });
    expect(read(b.swarm.worktree, 'one.txt')).toBe('one\n'); // a's landed work, merged in
    expect(gitStatus(b.swarm.worktree)).toEqual([]);
    expect(piv(b.swarm.worktree, ['done', 'task-002']).code).toBe(0);
    expect(taskCommitsOn(main, 'piv/drift').map((c) => c.task)).toEqual(['task-001', 'task-002']);
    // The main tree is not an agent's: it follows the branch through piv itself.
    const inMain = piv(main, ['sync', '--json']);
    expect([inMain.code, inMain.json.error.code]).toEqual([2, 'usage']);
  }, 120_000);

  it('an expired claim is taken over only with --steal-expired, recorded; the old owner is told it lost it', () => {
    // A lease of 30 ms: it has ended by the next command.
    swarm = plannedRepo('steal', 1, { config: (t) => t.replace(/lease_minutes: \d+/, 'lease_minutes: 0.0005') });
    const main = swarm.main;
    const a = piv(main, ['execute', '--worktree', '--agent', 'a', '--json']).json.result;
    const b0 = piv(main, ['execute', '--worktree', '--agent', 'b', '--json']).json.result;
    expect([b0.outcome, b0.stall.in_progress[0]]).toEqual(['none_ready', expect.objectContaining({ id: 'task-001', owner: 'a' })]);
    const b = piv(main, ['execute', '--worktree', '--agent', 'b', '--steal-expired', '--json']).json.result;
    expect([b.outcome, b.task.id, b.task.owner]).toEqual(['taken_over', 'task-001', 'b']);
    expect(b.task.notes.at(-1)).toMatch(/claim of a expired at .*; taken over by b$/);
    write(a.swarm.worktree, { 'one.txt': 'a was here\n' });
    const lost = piv(a.swarm.worktree, ['done', 'task-001', '--json']);
    expect([lost.code, lost.json.error.code]).toEqual([3, 'conflict']);
    expect(lost.json.error.message).toBe('task-001 is claimed by b, not by a');
  });
});
