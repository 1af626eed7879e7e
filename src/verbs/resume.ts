// resume: rebuilds a fresh context's picture from files and git, and repairs what a crash can leave (completed without commit, stale claims).
import { explainStall, featureTokens, isLeaseExpired, nextTask, progress, type Stall } from '../core/scheduler.js';
import { release, renewLease, revertUncommittedCompletion } from '../core/transitions.js';
import type { CommandResult } from '../exec/run.js';
import { taskCommits } from '../git/git.js';
import { readAgentState, readAgentStates, readConfig, readTasks, requireSession, withStateLock, writeAgentState, writeSession, writeTask } from '../store/index.js';
import type { Checkpoint } from '../store/schemas.js';
import { defaultAgent, resolve, type BaseOptions } from './context.js';
import { brief, decisionsOf, type TaskBrief } from './execute.js';
import { openQuestions } from '../core/session.js';

export interface ResumeOptions extends BaseOptions {
  agent?: string;
  /** Run the configured test command as a baseline (default true; never with `brief`). */
  baseline?: boolean;
  /** Also render `brief`, the compact text a hook injects into a fresh context; the baseline is skipped. */
  brief?: boolean;
  /**
   * The context is new (a start, /clear, a compaction): a new usage session starts for the agent (default true). false when a
   * conversation is resumed with its context: the state is read and repaired, the usage session goes on.
   */
  freshContext?: boolean;
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
  /** With `brief`: the compact text for a fresh context (≤ BRIEF_MAX_CHARS characters), else null. */
  brief: string | null;
}

/** The longest brief `resume --brief` renders: Claude Code keeps hook context up to 10,000 characters inline. */
export const BRIEF_MAX_CHARS = 8_000;

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
    // git is asked only when a completion needs checking (the repair below).
    const commits = tasks.some((t) => t.status === 'completed') ? await taskCommits(root, session.feature) : new Map<string, unknown>();
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
    if (opts.freshContext !== false) {
      const state = await readAgentState(root, agent);
      await writeAgentState(root, { ...state, sessions: [...state.sessions, { started_at: now, used: 0, transcript: null }] });
    }
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
  if (opts.brief) baseline = { skipped: true, reason: '--brief' };
  else if (opts.baseline === false) baseline = { skipped: true, reason: '--no-baseline' };
  else if (!config.commands.test) baseline = { skipped: true, reason: 'no test command in .agents/config.yaml' };
  else {
    const { runCommand } = await import('../exec/run.js');
    const { output: _output, ...run } = await runCommand(config.commands.test, { cwd: root, timeoutMs: config.verify.timeout_ms, tailLines: config.verify.tail_lines });
    baseline = { ...run, skipped: false };
  }
  const result: ResumeResult = {
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
    brief: null,
  };
  return opts.brief ? { ...result, brief: renderBrief(result) } : result;
}

const clip = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1).trimEnd()}…`);

/**
 * The compact text of a resume for injection into a fresh context: feature, progress, decisions, open questions, the last
 * checkpoint, repairs, and the brief of the task held (else the next one). Plain statements of the state (hook context is read
 * as information, not as instructions), at most BRIEF_MAX_CHARS characters. Pure.
 */
export function renderBrief(r: ResumeResult): string {
  const lines = [`piv: feature ${r.feature}${r.title && r.title !== r.feature.replace(/-/g, ' ') ? ` (${r.title})` : ''}, phase ${r.phase}, ${r.progress.done}/${r.progress.total} tasks done.`];
  if (r.request) lines.push(`Request: ${clip(r.request, 600)}`);
  if (r.decisions.length) lines.push('Decisions:', ...r.decisions.slice(0, 20).map((d) => `- ${clip(d.question, 160)} → ${clip(d.answer, 300)}`));
  if (r.open_questions.length) lines.push(`Open questions: ${r.open_questions.map((q) => clip(q, 160)).join('; ')}`);
  const c = r.last_checkpoint;
  if (c) lines.push(`Last checkpoint ${c.at} by ${c.agent}: ${c.done}/${c.total} done${c.note ? `; note: ${clip(c.note, 300)}` : ''}.`);
  for (const repair of r.repairs) lines.push(`Repaired: ${repair.message}`);
  const task = r.current ?? r.next;
  if (task) {
    lines.push(
      r.current ? `In progress (held by this agent): ${task.id} ${task.name} [${task.priority}]` : `Next ready task: ${task.id} ${task.name} [${task.priority}]; \`piv execute\` claims it.`,
      ...(task.action ? [`Action: ${clip(task.action, 2_000)}`] : []),
      ...(task.files.length ? [`Files: ${task.files.slice(0, 30).join(', ')}`] : []),
      ...(task.verify ? [`Verify: ${clip(task.verify, 300)}`] : []),
      ...(task.done ? [`Done when: ${clip(task.done, 600)}`] : []),
    );
    if (r.current && task.last_attempt && !task.last_attempt.passed) lines.push(`Last verify failed (exit ${task.last_attempt.exit_code ?? 'none'}): ${clip(task.last_attempt.output_tail.split('\n').slice(-8).join('\n'), 800)}`);
    if (r.current) lines.push(`\`piv done ${task.id}\` runs verify and commits the task when it passes.`);
  } else if (r.stall) {
    lines.push(r.stall.all_done ? 'Every task is completed; `piv validate` is the gate.' : `No task is ready: ${[...r.stall.in_progress.map((t) => `${t.id} in progress (${t.owner ?? 'no owner'})`), ...r.stall.blocked.map((t) => `${t.id} blocked${t.reason ? ` (${clip(t.reason, 160)})` : ''}`), ...r.stall.failed.map((id) => `${id} failed`)].join(', ') || 'none pending'}.`);
  }
  return clip(lines.join('\n'), BRIEF_MAX_CHARS);
}
