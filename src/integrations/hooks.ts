// Claude Code: the hooks and MCP server piv's plugin declares, and the edits piv makes to .claude/settings.json; a person's own settings are never lost.

/** The plugin's name (commands are /piv:<verb>), its marketplace's name, and the id `enabledPlugins` keys it by. */
export const PLUGIN_NAME = 'piv';
export const MARKETPLACE_NAME = 'piv';
export const PLUGIN_ID = `${PLUGIN_NAME}@${MARKETPLACE_NAME}`;

/** Ends every hook command piv writes into settings, so piv finds (and replaces or removes) its own hooks and no others. */
export const HOOK_MARK = '# piv-hook';

/** The launcher as the plugin runs it: the plugin's own script, which finds the project's piv (see plugin/scripts/piv.sh). */
export const PLUGIN_LAUNCHER = 'sh "${CLAUDE_PLUGIN_ROOT}/scripts/piv.sh"';

/** One hook handler in Claude Code's settings format (`timeout` in seconds). */
export interface HookCommand {
  type: 'command';
  command: string;
  timeout?: number;
}
export interface HookGroup {
  matcher?: string;
  hooks: HookCommand[];
}
export type Hooks = Record<string, HookGroup[]>;

/**
 * piv's Claude Code hooks, each a `piv hook <event>` run through `launcher` (a shell prefix): SessionStart on every kind of
 * start (startup, resume, clear, compact) injects `piv resume --brief`; PreCompact (manual and auto) checkpoints with
 * `piv pause --auto`; Stop warns when the context passes the critical mark. `mark` appends HOOK_MARK (settings only).
 */
export function pivHooks(launcher: string, mark = false): Hooks {
  const cmd = (event: string, timeout: number): HookCommand => ({ type: 'command', command: `${launcher} hook ${event}${mark ? ` ${HOOK_MARK}` : ''}`, timeout });
  return {
    SessionStart: [{ matcher: 'compact|clear|resume|startup', hooks: [cmd('session-start', 30)] }],
    PreCompact: [{ hooks: [cmd('pre-compact', 30)] }],
    Stop: [{ hooks: [cmd('stop', 10)] }],
  };
}

/** plugin/hooks/hooks.json: the plugin's hooks. */
export function pluginHooksFile(): { description: string; hooks: Hooks } {
  return { description: 'piv: resume the feature in a fresh context, checkpoint before compaction, warn at the critical context mark', hooks: pivHooks(PLUGIN_LAUNCHER) };
}

/** plugin/.mcp.json: the plugin's MCP server, `piv mcp` over stdio through the launcher. */
export function pluginMcpFile(): { mcpServers: Record<string, { command: string; args: string[] }> } {
  return { mcpServers: { piv: { command: 'sh', args: ['${CLAUDE_PLUGIN_ROOT}/scripts/piv.sh', 'mcp'] } } };
}

/** Where Claude Code fetches piv's marketplace from (a settings `extraKnownMarketplaces` source). */
export type MarketplaceSource = { source: 'directory'; path: string } | { source: 'github'; repo: string } | { source: 'git'; url: string };

type Settings = Record<string, unknown>;
type Obj = Record<string, unknown>;

/** What happened to one item: a file, or one key of a merged file. */
export interface Change {
  path: string;
  /** The key inside a merged file (settings.json, AGENTS.md section), or null for a whole file. */
  item: string | null;
  action: 'created' | 'updated' | 'unchanged' | 'overwritten' | 'kept_modified' | 'kept_foreign' | 'removed' | 'missing';
  detail?: string;
}

const SETTINGS = '.claude/settings.json';
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
/** Two hook sets are the same whatever the order of their events. */
const sameHooks = (a: Hooks, b: Hooks) => Object.keys(a).length === Object.keys(b).length && Object.keys(a).every((k) => same(a[k], b[k]));

/** The settings hooks with piv's (marked) handlers taken out; groups left empty disappear. */
function withoutPivHooks(hooks: unknown): { hooks: Hooks; removed: number } {
  if (!isObj(hooks)) return { hooks: {}, removed: 0 };
  const out: Hooks = {};
  let removed = 0;
  for (const [event, groups] of Object.entries(hooks)) {
    if (!Array.isArray(groups)) {
      out[event] = groups as HookGroup[];
      continue;
    }
    const kept = (groups as HookGroup[])
      .map((g) => {
        if (!isObj(g) || !Array.isArray(g.hooks)) return g;
        const mine = g.hooks.filter((h) => typeof h?.command === 'string' && h.command.includes(HOOK_MARK));
        removed += mine.length;
        return { ...g, hooks: g.hooks.filter((h) => !mine.includes(h)) };
      })
      .filter((g) => !isObj(g) || !Array.isArray(g.hooks) || g.hooks.length > 0);
    if (kept.length) out[event] = kept;
  }
  return { hooks: out, removed };
}

/** The piv hooks currently in settings (marked handlers only), as groups. */
function pivHooksIn(hooks: unknown): Hooks {
  const out: Hooks = {};
  if (!isObj(hooks)) return out;
  for (const [event, groups] of Object.entries(hooks)) {
    if (!Array.isArray(groups)) continue;
    for (const g of groups as HookGroup[]) {
      const mine = isObj(g) && Array.isArray(g.hooks) ? g.hooks.filter((h) => typeof h?.command === 'string' && h.command.includes(HOOK_MARK)) : [];
      if (mine.length) (out[event] ??= []).push({ ...(g.matcher !== undefined ? { matcher: g.matcher } : {}), hooks: mine });
    }
  }
  return out;
}

/** Drops `key` from `obj` when it became an empty object. */
function pruneEmpty(obj: Obj, key: string): void {
  if (isObj(obj[key]) && Object.keys(obj[key] as Obj).length === 0) delete obj[key];
}

export interface ClaudeSettingsPlan {
  marketplace: MarketplaceSource;
  /** Hooks in settings instead of the plugin's (`--hooks-in-settings`), run through `launcher`. */
  hooksInSettings: boolean;
  launcher: string;
  force: boolean;
}

/**
 * Enables piv's plugin in a parsed `.claude/settings.json` (`extraKnownMarketplaces.piv`, `enabledPlugins["piv@piv"]`) and puts
 * piv's hooks in (hooksInSettings) or takes piv's marked hooks out (the plugin carries them). Other keys and hooks are kept; a
 * value a person changed is kept unless `force`. Returns the new settings (a copy) and what changed. Pure.
 */
export function installClaudeSettings(settings: Settings, plan: ClaudeSettingsPlan): { settings: Settings; changes: Change[] } {
  const next: Settings = structuredClone(settings);
  const changes: Change[] = [];
  const note = (item: string, action: Change['action'], detail?: string) => changes.push({ path: SETTINGS, item, action, ...(detail ? { detail } : {}) });

  const markets: Obj = isObj(next.extraKnownMarketplaces) ? next.extraKnownMarketplaces : {};
  const wanted = { source: plan.marketplace };
  const marketItem = `extraKnownMarketplaces.${MARKETPLACE_NAME}`;
  if (markets[MARKETPLACE_NAME] === undefined) {
    markets[MARKETPLACE_NAME] = wanted;
    note(marketItem, 'created');
  } else if (same(markets[MARKETPLACE_NAME], wanted)) note(marketItem, 'unchanged');
  else if (plan.force) {
    markets[MARKETPLACE_NAME] = wanted;
    note(marketItem, 'overwritten');
  } else note(marketItem, 'kept_modified', `it names another source (${JSON.stringify(markets[MARKETPLACE_NAME])}); --force replaces it`);
  next.extraKnownMarketplaces = markets;

  const enabled: Obj = isObj(next.enabledPlugins) ? next.enabledPlugins : {};
  const enabledItem = `enabledPlugins.${PLUGIN_ID}`;
  if (enabled[PLUGIN_ID] === undefined) {
    enabled[PLUGIN_ID] = true;
    note(enabledItem, 'created');
  } else if (enabled[PLUGIN_ID] === true) note(enabledItem, 'unchanged');
  else if (plan.force) {
    enabled[PLUGIN_ID] = true;
    note(enabledItem, 'overwritten');
  } else note(enabledItem, 'kept_modified', `set to ${JSON.stringify(enabled[PLUGIN_ID])} (disabled); --force enables it`);
  next.enabledPlugins = enabled;

  const before = pivHooksIn(next.hooks);
  const { hooks, removed } = withoutPivHooks(next.hooks);
  if (plan.hooksInSettings) {
    const mine = pivHooks(plan.launcher, true);
    for (const [event, groups] of Object.entries(mine)) hooks[event] = [...(hooks[event] ?? []), ...groups];
    note('hooks', sameHooks(before, mine) ? 'unchanged' : Object.keys(before).length ? 'updated' : 'created', 'SessionStart, PreCompact, Stop');
  } else if (removed > 0) note('hooks', 'removed', 'the plugin carries piv\'s hooks; the copies in settings were taken out');
  if (Object.keys(hooks).length) next.hooks = hooks;
  else delete next.hooks;
  return { settings: next, changes };
}

/**
 * Takes piv out of parsed settings: its marketplace entry (when it is the one piv writes, or `force`), `enabledPlugins["piv@piv"]`
 * (when true, or `force`) and every marked hook. Empty containers go. Returns the new settings (a copy) and what changed. Pure.
 */
export function removeClaudeSettings(settings: Settings, plan: ClaudeSettingsPlan): { settings: Settings; changes: Change[] } {
  const next: Settings = structuredClone(settings);
  const changes: Change[] = [];
  const note = (item: string, action: Change['action'], detail?: string) => changes.push({ path: SETTINGS, item, action, ...(detail ? { detail } : {}) });
  const marketItem = `extraKnownMarketplaces.${MARKETPLACE_NAME}`;
  const markets = isObj(next.extraKnownMarketplaces) ? next.extraKnownMarketplaces : null;
  if (!markets || markets[MARKETPLACE_NAME] === undefined) note(marketItem, 'missing');
  else if (same(markets[MARKETPLACE_NAME], { source: plan.marketplace }) || plan.force) {
    delete markets[MARKETPLACE_NAME];
    note(marketItem, 'removed');
  } else note(marketItem, 'kept_modified', 'it names another source than piv writes; --force removes it');
  if (markets) pruneEmpty(next, 'extraKnownMarketplaces');

  const enabledItem = `enabledPlugins.${PLUGIN_ID}`;
  const enabled = isObj(next.enabledPlugins) ? next.enabledPlugins : null;
  if (!enabled || enabled[PLUGIN_ID] === undefined) note(enabledItem, 'missing');
  else if (enabled[PLUGIN_ID] === true || plan.force) {
    delete enabled[PLUGIN_ID];
    note(enabledItem, 'removed');
  } else note(enabledItem, 'kept_modified', `set to ${JSON.stringify(enabled[PLUGIN_ID])} by someone else; --force removes it`);
  if (enabled) pruneEmpty(next, 'enabledPlugins');

  const { hooks, removed } = withoutPivHooks(next.hooks);
  note('hooks', removed ? 'removed' : 'missing');
  if (Object.keys(hooks).length) next.hooks = hooks;
  else delete next.hooks;
  return { settings: next, changes };
}

/** The state of piv's items in parsed settings, for `piv integrations list`. Pure. */
export function inspectClaudeSettings(settings: Settings, plan: ClaudeSettingsPlan): { item: string; state: 'untouched' | 'modified' | 'missing' }[] {
  const markets = isObj(settings.extraKnownMarketplaces) ? settings.extraKnownMarketplaces : {};
  const enabled = isObj(settings.enabledPlugins) ? settings.enabledPlugins : {};
  const market = markets[MARKETPLACE_NAME];
  const hooks = pivHooksIn(settings.hooks);
  const items: { item: string; state: 'untouched' | 'modified' | 'missing' }[] = [
    { item: `extraKnownMarketplaces.${MARKETPLACE_NAME}`, state: market === undefined ? 'missing' : same(market, { source: plan.marketplace }) ? 'untouched' : 'modified' },
    { item: `enabledPlugins.${PLUGIN_ID}`, state: enabled[PLUGIN_ID] === undefined ? 'missing' : enabled[PLUGIN_ID] === true ? 'untouched' : 'modified' },
  ];
  if (plan.hooksInSettings || Object.keys(hooks).length) items.push({ item: 'hooks', state: !Object.keys(hooks).length ? 'missing' : sameHooks(hooks, pivHooks(plan.launcher, true)) ? 'untouched' : 'modified' });
  return items;
}
