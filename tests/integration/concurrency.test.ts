// Proof, one working tree: 16 agent processes claim from a 200-task graph at once. Every task is claimed exactly once and
// completed exactly once, every task file stays valid, and history holds one commit per task.
import { afterAll, describe, expect, it } from 'vitest';
import { cloneRepo, git, gitStatus, piv, taskYaml } from '../helpers/repo.js';
import { plannedRepo, randomPlan, runWorkers, taskCommitsOn, type Swarm } from '../helpers/swarm.js';

const AGENTS = 16;
const TASKS = 200;
const swarms: Swarm[] = [];
const cleanups: (() => void)[] = [];
afterAll(() => {
  for (const s of swarms) s.cleanup();
  for (const c of cleanups) c();
});

describe('16 agents in one working tree', () => {
  // Independent tasks: the claim race itself, repeated on fresh copies of one planned repository.
  const independent = () => {
    const s = plannedRepo('race', randomPlan(TASKS, 7, 0).text);
    swarms.push(s);
    return s.main;
  };
  let raceRepo = '';

  it.each([1, 2, 3])(`claim race #%i: ${AGENTS} processes claim all ${TASKS} ready tasks, each exactly once`, async () => {
    raceRepo ||= independent();
    const copy = cloneRepo(raceRepo);
    cleanups.push(copy.cleanup);
    const dir = copy.dir;
    const started = Date.now();
    const { events, codes, stderr } = await runWorkers(Array.from({ length: AGENTS }, (_, i) => ({ cwd: dir, agent: `a${i + 1}`, claimOnly: true })), 300_000);
    const seconds = (Date.now() - started) / 1000;
    expect(events.filter((e) => e.event === 'error')).toEqual([]);
    expect([codes, stderr]).toEqual([Array(AGENTS).fill(0), '']);
    const all = events.filter((e) => e.event === 'claimed');
    expect(all).toHaveLength(TASKS);
    expect(new Set(all.map((e) => e.task)).size).toBe(TASKS); // nobody got a task another agent had
    for (const e of all) expect(taskYaml(dir, e.task!)).toMatchObject({ status: 'in_progress', owner: e.as }); // the file says who won
    expect(new Set(all.map((e) => e.agent)).size).toBeGreaterThan(1); // the processes really competed
    console.log(`[bench] claim race: ${AGENTS} processes, ${TASKS} claims in ${seconds.toFixed(1)} s (${(TASKS / seconds).toFixed(0)} claims/s)`);
    const status = piv(dir, ['status', '--json']).json.result;
    expect(status.progress.counts).toMatchObject({ in_progress: TASKS, pending: 0 });
    expect(piv(dir, ['validate', '--stage', 'state', '--no-report']).code).toBe(0);
  }, 300_000);

  it(`${AGENTS} processes complete a ${TASKS}-task graph with dependencies: one commit per task, dependencies first`, async () => {
    const plan = randomPlan(TASKS, 11, 3);
    const s = plannedRepo('graph', plan.text);
    swarms.push(s);
    const started = Date.now();
    const { events, codes, stderr } = await runWorkers(Array.from({ length: AGENTS }, (_, i) => ({ cwd: s.main, agent: `a${i + 1}` })), 600_000);
    const seconds = (Date.now() - started) / 1000;
    expect(events.filter((e) => e.event === 'error')).toEqual([]);
    expect(stderr).toBe('');
    expect(codes).toEqual(Array(AGENTS).fill(0));

    const claimed = events.filter((e) => e.event === 'claimed').map((e) => e.task!);
    const completed = events.filter((e) => e.event === 'done').map((e) => e.task!);
    expect(claimed.sort()).toEqual([...plan.deps.keys()].sort()); // every task claimed exactly once
    expect(completed.sort()).toEqual([...plan.deps.keys()].sort()); // and completed exactly once

    const commits = taskCommitsOn(s.main, 'HEAD');
    expect(commits.map((c) => c.task).sort()).toEqual([...plan.deps.keys()].sort()); // one commit per task
    const order = new Map(commits.map((c, i) => [c.task, i]));
    for (const [id, deps] of plan.deps) for (const d of deps) expect(order.get(d)!, `${d} before ${id}`).toBeLessThan(order.get(id)!);
    // Each commit holds its own task's file and YAML, never another agent's (the session file travels with the first one).
    for (const { hash, task } of commits) expect(git(s.main, 'show', '--name-only', '--format=', hash).trim().split('\n').filter((f) => f !== '.agents/state/session.yaml').sort()).toEqual([`.agents/tasks/${task}.yaml`, `out/${task}.txt`]);
    for (const id of ['task-001', 'task-100', 'task-200']) expect(taskYaml(s.main, id)).toMatchObject({ status: 'completed' });
    expect(piv(s.main, ['validate', '--stage', 'state,tasks', '--no-report']).code).toBe(0);
    expect(gitStatus(s.main)).toEqual([]); // nothing left behind
    console.log(`[bench] one tree: ${AGENTS} agents completed ${TASKS} tasks in ${seconds.toFixed(1)} s (${(TASKS / seconds).toFixed(1)} claim+complete/s)`);
  }, 600_000);
});
