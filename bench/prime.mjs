// prime benchmark (not a test): a generated 20,000-file git repository, then piv's own repository; prime runs with write: false.
// Run after `npm run build`: node bench/prime.mjs (or npm run bench -- prime) [--files 20000] [--runs 3] [--keep]
// Prints one line of JSON, then human lines. The temp repository is removed unless --keep is given.
import { execFileSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { prime } from '../dist/verbs/prime.js';
import { numberArg, seeded } from './lib/random.mjs';

const arg = numberArg;
const FILES = Math.max(10, arg('files', 20_000));
const RUNS = Math.max(1, arg('runs', 3));
const SELF = fileURLToPath(new URL('..', import.meta.url));

// Deterministic randomness, so every run benchmarks the same input.
const { rand, pick, int } = seeded(0x9e1e5eed);
/** Log-normal-ish size: most files 0.5–8 KB, a long tail to ~150 KB. */
const size = () => Math.min(150_000, Math.round(Math.exp(6.5 + rand() * 2.2 + (rand() < 0.03 ? 2.5 : 0))));

const WORDS = 'user order cart item price total stream buffer cache queue worker router handler config schema report token session plan task graph'.split(' ');
const KINDS = [
  { ext: 'ts', weight: 30 },
  { ext: 'js', weight: 12 },
  { ext: 'py', weight: 18 },
  { ext: 'go', weight: 10 },
  { ext: 'md', weight: 8 },
  { ext: 'json', weight: 6 },
  { ext: 'css', weight: 5 },
  { ext: 'test.ts', weight: 8 },
  { ext: 'yaml', weight: 3 },
];
const kindOf = () => {
  let r = rand() * KINDS.reduce((s, k) => s + k.weight, 0);
  for (const k of KINDS) if ((r -= k.weight) < 0) return k.ext;
  return 'ts';
};

function body(ext, bytes, siblings) {
  const lines = [];
  const imports = siblings.slice(0, int(0, 4));
  if (ext === 'ts' || ext === 'js' || ext === 'test.ts') for (const s of imports) lines.push(`import { ${pick(WORDS)} } from './${s}.js';`);
  if (ext === 'py') for (const s of imports) lines.push(`from .${s} import ${pick(WORDS)}`);
  if (ext === 'go') lines.push('package mod', '', 'import (', '\t"fmt"', ')');
  let n = lines.join('\n').length;
  while (n < bytes) {
    const line =
      ext === 'md'
        ? `The ${pick(WORDS)} ${pick(WORDS)} keeps its ${pick(WORDS)} in the ${pick(WORDS)}.`
        : ext === 'json' || ext === 'yaml'
          ? `  "${pick(WORDS)}_${int(0, 999)}": ${int(0, 99999)},`
          : `  const ${pick(WORDS)}${int(0, 99)} = ${pick(WORDS)}(${int(0, 9999)}, '${pick(WORDS)}');`;
    lines.push(line);
    n += line.length + 1;
  }
  return `${lines.join('\n')}\n`;
}

async function generate(dir) {
  const files = [];
  // packages/p<i>/src/<area>/<sub>/file: nested folders, ~25 files per leaf folder.
  const perLeaf = 25;
  for (let i = 0; files.length < FILES; i++) {
    const leaf = `packages/p${i % 40}/src/${pick(WORDS)}${Math.floor(i / 40)}/${pick(WORDS)}`;
    const names = Array.from({ length: perLeaf }, (_, j) => `${pick(WORDS)}_${j}`);
    for (let j = 0; j < perLeaf && files.length < FILES; j++) {
      const ext = kindOf();
      files.push({ rel: `${leaf}/${names[j]}.${ext}`, text: body(ext.replace('test.', ''), size(), names.filter((_, k) => k !== j)) });
    }
  }
  files.push({ rel: 'package.json', text: JSON.stringify({ name: 'bench', scripts: { test: 'vitest run', lint: 'eslint .' }, devDependencies: { vitest: '1' } }, null, 2) });
  files.push({ rel: 'go.mod', text: 'module example.com/bench\n\ngo 1.22\n' });
  files.push({ rel: '.gitignore', text: 'build/\n*.log\n.cache/\n' });
  // Ignored: must cost next to nothing (never stat'ed: the folders are pruned).
  for (let i = 0; i < 2000; i++) files.push({ rel: `build/out/chunk${i}.js`, text: 'x'.repeat(int(100, 4000)) });
  for (let i = 0; i < 200; i++) files.push({ rel: `packages/p${i % 40}/debug${i}.log`, text: 'log line\n'.repeat(int(1, 100)) });
  const dirs = new Set(files.map((f) => path.dirname(path.join(dir, f.rel))));
  await Promise.all([...dirs].map((d) => fsp.mkdir(d, { recursive: true })));
  for (let i = 0; i < files.length; i += 256) await Promise.all(files.slice(i, i + 256).map((f) => fsp.writeFile(path.join(dir, f.rel), f.text)));
  const git = (...a) => execFileSync('git', a, { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
  git('init', '-q', '-b', 'main');
  git('config', 'user.email', 'bench@example.com');
  git('config', 'user.name', 'bench');
  git('config', 'commit.gpgsign', 'false');
  git('add', '-A');
  git('commit', '-q', '-m', 'bench tree');
  return files.reduce((s, f) => s + Buffer.byteLength(f.text), 0);
}

async function time(cwd) {
  const ms = [];
  let last;
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    last = await prime({ cwd, write: false });
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  return { median: Math.round(ms[Math.floor(ms.length / 2)]), runs: ms.map(Math.round), result: last };
}

const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'piv-bench-prime-'));
try {
  const t0 = performance.now();
  const bytes = await generate(dir);
  const genMs = Math.round(performance.now() - t0);
  const big = await time(dir);
  const self = await time(SELF);
  const out = {
    generated: { files: big.result.layout.files, ignored_files: 2200, bytes, ms: genMs },
    synthetic: { median_ms: big.median, runs_ms: big.runs, files_per_s: Math.round(big.result.layout.files / (big.median / 1000)), key_files: big.result.key_files.length, brief_tokens: big.result.brief.tokens },
    self: { root: SELF, files: self.result.layout.files, median_ms: self.median, runs_ms: self.runs },
    node: process.version,
    cpus: os.cpus().length,
  };
  console.log(JSON.stringify(out));
  console.log(`prime on ${out.synthetic.files_per_s ? big.result.layout.files : 0} files (${(bytes / 1e6).toFixed(0)} MB, 2,200 more ignored): median ${big.median} ms over ${RUNS} runs (${out.synthetic.files_per_s} files/s)`);
  console.log(`prime on piv itself (${self.result.layout.files} files): median ${self.median} ms`);
} finally {
  if (process.argv.includes('--keep')) console.log(`kept ${dir}`);
  else await fsp.rm(dir, { recursive: true, force: true });
}
