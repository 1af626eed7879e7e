// Working trees: tells from the file system alone (no git process) whether a repository has linked working trees.
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * Whether the repository at `root` has more than one working tree (`git worktree add`): `.git` is a file in a linked
 * tree, and `.git/worktrees/` lists the linked trees of the main one. Only then does piv share claims between trees.
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
