// Cache: a derived copy of parsed .agents/ files in .agents/.cache/ (git-ignored by its own .gitignore), used only while a file's stat key is unchanged and, when that key could hide a change, only after its content hash matched: it can make piv faster, never give another answer than the files.
//
// The rule, after git's index ("racy git"): an entry is (size, mtime, ctime, inode) of the file, the sha-256 of its bytes and
// what parsing them gave. A later read trusts the entry without reading the file only when the key is the same AND the
// entry is `settled`: its mtime and ctime were strictly older than a timestamp the file system gave (the `clock` file) just
// before the bytes were read. Any write after that moment gets a ctime at least that timestamp (ctime cannot be set by
// hand; utimes moves mtime, and ctime with it), so the key changes. An entry that is not settled (written by piv itself a
// moment ago, or changed within the same clock tick) is used only after reading the file and comparing its hash. Atomic
// writes give a new inode. A corrupt, foreign or other-version cache file is ignored and rebuilt; any cache I/O error
// just leaves the cache out.
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, writeSync, type Stats } from 'node:fs';
import path from 'node:path';

/** Set by the bundler (scripts/bundle.mjs): piv's version and a hash of the store's sources, so no other build's entries are used. */
declare const PIV_CACHE_BUILD: string | undefined;
const BUILD = typeof PIV_CACHE_BUILD === 'string' ? PIV_CACHE_BUILD : 'unbundled';
const FORMAT = 'piv-cache/1';

/** The cache folder, relative to `.agents/`. */
export const CACHE_DIR = '.cache';
/** Task files per shard: a write rewrites the two files of its shard only (tens of KB), never the whole cache. */
export const SHARD_TASKS = 256;

/** [size, mtimeMs, ctimeMs, ino, sha256, settled (1/0), data]: data is the value, or its summary when the codec splits. */
type StoredEntry = [number, number, number, number, string, number, unknown];
/** [sha256, value]: the full value of a split file, valid for the content with that hash. */
type StoredFull = [string, unknown];

/** One cache file as loaded, and the changes this call made to it (written over a fresh load, so writers in one process never undo each other). */
interface ShardFile<E> {
  file: string;
  entries: Record<string, E>;
  changes: Map<string, E | null>;
}

function put<E>(s: ShardFile<E>, rel: string, e: E): void {
  s.entries[rel] = e;
  s.changes.set(rel, e);
}

function del<E>(s: ShardFile<E>, rel: string): void {
  if (!Object.hasOwn(s.entries, rel)) return;
  delete s.entries[rel];
  s.changes.set(rel, null);
}

/** How one kind of file is parsed and kept. */
export interface Codec<V> {
  /** Parses and validates a file's text (as today's readers do); throws for an invalid file, which is never cached. */
  parse(rel: string, text: string): Promise<V>;
  /** When given, the index keeps this summary (what hot verbs read) and the full value goes to a `.full` shard. */
  summarize?(value: V): unknown[];
}

/** A file read: its value (undefined when only the summary was asked for and served from the index) and its summary. */
export type Found<V> = { rel: string; value: V; summary?: unknown[] };
export type Outcome<V> = Found<V> | { rel: string; missing: true } | { rel: string; error: unknown };

export interface ReadOptions<V> {
  codec: Codec<V>;
  /** 'summary': only the codec's summary is needed (served from the index alone); 'value': the full value. */
  want: 'summary' | 'value';
  /** The error to report for a file that exists but cannot be read (a folder in its place, no permission). */
  unreadable(rel: string, error: unknown): unknown;
  /** rels are every file of the tasks folder: entries and shards of files no longer there are dropped. */
  complete?: boolean;
}

/** `PIV_CACHE=off` reads and writes no cache (to measure or rule it out). */
const enabled = () => process.env.PIV_CACHE !== 'off';

const isTaskRel = (rel: string) => rel.startsWith('tasks/');

/** The shard holding `rel` (relative to `.agents/`): state files together, task files by number. */
export function shardOf(rel: string): string {
  if (!isTaskRel(rel)) return 'state';
  const name = rel.slice('tasks/'.length);
  if (name.startsWith('task-') && name.endsWith('.yaml')) {
    const n = Number(name.slice(5, -5));
    if (Number.isInteger(n) && n >= 0) return `tasks-${Math.floor(n / SHARD_TASKS)}`;
  }
  return 'tasks-x';
}

/** Loads one cache file; a missing, corrupt, foreign or other-build one loads as empty (its entries are rebuilt as files are read). */
function loadShard<E>(cacheDir: string, name: string): ShardFile<E> {
  const file = path.join(cacheDir, `${name}.json`);
  return { file, entries: loadEntries<E>(file), changes: new Map() };
}

function loadEntries<E>(file: string): Record<string, E> {
  try {
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { format?: unknown; build?: unknown; entries?: unknown };
    if (doc.format === FORMAT && doc.build === BUILD && doc.entries && typeof doc.entries === 'object' && !Array.isArray(doc.entries)) {
      return doc.entries as Record<string, E>;
    }
  } catch {
    // missing or corrupt
  }
  return {};
}

const own = <E>(entries: Record<string, E>, rel: string): E | undefined => (Object.hasOwn(entries, rel) ? entries[rel] : undefined);

function validEntry(e: unknown): e is StoredEntry {
  return Array.isArray(e) && e.length === 7 && typeof e[0] === 'number' && typeof e[1] === 'number' && typeof e[2] === 'number' && typeof e[3] === 'number' && typeof e[4] === 'string';
}

const sameKey = (e: StoredEntry, st: Stats) => e[0] === st.size && e[1] === st.mtimeMs && e[2] === st.ctimeMs && e[3] === st.ino;

/** Creates `.agents/.cache/` with its `.gitignore` (`*`: nothing in it is ever committed, in any repository) first. */
function ensureDir(cacheDir: string): void {
  const ignore = path.join(cacheDir, '.gitignore');
  if (existsSync(ignore)) return;
  mkdirSync(cacheDir, { recursive: true });
  writeFileSync(ignore, "# piv's cache: derived from the files beside it, rebuilt at will, never committed\n*\n");
}

/**
 * A timestamp of the file system's own clock, taken now: the mtime of `.agents/.cache/clock` after writing it.
 * Returns -Infinity (nothing settles) when it cannot be written.
 */
function fsNow(cacheDir: string): number {
  try {
    ensureDir(cacheDir);
    const fd = openSync(path.join(cacheDir, 'clock'), 'w');
    try {
      writeSync(fd, `${process.pid} ${Date.now()}\n`);
      const st = fstatSync(fd);
      return Math.min(st.mtimeMs, st.ctimeMs);
    } finally {
      closeSync(fd);
    }
  } catch {
    return Number.NEGATIVE_INFINITY;
  }
}

let sha: ((bytes: Uint8Array | string) => string) | undefined;
/** sha-256 of bytes, base64url, 128 bits (node:crypto is loaded only when something is hashed). */
async function hasher(): Promise<(bytes: Uint8Array | string) => string> {
  if (!sha) {
    const { createHash } = await import('node:crypto');
    sha = (bytes) => createHash('sha256').update(bytes).digest('base64url').slice(0, 22);
  }
  return sha;
}

/**
 * Writes the changes of `shards` over a fresh load of each file, atomically (write-file-atomic's sync API: no other
 * write of this process can interleave between the load and the rename). Never throws: a read-only checkout or a full
 * disk leaves piv without its cache.
 */
async function writeShards(cacheDir: string, shards: Iterable<ShardFile<unknown>>): Promise<void> {
  const changed = [...shards].filter((s) => s.changes.size > 0);
  if (changed.length === 0) return;
  try {
    const { default: writeFileAtomic } = await import('write-file-atomic');
    ensureDir(cacheDir);
    for (const shard of changed) {
      const entries = loadEntries<unknown>(shard.file);
      for (const [rel, e] of shard.changes) {
        if (e === null) delete entries[rel];
        else entries[rel] = e;
      }
      shard.changes.clear();
      if (Object.keys(entries).length === 0) rmSync(shard.file, { force: true });
      // No fsync: a cache lost in a crash is rebuilt; a torn one fails to parse and is ignored.
      else writeFileAtomic.sync(shard.file, JSON.stringify({ format: FORMAT, build: BUILD, entries }), { fsync: false });
    }
  } catch {
    // piv works without its cache
  }
}

/**
 * Reads the files `rels` (relative to `agentsDir`, the `.agents/` folder) through the cache: each comes back as its value
 * (or summary), `missing`, or the `error` that parsing or reading it gave, in the order asked. Files whose cache entry
 * cannot be used are read and parsed by `codec.parse`, exactly as without a cache; the cache is then updated.
 * Sync fs calls on purpose: 10,000 stats take ~20 ms this way and ~120 ms through the promise API.
 */
export async function readThrough<V>(agentsDir: string, rels: readonly string[], opts: ReadOptions<V>): Promise<Outcome<V>[]> {
  const cacheDir = path.join(agentsDir, CACHE_DIR);
  const on = enabled();
  const split = opts.codec.summarize !== undefined;
  const needFull = split && opts.want === 'value';
  const shards = new Map<string, ShardFile<StoredEntry>>();
  const fulls = new Map<string, ShardFile<StoredFull>>();
  const none = <E>(): ShardFile<E> => ({ file: '', entries: {}, changes: new Map() });
  const shard = (name: string) => {
    let s = shards.get(name);
    if (!s) shards.set(name, (s = on ? loadShard<StoredEntry>(cacheDir, name) : none()));
    return s;
  };
  const full = (name: string) => {
    let s = fulls.get(name);
    if (!s) fulls.set(name, (s = on ? loadShard<StoredFull>(cacheDir, `${name}.full`) : none()));
    return s;
  };
  const drop = (name: string, rel: string) => del(shard(name), rel);
  const hit = (rel: string, entry: StoredEntry, f: StoredFull | undefined): Outcome<V> =>
    split ? { rel, value: (f ? f[1] : undefined) as V, summary: entry[6] as unknown[] } : { rel, value: entry[6] as V };

  const out: Outcome<V>[] = new Array(rels.length);
  /** Files to read: their index in `rels`, stat (null when stat itself failed) and the entry whose hash may spare the parse. */
  const toRead: { i: number; st: Stats | null; entry: StoredEntry | undefined }[] = [];
  const names = new Array<string>(rels.length);
  for (let i = 0; i < rels.length; i++) {
    const rel = rels[i]!;
    const name = (names[i] = shardOf(rel));
    const s = shard(name);
    let st: Stats | undefined | null;
    try {
      st = statSync(agentsDir + path.sep + rel, { throwIfNoEntry: false });
    } catch {
      st = null; // no access to the folder: reading the file reports it as today
    }
    const stored = own(s.entries, rel);
    const entry = validEntry(stored) ? stored : undefined;
    if (stored !== undefined && !entry) drop(name, rel);
    if (st === undefined) {
      out[i] = { rel, missing: true };
      if (entry) drop(name, rel);
      continue;
    }
    const same = st !== null && entry !== undefined && st.isFile() && sameKey(entry, st);
    if (same && entry[5] === 1) {
      const f = needFull ? own(full(name).entries, rel) : undefined;
      if (!needFull || (Array.isArray(f) && f[0] === entry[4])) {
        out[i] = hit(rel, entry, f);
        continue;
      }
    }
    toRead.push({ i, st, entry: same ? entry : undefined });
  }

  let removed = false;
  if (toRead.length > 0) {
    // The file system's "now", taken after the stats and before the reads: an entry older than it is settled.
    const marker = on ? fsNow(cacheDir) : Number.NEGATIVE_INFINITY;
    const hash = await hasher();
    for (const { i, st, entry } of toRead) {
      const rel = rels[i]!;
      const name = names[i]!;
      let bytes: Buffer;
      try {
        bytes = readFileSync(agentsDir + path.sep + rel);
      } catch (error) {
        out[i] = (error as NodeJS.ErrnoException).code === 'ENOENT' ? { rel, missing: true } : { rel, error: opts.unreadable(rel, error) };
        drop(name, rel);
        removed = true;
        continue;
      }
      const digest = hash(bytes);
      const cacheable = on && st !== null && st.isFile();
      const settled = cacheable && st.mtimeMs < marker && st.ctimeMs < marker ? 1 : 0;
      if (entry && entry[4] === digest) {
        // The bytes the entry was made from: its value stands.
        const f = needFull ? own(full(name).entries, rel) : undefined;
        if (!needFull || (Array.isArray(f) && f[0] === digest)) {
          out[i] = hit(rel, entry, f);
          if (settled && entry[5] !== 1) put(shard(name), rel, [entry[0], entry[1], entry[2], entry[3], entry[4], 1, entry[6]] as StoredEntry);
          continue;
        }
      }
      let text: string;
      try {
        text = bytes.toString('utf8');
      } catch (error) {
        out[i] = { rel, error: opts.unreadable(rel, error) }; // too large for a string
        drop(name, rel);
        removed = true;
        continue;
      }
      let value: V;
      try {
        value = await opts.codec.parse(rel, text);
      } catch (error) {
        out[i] = { rel, error };
        drop(name, rel);
        removed = true;
        continue;
      }
      const summary = split ? opts.codec.summarize!(value) : undefined;
      out[i] = { rel, value, summary };
      if (!cacheable) continue;
      put(shard(name), rel, [st.size, st.mtimeMs, st.ctimeMs, st.ino, digest, settled, split ? summary : value]);
      if (split) put(full(name), rel, [digest, value] as StoredFull);
    }
  }
  if (!on) return out;

  if (opts.complete) {
    const present = new Set(rels);
    for (const s of shards.values()) {
      for (const rel of Object.keys(s.entries)) {
        if (isTaskRel(rel) && !present.has(rel)) {
          del(s, rel);
          removed = true;
        }
      }
    }
  }
  if (removed && split) {
    // Full values whose entry went away go too, so a .full shard never outgrows its index.
    for (const [name, s] of shards) {
      if (name === 'state' || ![...s.changes.values()].includes(null)) continue;
      const f = full(name);
      for (const rel of Object.keys(f.entries)) if (own(s.entries, rel) === undefined) del(f, rel);
    }
  }
  const wrote = [...shards.values(), ...fulls.values()].some((s) => s.changes.size > 0);
  await writeShards(cacheDir, [...shards.values(), ...fulls.values()]);
  if (opts.complete && (wrote || rels.length === 0)) pruneShards(cacheDir, new Set(shards.keys()));
  return out;
}

/** Removes the task shards of buckets that hold no task any more (a re-plan or an archived feature). */
function pruneShards(cacheDir: string, live: Set<string>): void {
  try {
    for (const name of readdirSync(cacheDir)) {
      const m = /^(tasks-[0-9x]+)(\.full)?\.json$/.exec(name);
      if (m && !live.has(m[1]!)) rmSync(path.join(cacheDir, name), { force: true });
    }
  } catch {
    // nothing to prune
  }
}

interface Pending {
  /** null: the file was removed or rewritten with text piv did not parse (its entry is dropped). */
  value: unknown;
  summary?: unknown[];
  digest?: string;
  st?: Stats;
}

/** Open write scopes (withStateLock) per `.agents/` folder, and what their writes left to record. */
const scopes = new Map<string, { depth: number; pending: Map<string, Pending> }>();

/** Starts recording this process's writes under `agentsDir` (withStateLock calls it when it takes the lock). */
export function beginWrites(agentsDir: string): void {
  const scope = scopes.get(agentsDir);
  if (scope) scope.depth++;
  else scopes.set(agentsDir, { depth: 1, pending: new Map() });
}

/**
 * Records that piv just wrote `text` to `rel` (under `agentsDir`), whose parsed value is `value` (and summary `summary`,
 * for a split codec); null `value` drops the entry. Only inside a write scope; the entry is written by endWrites, and is
 * not settled: the next reader compares its hash before use (a person could have changed the file in the same tick).
 */
export async function recordWrite(agentsDir: string, rel: string, text: string | null, value: unknown, summary?: unknown[]): Promise<void> {
  const scope = scopes.get(agentsDir);
  if (!scope || !enabled()) return;
  if (text === null || value === null) {
    scope.pending.set(rel, { value: null });
    return;
  }
  let st: Stats | undefined;
  try {
    st = statSync(path.join(agentsDir, rel));
  } catch {
    st = undefined;
  }
  scope.pending.set(rel, st ? { value, summary, digest: (await hasher())(text), st } : { value: null });
}

/** Ends a write scope: the outermost one writes the recorded entries into their shards (never throws). */
export async function endWrites(agentsDir: string): Promise<void> {
  const scope = scopes.get(agentsDir);
  if (!scope) return;
  if (--scope.depth > 0) return;
  scopes.delete(agentsDir);
  if (scope.pending.size === 0) return;
  const cacheDir = path.join(agentsDir, CACHE_DIR);
  const shards = new Map<string, ShardFile<unknown>>();
  const change = (name: string) => {
    let s = shards.get(name);
    if (!s) shards.set(name, (s = { file: path.join(cacheDir, `${name}.json`), entries: {}, changes: new Map() }));
    return s;
  };
  for (const [rel, p] of scope.pending) {
    const name = shardOf(rel);
    const split = p.summary !== undefined;
    if (p.value === null || !p.st) {
      change(name).changes.set(rel, null);
      if (name !== 'state') change(`${name}.full`).changes.set(rel, null);
    } else {
      change(name).changes.set(rel, [p.st.size, p.st.mtimeMs, p.st.ctimeMs, p.st.ino, p.digest!, 0, split ? p.summary : p.value]);
      if (split) change(`${name}.full`).changes.set(rel, [p.digest!, p.value]);
    }
  }
  await writeShards(cacheDir, shards.values());
}
