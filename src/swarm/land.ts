// Landing: a task commit reaches the feature branch rebased onto its tip by compare-and-swap, whole or not at all — never half-merged.
import { PivError } from '../errors.js';
import { failpoint } from '../failpoint.js';
import { commitTree, gitOk, gitRun, isAncestor, lsTree, mergeTrees, overrideTree, readCommit } from '../git/plumbing.js';
import { STATE_PATHS } from '../store/index.js';
import { advance, backoff, featureTip, readTip } from './branch.js';
import type { BranchMode } from './mode.js';

export interface Landing {
  /** The commit now on the feature branch that carries the task (`local` itself when no rebase was needed). */
  commit: string;
  /** true when the commit was rebased onto a tip other agents had moved. */
  rebased: boolean;
  /** Compare-and-swap attempts it took (1 without contention). */
  attempts: number;
  /** Things the agent should know (its tree could not follow the branch). */
  warnings: string[];
}

const MAX_ATTEMPTS = 200;

/**
 * Lands `local` — the task commit of `taskId` made by `agent` on its own branch in the working tree `root` — on the feature
 * branch: fast-forward when the branch has not moved, else a three-way merge onto its tip (git merge-tree: no working tree
 * involved) committed with the task commit's message and author, moved onto the branch by compare-and-swap and retried on a
 * lost race. The task's own file and the agent's own state file are the agent's to write, so its versions win; any other
 * conflicting file stops the landing. Afterwards the agent's tree follows the branch (`git reset --keep`).
 * Throws `conflict` (exit 3) when other files conflict (details.files) or the claim is no longer this agent's; in both cases
 * the task commit is undone in the agent's tree (its changes stay in the working tree, uncommitted) and the task stays claimed.
 */
export async function land(root: string, mode: BranchMode, taskId: string, agent: string, local: string): Promise<Landing> {
  const own = [STATE_PATHS.task(taskId), STATE_PATHS.agentState(agent)];
  const localCommit = await readCommit(root, local);
  const parent = localCommit.parents[0] ?? null;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const tip = await featureTip(root, mode);
    if (!tip) throw new PivError('usage', `the feature branch ${mode.branch} does not exist`, { hint: 'It was deleted: recreate it from a working tree holding the plan (piv execute --worktree).' });
    const state = await readTip(root, mode, tip);
    const task = state.tasks.find((t) => t.id === taskId);
    // Completed by this agent already: an earlier landing went through (a crash came before the tree followed).
    if (task?.status === 'completed' && task.owner === agent) return follow(root, tip, { commit: tip, rebased: !(await isAncestor(root, local, tip)), attempts: attempt, warnings: [] });
    if (!task || task.status !== 'in_progress' || task.owner !== agent) {
      await undo(root, parent, taskId);
      throw new PivError('conflict', `${taskId} is no longer yours on ${mode.branch}: it is ${task ? `${task.status}${task.owner ? ` (owner ${task.owner})` : ''}` : 'gone'}`, {
        hint: 'Your lease ended and another agent took the task over, or it was released. Your changes are still in the working tree, uncommitted: hand them over, or run `piv execute` for another task.',
        details: { task: taskId, status: task?.status ?? null, owner: task?.owner ?? null },
      });
    }
    let candidate = local;
    if (parent !== tip) {
      const merged = await mergeTrees(root, tip, local);
      const conflicts = merged.conflicts.filter((p) => !own.includes(p));
      if (conflicts.length) {
        await undo(root, parent, taskId);
        throw new PivError('conflict', `${taskId} cannot land on ${mode.branch}: ${conflicts.join(', ')} changed there too`, {
          hint: `Nothing was merged and the task stays claimed; your changes are in the working tree, uncommitted. Run \`piv sync\` (it commits them and merges ${mode.branch} in; or by hand: git add -A && git commit -m "wip: ${taskId}" && git merge ${mode.tracking.replace(/^refs\/(heads|remotes)\//, '')}), resolve the conflicts and commit, then run \`piv done ${taskId}\` again.`,
          details: { task: taskId, files: conflicts, tip },
        });
      }
      const ours = new Map((await lsTree(root, local, own)).map((e) => [e.path, e.oid] as const));
      const tree = await overrideTree(root, merged.tree, new Map(own.map((p) => [p, ours.get(p) ?? null] as const)));
      candidate = await commitTree(root, tree, [tip], localCommit.message, { author: localCommit.author });
    }
    if (await advance(root, mode, tip, candidate)) {
      failpoint('done:after-land');
      return follow(root, candidate, { commit: candidate, rebased: candidate !== local, attempts: attempt, warnings: [] });
    }
    await backoff(attempt);
  }
  throw new PivError('conflict', `${mode.branch} kept moving: ${taskId} could not land in ${MAX_ATTEMPTS} attempts`, { hint: `Run \`piv resume\` in this working tree: it lands the completed task.` });
}

/** The agent's tree follows the landed commit; when it cannot (uncommitted changes in the way), a warning says so. */
async function follow(root: string, commit: string, landing: Landing): Promise<Landing> {
  const r = await gitRun(root, ['reset', '--quiet', '--keep', commit]);
  if (r.exitCode !== 0) landing.warnings.push(`this working tree could not follow ${commit.slice(0, 7)} (${r.stderr.trim().split('\n')[0]}); run \`git reset --keep ${commit.slice(0, 7)}\` once your changes allow it`);
  return landing;
}

/** Undoes the local task commit: the branch goes back to `parent`, the changes stay in the working tree, the task file is as before. */
async function undo(root: string, parent: string | null, taskId: string): Promise<void> {
  if (!parent) return;
  await gitOk(root, ['reset', '--quiet', '--mixed', parent]);
  await gitRun(root, ['checkout', parent, '--', STATE_PATHS.task(taskId)]);
  await gitRun(root, ['reset', '--quiet', '--', STATE_PATHS.task(taskId)]);
}

export interface TreeRepair {
  task: string;
  kind: 'landed' | 'followed' | 'claim_lost';
  message: string;
}

/**
 * Finishes what a crash can leave in an agent's working tree in a swarm: a task commit on the agent's branch that never reached
 * the feature branch is landed; one that landed while the tree did not follow is followed. Returns what it repaired ([] when
 * the tree is in step). Never throws for a landing that cannot happen: that becomes a `claim_lost` repair note.
 */
export async function recoverTree(root: string, mode: BranchMode, agent: string): Promise<TreeRepair[]> {
  const tip = await featureTip(root, mode);
  const head = (await gitRun(root, ['rev-parse', '--verify', '--quiet', 'HEAD'])).stdout.trim();
  if (!tip || !head || (await isAncestor(root, head, tip))) return [];
  const out = await gitOk(root, ['log', '-1', '--format=%(trailers:key=Piv-Task,valueonly,separator=%x2c)', head]);
  const taskId = out.trim().split(',')[0]?.trim();
  if (!taskId) return [];
  const task = (await readTip(root, mode, tip)).tasks.find((t) => t.id === taskId);
  if (task?.status === 'completed' && task.owner === agent) {
    // Landed (its rebased copy is on the branch) but the tree never followed: follow, if nothing but that commit is ahead.
    if ((await gitOk(root, ['rev-list', '--count', `${tip}..${head}`])).trim() !== '1') return [];
    const landing = await follow(root, tip, { commit: tip, rebased: true, attempts: 0, warnings: [] });
    return [{ task: taskId, kind: 'followed', message: `${taskId} had landed on ${mode.branch}; this working tree now follows it${landing.warnings.length ? ` (${landing.warnings[0]})` : ''}` }];
  }
  try {
    const landing = await land(root, mode, taskId, agent, head);
    return [{ task: taskId, kind: 'landed', message: `${taskId} was committed here but had not reached ${mode.branch}: landed as ${landing.commit.slice(0, 7)}` }];
  } catch (error) {
    if (!(error instanceof PivError) || error.code !== 'conflict') throw error;
    return [{ task: taskId, kind: 'claim_lost', message: error.message }];
  }
}
