// The swarm's smaller verbs and rules: heartbeat, agents, release on the branch, --also, exact staging, ids allocated on the
// feature branch, a task completed twice, conflict markers — each on a real repository through the built CLI.
import { afterEach, describe, expect, it } from 'vitest';
import { commitFiles, edit, git, gitStatus, piv, pivAsync, taskYaml, write } from '../helpers/repo.js';
import { plannedRepo, taskCommitsOn, type Swarm } from '../helpers/swarm.js';

let swarm: Swarm | null = null;
afterEach(() => {
  swarm?.cleanup(); // with the agents' trees
  swarm = null;
});
const claimIn = (main: string, agent: string) => piv(main, ['execute', '--worktree', '--agent', agent, '--json']).json.result;

describe('one working tree', () => {
  it('done commits exactly the declared files; --also takes one more; another claim’s declared file is never taken', () => {
    swarm = plannedRepo('exact', `tasks:\n  - id: task-001\n    name: One\n    files: [src/one/]\n    verify: test -f src/one/a.txt\n  - id: task-002\n    name: Two\n    verify: "true"\n  - id: task-003\n    name: Three\n    files: [three.txt]\n    verify: "true"\n`);
    const dir = swarm.main;
    for (const [agent, task] of [['a', 'task-001'], ['b', 'task-002'], ['c', 'task-003']]) expect(piv(dir, ['execute', '--agent', agent!, '--task', task!, '--json']).code).toBe(0);
    write(dir, { 'src/one/a.txt': 'a\n', 'src/one/new/b.txt': 'b\n', 'notes.md': 'scratch\n', 'extra.txt': 'x\n', 'three.txt': 'c is working on it\n' });

    const one = piv(dir, ['done', 'task-001', '--agent', 'a', '--also', 'extra.txt', '--json']).json.result;
    expect(commitFiles(dir)).toEqual(['.agents/state/session.yaml', '.agents/tasks/task-001.yaml', 'extra.txt', 'src/one/a.txt', 'src/one/new/b.txt']); // new files under a declared folder
    expect(one.left_uncommitted).toEqual(['.agents/tasks/task-002.yaml', '.agents/tasks/task-003.yaml', 'notes.md', 'three.txt']);

    // task-002 declares no files: it takes every change but what another claimed task declares (three.txt is c's).
    const two = piv(dir, ['done', 'task-002', '--agent', 'b', '--json']).json.result;
    expect(two.committed_paths).toEqual(['.agents/tasks/task-002.yaml', 'notes.md']);
    expect(gitStatus(dir)).toEqual([' M .agents/tasks/task-003.yaml', '?? three.txt']);
  });

  it('heartbeat renews the leases an agent holds; agents lists who holds what', () => {
    swarm = plannedRepo('beat', 2, { config: (t) => t.replace(/lease_minutes: \d+/, 'lease_minutes: 10') });
    const dir = swarm.main;
    const a = piv(dir, ['execute', '--agent', 'a', '--json']).json.result;
    piv(dir, ['execute', '--agent', 'b', '--json']);
    edit(dir, `.agents/tasks/${a.task.id}.yaml`, (t) => t.replace(/^lease_expires_at: .*$/m, 'lease_expires_at: 2020-01-01T00:00:00.000Z'));
    expect(piv(dir, ['agents', '--json']).json.result.agents.map((x: any) => [x.agent, x.tasks.map((t: any) => [t.id, t.expired])])).toEqual([
      ['a', [[a.task.id, true]]],
      ['b', [['task-002', false]]],
    ]);
    const beat = piv(dir, ['heartbeat', '--agent', 'a', '--json']).json.result;
    expect(beat.renewed.map((r: any) => r.id)).toEqual([a.task.id]);
    expect(Date.parse(taskYaml(dir, a.task.id).lease_expires_at)).toBeGreaterThan(Date.now() + 9 * 60_000);
    expect(piv(dir, ['agents']).stdout).toMatch(/\| a +\| task-001 +\| until 20\d\d-/);
    expect(piv(dir, ['heartbeat', '--agent', 'nobody', '--json']).json.result.renewed).toEqual([]);
  });

  it('a task file with merge conflict markers is refused naming the file, the line and what happened', () => {
    swarm = plannedRepo('markers', 1);
    const dir = swarm.main;
    edit(dir, '.agents/tasks/task-001.yaml', (t) => t.replace(/^name: One$/m, '<<<<<<< HEAD\nname: One\n=======\nname: Uno\n>>>>>>> other'));
    const r = piv(dir, ['status', '--json']);
    expect(r.code).toBe(2);
    expect(r.json.error.message).toMatch(/^\.agents\/tasks\/task-001\.yaml:\d+: unresolved merge conflict markers/);
    expect(r.json.error.hint).toContain('ids collided');
  });
});

describe('a swarm on one machine', () => {
  it('release on the branch frees the task for another agent; the agents and their trees are listed', () => {
    swarm = plannedRepo('rel', 1);
    const main = swarm.main;
    const a = claimIn(main, 'a');
    expect(piv(a.swarm.worktree, ['release', 'task-001', '--json']).json.result).toMatchObject({ from: 'in_progress', to: 'pending', commit: expect.any(String) });
    const b = claimIn(main, 'b');
    expect([b.outcome, b.task.id]).toEqual(['claimed', 'task-001']);
    const agents = piv(main, ['agents', '--json']).json.result;
    expect(agents.branch).toBe('piv/rel');
    expect(agents.agents.map((x: any) => [x.agent, x.tasks.map((t: any) => t.id), x.worktree])).toEqual([
      ['a', [], a.swarm.worktree],
      ['b', ['task-001'], b.swarm.worktree],
    ]);
    const history = git(main, 'log', '--format=%s', 'piv/rel').trim().split('\n');
    expect(history.slice(0, 3)).toEqual(['chore(piv): claim task-001 for b', 'chore(piv): release task-001 (a)', 'chore(piv): claim task-001 for a']);
    // Prune keeps b (it holds a task) and removes a (idle, everything landed).
    const pruned = piv(main, ['worktree', 'prune', '--json']).json.result;
    expect(pruned.removed.map((r: any) => r.agent)).toEqual(['a']);
    expect(pruned.kept).toEqual([expect.objectContaining({ agent: 'b', reason: 'holds task-001' })]);
  });

  it('resume in an agent tree with a task file broken by hand repairs nothing there and still resumes (the swarm reads the branch)', () => {
    swarm = plannedRepo('broken', 2);
    const a = claimIn(swarm.main, 'a');
    edit(a.swarm.worktree, '.agents/tasks/task-002.yaml', (t) => t.replace(/^priority: .*$/m, 'priority: high: oops'));
    const resumed = piv(a.swarm.worktree, ['resume', '--no-baseline', '--json']);
    expect([resumed.code, resumed.stderr]).toEqual([0, '']);
    expect(resumed.json.result.repairs).toEqual([]);
    expect(resumed.json.result.current).toMatchObject({ id: a.task.id, owner: 'a' });
  });

  it('two agents adding tasks at once get different ids: the plan lands on the branch by compare-and-swap', async () => {
    swarm = plannedRepo('ids', 1);
    const main = swarm.main;
    const [a, b] = [claimIn(main, 'a'), claimIn(main, 'b')];
    const extra = (name: string) => `tasks:\n  - name: ${name}\n    verify: "true"\n`;
    const [pa, pb] = await Promise.all([pivAsync(a.swarm.worktree, ['plan', '-', '--add', '--json'], { input: extra('From a') }), pivAsync(b.swarm.worktree, ['plan', '-', '--add', '--json'], { input: extra('From b') })]);
    expect([pa.code, pb.code, pa.stderr, pb.stderr]).toEqual([0, 0, '', '']);
    const status = piv(main, ['status', '--json']).json.result;
    const names = Object.fromEntries(status.tasks.map((t: any) => [t.name, t.id]));
    expect(Object.keys(names).sort()).toEqual(['From a', 'From b', 'One']);
    expect(new Set(Object.values(names)).size).toBe(3); // no id given twice
  });

  it('validate reports a task completed twice (two commits carry its trailer)', () => {
    swarm = plannedRepo('twice', 1);
    const dir = swarm.main;
    piv(dir, ['execute']);
    write(dir, { 'one.txt': '1\n' });
    expect(piv(dir, ['done', 'task-001']).code).toBe(0);
    git(dir, 'commit', '-q', '--allow-empty', '-m', 'feat: One again\n\nPiv-Task: task-001\nPiv-Feature: twice');
    const r = piv(dir, ['validate', '--stage', 'tasks', '--no-report', '--json']);
    expect(r.code).toBe(1);
    expect(r.json.result.stages[0].problems).toEqual([expect.stringMatching(/^task-001 was completed 2 times \(commits [0-9a-f]{7}, [0-9a-f]{7}\); it was reopened 0 times$/)]);
    expect(taskCommitsOn(dir, 'HEAD')).toHaveLength(2);
  });
});
