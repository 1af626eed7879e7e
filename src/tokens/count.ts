// Token counts: one encoder per call, always freed; .gitignore rules honoured folder by folder; symlinks never followed.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { get_encoding } from 'tiktoken';
import { PivError } from '../errors.js';
import { errCode, IO_CONCURRENCY, limiter, listFiles } from './walk.js';

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
export function calibrate(raw: number, calibration: number): number {
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

export { rerootGitignore } from './walk.js';

/**
 * Counts tokens for files or folders under `root`: the files `listFiles` (./walk.ts) selects, each read once.
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

  const listed = await listFiles(root, paths, { purpose: 'count tokens' });
  const rootAbs = path.resolve(root);
  const io = limiter(IO_CONCURRENCY);
  const files: FileCount[] = [];
  const skipped = new Map<string, string>(listed.skipped.map((s) => [s.path, s.reason]));

  const counter = createCounter(encoding);
  try {
    await Promise.all(
      listed.files.map(async ({ path: rel, bytes }) => {
        if (bytes > maxBytes) {
          skipped.set(rel, `larger than ${maxBytes} bytes (${bytes} bytes)`);
          return;
        }
        let data: Buffer;
        try {
          data = await io(() => fsp.readFile(path.join(rootAbs, rel)));
        } catch (error) {
          skipped.set(rel, `unreadable (${errCode(error)})`);
          return;
        }
        if (data.length > maxBytes) {
          skipped.set(rel, `larger than ${maxBytes} bytes (${data.length} bytes)`);
          return;
        }
        if (data.subarray(0, BINARY_SNIFF_BYTES).includes(0)) {
          files.push({ path: rel, bytes: data.length, tokens: 0, binary: true });
          return;
        }
        const tokens = calibrate(counter.count(data.toString('utf8')), calibration);
        files.push({ path: rel, bytes: data.length, tokens, binary: false });
      }),
    );
  } finally {
    counter.free();
  }

  const byPath = <T>(a: [string, T], b: [string, T]): number => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
  const fileList = files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return {
    files: fileList,
    total_tokens: fileList.reduce((sum, f) => sum + f.tokens, 0),
    total_bytes: fileList.reduce((sum, f) => sum + f.bytes, 0),
    skipped: [...skipped.entries()].sort(byPath).map(([p, reason]) => ({ path: p, reason })),
    encoding,
    calibration,
  };
}
