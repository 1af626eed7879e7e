// The state cache through the shipped CLI: never committed (even where .agents/.gitignore predates it), and every answer is the one the files give without it.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { commitAll, commitFiles, completeNext, edit, exists, git, gitStatus, piv, seedRepo, tempRepo } from '../helpers/repo.js';

const noCache = { PIV_CACHE: 'off' };

describe('the state cache (.agents/.cache)', () => {
  let repo: { dir: string; cleanup: () => void };
  afterEach(() => repo.cleanup());

  it('is never committed by done, pause or git add -A, in a repository whose .agents/.gitignore does not name it', async () => {
    repo = tempRepo();
    const { dir } = repo;
    seedRepo(dir);
    edit(dir, '.agents/.gitignore', (t) => t.replace('.cache/\n', ''));
    commitAll(dir, 'piv state as an older piv left it');

    expect(piv(dir, ['status']).code).toBe(0);
    expect(exists(dir, '.agents/.cache/tasks-0.json')).toBe(true);
    expect(gitStatus(dir)).toEqual([]);

    const id = await completeNext(dir);
    expect(commitFiles(dir)).toContain(`.agents/tasks/${id}.yaml`);
    expect(commitFiles(dir).filter((f) => f.includes('.cache'))).toEqual([]);

    expect(piv(dir, ['execute']).code).toBe(0);
    writeFileSync(path.join(dir, 'wip.txt'), 'half done\n');
    expect(piv(dir, ['pause', '--note', 'lunch']).code).toBe(0);
    expect(commitFiles(dir)).toContain('wip.txt');
    expect(commitFiles(dir).filter((f) => f.includes('.cache'))).toEqual([]);

    git(dir, 'add', '-A');
    expect(git(dir, 'ls-files', '.agents/.cache')).toBe('');
    expect(gitStatus(dir)).toEqual([]);
  });

  it('status, execute and validate give what they give without it, across claims and hand edits', () => {
    repo = tempRepo();
    const { dir } = repo;
    seedRepo(dir);
    const same = (args: string[]) => {
      const cached = piv(dir, [...args, '--json']);
      const plain = piv(dir, [...args, '--json'], { env: noCache });
      expect(cached.code).toBe(plain.code);
      const timeless = (json: unknown) => JSON.parse(JSON.stringify(json, (k, v) => (k === 'duration_ms' ? 0 : v)));
      expect(timeless(cached.json)).toEqual(timeless(plain.json));
      return cached.json;
    };
    same(['status']);
    expect(piv(dir, ['execute', '--json']).json.result.task.id).toBe('task-001');
    expect(same(['status']).result.in_progress.map((t: { id: string }) => t.id)).toEqual(['task-001']);
    // A hand edit of a task the cache holds: same size, so only the stat's ctime tells.
    const size = readFileSync(path.join(dir, '.agents/tasks/task-003.yaml')).length;
    edit(dir, '.agents/tasks/task-003.yaml', (t) => t.replace('priority: high', 'priority: low '));
    expect(readFileSync(path.join(dir, '.agents/tasks/task-003.yaml')).length).toBe(size);
    expect(same(['status']).result.tasks.find((t: { id: string }) => t.id === 'task-003').priority).toBe('low');
    // A hand-broken file: the same error, file and line, from both.
    edit(dir, '.agents/tasks/task-004.yaml', (t) => t.replace('status: pending', 'status: finished'));
    const broken = same(['status']);
    expect(broken.error).toMatchObject({ code: 'invalid_file', file: '.agents/tasks/task-004.yaml', field: 'status' });
    expect(same(['validate', '--stage', 'state', '--no-report']).result.stages[0].status).toBe('failed');
  });
});
