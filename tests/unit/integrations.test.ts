// Golden tests of every generated integration file, parsed the way each agent parses it (front matter, TOML, JSON), and of the settings merge.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseToml } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  agentsMdSection,
  claudePluginCommands,
  codexPrompts,
  cursorCommands,
  findAgentsMdSection,
  geminiCommands,
  opencodeCommands,
  ownership,
  PROMPTS,
} from '../../src/integrations/commands.js';
import { HOOK_MARK, installClaudeSettings, inspectClaudeSettings, pivHooks, pluginHooksFile, pluginMcpFile, removeClaudeSettings, type ClaudeSettingsPlan } from '../../src/integrations/hooks.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const VERBS = ['prime', 'discuss', 'plan', 'execute', 'pause', 'resume', 'validate', 'status'];

/** Splits `---\nYAML\n---\nbody` the way agents read Markdown commands: the YAML parsed, the body as the prompt. */
function frontMatter(text: string): { data: Record<string, unknown>; body: string } {
  const m = /^---\n([\s\S]*?)\n---\n([\s\S]*)$/.exec(text);
  if (!m) throw new Error(`no front matter in:\n${text}`);
  return { data: parseYaml(m[1]!) as Record<string, unknown>, body: m[2]! };
}

describe('the prompts', () => {
  it('one per verb, the seven of the workflow plus status, each telling the agent to run piv', () => {
    expect(PROMPTS.map((p) => p.name)).toEqual(VERBS);
    for (const p of PROMPTS) expect(p.body).toContain(`npx piv ${p.name === 'plan' ? 'plan .agents/plan.yaml' : p.name}`);
    expect(PROMPTS.find((p) => p.name === 'plan')!.body).toMatch(/Write the plan file .*then run `npx piv plan/);
    expect(PROMPTS.find((p) => p.name === 'execute')!.body).toMatch(/Implement the brief .*then run `npx piv done <id>`/);
  });
});

describe('Claude Code plugin commands', () => {
  it('commands/<verb>.md with front matter Claude Code reads (description, argument-hint) and $ARGUMENTS', () => {
    const files = claudePluginCommands();
    expect(files.map((f) => f.path)).toEqual(VERBS.map((v) => `commands/${v}.md`));
    for (const [i, f] of files.entries()) {
      const { data, body } = frontMatter(f.content);
      expect(data.description).toBe(PROMPTS[i]!.description);
      expect(body.trim()).toBe(PROMPTS[i]!.body);
    }
    const discuss = frontMatter(files[1]!.content);
    expect(discuss.data['argument-hint']).toBe('<feature request>');
    expect(discuss.body).toContain('$ARGUMENTS');
  });

  it('plugin/ holds exactly what the generator writes (npm run plugin regenerates it)', () => {
    const dir = new URL('../../plugin/', import.meta.url);
    expect(readdirSync(new URL('commands/', dir)).sort()).toEqual(VERBS.map((v) => `${v}.md`).sort());
    for (const f of claudePluginCommands()) expect(readFileSync(new URL(f.path, dir), 'utf8')).toBe(f.content);
    expect(JSON.parse(readFileSync(new URL('hooks/hooks.json', dir), 'utf8'))).toEqual(pluginHooksFile());
    expect(JSON.parse(readFileSync(new URL('.mcp.json', dir), 'utf8'))).toEqual(pluginMcpFile());
  });

  it('the manifest names the plugin piv at the package version; the marketplace at the repository root lists it', () => {
    const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8'));
    const manifest = JSON.parse(readFileSync(`${ROOT}plugin/.claude-plugin/plugin.json`, 'utf8'));
    expect(manifest).toMatchObject({ name: 'piv', version: pkg.version });
    // Components sit in their default places; declaring the default hooks file again makes Claude Code load it twice.
    expect(manifest.hooks).toBeUndefined();
    const market = JSON.parse(readFileSync(`${ROOT}.claude-plugin/marketplace.json`, 'utf8'));
    expect(market).toMatchObject({ name: 'piv', owner: { name: expect.any(String) }, plugins: [{ name: 'piv', source: './plugin' }] });
    expect(existsSync(`${ROOT}plugin/.claude-plugin/plugin.json`)).toBe(true);
    expect(pkg.files).toEqual(expect.arrayContaining(['plugin', '.claude-plugin']));
  });

  it('hooks: SessionStart on every start, PreCompact, Stop, all through the bundled launcher', () => {
    const { hooks } = pluginHooksFile();
    expect(Object.keys(hooks)).toEqual(['SessionStart', 'PreCompact', 'Stop']);
    expect(hooks.SessionStart![0]!.matcher).toBe('compact|clear|resume|startup');
    expect(hooks.PreCompact![0]!.matcher).toBeUndefined(); // manual and auto
    for (const [event, groups] of Object.entries(hooks)) {
      const h = groups[0]!.hooks[0]!;
      expect(h.type).toBe('command');
      expect(h.command).toBe(`sh "\${CLAUDE_PLUGIN_ROOT}/scripts/piv.sh" hook ${event === 'SessionStart' ? 'session-start' : event === 'PreCompact' ? 'pre-compact' : 'stop'}`);
      expect(h.timeout).toBeLessThanOrEqual(30);
    }
    expect(existsSync(`${ROOT}plugin/scripts/piv.sh`)).toBe(true);
    expect(pluginMcpFile().mcpServers.piv).toEqual({ command: 'sh', args: ['${CLAUDE_PLUGIN_ROOT}/scripts/piv.sh', 'mcp'] });
  });
});

describe('Gemini CLI, Cursor, opencode, Codex files', () => {
  it('Gemini: .gemini/commands/piv/<verb>.toml with only description and prompt, {{args}} for the arguments', () => {
    const files = geminiCommands();
    expect(files.map((f) => f.path)).toEqual(VERBS.map((v) => `.gemini/commands/piv/${v}.toml`));
    for (const [i, f] of files.entries()) {
      const toml = parseToml(f.content);
      expect(Object.keys(toml).sort()).toEqual(['description', 'prompt']);
      expect(toml.description).toBe(PROMPTS[i]!.description);
      expect(toml.prompt).not.toContain('$ARGUMENTS');
      expect(f.content.split('\n')[0]).toMatch(/^# piv:generated sha256=[0-9a-f]{16}/);
    }
    expect(parseToml(files[1]!.content).prompt).toContain('{{args}}');
  });

  it('Cursor: .cursor/commands/piv-<verb>.md, plain Markdown with no placeholder', () => {
    const files = cursorCommands();
    expect(files.map((f) => f.path)).toEqual(VERBS.map((v) => `.cursor/commands/piv-${v}.md`));
    for (const [i, f] of files.entries()) {
      expect(f.content).toMatch(/^<!-- piv:generated sha256=[0-9a-f]{16}[^\n]*-->\n# /);
      expect(f.content).toContain(`# ${PROMPTS[i]!.description}\n`);
      expect(f.content).not.toContain('$ARGUMENTS');
    }
  });

  it('opencode: .opencode/commands/piv-<verb>.md with description front matter and $ARGUMENTS', () => {
    const files = opencodeCommands();
    expect(files.map((f) => f.path)).toEqual(VERBS.map((v) => `.opencode/commands/piv-${v}.md`));
    for (const [i, f] of files.entries()) {
      const { data, body } = frontMatter(f.content);
      expect(data).toEqual({ description: PROMPTS[i]!.description });
      expect(body).toMatch(/^<!-- piv:generated /);
    }
    expect(frontMatter(files[1]!.content).body).toContain('$ARGUMENTS');
  });

  it('Codex prompts: <dir>/piv-<verb>.md with description and argument-hint', () => {
    const files = codexPrompts('/home/u/.codex/prompts');
    expect(files.map((f) => f.path)).toEqual(VERBS.map((v) => `/home/u/.codex/prompts/piv-${v}.md`));
    expect(frontMatter(files[1]!.content).data).toEqual({ description: PROMPTS[1]!.description, 'argument-hint': '<feature request>' });
  });

  it('AGENTS.md: one delimited section naming every verb, recognised as unchanged until someone edits it', () => {
    const section = agentsMdSection();
    for (const v of VERBS) expect(section).toContain(`- **${v}**`);
    expect(section).not.toContain('$ARGUMENTS');
    const doc = `# Mine\n\nKeep this.\n\n${section}\n## After\n`;
    const found = findAgentsMdSection(doc)!;
    expect(doc.slice(found.start, found.end)).toBe(section);
    expect(found.untouched).toBe(true);
    expect(findAgentsMdSection(doc.replace('**plan**', '**plan!**'))!.untouched).toBe(false);
    expect(findAgentsMdSection('# no section\n')).toBeNull();
  });

  it('ownership: generated files are untouched, edited ones modified, others foreign; earlier piv files count as piv\'s', () => {
    for (const f of [...geminiCommands(), ...cursorCommands(), ...opencodeCommands()]) {
      expect(ownership(f.content)).toBe('untouched');
      expect(ownership(f.content.replace('npx piv', 'npx  piv'))).toBe('modified');
    }
    expect(ownership('# my own command\n')).toBe('foreign');
    const legacy = '---\ndescription: Load the codebase brief into this context\n---\n<!-- Generated by piv init; `piv init --force-integrations` rewrites it. -->\nRun `npx piv prime --json` and read `.agents/context/prime.md`. Summarise in five lines: the stack, the test/lint/typecheck commands, the key files, and the open feature (if any) with its next task. Do not change any file.\n';
    expect(ownership(legacy)).toBe('untouched');
    expect(ownership(legacy.replace('five', 'six'))).toBe('modified');
  });
});

describe('.claude/settings.json', () => {
  const plan: ClaudeSettingsPlan = { marketplace: { source: 'directory', path: './node_modules/piv' }, hooksInSettings: false, launcher: 'sh "${CLAUDE_PROJECT_DIR}/node_modules/piv/plugin/scripts/piv.sh"', force: false };
  const mine = { model: 'opus', permissions: { allow: ['Bash(npm test)'] }, enabledPlugins: { 'other@x': true }, hooks: { Stop: [{ hooks: [{ type: 'command', command: 'say done' }] }] } };

  it('enables the plugin, keeps everything else, and is idempotent', () => {
    const once = installClaudeSettings(mine, plan);
    expect(once.settings).toEqual({ ...mine, enabledPlugins: { 'other@x': true, 'piv@piv': true }, extraKnownMarketplaces: { piv: { source: plan.marketplace } } });
    expect(once.changes.map((c) => c.action)).toEqual(['created', 'created']);
    const twice = installClaudeSettings(once.settings, plan);
    expect(twice.settings).toEqual(once.settings);
    expect(twice.changes.every((c) => c.action === 'unchanged')).toBe(true);
    expect(mine.enabledPlugins).toEqual({ 'other@x': true }); // the input is not changed
  });

  it('remove gives back exactly the settings a person had', () => {
    const installed = installClaudeSettings(mine, { ...plan, hooksInSettings: true }).settings;
    expect(removeClaudeSettings(installed, plan).settings).toEqual(mine);
    expect(removeClaudeSettings({}, plan).settings).toEqual({});
  });

  it('--hooks-in-settings: the three hooks, marked, after the person\'s own; without it the marked copies go', () => {
    const { settings } = installClaudeSettings(mine, { ...plan, hooksInSettings: true });
    const hooks = settings.hooks as Record<string, { matcher?: string; hooks: { command: string }[] }[]>;
    expect(hooks.Stop![0]!.hooks[0]!.command).toBe('say done');
    expect(hooks.Stop![1]!.hooks[0]!.command).toBe(`${plan.launcher} hook stop ${HOOK_MARK}`);
    expect(hooks.SessionStart![0]).toEqual(pivHooks(plan.launcher, true).SessionStart![0]);
    expect(inspectClaudeSettings(settings, { ...plan, hooksInSettings: true }).map((i) => i.state)).toEqual(['untouched', 'untouched', 'untouched']);
    const back = installClaudeSettings(settings, plan);
    expect(back.settings.hooks).toEqual(mine.hooks);
    expect(back.changes.find((c) => c.item === 'hooks')!.action).toBe('removed');
  });

  it('the earlier design\'s hooks (npx piv, marked) are replaced, not kept twice', () => {
    const old = { hooks: { PreCompact: [{ hooks: [{ type: 'command', command: `npx --no-install piv pause --no-commit 2>/dev/null || true ${HOOK_MARK}` }] }], SessionStart: [{ matcher: 'startup|clear|compact', hooks: [{ type: 'command', command: `npx --no-install piv resume --no-baseline 2>/dev/null || true ${HOOK_MARK}` }] }] } };
    expect(installClaudeSettings(old, plan).settings.hooks).toBeUndefined();
  });

  it('a value a person changed is kept unless --force', () => {
    const disabled = { enabledPlugins: { 'piv@piv': false }, extraKnownMarketplaces: { piv: { source: { source: 'github', repo: 'me/piv' } } } };
    const kept = installClaudeSettings(disabled, plan);
    expect(kept.settings).toEqual(disabled);
    expect(kept.changes.map((c) => c.action)).toEqual(['kept_modified', 'kept_modified']);
    expect(inspectClaudeSettings(disabled, plan).map((i) => i.state)).toEqual(['modified', 'modified']);
    expect(removeClaudeSettings(disabled, plan).settings).toEqual(disabled);
    const forced = installClaudeSettings(disabled, { ...plan, force: true });
    expect(forced.settings).toEqual({ enabledPlugins: { 'piv@piv': true }, extraKnownMarketplaces: { piv: { source: plan.marketplace } } });
    expect(removeClaudeSettings(disabled, { ...plan, force: true }).settings).toEqual({});
  });
});
