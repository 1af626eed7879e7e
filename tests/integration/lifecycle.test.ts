// A feature's life: once every task is completed, opening the next feature archives it; until then the session is kept.
import { afterEach, describe, expect, it } from 'vitest';
import { exists, git, piv, read, tempRepo, write } from '../helpers/repo.js';

describe('feature lifecycle', () => {
  let repo: { dir: string; cleanup: () => void };
  afterEach(() => repo.cleanup());

  it('refuses a second feature while the first has open tasks, archives it once all are completed', () => {
    repo = tempRepo();
    const { dir } = repo;
    expect(piv(dir, ['init', '--agents', 'none']).code).toBe(0);
    expect(piv(dir, ['discuss', 'first', '--decide', 'Scope?=one task']).code).toBe(0);
    expect(piv(dir, ['plan', '-'], { input: 'tasks:\n  - name: Only task\n    files: [a.txt]\n    verify: test -f a.txt\n' }).code).toBe(0);

    const refused = piv(dir, ['discuss', 'second', '--json']);
    expect(refused.code).toBe(3);
    expect(refused.json.error).toMatchObject({ code: 'conflict', details: { feature: 'first' } });
    expect(refused.json.error.message).toContain('1 of 1 tasks not completed');

    expect(piv(dir, ['execute']).code).toBe(0);
    write(dir, { 'a.txt': 'done\n' });
    expect(piv(dir, ['done', 'task-001']).code).toBe(0);
    expect(git(dir, 'log', '-1', '--format=%s')).toBe('feat: Only task\n');

    const opened = piv(dir, ['discuss', 'second', '--json']);
    expect(opened.code).toBe(0);
    expect(opened.json.result).toMatchObject({ feature: 'second', opened: true, archived: '.agents/archive/first', decisions: [] });
    expect(read(dir, '.agents/archive/first/state/session.yaml')).toContain('feature: first');
    expect(read(dir, '.agents/archive/first/tasks/task-001.yaml')).toContain('status: completed');
    expect(exists(dir, '.agents/tasks/task-001.yaml')).toBe(false);
    expect(piv(dir, ['status', '--json']).json.result.progress.total).toBe(0);
  });
});
