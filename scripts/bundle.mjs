// Bundles the CLI into dist/bundle/ (one file per lazily loaded verb): fewer module files to resolve at every start-up.
// Run by `npm run build` after tsc (tsc type-checks and emits dist/ for the scripts; the bundle is what `piv` runs).
import { chmodSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Builds dist/bundle/bin.js and its chunks. Chunks sit two folders below the package root, like dist/store/*.js, so paths relative to import.meta.url (schemas/) hold. */
export async function bundle() {
  const { version } = JSON.parse(readFileSync(`${root}/package.json`, 'utf8'));
  rmSync(`${root}/dist/bundle`, { recursive: true, force: true }); // chunk names change: no stale chunk may survive
  await build({
    absWorkingDir: root,
    entryPoints: ['src/bin.ts'],
    outdir: 'dist/bundle',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // Only the ESM packages every verb loads (zod, yaml, commander, graphlib, picocolors, markdown-table) are bundled: they
    // are the start-up cost. The rest stay package imports, loaded as they are: tiktoken finds its WASM in its own folder,
    // and CommonJS packages (write-file-atomic, proper-lockfile, junit-report-builder) rely on __filename and require().
    external: ['tiktoken', 'write-file-atomic', 'proper-lockfile', 'junit-report-builder', 'simple-git', 'execa', 'ignore', 'smol-toml'],
    // commander and graphlib are CommonJS inside the bundle: their require() of node built-ins needs a real require.
    banner: { js: "import { createRequire as __pivCreateRequire } from 'node:module'; const require = __pivCreateRequire(import.meta.url);" },
    define: { PIV_VERSION: JSON.stringify(version) },
    sourcemap: 'linked',
    logLevel: 'warning',
  });
  chmodSync(`${root}/dist/bundle/bin.js`, 0o755);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await bundle();
