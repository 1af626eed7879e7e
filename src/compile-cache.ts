// Compile cache: runs the bundled CLI (one CommonJS file) from V8's code cache when a valid one exists, so start-up deserializes bytecode instead of parsing ~1 MB of JavaScript; a missing, foreign or rejected cache only costs the parse it would have saved.
//
// Node 20 has no module.enableCompileCache (Node 22.1), so this does what it does, for one file: the script is compiled
// with `vm.Script` and `cachedData`; V8 checks that data against its own version, flags and the source, and rejects what
// does not fit (`cachedDataRejected`). V8's check of the source is by length only, so the cache file's name carries a hash
// of the bundle (made at build time), and only files owned by this user in a folder only this user can write are used.
import { closeSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import vm from 'node:vm';
import { restoreHeapFlags } from './heap.js';
import { parserLoaded } from './marks.js';

/** What a bundled CommonJS module exports: the CLI's main (src/bin.ts). */
export interface CliModule {
  main(argv: readonly string[]): Promise<void>;
}

/**
 * The folder of piv's code caches: $PIV_COMPILE_CACHE when it names one, `$XDG_CACHE_HOME/piv/v8` or `~/.cache/piv/v8`
 * otherwise; null when caching is off (`PIV_COMPILE_CACHE=off`) or there is no home folder.
 */
export function compileCacheDir(env: NodeJS.ProcessEnv = process.env): string | null {
  const setting = env.PIV_COMPILE_CACHE;
  if (setting === 'off' || setting === '0') return null;
  if (setting) return path.resolve(setting);
  const base = env.XDG_CACHE_HOME || (os.homedir() ? path.join(os.homedir(), '.cache') : '');
  return base ? path.join(base, 'piv', 'v8') : null;
}

/** Whether `st` belongs to this user (always true where there are no user ids). */
const mine = (st: { uid: number }) => typeof process.getuid !== 'function' || st.uid === process.getuid();

/** The cache data in `file` when it is a regular file owned by this user (another user's could hold any bytecode), else undefined. */
function readOwned(file: string): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || !mine(st)) return undefined;
    return readFileSync(fd);
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** Caches of other builds written this long ago are removed (ms): two installed pivs keep theirs; an old one's go (and are rewritten once if it still runs). */
const UNUSED_MS = 14 * 86_400_000;

/**
 * Writes `data` as `file` (a temporary file renamed over it: readers never see a partial cache) and removes caches of
 * other builds beside it (names not starting with `keep`) written over two weeks ago. Never throws: a read-only home only goes uncached.
 */
function store(dir: string, file: string, data: Buffer, keep: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = statSync(dir);
    // A folder others can write to could be given bytecode by them: no cache there.
    if ((st.mode & 0o022) !== 0 || !mine(st)) return;
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, data, { mode: 0o600 });
    renameSync(tmp, file);
    const now = Date.now();
    for (const name of readdirSync(dir)) {
      const other = path.join(dir, name);
      if (!name.startsWith(keep) && now - statSync(other).mtimeMs > UNUSED_MS) rmSync(other, { force: true });
    }
  } catch {
    // piv runs without its compile cache
  }
}

/**
 * The part of a cache's name that tells node's options apart: '' for none (`piv`, `node bin.js`), else `-o` and a hash
 * (FNV-1a, 32 bits, hex) of `execArgv` and NODE_OPTIONS. V8 rejects a cache made under other flags, so without it
 * `node --inspect bin.js` and `piv` would each reject and rewrite the other's cache.
 */
export function flagsTag(execArgv: readonly string[], nodeOptions: string | undefined): string {
  const options = [...execArgv, nodeOptions ?? ''].join(' ').trim();
  if (options === '') return '';
  let h = 0x811c9dc5;
  for (let i = 0; i < options.length; i++) h = Math.imul(h ^ options.charCodeAt(i), 0x01000193);
  return `-o${(h >>> 0).toString(16).padStart(8, '0')}`;
}

/**
 * What runCached did with the code cache: ran from it, wrote one (none or a rejected one was there), ran from one made by
 * a run that loaded the YAML parser and removed it (`retired`: this run did not need that code), or ran without (off).
 */
export type CacheOutcome = 'used' | 'written' | 'rejected' | 'retired' | 'off';

/**
 * Loads the CommonJS bundle `file` (ASCII: read as latin1; its content hash, from the build, is `hash`) through the code
 * cache kept for `slot` (the verb: each verb's cache holds the functions it compiled), runs its `main(argv)` and, when no cache could
 * be used, writes one after main returned (so it holds what the run compiled). Resolves when main is done, with what it
 * did with the cache ('rejected': V8 refused the data there, and it was rewritten); rejects with what main rejects with
 * (a bug in piv). `dir` null runs without a cache.
 *
 * A run that loaded the YAML parser (marks.ts: the state cache could not answer, as on the first read of a
 * repository) compiled yaml and the schemas too, which the verb's usual runs never need: V8 would deserialize all of it
 * on every start (~3 ms at status's size). Its cache is written apart (`<slot>+yaml`), used only while the verb has no
 * usual one, and removed by the first run that did not need the parser, so that the next run writes a lean one.
 */
export async function runCached(file: string, hash: string, slot: string, dir: string | null, argv: readonly string[]): Promise<CacheOutcome> {
  const key = `${hash}-${process.version}-${process.arch}${flagsTag(process.execArgv, process.env.NODE_OPTIONS)}`;
  const usualFile = dir ? path.join(dir, `${key}-${slot}.v8`) : null;
  const parserFile = dir ? path.join(dir, `${key}-${slot}+yaml.v8`) : null;
  let cachedData = usualFile ? readOwned(usualFile) : undefined;
  const fromParserRun = cachedData === undefined && parserFile !== null && (cachedData = readOwned(parserFile)) !== undefined;
  // latin1: the bundle is ASCII (scripts/bundle.mjs makes sure), and one byte per character decodes twice as fast as UTF-8.
  const source = readFileSync(file, 'latin1');
  // The wrapper Node puts around a CommonJS module, on the source's first line (stack traces keep their line numbers).
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: file, cachedData });
  const module = { exports: {} as CliModule };
  (script.runInThisContext() as (...a: unknown[]) => void)(module.exports, createRequire(file), module, file, path.dirname(file));
  await module.exports.main(argv);
  const parsed = parserLoaded();
  let outcome: CacheOutcome = !dir ? 'off' : cachedData === undefined ? 'written' : script.cachedDataRejected ? 'rejected' : 'used';
  if (outcome === 'used' && fromParserRun && !parsed) outcome = 'retired';
  // (Its own trace line: this module is the entry's, and loads none of the CLI's.)
  if (process.env.PIV_TRACE) process.stderr.write(`piv-trace ${performance.now().toFixed(1).padStart(7)} code cache: ${outcome}${parsed ? ' (YAML parser loaded)' : ''}\n`);
  if (outcome === 'written' || outcome === 'rejected') {
    restoreHeapFlags(); // the data records V8's flag hash, which the next start (no flag changed) compares
    store(dir!, parsed ? parserFile! : usualFile!, script.createCachedData(), hash);
  } else if (outcome === 'retired') {
    rmSync(parserFile!, { force: true });
  }
  return outcome;
}
