// resume: rebuilds a fresh context's picture from files and git, and repairs what a crash can leave (completed without commit, stale claims).
import { explainStall, featureTokens, isLeaseExpired, nextTask, progress, type Stall } from '../core/scheduler.js';
import { release, renewLease, revertUncommittedCompletion } from '../core/transitions.js';
import { runCommand, type CommandResult } from '../exec/run.js';
import { taskCommits } from '../git/git.js';
import { readAgentState, readAgentStates, readConfig, readTasks, requireSession, withStateLock, writeAgentState, writeSession, writeTask } from '../store/index.js';
import type { Checkpoint } from '../store/schemas.js';
import { defaultAgent, resolve, type BaseOptions } from './context.js';
import { brief, decisionsOf, type TaskBrief } from './execute.js';
import { openQuestions } from '../core/session.js';

export interface ResumeOptions extends BaseOptions {
  agent?: string;
  /** Run the configured test command as a baseline (default true). */
  baseline?: boolean;
}

export interface Repair {
  task: string;
  kind: 'uncommitted_completion' | 'stale_claim';
  message: string;
}

export interface ResumeResult {
  feature: string;
  title: string;
  request: string;
  phase: string;
  decisions: { question: string; answer: string }[];
  open_questions: string[];
  progress: { done: number; total: number; percent: number };
  completed: string[];
  /** The task this agent holds (resume it), if any. */
  current: TaskBrief | null;
  /** The task `piv execute` would claim next. */
  next: TaskBrief | null;
  stall: Stall | null;
  /** The newest checkpoint of any agent, with the agent that took it. */
  last_checkpoint: (Checkpoint & { agent: string }) | null;
  tokens: { feature_total: number; sessions: number };
  repairs: Repair[];
  /** The baseline test run; null when skipped or no test command is configured. */
  baseline: (Omit<CommandResult, 'output'> & { skipped: false }) | { skipped: true; reason: string };
}

/**
 * Loads the feature for a fresh context and repairs crash leftovers under the lock:
 * a task marked completed with no commit carrying its `Piv-Task` trailer goes back to in_progress (with a note);
 * expired claims of other agents go back to pending; this agent's own claim is renewed. Starts a new usage session (tokens at 0).
 * Then runs the baseline tests (config commands.test) unless `baseline` is false.
 * Throws `no_session` (exit 2). A failing baseline is reported in the result (the CLI exits 1).
 */
export async function resume(opts: ResumeOptions = {}): Promise<ResumeResult> {
  const { root, now, nowMs } = resolve(opts);
  const agent = defaultAgent(opts.agent);
  const config = await readConfig(root);
  const leaseMs = config.claims.lease_minutes * 60_000;
  const state = await withStateLock(root, async () => {
    const session = await requireSession(root);
    const tasks = await readTasks(root);
    const commits = await taskCommits(root, session.feature);
    const repairs: Repair[] = [];
    for (let i = 0; i < tasks.length; i++) {
      let t = tasks[i]!;
      const original = t;
      if (t.status === 'completed' && !commits.has(t.id)) {
        t = revertUncommittedCompletion(t, now, leaseMs);
        repairs.push({ task: t.id, kind: 'uncommitted_completion', message: `${t.id} was marked completed but no commit carries "Piv-Task: ${t.id}": back to in_progress (owner ${t.owner ?? 'none'}); run piv done ${t.id} again` });
      } else if (t.status === 'in_progress' && t.owner === agent) {
        t = renewLease(t, agent, now, leaseMs);
      } else if (isLeaseExpired(t, nowMs)) {
        repairs.push({ task: t.id, kind: 'stale_claim', message: `claim of ${t.owner} on ${t.id} expired at ${t.lease_expires_at}: released to pending` });
        t = release(t, agent, now, `stale claim of ${t.owner} released by resume (lease expired ${t.lease_expires_at})`, true);
      }
      if (t !== original) {
        tasks[i] = t;
        await writeTask(root, t);
      }
    }
    // A fresh context: a new usage session for this agent (tokens start at 0; the feature total keeps growing).
    const state = await readAgentState(root, agent);
    await writeAgentState(root, { ...state, sessions: [...state.sessions, { started_at: now, used: 0, transcript: null }] });
    const updated = { ...session, status: 'active' as const };
    if (session.status !== 'active') await writeSession(root, updated);
    return { session: updated, tasks, repairs, states: await readAgentStates(root) };
  });

  const { session, tasks, repairs, states } = state;
  const sessions = states.flatMap((s) => s.sessions);
  const checkpoints = states.flatMap((s) => s.checkpoints.map((c) => ({ ...c, agent: s.agent }))).sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  const p = progress(tasks);
  const held = tasks.find((t) => t.status === 'in_progress' && t.owner === agent);
  const next = nextTask(tasks);
  let baseline: ResumeResult['baseline'];
  if (opts.baseline === false) baseline = { skipped: true, reason: '--no-baseline' };
  else if (!config.commands.test) baseline = { skipped: true, reason: 'no test command in .agents/config.yaml' };
  else {
    const { output: _output, ...run } = await runCommand(config.commands.test, { cwd: root, timeoutMs: config.verify.timeout_ms, tailLines: config.verify.tail_lines });
    baseline = { ...run, skipped: false };
  }
  return {
    feature: session.feature,
    title: session.title,
    request: session.request,
    phase: session.phase,
    decisions: decisionsOf(session),
    open_questions: openQuestions(session),
    progress: { done: p.done, total: p.total, percent: p.percent },
    completed: tasks.filter((t) => t.status === 'completed').map((t) => t.id),
    current: held ? brief(held, tasks) : null,
    next: next ? brief(next, tasks) : null,
    stall: held || next ? null : explainStall(tasks),
    last_checkpoint: checkpoints.at(-1) ?? null,
    tokens: { feature_total: featureTokens(sessions), sessions: sessions.length },
    repairs,
    baseline,
  };
}
