// Installs, removes and lists piv's agent integrations: idempotent, merges into files people own (AGENTS.md, settings.json), and deletes or overwrites only what piv wrote and nobody changed.
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, rmdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PivError } from '../errors.js';
import { agentsMdSection, codexPrompts, cursorCommands, findAgentsMdSection, geminiCommands, opencodeCommands, ownership, PROMPTS, type AgentName, type GeneratedFile } from './commands.js';
import { installClaudeSettings, inspectClaudeSettings, removeClaudeSettings, type Change, type ClaudeSettingsPlan, type MarketplaceSource } from './hooks.js';

/** piv's package root, without a trailing separator (dist/integrations/ and dist/bundle/ both sit two folders below it): holds .claude-plugin/ and plugin/. */
export const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url)).replace(/[\\/]$/, '');

export interface IntegrationOptions {
  /** The repository root. */
  root: string;
  agents: AgentName[];
  /** Overwrite (install) or delete (remove) piv's files and values that someone changed; a file without piv's marker is never deleted. */
  force?: boolean;
  /** Claude Code: write the hooks into .claude/settings.json instead of relying on the plugin's. */
  hooksInSettings?: boolean;
  /** Codex: also write custom prompts (/prompts:piv-<verb>) into $CODEX_HOME/prompts. */
  codexPrompts?: boolean;
  /** Claude Code: where the marketplace comes from: `github:OWNER/REPO`, a git URL, or a folder (default: this piv's package). */
  marketplace?: string;
}

export type AgentChange = Change & { agent: AgentName };

export interface IntegrationReport {
  root: string;
  agents: AgentName[];
  changes: AgentChange[];
  warnings: string[];
}

export type ItemState = 'untouched' | 'modified' | 'missing' | 'foreign';

export interface IntegrationList {
  root: string;
  agents: { agent: AgentName; installed: boolean; items: { path: string; item: string | null; state: ItemState; current: boolean | null }[] }[];
}

const posix = (p: string) => p.split(path.sep).join('/');

async function writeText(file: string, text: string): Promise<void> {
  const { default: write } = await import('write-file-atomic');
  await mkdir(path.dirname(file), { recursive: true });
  await write(file, text);
}

async function readText(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    throw new PivError('invalid_file', `${file}: cannot be read (${code ?? (error as Error).message})`, { file, hint: 'Make it a readable file, or remove it.' });
  }
}

/** Removes now-empty folders from `dir` up to (not including) `root`; folders outside `root` are left alone. */
async function pruneDirs(root: string, dir: string): Promise<void> {
  let d = dir;
  while (d !== root && d.startsWith(root + path.sep)) {
    try {
      if ((await readdir(d)).length > 0) return;
      await rmdir(d);
    } catch {
      return;
    }
    d = path.dirname(d);
  }
}

/** The Codex prompts folder: $CODEX_HOME/prompts, else ~/.codex/prompts. */
export function codexPromptsDir(): string {
  return path.join(process.env.CODEX_HOME || path.join(os.homedir(), '.codex'), 'prompts');
}

/** Where the marketplace is, for settings, and a warning when that place is not portable. Throws `usage` for a bad spec. */
export function marketplaceFor(root: string, spec?: string): { source: MarketplaceSource; warning: string | null } {
  if (spec) {
    if (spec.startsWith('github:')) {
      const repo = spec.slice('github:'.length);
      if (!/^[\w.-]+\/[\w.-]+$/.test(repo)) throw new PivError('usage', `--marketplace github:OWNER/REPO expected, got ${JSON.stringify(spec)}`);
      return { source: { source: 'github', repo }, warning: null };
    }
    if (/^(https?:\/\/|git@|ssh:\/\/)/.test(spec) || spec.endsWith('.git')) return { source: { source: 'git', url: spec }, warning: null };
    return { source: { source: 'directory', path: spec }, warning: null };
  }
  const rel = posix(path.relative(root, PACKAGE_ROOT));
  const inside = !rel.startsWith('..') && !path.isAbsolute(rel);
  const stale = existsSync(path.join(PACKAGE_ROOT, '.claude-plugin', 'marketplace.json')) ? null : `${PACKAGE_ROOT} holds no .claude-plugin/marketplace.json: this piv predates its plugin`;
  if (inside) return { source: { source: 'directory', path: rel === '' ? '.' : `./${rel}` }, warning: stale };
  return {
    source: { source: 'directory', path: posix(PACKAGE_ROOT) },
    warning: stale ?? `the marketplace is piv's folder outside the repository (${PACKAGE_ROOT}): add piv to the project (npm i -D piv) and run install again, or pass --marketplace github:OWNER/REPO, before committing .claude/settings.json`,
  };
}

/** The shell prefix settings hooks run piv's launcher with (the plugin's script in piv's package). */
export function settingsLauncher(root: string): string {
  const script = path.join(PACKAGE_ROOT, 'plugin', 'scripts', 'piv.sh');
  const rel = posix(path.relative(root, script));
  return rel.startsWith('..') || path.isAbsolute(rel) ? `sh ${JSON.stringify(posix(script))}` : `sh "\${CLAUDE_PROJECT_DIR}/${rel}"`;
}

/** Command files an earlier piv wrote at paths piv no longer uses (removed when unchanged). */
function legacyFiles(agent: AgentName): string[] {
  const verbs = PROMPTS.map((p) => p.name).filter((n) => n !== 'status');
  if (agent === 'claude') return verbs.map((v) => `.claude/commands/piv/${v}.md`);
  if (agent === 'opencode') return verbs.map((v) => `.opencode/command/piv-${v}.md`);
  return [];
}

/** The whole files piv generates for `agent` (Codex prompts only when asked, or when listing/removing). */
function filesFor(agent: AgentName, withCodexPrompts: boolean): GeneratedFile[] {
  switch (agent) {
    case 'gemini':
      return geminiCommands();
    case 'cursor':
      return cursorCommands();
    case 'opencode':
      return opencodeCommands();
    case 'codex':
      return withCodexPrompts ? codexPrompts(codexPromptsDir()) : [];
    case 'claude':
      return [];
  }
}

/** A path for reports: relative to the repository root inside it, absolute outside (Codex prompts). */
const display = (root: string, file: string) => (file.startsWith(root + path.sep) ? posix(path.relative(root, file)) : posix(file));

function settingsPlan(opts: IntegrationOptions): { plan: ClaudeSettingsPlan; warning: string | null } {
  const { source, warning } = marketplaceFor(opts.root, opts.marketplace);
  return { plan: { marketplace: source, hooksInSettings: opts.hooksInSettings === true, launcher: settingsLauncher(opts.root), force: opts.force === true }, warning };
}

async function readSettings(root: string): Promise<{ file: string; text: string | null; settings: Record<string, unknown> }> {
  const file = path.join(root, '.claude', 'settings.json');
  const text = await readText(file);
  if (text === null || !text.trim()) return { file, text, settings: {} };
  let settings: unknown;
  try {
    settings = JSON.parse(text);
  } catch (error) {
    throw new PivError('invalid_file', `.claude/settings.json is not valid JSON: ${(error as Error).message}`, {
      file: '.claude/settings.json',
      hint: 'Fix the JSON (piv merges into it and never overwrites a file it cannot read), or leave claude out of --agent.',
    });
  }
  if (typeof settings !== 'object' || settings === null || Array.isArray(settings)) {
    throw new PivError('invalid_file', '.claude/settings.json is not a JSON object', { file: '.claude/settings.json', hint: 'Claude Code settings are one JSON object.' });
  }
  return { file, text, settings: settings as Record<string, unknown> };
}

/**
 * Sets up each agent in `opts.agents` (see README § Agent integrations for what each gets). Idempotent: an unchanged file is
 * left as it is, a file piv wrote and nobody edited is rewritten, an edited one (or a file without piv's marker) is kept unless
 * `force`. Merges into AGENTS.md and .claude/settings.json, keeping everything else. Returns every change and warnings.
 * Throws `invalid_file` (exit 2) for a settings file that is not a JSON object (nothing is written for Claude then), `usage` for a bad marketplace.
 */
export async function installIntegrations(opts: IntegrationOptions): Promise<IntegrationReport> {
  const { root } = opts;
  const changes: AgentChange[] = [];
  const warnings: string[] = [];
  for (const agent of opts.agents) {
    const note = (c: Change) => changes.push({ agent, ...c });
    for (const f of filesFor(agent, opts.codexPrompts === true)) {
      const file = path.isAbsolute(f.path) ? f.path : path.join(root, f.path);
      const shown = display(root, file);
      const existing = await readText(file);
      if (existing === f.content) note({ path: shown, item: null, action: 'unchanged' });
      else if (existing === null) {
        await writeText(file, f.content);
        note({ path: shown, item: null, action: 'created' });
      } else {
        const owner = ownership(existing);
        if (owner === 'untouched' || opts.force) {
          await writeText(file, f.content);
          note({ path: shown, item: null, action: owner === 'untouched' ? 'updated' : 'overwritten' });
        } else note({ path: shown, item: null, action: owner === 'modified' ? 'kept_modified' : 'kept_foreign', detail: owner === 'modified' ? 'edited since piv wrote it; --force rewrites it' : 'not written by piv; --force replaces it' });
      }
    }
    if (agent === 'codex') {
      const file = path.join(root, 'AGENTS.md');
      const text = (await readText(file)) ?? '';
      const section = agentsMdSection();
      const found = findAgentsMdSection(text);
      let next: string | null = null;
      let action: Change['action'];
      if (!found) {
        next = text.trim() ? `${text.replace(/\n*$/, '\n')}\n${section}` : section;
        action = 'created';
      } else if (text.slice(found.start, found.end) === section) action = 'unchanged';
      else if (found.untouched || opts.force) {
        next = text.slice(0, found.start) + section + text.slice(found.end);
        action = found.untouched ? 'updated' : 'overwritten';
      } else action = 'kept_modified';
      if (next !== null) await writeText(file, next);
      note({ path: 'AGENTS.md', item: 'piv section', action, ...(action === 'kept_modified' ? { detail: 'the piv section was edited; --force rewrites it' } : {}) });
    }
    if (agent === 'claude') {
      const { plan, warning } = settingsPlan(opts);
      if (warning) warnings.push(warning);
      const { file, text, settings } = await readSettings(root);
      const { settings: next, changes: cs } = installClaudeSettings(settings, plan);
      const out = JSON.stringify(next, null, 2) + '\n';
      if (out !== text) await writeText(file, out);
      for (const c of cs) note(c);
    }
    for (const rel of legacyFiles(agent)) {
      const file = path.join(root, rel);
      const existing = await readText(file);
      if (existing === null) continue;
      if (ownership(existing) === 'untouched') {
        await rm(file);
        await pruneDirs(root, path.dirname(file));
        note({ path: rel, item: null, action: 'removed', detail: 'a command file of an earlier piv' });
      } else warnings.push(`${rel} is a command file of an earlier piv that was edited; delete it (${agent === 'claude' ? 'the plugin gives /piv:* now' : '.opencode/commands/ is the folder now'})`);
    }
  }
  return { root, agents: opts.agents, changes, warnings };
}

/**
 * Removes what piv installed for each agent: its unchanged files (edited ones with `force`; files without piv's marker never),
 * its AGENTS.md section (the file too when nothing else is left), its settings entries and marked hooks. Returns every change.
 * Throws `invalid_file` (exit 2) for an unreadable settings file.
 */
export async function removeIntegrations(opts: IntegrationOptions): Promise<IntegrationReport> {
  const { root } = opts;
  const changes: AgentChange[] = [];
  const warnings: string[] = [];
  for (const agent of opts.agents) {
    const note = (c: Change) => changes.push({ agent, ...c });
    const files = [...filesFor(agent, true).map((f) => f.path), ...legacyFiles(agent)];
    for (const f of files) {
      const file = path.isAbsolute(f) ? f : path.join(root, f);
      const shown = display(root, file);
      const existing = await readText(file);
      if (existing === null) continue;
      const owner = ownership(existing);
      if (owner === 'untouched' || (owner === 'modified' && opts.force)) {
        await rm(file);
        await pruneDirs(root, path.dirname(file));
        note({ path: shown, item: null, action: 'removed' });
      } else note({ path: shown, item: null, action: owner === 'modified' ? 'kept_modified' : 'kept_foreign', detail: owner === 'modified' ? 'edited since piv wrote it; --force deletes it' : 'not written by piv' });
    }
    if (agent === 'codex') {
      const file = path.join(root, 'AGENTS.md');
      const text = await readText(file);
      const found = text === null ? null : findAgentsMdSection(text);
      if (text !== null && found) {
        if (found.untouched || opts.force) {
          const rest = (text.slice(0, found.start).replace(/\n+$/, '\n') + text.slice(found.end)).replace(/^\n+/, '');
          if (rest.trim()) await writeText(file, rest);
          else await rm(file);
          note({ path: 'AGENTS.md', item: 'piv section', action: 'removed', ...(rest.trim() ? {} : { detail: 'nothing else was in AGENTS.md: the file was deleted' }) });
        } else note({ path: 'AGENTS.md', item: 'piv section', action: 'kept_modified', detail: 'the piv section was edited; --force removes it' });
      }
    }
    if (agent === 'claude') {
      const { plan } = settingsPlan(opts);
      const { file, text, settings } = await readSettings(root);
      if (text !== null) {
        const { settings: next, changes: cs } = removeClaudeSettings(settings, plan);
        if (Object.keys(next).length === 0) await rm(file);
        else {
          const out = JSON.stringify(next, null, 2) + '\n';
          if (out !== text) await writeText(file, out);
        }
        for (const c of cs) if (c.action !== 'missing') note(c);
        if (Object.keys(next).length === 0) await pruneDirs(root, path.dirname(file));
      }
    }
  }
  return { root, agents: opts.agents, changes, warnings };
}

/**
 * What piv installed per agent and the state of each item: untouched (as piv wrote it), modified, missing, or foreign (a file
 * at piv's path without its marker); `current` tells whether it equals what install would write now (null when not applicable).
 * Read-only. Throws `invalid_file` (exit 2) for an unreadable settings file.
 */
export async function listIntegrations(opts: IntegrationOptions): Promise<IntegrationList> {
  const { root } = opts;
  const agents: IntegrationList['agents'] = [];
  for (const agent of opts.agents) {
    const items: IntegrationList['agents'][number]['items'] = [];
    for (const f of filesFor(agent, true)) {
      const file = path.isAbsolute(f.path) ? f.path : path.join(root, f.path);
      const existing = await readText(file);
      if (existing === null && agent === 'codex') continue; // prompts are optional
      items.push({ path: display(root, file), item: null, state: existing === null ? 'missing' : ownership(existing), current: existing === null ? null : existing === f.content });
    }
    for (const rel of legacyFiles(agent)) {
      const existing = await readText(path.join(root, rel));
      if (existing !== null) items.push({ path: rel, item: null, state: ownership(existing), current: false });
    }
    if (agent === 'codex') {
      const text = await readText(path.join(root, 'AGENTS.md'));
      const found = text === null ? null : findAgentsMdSection(text);
      items.push({ path: 'AGENTS.md', item: 'piv section', state: !found ? 'missing' : found.untouched ? 'untouched' : 'modified', current: found ? text!.slice(found.start, found.end) === agentsMdSection() : null });
    }
    if (agent === 'claude') {
      const { plan } = settingsPlan(opts);
      const { settings } = await readSettings(root);
      for (const i of inspectClaudeSettings(settings, plan)) items.push({ path: '.claude/settings.json', item: i.item, state: i.state, current: i.state === 'missing' ? null : i.state === 'untouched' });
    }
    agents.push({ agent, installed: items.some((i) => i.state === 'untouched' || i.state === 'modified'), items });
  }
  return { root, agents };
}
