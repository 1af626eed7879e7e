// A swarm on branches merges cleanly: each agent writes only its own state file, and shared session edits are identical.
import { afterEach, describe, expect, it } from 'vitest';
import { agentYaml, git, piv, write } from '../helpers/repo.js';
import { plannedRepo, type Swarm } from '../helpers/swarm.js';

describe('two agents on two branches', () => {
  let swarm: Swarm;
  afterEach(() => swarm.cleanup());

  it('each completes a task and pauses; merging the branches has no conflict in .agents/', () => {
    swarm = plannedRepo('merge', 2);
    const main = swarm.main;
    const other = swarm.worktree('b');

    for (const [dir, agent, id, file, tokens] of [[main, 'a', 'task-001', 'one.txt', '100'], [other, 'b', 'task-002', 'two.txt', '200']] as const) {
      expect(piv(dir, ['execute', '--agent', agent, '--task', id]).code).toBe(0); // two trees outside a swarm: each picks its own task
      write(dir, { [file]: `${agent}\n` });
      expect(piv(dir, ['done', id, '--agent', agent, '--tokens', tokens]).code).toBe(0);
      write(dir, { [`${agent}-notes.txt`]: 'half-done next step\n' }); // work in progress: pause makes a WIP commit
      expect(piv(dir, ['pause', '--agent', agent, '--note', `${agent} stops`, '--json']).json.result.commit).toEqual(expect.any(String));
    }

    git(main, 'merge', '-q', '--no-edit', 'b'); // throws on a conflict
    const status = piv(main, ['status', '--json']).json.result;
    expect(status.progress).toMatchObject({ total: 2, done: 2 });
    expect(status.tokens.feature_total).toBe(300);
    expect(agentYaml(main, 'a').checkpoints).toHaveLength(1);
    expect(agentYaml(main, 'b').checkpoints).toHaveLength(1);
    expect(piv(main, ['validate', '--stage', 'state,tasks', '--no-report']).code).toBe(0);
  });
});
