// Text rendering of `piv prime` for people: a pure function of the PrimeResult, a dozen lines at most; the brief itself is the file.
import pc from 'picocolors';
import type { PrimeResult } from '../verbs/prime.js';

const ok = (s: string) => pc.green(`✓ ${s}`);
const dim = (s: string) => pc.dim(s);

/** 62000 → "62K", 1500 → "1.5K", 800 → "800" (tokens). */
function k(n: number): string {
  if (n < 1000) return String(n);
  const v = n / 1000;
  return `${v >= 100 || Number.isInteger(v) ? Math.round(v) : v.toFixed(1)}K`;
}

/** Bytes as B / KB / MB (1024-based). */
function size(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  return bytes >= 1024 ? `${Math.round(bytes / 1024)} KB` : `${bytes} B`;
}

/**
 * The terminal summary of a prime run: where the brief went (or that nothing was written), its tokens against the
 * budget, what was left out to fit, the repository at a glance (files, languages, branch, session) and the commands.
 * Takes the verb's result; returns text with picocolors styling (which honours NO_COLOR). Never throws.
 */
export function renderPrime(r: PrimeResult): string {
  const b = r.brief;
  const md = r.files_written.find((f) => f.endsWith('.md'));
  const lines = [
    md ? ok(`brief written to ${md} (and ${r.files_written.filter((f) => f !== md).join(', ')})`) : pc.yellow('dry run: nothing written'),
    `Brief: ${k(b.tokens)}/${k(b.budget)} tokens${b.omitted.length ? pc.yellow(` — left out to fit: ${b.omitted.join('; ')}`) : dim(' — nothing left out')}`,
  ];
  const langs = r.layout.languages.slice(0, 5).map((l) => `${l.language} ${l.files}`);
  lines.push(
    `Repository: ${r.layout.files} files, ${size(r.layout.bytes)}${langs.length ? ` — ${langs.join(', ')}${r.layout.languages.length > 5 ? ', …' : ''}` : ''}`,
  );
  const g = r.git;
  const upstream = g.upstream ? `, ${g.upstream.ahead} ahead / ${g.upstream.behind} behind ${g.upstream.name}` : '';
  lines.push(`Git: ${g.branch ?? '(no branch)'} @ ${g.head ? g.head.slice(0, 7) : '(no commits)'}${upstream}, ${g.dirty_total ? `${g.dirty_total} uncommitted` : 'clean'}`);
  if (r.session) {
    const s = r.session;
    lines.push(`Session: ${s.feature} (${s.phase}), ${s.progress.done}/${s.progress.total} done${s.next_task ? `, next ${s.next_task.id}` : ''}${s.open_questions.length ? pc.yellow(`, ${s.open_questions.length} open question(s)`) : ''}`);
  }
  const cmds = Object.entries(r.toolchain.commands).filter((e): e is [string, string] => e[1] !== null);
  lines.push(cmds.length ? `Commands: ${cmds.map(([name, c]) => `${name}=${c}`).join('  ')}` : dim('Commands: none detected'));
  for (const w of r.warnings) lines.push(pc.yellow(`⚠ ${w}`));
  lines.push(dim(`${r.elapsed_ms} ms${md ? ' · give the brief to a fresh context: cat .agents/context/prime.md' : ''}`));
  return lines.join('\n');
}
