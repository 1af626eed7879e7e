// The shipped entry point (dist/bundle/bin.js, CommonJS: no ES module loader to start; an sh preamble makes it piv's command, see scripts/bundle.mjs): answers `piv --version` before loading anything, else runs the CLI (src/bin.ts), bundled into one file run from V8's code cache.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { restoreLauncherEnv } from './launcher-env.js';

/** Set by the bundler (scripts/bundle.mjs); unbundled builds read package.json. */
declare const PIV_VERSION: string | undefined;
/** Set by the bundler: the sha-256 (hex, 16) of dist/bundle/piv.cjs, which names its code caches. Unbundled: undefined. */
declare const PIV_CLI_HASH: string | undefined;

/** The verb of a command line (its first word that is not an option or -C's value), as the name of its code cache. */
function verbOf(args: readonly string[]): string {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-C' || a === '--cwd') i++;
    else if (!a.startsWith('-')) return /^[a-z][a-z-]{0,23}$/.test(a) ? a : 'other';
  }
  return 'none';
}

restoreLauncherEnv(process.env);
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  // What commander prints for the same flags, without evaluating commander (or anything else) first.
  const version = typeof PIV_VERSION === 'string' ? PIV_VERSION : (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  process.stdout.write(`${version}\n`);
} else {
  // No V8 flag is set here: any flag changes V8's flag hash, and Node's own modules then compile from source instead of
  // its code cache (~7 ms on every verb). A faster-growing young generation saved about as much at 10,000 tasks only.
  const run =
    typeof PIV_CLI_HASH === 'string'
      ? import('./compile-cache.js').then(({ compileCacheDir, runCached }) => runCached(fileURLToPath(new URL('./piv.cjs', import.meta.url)), PIV_CLI_HASH, verbOf(args), compileCacheDir(), process.argv))
      : import('./bin.js').then(({ main }) => main(process.argv));
  // main rejects only on a bug: exit 70 (errors.ts EXIT.internal), as a verb's internal error does.
  run.catch((error: unknown) => {
    process.stderr.write(`piv: internal error (a bug in piv; please report it)\n${(error as Error)?.stack ?? String(error)}\n`);
    process.exitCode = 70;
  });
}
