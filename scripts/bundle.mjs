// Bundles the CLI into dist/bundle/ (one file per lazily loaded verb): fewer module files to resolve at every start-up.
// Run by `npm run build` after tsc (tsc type-checks and emits dist/ for the scripts; the bundle is what `piv` runs).
import { createHash } from 'node:crypto';
import { chmodSync, readdirSync, readFileSync, rmSync } from 'node:fs';
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

/** Builds dist/bundle/bin.js and its chunks. Chunks sit two folders below the package root, like dist/store/*.js, so paths relative to import.meta.url (schemas/) hold. */
export async function bundle() {
  const { version } = JSON.parse(readFileSync(`${root}/package.json`, 'utf8'));
  rmSync(`${root}/dist/bundle`, { recursive: true, force: true }); // chunk names change: no stale chunk may survive
  await build({
    absWorkingDir: root,
    // bin.js is src/entry.ts: `--version` is answered there; everything else loads the CLI (src/bin.ts) as a chunk.
    entryPoints: { bin: 'src/entry.ts' },
    outdir: 'dist/bundle',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // Bundled: what the hot verbs load (commander, zod/mini, yaml, picocolors, markdown-table, write-file-atomic,
    // proper-lockfile), so start-up resolves and lexes no package files. External, loaded as they are: tiktoken (finds its
    // WASM in its own folder), graphlib (required synchronously, only to name a cycle), and what only slower verbs load.
    external: ['tiktoken', '@dagrejs/graphlib', 'junit-report-builder', 'simple-git', 'execa', 'ignore', 'smol-toml'],
    // CommonJS packages inside the bundle (commander, write-file-atomic, proper-lockfile) need a real require, and write-file-atomic __filename.
    banner: {
      js: "import { createRequire as __pivCreateRequire } from 'node:module'; import { fileURLToPath as __pivFileURLToPath } from 'node:url'; const require = __pivCreateRequire(import.meta.url); const __filename = __pivFileURLToPath(import.meta.url);",
    },
    // yaml's ESM build (the one its package serves browsers; the same sources as its CommonJS dist/): scope-hoisted, it
    // evaluates ~2 ms faster than the CommonJS build every time piv parses or writes YAML. Its only difference: warnings
    // go to console.warn instead of process.emitWarning (both stderr).
    alias: { yaml: './node_modules/yaml/browser/index.js' },
    define: { PIV_VERSION: JSON.stringify(version), PIV_CACHE_BUILD: JSON.stringify(cacheBuild(version)) },
    sourcemap: 'linked',
    logLevel: 'warning',
  });
  chmodSync(`${root}/dist/bundle/bin.js`, 0o755);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await bundle();
