// Toolchain detection: reads a few top-level files, never runs anything, never throws on a malformed project file.
import { promises as fsp, type Dirent } from 'node:fs';
import path from 'node:path';
import { parse as parseToml } from 'smol-toml';

export type Ecosystem = 'node' | 'python' | 'go' | 'rust' | 'make';

export interface Toolchain {
  /** In detection order (node, python, go, rust, make), no duplicates. */
  ecosystems: Ecosystem[];
  /** e.g. 'npm','pnpm','yarn','bun','pip','poetry','uv','pipenv','pdm','hatch','go','cargo','make'. */
  package_managers: string[];
  commands: {
    test: string | null;
    lint: string | null;
    typecheck: string | null;
    build: string | null;
    coverage: string | null;
    format: string | null;
  };
  /** Which file each command came from, e.g. { test: 'package.json#scripts.test' }. */
  sources: Partial<Record<keyof Toolchain['commands'], string>>;
  conventions: { formatter: string[]; linter: string[]; test_framework: string[]; typechecker: string[] };
  /** Repository-relative POSIX paths of entry files that exist. */
  entry_points: string[];
}

type CommandName = keyof Toolchain['commands'];
type ConventionKind = keyof Toolchain['conventions'];

const COMMAND_NAMES: readonly CommandName[] = ['test', 'lint', 'typecheck', 'build', 'coverage', 'format'];
const ECOSYSTEM_ORDER: readonly Ecosystem[] = ['node', 'python', 'go', 'rust', 'make'];

interface Cmd {
  command: string;
  source: string;
}
type Candidates = Partial<Record<CommandName, Cmd>>;

/** What one ecosystem contributes; merged by detectToolchain. */
interface EcoResult {
  ecosystem: Ecosystem;
  packageManager: string | null;
  /** Commands the project declares itself (package.json scripts, Makefile targets). */
  explicit: Candidates;
  /** Commands inferred from the ecosystem's conventions (e.g. `go test ./...`). */
  inferred: Candidates;
  conventions: Partial<Record<ConventionKind, string[]>>;
  entryPoints: string[];
}

/**
 * Detects a project's ecosystems, package managers, commands, conventions and entry points.
 *
 * Reads only `root`'s listing (one `readdir`) and a handful of top-level files, each at most once:
 * `package.json`, `pyproject.toml`, `setup.cfg`, `tox.ini`, `Pipfile`, `requirements*.txt`, `Cargo.toml`
 * and the Makefile; it also stats the few entry files it reports (and lists `cmd/` for Go). It never runs
 * a process and never throws: a missing or unreadable `root` yields an empty toolchain (all commands null,
 * `ecosystems: []`), and a malformed project file (bad JSON/TOML) is skipped — its ecosystem is still
 * recorded (from the file's presence) but nothing is taken from its content.
 *
 * Ecosystems: node (`package.json`), python (`pyproject.toml`, `setup.py`, `setup.cfg`, `requirements*.txt`,
 * `Pipfile`), go (`go.mod`), rust (`Cargo.toml`), make (`GNUmakefile`/`makefile`/`Makefile`, GNU make's order).
 *
 * Command precedence, first hit wins per command:
 *   1. Makefile targets (explicit: test/check, lint, typecheck/type-check, build, coverage/cover, fmt/format);
 *   2. package.json scripts (explicit);
 *   3. ecosystem defaults, in ecosystem order: node (`npx tsc --noEmit` when tsconfig.json + typescript),
 *      python (pytest/unittest, ruff/flake8, mypy/pyright, ruff format/black, pytest --cov),
 *      go (`go test ./...`, …), rust (`cargo test`, …).
 * `sources` names the file (and key/target) each chosen command came from.
 *
 * Node package manager: lockfile (pnpm-lock.yaml, yarn.lock, bun.lockb/bun.lock, package-lock.json),
 * else the `packageManager` field, else npm. Python: uv.lock → uv, pdm.lock → pdm, poetry.lock or
 * [tool.poetry] → poetry, Pipfile → pipenv, [tool.uv] → uv, [tool.pdm] → pdm, [tool.hatch] → hatch, else pip;
 * python commands are prefixed with `<manager> run ` for every manager but pip.
 */
export async function detectToolchain(root: string): Promise<Toolchain> {
  const repo = await Repo.open(root);
  const result = emptyToolchain();
  if (repo === null) return result;

  const detected = (
    await Promise.all([detectNode(repo), detectPython(repo), detectGo(repo), detectRust(repo), detectMake(repo)])
  ).filter((r): r is EcoResult => r !== null);
  detected.sort((a, b) => ECOSYSTEM_ORDER.indexOf(a.ecosystem) - ECOSYSTEM_ORDER.indexOf(b.ecosystem));

  result.ecosystems = detected.map((r) => r.ecosystem);
  result.package_managers = unique(detected.map((r) => r.packageManager).filter((pm): pm is string => pm !== null));

  // Explicit commands: make first, then the others (node scripts) in ecosystem order; then inferred defaults.
  const explicitOrder = [...detected.filter((r) => r.ecosystem === 'make'), ...detected.filter((r) => r.ecosystem !== 'make')];
  const layers: Candidates[] = [...explicitOrder.map((r) => r.explicit), ...detected.map((r) => r.inferred)];
  for (const name of COMMAND_NAMES) {
    for (const layer of layers) {
      const hit = layer[name];
      if (hit) {
        result.commands[name] = hit.command;
        result.sources[name] = hit.source;
        break;
      }
    }
  }

  for (const kind of ['formatter', 'linter', 'test_framework', 'typechecker'] as const) {
    result.conventions[kind] = unique(detected.flatMap((r) => r.conventions[kind] ?? []));
  }
  result.entry_points = unique(detected.flatMap((r) => r.entryPoints));
  return result;
}

function emptyToolchain(): Toolchain {
  return {
    ecosystems: [],
    package_managers: [],
    commands: { test: null, lint: null, typecheck: null, build: null, coverage: null, format: null },
    sources: {},
    conventions: { formatter: [], linter: [], test_framework: [], typechecker: [] },
    entry_points: [],
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Repository access: one readdir of the root, each top-level file read at most once, failures become null.

class Repo {
  private readonly cache = new Map<string, Promise<string | null>>();

  private constructor(
    readonly root: string,
    /** Every entry name at the root. */
    readonly names: ReadonlySet<string>,
    /** Root entries that are directories (or symlinks, which may point at one). */
    readonly dirs: ReadonlySet<string>,
  ) {}

  static async open(root: string): Promise<Repo | null> {
    let entries: Dirent[];
    try {
      entries = await fsp.readdir(root, { withFileTypes: true });
    } catch {
      return null;
    }
    const names = new Set(entries.map((e) => e.name));
    const dirs = new Set(entries.filter((e) => e.isDirectory() || e.isSymbolicLink()).map((e) => e.name));
    return new Repo(root, names, dirs);
  }

  has(name: string): boolean {
    return this.names.has(name);
  }

  /** Root names matching `re`, sorted (readdir order is filesystem-dependent). */
  matching(re: RegExp): string[] {
    return [...this.names].filter((n) => re.test(n)).sort();
  }

  /** Text of a top-level file, or null when absent/unreadable. Cached: each file is read at most once. */
  read(name: string): Promise<string | null> {
    if (!this.names.has(name)) return Promise.resolve(null);
    let pending = this.cache.get(name);
    if (pending === undefined) {
      pending = fsp.readFile(path.join(this.root, name), 'utf8').then(
        (text) => text.replace(/^\uFEFF/, ''),
        () => null,
      );
      this.cache.set(name, pending);
    }
    return pending;
  }

  /** True when the repository-relative (already sanitized) path is a regular file. */
  async isFile(rel: string): Promise<boolean> {
    try {
      return (await fsp.stat(path.join(this.root, rel))).isFile();
    } catch {
      return false;
    }
  }

  async listDir(rel: string): Promise<Dirent[]> {
    try {
      return await fsp.readdir(path.join(this.root, rel), { withFileTypes: true });
    } catch {
      return [];
    }
  }

  /** The subset of `rels` (sanitized, deduplicated) that are files, in the given order. */
  async existing(rels: Iterable<string | null>): Promise<string[]> {
    const candidates = unique([...rels].filter((r): r is string => r !== null));
    const present = await Promise.all(candidates.map((r) => this.isFile(r)));
    return candidates.filter((_, i) => present[i]);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// node

const NODE_LOCKFILES: ReadonlyArray<readonly [string, string]> = [
  ['pnpm-lock.yaml', 'pnpm'],
  ['yarn.lock', 'yarn'],
  ['bun.lockb', 'bun'],
  ['bun.lock', 'bun'],
  ['package-lock.json', 'npm'],
  ['npm-shrinkwrap.json', 'npm'],
];
const NODE_MANAGERS = new Set(['npm', 'pnpm', 'yarn', 'bun']);
/** npm init's default test script. */
const NPM_PLACEHOLDER_TEST = /no test specified/i;
/** Max entry-point candidates taken from a package.json `exports` map. */
const MAX_EXPORT_ENTRIES = 32;

async function detectNode(repo: Repo): Promise<EcoResult | null> {
  if (!repo.has('package.json')) return null;
  const pkg = parseJsonObject(await repo.read('package.json'));

  const lock = NODE_LOCKFILES.find(([file]) => repo.has(file));
  const field = pkg && typeof pkg.packageManager === 'string' ? pkg.packageManager.split('@')[0]!.trim() : '';
  const pm = lock ? lock[1] : NODE_MANAGERS.has(field) ? field : 'npm';

  const scripts = pkg && isRecord(pkg.scripts) ? pkg.scripts : {};
  const hasScript = (name: string): boolean => {
    const body = scripts[name];
    return typeof body === 'string' && body.trim() !== '' && !(name === 'test' && NPM_PLACEHOLDER_TEST.test(body));
  };
  const explicit: Candidates = {};
  const fromScripts = (cmd: CommandName, names: string[]): void => {
    const name = names.find(hasScript);
    if (name === undefined) return;
    const command = name === 'test' ? (pm === 'bun' ? 'bun run test' : `${pm} test`) : `${pm} run ${name}`;
    explicit[cmd] = { command, source: `package.json#scripts.${name}` };
  };
  fromScripts('test', ['test']);
  fromScripts('lint', ['lint']);
  fromScripts('typecheck', ['typecheck', 'type-check', 'tsc']);
  fromScripts('build', ['build']);
  fromScripts('coverage', ['coverage', 'test:coverage', 'test:cov']);
  fromScripts('format', ['format', 'fmt']);

  const deps = new Set<string>();
  for (const key of ['dependencies', 'devDependencies'] as const) {
    const table = pkg?.[key];
    if (isRecord(table)) for (const name of Object.keys(table)) deps.add(name);
  }

  const inferred: Candidates = {};
  if (repo.has('tsconfig.json') && deps.has('typescript')) {
    inferred.typecheck = { command: 'npx tsc --noEmit', source: 'tsconfig.json' };
  }

  const hasConfig = (...prefixes: string[]): boolean => [...repo.names].some((n) => prefixes.some((p) => n.startsWith(p)));
  const biome = deps.has('@biomejs/biome') || repo.has('biome.json') || repo.has('biome.jsonc');
  const prettier = deps.has('prettier') || hasConfig('.prettierrc', 'prettier.config.') || (pkg !== null && 'prettier' in pkg);
  const eslint = deps.has('eslint') || hasConfig('.eslintrc', 'eslint.config.') || (pkg !== null && 'eslintConfig' in pkg);
  const testScript = typeof scripts.test === 'string' ? scripts.test : '';
  const conventions = {
    formatter: pick([prettier, 'prettier'], [biome, 'biome']),
    linter: pick([eslint, 'eslint'], [biome, 'biome']),
    test_framework: pick(
      [deps.has('vitest') || hasConfig('vitest.config.'), 'vitest'],
      [deps.has('jest') || hasConfig('jest.config.') || (pkg !== null && 'jest' in pkg), 'jest'],
      [deps.has('mocha') || hasConfig('.mocharc'), 'mocha'],
      [deps.has('ava') || hasConfig('ava.config.'), 'ava'],
      [/\bnode\b[^&|;]*\s--test\b/.test(testScript), 'node:test'],
    ),
    typechecker: pick([deps.has('typescript') || repo.has('tsconfig.json'), 'typescript']),
  };

  const entryPoints = pkg ? await repo.existing(nodeEntryCandidates(pkg)) : [];
  return { ecosystem: 'node', packageManager: pm, explicit, inferred, conventions, entryPoints };
}

/** bin (string or map), main, then the string leaves of `exports` (no `*` patterns), sanitized. */
function nodeEntryCandidates(pkg: Record<string, unknown>): Array<string | null> {
  const out: Array<string | null> = [];
  const bin = pkg.bin;
  if (typeof bin === 'string') out.push(safeRel(bin));
  else if (isRecord(bin)) for (const v of Object.values(bin)) if (typeof v === 'string') out.push(safeRel(v));
  if (typeof pkg.main === 'string') out.push(safeRel(pkg.main));
  const leaves: string[] = [];
  const walk = (node: unknown, depth: number): void => {
    if (leaves.length >= MAX_EXPORT_ENTRIES || depth > 8) return;
    if (typeof node === 'string') {
      if (!node.includes('*')) leaves.push(node);
    } else if (Array.isArray(node)) {
      for (const v of node) walk(v, depth + 1);
    } else if (isRecord(node)) {
      for (const v of Object.values(node)) walk(v, depth + 1);
    }
  };
  walk(pkg.exports, 0);
  for (const leaf of leaves) out.push(safeRel(leaf));
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// python

const PY_RUN_PREFIX: Readonly<Record<string, string>> = {
  pip: '',
  uv: 'uv run ',
  poetry: 'poetry run ',
  pipenv: 'pipenv run ',
  pdm: 'pdm run ',
  hatch: 'hatch run ',
};

async function detectPython(repo: Repo): Promise<EcoResult | null> {
  const requirements = repo.matching(/^requirements.*\.txt$/i);
  const markers = ['pyproject.toml', 'setup.py', 'setup.cfg', 'Pipfile'].filter((n) => repo.has(n));
  if (markers.length === 0 && requirements.length === 0) return null;
  const marker = markers[0] ?? requirements[0]!;

  const [pyText, cfgText, toxText, pipfileText, ...reqTexts] = await Promise.all([
    repo.read('pyproject.toml'),
    repo.read('setup.cfg'),
    repo.read('tox.ini'),
    repo.read('Pipfile'),
    ...requirements.map((n) => repo.read(n)),
  ]);
  const py = parseTomlObject(pyText);
  const pipfile = parseTomlObject(pipfileText);
  const cfg = parseIni(cfgText ?? null);
  const tox = parseIni(toxText ?? null);
  const tool = rec(py?.tool);
  const hasTool = (name: string): boolean => tool[name] !== undefined;

  // Dependencies: normalized name → where it was declared (first declaration wins).
  const deps = new Map<string, string>();
  const addReq = (spec: unknown, source: string): void => {
    if (typeof spec !== 'string') return;
    const name = requirementName(spec);
    if (name !== null && !deps.has(name)) deps.set(name, source);
  };
  const addKeys = (table: unknown, source: string): void => {
    for (const key of Object.keys(rec(table))) addReq(key, source);
  };
  const project = rec(py?.project);
  for (const spec of arr(project.dependencies)) addReq(spec, 'pyproject.toml#project.dependencies');
  for (const group of Object.values(rec(project['optional-dependencies']))) {
    for (const spec of arr(group)) addReq(spec, 'pyproject.toml#project.optional-dependencies');
  }
  for (const group of Object.values(rec(py?.['dependency-groups']))) {
    for (const spec of arr(group)) addReq(spec, 'pyproject.toml#dependency-groups');
  }
  const poetry = rec(tool.poetry);
  addKeys(poetry.dependencies, 'pyproject.toml#tool.poetry.dependencies');
  addKeys(poetry['dev-dependencies'], 'pyproject.toml#tool.poetry.dev-dependencies');
  for (const [groupName, group] of Object.entries(rec(poetry.group))) {
    addKeys(rec(group).dependencies, `pyproject.toml#tool.poetry.group.${groupName}.dependencies`);
  }
  for (const spec of arr(rec(tool.uv)['dev-dependencies'])) addReq(spec, 'pyproject.toml#tool.uv.dev-dependencies');
  for (const group of Object.values(rec(rec(tool.pdm)['dev-dependencies']))) {
    for (const spec of arr(group)) addReq(spec, 'pyproject.toml#tool.pdm.dev-dependencies');
  }
  addKeys(pipfile?.packages, 'Pipfile#packages');
  addKeys(pipfile?.['dev-packages'], 'Pipfile#dev-packages');
  const options = cfg.get('options');
  for (const key of ['install_requires', 'tests_require']) {
    for (const line of (options?.get(key) ?? '').split('\n')) addReq(line, `setup.cfg#options.${key}`);
  }
  for (const value of cfg.get('options.extras_require')?.values() ?? []) {
    for (const line of value.split('\n')) addReq(line, 'setup.cfg#options.extras_require');
  }
  requirements.forEach((name, i) => {
    for (const line of (reqTexts[i] ?? '').split(/\r?\n/)) addReq(line, name);
  });
  const dep = (...names: string[]): string | null => {
    for (const n of names) {
      const source = deps.get(n);
      if (source !== undefined) return source;
    }
    return null;
  };

  // Package manager.
  let pm = 'pip';
  if (repo.has('uv.lock')) pm = 'uv';
  else if (repo.has('pdm.lock')) pm = 'pdm';
  else if (repo.has('poetry.lock') || hasTool('poetry')) pm = 'poetry';
  else if (repo.has('Pipfile')) pm = 'pipenv';
  else if (hasTool('uv')) pm = 'uv';
  else if (hasTool('pdm')) pm = 'pdm';
  else if (hasTool('hatch')) pm = 'hatch';
  const run = PY_RUN_PREFIX[pm] ?? '';

  const cfgHasPrefix = (ini: Map<string, Map<string, string>>, prefix: string): boolean =>
    [...ini.keys()].some((s) => s.startsWith(prefix));
  const pytest = first(
    [hasTool('pytest'), rec(tool.pytest)['ini_options'] !== undefined ? 'pyproject.toml#tool.pytest.ini_options' : 'pyproject.toml#tool.pytest'],
    [repo.has('pytest.ini'), 'pytest.ini'],
    [cfg.has('tool:pytest'), 'setup.cfg#tool:pytest'],
    [tox.has('pytest'), 'tox.ini#pytest'],
    [repo.has('conftest.py'), 'conftest.py'],
    [repo.dirs.has('tests'), 'tests/'],
    [true, dep('pytest', 'pytest-cov')],
  );
  const ruff = first(
    [hasTool('ruff'), 'pyproject.toml#tool.ruff'],
    [repo.has('ruff.toml'), 'ruff.toml'],
    [repo.has('.ruff.toml'), '.ruff.toml'],
    [true, dep('ruff')],
  );
  const flake8 = first(
    [repo.has('.flake8'), '.flake8'],
    [cfg.has('flake8'), 'setup.cfg#flake8'],
    [tox.has('flake8'), 'tox.ini#flake8'],
    [true, dep('flake8')],
  );
  const mypyConfig = first(
    [hasTool('mypy'), 'pyproject.toml#tool.mypy'],
    [repo.has('mypy.ini'), 'mypy.ini'],
    [repo.has('.mypy.ini'), '.mypy.ini'],
    [cfg.has('mypy'), 'setup.cfg#mypy'],
  );
  const pyrightConfig = first([repo.has('pyrightconfig.json'), 'pyrightconfig.json'], [hasTool('pyright'), 'pyproject.toml#tool.pyright']);
  const mypyDep = dep('mypy');
  const pyrightDep = dep('pyright');
  const ruffFormat = first([rec(tool.ruff)['format'] !== undefined, 'pyproject.toml#tool.ruff.format']);
  const black = first([hasTool('black'), 'pyproject.toml#tool.black'], [true, dep('black')]);
  const coverage = first(
    [true, dep('pytest-cov')],
    [hasTool('coverage'), 'pyproject.toml#tool.coverage'],
    [repo.has('.coveragerc'), '.coveragerc'],
    [cfgHasPrefix(cfg, 'coverage:'), 'setup.cfg#coverage'],
    [cfgHasPrefix(tox, 'coverage:'), 'tox.ini#coverage'],
  );

  const inferred: Candidates = {};
  const set = (cmd: CommandName, command: string, source: string): void => {
    inferred[cmd] = { command: run + command, source };
  };
  if (pytest) set('test', 'pytest', pytest);
  else set('test', 'python -m unittest', marker);
  if (ruff) set('lint', 'ruff check .', ruff);
  else if (flake8) set('lint', 'flake8', flake8);
  if (mypyConfig) set('typecheck', 'mypy .', mypyConfig);
  else if (pyrightConfig) set('typecheck', 'pyright', pyrightConfig);
  else if (mypyDep) set('typecheck', 'mypy .', mypyDep);
  else if (pyrightDep) set('typecheck', 'pyright', pyrightDep);
  if (ruffFormat) set('format', 'ruff format .', ruffFormat);
  else if (black) set('format', 'black .', black);
  else if (ruff) set('format', 'ruff format .', ruff);
  if (coverage) set('coverage', pytest ? 'pytest --cov' : 'coverage run -m unittest', coverage);

  const formatter = inferred.format?.command.endsWith('ruff format .') ? 'ruff' : null;
  const conventions = {
    formatter: pick([formatter !== null, 'ruff'], [black !== null, 'black'], [hasTool('isort') || dep('isort') !== null, 'isort']),
    linter: pick(
      [ruff !== null, 'ruff'],
      [flake8 !== null, 'flake8'],
      [hasTool('pylint') || repo.has('.pylintrc') || repo.has('pylintrc') || dep('pylint') !== null, 'pylint'],
    ),
    test_framework: pick([pytest !== null, 'pytest']),
    typechecker: pick([mypyConfig !== null || mypyDep !== null, 'mypy'], [pyrightConfig !== null || pyrightDep !== null, 'pyright']),
  };

  const entryPoints = await pythonEntryPoints(repo, project, poetry);
  return { ecosystem: 'python', packageManager: pm, explicit: {}, inferred, conventions, entryPoints };
}

/** Files behind [project.scripts] / [tool.poetry.scripts] (`pkg.mod:func` → pkg/mod.py, src layout too), then root main.py/manage.py/__main__.py. */
async function pythonEntryPoints(repo: Repo, project: Record<string, unknown>, poetry: Record<string, unknown>): Promise<string[]> {
  const modules: string[] = [];
  const addTarget = (target: unknown): void => {
    const ref = typeof target === 'string' ? target : isRecord(target) ? target.callable ?? target.reference : undefined;
    if (typeof ref !== 'string') return;
    const mod = ref.split(':')[0]!.trim();
    if (/^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$/.test(mod)) modules.push(mod);
  };
  for (const target of Object.values(rec(project.scripts))) addTarget(target);
  for (const target of Object.values(rec(poetry.scripts))) addTarget(target);

  const out: string[] = [];
  for (const mod of unique(modules)) {
    const p = mod.split('.').join('/');
    const found = await repo.existing([`${p}.py`, `${p}/__init__.py`, `src/${p}.py`, `src/${p}/__init__.py`]);
    if (found[0] !== undefined) out.push(found[0]);
  }
  for (const name of ['__main__.py', 'main.py', 'manage.py']) if (repo.has(name)) out.push(name);
  return out;
}

/** PEP 503-normalized distribution name of a PEP 508 requirement / requirements.txt line, or null. */
function requirementName(line: string): string | null {
  const text = line.replace(/(^|\s)#.*$/, '').trim();
  if (text === '' || text.startsWith('-')) return null;
  const m = /^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)/.exec(text);
  return m ? m[1]!.toLowerCase().replace(/[-_.]+/g, '-') : null;
}

// ---------------------------------------------------------------------------------------------------------------
// go

async function detectGo(repo: Repo): Promise<EcoResult | null> {
  if (!repo.has('go.mod')) return null;
  const golangci = ['.golangci.yml', '.golangci.yaml', '.golangci.toml', '.golangci.json'].find((n) => repo.has(n));
  const src = 'go.mod';
  const inferred: Candidates = {
    test: { command: 'go test ./...', source: src },
    lint: golangci ? { command: 'golangci-lint run', source: golangci } : { command: 'go vet ./...', source: src },
    typecheck: { command: 'go build ./...', source: src },
    build: { command: 'go build ./...', source: src },
    coverage: { command: 'go test -cover ./...', source: src },
    format: { command: 'gofmt -l .', source: src },
  };
  const candidates: string[] = [];
  if (repo.has('main.go')) candidates.push('main.go');
  if (repo.dirs.has('cmd')) {
    const subdirs = (await repo.listDir('cmd'))
      .filter((e) => e.isDirectory() || e.isSymbolicLink())
      .map((e) => e.name)
      .sort();
    for (const d of subdirs) candidates.push(`cmd/${d}/main.go`);
  }
  return {
    ecosystem: 'go',
    packageManager: 'go',
    explicit: {},
    inferred,
    conventions: { formatter: ['gofmt'], linter: [golangci ? 'golangci-lint' : 'go vet'], test_framework: ['go test'] },
    entryPoints: await repo.existing(candidates),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// rust

async function detectRust(repo: Repo): Promise<EcoResult | null> {
  if (!repo.has('Cargo.toml')) return null;
  const cargo = parseTomlObject(await repo.read('Cargo.toml'));
  const src = 'Cargo.toml';
  const inferred: Candidates = {
    test: { command: 'cargo test', source: src },
    lint: { command: 'cargo clippy -- -D warnings', source: src },
    typecheck: { command: 'cargo check', source: src },
    build: { command: 'cargo build', source: src },
    format: { command: 'cargo fmt --check', source: src },
  };
  const candidates: Array<string | null> = ['src/main.rs', 'src/lib.rs'];
  for (const bin of arr(cargo?.bin)) {
    const p = rec(bin).path;
    if (typeof p === 'string') candidates.push(safeRel(p));
  }
  const libPath = rec(cargo?.lib).path;
  if (typeof libPath === 'string') candidates.push(safeRel(libPath));
  return {
    ecosystem: 'rust',
    packageManager: 'cargo',
    explicit: {},
    inferred,
    conventions: { formatter: ['rustfmt'], linter: ['clippy'], test_framework: ['cargo test'] },
    entryPoints: await repo.existing(candidates),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// make

const MAKE_TARGETS: ReadonlyArray<readonly [CommandName, readonly string[]]> = [
  ['test', ['test', 'check']],
  ['lint', ['lint']],
  ['typecheck', ['typecheck', 'type-check']],
  ['build', ['build']],
  ['coverage', ['coverage', 'cover']],
  ['format', ['fmt', 'format']],
];

async function detectMake(repo: Repo): Promise<EcoResult | null> {
  const file = ['GNUmakefile', 'makefile', 'Makefile'].find((n) => repo.has(n));
  if (file === undefined) return null;
  const targets = makeTargets((await repo.read(file)) ?? '');
  const explicit: Candidates = {};
  for (const [cmd, names] of MAKE_TARGETS) {
    const target = names.find((n) => targets.has(n));
    if (target !== undefined) explicit[cmd] = { command: `make ${target}`, source: `${file}#${target}` };
  }
  return { ecosystem: 'make', packageManager: 'make', explicit, inferred: {}, conventions: {}, entryPoints: [] };
}

/** Rule names defined at column 0 (`name:` or `a b::`), excluding special `.TARGETS` and variable assignments. */
function makeTargets(text: string): Set<string> {
  const targets = new Set<string>();
  for (const line of text.split(/\r?\n/)) {
    // `X = y`, `X := y`, `X ::= y`, `X ?= y`, `X += y`, `X != cmd` are assignments, not rules.
    if (/^[^:=#]*(?::{1,3}=|[?+!]?=)/.test(line)) continue;
    const m = /^([A-Za-z0-9_.-]+(?:[ \t]+[A-Za-z0-9_.-]+)*)[ \t]*:/.exec(line);
    if (!m) continue;
    for (const name of m[1]!.split(/[ \t]+/)) if (!name.startsWith('.')) targets.add(name);
  }
  return targets;
}

// ---------------------------------------------------------------------------------------------------------------
// small helpers

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function rec(v: unknown): Record<string, unknown> {
  return isRecord(v) ? v : {};
}

function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function unique<T>(items: Iterable<T>): T[] {
  return [...new Set(items)];
}

/** Names whose condition holds, in order. */
function pick(...pairs: Array<readonly [boolean, string]>): string[] {
  return pairs.filter(([on]) => on).map(([, name]) => name);
}

/** Source of the first pair whose condition holds and whose source is non-null, else null. */
function first(...pairs: Array<readonly [boolean, string | null]>): string | null {
  for (const [on, source] of pairs) if (on && source !== null) return source;
  return null;
}

function parseJsonObject(text: string | null): Record<string, unknown> | null {
  if (text === null) return null;
  try {
    const value: unknown = JSON.parse(text);
    return isRecord(value) ? value : null;
  } catch {
    return null;
  }
}

function parseTomlObject(text: string | null | undefined): Record<string, unknown> | null {
  if (text === null || text === undefined) return null;
  try {
    const value: unknown = parseToml(text);
    return isRecord(value) ? value : null;
  } catch {
    return null;
  }
}

/** Minimal INI reader (setup.cfg, tox.ini): section → key → value; indented lines continue the previous value. */
function parseIni(text: string | null): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  if (text === null) return out;
  let section: Map<string, string> | null = null;
  let key: string | null = null;
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '' || /^\s*[#;]/.test(line)) continue;
    const header = /^\[([^\]]+)\]/.exec(line);
    if (header) {
      const name = header[1]!.trim();
      section = out.get(name) ?? new Map<string, string>();
      out.set(name, section);
      key = null;
      continue;
    }
    if (section === null) continue;
    if (/^\s/.test(line) && key !== null) {
      section.set(key, `${section.get(key) ?? ''}\n${line.trim()}`);
      continue;
    }
    const kv = /^([^=:]+?)\s*[=:]\s*(.*)$/.exec(line);
    if (kv) {
      key = kv[1]!.trim();
      section.set(key, kv[2]!.trim());
    } else {
      key = null;
    }
  }
  return out;
}

/** A repository-relative POSIX path that stays inside the root, or null. */
function safeRel(p: string): string | null {
  if (p.trim() === '' || p.includes('\0')) return null;
  const normalized = path.posix.normalize(p.trim().replace(/\\/g, '/'));
  if (path.posix.isAbsolute(normalized) || /^[A-Za-z]:/.test(normalized)) return null;
  if (normalized === '.' || normalized === '..' || normalized.startsWith('../')) return null;
  return normalized.replace(/^\.\//, '').replace(/\/$/, '');
}
