// Agent integrations on real repositories with a person's own files: install merges and is idempotent, edits are kept, remove gives the repository back.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { commitAll, exists, git, piv, read, tempRepo, write } from '../helpers/repo.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});
const repo = () => {
  const r = tempRepo();
  cleanups.push(r.cleanup);
  return r.dir;
};

/** Every file outside .git, with its content: what "the repository is as it was" means. */
function files(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      if (name === '.git') continue;
      const full = path.join(d, name);
      if (statSync(full).isDirectory()) walk(full);
      else out[path.relative(dir, full)] = readFileSync(full, 'utf8');
    }
  };
  walk(dir);
  return out;
}

const MY_SETTINGS = { model: 'opus', permissions: { allow: ['Bash(npm test)'] }, hooks: { Stop: [{ hooks: [{ type: 'command', command: 'say done' }] }] } };
const MY_AGENTS_MD = '# Team rules\n\nRun the tests before every commit.\n';

describe('piv init --agent / piv integrations', () => {
  it('installs every agent into a repository with its own files, idempotently, and remove gives the repository back', () => {
    const dir = repo();
    write(dir, {
      '.claude/settings.json': JSON.stringify(MY_SETTINGS, null, 2) + '\n',
      'AGENTS.md': MY_AGENTS_MD,
      '.cursor/commands/review.md': '# Review the diff\n',
      '.cursor/commands/piv-plan.md': '# my own plan command\n',
    });
    commitAll(dir, 'my project');
    const before = files(dir);

    const init = piv(dir, ['init', '--agent', 'all', '--json']);
    expect(init.code, init.stdout + init.stderr).toBe(0);
    const changes = init.json.result.integrations as { agent: string; path: string; item: string | null; action: string }[];
    expect(changes.find((c) => c.path === '.cursor/commands/piv-plan.md')).toMatchObject({ action: 'kept_foreign' });
    expect(changes.filter((c) => c.action === 'created').map((c) => c.agent)).toEqual(expect.arrayContaining(['claude', 'codex', 'gemini', 'cursor', 'opencode']));
    expect(read(dir, '.cursor/commands/piv-plan.md')).toBe('# my own plan command\n');

    const settings = JSON.parse(read(dir, '.claude/settings.json'));
    expect(settings).toMatchObject({ ...MY_SETTINGS, enabledPlugins: { 'piv@piv': true } });
    expect(settings.extraKnownMarketplaces.piv.source.source).toBe('directory');
    expect(read(dir, 'AGENTS.md').startsWith(MY_AGENTS_MD)).toBe(true);
    expect(read(dir, 'AGENTS.md')).toContain('<!-- piv:begin sha256=');
    for (const v of ['prime', 'discuss', 'plan', 'execute', 'pause', 'resume', 'validate', 'status']) {
      expect(exists(dir, `.gemini/commands/piv/${v}.toml`)).toBe(true);
      expect(exists(dir, `.opencode/commands/piv-${v}.md`)).toBe(true);
    }

    // Idempotent: nothing changes, byte for byte.
    const installed = files(dir);
    const again = piv(dir, ['integrations', 'install', '--agent', 'all', '--json']);
    expect(again.code).toBe(0);
    expect(new Set((again.json.result.changes as { action: string }[]).map((c) => c.action))).toEqual(new Set(['unchanged', 'kept_foreign']));
    expect(files(dir)).toEqual(installed);

    // An edited file is never overwritten without --force, and list says so.
    write(dir, { '.gemini/commands/piv/plan.toml': read(dir, '.gemini/commands/piv/plan.toml') + '# my tweak\n' });
    const kept = piv(dir, ['integrations', 'install', '--agent', 'gemini', '--json']);
    expect(kept.json.result.changes.find((c: { path: string }) => c.path.endsWith('plan.toml')).action).toBe('kept_modified');
    expect(read(dir, '.gemini/commands/piv/plan.toml')).toContain('# my tweak');
    const list = piv(dir, ['integrations', 'list', '--json']);
    const state = (agent: string, p: string) => list.json.result.agents.find((a: { agent: string }) => a.agent === agent).items.find((i: { path: string }) => i.path === p).state;
    expect(state('gemini', '.gemini/commands/piv/plan.toml')).toBe('modified');
    expect(state('gemini', '.gemini/commands/piv/prime.toml')).toBe('untouched');
    expect(state('cursor', '.cursor/commands/piv-plan.md')).toBe('foreign');
    expect(state('codex', 'AGENTS.md')).toBe('untouched');
    expect(list.json.result.agents.every((a: { installed: boolean }) => a.installed)).toBe(true);
    const text = piv(dir, ['integrations', 'list']);
    expect(text.stdout).toMatch(/modified\s+\.gemini\/commands\/piv\/plan\.toml/);

    const forced = piv(dir, ['integrations', 'install', '--agent', 'gemini', '--force', '--json']);
    expect(forced.json.result.changes.find((c: { path: string }) => c.path.endsWith('plan.toml')).action).toBe('overwritten');
    expect(read(dir, '.gemini/commands/piv/plan.toml')).not.toContain('# my tweak');

    // remove: piv's files go, a person's stay, merged files are as they were.
    const removed = piv(dir, ['integrations', 'remove', '--json']);
    expect(removed.code, removed.stdout).toBe(0);
    const after = files(dir);
    for (const f of Object.keys(after)) expect(f.startsWith('.agents/') || f in before, `${f} was left behind`).toBe(true);
    for (const [f, content] of Object.entries(before)) {
      if (f === '.claude/settings.json') expect(JSON.parse(after[f]!)).toEqual(MY_SETTINGS);
      else expect(after[f], f).toBe(content);
    }
    expect(exists(dir, '.gemini')).toBe(false);
    expect(exists(dir, '.opencode')).toBe(false);
  });

  it('remove keeps an edited file and section unless --force, and never deletes a file that is not piv\'s', () => {
    const dir = repo();
    expect(piv(dir, ['init', '--agent', 'cursor,codex']).code).toBe(0);
    expect(read(dir, 'AGENTS.md')).toMatch(/^<!-- piv:begin/); // piv made the file
    write(dir, { '.cursor/commands/piv-status.md': read(dir, '.cursor/commands/piv-status.md').replace('three lines', 'two lines') });
    write(dir, { 'AGENTS.md': read(dir, 'AGENTS.md').replace('**status**', '**status** (mine)') });
    const r = piv(dir, ['integrations', 'remove', '--agent', 'cursor,codex', '--json']);
    const actions = Object.fromEntries((r.json.result.changes as { path: string; action: string }[]).map((c) => [c.path, c.action]));
    expect(actions['.cursor/commands/piv-status.md']).toBe('kept_modified');
    expect(actions['.cursor/commands/piv-prime.md']).toBe('removed');
    expect(actions['AGENTS.md']).toBe('kept_modified');
    expect(exists(dir, '.cursor/commands/piv-status.md')).toBe(true);
    const forced = piv(dir, ['integrations', 'remove', '--agent', 'cursor,codex', '--force', '--json']);
    expect(forced.code).toBe(0);
    expect(exists(dir, '.cursor')).toBe(false);
    expect(exists(dir, 'AGENTS.md')).toBe(false); // it held only piv's section
  });

  it('replaces an earlier piv\'s Claude Code commands and hooks, keeping an edited command with a warning', () => {
    const dir = repo();
    const legacyPrime =
      '---\ndescription: Load the codebase brief into this context\n---\n<!-- Generated by piv init; `piv init --force-integrations` rewrites it. -->\nRun `npx piv prime --json` and read `.agents/context/prime.md`. Summarise in five lines: the stack, the test/lint/typecheck commands, the key files, and the open feature (if any) with its next task. Do not change any file.\n';
    write(dir, {
      '.claude/commands/piv/prime.md': legacyPrime,
      '.claude/commands/piv/plan.md': legacyPrime.replace('Summarise in five lines', 'Summarise in ten lines'),
      '.claude/settings.json': JSON.stringify({ hooks: { PreCompact: [{ hooks: [{ type: 'command', command: 'npx --no-install piv pause --no-commit 2>/dev/null || true # piv-hook', timeout: 60 }] }] } }),
    });
    const r = piv(dir, ['init', '--json']);
    expect(r.code).toBe(0);
    expect(exists(dir, '.claude/commands/piv/prime.md')).toBe(false);
    expect(exists(dir, '.claude/commands/piv/plan.md')).toBe(true);
    expect(r.json.result.warnings.join('\n')).toContain('.claude/commands/piv/plan.md');
    expect(JSON.parse(read(dir, '.claude/settings.json'))).toEqual({ enabledPlugins: { 'piv@piv': true }, extraKnownMarketplaces: { piv: { source: expect.any(Object) } } });
  });

  it('refuses a settings file that is not JSON and leaves it as it is', () => {
    const dir = repo();
    write(dir, { '.claude/settings.json': '{ "model": "opus", ' });
    const r = piv(dir, ['init', '--agent', 'claude', '--json']);
    expect(r.code).toBe(2);
    expect(r.json.error).toMatchObject({ code: 'invalid_file', file: '.claude/settings.json' });
    expect(read(dir, '.claude/settings.json')).toBe('{ "model": "opus", ');
  });

  it('Codex prompts go to $CODEX_HOME/prompts on request and are removed from there', () => {
    const dir = repo();
    const home = mkdtempSync(path.join(os.tmpdir(), 'piv-codex-'));
    cleanups.push(() => rmSync(home, { recursive: true, force: true }));
    const env = { CODEX_HOME: home };
    expect(piv(dir, ['integrations', 'install', '--agent', 'codex', '--codex-prompts'], { env }).code).toBe(0);
    expect(readdirSync(path.join(home, 'prompts')).sort()).toEqual(['discuss', 'execute', 'pause', 'plan', 'prime', 'resume', 'status', 'validate'].map((v) => `piv-${v}.md`));
    const list = piv(dir, ['integrations', 'list', '--agent', 'codex', '--json'], { env });
    expect(list.json.result.agents[0].items.map((i: { state: string }) => i.state)).toEqual(Array(9).fill('untouched'));
    expect(piv(dir, ['integrations', 'remove', '--agent', 'codex'], { env }).code).toBe(0);
    expect(readdirSync(path.join(home, 'prompts'))).toEqual([]);
  });

  it('--agents stays an alias, none installs nothing, an unknown agent is a usage error', () => {
    const dir = repo();
    expect(piv(dir, ['init', '--agents', 'none', '--json']).json.result.integrations).toEqual([]);
    expect(git(dir, 'status', '--porcelain', '--', '.claude', 'AGENTS.md')).toBe('');
    const bad = piv(dir, ['integrations', 'install', '--agent', 'vim', '--json']);
    expect(bad.code).toBe(2);
    expect(bad.json.error.code).toBe('usage');
  });
});
