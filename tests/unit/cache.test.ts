// The state cache can only make piv faster: a stale, racy, corrupt, foreign or unwritable cache never changes an answer.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readConfig, readSession, readTask, readTasks, readTaskSummaries, readTasksCollecting, withStateLock, writeSession, writeTask } from '../../src/store/index.js';
import { shardOf } from '../../src/store/cache.js';
import { task, T0 } from './fixtures.js';

let dir = '';
const agents = () => path.join(dir, '.agents');
const taskFile = (id: string) => path.join(agents(), 'tasks', `${id}.yaml`);
const shard = (name: string) => JSON.parse(readFileSync(path.join(agents(), '.cache', `${name}.json`), 'utf8')) as { build: string; entries: Record<string, unknown[]> };
const entryOf = (id: string) => shard('tasks-0').entries[`tasks/${id}.yaml`];

/** Waits until the file system's clock is past `file`'s ctime (a probe file's mtime), so an entry read now is settled. */
function afterTick(file: string): void {
  const probe = path.join(dir, 'probe');
  const ctime = statSync(file).ctimeMs;
  for (let i = 0; i < 10_000; i++) {
    writeFileSync(probe, String(i));
    if (statSync(probe).mtimeMs > ctime) return;
  }
  throw new Error('the file system clock did not advance');
}

/** A whole second in the past: utimes restores it exactly (a Date or a float would round away the nanoseconds). */
const PAST = 1_700_000_000;

/** Rewrites a file in place with text of the same length and sets its mtime back to PAST: only ctime tells. */
function sameSizeEdit(file: string, from: string, to: string): void {
  expect(to.length).toBe(from.length);
  const before = statSync(file);
  expect(before.mtimeMs).toBe(PAST * 1000);
  const text = readFileSync(file, 'utf8');
  expect(text).toContain(from);
  writeFileSync(file, text.replace(from, to));
  utimesSync(file, PAST, PAST);
  expect(statSync(file).size).toBe(before.size);
  expect(statSync(file).mtimeMs).toBe(before.mtimeMs);
}

beforeEach(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'piv-cache-'));
  mkdirSync(path.join(agents(), 'tasks'), { recursive: true });
  writeFileSync(path.join(agents(), 'config.yaml'), 'version: 1\n');
  await writeTask(dir, task('task-001', { name: 'Alpha one' }));
  await writeTask(dir, task('task-002', { name: 'Bravo two', blocked_by: ['task-001'] }));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('the state cache', () => {
  it('is built by a read, with its own .gitignore, and answers the next read as the files do', async () => {
    const first = await readTasks(dir);
    expect(readFileSync(path.join(agents(), '.cache', '.gitignore'), 'utf8')).toMatch(/^\*$/m);
    expect(Object.keys(shard('tasks-0').entries).sort()).toEqual(['tasks/task-001.yaml', 'tasks/task-002.yaml']);
    expect(await readTasks(dir)).toEqual(first);
    expect((await readTaskSummaries(dir)).map((t) => [t.id, t.name, t.blocked_by])).toEqual([['task-001', 'Alpha one', []], ['task-002', 'Bravo two', ['task-001']]]);
    expect(await readTask(dir, 'task-002')).toEqual(first[1]);
  });

  it('a same-size rewrite with its mtime set back (utimes) is seen, even for an entry it trusted without reading', async () => {
    utimesSync(taskFile('task-001'), PAST, PAST);
    afterTick(taskFile('task-001'));
    await readTasks(dir);
    expect(entryOf('task-001')![5]).toBe(1); // settled: the next read would not open the file if the key held
    sameSizeEdit(taskFile('task-001'), 'Alpha one', 'Omega one');
    expect((await readTaskSummaries(dir))[0]!.name).toBe('Omega one');
    expect((await readTask(dir, 'task-001')).name).toBe('Omega one');
    expect((await readTasks(dir))[0]!.name).toBe('Omega one');
    sameSizeEdit(taskFile('task-001'), 'status: pending', 'status: blocked');
    expect((await readTaskSummaries(dir))[0]!.status).toBe('blocked');
  });

  it('an entry whose file is not safely older than the read is kept unsettled, and compared by content before use', async () => {
    const future = Math.floor(Date.now() / 1000) + 3600;
    utimesSync(taskFile('task-001'), future, future);
    await readTasks(dir);
    expect(entryOf('task-001')![5]).toBe(0);
    // The case no stat can tell (a rewrite in the same clock tick): the key matches the file, the bytes do not.
    utimesSync(taskFile('task-001'), PAST, PAST);
    sameSizeEdit(taskFile('task-001'), 'Alpha one', 'Delta one');
    const st = statSync(taskFile('task-001'));
    const cache = shard('tasks-0');
    const forged = cache.entries['tasks/task-001.yaml']!;
    cache.entries['tasks/task-001.yaml'] = [st.size, st.mtimeMs, st.ctimeMs, st.ino, forged[4], 0, forged[6]];
    writeFileSync(path.join(agents(), '.cache', 'tasks-0.json'), JSON.stringify(cache));
    expect((await readTaskSummaries(dir))[0]!.name).toBe('Delta one');
    expect((await readTasks(dir))[0]!.name).toBe('Delta one');
  });

  it('a corrupt or foreign cache is ignored and rebuilt', async () => {
    await readTasks(dir);
    await readConfig(dir);
    const foreign = shard('tasks-0');
    writeFileSync(path.join(agents(), '.cache', 'tasks-0.json'), '{"format":"piv-cache/1","entr');
    writeFileSync(path.join(agents(), '.cache', 'tasks-0.full.json'), '\u0000\u0001 not json');
    writeFileSync(path.join(agents(), '.cache', 'state.json'), '[1,2,3]');
    expect((await readTasks(dir)).map((t) => t.name)).toEqual(['Alpha one', 'Bravo two']);
    expect((await readConfig(dir)).version).toBe(1);
    expect(shard('tasks-0').build).toBe(foreign.build); // rewritten whole
    // Another build's cache, with entries that would match the files: never used.
    const other = { ...foreign, build: 'another-build' };
    for (const e of Object.values(other.entries)) (e[6] as unknown[])[1] = 'Wrong name';
    writeFileSync(path.join(agents(), '.cache', 'tasks-0.json'), JSON.stringify(other));
    expect((await readTaskSummaries(dir)).map((t) => t.name)).toEqual(['Alpha one', 'Bravo two']);
  });

  it('a deleted task file is seen, and its entries are dropped', async () => {
    await readTasks(dir);
    rmSync(taskFile('task-002'));
    expect((await readTasks(dir)).map((t) => t.id)).toEqual(['task-001']);
    expect(Object.keys(shard('tasks-0').entries)).toEqual(['tasks/task-001.yaml']);
    expect(Object.keys(shard('tasks-0.full').entries)).toEqual(['tasks/task-001.yaml']);
    await expect(readTask(dir, 'task-002')).rejects.toMatchObject({ code: 'not_found' });
  });

  it('a file broken after it was cached gives the same error as without a cache (file, line, field), and no entry', async () => {
    await readTasks(dir);
    writeFileSync(taskFile('task-002'), readFileSync(taskFile('task-002'), 'utf8').replace('priority: medium', 'priority: urgent'));
    const { errors } = await readTasksCollecting(dir);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'invalid_file', file: '.agents/tasks/task-002.yaml', field: 'priority' });
    expect(errors[0]!.line).toBeGreaterThan(1);
    expect(entryOf('task-002')).toBeUndefined();
    await expect(readTaskSummaries(dir)).rejects.toMatchObject({ code: 'invalid_file', field: 'priority' });
    process.env.PIV_CACHE = 'off';
    try {
      await expect(readTaskSummaries(dir)).rejects.toMatchObject({ code: 'invalid_file', field: 'priority', line: errors[0]!.line, message: errors[0]!.message });
    } finally {
      delete process.env.PIV_CACHE;
    }
  });

  it('a cache that cannot be written (a file in its place) leaves every answer as it is', async () => {
    writeFileSync(path.join(agents(), '.cache'), 'not a folder');
    expect((await readTasks(dir)).map((t) => t.name)).toEqual(['Alpha one', 'Bravo two']);
    expect((await readTaskSummaries(dir)).map((t) => t.status)).toEqual(['pending', 'pending']);
    await withStateLock(dir, async () => writeTask(dir, task('task-001', { name: 'Alpha again' })));
    expect((await readTask(dir, 'task-001')).name).toBe('Alpha again');
  });

  it("what piv writes under the lock is recorded unsettled, and serves the next read after a hash check", async () => {
    await readTasks(dir);
    await withStateLock(dir, async () => {
      await writeTask(dir, { ...task('task-001', { name: 'Alpha one' }), status: 'in_progress', owner: 'main', started_at: T0 });
      await writeSession(dir, { version: 1, feature: 'f', title: '', request: '', phase: 'execute', status: 'active', created_at: T0, updated_at: T0, decisions: [], blockers: [] });
    });
    const e = entryOf('task-001')!;
    expect(e[5]).toBe(0);
    expect((e[6] as unknown[])[2]).toBe('in_progress');
    expect(shard('state').entries['state/session.yaml']![5]).toBe(0);
    afterTick(taskFile('task-001'));
    expect((await readTaskSummaries(dir))[0]).toMatchObject({ status: 'in_progress', owner: 'main' });
    expect(entryOf('task-001')![5]).toBe(1); // settled now that the clock moved past the write
    expect((await readSession(dir))?.phase).toBe('execute');
  });

  it('PIV_CACHE=off neither reads nor writes the cache', async () => {
    process.env.PIV_CACHE = 'off';
    try {
      await readTasks(dir);
      expect(existsSync(path.join(agents(), '.cache'))).toBe(false);
    } finally {
      delete process.env.PIV_CACHE;
    }
  });

  it('shards task files by number, state files together', () => {
    expect(['tasks/task-001.yaml', 'tasks/task-255.yaml', 'tasks/task-256.yaml', 'tasks/task-10000.yaml', 'tasks/notes.yaml', 'config.yaml', 'state/agents/a.yaml'].map(shardOf)).toEqual(['tasks-0', 'tasks-0', 'tasks-1', 'tasks-39', 'tasks-x', 'state', 'state']);
  });
});
