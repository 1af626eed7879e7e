// Agent working trees: one git worktree per agent on its own branch, made from the feature branch; found again, never made twice.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { PivError } from '../errors.js';
import { runCommand } from '../exec/run.js';
import { gitOk, gitRun, resolveCommit } from '../git/plumbing.js';
import { gitDirs } from '../git/worktrees.js';
import type { Config } from '../store/schemas.js';
import { agentBranch, type BranchMode } from './mode.js';

export interface WorktreeEntry {
  path: string;
  head: string | null;
  /** Branch name without refs/heads/, or null when detached. */
  branch: string | null;
}

/** Every working tree of the repository (`git worktree list --porcelain`), the main one first. */
export async function listWorktrees(root: string): Promise<WorktreeEntry[]> {
  const out = await gitOk(root, ['worktree', 'list', '--porcelain']);
  const entries: WorktreeEntry[] = [];
  for (const block of out.split('\n\n')) {
    const lines = block.split('\n');
    const tree = lines.find((l) => l.startsWith('worktree '))?.slice('worktree '.length);
    if (!tree) continue;
    const branch = lines.find((l) => l.startsWith('branch '))?.slice('branch refs/heads/'.length) ?? null;
    entries.push({ path: tree, head: lines.find((l) => l.startsWith('HEAD '))?.slice(5) ?? null, branch });
  }
  return entries;
}

/** The repository's main working tree (where `.git` is a folder), from any of its working trees. */
export function mainWorktree(root: string): string {
  const dirs = gitDirs(root);
  return dirs && path.basename(dirs.commonDir) === '.git' ? path.dirname(dirs.commonDir) : root;
}

/** Where `agent`'s working tree goes: `swarm.worktrees`/<agent> (relative to the main tree), default `../<repo>.piv/<agent>`. */
export function agentTreePath(root: string, config: Pick<Config, 'swarm'>, agent: string): string {
  const main = mainWorktree(root);
  const base = config.swarm.worktrees ? path.resolve(main, config.swarm.worktrees) : path.join(path.dirname(main), `${path.basename(main)}.piv`);
  return path.join(base, agent);
}

export interface AgentTree {
  path: string;
  branch: string;
  /** true when this call made it. */
  created: boolean;
  /** The setup command's run in a new tree (swarm.setup), else null. */
  setup: { command: string; passed: boolean; exit_code: number | null; output_tail: string } | null;
}

/**
 * `agent`'s working tree for the swarm `mode`: the existing one on branch piv-agent/<feature>/<agent>, else a new one made
 * from `tip` (then `swarm.setup` runs in it). Returns where it is. Throws `usage` (exit 2) when the path is taken by
 * something else, `git_failed` (exit 1).
 */
export async function ensureAgentTree(root: string, mode: BranchMode, config: Config, agent: string, tip: string): Promise<AgentTree> {
  const branch = agentBranch(mode.feature, agent);
  const existing = (await listWorktrees(root)).find((w) => w.branch === branch);
  if (existing && existsSync(existing.path)) return { path: existing.path, branch, created: false, setup: null };
  await gitRun(root, ['worktree', 'prune']); // a tree deleted by hand leaves its registration behind
  const target = agentTreePath(root, config, agent);
  if (existsSync(target)) {
    throw new PivError('usage', `${target} exists but is not ${agent}'s working tree`, { hint: 'Move it away, or set swarm.worktrees in .agents/config.yaml to another folder.' });
  }
  const branchExists = (await resolveCommit(root, `refs/heads/${branch}`)) !== null;
  await gitOk(root, ['worktree', 'add', '--quiet', ...(branchExists ? [target, branch] : ['-b', branch, target, tip])]);
  let setup: AgentTree['setup'] = null;
  if (config.swarm.setup) {
    const run = await runCommand(config.swarm.setup, { cwd: target, timeoutMs: config.verify.timeout_ms, tailLines: config.verify.tail_lines });
    setup = { command: config.swarm.setup, passed: run.passed, exit_code: run.exit_code, output_tail: run.output_tail };
  }
  return { path: target, branch, created: true, setup };
}
