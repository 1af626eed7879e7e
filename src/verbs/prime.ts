// prime: a deterministic analysis of the repository (no model, no project code run) and a brief that never exceeds its token budget.
import { existsSync, promises as fsp } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { detectToolchain, type Toolchain } from '../detect/toolchain.js';
import { nextTask } from '../core/scheduler.js';
import { PivError } from '../errors.js';
import { changedPaths, currentBranch, head, recentCommits, upstreamStatus } from '../git/git.js';
import { readConfig, readSession, readTasksCollecting, writeAgentsFile } from '../store/index.js';
import { AGENTS_DIR, layout } from '../store/layout.js';
import { ConfigSchema, FORMAT_VERSION, type Config } from '../store/schemas.js';
import type { Counter, EncodingName } from '../tokens/count.js';
import { limiter, listFiles, type ListedFile } from '../tokens/walk.js';
import { resolve, type BaseOptions } from './context.js';
import { answeredDecisions, openQuestions } from '../core/session.js';

export interface PrimeOptions extends BaseOptions {
  /** Size limit of the brief, in tokens (calibrated). Default: config `tokens.prime_budget` (4000). */
  budget?: number;
  /** Write `.agents/context/prime.md` and `prime.json` (default true). */
  write?: boolean;
}

export type KeyFileReason = 'largest' | 'central' | 'entry' | 'config';

/**
 * Everything `prime` found: the JSON twin of the brief (`.agents/context/prime.json`). Field by field:
 *
 * - `generated_at`: ISO 8601 time of the run (the verb's clock, `opts.now`).
 * - `root`: absolute path of the repository's work tree.
 * - `git.branch`: current branch, null when detached or unborn. `git.head`: full hash of HEAD, null without commits.
 * - `git.dirty`: paths (repository-relative, POSIX, sorted) with uncommitted changes, untracked included, ignored excluded,
 *   prime's own output files excluded; at most 500 (`git.dirty_total` is the full count).
 * - `git.recent_commits`: the last 10 commits, newest first (short hash, subject).
 * - `git.upstream`: the branch's upstream with commits `ahead` (only in HEAD) and `behind` (only upstream), or null.
 * - `layout.files` / `layout.bytes`: files git would see (every .gitignore honoured, `.git/`, `node_modules/` and `.agents/`
 *   left out) and their total size in bytes.
 * - `layout.languages`: files and bytes per language (from the file extension or name, table `LANGUAGES`), bytes
 *   descending; files of unknown type count in the totals only.
 * - `layout.top_dirs`: top-level folders with their file counts and bytes, most files first (at most 20).
 * - `layout.entry_points`: entry files from the toolchain (package.json bin/main/exports, [project.scripts], main.go, …);
 *   a built entry that is ignored (`dist/bin.js`) is followed by its source when one exists (`src/bin.ts`).
 * - `layout.test_dirs`: folders holding tests: folders named test/tests/__tests__/spec/specs/testing, and folders of files
 *   named like tests (`*.test.*`, `*.spec.*`, `*_test.go`, `test_*.py`, `*_test.py`); outermost only, at most 50.
 *   `layout.test_files`: number of files in those folders or named like tests.
 * - `toolchain`: `detectToolchain` (ecosystems, package managers, commands with their `sources`, conventions).
 * - `key_files`: at most 20 files a fresh context should know about, in this order: entry points (≤ 3), the most central
 *   source files (≤ 8; central = imported by the most other files, ≥ 2, from a regex over the import lines of up to 400
 *   source files), project config files (≤ 3), the largest text files (lockfiles and minified files excluded). Each with
 *   `bytes`, calibrated `tokens` (tiktoken, config encoding), `tokens_exact` (false when the file was too large to read
 *   whole and its count was scaled from its first 256 KB) and `imported_by` (importer count, null when not measured).
 * - `session`: the open feature session (null when none, or when it is completed): decisions answered, open questions,
 *   progress (completed / all tasks), the next ready task and the ids of tasks in progress.
 * - `brief.tokens`: calibrated tokens of the final prime.md (≤ `brief.budget`); `brief.omitted`: what was cut to fit.
 * - `files_written`: repository-relative paths written (empty with `write: false`).
 * - `warnings`: problems that did not stop the analysis (an invalid session or task file, unreadable files).
 * - `elapsed_ms`: wall time of the analysis and the brief, in milliseconds (writing excluded).
 */
export interface PrimeResult {
  generated_at: string;
  root: string;
  git: {
    branch: string | null;
    head: string | null;
    dirty: string[];
    dirty_total: number;
    recent_commits: { hash: string; subject: string }[];
    upstream: { name: string; ahead: number; behind: number } | null;
  };
  layout: {
    files: number;
    bytes: number;
    languages: { language: string; files: number; bytes: number }[];
    top_dirs: { path: string; files: number; bytes: number }[];
    entry_points: string[];
    test_dirs: string[];
    test_files: number;
  };
  toolchain: Pick<Toolchain, 'ecosystems' | 'package_managers' | 'commands' | 'sources' | 'conventions'>;
  key_files: { path: string; bytes: number; tokens: number; tokens_exact: boolean; reason: KeyFileReason; imported_by: number | null }[];
  session: null | {
    feature: string;
    title: string;
    phase: string;
    decisions: { question: string; answer: string }[];
    open_questions: string[];
    progress: { done: number; total: number };
    next_task: { id: string; name: string } | null;
    in_progress: string[];
  };
  brief: { tokens: number; budget: number; omitted: string[] };
  files_written: string[];
  warnings: string[];
  elapsed_ms: number;
}

/** Where the brief and its JSON twin are written, relative to `.agents/`. */
export const PRIME_MD = 'context/prime.md';
export const PRIME_JSON = 'context/prime.json';

const RECENT_COMMITS = 10;
const DIRTY_CAP = 500;
const TOP_DIRS_CAP = 20;
const TEST_DIRS_CAP = 50;
const KEY_FILES_MAX = 20;
const KEY_QUOTA: Record<KeyFileReason, number> = { entry: 3, central: 8, config: 3, largest: 6 };
/** Source files read to find imports (sampled evenly over the sorted list when there are more). */
const CENTRALITY_FILE_CAP = 400;
/** Bytes read from the head of each of those files (imports sit at the top). */
const CENTRALITY_READ_BYTES = 32 * 1024;
/** A key file larger than this is counted on its first bytes and scaled. */
const TOKENIZE_FILE_BYTES = 256 * 1024;
/** Beyond this many bytes tokenized in one run, remaining key files are sampled on 16 KB. */
const TOKENIZE_TOTAL_BYTES = 2 * 1024 * 1024;
const TOKENIZE_SAMPLE_BYTES = 16 * 1024;

/** Extension (lower case, no dot) → language. Files whose name is in `LANGUAGE_BY_NAME` win over their extension. */
export const LANGUAGES: Readonly<Record<string, string>> = {
  ts: 'TypeScript', tsx: 'TypeScript', mts: 'TypeScript', cts: 'TypeScript',
  js: 'JavaScript', jsx: 'JavaScript', mjs: 'JavaScript', cjs: 'JavaScript',
  py: 'Python', pyi: 'Python', ipynb: 'Jupyter Notebook',
  go: 'Go', rs: 'Rust', java: 'Java', kt: 'Kotlin', kts: 'Kotlin', scala: 'Scala', groovy: 'Groovy',
  rb: 'Ruby', php: 'PHP', c: 'C', h: 'C', cc: 'C++', cpp: 'C++', cxx: 'C++', hpp: 'C++', hh: 'C++', hxx: 'C++',
  cs: 'C#', fs: 'F#', swift: 'Swift', m: 'Objective-C', mm: 'Objective-C', dart: 'Dart', lua: 'Lua',
  pl: 'Perl', pm: 'Perl', r: 'R', jl: 'Julia', ex: 'Elixir', exs: 'Elixir', erl: 'Erlang', hs: 'Haskell',
  clj: 'Clojure', ml: 'OCaml', zig: 'Zig', nim: 'Nim', sol: 'Solidity',
  sh: 'Shell', bash: 'Shell', zsh: 'Shell', fish: 'Shell', ps1: 'PowerShell', bat: 'Batch',
  vue: 'Vue', svelte: 'Svelte', html: 'HTML', htm: 'HTML', css: 'CSS', scss: 'CSS', sass: 'CSS', less: 'CSS',
  sql: 'SQL', graphql: 'GraphQL', gql: 'GraphQL', proto: 'Protocol Buffers', tf: 'Terraform',
  md: 'Markdown', mdx: 'Markdown', rst: 'reStructuredText', txt: 'Text', adoc: 'AsciiDoc',
  json: 'JSON', jsonc: 'JSON', yaml: 'YAML', yml: 'YAML', toml: 'TOML', xml: 'XML', ini: 'INI', csv: 'CSV',
};
const LANGUAGE_BY_NAME: Readonly<Record<string, string>> = {
  Makefile: 'Makefile', GNUmakefile: 'Makefile', makefile: 'Makefile', Dockerfile: 'Dockerfile', Containerfile: 'Dockerfile',
  Rakefile: 'Ruby', Gemfile: 'Ruby', Jenkinsfile: 'Groovy',
};
/** Languages whose files are scanned for imports. */
const IMPORT_LANGUAGES = new Set(['TypeScript', 'JavaScript', 'Python', 'Go', 'Ruby', 'C', 'C++', 'Vue', 'Svelte']);
const LOCKFILES = new Set([
  'package-lock.json', 'npm-shrinkwrap.json', 'yarn.lock', 'pnpm-lock.yaml', 'bun.lock', 'bun.lockb', 'Cargo.lock', 'poetry.lock',
  'Pipfile.lock', 'uv.lock', 'pdm.lock', 'go.sum', 'composer.lock', 'Gemfile.lock', 'flake.lock', 'mix.lock',
]);
/** Root files reported as key `config` files, in order of preference. */
const CONFIG_FILES = [
  'package.json', 'pyproject.toml', 'go.mod', 'Cargo.toml', 'Makefile', 'GNUmakefile', 'makefile', 'tsconfig.json', 'setup.py',
  'setup.cfg', 'requirements.txt', 'pom.xml', 'build.gradle', 'build.gradle.kts', 'CMakeLists.txt', 'docker-compose.yml',
  'compose.yaml', 'Dockerfile',
];
const TEST_DIR_NAMES = new Set(['test', 'tests', '__tests__', 'spec', 'specs', 'testing']);
const TEST_FILE = /(\.(test|spec)\.[^/.]+$)|(_test\.go$)|((^|\/)test_[^/]*\.py$)|(_test\.py$)|(_spec\.rb$)/;

const basename = (p: string): string => p.slice(p.lastIndexOf('/') + 1);
const dirname = (p: string): string => (p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '');
const extOf = (name: string): string => {
  const i = name.lastIndexOf('.');
  return i <= 0 ? '' : name.slice(i + 1).toLowerCase();
};

/** The language of a repository path (by file name, then extension), or null when unknown. */
export function languageOf(file: string): string | null {
  const name = basename(file);
  return LANGUAGE_BY_NAME[name] ?? LANGUAGES[extOf(name)] ?? null;
}

/** Sort helper: code-unit order, so results do not depend on the locale. */
const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

// ---------------------------------------------------------------------------------------------------------------
// Layout

function analyseLayout(files: ListedFile[], toolchainEntries: string[], fileSet: ReadonlySet<string>): PrimeResult['layout'] {
  const langs = new Map<string, { files: number; bytes: number }>();
  const dirs = new Map<string, { files: number; bytes: number }>();
  let bytes = 0;
  for (const f of files) {
    bytes += f.bytes;
    const lang = languageOf(f.path);
    if (lang) {
      const l = langs.get(lang) ?? { files: 0, bytes: 0 };
      l.files++;
      l.bytes += f.bytes;
      langs.set(lang, l);
    }
    const slash = f.path.indexOf('/');
    if (slash > 0) {
      const top = f.path.slice(0, slash);
      const d = dirs.get(top) ?? { files: 0, bytes: 0 };
      d.files++;
      d.bytes += f.bytes;
      dirs.set(top, d);
    }
  }

  // Test folders: named ones (outermost), then folders of test-named files not already inside one.
  const named = new Map<string, number>();
  const byFile = new Map<string, number>();
  let testFiles = 0;
  for (const f of files) {
    const parts = f.path.split('/');
    const at = parts.findIndex((p, i) => i < parts.length - 1 && TEST_DIR_NAMES.has(p));
    if (at >= 0) {
      const dir = parts.slice(0, at + 1).join('/');
      named.set(dir, (named.get(dir) ?? 0) + 1);
      testFiles++;
    } else if (TEST_FILE.test(f.path)) {
      const dir = dirname(f.path) || '.';
      byFile.set(dir, (byFile.get(dir) ?? 0) + 1);
      testFiles++;
    }
  }
  const candidates = [...named.entries(), ...byFile.entries()].sort((a, b) => b[1] - a[1] || cmp(a[0], b[0]));
  const testDirs: string[] = [];
  for (const [dir] of candidates) {
    if (testDirs.some((d) => d === '.' || dir === d || dir.startsWith(`${d}/`))) continue;
    testDirs.push(dir);
    if (testDirs.length >= TEST_DIRS_CAP) break;
  }

  return {
    files: files.length,
    bytes,
    languages: [...langs.entries()].map(([language, v]) => ({ language, ...v })).sort((a, b) => b.bytes - a.bytes || cmp(a.language, b.language)),
    top_dirs: [...dirs.entries()]
      .map(([p, v]) => ({ path: p, ...v }))
      .sort((a, b) => b.files - a.files || b.bytes - a.bytes || cmp(a.path, b.path))
      .slice(0, TOP_DIRS_CAP),
    entry_points: entryPoints(toolchainEntries, fileSet),
    test_dirs: testDirs,
    test_files: testFiles,
  };
}

/** Toolchain entries; one that git does not see (built output) is followed by its source file when one exists. */
function entryPoints(entries: string[], fileSet: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const e of entries) {
    out.push(e);
    if (fileSet.has(e)) continue;
    const m = /^(?:dist|build|lib|out)\/(.+)\.(?:js|mjs|cjs)$/.exec(e);
    if (!m) continue;
    const src = ['ts', 'tsx', 'mts', 'cts', 'js', 'mjs', 'cjs'].map((x) => `src/${m[1]}.${x}`).find((c) => fileSet.has(c));
    if (src) out.push(src);
  }
  return [...new Set(out)];
}

// ---------------------------------------------------------------------------------------------------------------
// Centrality: who imports whom, from a regex over the first 32 KB of up to 400 source files.

const JS_EXTS = ['ts', 'tsx', 'mts', 'cts', 'js', 'jsx', 'mjs', 'cjs', 'vue', 'svelte', 'json'];
const JS_IMPORT = [
  /(?:^|[^\w$.])(?:import|export)\s[^'"`;]*?\bfrom\s*['"]([^'"\n]+)['"]/g,
  /(?:^|[^\w$.])import\s*['"]([^'"\n]+)['"]/g,
  /(?:^|[^\w$.])(?:require|import)\s*\(\s*['"]([^'"\n]+)['"]\s*\)/g,
];
const PY_FROM = /^[ \t]*from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]+(?:\(([^)]*)\)|([^\n#;]+))/gm;
const PY_IMPORT = /^[ \t]*import[ \t]+([\w.]+(?:[ \t]*,[ \t]*[\w.]+)*)/gm;
const C_INCLUDE = /^[ \t]*#[ \t]*include[ \t]*"([^"\n]+)"/gm;
const RB_REQUIRE = /(?:^|[^\w.])(require_relative|require)[ \t(]*['"]([^'"\n]+)['"]/g;
const GO_IMPORT_BLOCK = /^import[ \t]*\(([^)]*)\)/gm;
const GO_IMPORT_LINE = /^import[ \t]+(?:[\w.]+[ \t]+)?"([^"\n]+)"/gm;

class Resolver {
  private readonly byBase = new Map<string, string[]>();
  private readonly goDirs = new Map<string, string[]>();

  constructor(
    private readonly files: ReadonlySet<string>,
    private readonly goModule: string | null,
  ) {
    for (const f of files) {
      const b = basename(f);
      const list = this.byBase.get(b);
      if (list) list.push(f);
      else this.byBase.set(b, [f]);
      if (f.endsWith('.go') && !f.endsWith('_test.go')) {
        const d = dirname(f);
        const g = this.goDirs.get(d);
        if (g) g.push(f);
        else this.goDirs.set(d, [f]);
      }
    }
  }

  private first(candidates: string[]): string | null {
    for (const c of candidates) if (this.files.has(c)) return c;
    return null;
  }

  /** A JS/TS specifier from `from`, or null for a package or an unknown file. */
  js(from: string, spec: string): string | null {
    let base: string;
    if (spec.startsWith('./') || spec.startsWith('../') || spec === '.' || spec === '..') base = path.posix.join(dirname(from), spec);
    else if (spec.startsWith('@/') || spec.startsWith('~/')) return this.jsCandidates(`src/${spec.slice(2)}`) ?? this.jsCandidates(spec.slice(2));
    else if (spec.includes('/') && !spec.startsWith('@') && !spec.includes(':')) return this.jsCandidates(spec) ?? this.jsCandidates(`src/${spec}`);
    else return null;
    if (base.startsWith('..')) return null;
    return this.jsCandidates(base);
  }

  private jsCandidates(base: string): string | null {
    const stripped = base.replace(/\.(js|jsx|mjs|cjs)$/, '');
    const swapped = base.endsWith('.js') ? ['.ts', '.tsx'] : base.endsWith('.jsx') ? ['.tsx'] : base.endsWith('.mjs') ? ['.mts'] : base.endsWith('.cjs') ? ['.cts'] : [];
    return this.first([
      base,
      ...swapped.map((x) => stripped + x),
      ...JS_EXTS.map((x) => `${base}.${x}`),
      ...JS_EXTS.map((x) => `${base}/index.${x}`),
    ]);
  }

  /** A Python module (`a.b`, or `.x` relative to `from`'s package), trying the root and `src/`. */
  py(from: string, module: string): string | null {
    const dots = /^\.*/.exec(module)![0].length;
    const rest = module.slice(dots).split('.').filter(Boolean).join('/');
    const bases: string[] = [];
    if (dots > 0) {
      let dir = dirname(from);
      for (let i = 1; i < dots; i++) dir = dirname(dir);
      bases.push(dir);
    } else bases.push('', 'src');
    for (const b of bases) {
      const p = [b, rest].filter(Boolean).join('/');
      if (!p) continue;
      const hit = this.first([`${p}.py`, `${p}/__init__.py`]);
      if (hit) return hit;
    }
    return null;
  }

  /** A C/C++ quoted include: next to the includer, at the root, under include/, else a unique file of that name. */
  c(from: string, spec: string): string | null {
    const hit = this.first([path.posix.join(dirname(from), spec), spec, `include/${spec}`, `src/${spec}`]);
    if (hit) return hit;
    const same = this.byBase.get(basename(spec));
    return same && same.length === 1 ? same[0]! : null;
  }

  ruby(from: string, kind: string, spec: string): string | null {
    const withExt = spec.endsWith('.rb') ? spec : `${spec}.rb`;
    if (kind === 'require_relative') return this.first([path.posix.join(dirname(from), withExt)]);
    return this.first([`lib/${withExt}`, withExt]);
  }

  /** A Go import inside this module → the package's representative file (named like the folder, else doc.go, else its first file). */
  go(spec: string): string | null {
    if (!this.goModule || !(spec === this.goModule || spec.startsWith(`${this.goModule}/`))) return null;
    const dir = spec.slice(this.goModule.length + 1);
    const list = this.goDirs.get(dir);
    if (!list) return null;
    const named = `${dir ? `${dir}/` : ''}${basename(dir) || 'main'}.go`;
    return list.includes(named) ? named : list.includes(`${dir}/doc.go`) ? `${dir}/doc.go` : [...list].sort(cmp)[0]!;
  }
}

/** Files → the files they import (resolved to repository paths). */
function importsOf(file: string, text: string, r: Resolver): string[] {
  const lang = languageOf(file);
  const out: (string | null)[] = [];
  const each = (re: RegExp, fn: (m: RegExpExecArray) => void): void => {
    re.lastIndex = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) fn(m);
  };
  if (lang === 'TypeScript' || lang === 'JavaScript' || lang === 'Vue' || lang === 'Svelte') {
    for (const re of JS_IMPORT) each(re, (m) => out.push(r.js(file, m[1]!)));
  } else if (lang === 'Python') {
    each(PY_FROM, (m) => {
      const mod = m[1]!;
      const names = (m[2] ?? m[3] ?? '').replace(/[\\\n]/g, ' ').split(',').map((s) => s.trim().split(/\s+/)[0]!).filter((s) => /^\w+$/.test(s));
      let any = false;
      for (const n of names) {
        const sub = r.py(file, mod.endsWith('.') ? `${mod}${n}` : `${mod}.${n}`);
        if (sub) {
          out.push(sub);
          any = true;
        }
      }
      if (!any && /\w/.test(mod)) out.push(r.py(file, mod));
    });
    each(PY_IMPORT, (m) => {
      for (const mod of m[1]!.split(',')) out.push(r.py(file, mod.trim()));
    });
  } else if (lang === 'C' || lang === 'C++') {
    each(C_INCLUDE, (m) => out.push(r.c(file, m[1]!)));
  } else if (lang === 'Ruby') {
    each(RB_REQUIRE, (m) => out.push(r.ruby(file, m[1]!, m[2]!)));
  } else if (lang === 'Go') {
    each(GO_IMPORT_BLOCK, (m) => {
      for (const q of m[1]!.matchAll(/"([^"\n]+)"/g)) out.push(r.go(q[1]!));
    });
    each(GO_IMPORT_LINE, (m) => out.push(r.go(m[1]!)));
  }
  return [...new Set(out.filter((x): x is string => x !== null && x !== file))];
}

/** Reads up to `max` bytes from the start of a file (null when unreadable). */
async function readHead(abs: string, max: number): Promise<Buffer | null> {
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(abs, 'r');
    const buf = Buffer.allocUnsafe(max);
    const { bytesRead } = await fh.read(buf, 0, max, 0);
    return buf.subarray(0, bytesRead);
  } catch {
    return null;
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

/** How many distinct files import each file, over an evenly spaced sample of at most `CENTRALITY_FILE_CAP` source files. */
async function importCounts(root: string, files: ListedFile[], fileSet: ReadonlySet<string>): Promise<Map<string, number>> {
  const sources = files.filter((f) => f.bytes > 0 && IMPORT_LANGUAGES.has(languageOf(f.path) ?? '') && !f.path.endsWith('.d.ts'));
  const sample = sources.length <= CENTRALITY_FILE_CAP ? sources : Array.from({ length: CENTRALITY_FILE_CAP }, (_, i) => sources[Math.floor((i * sources.length) / CENTRALITY_FILE_CAP)]!);
  const goMod = fileSet.has('go.mod') ? await fsp.readFile(path.join(root, 'go.mod'), 'utf8').catch(() => '') : '';
  const goModule = /^module\s+(\S+)/m.exec(goMod)?.[1] ?? null;
  const resolver = new Resolver(fileSet, goModule);
  const io = limiter(32);
  const counts = new Map<string, number>();
  const lists = await Promise.all(
    sample.map((f) =>
      io(async () => {
        const buf = await readHead(path.join(root, f.path), CENTRALITY_READ_BYTES);
        return buf === null || buf.subarray(0, 8192).includes(0) ? [] : importsOf(f.path, buf.toString('utf8'), resolver);
      }),
    ),
  );
  for (const list of lists) for (const target of list) counts.set(target, (counts.get(target) ?? 0) + 1);
  return counts;
}

// ---------------------------------------------------------------------------------------------------------------
// Key files

function chooseKeyFiles(
  files: ListedFile[],
  fileSet: ReadonlySet<string>,
  entryPoints: string[],
  imports: Map<string, number>,
): { path: string; bytes: number; reason: KeyFileReason; imported_by: number | null }[] {
  const size = new Map(files.map((f) => [f.path, f.bytes]));
  const chosen = new Map<string, { path: string; bytes: number; reason: KeyFileReason; imported_by: number | null }>();
  const add = (reason: KeyFileReason, list: string[]): void => {
    let n = 0;
    for (const p of list) {
      if (n >= KEY_QUOTA[reason] || chosen.size >= KEY_FILES_MAX) break;
      if (chosen.has(p) || !fileSet.has(p)) continue;
      chosen.set(p, { path: p, bytes: size.get(p) ?? 0, reason, imported_by: imports.has(p) ? imports.get(p)! : null });
      n++;
    }
  };
  add('entry', entryPoints);
  add(
    'central',
    [...imports.entries()]
      .filter(([, n]) => n >= 2)
      .sort((a, b) => b[1] - a[1] || cmp(a[0], b[0]))
      .map(([p]) => p),
  );
  add('config', CONFIG_FILES);
  add(
    'largest',
    files
      .filter((f) => languageOf(f.path) !== null && !LOCKFILES.has(basename(f.path)) && !/\.min\.[^/]+$|\.map$/.test(f.path))
      .sort((a, b) => b.bytes - a.bytes || cmp(a.path, b.path))
      .map((f) => f.path),
  );
  return [...chosen.values()];
}

/** Calibrated token counts of the key files: whole files up to 256 KB, larger ones (or past a 2 MB run total) scaled from their head. */
async function countKeyFiles(
  root: string,
  keys: ReturnType<typeof chooseKeyFiles>,
  counter: Counter,
  calibrate: (raw: number) => number,
): Promise<PrimeResult['key_files']> {
  let budget = TOKENIZE_TOTAL_BYTES;
  const heads = await Promise.all(keys.map((k) => readHead(path.join(root, k.path), Math.min(k.bytes, TOKENIZE_FILE_BYTES))));
  return keys.map((k, i) => {
    let buf = heads[i] ?? null;
    const entry = (tokens: number, exact: boolean) => ({ path: k.path, bytes: k.bytes, tokens, tokens_exact: exact, reason: k.reason, imported_by: k.imported_by });
    if (!buf || buf.subarray(0, 8192).includes(0)) return entry(0, buf !== null && buf.length >= k.bytes);
    if (buf.length > budget) buf = buf.subarray(0, Math.min(buf.length, TOKENIZE_SAMPLE_BYTES));
    budget = Math.max(0, budget - buf.length);
    const raw = counter.count(buf.toString('utf8'));
    const exact = buf.length >= k.bytes;
    return entry(calibrate(exact || buf.length === 0 ? raw : Math.ceil((raw * k.bytes) / buf.length)), exact);
  });
}

// ---------------------------------------------------------------------------------------------------------------
// The brief

interface Limits {
  session: boolean;
  commands: boolean;
  git: boolean;
  layout: boolean;
  keyFiles: boolean;
  conventions: boolean;
  keyFilesN: number;
  commitsN: number;
  dirtyN: number;
  dirsN: number;
  languagesN: number;
  testDirsN: number;
  entriesN: number;
  decisionsN: number;
  questionsN: number;
}

const FULL: Limits = {
  session: true, commands: true, git: true, layout: true, keyFiles: true, conventions: true,
  keyFilesN: KEY_FILES_MAX, commitsN: RECENT_COMMITS, dirtyN: 20, dirsN: 10, languagesN: 10, testDirsN: 10, entriesN: 6,
  decisionsN: Infinity, questionsN: Infinity,
};

/** Trim steps, applied in order until the brief fits: lists shrink before sections drop, low-rank sections first. */
const STEPS: ((l: Limits) => void)[] = [
  (l) => Object.assign(l, { keyFilesN: 12, commitsN: 5, dirtyN: 10, dirsN: 6, languagesN: 6, testDirsN: 5, entriesN: 4 }),
  (l) => (l.conventions = false),
  (l) => Object.assign(l, { keyFilesN: 6, commitsN: 3, dirtyN: 5, dirsN: 4, languagesN: 4, testDirsN: 3, entriesN: 2 }),
  (l) => (l.keyFiles = false),
  (l) => Object.assign(l, { decisionsN: 10, questionsN: 10 }),
  (l) => (l.layout = false),
  (l) => Object.assign(l, { commitsN: 1, dirtyN: 0 }),
  (l) => (l.git = false),
  (l) => (l.commands = false),
  (l) => Object.assign(l, { decisionsN: 3, questionsN: 3 }),
  (l) => (l.session = false),
];

const kb = (bytes: number): string =>
  bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : bytes >= 1024 ? `${Math.round(bytes / 1024)} KB` : `${bytes} B`;
const tok = (n: number): string => (n >= 1000 ? `${(n / 1000).toFixed(1)}K` : String(n));
const code = (s: string): string => `\`${s.replace(/`/g, "'")}\``;
const more = (shown: number, total: number): string => (total > shown ? ` (+${total - shown} more)` : '');

type Analysis = Omit<PrimeResult, 'brief' | 'files_written' | 'elapsed_ms'>;

/** What the limits leave out compared with the full brief, for the last line and `brief.omitted`. */
function omissions(a: Analysis, l: Limits): string[] {
  const out: string[] = [];
  const list = (on: boolean, n: number, full: number, total: number, what: string): void => {
    const fullShown = Math.min(full, total);
    if (on && n < fullShown) out.push(`${what} (${n} of ${fullShown} shown)`);
  };
  const hasConventions = Object.values(a.toolchain.conventions).some((v) => v.length > 0);
  if (a.session) {
    if (!l.session) out.push('session section');
    list(l.session, l.decisionsN, FULL.decisionsN, a.session.decisions.length, 'decisions');
    list(l.session, l.questionsN, FULL.questionsN, a.session.open_questions.length, 'open questions');
  }
  if (!l.commands) out.push('commands section');
  if (!l.git) out.push('git section');
  list(l.git, l.dirtyN, FULL.dirtyN, a.git.dirty_total, 'uncommitted paths');
  list(l.git, l.commitsN, FULL.commitsN, a.git.recent_commits.length, 'recent commits');
  if (!l.layout) out.push('layout section');
  list(l.layout, l.languagesN, FULL.languagesN, a.layout.languages.length, 'languages');
  list(l.layout, l.dirsN, FULL.dirsN, a.layout.top_dirs.length, 'folders');
  list(l.layout, l.entriesN, FULL.entriesN, a.layout.entry_points.length, 'entry points');
  list(l.layout, l.testDirsN, FULL.testDirsN, a.layout.test_dirs.length, 'test folders');
  if (a.key_files.length) {
    if (!l.keyFiles) out.push('key files section');
    list(l.keyFiles, l.keyFilesN, FULL.keyFilesN, a.key_files.length, 'key files');
  }
  if (hasConventions && !l.conventions) out.push('conventions section');
  return out;
}

function renderSections(a: Analysis, l: Limits): string[] {
  const s: string[] = [];
  const g = a.git;
  const where = [g.branch ? `branch ${code(g.branch)}` : 'no branch (detached or unborn)', g.head ? `at ${code(g.head.slice(0, 7))}` : 'no commits'].join(' ');
  s.push(`# Prime brief: ${path.basename(a.root)}\n\n_Generated ${a.generated_at} by \`piv prime\` (deterministic analysis); ${where}._`);

  if (a.session && l.session) {
    const x = a.session;
    const lines = [`## Feature session: ${code(x.feature)}${x.title ? ` — ${x.title}` : ''}`, ''];
    const next = x.next_task ? `next ${code(x.next_task.id)} ${x.next_task.name}` : 'no task ready';
    lines.push(`- Phase ${code(x.phase)}; ${x.progress.done}/${x.progress.total} tasks done; ${next}`);
    if (x.in_progress.length) lines.push(`- In progress: ${x.in_progress.map(code).join(', ')}`);
    if (x.decisions.length) {
      const shown = x.decisions.slice(0, l.decisionsN);
      lines.push(`- Decisions${more(shown.length, x.decisions.length)}:`, ...shown.map((d) => `  - ${d.question} → ${d.answer}`));
    }
    if (x.open_questions.length) {
      const shown = x.open_questions.slice(0, l.questionsN);
      lines.push(`- Open questions${more(shown.length, x.open_questions.length)}:`, ...shown.map((q) => `  - ${q}`));
    }
    lines.push(`- Continue: \`piv ${x.phase === 'discuss' ? 'plan <file>' : x.phase === 'validate' || (x.progress.done === x.progress.total && x.progress.total > 0) ? 'validate' : 'execute'}\`; \`piv status\` shows every task.`);
    s.push(lines.join('\n'));
  }

  if (l.commands) {
    const t = a.toolchain;
    const cmds = (Object.keys(t.commands) as (keyof typeof t.commands)[]).filter((k) => t.commands[k] !== null);
    const lines = ['## Commands', ''];
    if (cmds.length) lines.push(...cmds.map((k) => `- ${k}: ${code(t.commands[k]!)}`));
    else lines.push('- none detected (no package.json scripts, Makefile targets or ecosystem defaults)');
    if (t.ecosystems.length) lines.push(`- Ecosystems: ${t.ecosystems.join(', ')}; package managers: ${t.package_managers.join(', ') || 'none'}`);
    s.push(lines.join('\n'));
  }

  if (l.git) {
    const lines = ['## Git', '', `- ${where[0]!.toUpperCase()}${where.slice(1)}${g.upstream ? `; upstream ${code(g.upstream.name)}: ${g.upstream.ahead} ahead, ${g.upstream.behind} behind` : '; no upstream'}`];
    if (g.dirty_total === 0) lines.push('- Working tree clean');
    else {
      const shown = g.dirty.slice(0, l.dirtyN);
      lines.push(`- Uncommitted changes: ${g.dirty_total} path${g.dirty_total === 1 ? '' : 's'}${shown.length ? ` — ${shown.map(code).join(', ')}${more(shown.length, g.dirty_total)}` : ''}`);
    }
    const commits = g.recent_commits.slice(0, l.commitsN);
    if (commits.length) lines.push(`- Recent commits:`, ...commits.map((c) => `  - ${code(c.hash)} ${c.subject}`));
    s.push(lines.join('\n'));
  }

  if (l.layout) {
    const y = a.layout;
    const lines = ['## Layout', '', `- ${y.files} files, ${kb(y.bytes)} (as git sees them: .gitignore honoured)`];
    const langs = y.languages.slice(0, l.languagesN);
    if (langs.length) lines.push(`- Languages: ${langs.map((x) => `${x.language} ${x.files} files / ${kb(x.bytes)}`).join(', ')}${more(langs.length, y.languages.length)}`);
    const dirs = y.top_dirs.slice(0, l.dirsN);
    if (dirs.length) lines.push(`- Main folders: ${dirs.map((d) => `${code(`${d.path}/`)} ${d.files}`).join(', ')}${more(dirs.length, y.top_dirs.length)}`);
    const entries = y.entry_points.slice(0, l.entriesN);
    if (entries.length) lines.push(`- Entry points: ${entries.map(code).join(', ')}${more(entries.length, y.entry_points.length)}`);
    const tests = y.test_dirs.slice(0, l.testDirsN);
    if (tests.length) lines.push(`- Tests (${y.test_files} files): ${tests.map(code).join(', ')}${more(tests.length, y.test_dirs.length)}`);
    s.push(lines.join('\n'));
  }

  if (l.keyFiles && a.key_files.length) {
    const shown = a.key_files.slice(0, l.keyFilesN);
    const why = (k: PrimeResult['key_files'][number]): string =>
      k.reason === 'central' ? `central, imported by ${k.imported_by}` : k.reason === 'entry' ? 'entry point' : k.reason === 'config' ? 'project config' : 'largest';
    s.push(['## Key files', '', ...shown.map((k) => `- ${code(k.path)} — ${why(k)}; ${tok(k.tokens)}${k.tokens_exact ? '' : '~'} tokens`)].join('\n'));
  }

  const c = a.toolchain.conventions;
  if (l.conventions && Object.values(c).some((v) => v.length > 0)) {
    const parts = [
      ['Formatter', c.formatter],
      ['Linter', c.linter],
      ['Tests', c.test_framework],
      ['Type checker', c.typechecker],
    ]
      .filter(([, v]) => (v as string[]).length > 0)
      .map(([k, v]) => `- ${k as string}: ${(v as string[]).join(', ')}`);
    s.push(['## Conventions', '', ...parts].join('\n'));
  }
  return s;
}

function closingLine(omitted: string[], budget: number, written: boolean): string {
  const more = written ? `everything is in .agents/context/prime.json` : 'run `piv prime --json` for everything';
  return omitted.length === 0 ? `_Nothing left out to fit the ${budget}-token budget._` : `_Left out to fit the ${budget}-token budget: ${omitted.join('; ')}; ${more}._`;
}

/**
 * Renders the brief within `budget` calibrated tokens: applies `STEPS` until it fits, then, if it still does not,
 * drops trailing lines and finally cuts the text. Always ends with the line saying what was left out.
 */
function buildBrief(a: Analysis, budget: number, written: boolean, measure: (text: string) => number): { markdown: string; tokens: number; omitted: string[] } {
  const l: Limits = { ...FULL };
  const compose = (extra: string[] = []): { markdown: string; omitted: string[] } => {
    const omitted = [...omissions(a, l), ...extra];
    return { markdown: `${[...renderSections(a, l), closingLine(omitted, budget, written)].join('\n\n')}\n`, omitted };
  };
  let out = compose();
  let tokens = measure(out.markdown);
  for (const step of STEPS) {
    if (tokens <= budget) break;
    step(l);
    out = compose();
    tokens = measure(out.markdown);
  }
  if (tokens <= budget) return { ...out, tokens };

  // Still too long (a tiny budget): keep the longest prefix of the header lines that fits with the closing line.
  const omitted = [...omissions(a, l), 'rest of the header'];
  const closing = closingLine(omitted, budget, written);
  const headerLines = renderSections(a, l).join('\n\n').split('\n');
  for (let n = headerLines.length - 1; n >= 0; n--) {
    const markdown = `${[...headerLines.slice(0, n), '', closing].join('\n').replace(/^\n+/, '')}\n`;
    const t = measure(markdown);
    if (t <= budget) return { markdown, tokens: t, omitted };
  }
  // Not even the closing line fits: the longest prefix of it that does.
  let lo = 0;
  let hi = closing.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (measure(closing.slice(0, mid)) <= budget) lo = mid;
    else hi = mid - 1;
  }
  const markdown = closing.slice(0, lo);
  return { markdown, tokens: measure(markdown), omitted };
}

// ---------------------------------------------------------------------------------------------------------------

async function loadConfig(root: string, warnings: string[]): Promise<Config> {
  const defaults = (): Config => ConfigSchema.parse({ version: FORMAT_VERSION });
  try {
    return await readConfig(root);
  } catch (error) {
    if (error instanceof PivError && error.code === 'not_initialized') return defaults();
    if (error instanceof PivError) {
      warnings.push(`${error.message} (defaults used)`);
      return defaults();
    }
    throw error;
  }
}

async function loadSession(root: string, warnings: string[]): Promise<PrimeResult['session']> {
  let session;
  try {
    session = await readSession(root);
  } catch (error) {
    if (!(error instanceof PivError)) throw error;
    warnings.push(`session left out: ${error.message}`);
    return null;
  }
  if (!session || session.status === 'completed') return null;
  const { tasks, errors } = await readTasksCollecting(root);
  for (const e of errors) warnings.push(`task left out: ${e.message}`);
  const next = nextTask(tasks);
  return {
    feature: session.feature,
    title: session.title,
    phase: session.phase,
    decisions: answeredDecisions(session).map(({ question, answer }) => ({ question, answer })),
    open_questions: openQuestions(session),
    progress: { done: tasks.filter((t) => t.status === 'completed').length, total: tasks.length },
    next_task: next ? { id: next.id, name: next.name } : null,
    in_progress: tasks.filter((t) => t.status === 'in_progress').map((t) => t.id),
  };
}

/**
 * Analyses the repository containing `opts.cwd` and writes the brief for a fresh agent context.
 *
 * Takes `budget` (tokens, calibrated with config `tokens.calibration`; default config `tokens.prime_budget`) and `write`
 * (default true). Reads git (branch, HEAD, dirty paths, last 10 commits, upstream ahead/behind), lists the files git would
 * see (`listFiles`: .gitignore honoured, one stat per file), detects the toolchain (`detectToolchain`), reads the head of
 * up to 400 source files for imports, and tokenizes only the ≤ 20 key files (tiktoken, loaded lazily). Works without
 * `piv init` (config defaults apply). Unless `write` is false, writes `.agents/context/prime.md` (the brief: at most
 * `budget` tokens, ending with a line naming what was left out) and `.agents/context/prime.json` (the result) atomically.
 * Returns the `PrimeResult`. Throws `not_a_git_repo` (exit 2) outside a repository and `usage` (exit 2) for a budget that
 * is not a positive integer; unreadable files and invalid state files become `warnings`, not errors.
 */
export async function prime(opts: PrimeOptions = {}): Promise<PrimeResult> {
  const started = performance.now();
  const { root, now } = resolve(opts);
  if (opts.budget !== undefined && (!Number.isInteger(opts.budget) || opts.budget <= 0)) {
    throw new PivError('usage', `the prime budget must be a positive whole number of tokens, got ${String(opts.budget)}`, { hint: 'Example: --budget 4000' });
  }
  const write = opts.write ?? true;
  const warnings: string[] = [];

  // Independent work, started together: the file walk, git, the toolchain, the state files.
  const listing = listFiles(root, [], { purpose: 'prime' });
  const gitFacts = Promise.all([currentBranch(root), head(root), changedPaths(root).catch(() => [] as string[]), recentCommits(root, RECENT_COMMITS).catch(() => []), upstreamStatus(root)]);
  const toolchainP = detectToolchain(root);
  const configP = loadConfig(root, warnings);
  const sessionP = loadSession(root, warnings);
  // Loading tiktoken is CPU work: do it while the walk's file-system calls are in flight.
  const tokensModule = await import('../tokens/count.js');
  const config = await configP;
  const configured = existsSync(layout(root).config);
  const counter = tokensModule.createCounter(config.tokens.encoding as EncodingName);
  try {
    const calibrate = (raw: number): number => tokensModule.calibrate(raw, config.tokens.calibration);
    const budget = opts.budget ?? config.tokens.prime_budget;

    const listed = await listing;
    const files = listed.files.filter((f) => !f.path.startsWith(`${AGENTS_DIR}/`));
    const unreadable = listed.skipped.filter((s) => s.reason.startsWith('unreadable'));
    if (unreadable.length) warnings.push(`${unreadable.length} unreadable path(s) left out, e.g. ${unreadable[0]!.path} (${unreadable[0]!.reason})`);
    const fileSet = new Set(files.map((f) => f.path));
    const toolchain = await toolchainP;
    const layoutFacts = analyseLayout(files, toolchain.entry_points, fileSet);
    const imports = await importCounts(root, files, fileSet);
    const keys = chooseKeyFiles(files, fileSet, layoutFacts.entry_points, imports);
    const keyFiles = await countKeyFiles(root, keys, counter, calibrate);

    const [branch, headHash, changed, commits, upstream] = await gitFacts;
    const own = new Set([PRIME_MD, PRIME_JSON].map((p) => `${AGENTS_DIR}/${p}`));
    const dirty = changed.filter((p) => !own.has(p));
    const analysis: Analysis = {
      generated_at: now,
      root,
      git: { branch, head: headHash, dirty: dirty.slice(0, DIRTY_CAP), dirty_total: dirty.length, recent_commits: commits, upstream },
      layout: layoutFacts,
      toolchain: {
        ecosystems: toolchain.ecosystems,
        package_managers: toolchain.package_managers,
        // The commands piv will run are the configured ones (validate, resume); detection only fills a missing config.
        commands: configured ? { ...toolchain.commands, ...config.commands } : toolchain.commands,
        sources: configured ? { ...toolchain.sources, ...Object.fromEntries(Object.keys(config.commands).map((k) => [k, `${AGENTS_DIR}/config.yaml`])) } : toolchain.sources,
        conventions: toolchain.conventions,
      },
      key_files: keyFiles,
      session: await sessionP,
      warnings,
    };
    const brief = buildBrief(analysis, budget, write, (text) => calibrate(counter.count(text)));
    const result: PrimeResult = {
      ...analysis,
      brief: { tokens: brief.tokens, budget, omitted: brief.omitted },
      files_written: write ? [PRIME_MD, PRIME_JSON].map((p) => `${AGENTS_DIR}/${p}`) : [],
      warnings,
      elapsed_ms: Math.round(performance.now() - started),
    };
    if (write) {
      await writeAgentsFile(root, PRIME_MD, brief.markdown);
      await writeAgentsFile(root, PRIME_JSON, `${JSON.stringify(result, null, 2)}\n`);
    }
    return result;
  } finally {
    counter.free();
  }
}
