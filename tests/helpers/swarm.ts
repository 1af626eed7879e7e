// Swarm fixtures: a repository with a committed plan, more working trees of it, and clones of a bare remote — all removed by cleanup().
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { git, piv, read, tempRepo, write } from './repo.js';
import { fileURLToPath } from 'node:url';
import { seeded } from '../../bench/lib/random.mjs';

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
export function plannedRepo(feature: string, count: number | string, opts: { config?: (text: string) => string } = {}): Swarm {
  const repo = tempRepo();
  const main = repo.dir;
  piv(main, ['init', '--agents', 'none']);
  if (opts.config) write(main, { '.agents/config.yaml': opts.config(read(main, '.agents/config.yaml')) });
  piv(main, ['discuss', feature]);
  const planned = piv(main, ['plan', '-'], { input: typeof count === 'string' ? count : taskPlan(count) });
  expect(planned.stderr).toBe('');
  expect(planned.code).toBe(0);
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
      rmSync(`${main}.piv`, { recursive: true, force: true }); // the agents' trees piv execute --worktree made
      if (scratch) rmSync(scratch, { recursive: true, force: true });
      repo.cleanup();
    },
  };
}

/**
 * A seeded random plan of `count` tasks task-001…: each blocked by 0–`maxDeps` earlier tasks, each writing its own file
 * out/<id>.txt and verified by its presence. The same seed gives the same graph.
 */
export function randomPlan(count: number, seed: number, maxDeps = 3): { text: string; deps: Map<string, string[]> } {
  const { rand } = seeded(seed);
  const id = (n: number) => `task-${String(n).padStart(3, '0')}`;
  const deps = new Map<string, string[]>();
  const lines = ['tasks:'];
  for (let n = 1; n <= count; n++) {
    const blockers = new Set<string>();
    const wanted = n === 1 ? 0 : Math.floor(rand() * (maxDeps + 1));
    for (let k = 0; k < wanted; k++) blockers.add(id(1 + Math.floor(rand() * (n - 1))));
    deps.set(id(n), [...blockers].sort());
    lines.push(`  - id: ${id(n)}`, `    name: Task ${n}`, `    files: [out/${id(n)}.txt]`, `    verify: test -f out/${id(n)}.txt`, `    estimated_tokens: ${1000 + Math.floor(rand() * 9000)}`, `    blocked_by: [${[...blockers].sort().join(', ')}]`);
  }
  return { text: lines.join('\n') + '\n', deps };
}

export interface WorkerEvent {
  agent: string;
  at: number;
  event: 'claimed' | 'done' | 'finished' | 'error';
  /** The agent id a claim-only worker claimed under. */
  as?: string;
  task?: string;
  commit?: string;
  rebased?: boolean;
  attempts?: number;
  code?: string | null;
  message?: string;
  stack?: string;
}

const WORKER = fileURLToPath(new URL('./swarm-worker.mjs', import.meta.url));

/**
 * Runs one swarm-worker process per spec, all at once, and returns every event they printed and their exit codes.
 * Each worker claims, works and completes tasks until the graph is done. Kills them all after `timeoutMs`.
 */
export function runWorkers(specs: { cwd: string; agent: string; worktree?: boolean; claimOnly?: boolean }[], timeoutMs: number): Promise<{ events: WorkerEvent[]; codes: number[]; stderr: string }> {
  return new Promise((resolve) => {
    const events: WorkerEvent[] = [];
    const codes: number[] = [];
    let stderr = '';
    let left = specs.length;
    const children = specs.map((spec, i) => {
      const child = spawn(process.execPath, [WORKER, JSON.stringify({ ...spec, seed: i + 1 })], { env: { ...process.env, PIV_AGENT: '', NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
      let buffer = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        buffer += d;
        const lines = buffer.split('\n');
        buffer = lines.pop()!;
        for (const line of lines) if (line.trim()) events.push(JSON.parse(line) as WorkerEvent);
      });
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.on('close', (code) => {
        codes[i] = code ?? -1;
        if (--left === 0) {
          clearTimeout(timer);
          resolve({ events, codes, stderr });
        }
      });
      return child;
    });
    const timer = setTimeout(() => children.forEach((c) => c.kill('SIGKILL')), timeoutMs);
  });
}

/** The task commits on `rev`'s first-parent history, oldest first: [hash, Piv-Task id]. */
export function taskCommitsOn(dir: string, rev: string): { hash: string; task: string }[] {
  return git(dir, 'log', '--first-parent', '--reverse', '--format=%H %(trailers:key=Piv-Task,valueonly,separator=%x2c)', rev)
    .split('\n')
    .map((l) => l.trim().split(' '))
    .filter((p) => p.length === 2 && p[1])
    .map(([hash, task]) => ({ hash: hash!, task: task! }));
}
