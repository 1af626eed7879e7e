// Token usage from a real Claude Code transcript-shaped file, through the built CLI: done records it, status measures the context.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { git, piv, read, seedRepo, tempRepo, write } from '../helpers/repo.js';

const line = (o: unknown) => JSON.stringify(o) + '\n';
const assistant = (id: string, at: string, usage: Record<string, number>) =>
  line({ type: 'assistant', sessionId: 'sess-1', timestamp: at, message: { id, role: 'assistant', model: 'claude-x', usage } });

describe('usage from a Claude Code transcript', () => {
  let repo: { dir: string; cleanup: () => void };
  let home = '';
  afterEach(() => {
    repo.cleanup();
    rmSync(home, { recursive: true, force: true });
  });

  it('done --usage-from claude records the tokens since the claim; status shows the live context', () => {
    repo = tempRepo();
    seedRepo(repo.dir);
    home = mkdtempSync(path.join(os.tmpdir(), 'piv-claude-'));
    const env = { CLAUDE_CONFIG_DIR: home };
    expect(piv(repo.dir, ['execute', '--json']).json.result.task.id).toBe('task-001');
    const started = JSON.parse(JSON.stringify(read(repo.dir, '.agents/tasks/task-001.yaml').match(/started_at: (\S+)/)![1]));
    const before = new Date(Date.parse(started) - 60_000).toISOString();
    const after = new Date(Date.parse(started) + 1_000).toISOString();
    const projects = path.join(home, 'projects', path.resolve(repo.dir).replace(/[^A-Za-z0-9]/g, '-'));
    mkdirSync(projects, { recursive: true });
    writeFileSync(
      path.join(projects, 'sess-1.jsonl'),
      line({ type: 'user', timestamp: before, message: { role: 'user', content: 'hi' } }) +
        assistant('msg_old', before, { input_tokens: 999, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 999 }) +
        assistant('msg_1', after, { input_tokens: 100, cache_creation_input_tokens: 2000, cache_read_input_tokens: 5000, output_tokens: 300 }) +
        assistant('msg_1', after, { input_tokens: 100, cache_creation_input_tokens: 2000, cache_read_input_tokens: 5000, output_tokens: 300 }) +
        '{"type":"assistant", broken\n' +
        assistant('msg_2', after, { input_tokens: 50, cache_creation_input_tokens: 500, cache_read_input_tokens: 9000, output_tokens: 150 }),
    );
    write(repo.dir, { 'src/user.js': 'export const user = 1;\n' });
    const done = piv(repo.dir, ['done', 'task-001', '--usage-from', 'claude', '--json'], { env });
    expect(done.code).toBe(0);
    // messages after the claim only, each id once: (100+2000+300) + (50+500+150)
    expect(done.json.result.usage).toEqual({ tokens: 3100, source: 'claude_transcript', transcript: 'sess-1' });
    expect(read(repo.dir, '.agents/tasks/task-001.yaml')).toContain('actual_tokens: 3100');
    expect(git(repo.dir, 'show', '--name-only', '--format=', 'HEAD')).toContain('.agents/state/agents/main.yaml');

    const status = piv(repo.dir, ['status', '--usage-from', 'claude', '--json'], { env });
    // the current context is the last message's input side: 50 + 500 + 9000
    expect(status.json.result.tokens).toMatchObject({ session_used: 9550, source: 'claude_transcript', level: 'ok' });
    expect(status.json.result.estimates.tasks).toEqual([{ id: 'task-001', estimated: 10000, actual: 3100, ratio: 0.31 }]);
  });

  it('a missing or unreadable transcript never fails the verb', () => {
    repo = tempRepo();
    seedRepo(repo.dir);
    home = mkdtempSync(path.join(os.tmpdir(), 'piv-claude-'));
    piv(repo.dir, ['execute']);
    write(repo.dir, { 'src/user.js': 'x\n' });
    const done = piv(repo.dir, ['done', 'task-001', '--usage-from', 'claude', '--json'], { env: { CLAUDE_CONFIG_DIR: home } });
    expect(done.code).toBe(0);
    expect(done.json.result.usage).toBeNull();
  });
});
