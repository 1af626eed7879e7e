// piv's one entry point: parses flags, loads only the verb it runs, prints, and turns every error into a documented exit code.
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { EXIT, PivError } from './errors.js';
import { prepareHeapForRun } from './heap.js';
import { trace } from './trace.js';

trace('cli loaded');

/** Set by the bundler (scripts/bundle.mjs); unbundled builds read package.json. */
declare const PIV_VERSION: string | undefined;

interface Global {
  json?: boolean;
  cwd?: string;
}

/** What the CLI prints for a verb: the text for people and the exit code. */
interface Outcome {
  text: string;
  exitCode: number;
  /** Envelope error for a gate that failed without an exception (verify, validate, baseline). */
  failure?: { code: string; message: string };
}

/** The --json envelope as one line: indented on a terminal (a person reads it), compact when piped (an agent parses it: 40 % fewer bytes at 10,000 tasks). */
const jsonLine = (value: unknown) => JSON.stringify(value, null, process.stdout.isTTY ? 2 : undefined) + '\n';

const program = new Command('piv')
  .description('A file-based task-graph state machine for AI coding agents: prime, discuss, plan, execute, pause, resume, validate.')
  .version(typeof PIV_VERSION === 'string' ? PIV_VERSION : (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version, '-V, --version')
  .option('--json', 'print one JSON object ({ok, verb, result|error}) instead of text')
  .option('-C, --cwd <dir>', 'run as if piv was started in <dir>')
  .showHelpAfterError('(run piv --help for usage)')
  .exitOverride();

/** Runs one verb: computes, prints (JSON envelope or text) and sets the exit code. `present` may skip the text when `json` (it is not printed). */
async function run<R>(verb: string, cmd: Command, compute: (g: Global) => Promise<R>, present: (r: R, json: boolean) => Promise<Outcome> | Outcome): Promise<void> {
  const g = cmd.optsWithGlobals<Global>();
  trace(`${verb}: flags parsed`);
  try {
    const result = await compute(g);
    trace(`${verb}: computed`);
    const outcome = await present(result, Boolean(g.json));
    if (g.json) process.stdout.write(jsonLine({ ok: outcome.exitCode === 0, verb, result, ...(outcome.failure ? { error: outcome.failure } : {}) }));
    else if (outcome.text) process.stdout.write(outcome.text + '\n');
    trace(`${verb}: printed`);
    process.exitCode = outcome.exitCode;
  } catch (error) {
    const e = error instanceof PivError ? error : null;
    if (g.json) {
      const body = e ? e.toJSON() : { code: 'internal', message: String((error as Error)?.stack ?? error) };
      process.stdout.write(jsonLine({ ok: false, verb, error: body }));
    } else if (e) {
      process.stderr.write(`piv ${verb}: ${e.message}\n${e.hint ? `  hint: ${e.hint}\n` : ''}`);
      const problems = (e.details?.issues as { field: string; line?: number; message: string }[] | undefined) ?? [];
      for (const p of problems.slice(1)) process.stderr.write(`  also: ${p.line ? `line ${p.line}, ` : ''}field "${p.field}": ${p.message}\n`);
    } else {
      process.stderr.write(`piv ${verb}: internal error (a bug in piv; please report it)\n${(error as Error)?.stack ?? String(error)}\n`);
    }
    process.exitCode = e ? e.exitCode : EXIT.internal;
  }
}

const text = (t: string): Outcome => ({ text: t, exitCode: EXIT.ok });
const render = () => import('./cli/render.js');
const collect = (value: string, previous: string[] = []) => [...previous, value];
const int = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new PivError('usage', `${name} must be a whole number, got ${JSON.stringify(value)}`);
  return n;
};

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const agentList = (value: string, previous: string[] = []) => [...previous, value];

program
  .command('init')
  .description('create .agents/ (config with detected test/lint/typecheck commands, schemas) and set up the agents (/piv commands, Claude Code plugin)')
  .option('--agent <names>', 'agents to set up: claude, codex, gemini, cursor, opencode, all or none (comma-separated or repeated; default claude)', agentList)
  .addOption(new Option('--agents <names>', 'alias of --agent').argParser(agentList).hideHelp())
  .option('--force-integrations', 'rewrite integration files and settings values someone changed')
  .option('--hooks-in-settings', 'Claude Code: write the hooks into .claude/settings.json instead of using the plugin\'s')
  .option('--codex-prompts', 'Codex: also write /prompts:piv-* into $CODEX_HOME/prompts')
  .option('--marketplace <source>', 'Claude Code: the piv marketplace (github:OWNER/REPO, a git URL or a folder; default: this piv)')
  .action(async (o, cmd: Command) =>
    run('init', cmd, async (g) => (await import('./verbs/init.js')).init({ cwd: g.cwd, agents: [...(o.agent ?? []), ...(o.agents ?? [])], forceIntegrations: o.forceIntegrations, hooksInSettings: o.hooksInSettings, codexPrompts: o.codexPrompts, marketplace: o.marketplace }), async (r) => text((await render()).renderInit(r))),
  );

const integrations = program.command('integrations').description('install, remove or list the agent integrations (/piv commands, Claude Code plugin and hooks, AGENTS.md)');
for (const [verb, description] of [
  ['install', 'set up the agents (default claude); idempotent; files someone edited are kept unless --force'],
  ['remove', 'remove what piv installed (default: every agent); edited files are kept unless --force'],
  ['list', 'show what is installed per agent and whether each item is untouched, modified or missing'],
] as const) {
  const c = integrations
    .command(verb)
    .description(description)
    .option('--agent <names>', 'claude, codex, gemini, cursor, opencode or all (comma-separated or repeated)', agentList)
    .option('--marketplace <source>', 'Claude Code: the piv marketplace (github:OWNER/REPO, a git URL or a folder; default: this piv)');
  if (verb !== 'list') c.option('--force', verb === 'install' ? 'rewrite files and values someone changed' : 'also remove piv\'s files and values someone changed');
  if (verb !== 'remove') c.option('--hooks-in-settings', 'Claude Code: hooks in .claude/settings.json instead of the plugin\'s');
  if (verb === 'install') c.option('--codex-prompts', 'Codex: also write /prompts:piv-* into $CODEX_HOME/prompts');
  c.action(async (o, sub: Command) =>
    run(`integrations ${verb}`, sub, async (g) => {
      const m = await import('./verbs/integrations.js');
      const opts = { cwd: g.cwd, agents: o.agent, force: o.force, hooksInSettings: o.hooksInSettings, codexPrompts: o.codexPrompts, marketplace: o.marketplace };
      return verb === 'install' ? m.integrationsInstall(opts) : verb === 'remove' ? m.integrationsRemove(opts) : m.integrationsList(opts);
    }, async (r) => {
      const R = await render();
      return text('changes' in r ? R.renderIntegrations(r, verb === 'list' ? 'install' : verb) : R.renderIntegrationList(r));
    }),
  );
}

program
  .command('hook')
  .description('run a Claude Code hook: reads its JSON on stdin, prints its JSON output; never fails (exit 0, a one-line warning)')
  .argument('<event>', 'session-start (resume --brief), pre-compact (pause --auto) or stop (context warning)')
  .option('--agent <id>', 'agent id (default $PIV_AGENT or main)')
  .action(async (event: string, o, cmd: Command) => {
    const g = cmd.optsWithGlobals<Global>();
    let r: { event: string; output: unknown; warning: string | null };
    try {
      const input = process.stdin.isTTY ? '' : await readStdin();
      r = await (await import('./verbs/hook.js')).hook({ event, input, cwd: g.cwd, agent: o.agent });
    } catch (error) {
      r = { event, output: null, warning: `piv hook ${event}: ${(error as Error)?.message ?? String(error)}` };
    }
    if (g.json) process.stdout.write(JSON.stringify({ ok: true, verb: 'hook', result: r }, null, 2) + '\n');
    else {
      if (r.output) process.stdout.write(JSON.stringify(r.output) + '\n');
      if (r.warning) process.stderr.write(r.warning + '\n');
    }
    process.exitCode = EXIT.ok;
  });

program
  .command('mcp')
  .description('run piv as an MCP server over stdio (tools piv_status, piv_next, piv_complete, piv_plan, piv_decide, piv_pause, piv_resume, piv_validate)')
  .option('--agent <id>', 'the agent the tools act for (default $PIV_AGENT or main)')
  .option('--tools', 'print the tool list and its size in tokens instead of serving')
  .action(async (o, cmd: Command) => {
    if (o.tools) {
      return run('mcp', cmd, async (g) => (await import('./verbs/mcp.js')).listTools({ cwd: g.cwd, agent: o.agent }), (r) =>
        text([...r.tools.map((t) => `${t.name}: ${t.description ?? ''}`), `${r.tools.length} tools, schema ${r.schema_tokens} tokens (cl100k_base)`].join('\n')),
      );
    }
    const g = cmd.optsWithGlobals<Global>();
    await (await import('./verbs/mcp.js')).serveStdio({ cwd: g.cwd, agent: o.agent });
  });

program
  .command('prime')
  .description('analyse the codebase (git, layout, languages, commands, key files) and write a brief within a token budget')
  .option('--budget <tokens>', 'maximum size of the brief (default tokens.prime_budget)', int('--budget'))
  .option('--no-write', 'print only; do not write .agents/context/prime.md and prime.json')
  .action(async (o, cmd: Command) =>
    run('prime', cmd, async (g) => (await import('./verbs/prime.js')).prime({ cwd: g.cwd, budget: o.budget, write: o.write }), async (r) => text((await import('./cli/render-prime.js')).renderPrime(r))),
  );

program
  .command('discuss')
  .description('open or reopen the feature session; record decisions and open questions')
  .argument('<feature>', 'feature slug, e.g. user-authentication')
  .option('--title <text>', 'a title for the feature')
  .option('--request <text>', "the user's request, in their words")
  .option('--decide <question=answer>', 'record a decision (repeatable)', collect)
  .option('--question <text>', 'record an open question (repeatable)', collect)
  .option('--rationale <text>', 'why (attached to the decisions of this call)')
  .option('--force', 'open this feature even though the current one is unfinished (it is archived as it is)')
  .action(async (feature: string, o, cmd: Command) =>
    run('discuss', cmd, async (g) => (await import('./verbs/discuss.js')).discuss({ cwd: g.cwd, feature, title: o.title, request: o.request, decide: o.decide, question: o.question, rationale: o.rationale, force: o.force }), async (r) =>
      text((await render()).renderDiscuss(r)),
    ),
  );

program
  .command('plan')
  .description('turn a plan (YAML/JSON file, or - for stdin) into task files; without a file, show the plan')
  .argument('[file]', 'plan file, or - to read stdin')
  .option('--force', 'plan even while questions are open')
  .option('--dry-run', 'validate and show, write nothing')
  .option('--add', 'only add and update tasks: keep the pending tasks this plan does not list')
  .option('--commit', 'commit the plan state (.agents/) as chore(piv): plan <feature>')
  .action(async (file: string | undefined, o, cmd: Command) =>
    run('plan', cmd, async (g) => {
      const textIn = file === '-' ? await readStdin() : undefined;
      return (await import('./verbs/plan.js')).plan({ cwd: g.cwd, file: file === '-' ? '<stdin>' : file, text: textIn, force: o.force, dryRun: o.dryRun, commit: o.commit, add: o.add });
    }, async (r) => text((await render()).renderPlan(r))),
  );

const usageFrom = () => new Option('--usage-from <source>', 'read actual token usage from an agent transcript (default claude when $CLAUDECODE=1)').choices(['claude', 'none']);

const doneAction = (verb: string) => async (id: string, o: { agent?: string; tokens?: number; verify?: boolean; all?: boolean; also?: string[]; usageFrom?: 'claude' | 'none' }, cmd: Command) =>
  run(verb, cmd, async (g) => (await import('./verbs/done.js')).done({ cwd: g.cwd, id, agent: o.agent, tokens: o.tokens, noVerify: o.verify === false, all: o.all, also: o.also, usageFrom: o.usageFrom }), async (r) => ({
    text: (await render()).renderDone(r),
    exitCode: r.passed ? EXIT.ok : EXIT.gate,
    failure: r.passed ? undefined : { code: 'verify_failed', message: `${r.id}: verify failed (exit ${r.attempt.exit_code})` },
  }));

program
  .command('execute')
  .description('claim the next ready task (or show the one you hold) and print its brief; --complete ID finishes one')
  .option('--agent <id>', 'agent id (default $PIV_AGENT or main)')
  .option('--task <id>', 'claim this ready task instead of the scheduler\'s choice')
  .option('--steal-expired', "when nothing is ready, take over another agent's claim whose lease has ended")
  .option('--worktree', 'work as a swarm: your own git worktree on your own branch, made from the feature branch piv/<feature>')
  .option('--complete <id>', 'complete a task: run its verify, commit code + state in one commit')
  .option('--tokens <n>', 'tokens the task used (with --complete)', int('--tokens'))
  .option('--no-verify', 'complete without running verify (recorded)')
  .option('--all', 'with --complete: commit every changed file, not only the task files')
  .option('--also <path>', 'with --complete: also commit this changed path (repeatable)', collect)
  .addOption(usageFrom())
  .action(async (o, cmd: Command) => {
    if (o.complete) return doneAction('execute')(o.complete, o, cmd);
    return run('execute', cmd, async (g) => (await import('./verbs/execute.js')).execute({ cwd: g.cwd, agent: o.agent, task: o.task, stealExpired: o.stealExpired, worktree: o.worktree }), async (r, json) => text(json ? '' : (await render()).renderExecute(r)));
  });

program
  .command('done')
  .description('complete a task you hold: run its verify; on pass, one commit with trailer Piv-Task (alias of execute --complete)')
  .argument('<id>', 'task id, e.g. task-001')
  .option('--agent <id>', 'agent id (default $PIV_AGENT or main)')
  .option('--tokens <n>', 'tokens the task used', int('--tokens'))
  .option('--no-verify', 'complete without running verify (recorded)')
  .option('--all', 'commit every changed file, not only the task files')
  .option('--also <path>', 'also commit this changed path, beyond the task files (repeatable)', collect)
  .addOption(usageFrom())
  .action(doneAction('done'));

program
  .command('heartbeat')
  .description('renew the lease of the tasks you hold (during a long task), so no other agent takes them over')
  .option('--agent <id>', 'agent id (default $PIV_AGENT, your swarm branch, or main)')
  .action(async (o, cmd: Command) =>
    run('heartbeat', cmd, async (g) => (await import('./verbs/task-ops.js')).heartbeat({ cwd: g.cwd, agent: o.agent }), async (r) => text((await render()).renderHeartbeat(r))),
  );

program
  .command('agents')
  .description('list the agents of the feature: the tasks each holds, their leases, their working trees')
  .action(async (_o, cmd: Command) => run('agents', cmd, async (g) => (await import('./verbs/agents.js')).agents({ cwd: g.cwd }), async (r) => text((await render()).renderAgents(r))));

program
  .command('worktree')
  .description('agent working trees of a swarm')
  .command('prune')
  .description('remove the working trees (and branches) of agents that hold no task and whose work has all landed')
  .option('--dry-run', 'show what would be removed')
  .action(async (o, cmd: Command) =>
    run('worktree prune', cmd, async (g) => (await import('./verbs/agents.js')).pruneWorktrees({ cwd: g.cwd, dryRun: o.dryRun }), async (r) => text((await render()).renderPrune(r))),
  );

program
  .command('pause')
  .description('write a checkpoint into the session and a WIP commit of everything uncommitted')
  .option('--note <text>', 'a note for whoever resumes')
  .option('--agent <id>', 'agent id (default $PIV_AGENT or main)')
  .option('--no-commit', 'write the checkpoint only')
  .option('--auto', 'an automatic checkpoint (the PreCompact hook): no WIP commit unless config hooks.pause_commit, the session stays active')
  .action(async (o, cmd: Command) =>
    run('pause', cmd, async (g) => (await import('./verbs/pause.js')).pause({ cwd: g.cwd, note: o.note, agent: o.agent, noCommit: o.commit === false, auto: o.auto }), async (r) => text((await render()).renderPause(r))),
  );

program
  .command('resume')
  .description('reload the feature in a fresh context: decisions, progress, next task; repair crash leftovers; run baseline tests')
  .option('--agent <id>', 'agent id (default $PIV_AGENT or main)')
  .option('--no-baseline', 'skip the baseline test run')
  .option('--brief', 'print only the compact brief (feature, progress, decisions, current or next task) for a fresh context; no baseline run')
  .action(async (o, cmd: Command) =>
    run('resume', cmd, async (g) => (await import('./verbs/resume.js')).resume({ cwd: g.cwd, agent: o.agent, baseline: o.baseline, brief: o.brief }), async (r) => {
      if (r.brief !== null) return text(r.brief);
      const failed = !r.baseline.skipped && !r.baseline.passed;
      return { text: (await render()).renderResume(r), exitCode: failed ? EXIT.gate : EXIT.ok, failure: failed ? { code: 'baseline_failed', message: 'the baseline tests fail' } : undefined };
    }),
  );

program
  .command('validate')
  .description('the gate: state, tasks, lint, typecheck, test, coverage (and task verify with --rerun-verify); exit 1 on failure')
  .addOption(new Option('--stage <names>', 'run only these stages (comma-separated or repeated)').argParser(collect))
  .option('--rerun-verify', "re-run every task's verify command")
  .option('--junit <file>', 'write JUnit XML for CI')
  .option('--no-report', 'do not write the report under .agents/reports/')
  .action(async (o, cmd: Command) =>
    run('validate', cmd, async (g) => (await import('./verbs/validate.js')).validate({ cwd: g.cwd, stages: o.stage, rerunVerify: o.rerunVerify, junit: o.junit, report: o.report }), async (r) => {
      const R = await render();
      // Annotations are text for the runner; with --json, stdout carries only the JSON object.
      if (process.env.GITHUB_ACTIONS === 'true' && !cmd.optsWithGlobals<Global>().json) for (const line of R.githubAnnotations(r)) process.stdout.write(line + '\n');
      return { text: R.renderValidate(r), exitCode: r.passed ? EXIT.ok : EXIT.gate, failure: r.passed ? undefined : { code: 'gate_failed', message: r.verdict } };
    }),
  );

program
  .command('status')
  .description('progress bar, counts, ready set, waves, critical path, token budget')
  .option('--tokens', 'also show estimated against actual tokens per completed task')
  .option('--agent <id>', 'whose context budget to show (default $PIV_AGENT or main)')
  .addOption(usageFrom())
  .action(async (o, cmd: Command) =>
    run('status', cmd, async (g) => (await import('./verbs/status.js')).status({ cwd: g.cwd, agent: o.agent, usageFrom: o.usageFrom }), async (r, json) => text(json ? '' : (await render()).renderStatus(r, { tokens: o.tokens }))),
  );

program
  .command('tokens')
  .description('count tokens of files or folders (honouring .gitignore), as an agent sizes work')
  .argument('[paths...]', 'files or folders (default: the current folder)')
  .action(async (paths: string[], _o, cmd: Command) =>
    run('tokens', cmd, async (g) => (await import('./verbs/tokens.js')).tokens({ cwd: g.cwd, paths }), async (r) => text((await render()).renderTokens(r))),
  );

program
  .command('graph')
  .description('print the task graph as Mermaid or Graphviz DOT')
  .addOption(new Option('--format <format>', 'output format').choices(['mermaid', 'dot']).default('mermaid'))
  .action(async (o, cmd: Command) =>
    run('graph', cmd, async (g) => (await import('./verbs/status.js')).graph({ cwd: g.cwd, format: o.format }), (r) => text(r.text.trimEnd())),
  );

for (const [op, description, needsReason] of [
  ['release', 'give a claimed task back (pending); --force takes back another agent’s claim', false],
  ['block', 'mark a task blocked by something outside the graph (--reason)', true],
  ['unblock', 'lift a block', false],
  ['retry', 'take a failed task back into progress', false],
  ['reopen', 'reopen a completed task (--reason)', true],
] as const) {
  const c = program
    .command(op)
    .description(description)
    .argument('<id>', 'task id')
    .option('--agent <id>', 'agent id (default $PIV_AGENT or main)');
  if (needsReason) c.requiredOption('--reason <text>', 'why (required)');
  else c.option('--reason <text>', 'why');
  if (op === 'release') c.option('--force', "release another agent's claim");
  c.action(async (id: string, o, cmd: Command) =>
    run(op, cmd, async (g) => (await import('./verbs/task-ops.js')).taskOp({ cwd: g.cwd, op, id, agent: o.agent, reason: o.reason, force: o.force }), async (r) => text((await render()).renderTaskOp(r))),
  );
}

program
  .command('sync')
  .description("in a swarm agent's tree: commit your work and merge the feature branch in (after a landing conflict); exit 3 while files conflict")
  .option('--agent <id>', 'agent id (default: your swarm branch, $PIV_AGENT or main)')
  .action(async (o, cmd: Command) =>
    run('sync', cmd, async (g) => (await import('./verbs/sync.js')).sync({ cwd: g.cwd, agent: o.agent }), async (r) => {
      const conflicted = r.outcome === 'conflicts';
      return { text: (await render()).renderSync(r), exitCode: conflicted ? EXIT.conflict : EXIT.ok, failure: conflicted ? { code: 'conflict', message: `merging ${r.branch} left conflicts in ${r.conflicts.join(', ')}: resolve them, git add and git commit, then run piv done for your task again` } : undefined };
    }),
  );

program
  .command('note')
  .description("add a note to a task's notes (any status; nothing else changes)")
  .argument('<id>', 'task id')
  .argument('<text...>', 'the note')
  .option('--agent <id>', 'who signs it (default $PIV_AGENT or main)')
  .action(async (id: string, words: string[], o, cmd: Command) =>
    run('note', cmd, async (g) => (await import('./verbs/task-ops.js')).taskOp({ cwd: g.cwd, op: 'note', id, agent: o.agent, text: words.join(' ') }), async (r) => text((await render()).renderTaskOp(r))),
  );

/**
 * Runs the CLI on `argv` (process.argv's shape: node, script, then the arguments) and resolves when the verb is done, with
 * process.exitCode set (0 ok, 1 gate failed, 2 usage or invalid state, 3 conflict, 70 internal: see errors.ts EXIT). Errors
 * commander raises before a verb runs (unknown option, bad value) exit 2, and with --json are still one JSON object.
 * Rejects only on a bug (an error that is neither a PivError nor commander's).
 */
export async function main(argv: readonly string[] = process.argv): Promise<void> {
  // A reader that stops early (`piv status --json | head -c 100`) is not an error: end quietly, as git does.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit();
  });
  prepareHeapForRun();
  const wantsJson = argv.includes('--json');
  const verbName = argv.slice(2).find((a) => program.commands.some((c) => c.name() === a)) ?? null;
  try {
    await program.parseAsync([...argv]);
  } catch (error) {
    const helpOrVersion = error instanceof CommanderError && ['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(error.code);
    if (helpOrVersion) process.exitCode = EXIT.ok;
    else if (error instanceof CommanderError || error instanceof PivError) {
      const message = error instanceof PivError ? error.message : error.message.replace(/^error: /, '');
      if (error instanceof PivError && !wantsJson) process.stderr.write(`piv: ${message}\n`);
      if (wantsJson) process.stdout.write(jsonLine({ ok: false, verb: verbName, error: { code: 'usage', message, hint: 'Run piv --help for usage.' } }));
      process.exitCode = EXIT.usage;
    } else throw error;
  }
}
