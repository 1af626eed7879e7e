// Benchmarks (not tests): start-up of the verbs agents run most, then prime on a 20,000-file tree and token counting.
// Run: npm run bench  (or node scripts/bench.mjs [--quick] after npm run build). Prints JSON lines and a summary.
import { spawnSync, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const BIN = path.join(here, '..', 'dist', 'bundle', 'bin.js');
const quick = process.argv.includes('--quick');
const RUNS = quick ? 5 : 15;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const time = (args, cwd) => {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  if (r.status !== 0 && !(args[0] === 'execute')) throw new Error(`piv ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
};

// A repository with a 5-task plan, as an agent sees it mid-feature.
const dir = mkdtempSync(path.join(os.tmpdir(), 'piv-bench-'));
try {
  const git = (...a) => execFileSync('git', a, { cwd: dir });
  git('init', '-q');
  git('config', 'user.email', 'bench@example.com');
  git('config', 'user.name', 'bench');
  writeFileSync(path.join(dir, 'README.md'), '# bench\n');
  git('add', '-A');
  git('commit', '-qm', 'init');
  const plan = { tasks: Array.from({ length: 5 }, (_, i) => ({ id: `task-00${i + 1}`, name: `Task ${i + 1}`, verify: 'true', estimated_tokens: 10000, blocked_by: i ? [`task-00${i}`] : [] })) };
  writeFileSync(path.join(dir, 'plan.json'), JSON.stringify(plan));
  for (const args of [['init', '--agents', 'none'], ['discuss', 'bench'], ['plan', 'plan.json']]) time(args, dir);

  const results = {};
  for (const [name, args] of [
    ['node -e 0 (floor)', null],
    ['piv --help', ['--help']],
    ['piv status', ['status']],
    ['piv execute', ['execute']],
    ['piv status --json', ['status', '--json']],
  ]) {
    const samples = [];
    for (let i = 0; i < RUNS; i++) {
      if (args === null) {
        const t0 = process.hrtime.bigint();
        spawnSync(process.execPath, ['-e', '0']);
        samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
      } else samples.push(time(args, dir));
    }
    results[name] = Math.round(median(samples));
  }
  console.log(JSON.stringify({ bench: 'startup', runs: RUNS, median_ms: results }));
  for (const [k, v] of Object.entries(results)) console.log(`  ${k.padEnd(20)} ${String(v).padStart(5)} ms (median of ${RUNS})`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

// The heavier benchmarks live in their own scripts.
for (const script of ['bench-prime.mjs', 'bench-tokens.mjs']) {
  const file = path.join(here, script);
  if (!existsSync(file)) continue;
  const args = quick ? (script === 'bench-tokens.mjs' ? ['--mb', '1', '--runs', '1'] : ['--files', '2000', '--runs', '1']) : [];
  const r = spawnSync(process.execPath, [file, ...args], { stdio: 'inherit' });
  if (r.status !== 0) process.exitCode = 1;
}
