// execute: claims the next ready task atomically (under the state lock, or by compare-and-swap on the feature branch), so one task is never given to two agents.
import { applyClaim, chooseClaim } from '../core/claim.js';
import { dependentsOf } from '../core/graph.js';
import { explainStall, progress, type Stall } from '../core/scheduler.js';
import { answeredDecisions } from '../core/session.js';
import { PivError } from '../errors.js';
import { hasLinkedWorktrees, headBranch } from '../git/worktrees.js';
import { readConfig, readSession, requireInitialized } from '../store/index.js';
import type { Session, Task } from '../store/schemas.js';
import { agentBranch, agentOfBranch, detectMode, type BranchMode } from '../swarm/mode.js';
import { transactLight } from '../swarm/transact.js';
import { defaultAgent, resolve, type BaseOptions } from './context.js';

export interface ExecuteOptions extends BaseOptions {
  agent?: string;
  /** Claim this task instead of the scheduler's choice (it must be ready, or already yours). */
  task?: string;
  /** When nothing is ready, take over another agent's claim whose lease has ended (recorded in the task's notes). */
  stealExpired?: boolean;
  /** Work in a swarm: the agent gets its own working tree on its own branch, made from the feature branch piv/<feature>. */
  worktree?: boolean;
}

/** Everything an agent needs to do one task in a fresh context. */
export interface TaskBrief {
  id: string;
  name: string;
  priority: Task['priority'];
  phase: string | null;
  status: Task['status'];
  owner: string | null;
  lease_expires_at: string | null;
  action: string;
  files: string[];
  verify: string | null;
  done: string;
  blocked_by: string[];
  /** Tasks that wait on this one (derived). */
  unblocks: string[];
  estimated_tokens: number | null;
  attempts: number;
  last_attempt: { at: string; exit_code: number | null; passed: boolean; output_tail: string } | null;
  notes: string[];
}

/** Where the swarm's state lives for this call (null: this working tree's files). */
export interface SwarmInfo {
  /** The feature branch, the single source of truth (piv/<feature>). */
  branch: string;
  remote: string | null;
  /** The commit that recorded this call's change on the feature branch, or null when nothing changed. */
  commit: string | null;
  /** The agent's working tree (cd there to work) and its branch. */
  worktree: string;
  agent_branch: string | null;
  /** true when this call made the working tree. */
  worktree_created: boolean;
}

export interface ExecuteResult {
  agent: string;
  /** claimed: a new claim; resumed: the agent already held it; taken_over: an expired claim taken back (--steal-expired); none_ready / all_done: no task. */
  outcome: 'claimed' | 'resumed' | 'taken_over' | 'none_ready' | 'all_done';
  task: TaskBrief | null;
  feature: string | null;
  decisions: { question: string; answer: string }[];
  progress: { done: number; total: number };
  /** Why nothing is ready (outcome none_ready / all_done). */
  stall: Stall | null;
  swarm: SwarmInfo | null;
  /** Things the agent should know that did not stop the verb. */
  warnings: string[];
}

/** The brief of a task (what to do, how it is verified, what it unblocks). */
export function brief(task: Task, all: readonly Pick<Task, 'id' | 'blocked_by'>[]): TaskBrief {
  const last = task.attempts.at(-1);
  return {
    id: task.id,
    name: task.name,
    priority: task.priority,
    phase: task.phase,
    status: task.status,
    owner: task.owner,
    lease_expires_at: task.lease_expires_at,
    action: task.action,
    files: task.files,
    verify: task.verify,
    done: task.done,
    blocked_by: task.blocked_by,
    unblocks: dependentsOf(all, task.id),
    estimated_tokens: task.estimated_tokens,
    attempts: task.attempts.length,
    last_attempt: last ? { at: last.at, exit_code: last.exit_code, passed: last.passed, output_tail: last.output_tail } : null,
    notes: task.notes.map((n) => `${n.at} ${n.text}`),
  };
}

/** Answered decisions of the session, for briefs. */
export function decisionsOf(session: Session | null): { question: string; answer: string }[] {
  return answeredDecisions(session).map(({ question, answer }) => ({ question, answer }));
}

/**
 * Gives `agent` its task (core/claim decideClaim: the named task, else the one it holds, else the next ready one, else with
 * stealExpired an expired claim) and records the claim with its lease: in this working tree's files under the state lock,
 * or, in a swarm (`worktree`, `swarm.remote`, or an existing feature branch), as a commit on the feature branch moved by
 * compare-and-swap, retried on a lost race so that of N agents claiming at once each ready task goes to exactly one.
 * Returns the brief, or why nothing is ready. Throws `not_initialized` / `invalid_file` / `usage` (exit 2), `conflict` /
 * `lock_timeout` (exit 3), `git_failed` (exit 1).
 */
export async function execute(opts: ExecuteOptions = {}): Promise<ExecuteResult> {
  const resolved = resolve(opts);
  const { now, nowMs } = resolved;
  let root = resolved.root;
  requireInitialized(root);
  const config = await readConfig(root);
  const leaseMs = config.claims.lease_minutes * 60_000;
  const localSession = await readSession(root);
  if (opts.worktree && !localSession) throw new PivError('no_session', 'no feature session is open', { hint: 'Open one with `piv discuss <feature>` and plan it first.' });
  const mode = detectMode(root, localSession?.feature ?? null, config, { swarm: opts.worktree === true || config.swarm.remote !== null });
  const inferred = mode.kind === 'branch' ? agentOfBranch(mode.feature, headBranch(root)) : null;
  const agent = defaultAgent(opts.agent ?? inferred ?? undefined);
  const warnings: string[] = [];
  let swarm: SwarmInfo | null = null;
  if (mode.kind === 'branch') {
    const placed = await placeAgent(root, mode, agent, opts.worktree === true);
    root = placed.root;
    swarm = placed.info;
    warnings.push(...placed.warnings);
  } else if (hasLinkedWorktrees(root)) {
    warnings.push('this repository has other working trees, but this feature is not a swarm: claims here are not shared with them (use `piv execute --worktree` to work as a swarm)');
  }
  const req = { agent, task: opts.task, stealExpired: opts.stealExpired === true, now, nowMs, leaseMs, renewBelow: 0.5 };
  const { result, commit, warnings: txWarnings } = await transactLight(
    root,
    mode,
    async (view) => {
      // Chosen on summaries (the cache's index); only the chosen task is read whole.
      const choice = chooseClaim(view.tasks, req);
      const task = choice.id === null ? null : await view.load(choice.id);
      const written = task ? applyClaim(task, choice, req) : null;
      const shown = written ?? task;
      const tasks = written ? view.tasks.map((t) => (t.id === written.id ? written : t)) : view.tasks;
      const session = view.session;
      // No updated_at bump: agents on two branches make the same edit, which merges cleanly.
      const bump = written && session && ((session.phase !== 'execute' && session.phase !== 'validate') || session.status !== 'active');
      const change = written
        ? {
            tasks: [written],
            ...(bump ? { session: { ...session!, phase: session!.phase === 'validate' ? ('validate' as const) : ('execute' as const), status: 'active' as const } } : {}),
            subject: `chore(piv): ${choice.outcome === 'resumed' ? 'renew the lease on' : choice.outcome === 'taken_over' ? 'take over' : 'claim'} ${written.id} for ${agent}`,
            trailers: { 'Piv-Claim': written.id, 'Piv-Agent': agent },
          }
        : null;
      const p = progress(tasks);
      const out: ExecuteResult = {
        agent,
        outcome: choice.outcome,
        task: shown ? brief(shown, tasks) : null,
        feature: session?.feature ?? localSession?.feature ?? null,
        decisions: decisionsOf(session),
        progress: { done: p.done, total: p.total },
        stall: shown ? null : explainStall(tasks, nowMs),
        swarm,
        warnings,
      };
      return { change, result: out };
    },
    { create: mode.kind === 'branch', sync: true, optimistic: true },
  );
  if (result.swarm) result.swarm = { ...result.swarm, commit };
  result.warnings = [...result.warnings, ...txWarnings];
  return result;
}

/**
 * In a swarm, the working tree `agent` works in: with `worktree`, its own (made from the feature branch when missing); else
 * the current tree, which must be on the agent's branch. Returns the tree's root and what to report.
 */
async function placeAgent(root: string, mode: BranchMode, agent: string, worktree: boolean): Promise<{ root: string; info: SwarmInfo; warnings: string[] }> {
  const { ensureFeatureBranch } = await import('../swarm/branch.js');
  const { ensureAgentTree } = await import('../swarm/worktree.js');
  const current = headBranch(root);
  const warnings: string[] = [];
  const base = { branch: mode.branch, remote: mode.remote, commit: null };
  if (agentOfBranch(mode.feature, current) === agent) return { root, info: { ...base, worktree: root, agent_branch: current, worktree_created: false }, warnings };
  const tip = await ensureFeatureBranch(root, mode);
  if (!worktree) {
    // This tree becomes the agent's: it moves to the agent's branch when nothing tracked is modified (a clone on another machine).
    const { gitRun, resolveCommit } = await import('../git/plumbing.js');
    const dirty = (await gitRun(root, ['--no-optional-locks', 'status', '--porcelain', '--untracked-files=no'])).stdout.trim();
    const branch = agentBranch(mode.feature, agent);
    const exists = (await resolveCommit(root, `refs/heads/${branch}`)) !== null;
    const switched = dirty ? null : await gitRun(root, ['switch', '--quiet', ...(exists ? [branch] : ['-c', branch, tip])]);
    if (!switched || switched.exitCode !== 0) {
      throw new PivError('usage', `${mode.feature} is worked as a swarm on ${mode.branch}, and this working tree is on ${current ?? 'a detached HEAD'}${dirty ? ' with uncommitted changes' : ''}`, {
        hint: `Run \`piv execute --worktree --agent ${agent}\` to get ${agent}'s own working tree${dirty ? ', or commit or stash your changes first' : ''}.`,
        details: { branch: mode.branch, agent, current, git: switched?.stderr.trim() ?? null },
      });
    }
    warnings.push(`this working tree moved from ${current ?? 'a detached HEAD'} to ${branch}, ${agent}'s branch in the swarm (git switch - goes back)`);
    return { root, info: { ...base, worktree: root, agent_branch: branch, worktree_created: false }, warnings };
  }
  const config = await readConfig(root);
  const tree = await ensureAgentTree(root, mode, config, agent, tip);
  if (tree.setup && !tree.setup.passed) warnings.push(`the setup command \`${tree.setup.command}\` failed in ${tree.path} (exit ${tree.setup.exit_code}): ${tree.setup.output_tail.split('\n').slice(-3).join(' ')}`);
  return { root: tree.path, info: { ...base, worktree: tree.path, agent_branch: tree.branch, worktree_created: tree.created }, warnings };
}
