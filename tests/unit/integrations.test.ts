import { describe, expect, it } from 'vitest';
import { commandFiles, PROMPTS } from '../../src/integrations/commands.js';
import { mergeClaudeSettings } from '../../src/integrations/hooks.js';

describe('Claude Code hooks', () => {
  it('installs PreCompact and SessionStart hooks into empty settings', () => {
    const settings = JSON.parse(mergeClaudeSettings(null));
    expect(settings.hooks.PreCompact[0].hooks[0].command).toContain('piv pause --no-commit');
    expect(settings.hooks.SessionStart[0]).toMatchObject({ matcher: 'startup|clear|compact' });
    expect(settings.hooks.SessionStart[0].hooks[0].command).toContain('piv resume --no-baseline');
  });

  it('keeps other settings and hooks, and is idempotent', () => {
    const mine = JSON.stringify({ model: 'opus', hooks: { PreCompact: [{ hooks: [{ type: 'command', command: 'echo mine' }] }], Stop: [{ hooks: [{ type: 'command', command: 'say done' }] }] } });
    const once = mergeClaudeSettings(mine);
    expect(mergeClaudeSettings(once)).toBe(once);
    const s = JSON.parse(once);
    expect(s.model).toBe('opus');
    expect(s.hooks.Stop).toEqual([{ hooks: [{ type: 'command', command: 'say done' }] }]);
    expect(s.hooks.PreCompact).toHaveLength(2);
    expect(s.hooks.PreCompact[0].hooks[0].command).toBe('echo mine');
  });

  it('refuses to rewrite settings that are not JSON', () => {
    expect(() => mergeClaudeSettings('{ nope')).toThrow(SyntaxError);
  });
});

describe('slash commands', () => {
  it('one file per verb per agent, in each agent\'s format', () => {
    for (const agent of ['claude', 'gemini', 'cursor', 'opencode'] as const) expect(commandFiles(agent)).toHaveLength(PROMPTS.length);
    expect(commandFiles('claude').map((f) => f.path)).toContain('.claude/commands/piv/execute.md');
    const gemini = commandFiles('gemini').find((f) => f.path.endsWith('discuss.toml'))!;
    expect(gemini.content).toContain('{{args}}');
    expect(gemini.content).not.toContain('$ARGUMENTS');
  });
});
