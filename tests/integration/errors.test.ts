// Bad input through the built binary: every refusal has its documented exit code, a message naming what is wrong
// (stderr in text mode, the `error` object with --json) and leaves files and git history exactly as they were.
import { readdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SEED_PLAN,
  cloneRepo,
  commitAll,
  commitCount,
  commitFiles,
  edit,
  exists,
  git,
  gitStatus,
  head,
  pivAsync,
  read,
  snapshot,
  taskYaml,
  tempRepo,
  write,
} from '../helpers/repo.js';

const cleanups: (() => void)[] = [];
function track<T extends { cleanup: () => void }>(r: T): T {
  cleanups.push(r.cleanup);
  return r;
}
// Tests run concurrently (each CLI call is a process: two cores stay busy even with one vitest worker), so temporary
// repositories are removed when the file is done rather than after each test.
afterAll(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** init + discuss (what seedRepo() does before planning), built once. */
let DISCUSSED: string;
/** DISCUSSED + the seed plan (what seedRepo() builds), built once; tests work on copies. */
let SEEDED: string;
const fixtureCleanups: (() => void)[] = [];
beforeAll(async () => {
  const discussed = tempRepo();
  fixtureCleanups.push(discussed.cleanup);
  for (const args of [['init'], ['discuss', 'user-authentication', '--decide', 'Auth method?=JWT with refresh tokens']]) {
    const r = await pivAsync(discussed.dir, args);
    if (r.code !== 0) throw new Error(`fixture: piv ${args.join(' ')}: ${r.stderr}`);
  }
  DISCUSSED = discussed.dir;
  const seeded = cloneRepo(DISCUSSED);
  fixtureCleanups.push(seeded.cleanup);
  const r = await pivAsync(seeded.dir, ['plan', '-'], { input: SEED_PLAN });
  if (r.code !== 0) throw new Error(`fixture: piv plan: ${r.stderr}`);
  SEEDED = seeded.dir;
});
afterAll(() => {
  for (const cleanup of fixtureCleanups.splice(0)) cleanup();
});
const copyOfSeeded = () => track(cloneRepo(SEEDED)).dir;

/** 1-based number of the first line of `file` matching `pattern`. */
function lineOf(dir: string, file: string, pattern: RegExp): number {
  const index = read(dir, file).split('\n').findIndex((l) => pattern.test(l));
  if (index < 0) throw new Error(`${pattern} not in ${file}`);
  return index + 1;
}

/**
 * Runs `args` in text mode, then with --json, and checks both refuse with exit code `exit` without changing anything
 * (HEAD, git status, .agents/ contents). Returns the text-mode stderr and the JSON error object.
 */
async function refused(dir: string, args: string[], exit: number, code: string, opts: { input?: string } = {}): Promise<{ stderr: string; error: any }> {
  const before = snapshot(dir);
  const text = await pivAsync(dir, args, opts);
  expect(text.code, `piv ${args.join(' ')}: ${text.stdout}${text.stderr}`).toBe(exit);
  expect(text.stdout).toBe('');
  expect(text.stderr).toMatch(new RegExp(`^piv ${args[0]}: `));
  expect(snapshot(dir)).toBe(before);
  const json = await pivAsync(dir, [...args, '--json'], opts);
  expect(json.code).toBe(exit);
  expect(json.stderr).toBe('');
  expect(json.json, `not one JSON object: ${json.stdout}`).toBeDefined();
  expect(json.json.ok).toBe(false);
  expect(json.json.verb).toBe(args[0]);
  expect(json.json.result).toBeUndefined();
  expect(json.json.error.code).toBe(code);
  expect(snapshot(dir)).toBe(before);
  // The text message is the JSON message (first line of stderr).
  expect(text.stderr.split('\n')[0]).toBe(`piv ${args[0]}: ${json.json.error.message}`);
  return { stderr: text.stderr, error: json.json.error };
}

describe.concurrent('invalid state files', () => {
  it('malformed YAML in a task file: exit 2, invalid_file naming .agents/tasks/task-002.yaml and the line', async ({ expect }) => {
    const dir = copyOfSeeded();
    edit(dir, '.agents/tasks/task-002.yaml', (t) => t.replace(/^priority: high$/m, 'priority: high: oops'));
    const line = lineOf(dir, '.agents/tasks/task-002.yaml', /^priority: high: oops$/);
    const { stderr, error } = await refused(dir, ['execute'], 2, 'invalid_file');
    expect(stderr).toContain(`piv execute: .agents/tasks/task-002.yaml:${line}: YAML syntax error`);
    expect(stderr).toContain('  hint: A value that contains ": " must be quoted'); // the case of a plain value holding ": "
    expect(error).toMatchObject({ file: '.agents/tasks/task-002.yaml', line });
    expect(taskYaml(SEEDED, 'task-001').status).toBe('pending');
  });

  it('a misspelt field in a task file (priorty): exit 2, field "priorty" with its line and a "Did you mean" hint', async ({ expect }) => {
    const dir = copyOfSeeded();
    edit(dir, '.agents/tasks/task-002.yaml', (t) => t.replace(/^priority: high$/m, 'priorty: high'));
    const line = lineOf(dir, '.agents/tasks/task-002.yaml', /^priorty:/);
    const { stderr, error } = await refused(dir, ['resume', '--no-baseline'], 2, 'invalid_file');
    expect(stderr).toContain(`.agents/tasks/task-002.yaml:${line}: field "priorty": unknown field "priorty"`);
    expect(stderr).toContain('  hint: Did you mean "priority"? Rename or remove "priorty".');
    expect(error).toMatchObject({ file: '.agents/tasks/task-002.yaml', line, field: 'priorty', hint: 'Did you mean "priority"? Rename or remove "priorty".' });
    expect(error.details.issues[0]).toMatchObject({ field: 'priorty', line });
  });

  it('an unknown field in config.yaml: exit 2, file .agents/config.yaml, the line and the dotted field', async ({ expect }) => {
    const dir = copyOfSeeded();
    edit(dir, '.agents/config.yaml', (t) => t.replace(/^ {2}test: .*$/m, '  tset: "npm test"'));
    const line = lineOf(dir, '.agents/config.yaml', /^ {2}tset:/);
    const { stderr, error } = await refused(dir, ['plan', '-'], 2, 'invalid_file', { input: SEED_PLAN });
    expect(stderr).toContain(`piv plan: .agents/config.yaml:${line}: field "commands.tset": unknown field "tset"`);
    expect(stderr).toContain('hint: Did you mean "test"?');
    expect(error).toMatchObject({ file: '.agents/config.yaml', line, field: 'commands.tset' });
    expect(error.hint).toMatch(/^Did you mean "test"\?/);
  });
});

describe.concurrent('invalid plans: nothing is written', () => {
  /** A copy of DISCUSSED (a session, no tasks yet) that `check` shows still has no task file. */
  const fresh = () => track(cloneRepo(DISCUSSED)).dir;
  const noTasks = (dir: string) => expect(readdirSync(path.join(dir, '.agents/tasks'))).toEqual([]);

  it('a cycle: invalid_graph, the ids named in order', async ({ expect }) => {
    const dir = fresh();
    const plan = `tasks:
  - id: task-001
    name: Base
  - id: task-002
    name: Two
    blocked_by: [task-001, task-003]
  - id: task-003
    name: Three
    blocked_by: [task-004]
  - id: task-004
    name: Four
    blocked_by: [task-002]
`;
    const { stderr, error } = await refused(dir, ['plan', '-'], 2, 'invalid_graph', { input: plan });
    noTasks(dir);
    // Read along blocked_by: 002 waits on 003, 003 on 004, 004 on 002.
    expect(stderr).toContain('dependency cycle: task-002 → task-003 → task-004 → task-002 (each is blocked by the next)');
    expect(error.message).toBe('the plan is invalid: dependency cycle: task-002 → task-003 → task-004 → task-002 (each is blocked by the next)');
    expect(error.details.problems).toEqual([{ kind: 'cycle', ids: ['task-002', 'task-003', 'task-004'], message: 'dependency cycle: task-002 → task-003 → task-004 → task-002 (each is blocked by the next)' }]);
  });

  it('a self-dependency: invalid_graph naming the task', async ({ expect }) => {
    const dir = fresh();
    const plan = 'tasks:\n  - id: task-001\n    name: Loop\n    blocked_by: [task-001]\n';
    const { error } = await refused(dir, ['plan', '-'], 2, 'invalid_graph', { input: plan });
    noTasks(dir);
    expect(error.message).toBe('the plan is invalid: task-001 is blocked by itself');
    expect(error.details.problems).toEqual([{ kind: 'self_dependency', ids: ['task-001'], message: 'task-001 is blocked by itself' }]);
  });

  it('a missing dependency id: invalid_graph naming both ids', async ({ expect }) => {
    const dir = fresh();
    const plan = 'tasks:\n  - id: task-001\n    name: One\n  - id: task-002\n    name: Two\n    blocked_by: [task-001, task-009]\n';
    const { error } = await refused(dir, ['plan', '-'], 2, 'invalid_graph', { input: plan });
    noTasks(dir);
    expect(error.message).toBe('the plan is invalid: task-002 is blocked by task-009, which does not exist');
    expect(error.details.problems).toEqual([{ kind: 'missing_dependency', ids: ['task-002'], missing: 'task-009', message: 'task-002 is blocked by task-009, which does not exist' }]);
  });

  it('a duplicate id: invalid_plan naming the id', async ({ expect }) => {
    const dir = fresh();
    const plan = 'tasks:\n  - id: task-001\n    name: One\n  - id: task-002\n    name: Two\n  - id: task-002\n    name: Two again\n';
    const { error } = await refused(dir, ['plan', '-'], 2, 'invalid_plan', { input: plan });
    noTasks(dir);
    expect(error.message).toBe('the plan lists task-002 more than once');
    expect(error.details).toEqual({ ids: ['task-002'] });
  });

  it('a plan file that is not valid YAML: invalid_plan with the file and the line', async ({ expect }) => {
    const dir = fresh();
    write(dir, { 'plans/bad.yaml': 'tasks:\n  - id: task-001\n    name: One\n   files: [a.js\n' });
    const { stderr, error } = await refused(dir, ['plan', 'plans/bad.yaml'], 2, 'invalid_plan');
    noTasks(dir);
    expect(stderr).toMatch(/^piv plan: plans\/bad\.yaml:4: YAML syntax error/);
    expect(error).toMatchObject({ file: 'plans/bad.yaml', line: 4 });
  });

  it('a plan with a wrong value: invalid_plan with the field path and its line', async ({ expect }) => {
    const dir = fresh();
    const plan = 'tasks:\n  - id: task-001\n    name: One\n  - id: task-002\n    name: Two\n    priority: urgent\n';
    const { stderr, error } = await refused(dir, ['plan', '-'], 2, 'invalid_plan', { input: plan });
    noTasks(dir);
    expect(stderr).toMatch(/^piv plan: <stdin>:6: field "tasks\.1\.priority": /);
    expect(error).toMatchObject({ file: '<stdin>', line: 6, field: 'tasks.1.priority' });
  });
});

describe.concurrent('completing a task', () => {
  it('that nobody claimed: exit 2, invalid_transition', async ({ expect }) => {
    const dir = copyOfSeeded();
    write(dir, { 'src/user.js': 'export class User {}\n' });
    const { stderr, error } = await refused(dir, ['done', 'task-001'], 2, 'invalid_transition');
    expect(stderr).toContain('piv done: task-001 is pending, not in_progress');
    expect(stderr).toContain('hint: Claim it first with `piv execute --agent main`.');
    expect(error.details).toEqual({ task: 'task-001', status: 'pending' });
  });

  it('claimed by another agent: exit 3, conflict naming the owner', async ({ expect }) => {
    const dir = copyOfSeeded();
    expect((await pivAsync(dir, ['execute', '--agent', 'alice'])).code).toBe(0);
    write(dir, { 'src/user.js': 'export class User {}\n' }); // verify would pass: the claim alone refuses it
    const { stderr, error } = await refused(dir, ['done', 'task-001', '--agent', 'bob'], 3, 'conflict');
    expect(stderr).toContain('piv done: task-001 is claimed by alice, not by bob');
    expect(error.details).toEqual({ task: 'task-001', owner: 'alice', agent: 'bob' });
    expect(taskYaml(dir, 'task-001')).toMatchObject({ status: 'in_progress', owner: 'alice', attempts: [] });
  });

  it('whose verify fails: exit 1, the attempt recorded (exit code, output tail), nothing committed, still claimed', async ({ expect }) => {
    const dir = copyOfSeeded();
    edit(dir, '.agents/tasks/task-001.yaml', (t) => t.replace(/^verify: .*$/m, `verify: 'echo "checking src/user.js"; echo "user.js is missing" >&2; exit 4'`));
    expect((await pivAsync(dir, ['execute'])).code).toBe(0);
    const headBefore = head(dir);
    const count = commitCount(dir);
    const statusBefore = gitStatus(dir);

    const r = await pivAsync(dir, ['done', 'task-001', '--json']);
    expect(r.code).toBe(1);
    expect(r.json.ok).toBe(false);
    expect(r.json.error).toEqual({ code: 'verify_failed', message: 'task-001: verify failed (exit 4)' });
    expect(r.json.result).toMatchObject({ id: 'task-001', passed: false, status: 'in_progress', commit: null, committed_paths: [] });
    expect(r.json.result.attempt).toMatchObject({ exit_code: 4, passed: false, output_tail: 'checking src/user.js\nuser.js is missing' });

    const text = await pivAsync(dir, ['done', 'task-001']);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('✗ task-001: verify failed (exit 4,');
    expect(text.stdout).toContain('nothing committed');
    expect(text.stdout).toContain('user.js is missing');

    expect(head(dir)).toBe(headBefore);
    expect(commitCount(dir)).toBe(count);
    expect(gitStatus(dir)).toEqual(statusBefore);
    const task = taskYaml(dir, 'task-001');
    expect(task).toMatchObject({ status: 'in_progress', owner: 'main', completed_at: null });
    expect(task.attempts).toHaveLength(2);
    expect(task.attempts[0]).toMatchObject({ agent: 'main', exit_code: 4, passed: false, skipped: false, timed_out: false, output_tail: 'checking src/user.js\nuser.js is missing' });
    expect(task.attempts[0].duration_ms).toEqual(expect.any(Number));
  });

  it('without a verify command needs --no-verify (exit 2); with it, the task completes and the skip is recorded', async ({ expect }) => {
    const dir = copyOfSeeded();
    edit(dir, '.agents/tasks/task-001.yaml', (t) => t.replace(/^verify: .*$/m, 'verify: null'));
    expect((await pivAsync(dir, ['execute'])).code).toBe(0);
    write(dir, { 'src/user.js': 'export class User {}\n' });
    const { stderr, error } = await refused(dir, ['done', 'task-001'], 2, 'usage');
    expect(stderr).toContain('piv done: task-001 has no verify command');
    expect(error.hint).toContain('piv done task-001 --no-verify');

    const count = commitCount(dir);
    const r = await pivAsync(dir, ['done', 'task-001', '--no-verify', '--json']);
    expect(r.code).toBe(0);
    expect(r.json.result).toMatchObject({ passed: true, status: 'completed', message: 'feat(models): Create User model' });
    expect(commitCount(dir)).toBe(count + 1);
    expect(git(dir, 'log', '-1', '--format=%B')).toContain('Completed with --no-verify.');
    expect(commitFiles(dir)).toContain('src/user.js');
    expect(taskYaml(dir, 'task-001').attempts[0]).toMatchObject({ skipped: true, passed: true, exit_code: null });
  });
});

/** The verbs of the loop (and a read-only one), with the arguments they need to get past flag parsing. */
const VERBS = [['init'], ['discuss', 'x'], ['plan', '-'], ['execute'], ['done', 'task-001'], ['pause'], ['resume'], ['validate'], ['status']];

describe.concurrent('where piv runs', () => {
  it('outside a git repository every verb exits 2 with not_a_git_repo and creates nothing', async ({ expect }) => {
    const { dir } = track(tempRepo({ git: false }));
    const results = await Promise.all(VERBS.map((args) => pivAsync(dir, [...args, '--json'], { input: SEED_PLAN })));
    results.forEach((r, i) => {
      expect([VERBS[i]![0], r.code, r.json?.error?.code]).toEqual([VERBS[i]![0], 2, 'not_a_git_repo']);
      expect(r.json.error.message).toBe(`${dir} is not inside a git repository`);
      expect(r.json.error.hint).toContain('git init');
    });
    const text = await pivAsync(dir, ['status']);
    expect(text.code).toBe(2);
    expect(text.stderr).toBe(`piv status: ${dir} is not inside a git repository\n  hint: piv keeps its state in git: run \`git init\` first, or pass --cwd to a repository.\n`);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('before init every verb but init exits 2 with not_initialized and writes nothing', async ({ expect }) => {
    const { dir } = track(tempRepo());
    const before = snapshot(dir);
    const verbs = VERBS.filter((v) => v[0] !== 'init' && v[0] !== 'pause'); // pause: see the next test
    const results = await Promise.all(verbs.map((args) => pivAsync(dir, [...args, '--json'], { input: SEED_PLAN })));
    results.forEach((r, i) => {
      expect([verbs[i]![0], r.code, r.json?.error?.code]).toEqual([verbs[i]![0], 2, 'not_initialized']);
      expect(r.json.error.message).toBe(`no piv state in ${dir} (.agents/config.yaml is missing)`);
      expect(r.json.error.hint).toBe('Run `piv init` in the repository first.');
    });
    const text = await pivAsync(dir, ['execute']);
    expect(text.code).toBe(2);
    expect(text.stderr).toContain('piv execute: no piv state in');
    expect(exists(dir, '.agents')).toBe(false);
    expect(snapshot(dir)).toBe(before);
  });

  // BUG: pause takes the state lock (on .agents/) before checking that piv is initialized; without .agents/ the lock
  // cannot be created, proper-lockfile retries for ~26 s and piv exits 3 "lock_timeout: another piv process holds
  // .agents/.lock" instead of exit 2 not_initialized. Killed after 5 s here (a correct refusal takes well under 1 s; the test runs alongside others).
  it('pause before init exits 2 with not_initialized, at once', async ({ expect }) => {
    const { dir } = track(tempRepo());
    const r = await pivAsync(dir, ['pause', '--json'], { timeoutMs: 5000 });
    expect(r.code).toBe(2);
    expect(r.json.error.code).toBe('not_initialized');
  });
});

describe.concurrent('usage errors', () => {
  it('discuss with a bad feature slug: exit 2, usage', async ({ expect }) => {
    const dir = copyOfSeeded();
    const { error } = await refused(dir, ['discuss', 'User_Auth'], 2, 'usage');
    expect(error.message).toBe('feature must be a slug like user-authentication, got "User_Auth"');
    expect(error.hint).toBe('Use at most 64 lowercase letters, digits and dashes.');
  });

  it('discuss --decide without "=": exit 2, usage', async ({ expect }) => {
    const dir = copyOfSeeded();
    const { error } = await refused(dir, ['discuss', 'user-authentication', '--decide', 'JWT please'], 2, 'usage');
    expect(error.message).toBe('--decide expects "QUESTION=ANSWER", got "JWT please"');
    expect(error.hint).toContain('--decide "Auth method?=JWT with refresh tokens"');
  });

  it('plan while a question is open: exit 2 naming the question; --force plans anyway', async ({ expect }) => {
    const dir = copyOfSeeded();
    expect((await pivAsync(dir, ['discuss', 'user-authentication', '--question', 'Token duration?'])).code).toBe(0);
    const replan = `${SEED_PLAN}  - id: task-006\n    name: Document the API\n    blocked_by: [task-004]\n    estimated_tokens: 3000\n`;
    const { error } = await refused(dir, ['plan', '-'], 2, 'usage', { input: replan });
    expect(error.message).toBe('the session has 1 open question: "Token duration?"');
    expect(error.details).toEqual({ open_questions: ['Token duration?'] });
    expect(error.hint).toContain('--force');
    const forced = await pivAsync(dir, ['plan', '-', '--force', '--json'], { input: replan });
    expect(forced.code).toBe(0);
    expect(forced.json.result.created).toEqual(['task-006']);
    expect(taskYaml(dir, 'task-006').blocked_by).toEqual(['task-004']);
  });

  it('an unknown CLI option: exit 2, the option named on stderr, nothing changed', async ({ expect }) => {
    const dir = copyOfSeeded();
    const before = snapshot(dir);
    const r = await pivAsync(dir, ['execute', '--bogus']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain("error: unknown option '--bogus'");
    expect(snapshot(dir)).toBe(before);
  });

  // BUG: with --json, a flag error caught by commander prints nothing on stdout (text on stderr only), although the
  // README says "With --json, every verb prints exactly one object". Same for `piv done task-001 --tokens abc --json`.
  it('an unknown CLI option with --json still prints one JSON error object', async ({ expect }) => {
    const dir = copyOfSeeded();
    const r = await pivAsync(dir, ['execute', '--bogus', '--json']);
    expect(r.code).toBe(2);
    expect(r.json).toMatchObject({ ok: false, verb: 'execute', error: { code: 'usage' } });
  });

  it('validate --stage nope: exit 2, usage listing the stages, no report written', async ({ expect }) => {
    const dir = copyOfSeeded();
    const { error } = await refused(dir, ['validate', '--stage', 'nope'], 2, 'usage');
    expect(error.message).toBe('unknown stage "nope"');
    expect(error.hint).toBe('Stages: state, tasks, lint, typecheck, test, coverage, verify.');
    expect(exists(dir, '.agents/reports')).toBe(false);
  });
});

describe.concurrent('pause with a dirty tree', () => {
  it('the WIP commit holds every kind of change and nothing is lost: contents identical, tree clean', async ({ expect }) => {
    const dir = copyOfSeeded();
    write(dir, { 'src/a.js': 'a1\n', 'src/b.js': 'b1\n', 'src/c.js': 'c1\n' });
    commitAll(dir, 'chore: fixture files and piv state');
    // modified, deleted, new (nested), staged then modified again, moved (all but the staged edit unstaged)
    write(dir, { 'src/a.js': 'a2\n', 'src/new/deep/d.js': 'd1\n', 'README.md': '# staged\n' });
    rmSync(path.join(dir, 'src/b.js'));
    git(dir, 'add', 'README.md');
    write(dir, { 'README.md': '# staged, then edited again\n' });
    renameSync(path.join(dir, 'src/c.js'), path.join(dir, 'src/c2.js'));
    const headBefore = head(dir);

    const r = await pivAsync(dir, ['pause', '--note', 'dirty']);
    expect(r.code, r.stderr).toBe(0);
    expect(git(dir, 'rev-parse', 'HEAD~1').trim()).toBe(headBefore);
    expect(git(dir, 'log', '-1', '--format=%s').trim()).toBe('wip: pause point for user-authentication');
    expect(gitStatus(dir)).toEqual([]);
    const files = commitFiles(dir);
    for (const f of ['README.md', 'src/a.js', 'src/b.js', 'src/c.js', 'src/c2.js', 'src/new/deep/d.js', '.agents/state/session.yaml']) expect(files).toContain(f);
    // Working tree and commit both hold the latest content; the deleted and renamed-away files are gone from both.
    expect(read(dir, 'src/a.js')).toBe('a2\n');
    expect(read(dir, 'README.md')).toBe('# staged, then edited again\n');
    expect(read(dir, 'src/new/deep/d.js')).toBe('d1\n');
    expect(read(dir, 'src/c2.js')).toBe('c1\n');
    expect(exists(dir, 'src/b.js')).toBe(false);
    expect(exists(dir, 'src/c.js')).toBe(false);
    expect(git(dir, 'show', 'HEAD:README.md')).toBe('# staged, then edited again\n');
    expect(git(dir, 'show', 'HEAD:src/a.js')).toBe('a2\n');
    expect(git(dir, 'ls-tree', '-r', '--name-only', 'HEAD', 'src').split('\n').filter(Boolean).sort()).toEqual(['src/a.js', 'src/c2.js', 'src/new/deep/d.js']);
  });

  // BUG: a deletion or rename staged with `git rm` / `git mv` makes pause fail (exit 1, git_failed:
  // "git add failed: fatal: pathspec 'src/b.js' did not match any files"): commitPaths runs `git add --all -- <paths>`
  // with the path of a file that is in neither the index nor the work tree. The checkpoint is left in session.yaml anyway.
  it('a deletion staged with git rm (and a git mv) is committed too', async ({ expect }) => {
    const dir = copyOfSeeded();
    write(dir, { 'src/b.js': 'b1\n', 'src/c.js': 'c1\n' });
    commitAll(dir, 'chore: fixture files and piv state');
    git(dir, 'rm', '-q', 'src/b.js');
    git(dir, 'mv', 'src/c.js', 'src/c2.js');
    const r = await pivAsync(dir, ['pause']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(gitStatus(dir)).toEqual([]);
    expect(git(dir, 'ls-tree', '-r', '--name-only', 'HEAD', 'src').split('\n').filter(Boolean)).toEqual(['src/c2.js']);
  });
});

describe.concurrent('done with a staged deletion', () => {
  // BUG: same root cause as above, through `piv done`: a task whose job is to delete a file, done with `git rm`, cannot
  // be completed (exit 1, git_failed), although its verify passes.
  it('a task that deletes its file with git rm completes in one commit', async ({ expect }) => {
    const dir = copyOfSeeded();
    write(dir, { 'src/user.js': 'legacy\n' });
    edit(dir, '.agents/tasks/task-001.yaml', (t) => t.replace(/^verify: .*$/m, 'verify: test ! -e src/user.js'));
    commitAll(dir, 'chore: legacy file and piv state');
    expect((await pivAsync(dir, ['execute'])).code).toBe(0);
    git(dir, 'rm', '-q', 'src/user.js');
    const r = await pivAsync(dir, ['done', 'task-001']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(git(dir, 'log', '-1', '--format=%s').trim()).toBe('feat(models): Create User model');
    expect(commitFiles(dir)).toContain('src/user.js');
  });
});
