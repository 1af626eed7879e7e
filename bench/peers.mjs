// Peer benchmark (not a test; never run by CI): the same seeded task graphs in piv and in task tools an agent could call instead, each asked what an agent asks most (which tasks are ready, which one is next), timed as whole processes, interleaved, once every tool was shown to see the same ready set.
// Run: npm run bench -- peers [--sizes 100,1000,10000] [--runs 9] [--out FILE] [--peers-dir DIR]
//   Installs the peers (pinned in PEERS) from the npm registry into bench/out/peers/ once (git-ignored; nothing is added
//   to package.json), writes each graph in each tool's own format in its own git repository, checks that every tool
//   derives the same ready set from it, then times each tool's `--version` (its start-up) and its ready or next query,
//   beside piv's `status --json` (which holds the ready set) and `execute --json` (choose and claim).
// Not measured: beads (`bd ready`): its npm package downloads its binary from GitHub at install, which this machine's
// network does not reach.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BIN, generateGraph, tempGitRepo } from './lib/graph.mjs';
import { machine, measure, run } from './lib/measure.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : fallback;
};
const RUNS = Number(flag('runs', 9));
const SIZES = flag('sizes', '100,1000,10000').split(',').map(Number);
const OUT = path.resolve(flag('out', path.join(here, 'out', 'peers.json')));
const PEERS_DIR = path.resolve(flag('peers-dir', path.join(here, 'out', 'peers')));

/** The peers, pinned: what each is installed as, its command, and how a task of piv's maps onto its fields. */
const PEERS = {
  backlog: { name: 'Backlog.md', pkg: 'backlog.md', version: '1.52.0', bin: 'backlog' },
  taskmaster: { name: 'Taskmaster', pkg: 'task-master-ai', version: '0.43.1', bin: 'task-master' },
};

/** The number N of piv's task-N id (task-007 → 7): the id both peers use. */
const num = (id) => Number(id.slice('task-'.length));

/**
 * Installs the peers missing from PEERS_DIR (or there at another version) with npm, scripts off. Returns key → the path
 * of its command, or an { error } saying why it is not available (no registry, say).
 */
function installPeers() {
  const installed = (p) => {
    try {
      return JSON.parse(readFileSync(path.join(PEERS_DIR, 'node_modules', p.pkg, 'package.json'), 'utf8')).version === p.version;
    } catch {
      return false;
    }
  };
  const missing = Object.values(PEERS).filter((p) => !installed(p));
  let error = null;
  if (missing.length > 0) {
    mkdirSync(PEERS_DIR, { recursive: true });
    if (!existsSync(path.join(PEERS_DIR, 'package.json'))) writeFileSync(path.join(PEERS_DIR, 'package.json'), '{ "private": true }\n');
    process.stderr.write(`installing ${missing.map((p) => `${p.pkg}@${p.version}`).join(', ')} into ${path.relative(process.cwd(), PEERS_DIR)}…\n`);
    try {
      execFileSync('npm', ['install', '--prefix', PEERS_DIR, '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error', ...missing.map((p) => `${p.pkg}@${p.version}`)], { stdio: ['ignore', 'ignore', 'inherit'] });
    } catch (e) {
      error = `npm install failed: ${e.message.split('\n')[0]}`;
    }
  }
  return Object.fromEntries(Object.entries(PEERS).map(([key, p]) => [key, installed(p) ? path.join(PEERS_DIR, 'node_modules', '.bin', p.bin) : { error: error ?? 'not installed' }]));
}

const BACKLOG_STATUS = { pending: 'To Do', in_progress: 'In Progress', completed: 'Done', blocked: 'To Do', failed: 'To Do' };
/** Backlog.md and Taskmaster know high, medium and low. */
const PRIORITY3 = { critical: 'high', high: 'high', medium: 'medium', low: 'low' };

/** A task as Backlog.md writes one (`backlog task create` and `task edit`): YAML front matter, then its description section. */
function backlogTask(t) {
  const deps = t.blocked_by.map((d) => `  - TASK-${num(d)}`);
  return [
    '---',
    `id: TASK-${num(t.id)}`,
    `title: ${t.name}`,
    `status: ${BACKLOG_STATUS[t.status]}`,
    ...(t.owner ? ['assignee:', `  - '@${t.owner}'`] : ['assignee: []']),
    `created_date: '${t.created_at.slice(0, 16).replace('T', ' ')}'`,
    'labels: []',
    ...(deps.length ? ['dependencies:', ...deps] : ['dependencies: []']),
    `priority: ${PRIORITY3[t.priority]}`,
    `ordinal: ${num(t.id) * 1000}`,
    '---',
    '',
    '## Description',
    '',
    '<!-- SECTION:DESCRIPTION:BEGIN -->',
    t.action,
    '<!-- SECTION:DESCRIPTION:END -->',
    '',
  ].join('\n');
}

/** A Backlog.md project (made by `backlog init`, remote operations off: there is no remote) holding `tasks`, one file each. */
function backlogRepo(tasks, bin) {
  const repo = tempGitRepo(`peer-backlog-${tasks.length}-`);
  run([bin, 'init', 'bench', '--defaults'], repo.dir);
  run([bin, 'config', 'set', 'remoteOperations', 'false'], repo.dir);
  const folder = path.join(repo.dir, 'backlog', 'tasks');
  mkdirSync(folder, { recursive: true });
  for (const t of tasks) writeFileSync(path.join(folder, `task-${num(t.id)} - ${t.name.replace(/ /g, '-')}.md`), backlogTask(t));
  repo.commit('tasks');
  return repo.dir;
}

const TASKMASTER_STATUS = { pending: 'pending', in_progress: 'in-progress', completed: 'done', blocked: 'blocked', failed: 'pending' };

/** A Taskmaster project (made by `task-master init`) whose tasks.json (tag `master`) holds `tasks`, as `add-task` writes them. */
function taskmasterRepo(tasks, bin) {
  const repo = tempGitRepo(`peer-taskmaster-${tasks.length}-`);
  run([bin, 'init', '--yes', '--skip-install', '--no-git', '--no-aliases'], repo.dir);
  const list = tasks.map((t) => ({
    id: String(num(t.id)),
    title: t.name,
    description: t.action,
    details: t.done,
    testStrategy: t.verify,
    status: TASKMASTER_STATUS[t.status],
    dependencies: t.blocked_by.map((d) => String(num(d))),
    priority: PRIORITY3[t.priority],
    subtasks: [],
  }));
  const at = tasks.at(-1)?.created_at ?? new Date(0).toISOString();
  const doc = { master: { tasks: list, metadata: { version: '1.0.0', lastModified: at, taskCount: list.length, completedCount: list.filter((t) => t.status === 'done').length, tags: ['master'] } } };
  mkdirSync(path.join(repo.dir, '.taskmaster', 'tasks'), { recursive: true });
  writeFileSync(path.join(repo.dir, '.taskmaster', 'tasks', 'tasks.json'), JSON.stringify(doc, null, 2) + '\n');
  repo.commit('tasks');
  return repo.dir;
}

/** The queries timed and cross-checked: what each tool answers "what can I work on?" with, as task numbers. */
const QUERY = {
  piv: { argv: ['status', '--json'], ready: (out) => JSON.parse(out).result.ready.map(num) },
  // --ready alone also lists unblocked tasks already In Progress; an agent looking for work asks for To Do ones.
  backlog: { argv: ['task', 'list', '--ready', '--status', 'To Do', '--json'], ready: (out) => JSON.parse(out).tasks.map((t) => Number(String(t.id).replace(/^TASK-/i, ''))) },
  // The first run in a new project also prints a notice about tags after the JSON.
  taskmaster: { argv: ['next', '--format', 'json'], next: (out) => Number(JSON.parse(out.slice(0, out.indexOf('\n}') + 2)).task?.id) },
};

/**
 * Whether every tool derives piv's ready set from its copy of the graph: Backlog.md's ready list is the same set, and
 * Taskmaster's next task is one of it. Returns { ready (size of piv's), agrees, problems[] }.
 */
function crossCheck(dirs, bins) {
  const problems = [];
  const ready = new Set(QUERY.piv.ready(run([BIN, ...QUERY.piv.argv], dirs.piv).stdout));
  if (bins.backlog) {
    const theirs = QUERY.backlog.ready(run([bins.backlog, ...QUERY.backlog.argv], dirs.backlog).stdout);
    const extra = theirs.filter((n) => !ready.has(n));
    const lacking = [...ready].filter((n) => !theirs.includes(n));
    if (extra.length || lacking.length || theirs.length !== ready.size) problems.push(`Backlog.md's ready list differs from piv's: extra ${extra.slice(0, 5).join(',') || '-'}, lacking ${lacking.slice(0, 5).join(',') || '-'}`);
  }
  if (bins.taskmaster) {
    const next = QUERY.taskmaster.next(run([bins.taskmaster, ...QUERY.taskmaster.argv], dirs.taskmaster).stdout);
    if (!ready.has(next)) problems.push(`Taskmaster's next task ${next} is not in piv's ready set`);
  }
  return { ready: ready.size, agrees: problems.length === 0, problems };
}

const fmt = (s) => `${String(Math.round(s.median)).padStart(6)} ms  (${Math.round(s.p25)}–${Math.round(s.p75)}, ${s.runs} runs)`;

async function main() {
  const found = installPeers();
  const bins = {};
  const peers = {};
  for (const [key, p] of Object.entries(PEERS)) {
    const b = found[key];
    if (typeof b === 'string') bins[key] = b;
    else process.stderr.write(`${p.name} is not measured: ${b.error}\n`);
    peers[key] = { name: p.name, package: `${p.pkg}@${p.version}`, available: typeof b === 'string' };
  }
  const version = JSON.parse(readFileSync(path.join(here, '..', 'package.json'), 'utf8')).version;
  const results = { bench: 'peers', at: new Date().toISOString(), machine: machine(), runs: RUNS, piv: version, peers, sizes: {} };
  let disagreed = false;
  for (const size of SIZES) {
    const g = await generateGraph(size);
    const dirs = { piv: g.dir };
    try {
      if (bins.backlog) dirs.backlog = backlogRepo(g.tasks, bins.backlog);
      if (bins.taskmaster) dirs.taskmaster = taskmasterRepo(g.tasks, bins.taskmaster);
      const check = crossCheck(dirs, bins);
      if (!check.agrees) disagreed = true;
      const completed = g.tasks.filter((t) => t.status === 'completed').length;
      const edges = g.tasks.reduce((n, t) => n + t.blocked_by.length, 0);
      process.stderr.write(`${size} tasks (${completed} completed, ${edges} edges, ${check.ready} ready): ${check.agrees ? 'every tool sees the same ready set' : check.problems.join('; ')}; measuring…\n`);
      let claimed = null;
      const list = [
        { name: `piv ${version} --version`, argv: [BIN, '--version'] },
        { name: 'piv status --json', argv: [BIN, ...QUERY.piv.argv] },
        {
          name: 'piv execute --json',
          argv: [BIN, 'execute', '--json'],
          onOutput: (out) => (claimed = JSON.parse(out).result.task?.id ?? null),
          after: () => (claimed ? [['piv release', run([BIN, 'release', claimed], g.dir)]] : []),
        },
      ];
      // Every peer's command takes seconds at some size: a third of the runs (at least 3) keeps the table in minutes.
      if (bins.backlog) list.push({ name: `backlog --version`, argv: [bins.backlog, '--version'], cwd: dirs.backlog }, { name: 'backlog task list --ready', argv: [bins.backlog, ...QUERY.backlog.argv], cwd: dirs.backlog, slow: true });
      if (bins.taskmaster) list.push({ name: 'task-master --version', argv: [bins.taskmaster, '--version'], cwd: dirs.taskmaster, slow: true }, { name: 'task-master next', argv: [bins.taskmaster, ...QUERY.taskmaster.argv], cwd: dirs.taskmaster, slow: true });
      results.sizes[size] = { tasks: size, completed, edges, ...check, commands: measure(list, g.dir, RUNS, { rssRuns: 0 }) };
    } finally {
      g.cleanup();
      for (const [key, dir] of Object.entries(dirs)) if (key !== 'piv') rmSync(dir, { recursive: true, force: true });
    }
  }

  const m = results.machine;
  console.log(`\npiv against its peers — ${m.cpus} × ${m.cpu_model}, Node ${m.node}; median (p25–p75) wall time, runs interleaved`);
  for (const p of Object.values(peers)) console.log(`  ${p.package}${p.available ? '' : ' (not available)'}`);
  for (const [size, r] of Object.entries(results.sizes)) {
    console.log(`\n${size} tasks (${r.completed} completed, ${r.edges} edges, ${r.ready} ready${r.agrees ? ', the same in every tool' : `; ${r.problems.join('; ')}`})`);
    const piv = r.commands['piv status --json'].median;
    for (const [name, s] of Object.entries(r.commands)) console.log(`  ${name.padEnd(28)} ${fmt(s).padEnd(36)} ${name.startsWith('piv') ? '' : `${(s.median / piv).toFixed(1)}× piv status`}`);
  }
  mkdirSync(path.dirname(OUT), { recursive: true });
  writeFileSync(OUT, JSON.stringify(results, null, 2) + '\n');
  console.log(`\nwrote ${path.relative(process.cwd(), OUT)}`);
  if (disagreed) {
    console.log('\nthe tools disagree on the ready set: the comparison is not of the same work (see above)');
    process.exitCode = 1;
  }
}

await main();
