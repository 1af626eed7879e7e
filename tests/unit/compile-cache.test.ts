// The compile cache runs a bundle from V8's code cache when one fits, and otherwise writes one: never a wrong or foreign cache.
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { compileCacheDir, flagsTag } from '../../src/compile-cache.js';

/** The built module (tests/global-setup.ts builds dist/): each run is its own process, as each piv is (V8 also caches compilations in memory). */
const BUILT = fileURLToPath(new URL('../../dist/compile-cache.js', import.meta.url));

/** runCached in a fresh node process; returns its outcome and what the bundle's main saw. */
async function runCached(file: string, hash: string, slot: string, cacheDir: string | null, argv: string[]): Promise<string> {
  const script = `const { runCached } = await import(${JSON.stringify(BUILT)}); const outcome = await runCached(${JSON.stringify(file)}, ${JSON.stringify(hash)}, ${JSON.stringify(slot)}, ${JSON.stringify(cacheDir)}, ${JSON.stringify(argv)}); process.stdout.write(JSON.stringify({ outcome, ran: globalThis.__ran }));`;
  // A script file, not `node -e`: node's options name the cache (flagsTag), and piv runs with none.
  const main = path.join(dir, `run-${process.pid}-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(main, script);
  const r = spawnSync(process.execPath, [main], { encoding: 'utf8' });
  rmSync(main, { force: true });
  if (r.status !== 0) throw new Error(r.stderr);
  const { outcome, ran } = JSON.parse(r.stdout) as { outcome: string; ran: unknown };
  lastRan = ran;
  return outcome;
}
let lastRan: unknown;

let dir = '';
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A CommonJS "bundle" whose main records what it was called with in globalThis.__ran. */
function bundle(body = 'x'): string {
  const file = path.join(dir, `piv-${body}.cjs`);
  writeFileSync(file, `exports.main = async (argv) => { globalThis.__ran = [${JSON.stringify(body)}, argv.slice(2)]; };\n`);
  return file;
}
const ran = () => lastRan;

describe('runCached', () => {
  it('writes a cache on the first run and runs from it on the next; another build gets its own', async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'piv-cc-'));
    const cache = path.join(dir, 'cache');
    const a = bundle('a');
    expect(await runCached(a, 'aaaa', 'status', cache, ['node', 'piv', 'status'])).toBe('written');
    expect(ran()).toEqual(['a', ['status']]);
    expect(readdirSync(cache)).toEqual([`aaaa-${process.version}-${process.arch}-status.v8`]);
    expect(statSync(cache).mode & 0o777).toBe(0o700);
    expect(await runCached(a, 'aaaa', 'status', cache, ['node', 'piv', 'status', '--json'])).toBe('used');
    expect(ran()).toEqual(['a', ['status', '--json']]);
    // Another verb, another build: their own files, and the first build's stays.
    expect(await runCached(a, 'aaaa', 'execute', cache, ['node', 'piv', 'execute'])).toBe('written');
    expect(await runCached(bundle('b'), 'bbbb', 'status', cache, ['node', 'piv'])).toBe('written');
    expect(ran()).toEqual(['b', []]);
    expect(readdirSync(cache).sort()).toHaveLength(3);
  });

  it("keeps a run that loaded the YAML parser from writing the verb's usual cache: its own is used until a run without the parser retires it", async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'piv-cc-'));
    const cache = path.join(dir, 'cache');
    // A bundle whose main marks the parser loaded (as src/store/yaml.ts does) when asked to "parse".
    const file = path.join(dir, 'piv-parse.cjs');
    writeFileSync(file, `exports.main = async (argv) => { if (argv.includes('parse')) globalThis[Symbol.for('piv.yaml-parser-loaded')] = true; globalThis.__ran = argv.slice(2); };\n`);
    const name = (suffix: string) => `pppp-${process.version}-${process.arch}-status${suffix}.v8`;
    expect(await runCached(file, 'pppp', 'status', cache, ['node', 'piv', 'parse'])).toBe('written');
    expect(readdirSync(cache)).toEqual([name('+yaml')]);
    expect(await runCached(file, 'pppp', 'status', cache, ['node', 'piv', 'parse'])).toBe('used');
    // The first run without the parser runs from it, then removes it; the next writes the usual cache.
    expect(await runCached(file, 'pppp', 'status', cache, ['node', 'piv', 'hot'])).toBe('retired');
    expect(readdirSync(cache)).toEqual([]);
    expect(await runCached(file, 'pppp', 'status', cache, ['node', 'piv', 'hot'])).toBe('written');
    expect(readdirSync(cache)).toEqual([name('')]);
    // From then on every run uses it, with or without the parser, and writes nothing.
    expect(await runCached(file, 'pppp', 'status', cache, ['node', 'piv', 'parse'])).toBe('used');
    expect(await runCached(file, 'pppp', 'status', cache, ['node', 'piv', 'hot'])).toBe('used');
    expect(readdirSync(cache)).toEqual([name('')]);
  });

  it('a corrupt cache is rejected by V8 and rewritten; the bundle still runs', async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'piv-cc-'));
    const cache = path.join(dir, 'cache');
    const a = bundle('a');
    await runCached(a, 'aaaa', 'status', cache, ['node', 'piv']);
    const file = path.join(cache, readdirSync(cache)[0]!);
    writeFileSync(file, Buffer.alloc(4096, 7));
    expect(await runCached(a, 'aaaa', 'status', cache, ['node', 'piv', 'again'])).toBe('rejected');
    expect(ran()).toEqual(['a', ['again']]);
    expect(await runCached(a, 'aaaa', 'status', cache, ['node', 'piv'])).toBe('used');
  });

  it("removes other builds' caches written over two weeks ago, and none of its own", async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'piv-cc-'));
    const cache = path.join(dir, 'cache');
    await runCached(bundle('old'), 'old0', 'status', cache, ['node', 'piv']);
    const old = path.join(cache, readdirSync(cache)[0]!);
    const month = (Date.now() - 30 * 86_400_000) / 1000;
    utimesSync(old, month, month);
    await runCached(bundle('new'), 'new0', 'status', cache, ['node', 'piv']);
    expect(readdirSync(cache)).toEqual([`new0-${process.version}-${process.arch}-status.v8`]);
  });

  it('runs without a cache when there is no folder, and a folder others can write to is not used', async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'piv-cc-'));
    expect(await runCached(bundle('a'), 'aaaa', 'status', null, ['node', 'piv'])).toBe('off');
    const shared = path.join(dir, 'shared');
    await runCached(bundle('a'), 'aaaa', 'status', shared, ['node', 'piv']);
    rmSync(shared, { recursive: true });
    mkdirSync(shared);
    chmodSync(shared, 0o777);
    expect(await runCached(bundle('a'), 'aaaa', 'status', shared, ['node', 'piv'])).toBe('written');
    expect(readdirSync(shared)).toEqual([]);
  });
});

describe('compileCacheDir', () => {
  it('is $PIV_COMPILE_CACHE, else under $XDG_CACHE_HOME or ~/.cache; off turns it off', () => {
    expect(compileCacheDir({ PIV_COMPILE_CACHE: 'off' })).toBeNull();
    expect(compileCacheDir({ PIV_COMPILE_CACHE: '/tmp/x' })).toBe('/tmp/x');
    expect(compileCacheDir({ XDG_CACHE_HOME: '/c' })).toBe('/c/piv/v8');
    expect(compileCacheDir({})).toBe(path.join(os.homedir(), '.cache', 'piv', 'v8'));
  });
});

describe('flagsTag', () => {
  it("is empty without node options, and tells different options apart (each gets its own cache)", () => {
    expect(flagsTag([], undefined)).toBe('');
    expect(flagsTag([], '  ')).toBe('');
    const inspect = flagsTag(['--inspect'], undefined);
    expect(inspect).toMatch(/^-o[0-9a-f]{8}$/);
    expect(flagsTag(['--inspect'], undefined)).toBe(inspect);
    expect(flagsTag([], '--max-old-space-size=4096')).not.toBe(inspect);
    expect(flagsTag(['--inspect'], '--max-old-space-size=4096')).not.toBe(inspect);
  });
});
