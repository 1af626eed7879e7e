// validate: the gate; every stage reports passed, failed or skipped, and the verdict fails if any stage failed (read-only but for reports).
import { checkGraph } from '../core/graph.js';
import { PivError } from '../errors.js';
import { readConfig, readSession, layout, readTasksCollecting, rel, writeAgentsFile } from '../store/index.js';
import type { Config, Task } from '../store/schemas.js';
import { resolve, type BaseOptions } from './context.js';

export const STAGES = ['state', 'tasks', 'lint', 'typecheck', 'test', 'coverage', 'verify'] as const;
export type StageName = (typeof STAGES)[number];

export interface StageResult {
  name: StageName;
  status: 'passed' | 'failed' | 'skipped';
  /** One line for the table. */
  summary: string;
  problems: string[];
  duration_ms: number;
  command: string | null;
  exit_code: number | null;
  output_tail: string | null;
}

export interface ValidateOptions extends BaseOptions {
  /** Run only these stages (default: all). */
  stages?: string[];
  /** Re-run every task's verify command (they come from the repository: opt-in). */
  rerunVerify?: boolean;
  /** Write JUnit XML here (relative to cwd). */
  junit?: string;
  /** Write the markdown + JSON report under .agents/reports/ (default true). */
  report?: boolean;
}

export interface ValidateResult {
  passed: boolean;
  verdict: string;
  feature: string | null;
  stages: StageResult[];
  report: { markdown: string; json: string } | null;
  junit: string | null;
}

function stage(name: StageName, status: StageResult['status'], summary: string, extra: Partial<StageResult> = {}): StageResult {
  return { name, status, summary, problems: [], duration_ms: 0, command: null, exit_code: null, output_tail: null, ...extra };
}

/**
 * Runs the gate stages in order — state (schemas, graph), tasks (all completed and committed), lint, typecheck, test, coverage
 * (config commands), verify (only with rerunVerify) — and writes a report. Returns every stage's result; `passed` is false if any failed.
 * Throws `usage` (exit 2) for an unknown stage name; `not_initialized` (exit 2).
 */
export async function validate(opts: ValidateOptions = {}): Promise<ValidateResult> {
  const { root, now } = resolve(opts);
  const wanted = new Set<StageName>();
  for (const s of (opts.stages ?? []).flatMap((x) => x.split(',')).map((x) => x.trim()).filter(Boolean)) {
    if (!(STAGES as readonly string[]).includes(s)) throw new PivError('usage', `unknown stage ${JSON.stringify(s)}`, { hint: `Stages: ${STAGES.join(', ')}.` });
    wanted.add(s as StageName);
  }
  const runs = (name: StageName) => wanted.size === 0 || wanted.has(name);

  const results: StageResult[] = [];
  let config: Config | null = null;
  let tasks: Task[] = [];
  let feature: string | null = null;
  let stateOk = true;

  // Stage 1: state. Collects every problem rather than stopping at the first.
  {
    const started = performance.now();
    const problems: string[] = [];
    try {
      config = await readConfig(root);
    } catch (error) {
      if (!(error instanceof PivError)) throw error;
      if (error.code === 'not_initialized') throw error;
      problems.push(error.message);
    }
    try {
      feature = (await readSession(root))?.feature ?? null;
    } catch (error) {
      if (!(error instanceof PivError)) throw error;
      problems.push(error.message);
    }
    const collected = await readTasksCollecting(root);
    tasks = collected.tasks;
    problems.push(...collected.errors.map((e) => e.message));
    if (collected.errors.length === 0) problems.push(...checkGraph(tasks).map((p) => `${rel(root, layout(root).task(p.ids[0]!))}: ${p.message}`));
    stateOk = problems.length === 0;
    if (runs('state')) {
      results.push(
        stage('state', stateOk ? 'passed' : 'failed', stateOk ? `config, session and ${tasks.length} task files valid; graph acyclic` : `${problems.length} problem${problems.length > 1 ? 's' : ''}`, {
          problems,
          duration_ms: Math.round(performance.now() - started),
        }),
      );
    }
  }

  // Stage 2: tasks — all completed, each with its commit (trailer) in history.
  if (runs('tasks')) {
    const started = performance.now();
    if (!stateOk) results.push(stage('tasks', 'skipped', 'state is invalid'));
    else {
      const { taskCommits } = await import('../git/git.js'); // git and execa load only for the stages that run commands
      const commits = await taskCommits(root, feature);
      const problems: string[] = [];
      if (tasks.length === 0) problems.push('no tasks: run piv plan');
      for (const t of tasks) {
        if (t.status !== 'completed') problems.push(`${t.id} is ${t.status}${t.status === 'blocked' && t.blocker ? ` (${t.blocker})` : ''}`);
        else if (!commits.has(t.id)) problems.push(`${t.id} is completed but no commit carries "Piv-Task: ${t.id}"`);
        else {
          // One commit per completion: a reopened task may have more, any other extra commit means it was done twice.
          const allowed = 1 + t.notes.filter((n) => n.text.startsWith('reopened:')).length;
          const found = commits.get(t.id)!;
          if (found.length > allowed) problems.push(`${t.id} was completed ${found.length} times (commits ${found.map((c) => c.hash.slice(0, 7)).join(', ')}); it was reopened ${allowed - 1} times`);
        }
      }
      if (feature && config) {
        // In a swarm, the checkout is gated: the feature branch's work must be in it.
        const { detectMode } = await import('../swarm/mode.js');
        const mode = detectMode(root, feature, config);
        if (mode.kind === 'branch') {
          const { featureTip } = await import('../swarm/branch.js');
          const { isAncestor } = await import('../git/plumbing.js');
          const tip = await featureTip(root, mode).catch(() => null);
          if (tip && !(await isAncestor(root, tip, 'HEAD'))) problems.push(`${mode.branch} holds work that is not in this checkout: merge it first (git merge ${mode.branch})`);
        }
      }
      const done = tasks.filter((t) => t.status === 'completed' && commits.has(t.id)).length;
      results.push(stage('tasks', problems.length ? 'failed' : 'passed', `${done}/${tasks.length} completed and committed`, { problems, duration_ms: Math.round(performance.now() - started) }));
    }
  }

  // Stages 3–6: the project's own gates.
  const gates: [StageName, keyof Config['commands']][] = [
    ['lint', 'lint'],
    ['typecheck', 'typecheck'],
    ['test', 'test'],
    ['coverage', 'coverage'],
  ];
  for (const [name, key] of gates) {
    if (!runs(name)) continue;
    const command = config?.commands[key] ?? null;
    if (!config) {
      results.push(stage(name, 'skipped', 'config is invalid'));
      continue;
    }
    if (!command) {
      results.push(stage(name, 'skipped', `no ${key} command in .agents/config.yaml`));
      continue;
    }
    const { runCommand } = await import('../exec/run.js');
    const run = await runCommand(command, { cwd: root, timeoutMs: config.verify.timeout_ms, tailLines: config.verify.tail_lines });
    let status: StageResult['status'] = run.passed ? 'passed' : 'failed';
    let summary = run.passed ? `exit 0 in ${run.duration_ms} ms` : run.timed_out ? `killed after ${config.verify.timeout_ms} ms` : `exit ${run.exit_code}`;
    const problems: string[] = [];
    if (name === 'coverage') {
      const match = safeRegExp(config.coverage.pattern)?.exec(run.output);
      const percent = match?.[1] !== undefined ? Number(match[1]) : null;
      if (percent !== null && Number.isFinite(percent)) {
        summary = `${percent}% (threshold ${config.coverage.threshold}%)`;
        if (percent < config.coverage.threshold) {
          status = 'failed';
          problems.push(`coverage ${percent}% is below the threshold of ${config.coverage.threshold}%`);
        }
      } else if (run.passed) summary += ' (no percentage matched coverage.pattern)';
    }
    if (!run.passed) problems.push(`${command} ${summary}`);
    results.push(stage(name, status, summary, { problems, command, exit_code: run.exit_code, duration_ms: run.duration_ms, output_tail: run.passed ? null : run.output_tail }));
  }

  // Stage 7: re-run each task's verify, only on request.
  if (runs('verify')) {
    if (!opts.rerunVerify) results.push(stage('verify', 'skipped', 'task verify commands not re-run (pass --rerun-verify)'));
    else if (!stateOk || !config) results.push(stage('verify', 'skipped', 'state is invalid'));
    else {
      const started = performance.now();
      const problems: string[] = [];
      let ran = 0;
      const { runCommand } = await import('../exec/run.js');
      for (const t of tasks) {
        if (!t.verify) continue;
        ran++;
        const run = await runCommand(t.verify, { cwd: root, timeoutMs: config.verify.timeout_ms, tailLines: config.verify.tail_lines, env: { PIV_TASK: t.id } });
        if (!run.passed) problems.push(`${t.id}: ${t.verify} → ${run.timed_out ? 'timed out' : `exit ${run.exit_code}`}\n${run.output_tail}`);
      }
      results.push(stage('verify', problems.length ? 'failed' : 'passed', `${ran - problems.length}/${ran} verify commands pass`, { problems, duration_ms: Math.round(performance.now() - started) }));
    }
  }

  const failed = results.filter((r) => r.status === 'failed');
  const passed = failed.length === 0;
  const verdict = passed ? 'PASSED' : `FAILED: ${failed.map((f) => f.name).join(', ')}`;
  const result: ValidateResult = { passed, verdict, feature, stages: results, report: null, junit: null };

  if (opts.report !== false) {
    const stamp = now.replace(/[:.]/g, '-');
    const md = await writeAgentsFile(root, `reports/validate-${stamp}.md`, markdownReport(result, now));
    const json = await writeAgentsFile(root, `reports/validate-${stamp}.json`, JSON.stringify({ ...result, at: now }, null, 2) + '\n');
    result.report = { markdown: rel(root, md), json: rel(root, json) };
  }
  if (opts.junit) {
    const { writeJunit } = await import('../gate/junit.js');
    result.junit = await writeJunit(result.stages, opts.junit, opts.cwd ?? process.cwd());
  }
  return result;
}

function safeRegExp(pattern: string): RegExp | null {
  try {
    return new RegExp(pattern, 'im');
  } catch {
    return null;
  }
}

const ICON = { passed: '✓', failed: '✗', skipped: '–' } as const;

/** The markdown report: stage table, verdict, then the problems and output tails of failed stages. */
export function markdownReport(result: Omit<ValidateResult, 'report' | 'junit'>, at: string): string {
  const lines = [`# piv validate${result.feature ? ` — ${result.feature}` : ''}`, '', `${at}`, '', '| Stage | Status | Details |', '|---|---|---|'];
  for (const s of result.stages) lines.push(`| ${s.name} | ${ICON[s.status]} ${s.status} | ${s.summary.replace(/\|/g, '\\|')} |`);
  lines.push('', `**Verdict:** ${result.passed ? '✓' : '✗'} ${result.verdict}`, '');
  for (const s of result.stages.filter((x) => x.status === 'failed')) {
    lines.push(`## ${s.name}`, '');
    for (const p of s.problems) lines.push(`- ${p.split('\n')[0]}`);
    if (s.output_tail) lines.push('', '```', s.output_tail, '```');
    lines.push('');
  }
  return lines.join('\n');
}
