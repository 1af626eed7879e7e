// The state cache can only make piv faster: a stale, racy, corrupt, foreign or unwritable cache never changes an answer.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readConfig, readSession, readTask, readTasks, readTaskSummaries, readTasksCollecting, withStateLock, writeSession, writeTask } from '../../src/store/index.js';
import { fullShardOf, shardOf } from '../../src/store/cache.js';
import { task, T0 } from './fixtures.js';

let dir = '';
const agents = () => path.join(dir, '.agents');
const taskFile = (id: string) => path.join(agents(), 'tasks', `${id}.yaml`);
interface Columns {
  format: string;
  build: string;
  rel: string[];
  key: number[];
  hash: string[];
  settled: number[];
  data: unknown[][];
}
const shardFile = (name: string) => path.join(agents(), '.cache', `${name}.json`);
const shard = (name: string) => JSON.parse(readFileSync(shardFile(name), 'utf8')) as Columns;
const fullShard = (name: string) => JSON.parse(readFileSync(shardFile(`${name}.full`), 'utf8')) as { build: string; entries: Record<string, unknown[]> };
/** One row of an index shard: its key (size, mtime, ctime, ino), hash, settled flag and data fields; undefined when absent. */
function rowIn(name: string, rel: string) {
  const c = shard(name);
  const i = c.rel.indexOf(rel);
  if (i < 0) return undefined;
  return { key: c.key.slice(4 * i, 4 * i + 4), hash: c.hash[i]!, settled: c.settled[i]!, data: c.data.map((col) => col[i]) };
}
const entryOf = (id: string) => rowIn('tasks-0', `tasks/${id}.yaml`);

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

/** Reads with task-001's mtime an hour ahead (so its row is left unsettled), then sets its mtime back to PAST. */
async function readUnsettled(): Promise<void> {
  const future = Math.floor(Date.now() / 1000) + 3600;
  utimesSync(taskFile('task-001'), future, future);
  await readTasks(dir);
  expect(entryOf('task-001')!.settled).toBe(0);
  utimesSync(taskFile('task-001'), PAST, PAST);
}

/** Gives task-001's unsettled row the file's present stat key, as if the row had been made from the file as it is now; returns the key. */
function rowKeyFromFile(): number[] {
  const st = statSync(taskFile('task-001'));
  const cache = shard('tasks-0');
  const i = cache.rel.indexOf('tasks/task-001.yaml');
  cache.key.splice(4 * i, 4, st.size, st.mtimeMs, st.ctimeMs, st.ino);
  writeFileSync(shardFile('tasks-0'), JSON.stringify(cache));
  return [st.size, st.mtimeMs, st.ctimeMs, st.ino];
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
    expect(shard('tasks-0').rel).toEqual(['tasks/task-001.yaml', 'tasks/task-002.yaml']);
    expect(await readTasks(dir)).toEqual(first);
    expect((await readTaskSummaries(dir)).map((t) => [t.id, t.name, t.blocked_by])).toEqual([['task-001', 'Alpha one', []], ['task-002', 'Bravo two', ['task-001']]]);
    expect(await readTask(dir, 'task-002')).toEqual(first[1]);
  });

  it('a same-size rewrite with its mtime set back (utimes) is seen, even for an entry it trusted without reading', async () => {
    utimesSync(taskFile('task-001'), PAST, PAST);
    afterTick(taskFile('task-001'));
    await readTasks(dir);
    expect(entryOf('task-001')!.settled).toBe(1); // settled: the next read would not open the file if the key held
    sameSizeEdit(taskFile('task-001'), 'Alpha one', 'Omega one');
    expect((await readTaskSummaries(dir))[0]!.name).toBe('Omega one');
    expect((await readTask(dir, 'task-001')).name).toBe('Omega one');
    expect((await readTasks(dir))[0]!.name).toBe('Omega one');
    sameSizeEdit(taskFile('task-001'), 'status: pending', 'status: blocked');
    expect((await readTaskSummaries(dir))[0]!.status).toBe('blocked');
  });

  it('an entry whose file is not safely older than the read is kept unsettled, and compared by content before use', async () => {
    await readUnsettled();
    // The case no stat can tell (a rewrite in the same clock tick): the key matches the file, the bytes do not.
    sameSizeEdit(taskFile('task-001'), 'Alpha one', 'Delta one');
    const key = rowKeyFromFile();
    expect(entryOf('task-001')).toMatchObject({ key, settled: 0 });
    expect((await readTaskSummaries(dir))[0]!.name).toBe('Delta one');
    expect((await readTasks(dir))[0]!.name).toBe('Delta one');
  });

  it('a corrupt or foreign cache is ignored and rebuilt', async () => {
    await readTasks(dir);
    await readConfig(dir);
    const good = shard('tasks-0');
    writeFileSync(shardFile('tasks-0'), `${JSON.stringify(good).slice(0, 200)}`);
    writeFileSync(shardFile('tasks-0.0.full'), '\u0000\u0001 not json');
    writeFileSync(shardFile('state'), '[1,2,3]');
    expect((await readTasks(dir)).map((t) => t.name)).toEqual(['Alpha one', 'Bravo two']);
    expect((await readConfig(dir)).version).toBe(1);
    expect({ ...shard('tasks-0'), settled: [] }).toEqual({ ...good, settled: [] }); // rebuilt whole (settled as the clock allows)
    // Columns of the wrong length: the shard is treated as empty.
    writeFileSync(shardFile('tasks-0'), JSON.stringify({ ...good, hash: good.hash.slice(1), data: good.data.map((c) => c.map(() => 'Wrong name')) }));
    expect((await readTaskSummaries(dir)).map((t) => t.name)).toEqual(['Alpha one', 'Bravo two']);
    // Another build's cache, with rows that match the files: never used.
    writeFileSync(shardFile('tasks-0'), JSON.stringify({ ...good, build: 'another-build', data: good.data.map((c, k) => (k === 1 ? c.map(() => 'Wrong name') : c)) }));
    expect((await readTaskSummaries(dir)).map((t) => t.name)).toEqual(['Alpha one', 'Bravo two']);
  });

  it('an index that answers for every file but one new file (or an odd name) is not used alone: the summaries are those of the files', async () => {
    await readTaskSummaries(dir);
    await writeTask(dir, task('task-003', { name: 'Charlie three', blocked_by: ['task-002'] }));
    expect((await readTaskSummaries(dir)).map((t) => t.name)).toEqual(['Alpha one', 'Bravo two', 'Charlie three']);
    // task-0003.yaml shares task-003's number: both are read, ordered as readTasks orders them.
    await writeTask(dir, task('task-0003', { name: 'Three again' }));
    await readTaskSummaries(dir);
    expect((await readTaskSummaries(dir)).map((t) => t.id)).toEqual((await readTasks(dir)).map((t) => t.id));
    expect((await readTaskSummaries(dir)).map((t) => t.id)).toEqual(['task-001', 'task-002', 'task-0003', 'task-003']);
  });

  it('a deleted task file is seen, and its entries are dropped', async () => {
    await readTasks(dir);
    rmSync(taskFile('task-002'));
    expect((await readTasks(dir)).map((t) => t.id)).toEqual(['task-001']);
    expect(shard('tasks-0').rel).toEqual(['tasks/task-001.yaml']);
    expect(Object.keys(fullShard('tasks-0.0').entries)).toEqual(['tasks/task-001.yaml']);
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

  it('what piv writes under the lock is settled when the lock is released, once the clock has moved past it and it reads back as written', async () => {
    await readTasks(dir);
    await withStateLock(dir, async () => {
      await writeTask(dir, { ...task('task-001', { name: 'Alpha one' }), status: 'in_progress', owner: 'main', started_at: T0 });
      await writeSession(dir, { version: 1, feature: 'f', title: '', request: '', phase: 'execute', status: 'active', created_at: T0, updated_at: T0, decisions: [], blockers: [] });
    });
    const e = entryOf('task-001')!;
    const st = statSync(taskFile('task-001'));
    expect(e).toMatchObject({ key: [st.size, st.mtimeMs, st.ctimeMs, st.ino], settled: 1 });
    expect(e.data[2]).toBe('in_progress');
    expect(rowIn('state', 'state/session.yaml')!.settled).toBe(1);
    expect((await readTaskSummaries(dir))[0]).toMatchObject({ status: 'in_progress', owner: 'main' });
    expect((await readSession(dir))?.phase).toBe('execute');
    // Settled means trusted on its key alone: a same-size edit with the mtime set back is still seen (ctime moved).
    utimesSync(taskFile('task-001'), PAST, PAST);
    sameSizeEdit(taskFile('task-001'), 'owner: main', 'owner: mine');
    expect((await readTaskSummaries(dir))[0]!.owner).toBe('mine');
  });

  it('a hand edit between piv\'s write and the release of the lock leaves the entry unsettled, and the next read gives the edited file', async () => {
    await readTasks(dir);
    await withStateLock(dir, async () => {
      await writeTask(dir, task('task-001', { name: 'Alpha again' }));
      const text = readFileSync(taskFile('task-001'), 'utf8');
      writeFileSync(taskFile('task-001'), text.replace('Alpha again', 'Alpha AGAIN')); // same size, before the lock is released
    });
    expect(entryOf('task-001')!.settled).toBe(0); // its bytes are not what piv wrote
    expect((await readTaskSummaries(dir))[0]!.name).toBe('Alpha AGAIN');
    expect((await readTask(dir, 'task-001')).name).toBe('Alpha AGAIN');
  });

  it('a reader that confirms an unsettled row by its hash settles it, outside the lock as under it', async () => {
    await readUnsettled();
    // The row made unsettled with the file's present key: a reader checks its hash, uses it and settles it.
    rowKeyFromFile();
    afterTick(taskFile('task-001'));
    expect((await readTaskSummaries(dir)).map((t) => t.name)).toEqual(['Alpha one', 'Bravo two']);
    expect(entryOf('task-001')!.settled).toBe(1);
    // Under the lock, what a read confirmed is written with the lock's own writes.
    await readUnsettled();
    rowKeyFromFile();
    afterTick(taskFile('task-001'));
    await withStateLock(dir, async () => {
      await readTaskSummaries(dir);
      await writeTask(dir, task('task-002', { name: 'Bravo three', blocked_by: ['task-001'] }));
    });
    expect(entryOf('task-001')!.settled).toBe(1);
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
    // Full values: 32 tasks a file.
    expect(['tasks/task-001.yaml', 'tasks/task-031.yaml', 'tasks/task-032.yaml', 'tasks/task-255.yaml', 'tasks/task-10000.yaml', 'tasks/notes.yaml', 'config.yaml'].map(fullShardOf)).toEqual(['tasks-0.0', 'tasks-0.0', 'tasks-0.1', 'tasks-0.7', 'tasks-39.0', 'tasks-x', 'state']);
  });

  it('a .full file of the layout before (one per shard) is removed by the next full read', async () => {
    await readTasks(dir);
    writeFileSync(shardFile('tasks-0.full'), JSON.stringify(fullShard('tasks-0.0')));
    rmSync(taskFile('task-002'));
    await readTasks(dir);
    expect(existsSync(shardFile('tasks-0.full'))).toBe(false);
    expect(existsSync(shardFile('tasks-0.0.full'))).toBe(true);
  });
});
