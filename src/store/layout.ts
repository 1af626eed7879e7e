// Layout: the one place that knows where piv's files live; finding the repository root never spawns a process.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { PivError } from '../errors.js';

export const AGENTS_DIR = '.agents';

/** Absolute paths of every piv file in a repository rooted at `root`. */
export function layout(root: string) {
  const agents = path.join(root, AGENTS_DIR);
  return {
    root,
    agents,
    config: path.join(agents, 'config.yaml'),
    stateDir: path.join(agents, 'state'),
    session: path.join(agents, 'state', 'session.yaml'),
    agentStatesDir: path.join(agents, 'state', 'agents'),
    agentState: (agent: string) => path.join(agents, 'state', 'agents', `${agent}.yaml`),
    tasksDir: path.join(agents, 'tasks'),
    task: (id: string) => path.join(agents, 'tasks', `${id}.yaml`),
    schemasDir: path.join(agents, 'schemas'),
    contextDir: path.join(agents, 'context'),
    reportsDir: path.join(agents, 'reports'),
    gitignore: path.join(agents, '.gitignore'),
    lock: path.join(agents, '.lock'),
  };
}
export type Layout = ReturnType<typeof layout>;

/**
 * The root of the git work tree containing `cwd` (the nearest ancestor holding `.git`, a folder or a worktree file).
 * Throws PivError `not_a_git_repo` (exit 2) when there is none.
 */
export function findRepoRoot(cwd: string): string {
  let dir = path.resolve(cwd);
  for (;;) {
    if (existsSync(path.join(dir, '.git'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new PivError('not_a_git_repo', `${path.resolve(cwd)} is not inside a git repository`, {
    hint: 'piv keeps its state in git: run `git init` first, or pass --cwd to a repository.',
  });
}

/** Path relative to the repository root with POSIX separators, for messages and git pathspecs. */
export function rel(root: string, file: string): string {
  return path.relative(root, file).split(path.sep).join('/');
}

/** The layout of an initialized repository. Throws PivError `not_initialized` (exit 2) unless `.agents/config.yaml` exists. */
export function requireInitialized(root: string): Layout {
  const paths = layout(root);
  if (!existsSync(paths.config)) {
    throw new PivError('not_initialized', `no piv state in ${root} (${rel(root, paths.config)} is missing)`, {
      hint: 'Run `piv init` in the repository first.',
    });
  }
  return paths;
}
