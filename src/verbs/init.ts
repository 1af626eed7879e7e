// init: creates .agents/ in a git repository; running it again never overwrites a config a person edited.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { installIntegrations, type AgentChange } from '../integrations/install.js';
import { detectToolchain, type Toolchain } from '../detect/toolchain.js';
import { installSchemas, layout, rel, writeAgentsFile, writeConfigText } from '../store/index.js';
import { resolve, type BaseOptions } from './context.js';
import { parseAgents } from './integrations.js';

export interface InitResult {
  root: string;
  /** false when .agents/config.yaml already existed (it was left as it was). */
  created: boolean;
  /** Files written, relative to root. */
  files: string[];
  toolchain: Pick<Toolchain, 'ecosystems' | 'package_managers' | 'commands' | 'sources'>;
  /** What the agent integrations did, item by item (see `piv integrations install`). */
  integrations: AgentChange[];
  /** Things to know about the integrations (a marketplace path that is not portable, an edited file of an earlier piv). */
  warnings: string[];
}

export interface InitOptions extends BaseOptions {
  /** Agents to set up (names, `a,b`, `all`, `none`; default claude). */
  agents?: string[];
  /** Rewrite integration files and values someone changed. */
  forceIntegrations?: boolean;
  /** Claude Code: hooks in .claude/settings.json instead of the plugin's. */
  hooksInSettings?: boolean;
  /** Codex: also write custom prompts into $CODEX_HOME/prompts. */
  codexPrompts?: boolean;
  /** Claude Code: the marketplace source (`github:OWNER/REPO`, a git URL or a folder). */
  marketplace?: string;
}

const q = (value: string | null) => (value === null ? 'null' : JSON.stringify(value));

/** The commented config.yaml piv writes on init, with the detected commands filled in. */
export function configTemplate(commands: Toolchain['commands'], sources: Toolchain['sources']): string {
  const from = (k: keyof Toolchain['commands']) => (sources[k] ? `  # from ${sources[k]}` : commands[k] === null ? '  # none detected: set one to gate on it' : '');
  return `version: 1

# Commands piv runs: \`validate\` gates on them, \`resume\` runs \`test\` as the baseline.
# null skips a gate. Edit freely: piv never rewrites this file.
commands:
  test: ${q(commands.test)}${from('test')}
  lint: ${q(commands.lint)}${from('lint')}
  typecheck: ${q(commands.typecheck)}${from('typecheck')}
  build: ${q(commands.build)}${from('build')}
  coverage: ${q(commands.coverage)}${from('coverage')}

coverage:
  threshold: 80 # percent; the coverage gate fails below it
  pattern: "All files[^\\\\d]*(\\\\d+(?:\\\\.\\\\d+)?)" # first group = percentage in the coverage output

verify:
  timeout_ms: 600000 # a task's verify (and each gate) is killed after this
  tail_lines: 40 # output lines kept in a task's attempt record
  max_attempts: 0 # failed verifies before a task becomes failed; 0 = never

claims:
  lease_minutes: 120 # an expired claim may be taken back by resume or by \`piv execute --steal-expired\`

swarm:
  remote: null # a git remote (origin) whose branch piv/<feature> agents on other machines share; null: this repository's working trees
  worktrees: null # folder for \`piv execute --worktree\` trees (relative to the repository); null: ../<repo>.piv/
  setup: null # command run once in each new agent working tree, e.g. "npm ci"

tokens:
  budget: 200000 # the agent's context window
  warning_at: 0.75
  critical_at: 0.88 # status recommends \`piv pause\` here
  encoding: cl100k_base # tiktoken encoding used for estimates
  calibration: 1.1 # multiplies tiktoken counts to approximate the agent's tokenizer
  task_overhead: 4000 # tokens a task costs beyond its files and text
  session_overhead: 15000 # tokens a fresh context spends before its first task
  task_limit: 20000 # tasks estimated above this are flagged for splitting
  prime_budget: 4000 # size of the prime brief

hooks: # what the agent hooks do (piv hook …, run by the Claude Code plugin)
  pause_commit: false # the PreCompact checkpoint (piv pause --auto) also makes the WIP commit
  stop_warning: true # the Stop hook warns when the context passes tokens.critical_at
`;
}

/**
 * Creates `.agents/` (config with detected commands, schemas, tasks/, .gitignore) in the git repository containing `cwd`, then
 * sets up the agents asked for (`piv integrations install`). Returns what was written. Throws `not_a_git_repo` (exit 2) outside
 * a repository, `usage` for an unknown agent, `invalid_file` for a .claude/settings.json that is not JSON.
 */
export async function init(opts: InitOptions = {}): Promise<InitResult> {
  const { root } = resolve(opts);
  const agents = parseAgents(opts.agents, ['claude']);
  const paths = layout(root);
  const toolchain = await detectToolchain(root);
  const files: string[] = [];
  const created = !existsSync(paths.config);
  if (created) {
    await writeConfigText(root, configTemplate(toolchain.commands, toolchain.sources));
    files.push(rel(root, paths.config));
  }
  await mkdir(paths.tasksDir, { recursive: true });
  await mkdir(paths.stateDir, { recursive: true });
  files.push(...(await installSchemas(root)));
  if (!existsSync(paths.gitignore)) {
    await writeAgentsFile(root, '.gitignore', '# piv: local files that never belong in a commit\n.lock\n.cache/\nreports/\ncontext/\n');
    files.push(rel(root, paths.gitignore));
  }
  const report = await installIntegrations({ root, agents, force: opts.forceIntegrations, hooksInSettings: opts.hooksInSettings, codexPrompts: opts.codexPrompts, marketplace: opts.marketplace });
  return {
    root,
    created,
    integrations: report.changes,
    warnings: report.warnings,
    files,
    toolchain: { ecosystems: toolchain.ecosystems, package_managers: toolchain.package_managers, commands: toolchain.commands, sources: toolchain.sources },
  };
}
