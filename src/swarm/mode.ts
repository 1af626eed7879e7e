// Storage mode: whether a feature's state lives in this working tree's files (one tree) or on its shared feature branch (a swarm).
import { createRequire } from 'node:module';
import type { Config } from '../store/schemas.js';
import { headBranch, refExists } from '../git/worktrees.js';

/** One working tree: the files in `.agents/` are the state; the state lock serializes agents. */
export interface LocalMode {
  kind: 'local';
}

/**
 * A swarm: the feature branch `piv/<feature>` is the single source of truth, shared by the working trees of this repository
 * (and, with `remote`, by clones on other machines). Every claim and completion is a commit moved onto it by compare-and-swap.
 */
export interface BranchMode {
  kind: 'branch';
  feature: string;
  /** piv/<feature> */
  branch: string;
  /** refs/heads/piv/<feature>: the ref compare-and-swap moves (on the remote, with one). */
  ref: string;
  remote: string | null;
  /** The local ref that holds the tip as last seen: `ref` itself, or refs/remotes/<remote>/piv/<feature>. */
  tracking: string;
}

export type Mode = LocalMode | BranchMode;

/** The shared feature branch of `feature`. */
export const featureBranch = (feature: string) => `piv/${feature}`;
/** The branch of `agent`'s working tree in `feature`'s swarm (refs cannot nest under piv/<feature> itself). */
export const agentBranch = (feature: string, agent: string) => `piv-agent/${feature}/${agent}`;

/** The agent whose branch `branch` is in `feature`'s swarm, or null. */
export function agentOfBranch(feature: string, branch: string | null): string | null {
  const prefix = `piv-agent/${feature}/`;
  return branch?.startsWith(prefix) ? branch.slice(prefix.length) || null : null;
}

/** The branch-mode description of `feature` (whether or not the branch exists yet). */
export function branchMode(feature: string, config: Pick<Config, 'swarm'>): BranchMode {
  const branch = featureBranch(feature);
  const remote = config.swarm.remote;
  return { kind: 'branch', feature, branch, ref: `refs/heads/${branch}`, remote, tracking: remote ? `refs/remotes/${remote}/${branch}` : `refs/heads/${branch}` };
}

/**
 * The mode of the working tree at `root` for `feature` (null: no session, so local). A swarm when asked (`swarm`: execute
 * with --worktree or a swarm remote in config, which starts one), when this tree is on an agent branch, or when the feature
 * branch exists (here, or as last fetched from the swarm remote). Decided from the file system alone on the hot path (git is
 * asked only for reftable repositories).
 */
export function detectMode(root: string, feature: string | null, config: Pick<Config, 'swarm'>, opts: { swarm?: boolean } = {}): Mode {
  if (!feature) return { kind: 'local' };
  const mode = branchMode(feature, config);
  if (opts.swarm || agentOfBranch(feature, headBranch(root)) !== null) return mode;
  // node:child_process is loaded only for a reftable repository, whose refs the file system cannot answer for.
  const exists = (ref: string) => refExists(root, ref) ?? createRequire(import.meta.url)('node:child_process').spawnSync('git', ['rev-parse', '--verify', '--quiet', ref], { cwd: root }).status === 0;
  return exists(mode.ref) || (mode.remote !== null && exists(mode.tracking)) ? mode : { kind: 'local' };
}
