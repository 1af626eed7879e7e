// Measuring whole processes for the benchmarks: wall time around spawnSync, peak memory through a probe, and the summary statistics every table prints.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const PROBE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'rss-probe.mjs');

/** Quantile of sorted numbers (linear between ranks). */
export const quantile = (sorted, q) => {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  return sorted[lo] + (sorted[Math.min(lo + 1, sorted.length - 1)] - sorted[lo]) * (pos - lo);
};
/** Median, p25, p75, min and max (ms, one decimal) and the number of runs of a list of times. */
export const stats = (ms) => {
  const s = [...ms].sort((a, b) => a - b);
  const r = (x) => Math.round(x * 10) / 10;
  return { median: r(quantile(s, 0.5)), p25: r(quantile(s, 0.25)), p75: r(quantile(s, 0.75)), min: r(s[0]), max: r(s.at(-1)), runs: s.length };
};

/** The environment every measured process gets: no colours, no agent id or Claude Code session of the shell that runs the bench. */
export const env = { ...process.env, NO_COLOR: '1', PIV_AGENT: '', CLAUDECODE: '' };

/**
 * Runs `argv` (a program and its arguments: piv's command, or node) in `cwd`; returns wall ms (and peak RSS KB when `rss`:
 * the probe is loaded through NODE_OPTIONS, so it reaches node however it is started). Throws when it fails unexpectedly.
 */
export function run(argv, cwd, { rss = false, extraEnv = {}, okCodes = [0] } = {}) {
  const file = rss ? path.join(os.tmpdir(), `piv-rss-${process.pid}-${Math.random().toString(36).slice(2)}`) : null;
  const probe = file ? { PIV_BENCH_RSS: file, NODE_OPTIONS: `${env.NODE_OPTIONS ?? ''} --import=${PROBE}`.trim() } : {};
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { cwd, encoding: 'utf8', env: { ...env, ...extraEnv, ...probe }, maxBuffer: 256 * 1024 * 1024 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (!okCodes.includes(r.status)) throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.error ?? ''}${r.stderr?.slice(0, 2000)}${r.stdout?.slice(0, 500)}`);
  let kb = null;
  if (file) {
    kb = Number(readFileSync(file, 'utf8'));
    rmSync(file, { force: true });
  }
  return { ms, kb, stdout: r.stdout };
}

/**
 * Times every command of `list` (each { name, argv, cwd? (default `cwd`), extraEnv?, slow?, onOutput?(stdout), after?() })
 * `runs` times, interleaved after one warm-up run each; a `slow` command gets a third of the runs (at least 3). Then
 * `rssRuns` memory runs each (node processes only: the probe rides NODE_OPTIONS). `after` runs after each run of its
 * command and returns [name, run result] pairs, timed under those names (rss_kb null). Returns name → stats (ms) and
 * rss_kb (largest of the memory runs, null without them).
 */
export function measure(list, cwd, runs, { rssRuns = 3 } = {}) {
  const samples = new Map(list.map((c) => [c.name, []]));
  const after = new Map();
  for (const c of list) {
    const r = run(c.argv, c.cwd ?? cwd, { extraEnv: c.extraEnv }); // warm-up: builds the cache, fills the page cache
    c.onOutput?.(r.stdout);
    c.after?.();
  }
  for (let i = 0; i < runs; i++) {
    for (const c of list) {
      if (c.slow && i >= Math.max(3, Math.ceil(runs / 3))) continue; // seconds a run (an uncached read, a peer): fewer runs
      const r = run(c.argv, c.cwd ?? cwd, { extraEnv: c.extraEnv });
      samples.get(c.name).push(r.ms);
      c.onOutput?.(r.stdout);
      for (const [name, result] of c.after?.() ?? []) (after.get(name) ?? after.set(name, []).get(name)).push(result.ms);
    }
  }
  const out = {};
  for (const c of list) {
    let kb = 0;
    for (let k = 0; k < rssRuns; k++) {
      const r = run(c.argv, c.cwd ?? cwd, { rss: true, extraEnv: c.extraEnv });
      kb = Math.max(kb, r.kb);
      c.onOutput?.(r.stdout);
      c.after?.();
    }
    out[c.name] = { ...stats(samples.get(c.name)), rss_kb: rssRuns > 0 ? kb : null };
  }
  for (const [name, ms] of after) out[name] = { ...stats(ms), rss_kb: null };
  return out;
}

/** The machine the figures come from: Node, OS, CPUs, memory (GB) and the load average when the run started. */
export function machine() {
  const cpus = os.cpus();
  return { node: process.version, platform: `${os.type()} ${os.release()}`, cpus: cpus.length, cpu_model: cpus[0]?.model ?? 'unknown', memory_gb: Math.round(os.totalmem() / 2 ** 30), loadavg_at_start: os.loadavg().map((x) => Math.round(x * 100) / 100) };
}
