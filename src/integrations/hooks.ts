// Claude Code hooks: merged into .claude/settings.json idempotently; a person's own settings and hooks are never lost.

/** One hook command in Claude Code's settings format. */
interface HookCommand {
  type: 'command';
  command: string;
  timeout?: number;
}
interface HookGroup {
  matcher?: string;
  hooks: HookCommand[];
}
type Hooks = Record<string, HookGroup[]>;

/** Marks piv's hook commands so a re-run replaces them instead of adding copies. */
const MARK = '# piv-hook';

/**
 * The hooks piv installs (Claude Code settings `hooks`):
 * - PreCompact: `piv pause --no-commit` writes a checkpoint before the context is compacted;
 * - SessionStart (startup, clear, compact: a fresh context; not when a conversation is resumed): `piv resume --no-baseline` prints the feature's state into the fresh context.
 * Both never fail the agent's session (`|| true`): no session open is a normal state.
 */
export function pivHooks(): Hooks {
  const cmd = (c: string): HookCommand => ({ type: 'command', command: `${c} 2>/dev/null || true ${MARK}`, timeout: 60 });
  return {
    PreCompact: [{ hooks: [cmd('npx --no-install piv pause --no-commit --note "checkpoint before context compaction"')] }],
    // SessionStart output is added to the new context: the agent starts knowing the feature, its decisions and next task.
    SessionStart: [{ matcher: 'startup|clear|compact', hooks: [cmd('npx --no-install piv resume --no-baseline')] }],
  };
}

/**
 * Merges piv's hooks into the text of an existing `.claude/settings.json` (or null when there is none) and returns the new text.
 * Other keys and other hooks are kept; piv's earlier hooks (marked) are replaced, so running it twice changes nothing.
 * Throws a SyntaxError naming the problem when the existing file is not valid JSON (the caller must not overwrite it then).
 */
export function mergeClaudeSettings(existing: string | null): string {
  const settings = (existing && existing.trim() ? JSON.parse(existing) : {}) as { hooks?: Hooks } & Record<string, unknown>;
  const hooks: Hooks = { ...(settings.hooks ?? {}) };
  for (const [event, groups] of Object.entries(hooks)) {
    const kept = groups
      .map((g) => ({ ...g, hooks: g.hooks.filter((h) => !h.command?.includes(MARK)) }))
      .filter((g) => g.hooks.length > 0);
    if (kept.length) hooks[event] = kept;
    else delete hooks[event];
  }
  for (const [event, groups] of Object.entries(pivHooks())) hooks[event] = [...(hooks[event] ?? []), ...groups];
  return JSON.stringify({ ...settings, hooks }, null, 2) + '\n';
}
