// Benchmark graphs: a seeded random task graph written by piv itself (the CLI for init/discuss, the store's writeTask for tasks), so the same seed gives the same files.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { seeded } from './random.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The CLI as shipped (package.json bin). */
export const BIN = path.join(ROOT, 'dist', 'bundle', 'bin.js');

const WORDS = 'user order cart item price total stream buffer cache queue worker router handler config schema report token session plan task graph login model repository service endpoint migration'.split(' ');
const PRIORITIES = ['critical', 'high', 'high', 'medium', 'medium', 'medium', 'low'];
/** Dependencies are drawn from the previous WINDOW tasks: a graph with many waves and wide ones, like a real plan. */
const WINDOW = 60;

/** A task id as piv formats it (task-001 … task-10000). */
const idOf = (n) => `task-${String(n).padStart(3, '0')}`;

/**
 * The tasks of a deterministic random graph: `count` tasks, each blocked by 0–3 earlier tasks (so it is a DAG), roughly
 * `completedShare` of them completed (the first ones whose dependencies are all completed), about 2 % of the ready ones claimed by
 * other agents (worker-1…4, leases that never end during a run), the rest pending.
 * Returns plain task objects in piv's task format (schema version 1), sorted by id.
 */
export function randomTasks(count, { seed = 0x7a5c, completedShare = 0.4, base = Date.parse('2025-01-01T00:00:00Z') } = {}) {
  const { rand, pick, int } = seeded(seed);
  const iso = (ms) => new Date(ms).toISOString();
  const tasks = [];
  const done = new Set();
  for (let i = 0; i < count; i++) {
    const id = idOf(i + 1);
    const deps = new Set();
    const want = Math.min(i, int(0, 3));
    while (deps.size < want) deps.add(idOf(i + 1 - int(1, Math.min(i, WINDOW))));
    const blocked_by = [...deps].sort();
    const ready = blocked_by.every((d) => done.has(d));
    const completed = i < count * completedShare && ready;
    // A few ready tasks are claimed by other agents (a swarm mid-feature), with leases that do not end during the run.
    const claimed = !completed && ready && rand() < 0.02;
    if (completed) done.add(id);
    const words = Array.from({ length: int(2, 5) }, () => pick(WORDS));
    const files = Array.from({ length: int(1, 3) }, () => `src/${pick(WORDS)}/${pick(WORDS)}_${int(0, 99)}.ts`);
    const estimated = int(2, 20) * 1000;
    const created = base + i * 1000;
    tasks.push({
      version: 1,
      id,
      name: `${words.join(' ')} ${i + 1}`.slice(0, 100),
      status: completed ? 'completed' : claimed ? 'in_progress' : 'pending',
      priority: pick(PRIORITIES),
      phase: pick(WORDS),
      commit_type: 'feat',
      action: `Implement the ${words.join(' ')} part: ${Array.from({ length: int(8, 30) }, () => pick(WORDS)).join(' ')}.`,
      files: [...new Set(files)],
      verify: `test -f ${files[0]}`,
      done: `${files[0]} exists and its tests pass`,
      blocked_by,
      estimated_tokens: estimated,
      actual_tokens: completed ? Math.round(estimated * (0.6 + rand())) : null,
      owner: claimed ? `worker-${int(1, 4)}` : null,
      claimed_at: claimed ? iso(created + 60_000) : null,
      lease_expires_at: claimed ? iso(base + 100 * 365 * 86_400_000) : null,
      blocker: null,
      created_at: iso(created),
      started_at: completed || claimed ? iso(created + 60_000) : null,
      completed_at: completed ? iso(created + 600_000) : null,
      attempts: completed
        ? [{ at: iso(created + 600_000), agent: 'main', exit_code: 0, passed: true, skipped: false, duration_ms: int(50, 5000), timed_out: false, output_tail: '', tokens: null }]
        : [],
      notes: [],
    });
  }
  return tasks;
}

/** Runs the built CLI in `dir`; throws with its output when it fails. */
function piv(dir, args) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', PIV_AGENT: '' } });
  if (r.status !== 0) throw new Error(`piv ${args.join(' ')} exited ${r.status}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/**
 * A new git repository in a temporary folder named `prefix`…, with a committer set and a README (not yet committed).
 * Returns its folder and `commit(message)`, which commits every file in it. The peers' benchmark uses it too.
 */
export function tempGitRepo(prefix) {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  const git = (...a) => execFileSync('git', a, { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
  git('init', '-q', '-b', 'main');
  git('config', 'user.email', 'bench@example.com');
  git('config', 'user.name', 'bench');
  git('config', 'commit.gpgsign', 'false');
  writeFileSync(path.join(dir, 'README.md'), '# bench\n');
  return { dir, commit: (message) => (git('add', '-A'), git('commit', '-q', '-m', message)) };
}

/**
 * A fresh git repository in a temporary folder holding a piv feature with `count` random tasks (see randomTasks): `piv init`
 * and `piv discuss` make the state, the store's own `writeTask` (dist/store/index.js) writes every task file.
 * Returns the folder, the tasks and `cleanup()`. Needs `npm run build` first.
 */
export async function generateGraph(count, opts = {}) {
  const { writeTask } = await import(path.join(ROOT, 'dist', 'store', 'index.js'));
  const repo = tempGitRepo(`piv-bench-${count}-`);
  const dir = repo.dir;
  repo.commit('init');
  piv(dir, ['init', '--agents', 'none']);
  piv(dir, ['discuss', 'bench', '--title', `Benchmark graph of ${count} tasks`]);
  const tasks = randomTasks(count, opts);
  for (let i = 0; i < tasks.length; i += 64) await Promise.all(tasks.slice(i, i + 64).map((t) => writeTask(dir, t)));
  return { dir, tasks, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
