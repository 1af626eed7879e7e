// Command runner: runs one shell command with a timeout and always returns a result (never throws for a failing command).
import { execa } from 'execa';

export interface CommandResult {
  command: string;
  /** null when killed (timeout) or the shell could not start it. */
  exit_code: number | null;
  passed: boolean;
  timed_out: boolean;
  duration_ms: number;
  /** The last `tailLines` lines of interleaved stdout+stderr. */
  output_tail: string;
  /** The whole interleaved output (not stored; for parsing, e.g. a coverage percentage). */
  output: string;
}

/**
 * Runs `command` through the shell in `cwd`, stdin closed, with `timeoutMs` (ms) and extra `env`.
 * Returns the exit code, duration (ms) and the output tail; a command that fails or times out is a result, not an exception.
 */
export async function runCommand(command: string, opts: { cwd: string; timeoutMs: number; tailLines: number; env?: Record<string, string> }): Promise<CommandResult> {
  const started = performance.now();
  const result = await execa(command, {
    cwd: opts.cwd,
    shell: true,
    all: true,
    reject: false,
    stdin: 'ignore',
    timeout: opts.timeoutMs,
    env: { ...opts.env, FORCE_COLOR: '0' },
    stripFinalNewline: true,
    maxBuffer: 64 * 1024 * 1024,
  });
  const output = String(result.all ?? '');
  const exit = typeof result.exitCode === 'number' ? result.exitCode : null;
  return {
    command,
    exit_code: exit,
    passed: exit === 0 && !result.timedOut,
    timed_out: Boolean(result.timedOut),
    duration_ms: Math.round(performance.now() - started),
    output_tail: tail(output, opts.tailLines) + (result.timedOut ? `\n[piv: killed after ${opts.timeoutMs} ms]` : ''),
    output,
  };
}

/** The last `n` lines of `text`. */
export function tail(text: string, n: number): string {
  const lines = text.split(/\r?\n/);
  return lines.slice(Math.max(0, lines.length - n)).join('\n');
}
