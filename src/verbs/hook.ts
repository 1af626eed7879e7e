// hook: runs one Claude Code hook event from the JSON Claude Code sends on stdin and returns Claude Code's documented JSON output; it never throws, so a hook never blocks the agent.
import { existsSync, statSync } from 'node:fs';
import { PivError } from '../errors.js';
import { readConfig } from '../store/index.js';
import { resolve } from './context.js';

/** The events `piv hook` handles (Claude Code's SessionStart, PreCompact, Stop). */
export const HOOK_EVENTS = ['session-start', 'pre-compact', 'stop'] as const;
export type HookEvent = (typeof HOOK_EVENTS)[number];

export interface HookOptions {
  /** `session-start`, `pre-compact` or `stop`. */
  event: string;
  /** Claude Code's hook input: the JSON text from stdin (may be empty). */
  input: string;
  /** Fallback directory when the input names no usable `cwd`. */
  cwd?: string;
  agent?: string;
}

export interface HookResult {
  event: string;
  /** SessionStart `source` (startup, resume, clear, compact, fork) or PreCompact `trigger` (manual, auto); null otherwise. */
  source: string | null;
  /** The JSON to print on stdout for Claude Code, or null to print nothing. */
  output: Record<string, unknown> | null;
  /** One line for a problem that did not stop the hook (also in `output.systemMessage` where Claude Code shows it). */
  warning: string | null;
  elapsed_ms: number;
}

/** States in which piv has nothing to say: not a repository, piv not set up, no feature open. */
const QUIET = new Set(['not_a_git_repo', 'not_initialized', 'no_session']);

const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);

/**
 * Handles one hook event (input shapes: Claude Code's hooks reference, § SessionStart, PreCompact, Stop):
 * - session-start: `piv resume --brief` (a new usage session unless `source` is resume or fork); output
 *   `{hookSpecificOutput: {hookEventName: "SessionStart", additionalContext: <brief>}}`;
 * - pre-compact: `piv pause --auto` (a checkpoint; no output: PreCompact output only decides whether to block);
 * - stop: when config hooks.stop_warning and the transcript's context passes tokens.critical_at, `{systemMessage: <warning>}`.
 * The directory is the input's `cwd` (Claude's working directory). Outside a piv repository or without a feature it is
 * silent; any other failure becomes `warning` (and a `systemMessage` on events that show one). Never throws.
 */
export async function hook(opts: HookOptions): Promise<HookResult> {
  const started = performance.now();
  let input: Record<string, unknown> = {};
  let warning: string | null = null;
  let output: Record<string, unknown> | null = null;
  let source: string | null = null;
  const event = opts.event;
  try {
    if (opts.input.trim()) {
      const parsed: unknown = JSON.parse(opts.input);
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) input = parsed as Record<string, unknown>;
    }
  } catch (error) {
    warning = `piv hook ${event}: the hook input is not JSON (${(error as Error).message}); going on without it`;
  }
  const dir = str(input.cwd);
  const cwd = dir && existsSync(dir) && statSync(dir).isDirectory() ? dir : (opts.cwd ?? process.cwd());
  try {
    if (event === 'session-start') {
      source = str(input.source) ?? 'startup';
      const { resume } = await import('./resume.js');
      const r = await resume({ cwd, agent: opts.agent, brief: true, freshContext: source !== 'resume' && source !== 'fork' });
      output = { hookSpecificOutput: { hookEventName: 'SessionStart', additionalContext: r.brief } };
    } else if (event === 'pre-compact') {
      source = str(input.trigger) ?? 'auto';
      const { pause } = await import('./pause.js');
      await pause({ cwd, agent: opts.agent, auto: true, note: `automatic checkpoint before ${source} compaction` });
    } else if (event === 'stop') {
      output = await stopWarning(cwd, input);
    } else {
      warning = `piv hook: unknown event ${JSON.stringify(event)} (known: ${HOOK_EVENTS.join(', ')}); nothing done`;
    }
  } catch (error) {
    if (!(error instanceof PivError && QUIET.has(error.code))) {
      const message = error instanceof PivError ? error.message : `internal error: ${(error as Error)?.message ?? String(error)}`;
      warning = `piv hook ${event}: ${message.split('\n')[0]} (the hook did nothing)`;
    }
  }
  if (warning && event !== 'pre-compact') output = { ...(output ?? {}), systemMessage: warning };
  return { event, source, output, warning, elapsed_ms: Math.round(performance.now() - started) };
}

/** The Stop warning: the current context (from the transcript Claude Code names) against tokens.critical_at, or null. */
async function stopWarning(cwd: string, input: Record<string, unknown>): Promise<Record<string, unknown> | null> {
  if (input.stop_hook_active === true) return null;
  const { root } = resolve({ cwd });
  const config = await readConfig(root);
  if (!config.hooks.stop_warning) return null;
  const { claudeUsageFor, readTranscriptUsage } = await import('../tokens/transcript.js');
  const transcript = str(input.transcript_path);
  const usage = transcript ? await readTranscriptUsage(transcript).catch(() => null) : await claudeUsageFor(root);
  if (!usage || usage.messages === 0) return null;
  const ratio = usage.context_tokens / config.tokens.budget;
  if (ratio < config.tokens.critical_at) return null;
  const pct = (x: number) => `${Math.round(x * 100)}%`;
  return {
    systemMessage: `piv: the context is at ${pct(ratio)} of ${config.tokens.budget} tokens (critical mark ${pct(config.tokens.critical_at)}): checkpoint with /piv:pause and go on in a fresh context (/clear; the SessionStart hook resumes the feature).`,
  };
}
