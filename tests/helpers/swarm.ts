// Swarm fixtures: a repository with a committed plan, more working trees of it, and clones of a bare remote — all removed by cleanup().
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { git, piv, read, tempRepo, write } from './repo.js';

const NAMES = ['One', 'Two', 'Three', 'Four', 'Five'];

/** A plan of `count` independent tasks task-001…, each verified by the presence of its file (one.txt, two.txt…). */
export function taskPlan(count: number): string {
  return `tasks:\n${NAMES.slice(0, count)
    .map((name, i) => `  - id: task-00${i + 1}\n    name: ${name}\n    files: [${name.toLowerCase()}.txt]\n    verify: test -f ${name.toLowerCase()}.txt\n`)
    .join('')}`;
}

export interface Swarm {
  /** The repository's main working tree. */
  main: string;
  /** Adds a working tree `<main>-<name>` on a new branch `<name>`; returns its path. */
  worktree(name: string): string;
  /** A bare clone of the repository, the remote the clones share (made once). */
  remote(): string;
  /** A clone of remote() with its own git identity; returns its path. */
  clone(name: string): string;
  cleanup(): void;
}

/**
 * A real repository where piv is initialised (no agent integrations), `config` edits .agents/config.yaml, feature `feature`
 * is discussed and planned with `taskPlan(count)`, and everything is committed.
 */
export function plannedRepo(feature: string, count: number, opts: { config?: (text: string) => string } = {}): Swarm {
  const repo = tempRepo();
  const main = repo.dir;
  piv(main, ['init', '--agents', 'none']);
  if (opts.config) write(main, { '.agents/config.yaml': opts.config(read(main, '.agents/config.yaml')) });
  piv(main, ['discuss', feature]);
  expect(piv(main, ['plan', '-'], { input: taskPlan(count) }).code).toBe(0);
  git(main, 'add', '-A');
  git(main, 'commit', '-qm', 'plan');

  const trees: string[] = [];
  let scratch = '';
  const remotePath = () => path.join(scratch, 'remote.git');
  return {
    main,
    worktree(name) {
      const dir = `${main}-${name}`;
      git(main, 'worktree', 'add', '-q', dir, '-b', name);
      trees.push(dir);
      return dir;
    },
    remote() {
      if (!scratch) {
        scratch = mkdtempSync(path.join(os.tmpdir(), 'piv-remote-'));
        git(scratch, 'clone', '-q', '--bare', main, remotePath());
      }
      return remotePath();
    },
    clone(name) {
      const remote = this.remote();
      const dir = path.join(scratch, name);
      git(scratch, 'clone', '-q', remote, name);
      git(dir, 'config', 'user.email', `${name}@example.com`);
      git(dir, 'config', 'user.name', name);
      return dir;
    },
    cleanup() {
      for (const dir of trees) rmSync(dir, { recursive: true, force: true });
      if (scratch) rmSync(scratch, { recursive: true, force: true });
      repo.cleanup();
    },
  };
}
