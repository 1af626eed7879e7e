// Claude Code transcripts: realistic JSONL in a temp Claude home (no file-system mocks), sums, dedup, since, lookups.
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  claudeUsageFor,
  encodeCwd,
  findLatestTranscript,
  readTranscriptUsage,
  transcriptDir,
} from '../../src/tokens/transcript.js';

const SESSION = '6f1c2b1e-2d3a-4c5b-9e8f-0a1b2c3d4e5f';
const CWD = '/work/my_app';

let home: string;
beforeEach(async () => {
  home = await fsp.mkdtemp(path.join(os.tmpdir(), 'piv-'));
});
afterEach(async () => {
  await fsp.rm(home, { recursive: true, force: true });
});

interface Usage {
  input_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  output_tokens: number;
}

const base = (timestamp: string) => ({
  parentUuid: null,
  isSidechain: false,
  userType: 'external',
  cwd: CWD,
  sessionId: SESSION,
  version: '2.0.14',
  gitBranch: 'main',
  uuid: `uuid-${timestamp}`,
  timestamp,
});

const user = (timestamp: string, content: unknown) => JSON.stringify({ ...base(timestamp), type: 'user', message: { role: 'user', content } });

const assistant = (timestamp: string, id: string, usage: Usage | null, extra: Record<string, unknown> = {}, model = 'claude-sonnet-4-5-20250929') =>
  JSON.stringify({
    ...base(timestamp),
    ...extra,
    type: 'assistant',
    requestId: `req_${id}`,
    message: {
      id,
      type: 'message',
      role: 'assistant',
      model,
      content: [{ type: 'text', text: 'Working on it.' }],
      stop_reason: null,
      stop_sequence: null,
      ...(usage ? { usage: { ...usage, service_tier: 'standard', cache_creation: { ephemeral_5m_input_tokens: usage.cache_creation_input_tokens } } } : {}),
    },
  });

const u = (input: number, cacheCreation: number, cacheRead: number, output: number): Usage => ({
  input_tokens: input,
  cache_creation_input_tokens: cacheCreation,
  cache_read_input_tokens: cacheRead,
  output_tokens: output,
});

/** A transcript shaped like Claude Code's: summary, user turns, streamed assistant chunks, tool results, a sub-agent turn, noise. */
const TRANSCRIPT = [
  JSON.stringify({ type: 'summary', summary: 'Fix the flaky test', leafUuid: 'uuid-x' }),
  user('2026-01-10T10:00:00.000Z', 'fix the flaky test in src/app.ts'),
  // msg_1 streamed in two chunks: the last one carries the final output count.
  assistant('2026-01-10T10:00:05.000Z', 'msg_01', u(12, 3000, 15000, 5)),
  assistant('2026-01-10T10:00:06.000Z', 'msg_01', u(12, 3000, 15000, 420)),
  user('2026-01-10T10:00:07.000Z', [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'ok' }]),
  assistant('2026-01-10T10:01:00.000Z', 'msg_02', u(8, 500, 18000, 200)),
  '{"type":"assistant","message":{"id":"msg_broken", oops',
  // A sub-agent turn: counted in the sums, but it is not the main context.
  assistant('2026-01-10T10:01:30.000Z', 'msg_03', u(100, 0, 2000, 50), { isSidechain: true }),
  // Claude Code's local error notice: no API call, no tokens.
  assistant('2026-01-10T10:01:40.000Z', 'msg_synthetic', u(0, 0, 0, 0), {}, '<synthetic>'),
  // An assistant line without usage.
  assistant('2026-01-10T10:01:45.000Z', 'msg_nousage', null),
  '',
  '   ',
].join('\n');
const TRUNCATED_TAIL = '\n{"type":"assistant","timestamp":"2026-01-10T10:02:00.000Z","message":{"id":"msg_04","usa';

async function writeTranscript(dir: string, name: string, text: string): Promise<string> {
  await fsp.mkdir(dir, { recursive: true });
  const file = path.join(dir, name);
  await fsp.writeFile(file, text);
  return file;
}

describe('transcriptDir', () => {
  it('encodes every character that is not [A-Za-z0-9] as -', () => {
    expect(encodeCwd('/work/my_app')).toBe('-work-my-app');
    expect(encodeCwd('/home/u/Code/site.v2 (old)')).toBe('-home-u-Code-site-v2--old-');
    expect(transcriptDir(CWD, home)).toBe(path.join(home, 'projects', '-work-my-app'));
  });

  it('defaults to $CLAUDE_CONFIG_DIR, else ~/.claude', () => {
    const saved = process.env.CLAUDE_CONFIG_DIR;
    try {
      process.env.CLAUDE_CONFIG_DIR = home;
      expect(transcriptDir(CWD)).toBe(path.join(home, 'projects', '-work-my-app'));
      delete process.env.CLAUDE_CONFIG_DIR;
      expect(transcriptDir(CWD)).toBe(path.join(os.homedir(), '.claude', 'projects', '-work-my-app'));
      process.env.CLAUDE_CONFIG_DIR = '';
      expect(transcriptDir(CWD)).toBe(path.join(os.homedir(), '.claude', 'projects', '-work-my-app'));
    } finally {
      if (saved === undefined) delete process.env.CLAUDE_CONFIG_DIR;
      else process.env.CLAUDE_CONFIG_DIR = saved;
    }
  });
});

describe('readTranscriptUsage', () => {
  it('sums usage once per message id, takes the context from the last main-thread message and tolerates bad lines', async () => {
    const file = await writeTranscript(transcriptDir(CWD, home), `${SESSION}.jsonl`, TRANSCRIPT + TRUNCATED_TAIL);
    const usage = await readTranscriptUsage(file);
    expect(usage).toEqual({
      file,
      session_id: SESSION,
      messages: 3,
      input_tokens: 12 + 8 + 100,
      output_tokens: 420 + 200 + 50,
      cache_creation_input_tokens: 3000 + 500 + 0,
      cache_read_input_tokens: 15000 + 18000 + 2000,
      context_tokens: 8 + 500 + 18000, // msg_02: the sidechain and synthetic messages do not set the context
      total_tokens: 12 + 3000 + 420 + (8 + 500 + 200) + (100 + 0 + 50),
      malformed_lines: 1, // the broken line in the middle; the truncated tail is a write in progress
      last_timestamp: '2026-01-10T10:01:30.000Z',
    });
  });

  it('counts a malformed final line that ends with a newline, and handles CRLF', async () => {
    const file = await writeTranscript(home, 't.jsonl', `${TRANSCRIPT.split('\n').join('\r\n')}\r\nnot json\r\n`);
    const usage = await readTranscriptUsage(file);
    expect(usage.malformed_lines).toBe(2);
    expect(usage.messages).toBe(3);
  });

  it('keeps the last occurrence of a message id, also for its position', async () => {
    const text = [
      assistant('2026-01-10T10:00:00.000Z', 'msg_a', u(1, 10, 100, 1)),
      assistant('2026-01-10T10:00:10.000Z', 'msg_b', u(2, 20, 200, 2)),
      assistant('2026-01-10T10:00:20.000Z', 'msg_a', u(3, 30, 300, 3)),
      '',
    ].join('\n');
    const usage = await readTranscriptUsage(await writeTranscript(home, 't.jsonl', text));
    expect(usage.messages).toBe(2);
    expect(usage.output_tokens).toBe(5);
    expect(usage.context_tokens).toBe(333); // msg_a, last seen after msg_b
  });

  it('filters by since (inclusive), using the timestamp of the last chunk', async () => {
    const file = await writeTranscript(home, 't.jsonl', TRANSCRIPT + TRUNCATED_TAIL);
    const fromMsg2 = await readTranscriptUsage(file, { since: '2026-01-10T10:01:00.000Z' });
    expect(fromMsg2.messages).toBe(2);
    expect(fromMsg2.output_tokens).toBe(250);
    expect(fromMsg2.context_tokens).toBe(18508);
    expect(fromMsg2.malformed_lines).toBe(1);

    const lastChunk = await readTranscriptUsage(file, { since: '2026-01-10T10:00:06.000Z' });
    expect(lastChunk.messages).toBe(3);
    const afterAll = await readTranscriptUsage(file, { since: '2026-01-10T11:00:00Z' });
    expect(afterAll).toMatchObject({ messages: 0, total_tokens: 0, context_tokens: 0, last_timestamp: null, session_id: SESSION });
    // Same instant, another zone offset.
    const offset = await readTranscriptUsage(file, { since: '2026-01-10T11:01:00+01:00' });
    expect(offset.messages).toBe(2);
  });

  it('returns zeros for an empty file and throws when the file cannot be read or since is invalid', async () => {
    const empty = await writeTranscript(home, 'empty.jsonl', '');
    expect(await readTranscriptUsage(empty)).toMatchObject({ messages: 0, session_id: null, malformed_lines: 0, last_timestamp: null });
    await expect(readTranscriptUsage(path.join(home, 'missing.jsonl'))).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(readTranscriptUsage(home)).rejects.toMatchObject({ code: 'EISDIR' });
    await expect(readTranscriptUsage(empty, { since: 'yesterday-ish' })).rejects.toThrow(RangeError);
  });

  it('streams a large transcript', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      const ts = new Date(Date.UTC(2026, 0, 10) + i * 1000).toISOString();
      lines.push(user(ts, 'x'.repeat(200)));
      lines.push(assistant(ts, `msg_${i}`, u(1, 2, 3, 4)));
    }
    const file = await writeTranscript(home, 'big.jsonl', `${lines.join('\n')}\n`);
    const usage = await readTranscriptUsage(file);
    expect(usage).toMatchObject({ messages: 20_000, input_tokens: 20_000, total_tokens: 20_000 * 7, context_tokens: 6, malformed_lines: 0 });
  });
});

describe('findLatestTranscript', () => {
  it('picks the newest *.jsonl by modification time', async () => {
    const dir = transcriptDir(CWD, home);
    const older = await writeTranscript(dir, 'aaaa.jsonl', TRANSCRIPT);
    const newer = await writeTranscript(dir, 'bbbb.jsonl', TRANSCRIPT);
    const notes = await writeTranscript(dir, 'zzzz.txt', 'not a transcript');
    await fsp.mkdir(path.join(dir, 'folder.jsonl'));
    const now = Date.now() / 1000;
    await fsp.utimes(older, now, now); // written first, but touched last: the newest
    await fsp.utimes(newer, now - 100, now - 100);
    await fsp.utimes(notes, now + 100, now + 100);
    await fsp.utimes(path.join(dir, 'folder.jsonl'), now + 100, now + 100);
    expect(await findLatestTranscript(CWD, home)).toBe(older);
    await fsp.utimes(newer, now + 50, now + 50);
    expect(await findLatestTranscript(CWD, home)).toBe(newer);
  });

  it('returns null when the folder or the transcripts are missing', async () => {
    expect(await findLatestTranscript(CWD, home)).toBeNull();
    expect(await findLatestTranscript(CWD, path.join(home, 'no-such-home'))).toBeNull();
    await fsp.mkdir(transcriptDir(CWD, home), { recursive: true });
    expect(await findLatestTranscript(CWD, home)).toBeNull();
  });

  it('falls back to the real path of a symlinked working directory', async () => {
    const real = path.join(home, 'real-project');
    const link = path.join(home, 'linked-project');
    await fsp.mkdir(real);
    await fsp.symlink(real, link);
    const file = await writeTranscript(transcriptDir(await fsp.realpath(real), home), 's.jsonl', TRANSCRIPT);
    expect(await findLatestTranscript(link, home)).toBe(file);
  });
});

describe('claudeUsageFor', () => {
  it('finds and reads the newest transcript of a working directory', async () => {
    const dir = transcriptDir(CWD, home);
    const old = await writeTranscript(dir, 'old.jsonl', assistant('2026-01-01T00:00:00.000Z', 'msg_old', u(1, 1, 1, 1)));
    const now = Date.now() / 1000;
    await fsp.utimes(old, now - 100, now - 100);
    const current = await writeTranscript(dir, `${SESSION}.jsonl`, TRANSCRIPT + TRUNCATED_TAIL);
    const usage = await claudeUsageFor(CWD, { claudeHome: home });
    expect(usage).toMatchObject({ file: current, session_id: SESSION, messages: 3, context_tokens: 18508 });
    const since = await claudeUsageFor(CWD, { claudeHome: home, since: '2026-01-10T10:01:00Z' });
    expect(since?.messages).toBe(2);
  });

  it('uses $CLAUDE_CONFIG_DIR when no home is given', async () => {
    const saved = process.env.CLAUDE_CONFIG_DIR;
    try {
      process.env.CLAUDE_CONFIG_DIR = home;
      await writeTranscript(transcriptDir(CWD, home), 's.jsonl', TRANSCRIPT);
      expect((await claudeUsageFor(CWD))?.messages).toBe(3);
    } finally {
      if (saved === undefined) delete process.env.CLAUDE_CONFIG_DIR;
      else process.env.CLAUDE_CONFIG_DIR = saved;
    }
  });

  it('never throws: null for a missing folder, a bad since or an unreadable transcript', async () => {
    expect(await claudeUsageFor(CWD, { claudeHome: home })).toBeNull();
    expect(await claudeUsageFor(CWD, { claudeHome: path.join(home, 'nope') })).toBeNull();
    expect(await claudeUsageFor('', { claudeHome: home })).toBeNull();
    const dir = transcriptDir(CWD, home);
    await writeTranscript(dir, 's.jsonl', TRANSCRIPT);
    expect(await claudeUsageFor(CWD, { claudeHome: home, since: 'not a date' })).toBeNull();
    // A dangling symlink named like a transcript is not a candidate.
    await fsp.symlink(path.join(home, 'gone'), path.join(dir, 'dangling.jsonl'));
    expect((await claudeUsageFor(CWD, { claudeHome: home }))?.messages).toBe(3);
    // Garbage bytes are not an error: nothing to count.
    await fsp.writeFile(path.join(dir, 's.jsonl'), Buffer.from([0xff, 0xfe, 0x00, 0x7b]));
    expect(await claudeUsageFor(CWD, { claudeHome: home })).toMatchObject({ messages: 0, malformed_lines: 0 });
    // An unreadable transcript yields null (root reads anything, so only checked for other users).
    if (process.getuid?.() !== 0) {
      await fsp.chmod(path.join(dir, 's.jsonl'), 0o000);
      expect(await claudeUsageFor(CWD, { claudeHome: home })).toBeNull();
    }
  });
});
