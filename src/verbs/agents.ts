// agents and worktree: who works on the feature, what each holds and until when; agent working trees pruned once their work has landed.
import { isLeaseExpired } from '../core/scheduler.js';
import { readAgentStates, readConfig, readSession } from '../store/index.js';
import type { AgentState } from '../store/schemas.js';
import { agentOfBranch, detectMode } from '../swarm/mode.js';
import { resolve, type BaseOptions } from './context.js';
import { sharedState } from './status.js';

export interface AgentInfo {
  agent: string;
  /** The tasks it holds, with their leases. */
  tasks: { id: string; name: string; claimed_at: string | null; lease_expires_at: string | null; expired: boolean }[];
  /** Its working tree and branch in a swarm, else null. */
  worktree: string | null;
  branch: string | null;
  /** The latest thing known of it: a claim, a context session start or a checkpoint (ISO), or null. */
  last_seen: string | null;
}

export interface AgentsResult {
  feature: string | null;
  /** The feature branch in a swarm, else null. */
  branch: string | null;
  agents: AgentInfo[];
}

/**
 * Every agent known to the feature — from the claims (task owners), the agents' state files and, in a swarm, their working
 * trees — with the tasks each holds and whether each lease has expired at `now`. Sorted by agent id.
 * Throws `not_initialized` / `invalid_file` (exit 2), `git_failed` (exit 1) in a swarm whose remote cannot be reached.
 */
export async function agents(opts: BaseOptions = {}): Promise<AgentsResult> {
  const { root, nowMs } = resolve(opts);
  const config = await readConfig(root);
  const { tasks, session, swarm } = await sharedState(root, config);
  const states: AgentState[] = [...(await readAgentStates(root))];
  const trees = new Map<string, { path: string; branch: string }>();
  if (swarm) {
    const { readAgentStatesAt } = await import('../store/at-commit.js');
    for (const s of await readAgentStatesAt(root, swarm.tip, swarm.branch)) if (!states.some((x) => x.agent === s.agent)) states.push(s);
    const { listWorktrees } = await import('../swarm/worktree.js');
    for (const w of await listWorktrees(root)) {
      const agent = agentOfBranch(swarm.feature, w.branch);
      if (agent) trees.set(agent, { path: w.path, branch: w.branch! });
    }
  }
  const ids = new Set<string>([...tasks.filter((t) => t.status === 'in_progress' && t.owner).map((t) => t.owner!), ...states.map((s) => s.agent), ...trees.keys()]);
  const list = [...ids].sort().map((agent): AgentInfo => {
    const held = tasks.filter((t) => t.status === 'in_progress' && t.owner === agent);
    const state = states.find((s) => s.agent === agent);
    const seen = [...held.map((t) => t.claimed_at), state?.sessions.at(-1)?.started_at, state?.checkpoints.at(-1)?.at].filter((x): x is string => typeof x === 'string').sort();
    return {
      agent,
      tasks: held.map((t) => ({ id: t.id, name: t.name, claimed_at: t.claimed_at, lease_expires_at: t.lease_expires_at, expired: isLeaseExpired(t, nowMs) })),
      worktree: trees.get(agent)?.path ?? null,
      branch: trees.get(agent)?.branch ?? null,
      last_seen: seen.at(-1) ?? null,
    };
  });
  return { feature: session?.feature ?? null, branch: swarm?.branch ?? null, agents: list };
}

export interface PruneResult {
  /** Working trees removed (with their branches). */
  removed: { agent: string; path: string; branch: string }[];
  /** Agent branches without a working tree that were deleted (their work had landed). */
  branches_deleted: string[];
  kept: { agent: string; path: string | null; branch: string; reason: string }[];
  dry_run: boolean;
}

/**
 * Removes the agent working trees of the feature's swarm whose work is over: the agent holds no task, the tree has no
 * uncommitted change, and everything on its branch has landed on the feature branch. Their branches go too, as do agent
 * branches whose tree was deleted by hand; nothing unlanded is ever deleted. Returns what was removed and what was kept, why.
 * Throws `usage` (exit 2) outside a swarm, `git_failed` (exit 1).
 */
export async function pruneWorktrees(opts: BaseOptions & { dryRun?: boolean } = {}): Promise<PruneResult> {
  const { root } = resolve(opts);
  const config = await readConfig(root);
  const session = await readSession(root);
  const mode = detectMode(root, session?.feature ?? null, config);
  const result: PruneResult = { removed: [], branches_deleted: [], kept: [], dry_run: opts.dryRun === true };
  if (mode.kind !== 'branch') return result;
  const { featureTip, readTip } = await import('../swarm/branch.js');
  const { gitOk, gitRun, isAncestor } = await import('../git/plumbing.js');
  const { listWorktrees } = await import('../swarm/worktree.js');
  const tip = await featureTip(root, mode);
  if (!tip) return result;
  const tasks = (await readTip(root, mode, tip)).tasks;
  await gitRun(root, ['worktree', 'prune']);
  const trees = await listWorktrees(root);
  const branches = (await gitOk(root, ['for-each-ref', '--format=%(refname:short)', `refs/heads/piv-agent/${mode.feature}/`])).split('\n').filter(Boolean);
  for (const branch of branches) {
    const agent = agentOfBranch(mode.feature, branch)!;
    const tree = trees.find((w) => w.branch === branch);
    const keep = (reason: string) => result.kept.push({ agent, path: tree?.path ?? null, branch, reason });
    const held = tasks.filter((t) => t.status === 'in_progress' && t.owner === agent).map((t) => t.id);
    if (held.length) {
      keep(`holds ${held.join(', ')}`);
      continue;
    }
    if (!(await isAncestor(root, branch, tip))) {
      keep(`has commits that are not on ${mode.branch}`);
      continue;
    }
    if (tree) {
      const dirty = (await gitOk(tree.path, ['--no-optional-locks', 'status', '--porcelain'])).trim();
      if (dirty) {
        keep(`has uncommitted changes (${dirty.split('\n').length} paths)`);
        continue;
      }
      if (tree.path === root) {
        keep('is the working tree this command runs in');
        continue;
      }
      if (!opts.dryRun) {
        await gitOk(root, ['worktree', 'remove', tree.path]);
        await gitOk(root, ['branch', '-D', '--quiet', branch]);
      }
      result.removed.push({ agent, path: tree.path, branch });
    } else {
      if (!opts.dryRun) await gitOk(root, ['branch', '-D', '--quiet', branch]);
      result.branches_deleted.push(branch);
    }
  }
  return result;
}
