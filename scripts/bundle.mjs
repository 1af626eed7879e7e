// Bundles the CLI into dist/bundle/: one CommonJS file run from V8's code cache, and the entry that runs it; no module files to resolve at start-up, no JavaScript to parse once cached.
// Run by `npm run build` after tsc (tsc type-checks and emits dist/ for the scripts; the bundle is what `piv` runs).
import { createHash } from 'node:crypto';
import { chmodSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * The build id the state cache (src/store/cache.ts) is keyed on: piv's version and a hash of the store's sources and
 * the packages that parse and validate, so a cache written by another build is never used.
 */
function cacheBuild(version) {
  const h = createHash('sha256');
  for (const name of readdirSync(`${root}/src/store`).sort()) h.update(name).update(readFileSync(`${root}/src/store/${name}`));
  for (const pkg of ['zod', 'yaml']) h.update(pkg).update(JSON.parse(readFileSync(`${root}/node_modules/${pkg}/package.json`, 'utf8')).version);
  return `${version}+${h.digest('hex').slice(0, 12)}`;
}

/**
 * zod's namespaces (`z.locales`) re-export its 40-odd locales; piv only ever configures English (src/store/schemas.ts), and
 * the MCP SDK none. Bundled whole, they make zod's chunk 665 KB and cost every verb that validates ~12 ms to compile.
 * Here `zod/v4/locales/index.js` is only `en`.
 */
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (a) => (a.importer.includes(`${path.sep}node_modules${path.sep}zod${path.sep}`) ? { path: 'zod-locales', namespace: 'zod-english-only' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'zod-english-only' }, () => ({ contents: "export { default as en } from './en.js';", resolveDir: path.join(root, 'node_modules', 'zod', 'v4', 'locales') }));
  },
};

/**
 * proper-lockfile reaches node:fs through graceful-fs, which queues and retries opens that fail with EMFILE. Its patch
 * copies every property of fs, which runs each of fs's lazy getters: fs.promises, streams, readline, fs.Dir, watchers
 * (~3 ms of Node's own modules on every verb that takes the state lock). The lock makes one directory and touches one
 * mtime, never many files at once, so in the bundle proper-lockfile gets node:fs itself.
 */
const lockfileWithPlainFs = {
  name: 'lockfile-plain-fs',
  setup(b) {
    b.onResolve({ filter: /^graceful-fs$/ }, (a) => (a.importer.includes(`${path.sep}node_modules${path.sep}proper-lockfile${path.sep}`) ? { path: 'node:fs', external: true } : undefined));
  },
};

/**
 * proper-lockfile registers its exit handler with signal-exit 3, which loads node:assert (~2 ms of Node's own modules) to
 * check that it was given a function. write-file-atomic, on the same verbs, brings signal-exit 4, whose onExit takes the
 * same (callback, options) and calls it the same way; in the bundle proper-lockfile gets 4's onExit, and one copy of
 * signal-exit watches the process.
 */
const lockfileSignalExit4 = {
  name: 'lockfile-signal-exit-4',
  setup(b) {
    b.onResolve({ filter: /^signal-exit$/ }, (a) => (a.importer.includes(`${path.sep}node_modules${path.sep}proper-lockfile${path.sep}`) ? { path: 'on-exit', namespace: 'lockfile-signal-exit-4' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'lockfile-signal-exit-4' }, () => ({ contents: "module.exports = require('signal-exit').onExit;", resolveDir: root, loader: 'js' }));
  },
};

/** Packages left out of the CLI bundle and loaded from node_modules when a verb needs them (require: Node 20.19+ loads ES modules too). */
const EXTERNAL = [
  // finds its WASM in its own folder
  'tiktoken',
  // required synchronously, only to name a cycle
  '@dagrejs/graphlib',
  // what only slower verbs load (validate's report, prime, the swarm's git)
  'junit-report-builder',
  'simple-git',
  'execa',
  'ignore',
  'smol-toml',
  // `piv mcp` only: the SDK, with ajv, is half the size of the rest of piv
  '@modelcontextprotocol/sdk',
];

/** zod's classic API (`zod`, used by `piv mcp` and the SDK) stays in node_modules; the store's `zod/mini` is bundled. */
const zodClassicExternal = {
  name: 'zod-classic-external',
  setup(b) {
    b.onResolve({ filter: /^zod(\/v3|\/v4)?$/ }, (a) => ({ path: a.path, external: true }));
  },
};

/**
 * The first two lines of bin.js, piv's command (package.json bin): read by sh they are a launcher, read by node a
 * string and a comment, so the same file runs as `piv …` and as `node bin.js …`. The launcher starts node on the file
 * itself ($0: node follows npm's symlink) without NODE_EXTRA_CA_CERTS, which node would parse before any JavaScript runs
 * (~35 ms with a system bundle, nodejs/node#40524); src/launcher-env.ts puts it back for the commands piv runs.
 */
const LAUNCHER = [
  '#!/bin/sh',
  `':' //; if [ -n "\${NODE_EXTRA_CA_CERTS+x}" ]; then PIV_NODE_EXTRA_CA_CERTS=$NODE_EXTRA_CA_CERTS; export PIV_NODE_EXTRA_CA_CERTS; unset NODE_EXTRA_CA_CERTS; fi; exec node "$0" "$@"`,
].join('\n');

/**
 * Makes `file` ASCII, so the entry reads it as latin1 (half the time of decoding 880 KB of UTF-8 on every start, ~1 ms).
 * esbuild writes code ASCII-only (charset 'ascii': non-ASCII in strings, regexps and names is escaped); what remains is
 * in comments it keeps (a `…` in a doc comment), replaced here by `?` (as many UTF-16 units: columns, and so the source
 * map, stay right). A non-ASCII character on a line that is not a comment fails the build instead of being changed.
 */
function asciiOnly(file) {
  const lines = readFileSync(file, 'utf8').split('\n');
  let changed = false;
  lines.forEach((line, i) => {
    if (!/[^\x00-\x7f]/.test(line)) return;
    const at = line.search(/[^\x00-\x7f]/);
    const before = line.slice(0, at);
    if (!/^\s*(\*|\/\/|\/\*)/.test(line) && !before.includes('//') && !before.includes('/*')) {
      throw new Error(`${file}:${i + 1}: a non-ASCII character outside a comment (esbuild's charset should have escaped it): ${line.trim().slice(0, 120)}`);
    }
    lines[i] = line.replace(/[^\x00-\x7f]/gu, (c) => '?'.repeat(c.length));
    changed = true;
  });
  if (changed) writeFileSync(file, lines.join('\n'));
}

/**
 * Builds dist/bundle/: `piv.cjs`, the whole CLI (src/bin.ts) as one CommonJS file, which the entry runs through V8's code
 * cache (src/compile-cache.ts; Node 20 can cache the bytecode of scripts, not of ES modules), and `bin.js`, the entry
 * (src/entry.ts, ESM), which knows piv.cjs's hash. Both sit two folders below the package root, like dist/store/*.js, so
 * paths relative to import.meta.url (schemas/, package.json) hold.
 */
export async function bundle() {
  const { version } = JSON.parse(readFileSync(`${root}/package.json`, 'utf8'));
  rmSync(`${root}/dist/bundle`, { recursive: true, force: true }); // no stale file may survive
  await build({
    absWorkingDir: root,
    entryPoints: { piv: 'src/bin.ts' },
    outdir: 'dist/bundle',
    outExtension: { '.js': '.cjs' },
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    // Every import() becomes a require: a script compiled from a code cache has no dynamic-import callback in Node 20
    // (ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING). The bundle's own modules are then initialised on first use, as before.
    supported: { 'dynamic-import': false },
    external: EXTERNAL,
    // import.meta.url, in a CommonJS file: the file's URL.
    define: { PIV_VERSION: JSON.stringify(version), PIV_CACHE_BUILD: JSON.stringify(cacheBuild(version)), 'import.meta.url': '__pivMetaUrl' },
    banner: { js: 'var __pivMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
    // yaml's ESM build (the one its package serves browsers; the same sources as its CommonJS dist/): scope-hoisted, it
    // evaluates ~2 ms faster than the CommonJS build every time piv parses or writes YAML. Its only difference: warnings
    // go to console.warn instead of process.emitWarning (both stderr).
    alias: { yaml: './node_modules/yaml/browser/index.js' },
    plugins: [zodEnglishOnly, zodClassicExternal, lockfileWithPlainFs, lockfileSignalExit4],
    sourcemap: 'linked',
    logLevel: 'warning',
  });
  asciiOnly(`${root}/dist/bundle/piv.cjs`);
  const hash = createHash('sha256').update(readFileSync(`${root}/dist/bundle/piv.cjs`)).digest('hex').slice(0, 16);
  await build({
    absWorkingDir: root,
    entryPoints: { bin: 'src/entry.ts' },
    outdir: 'dist/bundle',
    bundle: true,
    // CommonJS (dist/bundle/package.json says so): Node starts it ~3 ms sooner than an ES module.
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    supported: { 'dynamic-import': false },
    define: { PIV_VERSION: JSON.stringify(version), PIV_CLI_HASH: JSON.stringify(hash), 'import.meta.url': '__pivMetaUrl' },
    banner: { js: `${LAUNCHER}\nvar __pivMetaUrl = require("node:url").pathToFileURL(__filename).href;` },
    // Unbundled, the entry would import ./bin.js; bundled it never does (PIV_CLI_HASH is set).
    external: ['./bin.js'],
    sourcemap: 'linked',
    logLevel: 'warning',
  });
  writeFileSync(`${root}/dist/bundle/package.json`, '{ "type": "commonjs" }\n');
  chmodSync(`${root}/dist/bundle/bin.js`, 0o755);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await bundle();
