// Token-count benchmark (not a test): countPaths over ~5 MB of generated source-like files, and countTokens on a 5 MB string.
// Run after `npm run build`: node bench/tokens.mjs (or npm run bench -- tokens) [--mb 5] [--runs 3]
// Prints one line of JSON, then one human line. The temp tree is always removed.
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { countPaths, countTokens } from '../dist/tokens/count.js';
import { numberArg, seeded } from './lib/random.mjs';

const arg = numberArg;
const TARGET_BYTES = Math.round(arg('mb', 5) * 1024 * 1024);
const RUNS = Math.max(1, arg('runs', 3));

// Deterministic randomness, so every run benchmarks the same input.
const { rand, pick, int } = seeded(0x5eed1234);

const WORDS = (
  'task graph state machine agent verify claim release plan prime implement validate session token budget context ' +
  'file folder path root error retry timeout lock queue worker result value index count total buffer stream parse ' +
  'render config schema report status commit branch merge diff patch test case suite expect assert mock fixture ' +
  'user request response handler router middleware cache store record entry update delete insert select order limit'
).split(' ');
const ident = () => {
  const n = int(1, 3);
  let s = pick(WORDS);
  for (let i = 1; i < n; i++) {
    const w = pick(WORDS);
    s += w[0].toUpperCase() + w.slice(1);
  }
  return s;
};
const sentence = () => {
  const n = int(5, 16);
  const words = Array.from({ length: n }, () => pick(WORDS));
  words[0] = words[0][0].toUpperCase() + words[0].slice(1);
  return `${words.join(' ')}.`;
};

const generators = {
  ts: () => {
    const name = ident();
    const fields = Array.from({ length: int(2, 6) }, () => `  ${ident()}: ${pick(['string', 'number', 'boolean', 'string[]'])};`);
    const body = Array.from({ length: int(3, 10) }, () =>
      pick([
        `  const ${ident()} = await ${ident()}(${ident()}, { ${ident()}: ${int(0, 9999)} });`,
        `  if (${ident()}.${ident()} > ${int(1, 500)}) throw new Error('${sentence()}');`,
        `  // ${sentence()}`,
        `  for (const ${ident()} of ${ident()}) ${ident()}.push(${ident()}.${ident()} ?? '${pick(WORDS)}');`,
        `  return { ...${ident()}, ${ident()}: ${ident()}.map((x) => x * ${int(2, 9)}) };`,
      ]),
    );
    return `/** ${sentence()} */\nexport interface ${name[0].toUpperCase()}${name.slice(1)} {\n${fields.join('\n')}\n}\n\nexport async function ${ident()}(${ident()}: string, ${ident()} = ${int(0, 100)}): Promise<void> {\n${body.join('\n')}\n}\n\n`;
  },
  py: () => {
    const body = Array.from({ length: int(3, 9) }, () =>
      pick([
        `    ${ident().toLowerCase()} = ${ident().toLowerCase()}.get("${pick(WORDS)}", ${int(0, 99)})`,
        `    # ${sentence()}`,
        `    if ${ident().toLowerCase()} is None:\n        raise ValueError(f"${sentence()} {${ident().toLowerCase()}}")`,
        `    return [x * ${int(2, 9)} for x in ${ident().toLowerCase()} if x > ${int(0, 50)}]`,
      ]),
    );
    return `def ${ident().toLowerCase()}_${pick(WORDS)}(${ident().toLowerCase()}, ${ident().toLowerCase()}=None):\n    """${sentence()}"""\n${body.join('\n')}\n\n\n`;
  },
  md: () => `## ${sentence()}\n\n${Array.from({ length: int(2, 5) }, sentence).join(' ')}\n\n- \`${ident()}\`: ${sentence()}\n- \`${ident()}\`: ${sentence()}\n\n\`\`\`sh\nnpx piv ${pick(WORDS)} --${pick(WORDS)} ${int(1, 99)}\n\`\`\`\n\n`,
  json: () =>
    `${JSON.stringify(
      Object.fromEntries(Array.from({ length: int(3, 8) }, () => [ident(), pick([int(0, 1e6), sentence(), rand() > 0.5, [pick(WORDS), pick(WORDS)]])])),
      null,
      2,
    )}\n`,
};
const KINDS = Object.keys(generators);

/** Writes ~TARGET_BYTES of files (4–16 KB each, 25 per folder, two levels deep) plus ignored noise under `root`. */
async function buildTree(root) {
  await fsp.writeFile(path.join(root, '.gitignore'), 'dist/\n*.log\n');
  await fsp.mkdir(path.join(root, 'dist'), { recursive: true });
  await fsp.writeFile(path.join(root, 'dist', 'bundle.js'), 'x'.repeat(100_000)); // ignored, not counted
  let written = 0;
  let files = 0;
  const chunks = [];
  while (written < TARGET_BYTES) {
    const dir = path.join(root, `pkg${Math.floor(files / 250)}`, `mod${Math.floor(files / 25) % 10}`);
    if (files % 25 === 0) await fsp.mkdir(dir, { recursive: true });
    const kind = KINDS[files % KINDS.length];
    const size = int(4096, 16384);
    let text = '';
    while (text.length < size) text += generators[kind]();
    await fsp.writeFile(path.join(dir, `${ident()}-${files}.${kind}`), text);
    chunks.push(text);
    written += Buffer.byteLength(text);
    files++;
  }
  return { files, bytes: written, text: chunks.join('') };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const timed = async (fn) => {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
};

const root = await fsp.mkdtemp(path.join(os.tmpdir(), 'piv-bench-'));
try {
  const tree = await buildTree(root);

  const walkRuns = [];
  let result;
  for (let i = 0; i < RUNS; i++) {
    const run = await timed(() => countPaths(root, ['.']));
    walkRuns.push(run.ms);
    result = run.value;
  }
  if (result.files.length !== tree.files + 1) throw new Error(`expected ${tree.files + 1} files, counted ${result.files.length}`);

  const text = tree.text.slice(0, TARGET_BYTES);
  const textBytes = Buffer.byteLength(text);
  const rawRuns = [];
  let rawTokens = 0;
  for (let i = 0; i < RUNS; i++) {
    const run = await timed(() => countTokens(text));
    rawRuns.push(run.ms);
    rawTokens = run.value;
  }

  const walkMs = median(walkRuns);
  const rawMs = median(rawRuns);
  const MB = 1024 * 1024;
  const report = {
    bench: 'tokens',
    node: process.version,
    runs: RUNS,
    countPaths: {
      files: result.files.length,
      bytes: result.total_bytes,
      tokens: result.total_tokens,
      median_ms: Math.round(walkMs),
      runs_ms: walkRuns.map(Math.round),
      mb_per_s: Number((result.total_bytes / MB / (walkMs / 1000)).toFixed(2)),
      tokens_per_s: Math.round(result.total_tokens / (walkMs / 1000)),
    },
    countTokens: {
      bytes: textBytes,
      tokens: rawTokens,
      median_ms: Math.round(rawMs),
      runs_ms: rawRuns.map(Math.round),
      mb_per_s: Number((textBytes / MB / (rawMs / 1000)).toFixed(2)),
      tokens_per_s: Math.round(rawTokens / (rawMs / 1000)),
    },
  };
  console.log(JSON.stringify(report));
  const c = report.countPaths;
  const r = report.countTokens;
  console.log(
    `countPaths: ${c.files} files, ${(c.bytes / MB).toFixed(1)} MB, ${c.tokens} tokens in ${c.median_ms} ms (median of ${RUNS}) → ` +
      `${c.mb_per_s} MB/s, ${c.tokens_per_s} tokens/s | countTokens on ${(r.bytes / MB).toFixed(1)} MB: ${r.median_ms} ms → ${r.mb_per_s} MB/s, ${r.tokens_per_s} tokens/s`,
  );
} finally {
  await fsp.rm(root, { recursive: true, force: true });
}
