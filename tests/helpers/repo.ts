// Test helpers: real temporary git repositories and the real built CLI, run as a subprocess.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, readFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../dist/bin.js', import.meta.url));

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

/** Runs the built `piv` binary in `dir` with `args`; `input` is piped to stdin. */
export function piv(dir: string, args: string[], opts: { input?: string; env?: Record<string, string> } = {}): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: dir,
    input: opts.input ?? '',
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', PIV_AGENT: '', ...opts.env },
  });
  let json: unknown = undefined;
  if (args.includes('--json')) {
    try {
      json = JSON.parse(r.stdout);
    } catch {
      json = undefined;
    }
  }
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, json };
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
