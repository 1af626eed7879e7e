// Git adapter: thin wrappers over git (via simple-git); a task commit contains exactly the paths it is given, whatever else is staged.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { simpleGit, type SimpleGit } from 'simple-git';
import { PivError } from '../errors.js';

/** The trailer that ties a commit to a task (`Piv-Task: task-001`). */
export const TASK_TRAILER = 'Piv-Task';
/** The trailer naming the feature, so task ids reused by a later feature never match an earlier feature's commits. */
export const FEATURE_TRAILER = 'Piv-Feature';

function git(root: string): SimpleGit {
  return simpleGit({
    baseDir: root,
    trimmed: false,
    // simple-git only fails a command that exits non-zero AND writes to stderr; a hook that rejects a commit silently
    // must fail too, so any non-zero exit is an error.
    errors(error, result) {
      if (error) return error;
      if (result.exitCode === 0) return undefined;
      const output = Buffer.concat([...result.stdErr, ...result.stdOut]).toString('utf8').trim();
      return Buffer.from(output || `git exited with code ${result.exitCode}`);
    },
  });
}

/**
 * Runs one git command. A command that finds `.git/index.lock` taken (another git process — a person's, an editor's, or a
 * piv killed mid-commit whose git child is still finishing) is retried for about 2 s before it counts as failed.
 */
async function run(root: string, args: string[]): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await git(root).raw(args);
    } catch (error) {
      if (attempt < 12 && /index\.lock'?: File exists/i.test(String((error as Error).message))) {
        await new Promise((resolve) => setTimeout(resolve, 25 * (attempt + 1)));
        continue;
      }
      throw asGitError(args, error);
    }
  }
}

function asGitError(args: string[], error: unknown): PivError {
  const command = args.find((a) => !a.startsWith('-')) ?? args[0];
  return new PivError('git_failed', `git ${command} failed: ${String((error as Error).message).trim().split('\n').slice(-3).join(' ')}`, {
    hint: 'Fix the git problem shown (a hook, a missing identity: git config user.email), then run the command again.',
    cause: error,
  });
}

/** The commit HEAD points to, or null in a repository without commits. */
export async function head(root: string): Promise<string | null> {
  try {
    return (await git(root).raw(['rev-parse', '--verify', '--quiet', 'HEAD'])).trim() || null;
  } catch {
    return null;
  }
}

/** Current branch name, or null when detached or unborn. */
export async function currentBranch(root: string): Promise<string | null> {
  try {
    const name = (await git(root).raw(['symbolic-ref', '--quiet', '--short', 'HEAD'])).trim();
    return name || null;
  } catch {
    return null;
  }
}

/**
 * Paths (relative to root, POSIX) with uncommitted changes — modified, added, deleted, renamed or untracked, ignored files excluded —
 * limited to `pathspecs` when given. Directories are expanded to their files.
 */
export async function changedPaths(root: string, pathspecs: string[] = []): Promise<string[]> {
  // --no-optional-locks: a read never takes .git/index.lock, so it cannot make another agent's commit fail.
  const out = await run(root, ['--no-optional-locks', 'status', '--porcelain=v1', '-z', '--untracked-files=all', '--', ...pathspecs]);
  const entries = out.split('\0').filter(Boolean);
  const paths: string[] = [];
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!;
    const code = entry.slice(0, 2);
    paths.push(entry.slice(3));
    if (code.startsWith('R') || code.startsWith('C')) paths.push(entries[++i]!); // the rename's source
  }
  return [...new Set(paths)].sort();
}

/**
 * Commits exactly `paths` (their working-tree state: additions, edits and deletions) with `message`,
 * leaving every other change — staged or not — as it was. Returns the new commit's hash.
 * Throws PivError `git_failed` (exit 1) when git refuses (a hook, no identity); nothing is committed then.
 */
export async function commitPaths(root: string, paths: string[], message: string): Promise<string> {
  if (paths.length === 0) throw new PivError('internal', 'commitPaths called with no paths');
  // `git add` refuses a path that is neither on disk nor in the index: a deletion already staged (git rm). Those need no add.
  const missing = paths.filter((p) => !existsSync(path.join(root, p)));
  const inIndex = missing.length ? new Set((await run(root, ['ls-files', '--cached', '-z', '--', ...missing])).split('\0').filter(Boolean)) : new Set<string>();
  const toAdd = paths.filter((p) => !missing.includes(p) || inIndex.has(p));
  const before = await head(root);
  try {
    if (toAdd.length) await run(root, ['add', '--all', '--', ...toAdd]);
    await run(root, ['commit', '--quiet', '--only', '-m', message, '--', ...paths]);
  } catch (error) {
    // Leave the index as it was: nothing of a refused commit stays staged.
    if (before) await git(root).raw(['reset', '--quiet', before, '--', ...toAdd]).catch(() => undefined);
    throw error;
  }
  const after = await head(root);
  if (!after || after === before) throw new PivError('git_failed', 'git commit made no commit', { hint: 'A hook may have rejected it; run git commit by hand to see why.' });
  return after;
}

/** A commit that carries a Piv-Task trailer. */
export interface TaskCommit {
  hash: string;
  subject: string;
  /** ISO time of the commit. */
  date: string;
}

/**
 * Every commit reachable from HEAD that carries a `Piv-Task:` trailer, by task id (newest first). With `feature`, a commit
 * whose `Piv-Feature:` trailer names another feature is left out (commits without that trailer still count).
 * This is how piv finds a task's commit: derived from history, never stored. Empty in a repository without commits.
 */
export async function taskCommits(root: string, feature?: string | null): Promise<Map<string, TaskCommit[]>> {
  const map = new Map<string, TaskCommit[]>();
  if (!(await head(root))) return map;
  const out = await run(root, ['log', `--format=%H%x1f%s%x1f%cI%x1f%(trailers:key=${TASK_TRAILER},valueonly,separator=%x2c)%x1f%(trailers:key=${FEATURE_TRAILER},valueonly,separator=%x2c)%x1e`, 'HEAD']);
  for (const record of out.split('\x1e')) {
    const [hash, subject, date, trailers, features] = record.trim().split('\x1f');
    if (!hash || !trailers) continue;
    if (feature && features && !features.split(',').map((f) => f.trim()).includes(feature)) continue;
    for (const id of trailers.split(',').map((s) => s.trim()).filter(Boolean)) {
      const list = map.get(id) ?? [];
      list.push({ hash, subject: subject ?? '', date: date ?? '' });
      map.set(id, list);
    }
  }
  return map;
}

/** The last `n` commits, newest first: short hash and subject. */
export async function recentCommits(root: string, n: number): Promise<{ hash: string; subject: string }[]> {
  if (!(await head(root))) return [];
  const out = await run(root, ['log', `-n${n}`, '--format=%h%x1f%s']);
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [hash, subject] = line.split('\x1f');
      return { hash: hash!, subject: subject ?? '' };
    });
}

/**
 * Builds a task commit message: `<type>(<scope>): <name>` (no scope when it is empty or repeats the type; a name that
 * starts with `<scope>:` loses that prefix, which the scope already says), the body, then the trailers
 * `Piv-Task: <id>` and, when a feature is open, `Piv-Feature: <feature>`.
 */
export function taskCommitMessage(type: string, scope: string | null, name: string, id: string, body?: string, feature?: string | null): string {
  const scoped = scope && scope !== type ? scope : null;
  const prefix = scoped ? `${scoped.toLowerCase()}:` : null;
  const rest = prefix && name.toLowerCase().startsWith(prefix) ? name.slice(prefix.length).trimStart() : '';
  const subject = `${type}${scoped ? `(${scoped})` : ''}: ${rest || name}`;
  return `${subject}\n\n${body ? `${body}\n\n` : ''}${TASK_TRAILER}: ${id}\n${feature ? `${FEATURE_TRAILER}: ${feature}\n` : ''}`;
}

/**
 * The current branch's upstream (e.g. `origin/main`) and how many commits HEAD is ahead of it and behind it
 * (`git rev-list --left-right --count @{u}...HEAD`), or null when there is no upstream (none configured, detached HEAD,
 * unborn branch, or the upstream ref is gone). Never throws.
 */
export async function upstreamStatus(root: string): Promise<{ name: string; ahead: number; behind: number } | null> {
  try {
    const name = (await git(root).raw(['rev-parse', '--abbrev-ref', '--symbolic-full-name', '@{u}'])).trim();
    if (!name) return null;
    const [behind, ahead] = (await git(root).raw(['rev-list', '--left-right', '--count', '@{u}...HEAD'])).trim().split(/\s+/).map(Number);
    return { name, ahead: ahead ?? 0, behind: behind ?? 0 };
  } catch {
    return null;
  }
}
