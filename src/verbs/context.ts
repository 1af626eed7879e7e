// Verb context: resolves the repository, the clock, the agent and the storage mode once per command, so every verb sees one consistent "now" and one source of truth.
import { PivError } from '../errors.js';
import { findRepoRoot } from '../store/layout.js';
import { AGENT_ID_PATTERN } from '../store/formats.js';
import { headBranch } from '../git/worktrees.js';
import { readConfig, readSession } from '../store/index.js';
import { agentOfBranch, detectMode, type Mode } from '../swarm/mode.js';

/** Options every verb takes. */
export interface BaseOptions {
  /** Directory inside the repository (default: process.cwd()). */
  cwd?: string;
  /** The current time; tests pass a fixed or shifted clock. */
  now?: Date;
}

/**
 * The agent id: `agent`, else $PIV_AGENT, else `main`. Throws `usage` (exit 2) for an id that cannot be a file name
 * (an agent's state lives in `.agents/state/agents/<id>.yaml`).
 */
export function defaultAgent(agent?: string): string {
  const id = (agent ?? process.env.PIV_AGENT ?? 'main').trim() || 'main';
  if (!AGENT_ID_PATTERN.test(id)) {
    throw new PivError('usage', `agent id ${JSON.stringify(id)} is not valid`, { hint: 'Use letters, digits, dot, dash or underscore (at most 64), e.g. --agent worker-1.' });
  }
  return id;
}

/** Where actual token usage is read from: the option when given, else `claude` inside Claude Code ($CLAUDECODE=1), else none. */
export function usageSource(option?: 'claude' | 'none'): 'claude' | 'none' {
  return option ?? (process.env.CLAUDECODE === '1' ? 'claude' : 'none');
}

/** Repository root and ISO time for a verb invocation. Throws `not_a_git_repo` (exit 2). */
export function resolve(opts: BaseOptions): { root: string; now: string; nowMs: number } {
  const root = findRepoRoot(opts.cwd ?? process.cwd());
  const date = opts.now ?? new Date();
  return { root, now: date.toISOString(), nowMs: date.getTime() };
}

/** The agent, mode and clock of a verb that changes shared state: the agent defaults to the one whose working tree this is. */
export async function stateContext(opts: BaseOptions & { agent?: string }): Promise<{ root: string; now: string; nowMs: number; agent: string; mode: Mode; leaseMs: number }> {
  const { root, now, nowMs } = resolve(opts);
  const config = await readConfig(root);
  const session = await readSession(root);
  const mode = detectMode(root, session?.feature ?? null, config);
  const inferred = mode.kind === 'branch' ? agentOfBranch(mode.feature, headBranch(root)) : null;
  return { root, now, nowMs, agent: defaultAgent(opts.agent ?? inferred ?? undefined), mode, leaseMs: config.claims.lease_minutes * 60_000 };
}
