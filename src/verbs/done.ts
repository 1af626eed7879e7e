// done: verify, then one commit holding the task's changes and its YAML; a failing verify records the attempt and commits nothing.
import path from 'node:path';
import { assertHeldBy, complete, recordFailedAttempt, renewLease } from '../core/transitions.js';
import { PivError } from '../errors.js';
import { runCommand } from '../exec/run.js';
import { failpoint } from '../failpoint.js';
import { changedPaths, commitPaths, taskCommitMessage } from '../git/git.js';
import { AGENTS_DIR, rel } from '../store/layout.js';
import { readAgentsFile, readAgentState, readConfig, readSession, readTask, readTasks, restoreAgentsFile, STATE_PATHS, withStateLock, writeAgentState, writeTask } from '../store/index.js';
import type { AgentState, Attempt, Config, Task } from '../store/schemas.js';
import type { BranchMode } from '../swarm/mode.js';
import { transact } from '../swarm/transact.js';
import { stateContext, usageSource, type BaseOptions } from './context.js';

export interface DoneOptions extends BaseOptions {
  id: string;
  agent?: string;
  /** Tokens this task used (added to the task and to the current usage session). */
  tokens?: number;
  /** Complete without running verify (recorded as a skipped attempt). Required for a task without verify. */
  noVerify?: boolean;
  /** Commit every changed file, not only the task's declared files. */
  all?: boolean;
  /** Also commit these changed paths (files or folders, relative to the repository root) beyond the task's declared files. */
  also?: string[];
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
  /** The task commit's hash (in a swarm: the one on the feature branch), or null when nothing was committed. */
  commit: string | null;
  message: string | null;
  committed_paths: string[];
  /** Changed files the commit did not take (outside the task's declared files; pass --also PATH to take them). */
  left_uncommitted: string[];
  /** Tokens recorded for the task, and where the figure came from. */
  usage: { tokens: number; source: 'flag' | 'claude_transcript'; transcript: string | null } | null;
  /** In a swarm: how the commit reached the feature branch. */
  landed: { branch: string; commit: string; rebased: boolean; attempts: number } | null;
  /** Things the agent should know that did not stop the verb. */
  warnings: string[];
}

/**
 * Completes task `id` held by `agent`: runs its verify (timeout and tail from config) outside the lock, then, on success, marks it
 * completed and makes ONE commit `<type>(<phase>): <name>` (trailers `Piv-Task`, `Piv-Feature`) holding the task's changed
 * declared files (folders include new files under them), `also` paths, its YAML and the agent's own state — other changes are
 * left alone and reported. In a swarm that commit is made on the agent's branch and landed on the feature branch (swarm/land).
 * On verify failure: the attempt is recorded, the task stays claimed (or becomes failed at max_attempts), nothing is committed.
 * Throws `invalid_transition` (exit 2) / `conflict` (exit 3) when the agent does not hold the task, `usage` (exit 2) for a task
 * without verify and no --no-verify, `git_failed` (exit 1) when git refuses the commit (task and state files restored, index
 * untouched), `conflict` (exit 3) when the landing meets conflicting files.
 */
export async function done(opts: DoneOptions): Promise<DoneResult> {
  const ctx = await stateContext(opts);
  const { root, now, agent, mode } = ctx;
  const config = await readConfig(root);
  if (opts.tokens !== undefined && (!Number.isInteger(opts.tokens) || opts.tokens < 0)) {
    throw new PivError('usage', `--tokens must be a whole number of tokens, got ${opts.tokens}`);
  }
  const also = (opts.also ?? []).map((p) => repoRelative(root, opts.cwd ?? process.cwd(), p));
  if (mode.kind === 'branch') return doneInSwarm({ ...ctx, mode }, config, opts, also);

  // The whole graph must be valid before verify runs or anything is written (a hand-broken file is reported, not committed).
  const before = (await readTasks(root)).find((t) => t.id === opts.id) ?? (await readTask(root, opts.id));
  assertHeldBy(before, agent);
  requireVerify(before, opts);
  const attempt = await verify(root, before, agent, now, config, opts);
  failpoint('done:after-verify');

  return withStateLock(root, async () => {
    const task = await readTask(root, opts.id);
    assertHeldBy(task, agent); // the claim may have been taken back while verify ran
    if (!attempt.passed) return recordFailure(root, task, agent, attempt, config, opts, now);

    // Other claims matter only to a task without declared files (their files are not its to commit).
    const selection = await selectPaths(root, task, agent, task.files.length ? [task] : await readTasks(root), { all: opts.all, also });
    const taskRel = STATE_PATHS.task(task.id);
    const stateRel = STATE_PATHS.agentState(agent);
    const previousTask = await readAgentsFile(root, `tasks/${task.id}.yaml`);
    const previousState = await readAgentsFile(root, `state/agents/${agent}.yaml`);
    const usage = await resolveUsage(root, task, opts);
    const counted = withTokens(attempt, usage);
    const completed = complete(task, agent, counted, now, usage?.tokens);
    const message = completionMessage(completed, counted, (await readSession(root))?.feature);
    const include = new Set(selection.include);
    let commit: string;
    try {
      await writeTask(root, completed);
      include.add(taskRel);
      failpoint('done:after-task-write');
      if (usage) {
        await recordUsage(root, agent, usage, now, task.id, counted);
        include.add(stateRel);
        failpoint('done:after-state-write');
      }
      commit = await commitPaths(root, [...include].sort(), message);
      failpoint('done:after-commit');
    } catch (error) {
      // Nothing committed: the task is back to what it was (claimed), so `piv done` can simply run again.
      await restoreAgentsFile(root, `tasks/${task.id}.yaml`, previousTask);
      await restoreAgentsFile(root, `state/agents/${agent}.yaml`, previousState);
      throw error;
    }
    return { id: task.id, agent, passed: true, status: completed.status, attempt: counted, commit, message: message.split('\n')[0]!, committed_paths: [...include].sort(), left_uncommitted: selection.left.filter((p) => !include.has(p)), usage, landed: null, warnings: [] };
  });
}

/** In a swarm: the claim is checked on the feature branch, a failed attempt is recorded there, a passing one lands there. */
async function doneInSwarm(ctx: { root: string; now: string; agent: string; mode: BranchMode }, config: Config, opts: DoneOptions, also: string[]): Promise<DoneResult> {
  const { root, now, agent, mode } = ctx;
  const { featureTip, readTip } = await import('../swarm/branch.js');
  const { land, recoverTree } = await import('../swarm/land.js');
  const warnings = (await withStateLock(root, () => recoverTree(root, mode, agent))).map((r) => r.message);
  const tip = await featureTip(root, mode);
  if (!tip) throw new PivError('usage', `the feature branch ${mode.branch} does not exist`, { hint: 'Start the swarm with `piv execute --worktree`.' });
  const state = await readTip(root, mode, tip);
  const before = state.tasks.find((t) => t.id === opts.id);
  if (!before) throw new PivError('not_found', `task ${opts.id} does not exist on ${mode.branch}`, { hint: 'List tasks with `piv status`.' });
  assertHeldBy(before, agent);
  requireVerify(before, opts);
  const attempt = await verify(root, before, agent, now, config, opts);
  failpoint('done:after-verify');

  if (!attempt.passed) {
    const usage = await resolveUsage(root, before, opts);
    const { result } = await transact(root, mode, async (view) => {
      const task = view.tasks.find((t) => t.id === opts.id)!;
      assertHeldBy(task, agent);
      const failed = renewIfHeld(recordFailedAttempt(task, agent, withTokens(attempt, usage), config.verify.max_attempts), agent, now, config);
      const updated = usage ? { ...failed, actual_tokens: (failed.actual_tokens ?? 0) + usage.tokens } : failed;
      return { change: { tasks: [updated], subject: `chore(piv): ${task.id} verify failed (attempt ${updated.attempts.length}, ${agent})`, trailers: { 'Piv-Claim': task.id, 'Piv-Agent': agent } }, result: updated };
    });
    if (usage) await withStateLock(root, () => recordUsage(root, agent, usage, now, before.id, attempt));
    return { id: before.id, agent, passed: false, status: result.status, attempt: withTokens(attempt, usage), commit: null, message: null, committed_paths: [], left_uncommitted: [], usage, landed: null, warnings };
  }

  return withStateLock(root, async () => {
    const selection = await selectPaths(root, before, agent, state.tasks, { all: opts.all, also });
    const usage = await resolveUsage(root, before, opts);
    const counted = withTokens(attempt, usage);
    const completed = complete(before, agent, counted, now, usage?.tokens);
    const message = completionMessage(completed, counted, mode.feature);
    const include = new Set([...selection.include, STATE_PATHS.task(before.id)]);
    await writeTask(root, completed);
    failpoint('done:after-task-write');
    if (usage) {
      await recordUsage(root, agent, usage, now, before.id, counted);
      include.add(STATE_PATHS.agentState(agent));
      failpoint('done:after-state-write');
    }
    const local = await commitPaths(root, [...include].sort(), message);
    failpoint('done:after-local-commit');
    const landing = await land(root, mode, before.id, agent, local);
    return {
      id: before.id,
      agent,
      passed: true,
      status: 'completed',
      attempt: counted,
      commit: landing.commit,
      message: message.split('\n')[0]!,
      committed_paths: [...include].sort(),
      left_uncommitted: selection.left.filter((p) => !include.has(p)),
      usage,
      landed: { branch: mode.branch, commit: landing.commit, rebased: landing.rebased, attempts: landing.attempts },
      warnings: [...warnings, ...landing.warnings],
    };
  });
}

/** A failed attempt is the owner at work: its lease is renewed (unless the task just became failed). */
function renewIfHeld(task: Task, agent: string, now: string, config: Config): Task {
  return task.status === 'in_progress' ? renewLease(task, agent, now, config.claims.lease_minutes * 60_000) : task;
}

function requireVerify(task: Task, opts: DoneOptions): void {
  if (task.verify === null && !opts.noVerify) {
    throw new PivError('usage', `${task.id} has no verify command`, {
      hint: `Add a verify command to the plan, or complete it without one: piv done ${task.id} --no-verify (recorded as such).`,
    });
  }
}

/** Runs the task's verify (or records a --no-verify skip) in the repository root. Never throws for a failing command. */
async function verify(root: string, task: Task, agent: string, now: string, config: Config, opts: DoneOptions): Promise<Attempt> {
  if (opts.noVerify) return { at: now, agent, exit_code: null, passed: true, skipped: true, duration_ms: 0, timed_out: false, output_tail: 'completed with --no-verify: verify was not run', tokens: null };
  const run = await runCommand(task.verify!, { cwd: root, timeoutMs: config.verify.timeout_ms, tailLines: config.verify.tail_lines, env: { PIV_TASK: task.id, PIV_AGENT: agent } });
  return { at: now, agent, exit_code: run.exit_code, passed: run.passed, skipped: false, duration_ms: run.duration_ms, timed_out: run.timed_out, output_tail: run.output_tail, tokens: null };
}

/** A failed verify, in one working tree: the attempt (and the tokens it cost) recorded in the task and the agent's state. */
async function recordFailure(root: string, task: Task, agent: string, attempt: Attempt, config: Config, opts: DoneOptions, now: string): Promise<DoneResult> {
  const usage = await resolveUsage(root, task, opts);
  const failed = renewIfHeld(recordFailedAttempt(task, agent, withTokens(attempt, usage), config.verify.max_attempts), agent, now, config);
  const updated = usage ? { ...failed, actual_tokens: (failed.actual_tokens ?? 0) + usage.tokens } : failed;
  await writeTask(root, updated);
  if (usage) await recordUsage(root, agent, usage, now, task.id, attempt);
  return { id: task.id, agent, passed: false, status: updated.status, attempt: withTokens(attempt, usage), commit: null, message: null, committed_paths: [], left_uncommitted: [], usage, landed: null, warnings: [] };
}

/** The task commit's message: `<type>(<phase>): <name>`, a Verified line, trailers Piv-Task and Piv-Feature. */
export function completionMessage(task: Task, attempt: Attempt, feature?: string | null): string {
  const body = attempt.skipped ? 'Completed with --no-verify.' : `Verified: ${task.verify} (exit 0, ${attempt.duration_ms} ms)`;
  return taskCommitMessage(task.commit_type, task.phase, task.name, task.id, body, feature);
}

/** A path the user gave (relative to `cwd`) as a repository path; throws `usage` (exit 2) for one outside the repository. */
function repoRelative(root: string, cwd: string, p: string): string {
  const relative = rel(root, path.resolve(cwd, p));
  if (!relative || relative.startsWith('..') || path.isAbsolute(relative)) throw new PivError('usage', `--also ${p} is outside the repository`, { hint: 'Name a file or folder inside the repository.' });
  return relative;
}

/** Whether repository path `p` is `spec` or lies under the folder `spec`. */
export const covers = (spec: string, p: string) => p === spec || p.startsWith(spec.replace(/\/+$/, '') + '/');

/**
 * What a completion commits, from the changed paths (git status): the task's declared `files` (git pathspecs: a folder takes
 * the new files under it), `also`, the task's YAML, the agent's own state file and the session; with `all`, every change but
 * other tasks' YAML and other agents' state. A task without `files` takes every change outside `.agents/` that no other
 * claimed task declares. Returns the paths to include and every changed path (the caller reports the rest).
 */
export async function selectPaths(root: string, task: Task, agent: string, tasks: readonly Task[], opts: { all?: boolean; also?: string[] }): Promise<{ include: string[]; left: string[] }> {
  const changed = await changedPaths(root);
  const own = new Set([STATE_PATHS.task(task.id), STATE_PATHS.agentState(agent), STATE_PATHS.session]);
  const also = opts.also?.length ? new Set(await changedPaths(root, opts.also)) : new Set<string>();
  const pivState = (p: string) => p.startsWith(`${AGENTS_DIR}/`);
  const othersState = (p: string) => (p.startsWith(`${STATE_PATHS.tasksDir}/`) || p.startsWith('.agents/state/agents/')) && !own.has(p);
  let take: (p: string) => boolean;
  if (opts.all) take = (p) => !othersState(p);
  else if (task.files.length) {
    const declared = new Set(await changedPaths(root, task.files));
    take = (p) => own.has(p) || declared.has(p) || also.has(p);
  } else {
    const othersFiles = tasks.filter((t) => t.id !== task.id && t.status === 'in_progress').flatMap((t) => t.files);
    take = (p) => own.has(p) || also.has(p) || (!pivState(p) && !othersFiles.some((f) => covers(f, p)));
  }
  return { include: changed.filter(take), left: changed };
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
  const since = task.attempts.at(-1)?.at ?? task.claimed_at ?? task.started_at;
  const usage = await claudeUsageFor(root, since ? { since } : {});
  if (!usage || usage.messages === 0) return null;
  return { tokens: usage.total_tokens, source: 'claude_transcript', transcript: usage.session_id };
}

/**
 * Adds `tokens` to the agent's current usage session (starting one if none), noting the transcript it came from and, as
 * `last_attempt`, the attempt they were reported with (attemptKey), so that resume can tell whether they were counted.
 */
export function addUsage(state: AgentState, tokens: number, now: string, transcript: string | null = null, attempt: string | null = null): AgentState {
  const sessions = state.sessions.length ? [...state.sessions] : [{ started_at: now, used: 0, transcript: null, last_attempt: null }];
  const last = sessions[sessions.length - 1]!;
  sessions[sessions.length - 1] = { ...last, used: last.used + tokens, transcript: transcript ?? last.transcript, last_attempt: attempt ?? last.last_attempt };
  return { ...state, sessions };
}

/** The key of task `taskId`'s attempt `attempt` in a usage session's `last_attempt`: `<task id>@<attempt time>`. */
export const attemptKey = (taskId: string, attempt: Pick<Attempt, 'at'>) => `${taskId}@${attempt.at}`;

/** Adds `usage` (reported with task `taskId`'s `attempt`) to `agent`'s current usage session, in its state file. */
async function recordUsage(root: string, agent: string, usage: NonNullable<DoneResult['usage']>, now: string, taskId: string, attempt: Pick<Attempt, 'at'>): Promise<void> {
  await writeAgentState(root, addUsage(await readAgentState(root, agent), usage.tokens, now, usage.transcript, attemptKey(taskId, attempt)));
}

/** `attempt` with the tokens reported with it (null for none). */
const withTokens = (attempt: Attempt, usage: DoneResult['usage']): Attempt => ({ ...attempt, tokens: usage?.tokens ?? null });

/**
 * For resume's roll-forward of a completion whose commit a crash prevented: adds the tokens of the task's completing
 * `attempt` to `agent`'s current usage session unless that agent's state already counted them (its `last_attempt` is this
 * attempt: the crash came after the state was written). Returns whether it wrote the agent's state file.
 */
export async function countAttemptUsage(root: string, agent: string, taskId: string, attempt: Attempt, now: string): Promise<boolean> {
  if (attempt.tokens === null) return false;
  const state = await readAgentState(root, agent);
  const key = attemptKey(taskId, attempt);
  if (state.sessions.some((s) => s.last_attempt === key)) return false;
  await writeAgentState(root, addUsage(state, attempt.tokens, now, null, key));
  return true;
}
