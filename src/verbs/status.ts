// status and graph: read-only views derived from the task files; they never take the lock and never write.
import { criticalPath, waves } from '../core/graph.js';
import { featureTokens, isLeaseExpired, progress, readySet, type Progress } from '../core/scheduler.js';
import { PivError } from '../errors.js';
import { readAgentStates, readConfig, readSession, readTaskSummaries, type TaskSummary } from '../store/index.js';
import type { Config, Session, Task } from '../store/schemas.js';
import { headBranch } from '../git/worktrees.js';
import { agentOfBranch, detectMode, type BranchMode } from '../swarm/mode.js';
import { defaultAgent, resolve, usageSource, type BaseOptions } from './context.js';

export interface StatusResult {
  feature: string | null;
  /** In a swarm, the feature branch the figures come from (its tip), else null (this working tree's files). */
  swarm: { branch: string; remote: string | null; tip: string } | null;
  title: string | null;
  phase: string | null;
  session_status: string | null;
  progress: Progress;
  ready: string[];
  in_progress: { id: string; owner: string | null; lease_expires_at: string | null; expired: boolean }[];
  waves: string[][];
  /** Critical path of the work that remains (completed tasks left out). */
  critical_path: { ids: string[]; tokens: number };
  tasks: { id: string; name: string; status: Task['status']; priority: Task['priority']; owner: string | null; blocked_by: string[]; estimated_tokens: number | null; actual_tokens: number | null }[];
  tokens: {
    /** Tokens used in the current context session. */
    session_used: number;
    feature_total: number;
    budget: number;
    /** session_used / budget, 0–100. */
    percent: number;
    level: 'ok' | 'warning' | 'critical';
    recommendation: string | null;
    /** Where session_used comes from: tokens recorded with `done --tokens`, or the live Claude Code transcript (context size). */
    source: 'recorded' | 'claude_transcript';
  };
  /** Estimated against actual tokens for completed tasks that recorded usage, and the calibration that would have been right. */
  estimates: {
    tasks: { id: string; estimated: number; actual: number; ratio: number }[];
    estimated_total: number;
    actual_total: number;
    calibration: number;
    /** calibration × actual/estimated over those tasks; null without data. */
    suggested_calibration: number | null;
  };
}

/** The tasks not yet completed, with edges to completed tasks removed (what remains to schedule). */
export function remaining<T extends Pick<Task, 'id' | 'status' | 'blocked_by'>>(tasks: readonly T[]): T[] {
  const open = new Set(tasks.filter((t) => t.status !== 'completed').map((t) => t.id));
  return tasks.filter((t) => open.has(t.id)).map((t) => ({ ...t, blocked_by: t.blocked_by.filter((d) => open.has(d)) }));
}

export interface StatusOptions extends BaseOptions {
  /** Whose context budget to show (default $PIV_AGENT or main). */
  agent?: string;
  /** `claude`: measure the current context from the Claude Code transcript (default when $CLAUDECODE=1). */
  usageFrom?: 'claude' | 'none';
}

/**
 * Progress, ready set, claims, waves, critical path, the token budget (warning_at / critical_at of config) and estimate accuracy.
 * Throws `not_initialized` / `invalid_file` (exit 2).
 */
export async function status(opts: StatusOptions = {}): Promise<StatusResult> {
  const { root, nowMs } = resolve(opts);
  const config = await readConfig(root);
  const shared = await sharedState(root, config);
  const inferred = shared.swarm ? agentOfBranch(shared.swarm.feature, headBranch(root)) : null;
  const agent = defaultAgent(opts.agent ?? inferred ?? undefined);
  const { tasks, session } = shared;
  const states = await readAgentStates(root);
  let sessionUsed = states.find((s) => s.agent === agent)?.sessions.at(-1)?.used ?? 0;
  let source: StatusResult['tokens']['source'] = 'recorded';
  if (usageSource(opts.usageFrom) === 'claude') {
    const { claudeUsageFor } = await import('../tokens/transcript.js');
    const usage = await claudeUsageFor(root);
    if (usage && usage.messages > 0) {
      sessionUsed = usage.context_tokens;
      source = 'claude_transcript';
    }
  }
  const measured = tasks.filter((t) => t.status === 'completed' && t.actual_tokens !== null && (t.estimated_tokens ?? 0) > 0);
  const estimatedTotal = measured.reduce((s, t) => s + t.estimated_tokens!, 0);
  const actualTotal = measured.reduce((s, t) => s + t.actual_tokens!, 0);
  const ratio = sessionUsed / config.tokens.budget;
  const level = ratio >= config.tokens.critical_at ? 'critical' : ratio >= config.tokens.warning_at ? 'warning' : 'ok';
  return {
    feature: session?.feature ?? null,
    swarm: shared.swarm ? { branch: shared.swarm.branch, remote: shared.swarm.remote, tip: shared.swarm.tip } : null,
    title: session?.title ?? null,
    phase: session?.phase ?? null,
    session_status: session?.status ?? null,
    progress: progress(tasks),
    ready: readySet(tasks).map((t) => t.id),
    in_progress: tasks.filter((t) => t.status === 'in_progress').map((t) => ({ id: t.id, owner: t.owner, lease_expires_at: t.lease_expires_at, expired: isLeaseExpired(t, nowMs) })),
    waves: tasks.length ? waves(tasks) : [],
    critical_path: criticalPath(tasks, (t) => t.status !== 'completed'), // the graph remaining() gives, without copying it
    tasks: tasks.map((t) => ({ id: t.id, name: t.name, status: t.status, priority: t.priority, owner: t.owner, blocked_by: t.blocked_by, estimated_tokens: t.estimated_tokens, actual_tokens: t.actual_tokens })),
    tokens: {
      session_used: sessionUsed,
      feature_total: featureTokens(states.flatMap((s) => s.sessions)),
      budget: config.tokens.budget,
      percent: Math.round(ratio * 1000) / 10,
      level,
      recommendation: level === 'critical' ? 'context nearly full: run `piv pause` now and resume in a fresh context' : level === 'warning' ? 'context past the warning mark: finish the current task, then pause' : null,
      source,
    },
    estimates: {
      tasks: measured.map((t) => ({ id: t.id, estimated: t.estimated_tokens!, actual: t.actual_tokens!, ratio: Math.round((t.actual_tokens! / t.estimated_tokens!) * 100) / 100 })),
      estimated_total: estimatedTotal,
      actual_total: actualTotal,
      calibration: config.tokens.calibration,
      suggested_calibration: estimatedTotal > 0 ? Math.round(config.tokens.calibration * (actualTotal / estimatedTotal) * 100) / 100 : null,
    },
  };
}

export interface GraphOptions extends BaseOptions {
  format?: 'mermaid' | 'dot';
}

const mermaidId = (id: string) => id.replace(/-/g, '_');
const STATUS_CLASS: Record<Task['status'], string> = { pending: 'pending', in_progress: 'active', completed: 'done', blocked: 'blocked', failed: 'failed' };

/** The task graph as Mermaid (`flowchart TD`) or Graphviz DOT text, edges dependency → dependent, nodes styled by status. */
export async function graph(opts: GraphOptions = {}): Promise<{ format: 'mermaid' | 'dot'; text: string }> {
  const format = opts.format ?? 'mermaid';
  if (format !== 'mermaid' && format !== 'dot') throw new PivError('usage', `unknown graph format ${JSON.stringify(format)}`, { hint: 'Use --format mermaid or --format dot.' });
  const { root } = resolve(opts);
  const { tasks } = await sharedState(root, await readConfig(root));
  const label = (t: TaskSummary) => `${t.id}: ${t.name}`.replace(/"/g, "'");
  if (format === 'dot') {
    const colour: Record<Task['status'], string> = { pending: 'white', in_progress: 'lightblue', completed: 'palegreen', blocked: 'orange', failed: 'salmon' };
    const lines = ['digraph piv {', '  rankdir=LR;', '  node [shape=box, style=filled];'];
    for (const t of tasks) lines.push(`  "${t.id}" [label="${label(t)}\\n(${t.status})", fillcolor=${colour[t.status]}];`);
    for (const t of tasks) for (const d of t.blocked_by) lines.push(`  "${d}" -> "${t.id}";`);
    lines.push('}');
    return { format, text: lines.join('\n') + '\n' };
  }
  const lines = ['flowchart TD'];
  for (const t of tasks) lines.push(`  ${mermaidId(t.id)}["${label(t)}"]:::${STATUS_CLASS[t.status]}`);
  for (const t of tasks) for (const d of t.blocked_by) lines.push(`  ${mermaidId(d)} --> ${mermaidId(t.id)}`);
  lines.push('  classDef done fill:#c8f7c5', '  classDef active fill:#cfe8ff', '  classDef blocked fill:#ffd8a8', '  classDef failed fill:#ffc9c9', '  classDef pending fill:#fff');
  return { format, text: lines.join('\n') + '\n' };
}

/**
 * The tasks and session every read-only view shows: this working tree's files, or, in a swarm, the feature branch's tip
 * (fetched first when it lives on a remote). Throws `invalid_file` / `invalid_graph` (exit 2), `git_failed` (exit 1).
 */
export async function sharedState(root: string, config: Config): Promise<{ tasks: TaskSummary[]; session: Session | null; swarm: (BranchMode & { tip: string }) | null }> {
  const session = await readSession(root);
  const mode = detectMode(root, session?.feature ?? null, config);
  if (mode.kind === 'branch') {
    const { featureTip, readTip } = await import('../swarm/branch.js');
    const tip = await featureTip(root, mode);
    if (tip) {
      const state = await readTip(root, mode, tip);
      return { tasks: state.tasks, session: state.session ?? session, swarm: { ...mode, tip } };
    }
  }
  // Summaries only: served from the cache's index (no task file read, no YAML parser) while the files are unchanged.
  return { tasks: await readTaskSummaries(root), session, swarm: null };
}
