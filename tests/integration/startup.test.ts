// The shipped binary runs from V8's code cache after its first run, and gives the same answer with the cache, without it and with a broken one.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { BIN, tempRepo } from '../helpers/repo.js';

const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'piv-v8-'));
const repo = tempRepo();
afterAll(() => {
  rmSync(cacheDir, { recursive: true, force: true });
  repo.cleanup();
});

/** Runs the built piv in the temp repository with its compile cache in `cache` ('off' for none); returns stdout, the trace and the exit code. */
function piv(args: string[], cache: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: repo.dir, encoding: 'utf8', env: { ...process.env, PIV_COMPILE_CACHE: cache, PIV_TRACE: '1', NO_COLOR: '1', PIV_AGENT: '' } });
  return { stdout: r.stdout, outcome: /code cache: (\w+)/.exec(r.stderr)?.[1] ?? null, parser: /code cache: \w+ \(YAML parser loaded\)/.test(r.stderr), status: r.status };
}

describe('the compile cache of the built CLI', () => {
  it('is written by the first run of a verb and used by the next; the answers are the same as without it', () => {
    expect(piv(['init', '--agents', 'none', '--json'], cacheDir).status).toBe(0);
    // The first status parses config.yaml (the state cache has no entry yet): what it compiled is kept apart (+yaml) ...
    const parsing = piv(['status', '--json'], cacheDir);
    expect(parsing).toMatchObject({ status: 0, outcome: 'written', parser: true });
    expect(readdirSync(cacheDir).filter((f) => f.endsWith('-status+yaml.v8'))).toHaveLength(1);
    // ... until a run that needs no parser uses it and removes it, so that the next writes the lean cache every later run uses.
    expect(piv(['status', '--json'], cacheDir)).toMatchObject({ status: 0, outcome: 'retired', parser: false });
    const first = piv(['status', '--json'], cacheDir);
    expect(first).toMatchObject({ status: 0, outcome: 'written', parser: false });
    const second = piv(['status', '--json'], cacheDir);
    expect(second).toMatchObject({ status: 0, outcome: 'used' });
    const off = piv(['status', '--json'], 'off');
    expect(off.outcome).toBe('off');
    expect(second.stdout).toBe(first.stdout);
    expect(off.stdout).toBe(first.stdout);
    expect(parsing.stdout).toBe(first.stdout);
    expect(readdirSync(cacheDir).filter((f) => f.includes('-status'))).toEqual([expect.stringMatching(/-status\.v8$/)]);
  });

  it('node options (which V8 checks a cache against) get their own cache: neither run rejects the other\'s', () => {
    const flagged = (args: string[]) => {
      const r = spawnSync(process.execPath, [BIN, ...args], { cwd: repo.dir, encoding: 'utf8', env: { ...process.env, PIV_COMPILE_CACHE: cacheDir, PIV_TRACE: '1', NO_COLOR: '1', PIV_AGENT: '', NODE_OPTIONS: '--max-old-space-size=512' } });
      return /code cache: (\w+)/.exec(r.stderr)?.[1] ?? null;
    };
    expect(flagged(['status', '--json'])).toBe('written');
    expect(piv(['status', '--json'], cacheDir).outcome).toBe('used');
    expect(flagged(['status', '--json'])).toBe('used');
  });

  it('a broken cache file is rejected by V8, replaced, and changes nothing in the answer', () => {
    const file = readdirSync(cacheDir).find((f) => f.endsWith('-status.v8') && !/-o[0-9a-f]{8}-status\.v8$/.test(f))!; // piv's own, not the node-options one
    const good = piv(['status', '--json'], cacheDir);
    writeFileSync(path.join(cacheDir, file), 'not a code cache');
    const broken = piv(['status', '--json'], cacheDir);
    expect(broken).toMatchObject({ status: 0, outcome: 'rejected', stdout: good.stdout });
    expect(piv(['status', '--json'], cacheDir).outcome).toBe('used');
  });

  it('--version loads nothing and writes no cache', () => {
    const r = spawnSync(process.execPath, [BIN, '--version'], { encoding: 'utf8', env: { ...process.env, PIV_COMPILE_CACHE: cacheDir, PIV_TRACE: '1' } });
    expect(r.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
    expect(r.stderr).toBe('');
  });
});

describe("piv's command: bin.js read by sh", () => {
  // A certificate file that does not exist: node warns on stderr when it starts with it, which shows whether it did.
  const CA = '/nonexistent/piv-test-ca.pem';
  const WARNING = /Ignoring extra certs from/;
  const PLUGIN_LAUNCHER = fileURLToPath(new URL('../../plugin/scripts/piv.sh', import.meta.url));
  const run = (cmd: string, args: string[], env: Record<string, string> = {}) =>
    spawnSync(cmd, args, { cwd: repo.dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', PIV_AGENT: '', ...env } });

  it('runs piv through a symlink, as npm links it, and as `node bin.js`', () => {
    const bin = path.join(cacheDir, 'piv');
    symlinkSync(BIN, bin);
    expect(readFileSync(BIN, 'utf8').startsWith('#!/bin/sh\n')).toBe(true);
    expect(run(bin, ['--version']).stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
    const viaNode = run(process.execPath, [BIN, 'status', '--json']);
    const viaSh = run(bin, ['status', '--json']);
    expect(viaSh.status).toBe(0);
    expect(viaSh.stdout).toBe(viaNode.stdout);
  });

  it('starts node without NODE_EXTRA_CA_CERTS and gives it back to the commands piv runs', () => {
    const config = path.join(repo.dir, '.agents', 'config.yaml');
    const doc = parseDocument(readFileSync(config, 'utf8'));
    doc.setIn(['commands', 'test'], `test "$NODE_EXTRA_CA_CERTS" = "${CA}" && test -z "$PIV_NODE_EXTRA_CA_CERTS"`);
    writeFileSync(config, doc.toString());
    // Started by node directly, node reads the file (and warns); the command still sees the variable.
    const direct = run(process.execPath, [BIN, 'validate', '--stage', 'test', '--json'], { NODE_EXTRA_CA_CERTS: CA });
    expect(direct.stderr).toMatch(WARNING);
    expect(direct.status).toBe(0);
    for (const [cmd, args] of [
      [BIN, []],
      ['sh', [PLUGIN_LAUNCHER]],
    ] as const) {
      const r = run(cmd, [...args, 'validate', '--stage', 'test', '--json'], { NODE_EXTRA_CA_CERTS: CA, PIV_BIN: BIN });
      expect(r.stderr).not.toMatch(WARNING);
      expect(r.status).toBe(0);
      expect(JSON.parse(r.stdout).result.stages.find((s: { name: string }) => s.name === 'test').status).toBe('passed');
    }
    // Another value (empty) reaches the command as it is: the check fails, so it is a real one.
    const unset = run(BIN, ['validate', '--stage', 'test', '--json'], { NODE_EXTRA_CA_CERTS: '' });
    expect(unset.status).toBe(1);
  });
});

describe('a large answer', () => {
  it('reaches a reader slower than the pipe whole, larger than a pipe holds, and the exit code stays', () => {
    const big = tempRepo();
    try {
      const run = (args: string[]) => spawnSync(BIN, args, { cwd: big.dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', PIV_AGENT: '' } });
      expect(run(['init', '--agents', 'none']).status).toBe(0);
      expect(run(['discuss', 'wide', '--title', 'A wide graph']).status).toBe(0);
      const id = (n: number) => `task-${String(n).padStart(3, '0')}`;
      const tasks = Array.from({ length: 600 }, (_, i) => ({ id: id(i + 1), name: `${'a long task name '.repeat(5)}${i + 1}`, action: 'do it', verify: 'true', done: 'done', estimated_tokens: 1000, blocked_by: i % 7 ? [id(i)] : [] }));
      writeFileSync(path.join(big.dir, 'plan.json'), JSON.stringify({ tasks }));
      expect(run(['plan', 'plan.json']).status).toBe(0);
      const direct = run(['status', '--json']);
      expect(direct.stdout.length).toBeGreaterThan(128 * 1024); // twice what a Linux pipe buffers
      // The reader starts late: piv's write cannot finish at once, and piv must not end before it has.
      const slow = spawnSync('sh', ['-c', `"$0" status --json | (sleep 0.5; cat); echo "exit $?" >&2`, BIN], { cwd: big.dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', PIV_AGENT: '' }, maxBuffer: 1 << 26 });
      expect(slow.stdout).toBe(direct.stdout);
      expect(JSON.parse(slow.stdout).result.progress.total).toBe(600);
      // A failing gate exits 1 (process.exitCode): no task is done.
      expect(run(['validate', '--stage', 'tasks', '--no-report', '--json']).status).toBe(1);
    } finally {
      big.cleanup();
    }
  });
});

describe('a run that parses many files', () => {
  it('grows the young generation for the parse, yet the code cache it writes is used by the next start', () => {
    const big = tempRepo();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'piv-v8-'));
    try {
      const run = (args: string[], env: Record<string, string> = {}) =>
        spawnSync(BIN, args, { cwd: big.dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', PIV_AGENT: '', PIV_COMPILE_CACHE: dir, PIV_TRACE: '1', ...env } });
      expect(run(['init', '--agents', 'none']).status).toBe(0);
      expect(run(['discuss', 'big', '--title', 'Many tasks']).status).toBe(0);
      // More tasks than HEAVY_PARSE (src/heap.ts), every one parsed: PIV_CACHE=off reads each file.
      const id = (n: number) => `task-${String(n).padStart(3, '0')}`;
      const tasks = Array.from({ length: 80 }, (_, i) => ({ id: id(i + 1), name: `step ${i + 1}`, action: 'do it', verify: 'true', done: 'done', estimated_tokens: 1000, blocked_by: i ? [id(i)] : [] }));
      writeFileSync(path.join(big.dir, 'plan.json'), JSON.stringify({ tasks }));
      expect(run(['plan', 'plan.json']).status).toBe(0);
      const outcome = () => /code cache: (\w+)/.exec(run(['status', '--json'], { PIV_CACHE: 'off' }).stderr)?.[1];
      expect(outcome()).toBe('written');
      // Had V8's flags not been put back before the cache was written, V8 would reject it here (another flag hash).
      expect(outcome()).toBe('used');
    } finally {
      rmSync(dir, { recursive: true, force: true });
      big.cleanup();
    }
  });
});
