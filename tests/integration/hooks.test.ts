// Claude Code hooks end to end: a project with piv installed as a package, the hook commands exactly as the plugin and the settings declare them, Claude Code's documented JSON on stdin.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentYaml, cloneRepo, commitAll, edit, git, head, read, SEED_PLAN, sessionYaml, tempRepo, write } from '../helpers/repo.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const cleanups: (() => void)[] = [];

/** A user's project with piv as an installed package (node_modules/piv: the bundle, the plugin, the marketplace). */
function userProject(): string {
  const { dir, cleanup } = tempRepo();
  cleanups.push(cleanup);
  const pkg = path.join(dir, 'node_modules', 'piv');
  for (const part of ['package.json', 'dist/bundle', 'plugin', '.claude-plugin', 'schemas']) cpSync(path.join(ROOT, part), path.join(pkg, part), { recursive: true });
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(pkg, 'node_modules')); // piv's own dependencies
  write(dir, { '.gitignore': 'node_modules/\n' });
  return dir;
}

/** Runs the project's piv (node_modules/piv), as `npx piv` would. */
function cli(dir: string, args: string[], input = '') {
  const r = spawnSync(process.execPath, [path.join(dir, 'node_modules/piv/dist/bundle/bin.js'), ...args], { cwd: dir, input, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', PIV_AGENT: '' } });
  if (r.status !== 0) throw new Error(`piv ${args.join(' ')}: ${r.stdout}${r.stderr}`);
  return r.stdout;
}

interface HookRun {
  code: number;
  stdout: string;
  stderr: string;
  json: any;
  ms: number;
}

/** Runs a hook command string as Claude Code does (shell form, JSON on stdin, CLAUDE_PROJECT_DIR and CLAUDE_PLUGIN_ROOT set). */
function runHook(command: string, input: Record<string, unknown>, env: Record<string, string>): HookRun {
  const started = performance.now();
  const r = spawnSync('sh', ['-c', command], { cwd: env.CLAUDE_PROJECT_DIR, input: JSON.stringify(input), encoding: 'utf8', env: { ...process.env, PIV_BIN: '', PIV_AGENT: '', ...env } });
  const ms = performance.now() - started;
  let json: unknown;
  try {
    json = r.stdout.trim() ? JSON.parse(r.stdout) : undefined;
  } catch {
    json = undefined;
  }
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, json, ms };
}

const common = (dir: string, event: string, transcript = '/nonexistent/transcript.jsonl') => ({ session_id: 'abc123', transcript_path: transcript, cwd: dir, permission_mode: 'default', hook_event_name: event });
const sessionStart = (dir: string, source: string) => ({ ...common(dir, 'SessionStart'), source, model: 'claude-sonnet-4-5' });
const preCompact = (dir: string, trigger: string) => ({ ...common(dir, 'PreCompact'), trigger, custom_instructions: null });
const stop = (dir: string, transcript: string) => ({ ...common(dir, 'Stop', transcript), stop_hook_active: false, last_assistant_message: 'Done.' });

let fixture: string;
let pluginCache: string;
let pluginHooks: Record<string, { hooks: { command: string }[] }[]>;
beforeAll(() => {
  fixture = userProject();
  cli(fixture, ['init', '--agent', 'claude', '--hooks-in-settings']);
  cli(fixture, ['discuss', 'user-authentication', '--request', 'Add user authentication with JWT tokens', '--decide', 'Auth method?=JWT with refresh tokens']);
  cli(fixture, ['plan', '-'], SEED_PLAN);
  commitAll(fixture, 'set up piv');
  // Claude Code runs a marketplace plugin from a copy in its cache, away from the project: so does this test.
  pluginCache = mkdtempSync(path.join(os.tmpdir(), 'piv-plugin-cache-'));
  cleanups.push(() => rmSync(pluginCache, { recursive: true, force: true }));
  cpSync(path.join(fixture, 'node_modules/piv/plugin'), pluginCache, { recursive: true });
  pluginHooks = JSON.parse(readFileSync(path.join(pluginCache, 'hooks/hooks.json'), 'utf8')).hooks;
});
afterAll(() => {
  for (const c of cleanups.splice(0)) c();
});

/** A copy of the fixture (same state, its own files) with piv's dependencies linked. */
function project(): string {
  const { dir, cleanup } = cloneRepo(fixture);
  cleanups.push(cleanup);
  return dir;
}

const pluginCommand = (event: string) => pluginHooks[event]![0]!.hooks[0]!.command;
const settingsCommand = (dir: string, event: string) => {
  const groups = JSON.parse(read(dir, '.claude/settings.json')).hooks[event] as { hooks: { command: string }[] }[];
  return groups.flatMap((g) => g.hooks).find((h) => h.command.includes('piv-hook'))!.command;
};

describe('the plugin hooks, from the plugin cache, in a project with piv installed', () => {
  it('init enabled the plugin through the project\'s own piv package', () => {
    const settings = JSON.parse(read(fixture, '.claude/settings.json'));
    expect(settings.extraKnownMarketplaces.piv).toEqual({ source: { source: 'directory', path: './node_modules/piv' } });
    expect(settings.enabledPlugins['piv@piv']).toBe(true);
    expect(settingsCommand(fixture, 'SessionStart')).toBe('sh "${CLAUDE_PROJECT_DIR}/node_modules/piv/plugin/scripts/piv.sh" hook session-start # piv-hook');
  });

  it('SessionStart after a compaction injects the brief of the feature and its next task', () => {
    const dir = project();
    const r = runHook(pluginCommand('SessionStart'), sessionStart(dir, 'compact'), { CLAUDE_PROJECT_DIR: dir, CLAUDE_PLUGIN_ROOT: pluginCache });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.hookSpecificOutput.hookEventName).toBe('SessionStart');
    const brief: string = r.json.hookSpecificOutput.additionalContext;
    expect(brief).toContain('piv: feature user-authentication');
    expect(brief).toContain('Auth method? → JWT with refresh tokens');
    expect(brief).toContain('Next ready task: task-001 Create User model');
    expect(brief).toContain('Verify: test -f src/user.js');
    expect(brief.length).toBeLessThan(10_000); // Claude Code's inline limit for hook context
    expect(r.ms).toBeLessThan(5_000);
    expect(agentYaml(dir).sessions).toHaveLength(1); // a fresh context: a new usage session
    const resumed = runHook(pluginCommand('SessionStart'), sessionStart(dir, 'resume'), { CLAUDE_PROJECT_DIR: dir, CLAUDE_PLUGIN_ROOT: pluginCache });
    expect(resumed.json.hookSpecificOutput.additionalContext).toContain('task-001');
    expect(agentYaml(dir).sessions).toHaveLength(1); // a resumed conversation keeps its usage session
  });

  it('a claimed task is the one the fresh context continues with', () => {
    const dir = project();
    cli(dir, ['execute']);
    const r = runHook(pluginCommand('SessionStart'), sessionStart(dir, 'clear'), { CLAUDE_PROJECT_DIR: dir, CLAUDE_PLUGIN_ROOT: pluginCache });
    expect(r.json.hookSpecificOutput.additionalContext).toContain('In progress (held by this agent): task-001 Create User model');
    expect(r.json.hookSpecificOutput.additionalContext).toContain('`piv done task-001`');
  });

  it('PreCompact checkpoints without a WIP commit; config hooks.pause_commit adds one', () => {
    const dir = project();
    cli(dir, ['execute']);
    write(dir, { 'src/user.js': '// half done\n' });
    const before = head(dir);
    const r = runHook(pluginCommand('PreCompact'), preCompact(dir, 'manual'), { CLAUDE_PROJECT_DIR: dir, CLAUDE_PLUGIN_ROOT: pluginCache });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(''); // PreCompact output only decides about blocking: piv never blocks
    expect(head(dir)).toBe(before);
    expect(agentYaml(dir).checkpoints.at(-1)).toMatchObject({ in_progress: ['task-001'], note: 'automatic checkpoint before manual compaction' });
    expect(sessionYaml(dir).status).toBe('active');

    edit(dir, '.agents/config.yaml', (t) => t.replace('pause_commit: false', 'pause_commit: true'));
    runHook(pluginCommand('PreCompact'), preCompact(dir, 'auto'), { CLAUDE_PROJECT_DIR: dir, CLAUDE_PLUGIN_ROOT: pluginCache });
    expect(head(dir)).not.toBe(before);
    expect(git(dir, 'log', '-1', '--format=%s')).toBe('wip: pause point for user-authentication\n');
  });

  it('Stop warns (systemMessage) only when the transcript\'s context passes the critical mark', () => {
    const dir = project();
    const transcript = path.join(dir, '..', `${path.basename(dir)}-transcript.jsonl`);
    cleanups.push(() => rmSync(transcript, { force: true }));
    const line = (id: string, input: number) => JSON.stringify({ type: 'assistant', timestamp: '2026-01-10T10:00:00.000Z', isSidechain: false, message: { id, role: 'assistant', model: 'claude-sonnet-4-5', usage: { input_tokens: input, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 500 } } });
    writeFileSync(transcript, line('msg_1', 20_000) + '\n');
    const calm = runHook(pluginCommand('Stop'), stop(dir, transcript), { CLAUDE_PROJECT_DIR: dir, CLAUDE_PLUGIN_ROOT: pluginCache });
    expect(calm.code).toBe(0);
    expect(calm.stdout).toBe('');
    writeFileSync(transcript, line('msg_1', 20_000) + '\n' + line('msg_2', 185_000) + '\n');
    const full = runHook(pluginCommand('Stop'), stop(dir, transcript), { CLAUDE_PROJECT_DIR: dir, CLAUDE_PLUGIN_ROOT: pluginCache });
    expect(full.json.systemMessage).toMatch(/context is at 93% of 200000 tokens \(critical mark 88%\)/);
    expect(full.json.decision).toBeUndefined(); // a warning, never a block
    edit(dir, '.agents/config.yaml', (t) => t.replace('stop_warning: true', 'stop_warning: false'));
    expect(runHook(pluginCommand('Stop'), stop(dir, transcript), { CLAUDE_PROJECT_DIR: dir, CLAUDE_PLUGIN_ROOT: pluginCache }).stdout).toBe('');
  });
});

describe('hooks never block the agent', () => {
  it('a broken state is one warning the user sees, exit 0', () => {
    const dir = project();
    write(dir, { '.agents/tasks/task-002.yaml': 'version: 1\nid: task-002\nname: [unclosed\n' });
    const r = runHook(pluginCommand('SessionStart'), sessionStart(dir, 'startup'), { CLAUDE_PROJECT_DIR: dir, CLAUDE_PLUGIN_ROOT: pluginCache });
    expect(r.code).toBe(0);
    expect(r.json.systemMessage).toMatch(/^piv hook session-start: .*task-002\.yaml/);
    expect(r.json.systemMessage.split('\n')).toHaveLength(1);
    const pre = runHook(pluginCommand('PreCompact'), preCompact(dir, 'auto'), { CLAUDE_PROJECT_DIR: dir, CLAUDE_PLUGIN_ROOT: pluginCache });
    expect(pre.code).toBe(0);
    expect(pre.stdout).toBe('');
    expect(pre.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('input that is not JSON, a folder without piv, no feature: exit 0 and nothing to inject', () => {
    const dir = project();
    const garbage = spawnSync('sh', ['-c', settingsCommand(dir, 'SessionStart')], { cwd: dir, input: 'not json', encoding: 'utf8', env: { ...process.env, CLAUDE_PROJECT_DIR: dir } });
    expect(garbage.status).toBe(0);
    expect(JSON.parse(garbage.stdout).hookSpecificOutput.additionalContext).toContain('user-authentication');

    const bare = mkdtempSync(path.join(os.tmpdir(), 'piv-bare-'));
    cleanups.push(() => rmSync(bare, { recursive: true, force: true }));
    const outside = runHook(pluginCommand('SessionStart'), sessionStart(bare, 'startup'), { CLAUDE_PROJECT_DIR: dir, CLAUDE_PLUGIN_ROOT: pluginCache });
    expect(outside.code).toBe(0);
    expect(outside.stdout).toBe('');

    const fresh = userProject();
    cli(fresh, ['init', '--agent', 'none']);
    const noFeature = runHook(pluginCommand('SessionStart'), sessionStart(fresh, 'startup'), { CLAUDE_PROJECT_DIR: fresh, CLAUDE_PLUGIN_ROOT: pluginCache });
    expect([noFeature.code, noFeature.stdout]).toEqual([0, '']);
  });

  it('without any piv CLI the launcher prints one warning as Claude Code JSON and exits 0', () => {
    const empty = mkdtempSync(path.join(os.tmpdir(), 'piv-empty-'));
    cleanups.push(() => rmSync(empty, { recursive: true, force: true }));
    mkdirSync(path.join(empty, 'bin'));
    const r = runHook(pluginCommand('SessionStart'), sessionStart(empty, 'startup'), { CLAUDE_PROJECT_DIR: empty, CLAUDE_PLUGIN_ROOT: pluginCache, PATH: `${path.join(empty, 'bin')}:/usr/bin:/bin` });
    expect(r.code).toBe(0);
    expect(r.json.systemMessage).toMatch(/^piv: no piv CLI found/);
  });
});

describe('the verbs under the hooks', () => {
  it('resume --brief prints the brief only and never runs the baseline tests', () => {
    const dir = project();
    edit(dir, '.agents/config.yaml', (t) => t.replace(/^  test: .*$/m, '  test: "exit 1"'));
    const text = cli(dir, ['resume', '--brief']);
    expect(text.startsWith('piv: feature user-authentication')).toBe(true);
    const json = JSON.parse(cli(dir, ['resume', '--brief', '--json']));
    expect(json.result.baseline).toEqual({ skipped: true, reason: '--brief' });
    expect(json.result.brief).toBe(text.trimEnd());
  });

  it('pause --auto writes the checkpoint, no commit, and leaves the session active', () => {
    const dir = project();
    write(dir, { 'notes.txt': 'uncommitted\n' });
    const before = head(dir);
    const r = JSON.parse(cli(dir, ['pause', '--auto', '--json']));
    expect(r.result).toMatchObject({ auto: true, commit: null, checkpoint: { note: 'automatic checkpoint' } });
    expect(head(dir)).toBe(before);
    expect(sessionYaml(dir).status).toBe('active');
    expect(JSON.parse(cli(dir, ['pause', '--json'])).result.commit).not.toBeNull(); // a plain pause still commits
  });
});
