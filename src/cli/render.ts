// Text rendering for people: pure functions from a verb's result to lines; the JSON shapes are the results themselves.
import pc from 'picocolors';
import { markdownTable } from 'markdown-table';
import type { DiscussResult } from '../verbs/discuss.js';
import type { DoneResult } from '../verbs/done.js';
import type { ExecuteResult, TaskBrief } from '../verbs/execute.js';
import type { InitResult } from '../verbs/init.js';
import type { AgentChange, IntegrationList, IntegrationReport } from '../integrations/install.js';
import type { PauseResult } from '../verbs/pause.js';
import type { PlanResult } from '../verbs/plan.js';
import type { ResumeResult } from '../verbs/resume.js';
import type { StatusResult } from '../verbs/status.js';
import type { SyncResult } from '../verbs/sync.js';
import type { TokensResult } from '../verbs/tokens.js';
import type { HeartbeatResult, TaskOpResult } from '../verbs/task-ops.js';
import type { AgentsResult, PruneResult } from '../verbs/agents.js';
import type { ValidateResult } from '../verbs/validate.js';
import type { Stall } from '../core/scheduler.js';

const ok = (s: string) => pc.green(`✓ ${s}`);
const bad = (s: string) => pc.red(`✗ ${s}`);
const head = (s: string) => pc.bold(s);
const dim = (s: string) => pc.dim(s);

/** 62000 → "62K", 1500 → "1.5K", 800 → "800". */
export function kTokens(n: number): string {
  if (n < 1000) return String(n);
  const k = n / 1000;
  return `${k >= 100 || Number.isInteger(k) ? Math.round(k) : k.toFixed(1)}K`;
}

/** A fixed-width bar: [██████░░░░] for a ratio 0–1. */
export function bar(ratio: number, width = 24): string {
  const filled = Math.max(0, Math.min(width, Math.round(ratio * width)));
  return `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}]`;
}

// Column widths ignore colour codes, so coloured cells stay aligned.
const visibleLength = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '').length;
const table = (rows: string[][]) => markdownTable(rows, { alignDelimiters: true, stringLength: visibleLength });

/** The text `piv init` prints: where it wrote, the detected commands, what to do next. */
export function renderInit(r: InitResult): string {
  const c = r.toolchain.commands;
  return [
    r.created ? ok(`initialized piv in ${r.root}`) : ok(`piv already initialized in ${r.root}; config.yaml left as it is`),
    r.files.length ? dim(`wrote ${r.files.join(', ')}`) : '',
    ...integrationLines(r.integrations, r.warnings),
    `ecosystems: ${r.toolchain.ecosystems.join(', ') || 'none detected'}`,
    `commands: test=${c.test ?? '-'}  lint=${c.lint ?? '-'}  typecheck=${c.typecheck ?? '-'}  coverage=${c.coverage ?? '-'}`,
    r.created || r.integrations.some(written) ? dim(`Edit .agents/config.yaml to change them, then commit the set-up: git add ${setupPaths(r)} && git commit -m "chore: set up piv"`) : '',
    dim('Next: piv discuss <feature>'),
  ]
    .filter(Boolean)
    .join('\n');
}

const written = (c: AgentChange) => ['created', 'updated', 'overwritten', 'removed'].includes(c.action);

/** What `git add` takes to commit piv's set-up: .agents and the top folder (or file) of every integration item written in the repository. */
function setupPaths(r: InitResult): string {
  const tops = r.integrations.filter((c) => written(c) && !c.path.startsWith('/')).map((c) => c.path.split('/')[0]!);
  return ['.agents', ...new Set(tops)].join(' ');
}
const changeLabel = (c: AgentChange) => `${c.path}${c.item ? ` (${c.item})` : ''}`;

/** Integration changes grouped by outcome: what was written, what was kept and why, warnings. */
function integrationLines(changes: AgentChange[], warnings: string[]): string[] {
  const lines: string[] = [];
  const by = (actions: string[]) => changes.filter((c) => actions.includes(c.action));
  const wrote = by(['created', 'updated', 'overwritten']);
  if (wrote.length) lines.push(dim(`agent integrations written: ${wrote.map(changeLabel).join(', ')}`));
  const removed = by(['removed']);
  if (removed.length) lines.push(dim(`removed: ${removed.map(changeLabel).join(', ')}`));
  const same = by(['unchanged']);
  if (same.length) lines.push(dim(`up to date: ${same.length} item(s)`));
  for (const c of by(['kept_modified', 'kept_foreign'])) lines.push(pc.yellow(`kept ${changeLabel(c)}: ${c.detail ?? c.action}`));
  for (const w of warnings) lines.push(pc.yellow(`warning: ${w}`));
  return lines;
}

/** The text `piv integrations install|remove` prints. */
export function renderIntegrations(r: IntegrationReport, verb: 'install' | 'remove'): string {
  const lines = integrationLines(r.changes, r.warnings);
  if (!lines.length) lines.push(dim(verb === 'remove' ? 'nothing of piv was installed' : 'nothing to do'));
  if (verb === 'install' && r.agents.includes('claude')) lines.push(dim('Claude Code: /piv:prime … /piv:status come from the piv plugin; trust the folder and restart Claude Code (or /reload-plugins) to load it.'));
  return [head(`piv integrations ${verb}: ${r.agents.join(', ') || 'no agent'}`), ...lines].join('\n');
}

/** The text `piv integrations list` prints: one line per item with its state. */
export function renderIntegrationList(r: IntegrationList): string {
  const mark: Record<string, string> = { untouched: ok('untouched'), modified: pc.yellow('modified'), missing: dim('missing'), foreign: pc.yellow('not piv\'s') };
  const lines: string[] = [];
  for (const a of r.agents) {
    lines.push(head(`${a.agent}: ${a.installed ? 'installed' : 'not installed'}`));
    for (const i of a.items) lines.push(`  ${mark[i.state]}  ${i.path}${i.item ? ` (${i.item})` : ''}${i.current === false && i.state === 'untouched' ? dim(' — outdated: install rewrites it') : ''}`);
  }
  return lines.join('\n');
}

/** The text `piv discuss` prints: the decisions table and the open questions. */
export function renderDiscuss(r: DiscussResult): string {
  const lines = r.archived ? [dim(`The finished feature was archived to ${r.archived}/`)] : [];
  lines.push(head(`${r.opened ? 'Opened' : 'Session'}: ${r.feature}${r.title ? ` — ${r.title}` : ''}`));
  if (r.request) lines.push(`Request: "${r.request}"`);
  if (r.decisions.length) lines.push('', table([['Question', 'Decision'], ...r.decisions.map((d) => [d.question, d.answer])]));
  else lines.push('', dim('No decisions yet: record them with --decide "QUESTION=ANSWER".'));
  if (r.open_questions.length) lines.push('', pc.yellow(`Open questions (${r.open_questions.length}):`), ...r.open_questions.map((q) => `  ? ${q}`));
  lines.push('', dim('Saved to .agents/state/session.yaml. Next: piv plan <file>'));
  return lines.join('\n');
}

/** The text `piv plan` prints: the seed's table (id, name, priority, blocked by, est. tokens), total, sessions, waves, critical path. */
export function renderPlan(r: PlanResult): string {
  const rows = r.tasks.map((t) => [t.id, t.name, t.priority, t.blocked_by.join(', ') || '-', `${kTokens(t.estimated_tokens)}${t.estimated_by_piv ? '*' : ''}${t.oversized ? ' ⚠' : ''}`]);
  const lines = [head(`Plan: ${r.feature}`), '', table([['ID', 'Name', 'Priority', 'Blocked By', 'Est. Tokens'], ...rows])];
  lines.push('', `Total estimate: ${kTokens(r.total_tokens)} tokens (~${r.sessions} session${r.sessions === 1 ? '' : 's'} at ${kTokens(r.budget.budget)} × ${r.budget.critical_at} − ${kTokens(r.budget.session_overhead)} overhead)`);
  if (r.tasks.some((t) => t.estimated_by_piv)) lines.push(dim('* estimated by piv from the task text and its files'));
  lines.push(`Waves: ${r.waves.map((w, i) => `${i + 1}: ${w.join(', ')}`).join('  |  ')}`);
  if (r.critical_path.ids.length) lines.push(`Critical path: ${r.critical_path.ids.join(' → ')} (${kTokens(r.critical_path.tokens)})`);
  const changes = [
    r.created.length ? `created ${r.created.join(', ')}` : '',
    r.updated.length ? `updated ${r.updated.join(', ')}` : '',
    r.dropped.length ? `dropped ${r.dropped.join(', ')}` : '',
  ].filter(Boolean);
  if (!r.written && (r.created.length || r.updated.length || r.dropped.length)) lines.push(pc.yellow(`dry run: would have ${changes.join('; ')}`));
  else if (changes.length) lines.push(ok(changes.join('; ')));
  if (r.commit) lines.push(`Commit ${r.commit.slice(0, 7)} chore(piv): plan ${r.feature}`);
  for (const w of r.warnings) lines.push(pc.yellow(`⚠ ${w}`));
  return lines.join('\n');
}

function renderBrief(t: TaskBrief, decisions: { question: string; answer: string }[]): string[] {
  const lines = [head(`${t.id}: ${t.name}`) + dim(`  [${t.priority}${t.phase ? `, ${t.phase}` : ''}${t.estimated_tokens ? `, ~${kTokens(t.estimated_tokens)} tokens` : ''}]`)];
  if (t.action) lines.push('', head('Action'), t.action.trimEnd());
  if (t.files.length) lines.push('', head('Files'), ...t.files.map((f) => `  - ${f}`));
  lines.push('', head('Verify'), `  ${t.verify ?? dim('(none: complete with --no-verify)')}`);
  if (t.done) lines.push('', head('Done when'), t.done.trimEnd());
  if (decisions.length) lines.push('', head('Decisions'), ...decisions.map((d) => `  - ${d.question} → ${d.answer}`));
  lines.push('', `Unblocks: ${t.unblocks.join(', ') || 'nothing (a leaf task)'}`);
  if (t.last_attempt && !t.last_attempt.passed) lines.push(pc.yellow(`Last verify failed (exit ${t.last_attempt.exit_code}, attempt ${t.attempts}):`), dim(t.last_attempt.output_tail));
  return lines;
}

/** Lines explaining an empty ready set: all done, or what each remaining task waits on. */
export function renderStall(stall: Stall, extra: string[] = []): string[] {
  if (stall.all_done) return [ok('All tasks are completed. Next: piv validate')];
  const lines = ['No task is ready.'];
  for (const t of stall.in_progress) lines.push(`  ${t.id} is in progress (${t.owner ?? 'no owner'})${t.expired ? pc.yellow(` — lease expired ${t.lease_expires_at}: piv execute --steal-expired takes it over`) : ''}`);
  for (const t of stall.blocked) lines.push(`  ${t.id} is blocked: ${t.reason ?? 'no reason given'}`);
  for (const id of stall.failed) lines.push(`  ${id} failed: piv retry ${id}`);
  for (const w of stall.waiting) lines.push(`  ${w.id} waits on ${w.waiting_on.join(', ')}`);
  lines.push(...extra);
  if (lines.length === 1) lines.push('  There are no tasks: run piv plan.');
  return lines;
}

/** The text `piv execute` prints: the task's brief, or why nothing is ready. */
export function renderExecute(r: ExecuteResult): string {
  const where = r.swarm ? [dim(`Swarm: ${r.swarm.branch}${r.swarm.remote ? ` on ${r.swarm.remote}` : ''} · working tree ${r.swarm.worktree}${r.swarm.worktree_created ? ' (new)' : ''}`)] : [];
  if (!r.task) return [`${r.progress.done}/${r.progress.total} done.`, ...renderStall(r.stall!), ...where, ...warningLines(r.warnings)].join('\n');
  const verb = { claimed: 'Claimed', resumed: 'Still yours', taken_over: 'Took over an expired claim', none_ready: '', all_done: '' }[r.outcome];
  return [
    ...warningLines(r.warnings),
    dim(`${verb} for agent ${r.agent} · ${r.progress.done}/${r.progress.total} done${r.feature ? ` · ${r.feature}` : ''}`),
    ...where,
    ...(r.swarm?.worktree_created || (r.swarm && r.swarm.worktree !== process.cwd()) ? [pc.yellow(`Work in: cd ${r.swarm.worktree}`)] : []),
    '',
    ...renderBrief(r.task, r.decisions),
    '',
    dim(`When verify passes: piv done ${r.task.id}${r.agent === 'main' ? '' : ` --agent ${r.agent}`}`),
  ].join('\n');
}

/** The text `piv done` prints: the commit, or the failed verify with its output tail. */
export function renderDone(r: DoneResult): string {
  if (!r.passed) {
    return [
      bad(`${r.id}: verify failed (${r.attempt.timed_out ? 'timed out' : `exit ${r.attempt.exit_code}`}, ${r.attempt.duration_ms} ms) — nothing committed, task still ${r.status === 'failed' ? 'FAILED (max attempts reached)' : 'claimed'}`),
      dim('--- output tail ---'),
      r.attempt.output_tail || dim('(no output)'),
      dim('---'),
      r.status === 'failed' ? `Retry with: piv retry ${r.id}` : `Fix it, then run: piv done ${r.id}`,
    ].join('\n');
  }
  const lines = [ok(`${r.id} completed${r.attempt.skipped ? ' (--no-verify)' : `: verify passed in ${r.attempt.duration_ms} ms`}`), `Commit ${r.commit!.slice(0, 7)} ${r.message}`, dim(`  ${r.committed_paths.join(', ')}`)];
  if (r.landed) lines.push(dim(`Landed on ${r.landed.branch}${r.landed.rebased ? ' (rebased onto its tip)' : ''}${r.landed.attempts > 1 ? ` after ${r.landed.attempts} attempts` : ''}`));
  if (r.left_uncommitted.length) lines.push(pc.yellow(`Left uncommitted (not in the task's files; --also PATH takes one): ${r.left_uncommitted.join(', ')}`));
  lines.push(...warningLines(r.warnings));
  lines.push(dim('Next: piv execute'));
  return lines.join('\n');
}

/** The text `piv pause` prints: the checkpoint and the WIP commit. */
export function renderPause(r: PauseResult): string {
  const c = r.checkpoint;
  return [
    ok(`Checkpoint for ${r.feature}`),
    `- Tasks completed: ${c.done}/${c.total}`,
    `- Tokens used: ${kTokens(c.tokens_used)}`,
    c.in_progress.length ? `- In progress: ${c.in_progress.join(', ')}` : '',
    `- Next task: ${c.next_task ?? '-'}`,
    r.commit ? `- Commit: ${r.commit.slice(0, 7)} "wip: pause point for ${r.feature}"` : `- Commit: none (${r.auto ? 'automatic checkpoint; hooks.pause_commit makes one' : 'nothing uncommitted'})`,
    dim('Resume in a fresh context with: piv resume'),
  ]
    .filter(Boolean)
    .join('\n');
}

/** The text `piv resume` prints for a fresh context: feature, decisions, checkpoint, repairs, next task, baseline. */
export function renderResume(r: ResumeResult): string {
  const lines = [head(`Feature: ${r.feature}${r.title ? ` — ${r.title}` : ''}`)];
  if (r.request) lines.push(`Request: "${r.request}"`);
  lines.push(`Phase: ${r.phase} · ${r.progress.done}/${r.progress.total} tasks done (${r.progress.percent}%) · ${kTokens(r.tokens.feature_total)} tokens over ${r.tokens.sessions - 1} earlier session(s)`);
  if (r.completed.length) lines.push(`Completed: ${r.completed.join(', ')}`);
  if (r.decisions.length) lines.push('', head('Decisions'), ...r.decisions.map((d) => `  - ${d.question} → ${d.answer}`));
  if (r.open_questions.length) lines.push(pc.yellow(`Open questions: ${r.open_questions.join('; ')}`));
  const c = r.last_checkpoint;
  if (c) lines.push('', `Last checkpoint ${c.at} (${c.agent}): ${c.done}/${c.total} done, next ${c.next_task ?? '-'}${c.note ? ` — ${c.note}` : ''}`);
  for (const repair of r.repairs) lines.push(pc.yellow(`Repaired: ${repair.message}`));
  if (r.current) lines.push('', head(`In progress (yours): ${r.current.id} ${r.current.name}`), dim(`piv execute shows its brief; piv done ${r.current.id} when verify passes`));
  else if (r.next) lines.push('', head(`Next: ${r.next.id} ${r.next.name}`), dim('Claim it with: piv execute'));
  else if (r.stall) lines.push('', ...renderStall(r.stall));
  const b = r.baseline;
  lines.push('');
  if (b.skipped) lines.push(dim(`Baseline tests: skipped (${b.reason})`));
  else if (b.passed) lines.push(ok(`Baseline tests: passing (${b.command}, ${b.duration_ms} ms)`));
  else lines.push(bad(`Baseline tests: FAILING (${b.command}, exit ${b.exit_code}) — fix before new work`), dim(b.output_tail));
  return lines.join('\n');
}

/** The text `piv status` prints: progress bar, counts, tasks, ready set, waves, critical path, context budget (and estimates with --tokens). */
export function renderStatus(r: StatusResult, opts: { tokens?: boolean } = {}): string {
  const p = r.progress;
  const lines = [head(r.feature ? `${r.feature}${r.title ? ` — ${r.title}` : ''} (${r.phase}, ${r.session_status})` : 'No feature session')];
  lines.push(`${bar(p.total ? p.done / p.total : 0)} ${p.done}/${p.total} done (${p.percent}%)`);
  lines.push(Object.entries(p.counts).map(([k, v]) => `${k} ${v}`).join(' · '));
  if (r.tasks.length) {
    lines.push('', table([['ID', 'Name', 'Status', 'Priority', 'Blocked By', 'Est.', 'Actual'], ...r.tasks.map((t) => [t.id, t.name, t.status + (t.owner && t.status === 'in_progress' ? ` (${t.owner})` : ''), t.priority, t.blocked_by.join(', ') || '-', t.estimated_tokens === null ? '-' : kTokens(t.estimated_tokens), t.actual_tokens === null ? '-' : kTokens(t.actual_tokens)])]));
  }
  lines.push('', `Ready: ${r.ready.join(', ') || '-'}`);
  for (const c of r.in_progress) lines.push(`In progress: ${c.id} (${c.owner ?? '-'})${c.expired ? pc.yellow(' lease expired') : ''}`);
  if (r.waves.length) lines.push(`Waves: ${r.waves.map((w, i) => `${i + 1}: ${w.join(', ')}`).join('  |  ')}`);
  if (r.critical_path.ids.length) lines.push(`Critical path (remaining): ${r.critical_path.ids.join(' → ')} (${kTokens(r.critical_path.tokens)})`);
  const t = r.tokens;
  const colour = t.level === 'critical' ? pc.red : t.level === 'warning' ? pc.yellow : pc.green;
  lines.push('', `Context: ${colour(bar(t.session_used / t.budget))} ${kTokens(t.session_used)}/${kTokens(t.budget)} (${t.percent}%) this session · ${kTokens(t.feature_total)} for the feature`);
  if (t.recommendation) lines.push(colour(`⚠ ${t.recommendation}`));
  if (opts.tokens) {
    const e = r.estimates;
    lines.push('', head('Estimated vs actual (completed tasks with recorded usage)'));
    if (e.tasks.length === 0) lines.push(dim('  none yet: record usage with piv done ID --tokens N'));
    else {
      lines.push(table([['ID', 'Estimated', 'Actual', 'Actual/Est.'], ...e.tasks.map((x) => [x.id, kTokens(x.estimated), kTokens(x.actual), `${x.ratio}×`]), ['total', kTokens(e.estimated_total), kTokens(e.actual_total), '']]));
      lines.push(`Calibration: ${e.calibration} now; ${e.suggested_calibration} would have matched (set tokens.calibration in .agents/config.yaml)`);
    }
  }
  return lines.join('\n');
}

/** The text `piv tokens` prints: the 20 largest files by tokens and the totals. */
export function renderTokens(r: TokensResult): string {
  const top = [...r.files].sort((a, b) => b.tokens - a.tokens).slice(0, 20);
  const lines = [table([['File', 'Bytes', 'Tokens'], ...top.map((f) => [f.path, String(f.bytes), f.binary ? 'binary' : String(f.tokens)])])];
  if (r.files.length > top.length) lines.push(dim(`… and ${r.files.length - top.length} more files (--json lists all)`));
  lines.push(`Total: ${r.total_tokens} tokens in ${r.files.length} files, ${r.total_bytes} bytes (${r.encoding} × ${r.calibration})`);
  if (r.skipped.length) lines.push(dim(`Skipped ${r.skipped.length}: ${r.skipped.slice(0, 5).map((s) => `${s.path} (${s.reason})`).join(', ')}${r.skipped.length > 5 ? ', …' : ''}`));
  return lines.join('\n');
}

/** The text `piv validate` prints: the stage table, the problems of failed stages, the verdict. */
export function renderValidate(r: ValidateResult): string {
  const icon = { passed: pc.green('✓'), failed: pc.red('✗'), skipped: pc.dim('–') };
  const lines = [head(`piv validate${r.feature ? ` — ${r.feature}` : ''}`), '', table([['Stage', 'Status', 'Details'], ...r.stages.map((s) => [s.name, `${icon[s.status]} ${s.status}`, s.summary])])];
  for (const s of r.stages.filter((x) => x.status === 'failed')) {
    lines.push('', pc.red(`${s.name}:`), ...s.problems.map((p) => `  - ${p}`));
    if (s.output_tail) lines.push(dim(s.output_tail));
  }
  lines.push('', `Verdict: ${r.passed ? pc.green('✓ PASSED') : pc.red(`✗ ${r.verdict}`)}`);
  if (r.report) lines.push(dim(`Report: ${r.report.markdown}`));
  if (r.junit) lines.push(dim(`JUnit: ${r.junit}`));
  return lines.join('\n');
}

/** One line for a transition (release, block, unblock, retry, reopen) or a note. */
export function renderTaskOp(r: TaskOpResult): string {
  const head = r.op === 'note' ? `${r.id}: note added (${r.to})` : `${r.id}: ${r.from} → ${r.to}${r.owner ? ` (owner ${r.owner})` : ''}`;
  return [ok(head), ...warningLines(r.warnings)].join('\n');
}

/** The text `piv sync` prints: what was committed and merged, or the files left with conflict markers. */
export function renderSync(r: SyncResult): string {
  const wip = r.wip_commit ? [dim(`your work committed as ${r.wip_commit.slice(0, 7)}`)] : [];
  if (r.outcome === 'up_to_date') return [...wip, ok(`${r.agent}'s tree already has ${r.branch} (${r.tip.slice(0, 7)})`)].join('\n');
  if (r.outcome === 'merged') return [...wip, ok(`merged ${r.branch} (${r.tip.slice(0, 7)}) into ${r.agent}'s tree as ${r.commit!.slice(0, 7)}`)].join('\n');
  return [
    ...wip,
    bad(`merging ${r.branch} (${r.tip.slice(0, 7)}) left conflicts in ${r.conflicts.length} file${r.conflicts.length === 1 ? '' : 's'}:`),
    ...r.conflicts.map((p) => `  ${p}`),
    dim('resolve them, git add and git commit, then run piv done for your task again'),
  ].join('\n');
}

/** The text `piv heartbeat` prints: the leases renewed. */
export function renderHeartbeat(r: HeartbeatResult): string {
  if (!r.renewed.length) return dim(`${r.agent} holds no task: nothing to renew`);
  return r.renewed.map((t) => ok(`${t.id}: lease renewed until ${t.lease_expires_at}`)).join('\n');
}

/** The text `piv agents` prints: one row per agent with its tasks, leases and working tree. */
export function renderAgents(r: AgentsResult): string {
  if (!r.agents.length) return dim('No agent has worked on this feature yet.');
  const rows = r.agents.map((a) => [
    a.agent,
    a.tasks.map((t) => t.id).join(', ') || '-',
    a.tasks.map((t) => (t.expired ? pc.yellow(`expired ${t.lease_expires_at}`) : `until ${t.lease_expires_at}`)).join(', ') || '-',
    a.worktree ?? '-',
    a.last_seen ?? '-',
  ]);
  return [...(r.branch ? [dim(`Swarm on ${r.branch}`)] : []), table([['Agent', 'Holds', 'Lease', 'Working tree', 'Last seen'], ...rows])].join('\n');
}

/** The text `piv worktree prune` prints: what went, what stayed and why. */
export function renderPrune(r: PruneResult): string {
  const verb = r.dry_run ? 'Would remove' : 'Removed';
  const lines = [...r.removed.map((w) => ok(`${verb} ${w.path} (${w.branch})`)), ...r.branches_deleted.map((b) => ok(`${r.dry_run ? 'Would delete' : 'Deleted'} branch ${b}`))];
  lines.push(...r.kept.map((k) => dim(`Kept ${k.path ?? k.branch}: ${k.reason}`)));
  return lines.join('\n') || dim('No agent working trees.');
}

/** Warnings (things that did not stop a verb), one line each. */
function warningLines(warnings: readonly string[]): string[] {
  return warnings.map((w) => pc.yellow(`⚠ ${w}`));
}

/** GitHub Actions annotations for failed stages (printed when GITHUB_ACTIONS is set). */
export function githubAnnotations(r: ValidateResult): string[] {
  return r.stages.filter((s) => s.status === 'failed').map((s) => `::error title=piv validate: ${s.name}::${[s.summary, ...s.problems].join(' | ').replace(/\r?\n/g, '%0A')}`);
}
