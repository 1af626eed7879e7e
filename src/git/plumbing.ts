// Git plumbing: objects, trees and refs written without touching any working tree or index, and refs moved only by compare-and-swap.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { PivError } from '../errors.js';

export const ZERO_OID = '0000000000000000000000000000000000000000';

export interface GitRun {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/**
 * Runs `git <args>` in `cwd` (stdin from `input`, extra `env`) and returns its output; never throws for a non-zero exit
 * (callers decide). Throws PivError `git_failed` only when git cannot be started at all.
 */
export async function gitRun(cwd: string, args: string[], opts: { input?: string; env?: Record<string, string> } = {}): Promise<GitRun> {
  const result = await execa('git', args, { cwd, input: opts.input ?? '', env: { GIT_TERMINAL_PROMPT: '0', ...opts.env }, reject: false, stripFinalNewline: false, maxBuffer: 512 * 1024 * 1024 });
  if (result.failed && typeof result.exitCode !== 'number') {
    throw new PivError('git_failed', `cannot run git: ${result.shortMessage ?? result.message}`, { hint: 'Install git and make sure it is on PATH.' });
  }
  return { stdout: String(result.stdout ?? ''), stderr: String(result.stderr ?? ''), exitCode: result.exitCode ?? 1 };
}

/** Like gitRun, but a non-zero exit throws PivError `git_failed` naming the command and git's last lines. Returns stdout. */
export async function gitOk(cwd: string, args: string[], opts: { input?: string; env?: Record<string, string>; hint?: string } = {}): Promise<string> {
  const r = await gitRun(cwd, args, opts);
  if (r.exitCode !== 0) throw gitFailure(args, r, opts.hint);
  return r.stdout;
}

function gitFailure(args: string[], r: GitRun, hint?: string): PivError {
  const lines = `${r.stderr}\n${r.stdout}`.trim().split('\n').filter(Boolean);
  const command = args.find((a) => !a.startsWith('-')) ?? args[0];
  return new PivError('git_failed', `git ${command} failed: ${lines.slice(-3).join(' ') || `exit ${r.exitCode}`}`, {
    hint: hint ?? 'Fix the git problem shown, then run the command again.',
    details: { args, exit_code: r.exitCode },
  });
}

/** The commit `rev` names, or null when it does not exist. */
export async function resolveCommit(cwd: string, rev: string): Promise<string | null> {
  const r = await gitRun(cwd, ['rev-parse', '--verify', '--quiet', `${rev}^{commit}`]);
  return r.exitCode === 0 ? r.stdout.trim() || null : null;
}

/** Whether commit `a` is an ancestor of (or equal to) commit `b`. */
export async function isAncestor(cwd: string, a: string, b: string): Promise<boolean> {
  return (await gitRun(cwd, ['merge-base', '--is-ancestor', a, b])).exitCode === 0;
}

export interface TreeEntry {
  mode: string;
  type: string;
  oid: string;
  path: string;
}

/** Every blob under `paths` in `commit` (recursive), with full paths from the repository root. */
export async function lsTree(cwd: string, commit: string, paths: string[]): Promise<TreeEntry[]> {
  const out = await gitOk(cwd, ['ls-tree', '-r', '-z', '--full-tree', commit, '--', ...paths]);
  const entries: TreeEntry[] = [];
  for (const record of out.split('\0')) {
    if (!record) continue;
    const tab = record.indexOf('\t');
    const [mode, type, oid] = record.slice(0, tab).split(' ');
    entries.push({ mode: mode!, type: type!, oid: oid!, path: record.slice(tab + 1) });
  }
  return entries;
}

/** The contents of blobs `oids` (one `git cat-file --batch` process), as UTF-8 text by oid. */
export async function readBlobs(cwd: string, oids: string[]): Promise<Map<string, string>> {
  const texts = new Map<string, string>();
  if (oids.length === 0) return texts;
  const result = await execa('git', ['cat-file', '--batch'], { cwd, input: oids.join('\n') + '\n', encoding: 'buffer', reject: false, maxBuffer: 512 * 1024 * 1024 });
  if (result.exitCode !== 0) throw new PivError('git_failed', `git cat-file failed: ${Buffer.from(result.stderr ?? '').toString().trim()}`);
  const out = Buffer.from(result.stdout as Uint8Array);
  let at = 0;
  while (at < out.length) {
    const eol = out.indexOf(10, at);
    const header = out.subarray(at, eol).toString('utf8');
    const [oid, type, size] = header.split(' ');
    if (type === 'missing' || size === undefined) throw new PivError('git_failed', `git object ${oid} is missing`);
    const start = eol + 1;
    texts.set(oid!, out.subarray(start, start + Number(size)).toString('utf8'));
    at = start + Number(size) + 1;
  }
  return texts;
}

/** Author or committer of a commit made by piv itself on an agent's behalf (claims, releases). */
export interface Identity {
  name: string;
  email: string;
  /** ISO 8601; now when absent. */
  date?: string;
}

/**
 * Makes a commit whose parent is `parent` and whose tree is `parent`'s tree with `files` changed (path → new text, or
 * null to delete), without touching any working tree or the repository's index (a temporary index file).
 * `author`/`committer` default to git's configured identity. Returns the new commit's oid.
 */
export async function commitFiles(cwd: string, parent: string, files: Map<string, string | null>, message: string, who: { author?: Identity; committer?: Identity } = {}): Promise<string> {
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'piv-tree-'));
  try {
    const env = { GIT_INDEX_FILE: path.join(scratch, 'index') };
    await gitOk(cwd, ['read-tree', parent], { env });
    const written = [...files].filter(([, text]) => text !== null);
    const lines: string[] = [];
    if (written.length) {
      const blobs = await Promise.all(written.map(async ([, text], i) => {
        const file = path.join(scratch, `blob-${i}`);
        await writeFile(file, text!);
        return file;
      }));
      const oids = (await gitOk(cwd, ['hash-object', '-w', '--stdin-paths', '--no-filters'], { input: blobs.join('\n') + '\n' })).trim().split('\n');
      written.forEach(([file], i) => lines.push(`100644 ${oids[i]}\t${file}`));
    }
    for (const [file, text] of files) if (text === null) lines.push(`0 ${ZERO_OID}\t${file}`);
    if (lines.length) await gitOk(cwd, ['update-index', '--index-info'], { env, input: lines.join('\n') + '\n' });
    const tree = (await gitOk(cwd, ['write-tree'], { env })).trim();
    return await commitTree(cwd, tree, [parent], message, who);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** `git commit-tree`: a commit of `tree` with `parents` and `message`. Returns its oid. */
export async function commitTree(cwd: string, tree: string, parents: string[], message: string, who: { author?: Identity; committer?: Identity } = {}): Promise<string> {
  const env: Record<string, string> = {};
  for (const [role, id] of [['AUTHOR', who.author], ['COMMITTER', who.committer]] as const) {
    if (!id) continue;
    env[`GIT_${role}_NAME`] = id.name;
    env[`GIT_${role}_EMAIL`] = id.email;
    if (id.date) env[`GIT_${role}_DATE`] = id.date;
  }
  const args = ['commit-tree', tree, ...parents.flatMap((p) => ['-p', p])];
  return (await gitOk(cwd, args, { env, input: message, hint: 'Set your git identity (git config user.name / user.email) and try again.' })).trim();
}

/** A commit's tree, message, author (name, email, ISO date) and parents. */
export async function readCommit(cwd: string, commit: string): Promise<{ tree: string; parents: string[]; message: string; author: Identity }> {
  const out = await gitOk(cwd, ['log', '-1', '--format=%T%x00%P%x00%an%x00%ae%x00%aI%x00%B', commit]);
  const [tree, parents, name, email, date, ...message] = out.split('\0');
  return { tree: tree!, parents: parents!.split(' ').filter(Boolean), author: { name: name!, email: email!, date: date! }, message: message.join('\0').replace(/\n+$/, '\n') };
}

/**
 * Three-way merge of `theirs` into `ours` without a working tree (`git merge-tree --write-tree`, git ≥ 2.38; the base is
 * their merge base). Returns the result tree (which holds conflict markers where `conflicts` is not empty) and the
 * conflicting paths.
 */
export async function mergeTrees(cwd: string, ours: string, theirs: string): Promise<{ tree: string; conflicts: string[] }> {
  const r = await gitRun(cwd, ['merge-tree', '--write-tree', '--name-only', '--no-messages', '-z', ours, theirs]);
  if (r.exitCode !== 0 && r.exitCode !== 1) throw gitFailure(['merge-tree'], r, 'piv needs git 2.38 or newer to land task commits (git merge-tree --write-tree).');
  const [tree, ...rest] = r.stdout.split('\0').filter(Boolean);
  return { tree: tree!, conflicts: r.exitCode === 1 ? [...new Set(rest)] : [] };
}

/** A tree equal to `tree` with `files` (path → blob oid, mode 100644) put in, through a temporary index. Returns its oid. */
export async function overrideTree(cwd: string, tree: string, files: Map<string, string | null>): Promise<string> {
  if (files.size === 0) return tree;
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'piv-tree-'));
  try {
    const env = { GIT_INDEX_FILE: path.join(scratch, 'index') };
    await gitOk(cwd, ['read-tree', tree], { env });
    const lines = [...files].map(([file, oid]) => (oid === null ? `0 ${ZERO_OID}\t${file}` : `100644 ${oid}\t${file}`));
    await gitOk(cwd, ['update-index', '--index-info'], { env, input: lines.join('\n') + '\n' });
    return (await gitOk(cwd, ['write-tree'], { env })).trim();
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * A git error that means another agent moved the ref first (a lost compare-and-swap), not a failure: a rejected lease or
 * non-fast-forward push, or a ref the remote or this repository could not lock because a racing write held it.
 * A hook that declines, or a remote that cannot be reached or refuses access, is a failure.
 */
export function isLostRace(text: string): boolean {
  if (/hook declined|denied|permission|unable to access|could not read|does not appear to be a git repository/i.test(text)) return false;
  return /stale info|non-fast-forward|fetch first|\[rejected\]|cannot lock ref|failed to (update|lock)|reference already exists|but expected|incorrect old value|is at [0-9a-f]+ but expected/i.test(text);
}

/**
 * Moves `ref` from `expected` (null: the ref must not exist) to `next` by compare-and-swap: `git update-ref <ref> <next> <expected>`,
 * or, with `remote`, `git push --force-with-lease=<ref>:<expected> <remote> <next>:<ref>` (the remote's receive-pack checks the old
 * value under its ref lock). Returns false when another agent moved it first. Throws PivError `git_failed` for any other failure.
 */
export async function compareAndSwap(cwd: string, ref: string, next: string, expected: string | null, remote: string | null): Promise<boolean> {
  const args = remote
    ? ['push', '--quiet', '--no-verify', '--porcelain', `--force-with-lease=${ref}:${expected ?? ''}`, remote, `${next}:${ref}`]
    : ['update-ref', '-m', 'piv', ref, next, expected ?? ZERO_OID];
  const r = await gitRun(cwd, args);
  if (r.exitCode === 0) return true;
  if (isLostRace(`${r.stderr}\n${r.stdout}`)) return false;
  throw gitFailure(args, r, remote ? `Check the remote ${remote} (git remote -v), its hooks and your access.` : undefined);
}

/**
 * Fetches `ref` (refs/heads/…) from `remote` into `tracking` and returns the commit, or null when the remote has no such ref.
 * Throws PivError `git_failed` when the remote cannot be reached.
 */
export async function fetchRef(cwd: string, remote: string, ref: string, tracking: string): Promise<string | null> {
  const r = await gitRun(cwd, ['fetch', '--quiet', '--no-tags', '--no-write-fetch-head', remote, `+${ref}:${tracking}`]);
  if (r.exitCode !== 0) {
    if (/couldn't find remote ref|no such ref/i.test(r.stderr)) {
      await gitRun(cwd, ['update-ref', '-d', tracking]);
      return null;
    }
    throw gitFailure(['fetch', remote], r, `Check that the remote ${remote} is reachable (git fetch ${remote}), or set swarm.remote: null in .agents/config.yaml.`);
  }
  return resolveCommit(cwd, tracking);
}
