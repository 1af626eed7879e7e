// Benchmarks (not tests; never run by CI): whole-process wall time and peak memory of the verbs agents call, on seeded random task graphs.
// Run: npm run bench [-- graph|prime|tokens|peers|all] [--sizes 100,1000,10000] [--runs 15] [--plan 1000 (0: skip)] [--quick] [--out FILE] [--bin OTHER/bin.js] [--budget]
//   graph (default): generates 100 / 1,000 / 10,000-task graphs with piv's own writer, then times `node -e 0`, `piv --version`,
//   `status --json`, `execute --json` (+ the `release` that undoes it and a status right after), `validate --stage state`, status without the cache
//   (PIV_CACHE=off: what parsing and validating every file costs) and `plan` of 1,000 tasks; prints a table, writes JSON.
//   piv runs as users run it: bin.js as a command (its sh preamble starts node). With NODE_EXTRA_CA_CERTS set, two more
//   rows show what that variable costs: `node -e 0` without it, and status started as `node bin.js` (no launcher).
//   prime, tokens: the prime and token-counting benchmarks (bench/prime.mjs, bench/tokens.mjs); peers: piv beside the task
//   tools an agent could call instead, on the same graphs (bench/peers.mjs; its flags: --sizes, --runs, --out).
// Wall time: spawnSync around each process, runs interleaved across commands so load on the machine hits all alike.
// Peak memory: a separate run of each command with `--import bench/lib/rss-probe.mjs` (in NODE_OPTIONS), which writes the process's
// peak resident set (VmHWM on Linux, else maxRSS; KB) at exit; the largest of 3 runs is reported.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BIN as BUILT, generateGraph, randomTasks } from './lib/graph.mjs';
import { machine, measure, run, stats } from './lib/measure.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : fallback;
};
const quick = argv.includes('--quick');
/** `--budget`: check issue 6's budget on the largest graph and exit 1 when it is missed (task-007's verify). */
const BUDGET = argv.includes('--budget');
const what = argv.find((a) => ['graph', 'prime', 'tokens', 'peers', 'all'].includes(a)) ?? 'graph';
const RUNS = Number(flag('runs', quick ? 5 : 15));
const SIZES = flag('sizes', quick ? '100,1000' : '100,1000,10000').split(',').map(Number);
const PLAN_TASKS = Number(flag('plan', quick ? 200 : 1000));
const OUT = path.resolve(flag('out', path.join(here, 'out', 'latest.json')));
/** The CLI measured: this checkout's bundle, or another build's bin.js (`--bin`, to compare with an older piv). */
const BIN = path.resolve(flag('bin', BUILT));

/** The machine's NODE_EXTRA_CA_CERTS, which node parses at every start unless piv's launcher sets it aside (src/launcher-env.ts). */
const CA_CERTS = process.env.NODE_EXTRA_CA_CERTS;

/**
 * A command of the table: `argv` timed (piv's verbs as users run them: BIN as a command, its sh preamble starting node),
 * `after` (runs after it, timed as rows of their own: execute's release and the status right after it). With
 * NODE_EXTRA_CA_CERTS set, two rows show what it costs: node without it, and status started by `node bin.js` (no launcher).
 */
function commands(dir) {
  let claimed = null;
  const node = process.execPath;
  return [
    { name: 'node -e 0', argv: [node, '-e', '0'] },
    ...(CA_CERTS !== undefined ? [{ name: 'node -e 0, no CA file', argv: [node, '-e', '0'], extraEnv: { NODE_EXTRA_CA_CERTS: undefined } }] : []),
    { name: 'piv --version', argv: [BIN, '--version'] },
    { name: 'status --json', argv: [BIN, 'status', '--json'] },
    ...(CA_CERTS !== undefined ? [{ name: 'status, node bin.js', argv: [node, BIN, 'status', '--json'] }] : []),
    {
      name: 'execute --json',
      argv: [BIN, 'execute', '--json'],
      onOutput: (stdout) => (claimed = JSON.parse(stdout).result.task?.id ?? null),
      // Then what agents do all the time: read right after piv wrote (the table's own status row follows validate's read).
      after: () => (claimed ? [['release', run([BIN, 'release', claimed], dir)], ['status after a write', run([BIN, 'status', '--json'], dir)]] : []),
    },
    { name: 'validate --stage state', argv: [BIN, 'validate', '--stage', 'state', '--no-report'] },
    { name: 'status, no cache', argv: [BIN, 'status', '--json'], extraEnv: { PIV_CACHE: 'off' }, slow: true },
  ];
}

/** `piv plan` of PLAN_TASKS new tasks (estimates given, so no tokenizer): each run on a fresh copy of an initialized repository. */
async function measurePlan(runs) {
  const { dir, cleanup } = await generateGraph(0);
  try {
    const plan = { tasks: randomTasks(PLAN_TASKS, { seed: 0x91a4, completedShare: 0 }).map((t) => ({ id: t.id, name: t.name, priority: t.priority, phase: t.phase, blocked_by: t.blocked_by, files: t.files, action: t.action, verify: t.verify, done: t.done, estimated_tokens: t.estimated_tokens })) };
    writeFileSync(path.join(dir, 'plan.json'), JSON.stringify(plan));
    const ms = [];
    let kb = 0;
    for (let i = 0; i < runs + 3; i++) {
      const copy = mkdtempSync(path.join(os.tmpdir(), 'piv-bench-plan-'));
      cpSync(dir, copy, { recursive: true });
      try {
        const r = run([BIN, 'plan', 'plan.json', '--json'], copy, { rss: i >= runs });
        if (i < runs) ms.push(r.ms);
        else kb = Math.max(kb, r.kb);
      } finally {
        rmSync(copy, { recursive: true, force: true });
      }
    }
    return { ...stats(ms), rss_kb: kb };
  } finally {
    cleanup();
  }
}

const fmt = (s) => (s ? `${String(Math.round(s.median)).padStart(5)} ms  (${Math.round(s.p25)}–${Math.round(s.p75)}, max ${Math.round(s.max)})` : '');
const mb = (kb) => (kb ? `${(kb / 1024).toFixed(0).padStart(4)} MB` : '');

async function graphBench() {
  const results = { bench: 'graph', at: new Date().toISOString(), bin: path.relative(process.cwd(), BIN), machine: { ...machine(), node_extra_ca_certs: CA_CERTS ?? null }, runs: RUNS, sizes: {} };
  for (const size of SIZES) {
    const t0 = performance.now();
    const g = await generateGraph(size);
    const genMs = Math.round(performance.now() - t0);
    try {
      const completed = g.tasks.filter((t) => t.status === 'completed').length;
      const edges = g.tasks.reduce((n, t) => n + t.blocked_by.length, 0);
      process.stderr.write(`${size} tasks (${completed} completed, ${edges} edges) generated in ${genMs} ms; measuring…\n`);
      results.sizes[size] = { tasks: size, completed, edges, generate_ms: genMs, commands: measure(commands(g.dir), g.dir, RUNS) };
    } finally {
      g.cleanup();
    }
  }
  if (PLAN_TASKS > 0) {
    process.stderr.write(`plan of ${PLAN_TASKS} tasks; measuring…\n`);
    results.plan = { tasks: PLAN_TASKS, ...(await measurePlan(Math.max(3, Math.ceil(RUNS / 3)))) };
  }

  console.log(`\npiv benchmark — ${results.machine.cpus} × ${results.machine.cpu_model}, Node ${results.machine.node}, median (p25–p75, max) of ${RUNS} runs; peak RSS of 3`);
  for (const [size, r] of Object.entries(results.sizes)) {
    console.log(`\n${size} tasks (${r.completed} completed, ${r.edges} edges)`);
    for (const [name, s] of Object.entries(r.commands)) console.log(`  ${name.padEnd(24)} ${fmt(s).padEnd(36)} ${mb(s.rss_kb)}`);
  }
  if (results.plan) console.log(`\nplan of ${PLAN_TASKS} new tasks          ${fmt(results.plan).padEnd(36)} ${mb(results.plan.rss_kb)}`);
  mkdirSync(path.dirname(OUT), { recursive: true });
  writeFileSync(OUT, JSON.stringify(results, null, 2) + '\n');
  console.log(`\nwrote ${path.relative(process.cwd(), OUT)}`);
  if (BUDGET) {
    const checks = budgetChecks(results);
    console.log(`\nbudget (issue 6), ${Math.max(...Object.keys(results.sizes).map(Number))} tasks:`);
    for (const c of checks) console.log(`  ${c.ok ? 'met   ' : 'MISSED'} ${c.what}`);
    if (checks.some((c) => !c.ok)) process.exitCode = 1;
  }
}

/** Issue 6's budget (ms, MB, ratio), checked by `--budget` on the largest graph measured. */
const LIMITS = { hot_ms: 150, version_ratio: 1.5, rss_mb: 150 };

/**
 * The budget's checks on the largest graph of `results`: `status --json` (as the table runs it, and right after a write)
 * and `execute --json` median under 150 ms, `piv --version` within 1.5× of `node -e 0` (as run in this environment),
 * peak RSS of every command under 150 MB.
 * Returns one { what, ok } per check.
 */
function budgetChecks(results) {
  const size = Math.max(...Object.keys(results.sizes).map(Number));
  const c = results.sizes[size].commands;
  const checks = ['status --json', 'status after a write', 'execute --json'].filter((name) => c[name]).map((name) => ({ what: `${name} median ${c[name].median} ms < ${LIMITS.hot_ms} ms`, ok: c[name].median < LIMITS.hot_ms }));
  const ratio = c['piv --version'].median / c['node -e 0'].median;
  checks.push({ what: `piv --version ${c['piv --version'].median} ms = ${ratio.toFixed(2)}× node -e 0 (${c['node -e 0'].median} ms) ≤ ${LIMITS.version_ratio}×`, ok: ratio <= LIMITS.version_ratio });
  const peak = Object.entries(c).filter(([, s]) => s.rss_kb).sort((a, b) => b[1].rss_kb - a[1].rss_kb)[0];
  if (peak) checks.push({ what: `peak RSS ${(peak[1].rss_kb / 1024).toFixed(0)} MB (${peak[0]}) < ${LIMITS.rss_mb} MB`, ok: peak[1].rss_kb / 1024 < LIMITS.rss_mb });
  return checks;
}

function script(name, args = quick ? (name === 'tokens' ? ['--mb', '1', '--runs', '1'] : ['--files', '2000', '--runs', '1']) : []) {
  const r = spawnSync(process.execPath, [path.join(here, `${name}.mjs`), ...args], { stdio: 'inherit' });
  if (r.status !== 0) process.exitCode = 1;
}

if (what === 'graph' || what === 'all') await graphBench();
if (what === 'prime' || what === 'all') script('prime');
if (what === 'tokens' || what === 'all') script('tokens');
// Not in `all`: it installs the peers from the registry first.
if (what === 'peers') script('peers', argv.filter((a) => a !== 'peers'));
