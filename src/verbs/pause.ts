// pause: a checkpoint in the session, then a WIP commit of everything uncommitted, so a fresh context loses nothing (--auto: the checkpoint only, unless config says otherwise).
import { featureTokens, nextTask, progress } from '../core/scheduler.js';
import { changedPaths, commitPaths, head } from '../git/git.js';
import { STATE_PATHS, readAgentsFile, readAgentState, readAgentStates, readConfig, readTasks, requireSession, restoreAgentsFile, withStateLock, writeAgentState, writeSession } from '../store/index.js';
import type { Checkpoint } from '../store/schemas.js';
import { stateContext, type BaseOptions } from './context.js';
import { covers } from './done.js';

export interface PauseOptions extends BaseOptions {
  /** The agent pausing (its checkpoint goes to its own state file). */
  agent?: string;
  note?: string;
  /** Write the checkpoint but make no commit. */
  noCommit?: boolean;
  /**
   * An automatic checkpoint (the PreCompact hook): no WIP commit unless config `hooks.pause_commit` is true, and the session
   * stays active (the agent goes on working after the compaction). The note defaults to "automatic checkpoint".
   */
  auto?: boolean;
}

export interface PauseResult {
  feature: string;
  checkpoint: Checkpoint;
  /** The WIP commit, or null when the tree was clean (or --no-commit). */
  commit: string | null;
  committed_paths: string[];
  /** true for `--auto`. */
  auto: boolean;
}

/**
 * Records a checkpoint (done/total, tokens used, in-progress tasks, next task, HEAD, note), marks the session paused, and commits
 * every uncommitted change, with the checkpoint, as `wip: pause point for <feature>` unless `noCommit` or the tree was clean.
 * With `auto` (see PauseOptions) the session is not marked paused and no commit is made unless config `hooks.pause_commit`.
 * Throws `no_session` / `not_initialized` (exit 2), `git_failed` (exit 1), `lock_timeout` (exit 3).
 */
export async function pause(opts: PauseOptions = {}): Promise<PauseResult> {
  const { root, now, agent, mode } = await stateContext(opts);
  const auto = opts.auto === true;
  const noCommit = opts.noCommit === true || (auto && !(await readConfig(root)).hooks.pause_commit);
  const note = opts.note ?? (auto ? 'automatic checkpoint' : null);
  return withStateLock(root, async () => {
    const session = await requireSession(root);
    // In a swarm the progress is the feature branch's; the checkpoint and the WIP commit stay this agent's own (its state file, its branch).
    let tasks = await readTasks(root);
    if (mode.kind === 'branch') {
      const { featureTip, readTip } = await import('../swarm/branch.js');
      const tip = await featureTip(root, mode);
      if (tip) tasks = (await readTip(root, mode, tip)).tasks;
    }
    const state = await readAgentState(root, agent);
    const p = progress(tasks);
    const checkpoint: Checkpoint = {
      at: now,
      done: p.done,
      total: p.total,
      tokens_used: featureTokens((await readAgentStates(root)).flatMap((s) => s.sessions)),
      in_progress: tasks.filter((t) => t.status === 'in_progress').map((t) => t.id),
      next_task: nextTask(tasks)?.id ?? null,
      head: await head(root),
      note,
    };
    // Whether there is work to save is decided before the checkpoint itself changes session.yaml.
    const dirty = noCommit ? [] : await changedPaths(root);
    const stateFile = `state/agents/${agent}.yaml`;
    const previous = { session: await readAgentsFile(root, 'state/session.yaml'), state: await readAgentsFile(root, stateFile) };
    await writeAgentState(root, { ...state, checkpoints: [...state.checkpoints, checkpoint] });
    // Only the status changes (not updated_at): agents pausing on two branches make the same edit, which merges cleanly.
    if (!auto && session.status !== 'paused' && mode.kind === 'local') await writeSession(root, { ...session, status: 'paused' });
    if (dirty.length === 0) return { feature: session.feature, checkpoint, commit: null, committed_paths: [], auto };
    // Another agent's claimed work (its declared files, its task file, its state) is its own to commit.
    const others = tasks.filter((t) => t.status === 'in_progress' && t.owner !== agent);
    const theirs = (p: string) => others.some((t) => p === STATE_PATHS.task(t.id) || t.files.some((f) => covers(f, p))) || (p.startsWith('.agents/state/agents/') && p !== STATE_PATHS.agentState(agent));
    const changed = (await changedPaths(root)).filter((p) => !theirs(p));
    const body = [
      `Checkpoint: ${p.done}/${p.total} tasks done, ${checkpoint.tokens_used} tokens used.`,
      checkpoint.in_progress.length ? `In progress: ${checkpoint.in_progress.join(', ')}.` : null,
      checkpoint.next_task ? `Next: ${checkpoint.next_task}.` : null,
      note ? `Note: ${note}` : null,
    ]
      .filter(Boolean)
      .join('\n');
    let commit: string;
    try {
      commit = await commitPaths(root, changed, `wip: pause point for ${session.feature}\n\n${body}\n`);
    } catch (error) {
      // a failed pause leaves no half-recorded checkpoint
      await restoreAgentsFile(root, 'state/session.yaml', previous.session);
      await restoreAgentsFile(root, stateFile, previous.state);
      throw error;
    }
    return { feature: session.feature, checkpoint, commit, committed_paths: changed, auto };
  });
}
