// Test helpers: real temporary git repositories and the real built CLI, run as a subprocess.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync, mkdirSync, readFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';

/** The CLI as shipped (package.json bin): the esbuild bundle, run as a command (its sh preamble starts node, as `piv` does). */
export const BIN = fileURLToPath(new URL('../../dist/bundle/bin.js', import.meta.url));

/** A temporary directory holding a fresh git repository with one commit and a configured identity. */
export function tempRepo(opts: { git?: boolean } = {}): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'piv-test-'));
  if (opts.git !== false) {
    git(dir, 'init', '-q', '-b', 'main');
    git(dir, 'config', 'user.email', 'test@example.com');
    git(dir, 'config', 'user.name', 'piv test');
    git(dir, 'config', 'commit.gpgsign', 'false');
    writeFileSync(path.join(dir, 'README.md'), '# test project\n');
    git(dir, 'add', '-A');
    git(dir, 'commit', '-q', '-m', 'initial commit');
  }
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A copy of the repository `source` (work tree, .git and .agents/) in a new temporary directory: lets tests share one
 * expensive fixture (init + discuss + plan…) without sharing state. Returns the copy and its cleanup.
 */
export function cloneRepo(source: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'piv-test-'));
  cpSync(source, dir, { recursive: true });
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs git in `dir` and returns stdout (throws on failure). */
export function git(dir: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd: dir, encoding: 'utf8' });
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Parsed stdout when --json was passed. */
  json: any;
}

function parseJson(args: string[], stdout: string): unknown {
  if (!args.includes('--json')) return undefined;
  try {
    return JSON.parse(stdout);
  } catch {
    return undefined;
  }
}

const pivEnv = (env?: Record<string, string>) => ({ ...process.env, NO_COLOR: '1', PIV_AGENT: '', GITHUB_ACTIONS: '', ...env });

/**
 * Runs the built `piv` binary in `dir` with `args`; `input` is piped to stdin.
 * `timeoutMs` kills a run that hangs (code is then -1), so a test of a hang fails fast instead of waiting it out.
 */
export function piv(dir: string, args: string[], opts: { input?: string; env?: Record<string, string>; timeoutMs?: number } = {}): CliResult {
  const r = spawnSync(BIN, args, {
    cwd: dir,
    input: opts.input ?? '',
    encoding: 'utf8',
    env: pivEnv(opts.env),
    ...(opts.timeoutMs ? { timeout: opts.timeoutMs, killSignal: 'SIGKILL' as const } : {}),
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, json: parseJson(args, r.stdout) };
}

/**
 * Like `piv`, but asynchronous (child_process.spawn): several piv processes can run at the same time, and tests of a
 * `describe.concurrent` overlap. `timeoutMs` kills a run that hangs (code is then -1).
 */
export function pivAsync(dir: string, args: string[], opts: { input?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, args, { cwd: dir, env: pivEnv(opts.env), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : undefined;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr, json: parseJson(args, stdout) });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** Writes files (path → content) under `dir`, creating folders. */
export function write(dir: string, files: Record<string, string>): void {
  for (const [file, content] of Object.entries(files)) {
    const full = path.join(dir, file);
    mkdirSync(path.dirname(full), { recursive: true });
    writeFileSync(full, content);
  }
}

export function read(dir: string, file: string): string {
  return readFileSync(path.join(dir, file), 'utf8');
}

/** Rewrites a file under `dir` with `edit` (throws if the edit changed nothing, so a stale pattern cannot pass silently). */
export function edit(dir: string, file: string, change: (text: string) => string): void {
  const before = read(dir, file);
  const after = change(before);
  if (after === before) throw new Error(`edit(${file}) changed nothing`);
  writeFileSync(path.join(dir, file), after);
}

/** Sets `commands.<name>` in `.agents/config.yaml` (keeps the rest of the file). */
export function setCommand(dir: string, name: 'test' | 'lint' | 'typecheck' | 'build' | 'coverage', command: string | null): void {
  edit(dir, '.agents/config.yaml', (t) => t.replace(new RegExp(`^  ${name}: .*$`, 'm'), `  ${name}: ${command === null ? 'null' : JSON.stringify(command)}`));
}

/** `git add -A && git commit` in the test's own temp repository (a fixture step, not piv's work). */
export function commitAll(dir: string, message = 'fixture'): string {
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '--allow-empty', '-m', message);
  return head(dir);
}

export function head(dir: string): string {
  return git(dir, 'rev-parse', 'HEAD').trim();
}

export function commitCount(dir: string): number {
  return Number(git(dir, 'rev-list', '--count', 'HEAD').trim());
}

/** Paths a commit touched (`git show --name-only`), sorted. */
export function commitFiles(dir: string, rev = 'HEAD'): string[] {
  return git(dir, 'show', '--name-only', '--no-renames', '--format=', rev).split('\n').filter(Boolean).sort();
}

/** `git status --porcelain` lines (untracked files included). */
export function gitStatus(dir: string): string[] {
  return git(dir, 'status', '--porcelain', '--untracked-files=all').split('\n').filter(Boolean);
}

export function exists(dir: string, file: string): boolean {
  return existsSync(path.join(dir, file));
}

/** A snapshot of everything that must not change when a command is refused: HEAD, status and .agents/ file contents. */
export function snapshot(dir: string): string {
  const head = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: dir, encoding: 'utf8' }).stdout;
  const status = spawnSync('git', ['status', '--porcelain', '--untracked-files=all'], { cwd: dir, encoding: 'utf8' }).stdout;
  const files = spawnSync('git', ['ls-files', '-co', '--exclude-standard', '.agents'], { cwd: dir, encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  return [head, status, ...files.map((f) => `${f}\n${readFileSync(path.join(dir, f), 'utf8')}`)].join('\n--\n');
}

/** The seed's five-task plan (docs: shared/seeds/003), with verify commands that test real files. */
export const SEED_PLAN = `tasks:
  - id: task-001
    name: Create User model
    priority: high
    phase: models
    files: [src/user.js]
    action: Write the User model.
    verify: test -f src/user.js
    done: src/user.js exists
    estimated_tokens: 10000
  - id: task-002
    name: Create User repository
    priority: high
    phase: repo
    blocked_by: [task-001]
    files: [src/repo.js]
    verify: test -f src/repo.js
    estimated_tokens: 12000
  - id: task-003
    name: Create Auth service
    priority: high
    phase: auth
    blocked_by: [task-001]
    files: [src/auth.js]
    verify: test -f src/auth.js
    estimated_tokens: 15000
  - id: task-004
    name: Create Login endpoint
    priority: high
    phase: api
    blocked_by: [task-002, task-003]
    files: [src/login.js]
    verify: test -f src/login.js
    estimated_tokens: 15000
  - id: task-005
    name: Add integration tests
    priority: medium
    phase: auth
    commit_type: test
    blocked_by: [task-004]
    files: [test/auth.test.js]
    verify: test -f test/auth.test.js
    estimated_tokens: 10000
`;

/** init + discuss + plan of the seed plan in `dir`. */
export function seedRepo(dir: string): void {
  for (const args of [['init'], ['discuss', 'user-authentication', '--decide', 'Auth method?=JWT with refresh tokens'], ['plan', '-']]) {
    const r = piv(dir, args, { input: args[0] === 'plan' ? SEED_PLAN : '' });
    if (r.code !== 0) throw new Error(`piv ${args.join(' ')} failed: ${r.stderr}`);
  }
}

/** The parsed YAML of `.agents/tasks/<id>.yaml`. */
export function taskYaml(dir: string, id: string): Record<string, any> {
  return parseYaml(read(dir, `.agents/tasks/${id}.yaml`)) as Record<string, any>;
}

/** The parsed YAML of `.agents/state/session.yaml`. */
export function sessionYaml(dir: string): Record<string, any> {
  return parseYaml(read(dir, '.agents/state/session.yaml')) as Record<string, any>;
}

/** One agent's state file (usage sessions, checkpoints), parsed. */
export function agentYaml(dir: string, agent = 'main'): Record<string, any> {
  return parseYaml(read(dir, `.agents/state/agents/${agent}.yaml`)) as Record<string, any>;
}

/**
 * Claims the next ready task for `agent` (`piv execute`), writes each of its declared files and completes it (`piv done`).
 * Returns the task id. Throws when any step fails, so a broken fixture never passes for a test's subject.
 */
export async function completeNext(dir: string, agent = 'main'): Promise<string> {
  const claimed = await pivAsync(dir, ['execute', '--agent', agent, '--json']);
  const task = claimed.json?.result?.task;
  if (claimed.code !== 0 || !task) throw new Error(`piv execute --agent ${agent} gave no task: ${claimed.stdout}${claimed.stderr}`);
  write(dir, Object.fromEntries((task.files as string[]).map((f) => [f, `// ${task.id}: ${task.name}\n`])));
  const done = await pivAsync(dir, ['done', task.id, '--agent', agent]);
  if (done.code !== 0) throw new Error(`piv done ${task.id} failed (${done.code}): ${done.stdout}${done.stderr}`);
  return task.id as string;
}
