// init: creates .agents/ in a git repository; running it again never overwrites a config a person edited.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { PivError } from '../errors.js';
import { AGENTS, commandFiles, type AgentCli } from '../integrations/commands.js';
import { mergeClaudeSettings } from '../integrations/hooks.js';
import { readFile } from 'node:fs/promises';
import { detectToolchain, type Toolchain } from '../detect/toolchain.js';
import { installSchemas, layout, rel, writeAgentsFile, writeConfigText } from '../store/index.js';
import { resolve, type BaseOptions } from './context.js';

export interface InitResult {
  root: string;
  /** false when .agents/config.yaml already existed (it was left as it was). */
  created: boolean;
  /** Files written, relative to root. */
  files: string[];
  toolchain: Pick<Toolchain, 'ecosystems' | 'package_managers' | 'commands' | 'sources'>;
  /** Slash-command files installed (existing ones are kept unless forced). */
  integrations: string[];
}

export interface InitOptions extends BaseOptions {
  /** Agent CLIs to install /piv:* commands for (default: claude). An empty list installs none. */
  agents?: string[];
  /** Rewrite existing command files. */
  forceIntegrations?: boolean;
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
  lease_minutes: 120 # an expired claim may be taken back by resume or another agent
  remote: null # a git remote (origin) to share claims with agents in other clones; working trees share them anyway

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
`;
}

/**
 * Creates `.agents/` (config with detected commands, schemas, tasks/, .gitignore) in the git repository containing `cwd`.
 * Returns what was written. Throws `not_a_git_repo` (exit 2) outside a repository.
 */
export async function init(opts: InitOptions = {}): Promise<InitResult> {
  const { root } = resolve(opts);
  const agents = (opts.agents ?? ['claude']).flatMap((a) => a.split(',')).map((a) => a.trim()).filter(Boolean);
  for (const a of agents) {
    if (!(AGENTS as readonly string[]).includes(a)) throw new PivError('usage', `unknown agent ${JSON.stringify(a)}`, { hint: `Choose from ${AGENTS.join(', ')}.` });
  }
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
  const integrations: string[] = [];
  for (const agent of agents as AgentCli[]) {
    for (const f of commandFiles(agent)) {
      const file = path.join(root, f.path);
      if (existsSync(file) && !opts.forceIntegrations) continue;
      await mkdir(path.dirname(file), { recursive: true });
      await writeFileAtomic(file, f.content);
      integrations.push(f.path);
    }
    if (agent === 'claude') {
      const settings = path.join(root, '.claude', 'settings.json');
      const before = existsSync(settings) ? await readFile(settings, 'utf8') : null;
      let after: string;
      try {
        after = mergeClaudeSettings(before);
      } catch (error) {
        throw new PivError('invalid_file', `.claude/settings.json is not valid JSON: ${(error as Error).message}`, {
          file: '.claude/settings.json',
          hint: 'Fix the JSON (piv merges its hooks into it and never overwrites a file it cannot read), or pass --agents none.',
        });
      }
      if (after !== before) {
        await mkdir(path.dirname(settings), { recursive: true });
        await writeFileAtomic(settings, after);
        integrations.push('.claude/settings.json');
      }
    }
  }
  return {
    root,
    created,
    integrations,
    files,
    toolchain: { ecosystems: toolchain.ecosystems, package_managers: toolchain.package_managers, commands: toolchain.commands, sources: toolchain.sources },
  };
}
