#!/usr/bin/env node
// The shipped entry point (dist/bundle/bin.js): answers `piv --version` before loading anything, else hands over to the CLI in bin.ts.
import { readFileSync } from 'node:fs';

/** Set by the bundler (scripts/bundle.mjs); unbundled builds read package.json. */
declare const PIV_VERSION: string | undefined;

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  // What commander prints for the same flags, without evaluating commander (or anything else) first.
  const version = typeof PIV_VERSION === 'string' ? PIV_VERSION : (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  process.stdout.write(`${version}\n`);
} else {
  await import('./bin.js');
}
