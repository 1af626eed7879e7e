#!/usr/bin/env node
// The shipped entry point (dist/bundle/bin.js): answers `piv --version` before loading anything, else hands over to the CLI in bin.ts.
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';

/** Set by the bundler (scripts/bundle.mjs); unbundled builds read package.json. */
declare const PIV_VERSION: string | undefined;

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  // What commander prints for the same flags, without evaluating commander (or anything else) first.
  const version = typeof PIV_VERSION === 'string' ? PIV_VERSION : (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  process.stdout.write(`${version}\n`);
} else {
  // A 10,000-task read keeps ~15 MB alive; V8's young generation starts at 1 MB and doubles, copying all of it through
  // a dozen scavenges (~30 ms). Growing it 16× at a time takes five (~10 ms). Only the growth policy changes.
  setFlagsFromString('--semi-space-growth-factor=16');
  await import('./bin.js');
}
