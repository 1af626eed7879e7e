// done: verify, then one commit holding the task's changes and its YAML; a failing verify records the attempt and commits nothing.
import { complete, assertHeldBy, recordFailedAttempt } from '../core/transitions.js';
import { PivError } from '../errors.js';
import { runCommand } from '../exec/run.js';
import { changedPaths, commitPaths, taskCommitMessage } from '../git/git.js';
import { hasLinkedWorktrees } from '../git/worktrees.js';
import { AGENTS_DIR, layout, rel } from '../store/layout.js';
import { readAgentsFile, readAgentState, readConfig, readSession, readTask, readTasks, restoreAgentsFile, withStateLock, writeAgentState, writeTask } from '../store/index.js';
import type { AgentState, Attempt, Task } from '../store/schemas.js';
import { defaultAgent, resolve, usageSource, type BaseOptions } from './context.js';

export interface DoneOptions extends BaseOptions {
  id: string;
  agent?: string;
  /** Tokens this task used (added to the task and to the current usage session). */
  tokens?: number;
  /** Complete without running verify (recorded as a skipped attempt). Required for a task without verify. */
  noVerify?: boolean;
  /** Commit every changed file, not only the task's declared files. */
  all?: boolean;
  /** Where actual usage comes from when `tokens` is not given: `claude` reads the Claude Code transcript (default when $CLAUDECODE=1). */
  usageFrom?: 'claude' | 'none';
}

export interface DoneResult {
  id: string;
  agent: string;
  passed: boolean;
  /** The task's status afterwards: completed, in_progress (verify failed) or failed (max_attempts reached). */
  status: Task['status'];
  attempt: Attempt;
  /** The task commit's hash, or null when nothing was committed. */
  commit: string | null;
  message: string | null;
  committed_paths: string[];
  /** Changed files the commit did not take (outside the task's declared files). */
  left_uncommitted: string[];
  /** Tokens recorded for the task, and where the figure came from. */
  usage: { tokens: number; source: 'flag' | 'claude_transcript'; transcript: string | null } | null;
  /** Things the agent should know that did not stop the verb (e.g. the shared claim could not be marked completed). */
  warnings: string[];
}

/**
 * Completes task `id` held by `agent`: runs its verify (timeout and tail from config), then, on success, marks it completed and
 * commits the task's changed files, its YAML and changed piv state in ONE commit `<type>(<phase>): <name>` with trailer `Piv-Task: <id>`.
 * On verify failure: the attempt is recorded, the task stays claimed (or becomes failed at max_attempts), nothing is committed.
 * Throws `invalid_transition` (exit 2) / `conflict` (exit 3) when the agent does not hold the task, `usage` (exit 2) for a task
 * without verify and no --no-verify, `git_failed` (exit 1) when git refuses the commit (task and session files restored, index untouched).
 */
export async function done(opts: DoneOptions): Promise<DoneResult> {
  const { root, now } = resolve(opts);
  const agent = defaultAgent(opts.agent);
  const config = await readConfig(root);
  // The whole graph must be valid before verify runs or anything is written (a hand-broken file is reported, not committed).
  const before = (await readTasks(root)).find((t) => t.id === opts.id) ?? (await readTask(root, opts.id));
  assertHeldBy(before, agent);
  if (before.verify === null && !opts.noVerify) {
    throw new PivError('usage', `${before.id} has no verify command`, {
      hint: `Add a verify command to the plan, or complete it without one: piv done ${before.id} --no-verify (recorded as such).`,
    });
  }
  if (opts.tokens !== undefined && (!Number.isInteger(opts.tokens) || opts.tokens < 0)) {
    throw new PivError('usage', `--tokens must be a whole number of tokens, got ${opts.tokens}`);
  }

  const warnings: string[] = [];
  const session0 = await readSession(root);
  const sharing = session0 !== null && (config.claims.remote !== null || hasLinkedWorktrees(root));
  if (sharing) await assertSharedClaimNotLost(root, session0!.feature, before.id, agent, config.claims.remote, Date.parse(now), warnings);

  let attempt: Attempt;
  if (opts.noVerify) {
    attempt = { at: now, agent, exit_code: null, passed: true, skipped: true, duration_ms: 0, timed_out: false, output_tail: 'completed with --no-verify: verify was not run' };
  } else {
    const run = await runCommand(before.verify!, {
      cwd: root,
      timeoutMs: config.verify.timeout_ms,
      tailLines: config.verify.tail_lines,
      env: { PIV_TASK: before.id, PIV_AGENT: agent },
    });
    attempt = { at: now, agent, exit_code: run.exit_code, passed: run.passed, skipped: false, duration_ms: run.duration_ms, timed_out: run.timed_out, output_tail: run.output_tail };
  }

  return withStateLock(root, async () => {
    const task = await readTask(root, opts.id);
    assertHeldBy(task, agent); // the claim may have been taken back while verify ran
    if (!attempt.passed) {
      // Tokens spent on a failed attempt still count, for the task and the session.
      const usage = await resolveUsage(root, task, opts);
      const failed = recordFailedAttempt(task, agent, attempt, config.verify.max_attempts);
      const updated = usage ? { ...failed, actual_tokens: (failed.actual_tokens ?? 0) + usage.tokens } : failed;
      await writeTask(root, updated);
      if (usage) await writeAgentState(root, addUsage(await readAgentState(root, agent), usage.tokens, now, usage.transcript));
      return { id: task.id, agent, passed: false, status: updated.status, attempt, commit: null, message: null, committed_paths: [], left_uncommitted: [], usage, warnings };
    }

    const paths = layout(root);
    const taskRel = rel(root, paths.task(task.id));
    // Decide what the commit takes before writing anything, so a git error here leaves the task as it was.
    const changed = await changedPaths(root);
    const declared = task.files.length && !opts.all ? new Set(await changedPaths(root, task.files)) : null;
    const stateRel = rel(root, paths.agentState(agent));
    // Other tasks' YAML travels with its own task; other agents' state files with their own commits.
    const otherTask = (p: string) => (p.startsWith(`${AGENTS_DIR}/tasks/`) && p !== taskRel) || (p.startsWith(`${AGENTS_DIR}/state/agents/`) && p !== stateRel);
    const include = new Set(changed.filter((p) => !otherTask(p) && (p.startsWith(`${AGENTS_DIR}/`) || declared === null || declared.has(p))));

    const previousTask = await readAgentsFile(root, `tasks/${task.id}.yaml`);
    const session = await readSession(root);
    const stateFile = `state/agents/${agent}.yaml`;
    const previousState = await readAgentsFile(root, stateFile);
    const usage = await resolveUsage(root, task, opts);
    const completed = complete(task, agent, attempt, now, usage?.tokens);
    const body = attempt.skipped ? 'Completed with --no-verify.' : `Verified: ${task.verify} (exit 0, ${attempt.duration_ms} ms)`;
    const message = taskCommitMessage(task.commit_type, task.phase, task.name, task.id, body, session?.feature);
    let commit: string;
    try {
      await writeTask(root, completed);
      include.add(taskRel);
      if (usage) {
        await writeAgentState(root, addUsage(await readAgentState(root, agent), usage.tokens, now, usage.transcript));
        include.add(stateRel);
      }
      commit = await commitPaths(root, [...include].sort(), message);
    } catch (error) {
      // Nothing committed: the task is back to what it was (claimed), so `piv done` can simply run again.
      await restoreAgentsFile(root, `tasks/${task.id}.yaml`, previousTask);
      await restoreAgentsFile(root, stateFile, previousState);
      throw error;
    }
    if (session && sharing) await markSharedClaimCompleted(root, session.feature, task.id, agent, now, config.claims.remote, warnings);
    const left = changed.filter((p) => !include.has(p));
    return { id: task.id, agent, passed: true, status: completed.status, attempt, commit, message: message.split('\n')[0]!, committed_paths: [...include].sort(), left_uncommitted: left, usage, warnings };
  });
}

/**
 * The task's actual usage: `--tokens N` when given; else, for Claude Code (usageFrom 'claude', or $CLAUDECODE=1), the tokens its
 * transcript records since the claim or the last attempt (input + cache creation + output). Null when unknown; never throws.
 */
async function resolveUsage(root: string, task: Task, opts: DoneOptions): Promise<DoneResult['usage']> {
  if (opts.tokens !== undefined) return { tokens: opts.tokens, source: 'flag', transcript: null };
  if (usageSource(opts.usageFrom) !== 'claude') return null;
  const { claudeUsageFor } = await import('../tokens/transcript.js');
  // Since the last attempt (its tokens were recorded then), else since the claim.
  const since = task.attempts.at(-1)?.at ?? task.started_at;
  const usage = await claudeUsageFor(root, since ? { since } : {});
  if (!usage || usage.messages === 0) return null;
  return { tokens: usage.total_tokens, source: 'claude_transcript', transcript: usage.session_id };
}

/** Adds `tokens` to the agent's current usage session (starting one if none), noting the transcript it came from. */
export function addUsage(state: AgentState, tokens: number, now: string, transcript: string | null = null): AgentState {
  const sessions = state.sessions.length ? [...state.sessions] : [{ started_at: now, used: 0, transcript: null }];
  const last = sessions[sessions.length - 1]!;
  sessions[sessions.length - 1] = { ...last, used: last.used + tokens, transcript: transcript ?? last.transcript };
  return { ...state, sessions };
}

/**
 * With shared claims: refuses (conflict, exit 3) to complete a task whose claim ref another tree or clone now holds
 * (a lease that ended and was taken over), before verify runs. An unreachable remote only adds a warning.
 */
async function assertSharedClaimNotLost(root: string, feature: string, task: string, agent: string, remote: string | null, nowMs: number, warnings: string[]): Promise<void> {
  const { isLive, listClaims, placeOf } = await import('../git/claims.js');
  let current;
  try {
    current = (await listClaims(root, feature, { remote })).get(task);
  } catch (error) {
    warnings.push(`${(error as Error).message}; the shared claim was not checked`);
    return;
  }
  const place = await placeOf(root);
  if (current && !(current.worktree === place && current.agent === agent) && isLive(current, nowMs)) {
    throw new PivError('conflict', `${task} is claimed in another working tree by ${current.agent} (${current.worktree})`, {
      hint: 'Your claim was lost (its lease ended and was taken over). Hand your changes to that agent, or release and re-plan.',
      details: { task, owner: current.agent, worktree: current.worktree },
    });
  }
}

/**
 * With shared claims: the task's claim becomes `completed` (no lease), so no other tree or clone ever claims it, even
 * before its branch is merged. The task commit has landed either way: a failure here becomes a warning.
 */
async function markSharedClaimCompleted(root: string, feature: string, task: string, agent: string, now: string, remote: string | null, warnings: string[]): Promise<void> {
  const { listClaims, placeOf, putClaim } = await import('../git/claims.js');
  try {
    const current = (await listClaims(root, feature, { remote })).get(task);
    const written = await putClaim(root, feature, { task, agent, worktree: await placeOf(root), state: 'completed', at: now, lease_expires_at: null }, current?.hash ?? null, { remote });
    if (written === null) warnings.push(`the shared claim on ${task} changed meanwhile and was not marked completed`);
  } catch (error) {
    warnings.push(`${(error as Error).message}; the shared claim on ${task} is not marked completed yet (your next \`piv execute\` does it)`);
  }
}
