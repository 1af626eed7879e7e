// A swarm on branches merges cleanly: each agent writes only its own state file, and shared session edits are identical.
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { agentYaml, git, piv, tempRepo, write } from '../helpers/repo.js';

const PLAN = `tasks:
  - id: task-001
    name: One
    files: [one.txt]
    verify: test -f one.txt
  - id: task-002
    name: Two
    files: [two.txt]
    verify: test -f two.txt
`;

describe('two agents on two branches', () => {
  let repo: { dir: string; cleanup: () => void };
  let other = '';
  afterEach(() => {
    if (other) git(repo.dir, 'worktree', 'remove', '--force', other);
    rmSync(other, { recursive: true, force: true });
    repo.cleanup();
  });

  it('each completes a task and pauses; merging the branches has no conflict in .agents/', () => {
    repo = tempRepo();
    const main = repo.dir;
    piv(main, ['init', '--agents', 'none']);
    piv(main, ['discuss', 'merge']);
    expect(piv(main, ['plan', '-'], { input: PLAN }).code).toBe(0);
    git(main, 'add', '-A');
    git(main, 'commit', '-qm', 'plan');
    other = `${main}-b`;
    git(main, 'worktree', 'add', '-q', other, '-b', 'b');

    for (const [dir, agent, file, tokens] of [[main, 'a', 'one.txt', '100'], [other, 'b', 'two.txt', '200']] as const) {
      expect(piv(dir, ['execute', '--agent', agent]).code).toBe(0);
      write(dir, { [file]: `${agent}\n` });
      const done = piv(dir, ['done', file === 'one.txt' ? 'task-001' : 'task-002', '--agent', agent, '--tokens', tokens]);
      expect(done.code).toBe(0);
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
