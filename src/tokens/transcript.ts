// Claude Code transcripts: real token usage read as a stream, each message id counted once; lookups never throw.
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';

export interface TranscriptUsage {
  /** Absolute path of the transcript read. */
  file: string;
  /** `sessionId` of the last line carrying one, or null. */
  session_id: string | null;
  /** Distinct assistant messages counted (by `message.id`). */
  messages: number;
  /** Sums over counted messages, in tokens. */
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  /** input + cache_creation + cache_read of the LAST counted main-thread assistant message: the current context size, in tokens. */
  context_tokens: number;
  /** Sum over messages of input + cache_creation + output (tokens processed, excluding cache reads). */
  total_tokens: number;
  /** Lines that are not valid JSON (a truncated final line, being written, is not counted here). */
  malformed_lines: number;
  /** Latest timestamp among counted messages (ISO string as written), or null. */
  last_timestamp: string | null;
}

interface Usage {
  input: number;
  cacheCreation: number;
  cacheRead: number;
  output: number;
}

interface MessageRecord {
  usage: Usage;
  timestamp: string | null;
  time: number;
  sidechain: boolean;
}

/**
 * Claude Code's folder name for a working directory: the absolute path with every character that is not
 * `[A-Za-z0-9]` replaced by `-` (`/work/my_app` → `-work-my-app`).
 */
export function encodeCwd(cwd: string): string {
  return path.resolve(cwd).replace(/[^A-Za-z0-9]/g, '-');
}

function defaultClaudeHome(): string {
  const fromEnv = process.env.CLAUDE_CONFIG_DIR;
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : path.join(os.homedir(), '.claude');
}

/**
 * The folder where Claude Code keeps the transcripts of sessions started in `cwd`:
 * `<claudeHome>/projects/<encoded cwd>` (see `encodeCwd`). `claudeHome` defaults to `$CLAUDE_CONFIG_DIR` (when set and
 * not empty), else `~/.claude` — Claude Code's own rule. Pure: touches no file.
 */
export function transcriptDir(cwd: string, claudeHome?: string): string {
  return path.join(path.resolve(claudeHome ?? defaultClaudeHome()), 'projects', encodeCwd(cwd));
}

async function newestJsonl(dir: string): Promise<string | null> {
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch {
    return null;
  }
  let best: { file: string; mtime: number } | null = null;
  for (const name of names) {
    if (!name.endsWith('.jsonl')) continue;
    const file = path.join(dir, name);
    try {
      const stat = await fsp.stat(file);
      if (!stat.isFile()) continue;
      // Ties (same mtime) go to the greater name, so the choice is stable.
      if (best === null || stat.mtimeMs > best.mtime || (stat.mtimeMs === best.mtime && file > best.file)) {
        best = { file, mtime: stat.mtimeMs };
      }
    } catch {
      // Vanished between readdir and stat: not a candidate.
    }
  }
  return best?.file ?? null;
}

/**
 * The newest (by modification time) `*.jsonl` file directly in `transcriptDir(cwd, claudeHome)`, as an absolute path,
 * or null when the folder or files are missing. When nothing is found under `cwd` as given and its real path (symlinks
 * resolved) differs, that folder is tried too. Never throws.
 */
export async function findLatestTranscript(cwd: string, claudeHome?: string): Promise<string | null> {
  try {
    const found = await newestJsonl(transcriptDir(cwd, claudeHome));
    if (found !== null) return found;
    const real = await fsp.realpath(cwd).catch(() => null);
    if (real !== null && real !== path.resolve(cwd)) return await newestJsonl(transcriptDir(real, claudeHome));
    return null;
  } catch {
    return null;
  }
}

const tokens = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0);
const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Sums the token usage recorded in a Claude Code transcript (JSONL), read line by line as a stream.
 * Counted: lines with `type: "assistant"` (or `message.role: "assistant"`) whose `message.usage` is an object, except
 * `<synthetic>` messages (Claude Code's locally made error notices, which cost nothing). A `message.id` seen on several
 * lines (streamed chunks) is counted once, its last line winning; lines without an id count on their own.
 * `context_tokens` comes from the last counted message not marked `isSidechain` (sub-agent turns have their own
 * context), falling back to the last counted message. Tolerates malformed lines (counted in `malformed_lines`), a
 * truncated final line (not counted), lines without usage and blank lines.
 * `since` (ISO time): only messages whose timestamp is at or after it; messages without a valid timestamp are then left out.
 * Throws when the file cannot be read (the fs error) and a RangeError when `since` is not a valid date.
 */
export async function readTranscriptUsage(file: string, opts: { since?: string } = {}): Promise<TranscriptUsage> {
  const since = opts.since === undefined ? null : Date.parse(opts.since);
  if (since !== null && Number.isNaN(since)) throw new RangeError(`since is not a valid date: ${opts.since}`);

  const abs = path.resolve(file);
  const handle = await fsp.open(abs, 'r'); // Throws ENOENT / EACCES before any stream exists.
  const stream = handle.createReadStream({ encoding: 'utf8' }); // Closes the handle when done.
  let lastChar = '';
  stream.on('data', (chunk: string | Buffer) => {
    if (chunk.length > 0) lastChar = String(chunk).slice(-1);
  });
  const streamError = new Promise<never>((_, reject) => stream.once('error', reject));
  streamError.catch(() => undefined); // Handled by the race below; never unhandled.

  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  const records = new Map<string, MessageRecord>();
  let sessionId: string | null = null;
  let malformed = 0;
  let lastLineBad = false;
  let lineNo = 0;

  const consume = async (): Promise<void> => {
    for await (const raw of lines) {
      lineNo++;
      const line = raw.trim();
      lastLineBad = false;
      if (line === '') continue;
      let entry: unknown;
      try {
        entry = JSON.parse(line);
      } catch {
        malformed++;
        lastLineBad = true;
        continue;
      }
      if (!isObject(entry)) continue;
      if (typeof entry.sessionId === 'string') sessionId = entry.sessionId;
      const message = entry.message;
      if (!isObject(message) || !isObject(message.usage)) continue;
      if (entry.type !== 'assistant' && message.role !== 'assistant') continue;
      if (message.model === '<synthetic>') continue;
      const usage = message.usage;
      const timestamp = typeof entry.timestamp === 'string' ? entry.timestamp : null;
      const key = typeof message.id === 'string' && message.id !== '' ? `id:${message.id}` : `line:${lineNo}`;
      records.delete(key); // Re-inserting keeps the map in order of last occurrence.
      records.set(key, {
        usage: {
          input: tokens(usage.input_tokens),
          cacheCreation: tokens(usage.cache_creation_input_tokens),
          cacheRead: tokens(usage.cache_read_input_tokens),
          output: tokens(usage.output_tokens),
        },
        timestamp,
        time: timestamp === null ? Number.NaN : Date.parse(timestamp),
        sidechain: entry.isSidechain === true,
      });
    }
  };

  try {
    await Promise.race([consume(), streamError]);
  } finally {
    lines.close();
    stream.destroy();
  }
  // A final line without its newline that does not parse is a write in progress, not a malformed line.
  if (lastLineBad && lastChar !== '\n') malformed--;

  const result: TranscriptUsage = {
    file: abs,
    session_id: sessionId,
    messages: 0,
    input_tokens: 0,
    output_tokens: 0,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    context_tokens: 0,
    total_tokens: 0,
    malformed_lines: malformed,
    last_timestamp: null,
  };
  let lastTime = Number.NEGATIVE_INFINITY;
  let lastAny: Usage | null = null;
  let lastMain: Usage | null = null;
  for (const record of records.values()) {
    if (since !== null && !(record.time >= since)) continue;
    const u = record.usage;
    result.messages++;
    result.input_tokens += u.input;
    result.output_tokens += u.output;
    result.cache_creation_input_tokens += u.cacheCreation;
    result.cache_read_input_tokens += u.cacheRead;
    result.total_tokens += u.input + u.cacheCreation + u.output;
    lastAny = u;
    if (!record.sidechain) lastMain = u;
    if (record.timestamp !== null && record.time > lastTime) {
      lastTime = record.time;
      result.last_timestamp = record.timestamp;
    }
  }
  const last = lastMain ?? lastAny;
  if (last) result.context_tokens = last.input + last.cacheCreation + last.cacheRead;
  return result;
}

/**
 * Finds the newest transcript for `cwd` (see `findLatestTranscript`) and reads its usage (see `readTranscriptUsage`).
 * Returns null instead of throwing on any problem — no transcript, unreadable file, bad `since` — because piv must never
 * fail a verb over a transcript.
 */
export async function claudeUsageFor(
  cwd: string,
  opts: { claudeHome?: string; since?: string } = {},
): Promise<TranscriptUsage | null> {
  try {
    const file = await findLatestTranscript(cwd, opts.claudeHome);
    if (file === null) return null;
    return await readTranscriptUsage(file, opts.since === undefined ? {} : { since: opts.since });
  } catch {
    return null;
  }
}
