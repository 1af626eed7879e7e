// Proof, several machines: three clones of one bare remote (a real git remote on this machine) claim and complete one graph
// at once through swarm.remote. Every claim and completion is a push by compare-and-swap: no task done twice, no update lost.
import { chmodSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { git, piv, pivAsync, write } from '../helpers/repo.js';
import { plannedRepo, randomPlan, runWorkers, taskCommitsOn, type Swarm } from '../helpers/swarm.js';

let swarm: Swarm | null = null;
afterEach(() => {
  swarm?.cleanup();
  swarm = null;
});

const withRemote = (t: string) => t.replace(/^  remote: null.*$/m, '  remote: origin');

describe('clones on three machines sharing one remote', () => {
  it('3 clones complete a 24-task graph concurrently: each task claimed and completed once, one commit per task on the remote', async () => {
    const plan = randomPlan(24, 9, 2);
    swarm = plannedRepo('machines', plan.text, { config: withRemote });
    const clones = ['m1', 'm2', 'm3'].map((name) => swarm!.clone(name));
    const started = Date.now();
    const { events, codes, stderr } = await runWorkers(clones.map((cwd, i) => ({ cwd, agent: `m${i + 1}` })), 300_000);
    const seconds = (Date.now() - started) / 1000;
    expect(events.filter((e) => e.event === 'error')).toEqual([]);
    expect([codes, stderr]).toEqual([[0, 0, 0], '']);

    const ids = [...plan.deps.keys()].sort();
    const claims = events.filter((e) => e.event === 'claimed').map((e) => e.task);
    expect(claims.sort()).toEqual(ids); // no task claimed twice
    expect(events.filter((e) => e.event === 'done').map((e) => e.task).sort()).toEqual(ids); // none done twice
    const remote = swarm.remote();
    const commits = taskCommitsOn(remote, 'piv/machines');
    expect(commits.map((c) => c.task).sort()).toEqual(ids);
    const order = new Map(commits.map((c, i) => [c.task, i]));
    for (const [id, deps] of plan.deps) for (const d of deps) expect(order.get(d)!, `${d} before ${id}`).toBeLessThan(order.get(id)!);
    expect(new Set(events.filter((e) => e.event === 'done').map((e) => e.agent)).size).toBe(3);

    // No lost update: the remote's state has every task completed by the agent that claimed it, every attempt recorded.
    const status = piv(clones[0]!, ['status', '--json']).json.result;
    expect(status).toMatchObject({ swarm: { branch: 'piv/machines', remote: 'origin' }, progress: { total: 24, done: 24 } });
    const owners = new Map(events.filter((e) => e.event === 'claimed').map((e) => [e.task, e.agent]));
    for (const t of status.tasks) expect(t.owner, t.id).toBe(owners.get(t.id));
    console.log(`[bench] machines: 3 clones completed 24 tasks through one remote in ${seconds.toFixed(1)} s`);
  }, 300_000);

  it('two clones claiming at the same instant get different tasks; a push the remote refuses is an error, not a lost race', async () => {
    swarm = plannedRepo('race', 3, { config: withRemote });
    const [c1, c2] = [swarm.clone('c1'), swarm.clone('c2')];
    const [r1, r2] = await Promise.all([pivAsync(c1, ['execute', '--agent', 'x', '--json']), pivAsync(c2, ['execute', '--agent', 'y', '--json'])]);
    expect([r1.code, r2.code]).toEqual([0, 0]);
    expect(new Set([r1.json.result.task.id, r2.json.result.task.id]).size).toBe(2);

    // A pre-receive hook that refuses every push: the claim fails loudly (exit 1), it does not count as a lost race.
    write(swarm.remote(), { 'hooks/pre-receive': '#!/bin/sh\necho "frozen by policy" >&2\nexit 1\n' });
    git(swarm.remote(), 'config', 'core.hooksPath', 'hooks');
    chmodSync(`${swarm.remote()}/hooks/pre-receive`, 0o755);
    const c3 = swarm.clone('c3');
    const refused = piv(c3, ['execute', '--agent', 'z', '--json']);
    expect(refused.code).toBe(1);
    expect(refused.json.error.code).toBe('git_failed');
    expect(refused.json.error.message).toMatch(/pre-receive hook declined|frozen by policy/);
  }, 120_000);
});
