// Repository layout read from the file system alone (no git process): the git directories, HEAD's branch, whether a ref exists.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/** The working tree's own git directory and the repository's common one (they differ in a linked working tree). */
export function gitDirs(root: string): { gitDir: string; commonDir: string } | null {
  const dotGit = path.join(root, '.git');
  let gitDir: string;
  try {
    if (statSync(dotGit).isDirectory()) gitDir = dotGit;
    else {
      const pointer = /^gitdir:\s*(.+)$/m.exec(readFileSync(dotGit, 'utf8'))?.[1]?.trim();
      if (!pointer) return null;
      gitDir = path.resolve(root, pointer);
    }
  } catch {
    return null;
  }
  let commonDir = gitDir;
  try {
    commonDir = path.resolve(gitDir, readFileSync(path.join(gitDir, 'commondir'), 'utf8').trim());
  } catch {
    // not a linked working tree
  }
  return { gitDir, commonDir };
}

/** The branch HEAD points to (`main`, `piv-agent/f/a1`), or null when detached, unborn-but-unknown or not a repository. */
export function headBranch(root: string): string | null {
  const dirs = gitDirs(root);
  if (!dirs) return null;
  try {
    const head = readFileSync(path.join(dirs.gitDir, 'HEAD'), 'utf8').trim();
    return head.startsWith('ref: refs/heads/') ? head.slice('ref: refs/heads/'.length) : null;
  } catch {
    return null;
  }
}

/**
 * Whether `ref` (a full name such as refs/heads/piv/auth) exists: a loose ref file or a packed-refs line.
 * Returns undefined when the repository stores refs in a format this cannot read (reftable); callers then ask git.
 */
export function refExists(root: string, ref: string): boolean | undefined {
  const dirs = gitDirs(root);
  if (!dirs) return false;
  if (existsSync(path.join(dirs.commonDir, 'reftable'))) return undefined;
  if (existsSync(path.join(dirs.commonDir, ref))) return true;
  try {
    return readFileSync(path.join(dirs.commonDir, 'packed-refs'), 'utf8').includes(` ${ref}\n`);
  } catch {
    return false;
  }
}

/**
 * Whether the repository at `root` has more than one working tree (`git worktree add`): `.git` is a file in a linked
 * tree, and `.git/worktrees/` lists the linked trees of the main one.
 */
export function hasLinkedWorktrees(root: string): boolean {
  const dotGit = path.join(root, '.git');
  try {
    if (statSync(dotGit).isFile()) return true;
    const linked = path.join(dotGit, 'worktrees');
    return existsSync(linked) && readdirSync(linked).length > 0;
  } catch {
    return false;
  }
}
