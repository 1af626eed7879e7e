// Token counts: one encoder per call, always freed; .gitignore rules honoured folder by folder; symlinks never followed.
import { promises as fsp, type Dirent, type Stats } from 'node:fs';
import path from 'node:path';
import { get_encoding } from 'tiktoken';
import ignore from 'ignore';
import { PivError } from '../errors.js';

export type EncodingName = 'cl100k_base' | 'o200k_base';

export interface Counter {
  /** Number of tokens in `text` (raw, uncalibrated). Throws once `free()` has been called. */
  count(text: string): number;
  /** Releases the WASM encoder; calling it again does nothing. */
  free(): void;
}

export interface FileCount {
  /** Relative to the root given to `countPaths`, POSIX separators. */
  path: string;
  /** Size on disk, in bytes. */
  bytes: number;
  /** Calibrated token count (0 for a binary file). */
  tokens: number;
  /** True when a NUL byte occurs in the first 8 KB: the file is listed but not counted. */
  binary: boolean;
}

export interface CountResult {
  /** Counted (and binary) files, sorted by path. */
  files: FileCount[];
  /** Sum of `files[].tokens` (each file is calibrated and rounded up on its own, so the table adds up). */
  total_tokens: number;
  /** Sum of `files[].bytes`, binary files included. */
  total_bytes: number;
  /** Paths left out on purpose, with the reason (too large, symlink, unreadable, a named path that is ignored…), sorted by path. */
  skipped: { path: string; reason: string }[];
  encoding: EncodingName;
  calibration: number;
}

export const DEFAULT_ENCODING: EncodingName = 'cl100k_base';
/** Files larger than this many bytes are skipped by `countPaths` unless `maxBytes` says otherwise (2 MB). */
export const DEFAULT_MAX_BYTES = 2 * 1024 * 1024;
/** How many leading bytes are searched for a NUL byte to call a file binary (git uses the same 8 KB heuristic). */
const BINARY_SNIFF_BYTES = 8 * 1024;
/** Folder names never walked into, at any depth, whatever .gitignore says. */
const ALWAYS_SKIPPED = new Set(['.git', 'node_modules']);
/** Concurrent file-system operations (readdir, stat + read) during a walk. */
const IO_CONCURRENCY = 32;

const ENCODINGS: readonly EncodingName[] = ['cl100k_base', 'o200k_base'];

function checkEncoding(encoding: string): EncodingName {
  if (!(ENCODINGS as readonly string[]).includes(encoding)) {
    throw new PivError('usage', `unknown token encoding "${encoding}"`, { hint: `Use one of: ${ENCODINGS.join(', ')}.` });
  }
  return encoding as EncodingName;
}

function checkCalibration(calibration: number): number {
  if (typeof calibration !== 'number' || !Number.isFinite(calibration) || calibration <= 0) {
    throw new PivError('usage', `token calibration must be a positive number, got ${String(calibration)}`, {
      hint: 'Use a factor such as 1 (raw tiktoken count) or 1.15.',
    });
  }
  return calibration;
}

/**
 * Multiplies a raw count by the calibration factor and rounds up.
 * The product is first rounded to 6 decimals so float noise does not round up an exact result (10 × 1.1 is 11, not 12).
 */
function calibrate(raw: number, calibration: number): number {
  if (calibration === 1) return raw;
  return Math.ceil(Math.round(raw * calibration * 1e6) / 1e6);
}

/**
 * Creates a tiktoken encoder for `encoding` (`cl100k_base` or `o200k_base`).
 * Text is encoded as ordinary text: special-token markers such as `<|endoftext|>` are counted like any other characters, never rejected.
 * The caller must call `free()` (the encoder lives in WASM memory, outside the garbage collector).
 * Throws PivError `usage` for an unknown encoding.
 */
export function createCounter(encoding: EncodingName): Counter {
  const encoder = get_encoding(checkEncoding(encoding));
  let freed = false;
  return {
    count(text: string): number {
      if (freed) throw new Error('token counter used after free()');
      return text.length === 0 ? 0 : encoder.encode_ordinary(text).length;
    },
    free(): void {
      if (freed) return;
      freed = true;
      encoder.free();
    },
  };
}

/**
 * Counts the tokens of `text` with a fresh encoder that is freed before returning.
 * `encoding` defaults to `cl100k_base`; `calibration` (default 1) multiplies the raw count, because Claude's tokenizer
 * is not public and a factor converts the tiktoken estimate. Returns tokens, rounded up (Math.ceil).
 * Throws PivError `usage` for an unknown encoding or a calibration that is not a positive finite number.
 */
export function countTokens(text: string, opts: { encoding?: EncodingName; calibration?: number } = {}): number {
  const calibration = checkCalibration(opts.calibration ?? 1);
  const counter = createCounter(opts.encoding ?? DEFAULT_ENCODING);
  try {
    return calibrate(counter.count(text), calibration);
  } finally {
    counter.free();
  }
}

type Ignore = ReturnType<typeof ignore>;

const toPosix = (p: string): string => (path.sep === '/' ? p : p.split(path.sep).join('/'));
const parentOf = (rel: string): string => {
  const i = rel.lastIndexOf('/');
  return i < 0 ? '' : rel.slice(0, i);
};
const joinRel = (dir: string, name: string): string => (dir === '' ? name : `${dir}/${name}`);
const errCode = (error: unknown): string => {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' ? code : String((error as Error | null)?.message ?? error);
};

/** Escapes a folder path for use as the literal start of a gitignore pattern. */
function escapeGlob(dir: string): string {
  const escaped = dir.replace(/[\\*?[\]]/g, '\\$&');
  return /^[!#]/.test(escaped) ? `\\${escaped}` : escaped;
}

// Rewrites the lines of `<dir>/.gitignore` (dir relative to the root, POSIX, not empty) as root-relative patterns with
// the same meaning (gitignore(5)): a pattern with a slash before its end is anchored to `dir` (`/a`, `a/b` become
// `dir/a`, `dir/a/b`); any other matches at any depth below `dir` (`*.log`, `out/` become `dir/**/*.log`, `dir/**/out/`).
// Returns the rewritten patterns, comments and blank lines dropped. (A line comment: these patterns would end a block one.)
export function rerootGitignore(dir: string, content: string): string[] {
  const prefix = escapeGlob(dir);
  const out: string[] = [];
  for (const raw of content.split(/\r?\n/)) {
    if (raw.trim() === '' || raw.startsWith('#')) continue;
    let line = raw;
    let negate = '';
    if (line.startsWith('!')) {
      negate = '!';
      line = line.slice(1);
    } else if (line.startsWith('\\!') || line.startsWith('\\#')) {
      line = line.slice(1); // '!' and '#' are only special first; once prefixed they are literal.
    }
    const body = line.replace(/\/+$/, '');
    if (body.includes('/')) {
      const rest = line.replace(/^\/+/, '');
      if (rest.trim() === '') continue;
      out.push(`${negate}${prefix}/${rest}`);
    } else {
      if (body.trim() === '') continue;
      out.push(`${negate}${prefix}/**/${line}`);
    }
  }
  return out;
}

/**
 * Whether `rel` (relative to the root, POSIX) is ignored by `rules`: the rules of every .gitignore from the root down
 * to the entry's folder, in that order, so that git's precedence holds (the deepest matching rule wins, and a file in an
 * excluded folder cannot be re-included).
 */
function isIgnored(rel: string, isDir: boolean, rules: Ignore | null): boolean {
  return rules !== null && rules.ignores(isDir ? `${rel}/` : rel);
}

/** Runs at most `n` async operations at once. */
function limiter(n: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let active = 0;
  const queue: (() => void)[] = [];
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (active >= n) await new Promise<void>((resolve) => queue.push(resolve));
    else active++;
    try {
      return await fn();
    } finally {
      // Hand the slot straight to the next waiter, so the limit holds exactly.
      const next = queue.shift();
      if (next) next();
      else active--;
    }
  };
}

/**
 * Counts tokens for files or folders under `root`.
 * `paths` are relative to `root` (or absolute inside it); none means the whole root. Folders are walked recursively,
 * honouring every .gitignore met on the way, root and nested, each applying relative to its own folder with git's
 * precedence (gitignore(5): deeper rules win; nothing inside an excluded folder comes back), and always skipping `.git/`
 * and `node_modules/` folders at any depth. A named path is checked against the same rules a walk would apply to it:
 * when ignored it is listed in `skipped`, not counted. Symbolic links are never followed (listed in `skipped`).
 * Binary files (a NUL byte in the first 8 KB) are listed with tokens 0 and binary true; files larger than `maxBytes`
 * bytes (default 2 MB) are skipped with a reason; text is decoded as UTF-8. One encoder serves the whole call and is
 * freed before returning. Returned paths are relative to `root`, POSIX, sorted; tokens are calibrated per file and
 * `total_tokens` is their sum. `.git/info/exclude` and the global excludes file are not read.
 * Throws PivError `not_found` naming the path when `root` or a given path does not exist; `usage` for a path outside
 * `root`, a root that is not a folder, an unknown encoding, a bad calibration or a negative `maxBytes`.
 */
export async function countPaths(
  root: string,
  paths: string[],
  opts: { encoding?: EncodingName; calibration?: number; maxBytes?: number } = {},
): Promise<CountResult> {
  const encoding = checkEncoding(opts.encoding ?? DEFAULT_ENCODING);
  const calibration = checkCalibration(opts.calibration ?? 1);
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  if (!Number.isFinite(maxBytes) || maxBytes < 0) {
    throw new PivError('usage', `maxBytes must be a non-negative number, got ${String(maxBytes)}`);
  }

  const rootAbs = path.resolve(root);
  let rootStat: Stats;
  try {
    rootStat = await fsp.stat(rootAbs);
  } catch (error) {
    throw new PivError('not_found', `cannot count tokens: root folder ${rootAbs} does not exist (${errCode(error)})`, { cause: error });
  }
  if (!rootStat.isDirectory()) throw new PivError('usage', `cannot count tokens: root ${rootAbs} is not a folder`);

  // Resolve and check every named path before any work, so a typo fails fast.
  const named: { given: string; abs: string; rel: string; stat: Stats }[] = [];
  for (const given of paths.length === 0 ? ['.'] : paths) {
    const abs = path.resolve(rootAbs, given);
    const relNative = path.relative(rootAbs, abs);
    if (relNative === '..' || relNative.startsWith(`..${path.sep}`) || path.isAbsolute(relNative)) {
      throw new PivError('usage', `cannot count tokens of ${given}: it is outside ${rootAbs}`, { file: given });
    }
    let stat: Stats;
    try {
      stat = await fsp.lstat(abs);
    } catch (error) {
      const code = errCode(error);
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        throw new PivError('not_found', `cannot count tokens of ${given}: no such file or folder (${abs})`, { file: given, cause: error });
      }
      throw new PivError('usage', `cannot count tokens of ${given}: ${code} (${abs})`, { file: given, cause: error });
    }
    named.push({ given, abs, rel: toPosix(relNative), stat });
  }

  const io = limiter(IO_CONCURRENCY);
  const files = new Map<string, FileCount>();
  const skipped = new Map<string, string>();
  const visitedDirs = new Set<string>();
  const rulesCache = new Map<string, Promise<Ignore | null>>();

  /** The text of `<relDir>/.gitignore`, or null when there is none (a symlinked .gitignore is not followed, as in git). */
  const readGitignore = async (relDir: string, knownFile: boolean): Promise<string | null> => {
    const file = path.join(rootAbs, relDir, '.gitignore');
    try {
      if (!knownFile && !(await fsp.lstat(file)).isFile()) return null;
      return await fsp.readFile(file, 'utf8');
    } catch (error) {
      const code = errCode(error);
      if (code !== 'ENOENT' && code !== 'ENOTDIR') skipped.set(joinRel(relDir, '.gitignore'), `unreadable .gitignore (${code})`);
      return null;
    }
  };

  /**
   * The rules applying to entries inside folder `relDir`: those of its parent, then its own .gitignore rewritten
   * relative to the root; null when no .gitignore applies. Each folder's .gitignore is read at most once per call.
   * A walk passes what it already knows (the parent's rules, whether readdir listed a .gitignore) to save lookups.
   */
  const rulesFor = (relDir: string, known?: { parent: Ignore | null; hasGitignore: boolean }): Promise<Ignore | null> => {
    let pending = rulesCache.get(relDir);
    if (!pending) {
      pending = (async () => {
        const parent = known ? known.parent : relDir === '' ? null : await rulesFor(parentOf(relDir));
        const content = known && !known.hasGitignore ? null : await readGitignore(relDir, known !== undefined);
        if (content === null) return parent;
        const own = relDir === '' ? content : rerootGitignore(relDir, content);
        return ignore()
          .add(parent ?? [])
          .add(own);
      })();
      rulesCache.set(relDir, pending);
    }
    return pending;
  };

  const counter = createCounter(encoding);
  try {
    const countFile = async (abs: string, rel: string): Promise<void> => {
      if (files.has(rel) || skipped.has(rel)) return;
      let read: { size: number; data: Buffer | null };
      try {
        read = await io(async () => {
          const { size } = await fsp.stat(abs);
          return { size, data: size > maxBytes ? null : await fsp.readFile(abs) };
        });
      } catch (error) {
        skipped.set(rel, `unreadable (${errCode(error)})`);
        return;
      }
      const { data } = read;
      if (data === null || data.length > maxBytes) {
        skipped.set(rel, `larger than ${maxBytes} bytes (${data?.length ?? read.size} bytes)`);
        return;
      }
      if (data.subarray(0, BINARY_SNIFF_BYTES).includes(0)) {
        files.set(rel, { path: rel, bytes: data.length, tokens: 0, binary: true });
        return;
      }
      const tokens = calibrate(counter.count(data.toString('utf8')), calibration);
      files.set(rel, { path: rel, bytes: data.length, tokens, binary: false });
    };

    const walk = async (absDir: string, relDir: string, parentRules: Ignore | null): Promise<void> => {
      if (visitedDirs.has(relDir)) return;
      visitedDirs.add(relDir);
      let entries: Dirent[];
      try {
        entries = await io(() => fsp.readdir(absDir, { withFileTypes: true }));
      } catch (error) {
        skipped.set(relDir === '' ? '.' : relDir, `unreadable folder (${errCode(error)})`);
        return;
      }
      const hasGitignore = entries.some((e) => e.name === '.gitignore' && e.isFile());
      const rules = await rulesFor(relDir, { parent: parentRules, hasGitignore });
      await Promise.all(
        entries.map(async (entry) => {
          const rel = joinRel(relDir, entry.name);
          const abs = path.join(absDir, entry.name);
          if (entry.isDirectory()) {
            if (ALWAYS_SKIPPED.has(entry.name) || isIgnored(rel, true, rules)) return;
            await walk(abs, rel, rules);
          } else if (entry.isFile()) {
            if (!isIgnored(rel, false, rules)) await countFile(abs, rel);
          } else if (!isIgnored(rel, false, rules)) {
            skipped.set(rel, entry.isSymbolicLink() ? 'symbolic link (not followed)' : 'not a regular file or folder');
          }
        }),
      );
    };

    for (const { abs, rel, stat } of named) {
      if (rel === '') {
        await walk(rootAbs, '', null);
        continue;
      }
      // Check each component top-down, exactly as a walk from the root would.
      const parts = rel.split('/');
      let reason: string | null = null;
      for (let i = 0; i < parts.length && reason === null; i++) {
        const last = i === parts.length - 1;
        const isDir = last ? stat.isDirectory() : true;
        const compRel = parts.slice(0, i + 1).join('/');
        if (isDir && ALWAYS_SKIPPED.has(parts[i]!)) reason = `${parts[i]}/ folders are always skipped`;
        else if (isIgnored(compRel, isDir, await rulesFor(parentOf(compRel)))) reason = 'ignored by .gitignore';
      }
      if (reason !== null) skipped.set(rel, reason);
      else if (stat.isSymbolicLink()) skipped.set(rel, 'symbolic link (not followed)');
      else if (stat.isDirectory()) await walk(abs, rel, await rulesFor(parentOf(rel)));
      else if (stat.isFile()) await countFile(abs, rel);
      else skipped.set(rel, 'not a regular file or folder');
    }
  } finally {
    counter.free();
  }

  const byPath = <T>(a: [string, T], b: [string, T]): number => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
  const fileList = [...files.entries()].sort(byPath).map(([, f]) => f);
  return {
    files: fileList,
    total_tokens: fileList.reduce((sum, f) => sum + f.tokens, 0),
    total_bytes: fileList.reduce((sum, f) => sum + f.bytes, 0),
    skipped: [...skipped.entries()].sort(byPath).map(([p, reason]) => ({ path: p, reason })),
    encoding,
    calibration,
  };
}
