// sync: brings a swarm agent's working tree up to its feature branch (after a landing conflict): the agent's work is committed first, so nothing is lost, and only files both sides changed are left with conflict markers.
import { PivError } from '../errors.js';
import { headBranch } from '../git/worktrees.js';
import { agentOfBranch } from '../swarm/mode.js';
import { stateContext, type BaseOptions } from './context.js';

export interface SyncOptions extends BaseOptions {
  /** The agent (default: the one the agent branch names, else $PIV_AGENT or main). */
  agent?: string;
}

export interface SyncResult {
  agent: string;
  /** The feature branch merged in (piv/<feature>) and the tip that was merged. */
  branch: string;
  tip: string;
  /** up_to_date: the tree already had the tip; merged: merged cleanly; conflicts: merged but for `conflicts`, left to resolve. */
  outcome: 'up_to_date' | 'merged' | 'conflicts';
  /** The commit of the work the tree held (uncommitted changes) before merging, or null when it was clean. */
  wip_commit: string | null;
  /** The merge commit (merged), or null (up to date, or conflicts: git's merge is in progress). */
  commit: string | null;
  /** Paths with conflict markers (git's unmerged paths), sorted. */
  conflicts: string[];
}

/**
 * In an agent's tree of a swarm: commits its uncommitted work (`wip(piv): …`, every change, as `git add -A` does) and
 * merges the feature branch's tip into it. Returns what happened; with conflicts, git's merge is left in progress with
 * markers in the conflicting files only (resolve, `git commit`, then `piv done <id>` again); run again before that, it
 * reports the conflicts left and changes nothing. Throws `usage` (exit 2)
 * outside a swarm, outside an agent's tree (its piv-agent/<feature>/<agent> branch) or without the feature branch,
 * `git_failed` (exit 1) when git refuses.
 */
export async function sync(opts: SyncOptions = {}): Promise<SyncResult> {
  const { root, agent, mode } = await stateContext(opts);
  if (mode.kind !== 'branch') {
    throw new PivError('usage', "piv sync brings a swarm agent's tree up to the feature branch; this feature is not a swarm", { hint: 'In one working tree there is nothing to sync: the files are the state.' });
  }
  // Only an agent's own tree (on its piv-agent/<feature>/<agent> branch): the main tree follows the branch through piv itself.
  const branch = headBranch(root);
  if (agentOfBranch(mode.feature, branch) === null) {
    throw new PivError('usage', `piv sync runs in a swarm agent's working tree; this one is on ${branch ?? 'no branch'}`, { hint: '`piv agents` lists the agents and their working trees.' });
  }
  const { featureTip } = await import('../swarm/branch.js');
  const { gitOk, gitRun, isAncestor } = await import('../git/plumbing.js');
  const tip = await featureTip(root, mode);
  if (!tip) throw new PivError('usage', `the feature branch ${mode.branch} does not exist`, { hint: 'Start the swarm with `piv execute --worktree`.' });
  const base = { agent, branch: mode.branch, tip };
  const unmerged = async () => (await gitOk(root, ['diff', '--name-only', '--diff-filter=U'])).split('\n').filter(Boolean).sort();
  // A merge of an earlier sync still in progress: its conflicts again (committing now would commit the markers).
  if ((await gitRun(root, ['rev-parse', '-q', '--verify', 'MERGE_HEAD'])).exitCode === 0) {
    const left = await unmerged();
    if (left.length) return { ...base, outcome: 'conflicts', wip_commit: null, commit: null, conflicts: left };
    throw new PivError('usage', 'a merge is in progress and every conflict is resolved: commit it', { hint: 'git commit (the merge), then run `piv done` for your task again.' });
  }
  const dirty = (await gitOk(root, ['status', '--porcelain'])).trim() !== '';
  if (!dirty && (await isAncestor(root, tip, 'HEAD'))) return { ...base, outcome: 'up_to_date', wip_commit: null, commit: null, conflicts: [] };
  let wip: string | null = null;
  if (dirty) {
    await gitOk(root, ['add', '-A']);
    await gitOk(root, ['commit', '-q', '-m', `wip(piv): ${agent}'s work before merging ${mode.branch}`]);
    wip = (await gitOk(root, ['rev-parse', 'HEAD'])).trim();
  }
  if (await isAncestor(root, tip, 'HEAD')) return { ...base, outcome: 'up_to_date', wip_commit: wip, commit: null, conflicts: [] };
  const merge = await gitRun(root, ['merge', '--no-edit', '-m', `Merge ${mode.branch} into ${agent}'s tree (piv sync)`, tip]);
  if (merge.exitCode === 0) return { ...base, outcome: 'merged', wip_commit: wip, commit: (await gitOk(root, ['rev-parse', 'HEAD'])).trim(), conflicts: [] };
  const conflicts = await unmerged();
  if (conflicts.length === 0) {
    throw new PivError('git_failed', `git could not merge ${mode.branch}: ${(merge.stderr || merge.stdout).trim().split('\n')[0]}`, { hint: 'See `git status`; your work is committed as the last commit.' });
  }
  return { ...base, outcome: 'conflicts', wip_commit: wip, commit: null, conflicts };
}
