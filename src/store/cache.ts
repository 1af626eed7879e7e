// Cache: a derived copy of parsed .agents/ files in .agents/.cache/ (git-ignored by its own .gitignore), used only while a file's stat key is unchanged and, when that key could hide a change, only after its content hash matched: it can make piv faster, never give another answer than the files.
//
// The rule, after git's index ("racy git"): an entry is (size, mtime, ctime, inode) of the file, the sha-256 of its bytes and
// what parsing them gave. A later read trusts the entry without reading the file only when the key is the same AND the
// entry is `settled`: its mtime and ctime were strictly older than a timestamp the file system gave (the `clock` file) just
// before the bytes were read. Any write after that moment gets a ctime at least that timestamp (ctime cannot be set by
// hand; utimes moves mtime, and ctime with it), so the key changes. piv settles what it wrote itself by the same rule when
// it releases the state lock (it reads the files back after such a timestamp: settleWritten). An entry that is not
// settled (the clock had not moved past its write, or it changed within the same clock tick) is used only after reading
// the file and comparing its hash. Atomic writes give a new inode. A corrupt, foreign or other-version cache file is
// ignored and rebuilt; any cache I/O error just leaves the cache out.
//
// Layout: per shard (state files; task files by number, 256 a shard) an index file whose columns hold the keys, hashes
// and what hot verbs read (a summary, for tasks), and for tasks a `.full` file with the full values by hash. Columns
// parse about twice as fast as one array per entry and leave the garbage collector far less to copy.
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, writeSync, type Stats } from 'node:fs';
import path from 'node:path';
import { numericOrder } from '../core/ids.js';
import { prepareHeapForParse } from '../heap.js';

/** Set by the bundler (scripts/bundle.mjs): piv's version and a hash of the store's sources, so no other build's entries are used. */
declare const PIV_CACHE_BUILD: string | undefined;
const BUILD = typeof PIV_CACHE_BUILD === 'string' ? PIV_CACHE_BUILD : 'unbundled';
const FORMAT = 'piv-cache/2';

/** The cache folder, relative to `.agents/`. */
export const CACHE_DIR = '.cache';
/** Task files per shard: a write rewrites the two files of its shard only (tens of KB), never the whole cache. */
export const SHARD_TASKS = 256;

/** One entry: the file's stat key, the sha-256 of its bytes, whether it is settled, and its data (summary fields, or the value). */
interface Row {
  size: number;
  mtime: number;
  ctime: number;
  ino: number;
  hash: string;
  settled: boolean;
  data: unknown[];
}

/** An index file as stored: parallel columns, one row per file. `key` holds size, mtime, ctime, ino per row. */
interface IndexColumns {
  rel: string[];
  key: number[];
  hash: string[];
  settled: number[];
  /** One column per data field. */
  data: unknown[][];
}

/** An index file as loaded, and the changes this call made to it (written over a fresh load, so one process's writers never undo each other). */
interface IndexShard {
  file: string;
  cols: IndexColumns;
  rows: Map<string, number>;
  changes: Map<string, Row | null>;
  /** How many of its stored rows this call asked for (all of them: nothing to prune). */
  asked: number;
}

/** A `.full` file: rel → [sha-256, value], the full value of a split file for the content with that hash. */
interface FullShard {
  file: string;
  entries: Record<string, [string, unknown]>;
  changes: Map<string, [string, unknown] | null>;
}

/** How one kind of file is parsed and kept. */
export interface Codec<V, S = V> {
  /** Parses and validates a file's text (as readers always did); throws for an invalid file, which is never cached. */
  parse(rel: string, text: string): Promise<V>;
  /**
   * When given, the index keeps these fields of a value (what hot verbs read) and the full value goes to a `.full`
   * file; `expand` builds the summary from column `i` of the stored fields.
   */
  split?: { summarize(value: V): unknown[]; expand(columns: unknown[][], i: number): S };
}

/** A file read: its value (undefined when only the summary was asked for and served from the index) and, for split codecs, its summary. */
export type Found<V, S = V> = { rel: string; value: V; summary?: S };
export type Outcome<V, S = V> = Found<V, S> | { rel: string; missing: true } | { rel: string; error: unknown };

export interface ReadOptions<V, S> {
  codec: Codec<V, S>;
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

/** The number N of `rel` when it is a canonical task file (tasks/task-N.yaml), else -1. */
const taskRelNumber = (rel: string) => (isTaskRel(rel) ? taskFileNumber(rel.slice('tasks/'.length)) : -1);

/** The shard holding `rel` (relative to `.agents/`): state files together, task files by number (tasks/task-N.yaml → tasks-⌊N/256⌋). */
export function shardOf(rel: string): string {
  if (!isTaskRel(rel)) return 'state';
  const n = taskRelNumber(rel);
  return n >= 0 ? `tasks-${Math.floor(n / SHARD_TASKS)}` : 'tasks-x';
}

/** Task files per `.full` file: a claim reads and rewrites one task's full value, and with it only 31 others (~30 KB). */
export const FULL_TASKS = 32;

/** The `.full` file holding the full value of `rel`: tasks/task-N.yaml → tasks-⌊N/256⌋.⌊(N mod 256)/32⌋; others, their shard's. */
export function fullShardOf(rel: string): string {
  const n = taskRelNumber(rel);
  if (n < 0) return shardOf(rel);
  return `tasks-${Math.floor(n / SHARD_TASKS)}.${Math.floor((n % SHARD_TASKS) / FULL_TASKS)}`;
}

const emptyColumns = (): IndexColumns => ({ rel: [], key: [], hash: [], settled: [], data: [] });

/** Reads and checks one cache file; null when it is missing, corrupt, foreign or another build's. */
function loadDoc(file: string): Record<string, unknown> | null {
  try {
    const doc = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    return doc && doc.format === FORMAT && doc.build === BUILD ? doc : null;
  } catch {
    return null;
  }
}

function loadColumns(file: string): IndexColumns {
  const doc = loadDoc(file);
  const { rel, key, hash, settled, data } = (doc ?? {}) as Partial<IndexColumns>;
  const n = Array.isArray(rel) ? rel.length : -1;
  const fits = (a: unknown, len = n) => Array.isArray(a) && a.length === len;
  if (n < 0 || !fits(key, 4 * n) || !fits(hash) || !fits(settled) || !Array.isArray(data) || !data.every((c) => fits(c))) return emptyColumns();
  return { rel: rel!, key: key!, hash: hash!, settled: settled!, data: data! };
}

function loadIndex(cacheDir: string, name: string): IndexShard {
  const file = path.join(cacheDir, `${name}.json`);
  const cols = loadColumns(file);
  const rows = new Map<string, number>();
  for (let i = 0; i < cols.rel.length; i++) rows.set(cols.rel[i]!, i);
  return { file, cols, rows, changes: new Map(), asked: 0 };
}

function loadFull(cacheDir: string, name: string): FullShard {
  const file = path.join(cacheDir, `${name}.full.json`);
  const entries = loadDoc(file)?.entries;
  return { file, entries: entries && typeof entries === 'object' && !Array.isArray(entries) ? (entries as FullShard['entries']) : {}, changes: new Map() };
}

/** The row of `rel`, with this call's changes applied; undefined when there is none. */
function rowOf(s: IndexShard, rel: string): Row | undefined {
  const changed = s.changes.get(rel);
  if (changed !== undefined) return changed ?? undefined;
  const i = s.rows.get(rel);
  if (i === undefined) return undefined;
  const c = s.cols;
  return { size: c.key[4 * i]!, mtime: c.key[4 * i + 1]!, ctime: c.key[4 * i + 2]!, ino: c.key[4 * i + 3]!, hash: c.hash[i]!, settled: c.settled[i] === 1, data: c.data.map((col) => col[i]) };
}

const has = (s: IndexShard, rel: string) => (s.changes.has(rel) ? s.changes.get(rel) !== null : s.rows.has(rel));
const drop = (s: IndexShard, rel: string) => {
  if (has(s, rel)) s.changes.set(rel, null);
};
const fullOf = (f: FullShard, rel: string) => {
  const changed = f.changes.get(rel);
  if (changed !== undefined) return changed ?? undefined;
  const e = Object.hasOwn(f.entries, rel) ? f.entries[rel] : undefined;
  return Array.isArray(e) && e.length === 2 && typeof e[0] === 'string' ? e : undefined;
};

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
    const file = path.join(cacheDir, 'clock');
    let fd: number;
    try {
      // Overwritten in place, never truncated: truncating a file written a moment ago makes ext4 flush its data first
      // (auto_da_alloc), ~2 ms on a claim that checks one row.
      fd = openSync(file, 'r+');
    } catch {
      fd = openSync(file, 'w');
    }
    try {
      writeSync(fd, `${process.pid} ${Date.now()}`.padEnd(31) + '\n', 0);
      const st = fstatSync(fd);
      return Math.min(st.mtimeMs, st.ctimeMs);
    } finally {
      closeSync(fd);
    }
  } catch {
    return Number.NEGATIVE_INFINITY;
  }
}

/** The settled rule: a file whose mtime and ctime are both strictly older than `marker` (an fsNow taken before its bytes were read). */
const settledBy = (st: Pick<Stats, 'mtimeMs' | 'ctimeMs'>, marker: number) => st.mtimeMs < marker && st.ctimeMs < marker;

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
 * Writes the changes of `indexes` and `fulls` over a fresh load of each file, atomically (write-file-atomic's sync API:
 * no other write of this process can come between the load and the rename). Never throws: a read-only checkout or a
 * full disk leaves piv without its cache.
 */
async function writeShards(cacheDir: string, indexes: Iterable<IndexShard>, fulls: Iterable<FullShard>): Promise<boolean> {
  const changedIndexes = [...indexes].filter((s) => s.changes.size > 0);
  const changedFulls = [...fulls].filter((s) => s.changes.size > 0);
  if (changedIndexes.length + changedFulls.length === 0) return false;
  try {
    const { default: writeFileAtomic } = await import('write-file-atomic');
    ensureDir(cacheDir);
    // No fsync: a cache lost in a crash is rebuilt; a torn one fails to parse and is ignored.
    const write = (file: string, body: Record<string, unknown>, empty: boolean) => {
      if (empty) rmSync(file, { force: true });
      else writeFileAtomic.sync(file, JSON.stringify({ format: FORMAT, build: BUILD, ...body }), { fsync: false });
    };
    for (const shard of changedIndexes) {
      const fresh = loadIndex(cacheDir, path.basename(shard.file, '.json'));
      for (const [rel, row] of shard.changes) fresh.changes.set(rel, row);
      shard.changes.clear();
      const rels = [...new Set([...fresh.cols.rel, ...fresh.changes.keys()])].filter((rel) => has(fresh, rel)).sort();
      const cols = emptyColumns();
      const rows = rels.map((rel) => rowOf(fresh, rel)!);
      const width = rows.reduce((w, r) => Math.max(w, r.data.length), 0);
      cols.data = Array.from({ length: width }, () => new Array(rows.length));
      rows.forEach((r, i) => {
        cols.rel.push(rels[i]!);
        cols.key.push(r.size, r.mtime, r.ctime, r.ino);
        cols.hash.push(r.hash);
        cols.settled.push(r.settled ? 1 : 0);
        for (let k = 0; k < width; k++) cols.data[k]![i] = r.data[k] ?? null;
      });
      write(shard.file, { ...cols }, rows.length === 0);
    }
    for (const shard of changedFulls) {
      const { entries } = loadFull(cacheDir, path.basename(shard.file, '.full.json'));
      for (const [rel, e] of shard.changes) {
        if (e === null) delete entries[rel];
        else entries[rel] = e;
      }
      shard.changes.clear();
      write(shard.file, { entries }, Object.keys(entries).length === 0);
    }
  } catch {
    // piv works without its cache
  }
  return true;
}

/**
 * Reads the files `rels` (relative to `agentsDir`, the `.agents/` folder) through the cache: each comes back as its value
 * (or summary), `missing`, or the `error` that parsing or reading it gave, in the order asked. Files whose cache entry
 * cannot be used are read and parsed by `codec.parse`, exactly as without a cache; the cache is then updated.
 * Sync fs calls on purpose: 10,000 stats take ~25 ms this way and ~120 ms through the promise API.
 */
export async function readThrough<V, S = V>(agentsDir: string, rels: readonly string[], opts: ReadOptions<V, S>): Promise<Outcome<V, S>[]> {
  const cacheDir = path.join(agentsDir, CACHE_DIR);
  const on = enabled();
  const split = opts.codec.split;
  const needFull = split !== undefined && opts.want === 'value';
  const indexes = new Map<string, IndexShard>();
  const fulls = new Map<string, FullShard>();
  const index = (name: string) => {
    let s = indexes.get(name);
    if (!s) indexes.set(name, (s = on ? loadIndex(cacheDir, name) : { file: '', cols: emptyColumns(), rows: new Map(), changes: new Map(), asked: 0 }));
    return s;
  };
  const full = (name: string) => {
    let s = fulls.get(name);
    if (!s) fulls.set(name, (s = on ? loadFull(cacheDir, name) : { file: '', entries: {}, changes: new Map() }));
    return s;
  };
  /** The outcome of a usable row: the value (from the row, or the .full record) and the summary. */
  const found = (rel: string, s: IndexShard, i: number | undefined, row: Row | undefined, value: unknown): Outcome<V, S> => {
    if (!split) return { rel, value: (row ? row.data[0] : s.cols.data[0]![i!]) as V };
    const summary = row ? split.expand(row.data.map((v) => [v]), 0) : split.expand(s.cols.data, i!);
    return { rel, value: value as V, summary };
  };

  const out: Outcome<V, S>[] = new Array(rels.length);
  // One shard at a time, written (outside the lock) before the next is read: a cold read of 10,000 tasks never holds
  // more than one shard's parsed values beside its answer.
  const groups = new Map<string, number[]>();
  for (let i = 0; i < rels.length; i++) {
    const name = shardOf(rels[i]!);
    const g = groups.get(name);
    if (g) g.push(i);
    else groups.set(name, [i]);
  }
  const scope = scopes.get(agentsDir);
  /** The file system's "now", taken once before the first read (after which any write gets a ctime at least this). */
  let marker: number | undefined;
  let wrote = false;
  for (const [name, group] of groups) {
    /** Files to read: their index in `rels`, stat (null when stat itself failed) and the row whose hash may spare the parse. */
    const toRead: { i: number; st: Stats | null; row: Row | undefined }[] = [];
    const s = index(name);
    for (const i of group) {
      const rel = rels[i]!;
      let st: Stats | undefined | null;
      try {
        st = statSync(agentsDir + path.sep + rel, { throwIfNoEntry: false });
      } catch {
        st = null; // no access to the folder: reading the file reports it as it always did
      }
      if (s.rows.has(rel)) s.asked++;
      if (st === undefined) {
        out[i] = { rel, missing: true };
        drop(s, rel);
        continue;
      }
      // The hot path: an unchanged row of the loaded columns, read in place.
      const r = s.changes.size === 0 ? s.rows.get(rel) : undefined;
      if (r !== undefined && st !== null) {
        const k = s.cols.key;
        const same = k[4 * r] === st.size && k[4 * r + 1] === st.mtimeMs && k[4 * r + 2] === st.ctimeMs && k[4 * r + 3] === st.ino && st.isFile();
        if (same && s.cols.settled[r] === 1) {
          if (!needFull) {
            out[i] = found(rel, s, r, undefined, undefined);
            continue;
          }
          const f = fullOf(full(fullShardOf(rel)), rel);
          if (f && f[0] === s.cols.hash[r]) {
            out[i] = found(rel, s, r, undefined, f[1]);
            continue;
          }
        }
        toRead.push({ i, st, row: same ? rowOf(s, rel) : undefined });
        continue;
      }
      const row = rowOf(s, rel);
      const same = st !== null && row !== undefined && st.isFile() && row.size === st.size && row.mtime === st.mtimeMs && row.ctime === st.ctimeMs && row.ino === st.ino;
      if (same && row.settled) {
        const f = needFull ? fullOf(full(fullShardOf(rel)), rel) : undefined;
        if (!needFull || (f && f[0] === row.hash)) {
          out[i] = found(rel, s, undefined, row, f?.[1]);
          continue;
        }
      }
      toRead.push({ i, st, row: same ? row : undefined });
    }

    let removed = false;
    if (toRead.length > 0) {
      // Taken before any bytes are read: an entry whose mtime and ctime are older than it is settled.
      marker ??= on ? fsNow(cacheDir) : Number.NEGATIVE_INFINITY;
      const hash = await hasher();
      prepareHeapForParse(toRead.length);
      for (const { i, st, row } of toRead) {
        const rel = rels[i]!;
        const shard = s;
        let bytes: Buffer;
        let text: string;
        try {
          bytes = readFileSync(agentsDir + path.sep + rel);
          text = bytes.toString('utf8'); // throws for a file too large for a string
        } catch (error) {
          out[i] = (error as NodeJS.ErrnoException).code === 'ENOENT' ? { rel, missing: true } : { rel, error: opts.unreadable(rel, error) };
          drop(shard, rel);
          removed = true;
          continue;
        }
        const digest = hash(bytes);
        const cacheable = on && st !== null && st.isFile();
        const settled = cacheable && settledBy(st, marker);
        if (row && row.hash === digest) {
          // The bytes the row was made from: its data stands.
          const f = needFull ? fullOf(full(fullShardOf(rel)), rel) : undefined;
          if (!needFull || (f && f[0] === digest)) {
            out[i] = found(rel, shard, undefined, row, f?.[1]);
            if (settled && !row.settled) shard.changes.set(rel, { ...row, settled: true });
            continue;
          }
        }
        let value: V;
        try {
          value = await opts.codec.parse(rel, text);
        } catch (error) {
          out[i] = { rel, error };
          drop(shard, rel);
          removed = true;
          continue;
        }
        const data = split ? split.summarize(value) : [value];
        // A summary read keeps no full value: 10,000 parsed tasks held to the end would double the peak memory.
        out[i] = split ? { rel, value: (needFull ? value : undefined) as V, summary: split.expand(data.map((v) => [v]), 0) } : { rel, value };
        if (!cacheable) continue;
        shard.changes.set(rel, { size: st.size, mtime: st.mtimeMs, ctime: st.ctimeMs, ino: st.ino, hash: digest, settled, data });
        if (split) full(fullShardOf(rel)).changes.set(rel, [digest, value]);
      }
    }
    if (!on) continue;

    if (opts.complete && !(s.asked === s.cols.rel.length && s.changes.size === 0)) {
      // Rows of task files no longer there (every row asked for: none to drop).
      const present = new Set(group.map((i) => rels[i]!));
      for (const rel of [...s.cols.rel, ...s.changes.keys()]) {
        if (isTaskRel(rel) && !present.has(rel) && has(s, rel)) {
          drop(s, rel);
          removed = true;
        }
      }
    }
    if (removed && split && name !== 'state') {
      // Full values whose row went away go too, so a .full file never outgrows its index.
      for (const [rel, row] of s.changes) if (row === null) full(fullShardOf(rel)).changes.set(rel, null);
      for (const f of fulls.values()) for (const rel of Object.keys(f.entries)) if (!has(s, rel)) f.changes.set(rel, null);
    }
    // Every .full file loaded for this group belongs to this shard (its rels are the group's).
    const groupFulls = [...fulls.values()];
    if (scope) {
      // Under the state lock: what this read learnt is written with the lock's writes, once, when it is released.
      for (const [rel, row] of s.changes) if (!scope.pending.has(rel)) scope.learnt.set(rel, row);
      for (const f of groupFulls) for (const [rel, e] of f.changes) if (!scope.pending.has(rel)) scope.learntFull.set(rel, e);
    } else if (await writeShards(cacheDir, [s], groupFulls)) wrote = true;
    indexes.delete(name);
    fulls.clear();
  }
  if (on && !scope && opts.complete && (wrote || rels.length === 0)) pruneShards(cacheDir, new Set(groups.keys()));
  return out;
}

/** statSync's options, made once: the hot loop allocates nothing it does not return. */
const STAT_OPTS = { throwIfNoEntry: false } as const;

/** The number N of a canonical task file name `task-N.yaml` (N of 1–15 digits), else -1; no regex, no substring. */
function taskFileNumber(name: string): number {
  const end = name.length - 5;
  if (end < 6 || end > 20 || !name.startsWith('task-') || !name.endsWith('.yaml')) return -1;
  let n = 0;
  for (let i = 5; i < end; i++) {
    const c = name.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}

/** At most this many files of a settled read may need their bytes checked (rows piv itself just wrote); more, and every file is read through. */
const FEW_UNSETTLED = 32;

/**
 * The summaries of the task files `names` (file names in `tasks/` under `agentsDir`, each `task-N.yaml`), sorted by
 * number, when the index answers for nearly every one of them without reading a file: each has a row whose stat key
 * (size, mtime, ctime, inode) is the file's, settled (readThrough's rule) for all but a few, and every row of the shards
 * read is one of `names`. The few unsettled ones (piv's own recent writes) are read by `readFew` (given their names; it
 * reads them through readThrough: their hash checked, settled or re-parsed). Otherwise null, and the caller reads every file through
 * readThrough, which also repairs the cache. 10,000 files take one readdir (the caller's), one stat each and the parse
 * of their shards.
 */
export async function settledSummaries<S>(agentsDir: string, names: readonly string[], expand: (columns: unknown[][], i: number) => S, readFew: (names: string[]) => Promise<S[] | null>): Promise<S[] | null> {
  if (!enabled() || names.length === 0) return null;
  const cacheDir = path.join(agentsDir, CACHE_DIR);
  const tasksDir = agentsDir + path.sep + 'tasks' + path.sep;
  const numbers = new Array<number>(names.length);
  /** Positions in `names` of each shard's files. */
  const buckets = new Map<number, number[]>();
  for (let k = 0; k < names.length; k++) {
    const n = taskFileNumber(names[k]!);
    if (n < 0) return null;
    numbers[k] = n;
    const bucket = Math.floor(n / SHARD_TASKS);
    const group = buckets.get(bucket);
    if (group) group.push(k);
    else buckets.set(bucket, [k]);
  }
  // Sorted by number: the order sortIds gives canonical ids (numericOrder, the same rule).
  const order = numericOrder(numbers);
  if (!order) return null;
  /** Each file's summary, by position in `names`; undefined for the few unsettled ones (readFew's). */
  const summaries = new Array<S | undefined>(names.length);
  /** Positions in `names` of the files whose row is not settled: their summaries come from readFew. */
  const unsettled: number[] = [];
  // One shard at a time, its summaries made before the next is parsed: its columns are garbage by then, so the young
  // generation's scavenges copy little besides the summaries (the columns of every shard held to the end were copied too).
  const rowOf = new Int32Array(SHARD_TASKS);
  for (const [bucket, group] of buckets) {
    const cols = loadColumns(path.join(cacheDir, `tasks-${bucket}.json`));
    // Every row of the shard is one of `names` (a row per file, no file without one).
    if (cols.rel.length !== group.length) return null;
    rowOf.fill(-1);
    for (let i = 0; i < cols.rel.length; i++) {
      const m = taskRelNumber(cols.rel[i]!);
      if (m < 0 || Math.floor(m / SHARD_TASKS) !== bucket || rowOf[m % SHARD_TASKS] !== -1) return null;
      rowOf[m % SHARD_TASKS] = i;
    }
    const { key, rel, settled } = cols;
    for (const k of group) {
      const name = names[k]!;
      const r = rowOf[numbers[k]! % SHARD_TASKS]!;
      // task-7.yaml and task-007.yaml share a number: the row must be this very name.
      if (r < 0 || rel[r]!.length !== name.length + 6 || !rel[r]!.endsWith(name)) return null;
      const st = statSync(tasksDir + name, STAT_OPTS);
      if (!st || key[4 * r] !== st.size || key[4 * r + 1] !== st.mtimeMs || key[4 * r + 2] !== st.ctimeMs || key[4 * r + 3] !== st.ino || !st.isFile()) return null;
      if (settled[r] === 1) summaries[k] = expand(cols.data, r);
      else if (unsettled.push(k) > FEW_UNSETTLED) return null;
    }
  }
  if (unsettled.length > 0) {
    const few = await readFew(unsettled.map((k) => names[k]!));
    if (!few) return null;
    unsettled.forEach((k, i) => (summaries[k] = few[i]!));
  }
  return order.map((k) => summaries[k]!);
}

/** Removes the task shards of buckets that hold no task any more (a re-plan or an archived feature). */
function pruneShards(cacheDir: string, live: Set<string>): void {
  try {
    for (const name of readdirSync(cacheDir)) {
      const m = /^(tasks-[0-9x]+)(\.\d+)?(\.full)?\.json$/.exec(name);
      // A shard no task is in any more, or a .full file of the layout before FULL_TASKS (one per shard).
      if (m && (!live.has(m[1]!) || (m[3] && !m[2] && m[1] !== 'tasks-x'))) rmSync(path.join(cacheDir, name), { force: true });
    }
  } catch {
    // nothing to prune
  }
}

interface Pending {
  /** null: the file was removed or rewritten with text piv did not parse (its entry is dropped). */
  value: unknown;
  data?: unknown[];
  split?: boolean;
  digest?: string;
  st?: Stats;
}

/** Open write scopes (withStateLock) per `.agents/` folder: what their writes left to record, and what their reads learnt. */
const scopes = new Map<string, { depth: number; pending: Map<string, Pending>; learnt: Map<string, Row | null>; learntFull: Map<string, [string, unknown] | null> }>();

/** Starts recording this process's writes under `agentsDir` (withStateLock calls it when it takes the lock). */
export function beginWrites(agentsDir: string): void {
  const scope = scopes.get(agentsDir);
  if (scope) scope.depth++;
  else scopes.set(agentsDir, { depth: 1, pending: new Map(), learnt: new Map(), learntFull: new Map() });
}

/**
 * Records that piv just wrote `text` to `rel` (under `agentsDir`), whose parsed value is `value` (and summary fields
 * `summary`, for a split codec); null `text` drops the entry. Only inside a write scope; the entry is written by
 * endWrites, settled only if the file still holds `text` once the clock has moved past the write (settleWritten).
 */
export async function recordWrite(agentsDir: string, rel: string, text: string | null, value: unknown, summary?: unknown[]): Promise<void> {
  const scope = scopes.get(agentsDir);
  if (!scope || !enabled()) return;
  let st: Stats | undefined;
  if (text !== null) {
    try {
      st = statSync(path.join(agentsDir, rel));
    } catch {
      st = undefined;
    }
  }
  if (text === null || !st) {
    scope.pending.set(rel, { value: null });
    return;
  }
  scope.pending.set(rel, { value, data: summary ?? [value], split: summary !== undefined, digest: (await hasher())(text), st });
}

/** How long a writer waits for the file system's clock to move past its writes before it settles them (ms): over two ticks of a 250 Hz clock. */
const SETTLE_WAIT_MS = 10;
/** What Atomics.wait sleeps on between two looks at the clock. */
const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * The files of `pending` (written by this scope) whose entries can be settled now, when the lock is released: readThrough's
 * rule applied by the writer, which reads each file back. Their stat (taken right after each write) came before a
 * file-system timestamp taken now (`fsNow`), their mtime and ctime are strictly older than it, and the bytes read after
 * it hash to what piv wrote. A change to a file before that read shows in its bytes; any change after it gets a ctime at
 * least this timestamp, so the key no longer matches. The clock is given SETTLE_WAIT_MS to move past the newest write; where
 * it has not, that entry stays unsettled and the next reader checks its hash, as before. Returns the settled rels.
 */
async function settleWritten(agentsDir: string, cacheDir: string, pending: Map<string, Pending>): Promise<Set<string>> {
  const settled = new Set<string>();
  const written = [...pending].filter(([, p]) => p.value !== null && p.st && p.digest);
  if (written.length === 0) return settled;
  // A write of a moment ago may share the clock's tick (coarse clocks: 4 ms at 250 Hz): wait for the next one, a few ms
  // at most, rather than leave every reader after this write to open and hash the file.
  const newest = written.reduce((t, [, p]) => Math.max(t, p.st!.mtimeMs, p.st!.ctimeMs), Number.NEGATIVE_INFINITY);
  const deadline = performance.now() + SETTLE_WAIT_MS;
  let marker = fsNow(cacheDir);
  while (marker <= newest && marker !== Number.NEGATIVE_INFINITY && performance.now() < deadline) {
    Atomics.wait(pause, 0, 0, 0.5);
    marker = fsNow(cacheDir);
  }
  const hash = await hasher();
  for (const [rel, p] of written) {
    if (!settledBy(p.st!, marker)) continue;
    try {
      if (hash(readFileSync(path.join(agentsDir, rel))) === p.digest) settled.add(rel);
    } catch {
      // gone or unreadable: its entry stays unsettled, and the next read reports the file as it is
    }
  }
  return settled;
}

/** Ends a write scope: the outermost one writes the recorded entries into their shards (never throws). */
export async function endWrites(agentsDir: string): Promise<void> {
  const scope = scopes.get(agentsDir);
  if (!scope) return;
  if (--scope.depth > 0) return;
  scopes.delete(agentsDir);
  if (scope.pending.size + scope.learnt.size + scope.learntFull.size === 0) return;
  const cacheDir = path.join(agentsDir, CACHE_DIR);
  const indexes = new Map<string, IndexShard>();
  const fulls = new Map<string, FullShard>();
  const index = (name: string) => {
    let s = indexes.get(name);
    if (!s) indexes.set(name, (s = { file: path.join(cacheDir, `${name}.json`), cols: emptyColumns(), rows: new Map(), changes: new Map(), asked: 0 }));
    return s;
  };
  const full = (name: string) => {
    let s = fulls.get(name);
    if (!s) fulls.set(name, (s = { file: path.join(cacheDir, `${name}.full.json`), entries: {}, changes: new Map() }));
    return s;
  };
  // What reads learnt first; what this scope wrote overrides it.
  for (const [rel, row] of scope.learnt) if (!scope.pending.has(rel)) index(shardOf(rel)).changes.set(rel, row);
  for (const [rel, e] of scope.learntFull) if (!scope.pending.has(rel)) full(fullShardOf(rel)).changes.set(rel, e);
  const settled = await settleWritten(agentsDir, cacheDir, scope.pending);
  for (const [rel, p] of scope.pending) {
    const name = shardOf(rel);
    if (p.value === null || !p.st) {
      index(name).changes.set(rel, null);
      if (name !== 'state') full(fullShardOf(rel)).changes.set(rel, null);
      continue;
    }
    index(name).changes.set(rel, { size: p.st.size, mtime: p.st.mtimeMs, ctime: p.st.ctimeMs, ino: p.st.ino, hash: p.digest!, settled: settled.has(rel), data: p.data! });
    if (p.split) full(fullShardOf(rel)).changes.set(rel, [p.digest!, p.value]);
  }
  await writeShards(cacheDir, indexes.values(), fulls.values());
}
