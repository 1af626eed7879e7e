// plan: turns a plan into task files; the plan is validated whole and merged in memory before a single file is written.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { criticalPath, waves } from '../core/graph.js';
import { mergePlan } from '../core/plan.js';
import { sessionsNeeded } from '../core/scheduler.js';
import { PivError } from '../errors.js';
import { readConfig, requireSession, withStateLock, type TaskSummary } from '../store/index.js';
import { detectMode } from '../swarm/mode.js';
import { transact } from '../swarm/transact.js';
import { PlanSchema, type Config, type Task } from '../store/schemas.js';
import { parseYaml } from '../store/yaml.js';
import { AGENTS_DIR } from '../store/layout.js';
import { resolve, type BaseOptions } from './context.js';
import { openQuestions } from '../core/session.js';

export interface PlanOptions extends BaseOptions {
  /** Path of a YAML/JSON plan, relative to cwd. */
  file?: string;
  /** The plan's text (stdin); `file` names it in errors. */
  text?: string;
  /** Plan even while the session has open questions. */
  force?: boolean;
  /** Validate and show the result without writing. */
  dryRun?: boolean;
  /** Only add and update tasks: pending tasks the plan does not list are kept, not dropped. */
  add?: boolean;
  /** Commit the written plan state (.agents/) as `chore(piv): plan <feature>`, so other clones and CI see it. */
  commit?: boolean;
}

export interface PlanRow {
  id: string;
  name: string;
  priority: Task['priority'];
  status: Task['status'];
  blocked_by: string[];
  estimated_tokens: number;
  /** true when piv computed the estimate (the plan gave none). */
  estimated_by_piv: boolean;
  /** Over tokens.task_limit: should be split. */
  oversized: boolean;
}

export interface PlanResult {
  feature: string;
  written: boolean;
  /** The plan commit (with --commit), else null. */
  commit: string | null;
  created: string[];
  updated: string[];
  unchanged: string[];
  kept: { id: string; reason: string }[];
  dropped: string[];
  tasks: PlanRow[];
  total_tokens: number;
  waves: string[][];
  critical_path: { ids: string[]; tokens: number };
  sessions: number;
  budget: { budget: number; critical_at: number; session_overhead: number; task_limit: number };
  warnings: string[];
}

/**
 * Reads a plan (`file`, or `text`), merges it into the existing tasks (core/plan mergePlan rules), computes missing estimates
 * with the tokenizer, writes the task files and moves the session to phase `plan`. Without `file`/`text`, shows the current plan.
 * Throws `invalid_plan`/`invalid_graph` (exit 2) naming the file, line, field or ids; `no_session` (exit 2); on those errors nothing is
 * written. With `commit`, a refused commit (`git_failed`, exit 1) leaves the written plan in place, uncommitted.
 */
export async function plan(opts: PlanOptions): Promise<PlanResult> {
  const { root, now } = resolve(opts);
  const config = await readConfig(root);
  const session = await requireSession(root);
  const cwd = opts.cwd ?? process.cwd();
  let text = opts.text;
  let label = opts.file ?? '<stdin>';
  if (text === undefined && opts.file !== undefined && opts.file !== '-') {
    const file = path.resolve(cwd, opts.file);
    label = path.relative(root, file) || opts.file;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
      throw new PivError('usage', `cannot read the plan ${opts.file} (${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a folder' : code})`, { file: opts.file, hint: 'Pass the path of a YAML or JSON plan, or - for stdin.' });
    }
  }
  if (text === undefined) {
    const { sharedState } = await import('./status.js');
    const { tasks } = await sharedState(root, config);
    return summarize(session.feature, tasks, config, { written: false, commit: null, created: [], updated: [], unchanged: tasks.map((t) => t.id), kept: [], dropped: [] }, new Set());
  }
  const input = parseYaml(text, PlanSchema, { file: label, kind: 'plan' }, 'invalid_plan');

  // In a swarm the plan lands on the feature branch by compare-and-swap, so ids are allocated against its tip: two agents
  // adding tasks at once never get the same id (the loser re-merges onto the winner's tasks and takes the next free ones).
  const mode = detectMode(root, session.feature, config);
  const { result, commit: swarmCommit } = await transact(root, mode, async (view) => {
    const current = view.session ?? session;
    const open = openQuestions(current);
    if (open.length && !opts.force) {
      throw new PivError('usage', `the session has ${open.length} open question${open.length > 1 ? 's' : ''}: ${open.map((q) => JSON.stringify(q)).join(', ')}`, {
        hint: 'Answer them with `piv discuss <feature> --decide "QUESTION=ANSWER"`, or plan anyway with --force.',
        details: { open_questions: open },
      });
    }
    const merge = mergePlan(view.tasks, input, now, { add: opts.add });
    const needEstimate = merge.tasks.filter((t) => t.estimated_tokens === null);
    const computed = new Set<string>();
    if (needEstimate.length) {
      const { estimateTasks } = await import('../tokens/estimate.js');
      const estimates = await estimateTasks(root, needEstimate, config.tokens);
      const byId = new Map(estimates.map((e) => [e.id, e.tokens]));
      for (const t of merge.tasks) {
        if (byId.has(t.id)) {
          t.estimated_tokens = byId.get(t.id)!;
          computed.add(t.id);
        }
      }
    }
    const touched = new Set([...merge.created, ...merge.updated, ...computed]);
    const phase = current.phase === 'discuss' || current.phase === 'prime' ? { ...current, phase: 'plan' as const, updated_at: now } : null;
    const change =
      !opts.dryRun && (touched.size || merge.dropped.length || phase)
        ? {
            tasks: merge.tasks.filter((t) => touched.has(t.id)),
            drop: merge.dropped,
            ...(phase ? { session: phase } : {}),
            subject: `chore(piv): plan ${current.feature}`,
            body: `${merge.tasks.length} tasks; created ${merge.created.length}, updated ${merge.updated.length}, dropped ${merge.dropped.length}.`,
          }
        : null;
    return { change, result: { merge, computed, feature: current.feature } };
  });
  const { merge, computed, feature } = result;
  let commit: string | null = swarmCommit;
  if (opts.commit && !opts.dryRun && mode.kind === 'local') {
    const { changedPaths, commitPaths } = await import('../git/git.js');
    const changed = await withStateLock(root, () => changedPaths(root, [AGENTS_DIR]));
    if (changed.length) commit = await withStateLock(root, () => commitPaths(root, changed, `chore(piv): plan ${feature}\n\n${merge.tasks.length} tasks; created ${merge.created.length}, updated ${merge.updated.length}, dropped ${merge.dropped.length}.\n`));
  }
  return summarize(feature, merge.tasks, config, { ...merge, written: !opts.dryRun, commit }, computed);
}

function summarize(
  feature: string,
  tasks: readonly TaskSummary[],
  config: Config,
  merge: Pick<PlanResult, 'written' | 'commit' | 'created' | 'updated' | 'unchanged' | 'kept' | 'dropped'>,
  computed: Set<string>,
): PlanResult {
  const limit = config.tokens.task_limit;
  const rows: PlanRow[] = tasks.map((t) => ({
    id: t.id,
    name: t.name,
    priority: t.priority,
    status: t.status,
    blocked_by: t.blocked_by,
    estimated_tokens: t.estimated_tokens ?? 0,
    estimated_by_piv: computed.has(t.id),
    oversized: (t.estimated_tokens ?? 0) > limit,
  }));
  // Only a pending task can still be split (a re-plan never rewrites a claimed or completed one): the others are not warned about.
  const warnings = rows.filter((r) => r.oversized && r.status === 'pending').map((r) => `${r.id} is estimated at ${r.estimated_tokens} tokens, over the per-task limit of ${limit}: split it into smaller tasks`);
  for (const k of merge.kept) warnings.push(`${k.id} ${k.reason}`);
  return {
    feature,
    ...merge,
    tasks: rows,
    total_tokens: rows.reduce((s, r) => s + r.estimated_tokens, 0),
    waves: tasks.length ? waves(tasks) : [],
    critical_path: criticalPath(tasks),
    sessions: sessionsNeeded(tasks, config.tokens),
    budget: { budget: config.tokens.budget, critical_at: config.tokens.critical_at, session_overhead: config.tokens.session_overhead, task_limit: limit },
    warnings,
  };
}
