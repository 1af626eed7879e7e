// Several agents at once, as real concurrent processes (child_process.spawn): the state lock must give every task to
// one agent only, and parallel completions must each land in their own commit without losing an update.
import { afterEach, describe, expect, it } from 'vitest';
import { agentYaml, commitAll, commitCount, commitFiles, git, gitStatus, piv, pivAsync, read, sessionYaml, taskYaml, tempRepo, write, exists, type CliResult } from '../helpers/repo.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** A repository with piv initialized, a session and `plan` planned. */
function planned(plan: string): string {
  const { dir, cleanup } = tempRepo();
  cleanups.push(cleanup);
  for (const args of [['init'], ['discuss', 'swarm'], ['plan', '-']]) {
    const r = piv(dir, args, { input: plan });
    if (r.code !== 0) throw new Error(`piv ${args.join(' ')}: ${r.stderr}`);
  }
  return dir;
}

const task = (n: number, extra = '') => `  - id: task-00${n}
    name: Task ${n}
    priority: high
    files: [out/t${n}.txt]
    verify: test -f out/t${n}.txt
    estimated_tokens: 1000
${extra}`;

describe('swarm', () => {
  it('6 agents run execute at once on 4 ready tasks: 4 distinct claims, 2 none_ready, every file still valid', async () => {
    const dir = planned(`tasks:\n${task(1)}${task(2)}${task(3)}${task(4)}${task(5, '    blocked_by: [task-001]\n')}`);
    const agents = ['a1', 'a2', 'a3', 'a4', 'a5', 'a6'];
    const results: CliResult[] = await Promise.all(agents.map((agent) => pivAsync(dir, ['execute', '--agent', agent, '--json'])));

    results.forEach((r, i) => expect([agents[i], r.code, r.stderr]).toEqual([agents[i], 0, '']));
    const outcomes = results.map((r) => r.json.result);
    const claimed = outcomes.filter((o) => o.outcome === 'claimed');
    const idle = outcomes.filter((o) => o.outcome !== 'claimed');
    expect(claimed).toHaveLength(4);
    expect(claimed.map((o) => o.task.id).sort()).toEqual(['task-001', 'task-002', 'task-003', 'task-004']);
    expect(idle).toHaveLength(2);
    for (const o of idle) {
      expect(o.outcome).toBe('none_ready');
      expect(o.task).toBeNull();
      expect(o.stall.waiting).toEqual([{ id: 'task-005', waiting_on: ['task-001'] }]);
    }
    // What each agent was told is what the files say: one owner per task, and the claims agree with the answers.
    for (const o of claimed) expect(taskYaml(dir, o.task.id)).toMatchObject({ status: 'in_progress', owner: o.agent, lease_expires_at: o.task.lease_expires_at });
    expect(taskYaml(dir, 'task-005')).toMatchObject({ status: 'pending', owner: null });
    expect(new Set(claimed.map((o) => o.agent)).size).toBe(4);

    const state = piv(dir, ['validate', '--stage', 'state', '--json']);
    expect(state.code).toBe(0);
    expect(state.json.result.stages[0]).toMatchObject({ name: 'state', status: 'passed', problems: [] });
    const status = piv(dir, ['status', '--json']).json.result;
    expect(status.progress.counts).toMatchObject({ in_progress: 4, pending: 1 });
    expect(sessionYaml(dir).phase).toBe('execute');
    expect(exists(dir, '.agents/.lock/held')).toBe(false); // released
    expect(exists(dir, '.agents/.lock/owner')).toBe(false);
  });

  it('2 agents complete two tasks at the same time: both commits land, each holds only its own files, no update lost', async () => {
    const dir = planned(`tasks:\n${task(1)}${task(2)}`);
    const claims = await Promise.all(['a', 'b'].map((agent) => pivAsync(dir, ['execute', '--agent', agent, '--json'])));
    const owner = new Map<string, string>(claims.map((r) => [r.json.result.task.id, r.json.result.agent]));
    expect([...owner.keys()].sort()).toEqual(['task-001', 'task-002']);
    commitAll(dir, 'chore: piv state'); // so each task commit holds exactly what its done adds
    write(dir, { 'out/t1.txt': 'one\n', 'out/t2.txt': 'two\n' });
    const count = commitCount(dir);

    const tokens: Record<string, number> = { 'task-001': 1100, 'task-002': 2500 };
    const done = await Promise.all(
      ['task-001', 'task-002'].map((id) => pivAsync(dir, ['done', id, '--agent', owner.get(id)!, '--tokens', String(tokens[id]), '--json'])),
    );
    done.forEach((r) => expect([r.code, r.stderr, r.json?.result?.passed]).toEqual([0, '', true]));
    expect(commitCount(dir)).toBe(count + 2);

    for (const [id, n] of [['task-001', 1], ['task-002', 2]] as const) {
      const hash = git(dir, 'log', '--format=%H', `--grep=^Piv-Task: ${id}$`).trim();
      expect(hash.split('\n')).toHaveLength(1);
      expect(git(dir, 'log', '-1', '--format=%s', hash).trim()).toBe(`feat: Task ${n}`);
      // each commit holds its task, its file and its own agent's usage, never the other agent's
      expect(commitFiles(dir, hash)).toEqual([`.agents/state/agents/${owner.get(id)}.yaml`, `.agents/tasks/${id}.yaml`, `out/t${n}.txt`]);
      expect(git(dir, 'show', `${hash}:.agents/tasks/${id}.yaml`)).toMatch(/^status: completed$/m);
      expect(taskYaml(dir, id)).toMatchObject({ status: 'completed', owner: owner.get(id), actual_tokens: tokens[id] });
      expect(taskYaml(dir, id).attempts).toHaveLength(1);
    }
    // Each agent's usage is in its own file (no shared hot file), committed with its task; the feature total sums them.
    for (const id of ['task-001', 'task-002']) expect(agentYaml(dir, owner.get(id)!).sessions.at(-1).used).toBe(tokens[id]);
    const status = await pivAsync(dir, ['status', '--json']);
    expect(status.json.result.tokens.feature_total).toBe(3600);
    expect(gitStatus(dir)).toEqual([]);
  });
});
