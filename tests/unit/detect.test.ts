// Toolchain detection on small fixture repositories built in temp dirs, one per ecosystem and edge case.
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { detectToolchain, type Toolchain } from '../../src/detect/toolchain.js';

const created: string[] = [];

afterEach(async () => {
  await Promise.all(created.splice(0).map((dir) => fsp.rm(dir, { recursive: true, force: true })));
});

/** A temp repository holding `files` (path → content; a path ending in '/' is an empty directory). */
async function fixture(files: Record<string, string | object>): Promise<string> {
  const root = await fsp.mkdtemp(path.join(os.tmpdir(), 'piv-detect-'));
  created.push(root);
  for (const [rel, content] of Object.entries(files)) {
    const target = path.join(root, rel);
    if (rel.endsWith('/')) {
      await fsp.mkdir(target, { recursive: true });
      continue;
    }
    await fsp.mkdir(path.dirname(target), { recursive: true });
    await fsp.writeFile(target, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  }
  return root;
}

const NO_COMMANDS: Toolchain['commands'] = { test: null, lint: null, typecheck: null, build: null, coverage: null, format: null };

describe('detectToolchain: empty and missing roots', () => {
  it('returns an empty toolchain for an empty directory', async () => {
    const root = await fixture({});
    expect(await detectToolchain(root)).toEqual({
      ecosystems: [],
      package_managers: [],
      commands: NO_COMMANDS,
      sources: {},
      conventions: { formatter: [], linter: [], test_framework: [], typechecker: [] },
      entry_points: [],
    });
  });

  it('returns an empty toolchain (no throw) for a root that does not exist', async () => {
    const root = await fixture({});
    const tc = await detectToolchain(path.join(root, 'nope'));
    expect(tc.ecosystems).toEqual([]);
    expect(tc.commands).toEqual(NO_COMMANDS);
  });
});

describe('detectToolchain: node', () => {
  it('npm with real scripts: commands, sources, conventions and existing entry points', async () => {
    const root = await fixture({
      'package.json': {
        name: 'demo',
        bin: { demo: './dist/cli.js' },
        main: 'dist/missing.js',
        exports: { '.': { import: './dist/index.js', types: './dist/index.d.ts' }, './sub/*': './dist/sub/*.js' },
        scripts: {
          test: 'vitest run',
          lint: 'eslint .',
          typecheck: 'tsc --noEmit',
          build: 'tsc -p .',
          'test:coverage': 'vitest run --coverage',
          format: 'prettier --write .',
        },
        devDependencies: { eslint: '^9', prettier: '^3', vitest: '^4', typescript: '^5' },
      },
      'package-lock.json': '{}',
      'tsconfig.json': '{}',
      '.prettierrc.json': '{}',
      'dist/cli.js': '',
      'dist/index.js': '',
    });
    const tc = await detectToolchain(root);
    expect(tc.ecosystems).toEqual(['node']);
    expect(tc.package_managers).toEqual(['npm']);
    expect(tc.commands).toEqual({
      test: 'npm test',
      lint: 'npm run lint',
      typecheck: 'npm run typecheck',
      build: 'npm run build',
      coverage: 'npm run test:coverage',
      format: 'npm run format',
    });
    expect(tc.sources).toEqual({
      test: 'package.json#scripts.test',
      lint: 'package.json#scripts.lint',
      typecheck: 'package.json#scripts.typecheck',
      build: 'package.json#scripts.build',
      coverage: 'package.json#scripts.test:coverage',
      format: 'package.json#scripts.format',
    });
    expect(tc.conventions).toEqual({
      formatter: ['prettier'],
      linter: ['eslint'],
      test_framework: ['vitest'],
      typechecker: ['typescript'],
    });
    expect(tc.entry_points).toEqual(['dist/cli.js', 'dist/index.js']);
  });

  it('pnpm lockfile → pnpm test / pnpm run <script>', async () => {
    const root = await fixture({
      'package.json': { scripts: { test: 'jest', lint: 'biome lint .' }, devDependencies: { jest: '^29' } },
      'pnpm-lock.yaml': "lockfileVersion: '9.0'\n",
      'biome.json': '{}',
    });
    const tc = await detectToolchain(root);
    expect(tc.package_managers).toEqual(['pnpm']);
    expect(tc.commands.test).toBe('pnpm test');
    expect(tc.commands.lint).toBe('pnpm run lint');
    expect(tc.conventions.formatter).toEqual(['biome']);
    expect(tc.conventions.linter).toEqual(['biome']);
    expect(tc.conventions.test_framework).toEqual(['jest']);
  });

  it.each([
    [{ 'yarn.lock': '' }, 'yarn', 'yarn test', 'yarn run build'],
    [{ 'bun.lockb': '' }, 'bun', 'bun run test', 'bun run build'],
    [{ 'bun.lock': '' }, 'bun', 'bun run test', 'bun run build'],
    [{}, 'pnpm', 'pnpm test', 'pnpm run build'], // from the packageManager field
  ])('package manager from %j', async (extra, pm, test, build) => {
    const root = await fixture({
      'package.json': { packageManager: 'pnpm@9.1.0', scripts: { test: 'x', build: 'y' } },
      ...extra,
    });
    const tc = await detectToolchain(root);
    expect(tc.package_managers).toEqual([pm]);
    expect(tc.commands.test).toBe(test);
    expect(tc.commands.build).toBe(build);
  });

  it("ignores npm's placeholder test script", async () => {
    const root = await fixture({
      'package.json': { scripts: { test: 'echo "Error: no test specified" && exit 1' } },
    });
    const tc = await detectToolchain(root);
    expect(tc.ecosystems).toEqual(['node']);
    expect(tc.package_managers).toEqual(['npm']);
    expect(tc.commands).toEqual(NO_COMMANDS);
    expect(tc.sources).toEqual({});
  });

  it('TypeScript without a typecheck script → npx tsc --noEmit (only when typescript is a dependency)', async () => {
    const withTs = await fixture({
      'package.json': { devDependencies: { typescript: '^5' }, scripts: { 'test:cov': 'c8 node --test', fmt: 'dprint fmt' } },
      'tsconfig.json': '{}',
    });
    const tc = await detectToolchain(withTs);
    expect(tc.commands.typecheck).toBe('npx tsc --noEmit');
    expect(tc.sources.typecheck).toBe('tsconfig.json');
    expect(tc.commands.coverage).toBe('npm run test:cov');
    expect(tc.commands.format).toBe('npm run fmt');

    const withoutTs = await fixture({ 'package.json': { scripts: {} }, 'tsconfig.json': '{}' });
    expect((await detectToolchain(withoutTs)).commands.typecheck).toBeNull();
  });

  it('prefers the type-check / tsc scripts over the tsc fallback', async () => {
    const root = await fixture({
      'package.json': { devDependencies: { typescript: '^5' }, scripts: { 'type-check': 'tsc -b' } },
      'tsconfig.json': '{}',
    });
    const tc = await detectToolchain(root);
    expect(tc.commands.typecheck).toBe('npm run type-check');
    expect(tc.sources.typecheck).toBe('package.json#scripts.type-check');
  });

  it('does not throw on a malformed package.json: records the ecosystem, takes nothing from the file', async () => {
    const root = await fixture({
      'package.json': '{ "scripts": { "test": "vitest", }',
      'pnpm-lock.yaml': '',
      'tsconfig.json': '{}',
    });
    const tc = await detectToolchain(root);
    expect(tc.ecosystems).toEqual(['node']);
    expect(tc.package_managers).toEqual(['pnpm']);
    expect(tc.commands).toEqual(NO_COMMANDS);
    expect(tc.entry_points).toEqual([]);
  });

  it.each([['[1, 2]'], ['null'], ['{"scripts": ["test"], "bin": 42, "exports": {"a": [null, 3]}}'], ['{"scripts": {"test": 7, "lint": ""}}']])(
    'does not throw on a package.json of the wrong shape: %s',
    async (text) => {
      const root = await fixture({ 'package.json': text });
      const tc = await detectToolchain(root);
      expect(tc.ecosystems).toEqual(['node']);
      expect(tc.commands).toEqual(NO_COMMANDS);
    },
  );
});

describe('detectToolchain: python', () => {
  it('poetry + pytest + ruff + mypy, commands run through poetry', async () => {
    const root = await fixture({
      'pyproject.toml': [
        '[tool.poetry]',
        'name = "app"',
        '',
        '[tool.poetry.dependencies]',
        'python = "^3.11"',
        '',
        '[tool.poetry.group.dev.dependencies]',
        'pytest = "^8"',
        'pytest-cov = "^5"',
        'ruff = "^0.5"',
        'mypy = "^1"',
        '',
        '[tool.poetry.scripts]',
        'app = "app.cli:main"',
        '',
        '[tool.pytest.ini_options]',
        'testpaths = ["tests"]',
        '',
        '[tool.ruff]',
        'line-length = 100',
        '',
        '[tool.mypy]',
        'strict = true',
        '',
      ].join('\n'),
      'poetry.lock': '',
      'app/__init__.py': '',
      'app/cli.py': 'def main(): pass\n',
    });
    const tc = await detectToolchain(root);
    expect(tc.ecosystems).toEqual(['python']);
    expect(tc.package_managers).toEqual(['poetry']);
    expect(tc.commands).toEqual({
      test: 'poetry run pytest',
      lint: 'poetry run ruff check .',
      typecheck: 'poetry run mypy .',
      build: null,
      coverage: 'poetry run pytest --cov',
      format: 'poetry run ruff format .',
    });
    expect(tc.sources).toEqual({
      test: 'pyproject.toml#tool.pytest.ini_options',
      lint: 'pyproject.toml#tool.ruff',
      typecheck: 'pyproject.toml#tool.mypy',
      coverage: 'pyproject.toml#tool.poetry.group.dev.dependencies',
      format: 'pyproject.toml#tool.ruff',
    });
    expect(tc.conventions).toEqual({ formatter: ['ruff'], linter: ['ruff'], test_framework: ['pytest'], typechecker: ['mypy'] });
    expect(tc.entry_points).toEqual(['app/cli.py']);
  });

  it('uv: PEP 621 + dependency groups, pyright, src layout entry point', async () => {
    const root = await fixture({
      'pyproject.toml': [
        '[project]',
        'name = "pkg"',
        'dependencies = ["httpx>=0.27"]',
        '',
        '[project.scripts]',
        'pkg = "pkg:main"',
        'gone = "missing.mod:main"',
        '',
        '[dependency-groups]',
        'dev = ["pytest>=8", "black==24.*"]',
        '',
        '[tool.pyright]',
        'strict = ["src"]',
        '',
      ].join('\n'),
      'uv.lock': '',
      'src/pkg/__init__.py': 'def main(): pass\n',
    });
    const tc = await detectToolchain(root);
    expect(tc.package_managers).toEqual(['uv']);
    expect(tc.commands).toEqual({
      test: 'uv run pytest',
      lint: null,
      typecheck: 'uv run pyright',
      build: null,
      coverage: null,
      format: 'uv run black .',
    });
    expect(tc.sources.test).toBe('pyproject.toml#dependency-groups');
    expect(tc.sources.typecheck).toBe('pyproject.toml#tool.pyright');
    expect(tc.conventions.typechecker).toEqual(['pyright']);
    expect(tc.entry_points).toEqual(['src/pkg/__init__.py']);
  });

  it('plain requirements.txt + tests/ dir → pip, pytest', async () => {
    const root = await fixture({
      'requirements.txt': 'requests==2.32.0\n',
      'requirements-dev.txt': '# tools\n-r requirements.txt\nFlake8>=7 ; python_version >= "3.9"\nblack\n',
      'tests/test_app.py': 'def test_x(): pass\n',
      'main.py': '',
    });
    const tc = await detectToolchain(root);
    expect(tc.ecosystems).toEqual(['python']);
    expect(tc.package_managers).toEqual(['pip']);
    expect(tc.commands.test).toBe('pytest');
    expect(tc.sources.test).toBe('tests/');
    expect(tc.commands.lint).toBe('flake8');
    expect(tc.sources.lint).toBe('requirements-dev.txt');
    expect(tc.commands.format).toBe('black .');
    expect(tc.commands.typecheck).toBeNull();
    expect(tc.entry_points).toEqual(['main.py']);
  });

  it('falls back to python -m unittest without any pytest signal; setup.cfg sections count', async () => {
    const root = await fixture({
      'setup.py': 'from setuptools import setup\nsetup()\n',
      'setup.cfg': '[metadata]\nname = x\n\n[flake8]\nmax-line-length = 100\n\n[mypy]\nstrict = True\n\n[coverage:run]\nbranch = True\n',
    });
    const tc = await detectToolchain(root);
    expect(tc.commands).toEqual({
      test: 'python -m unittest',
      lint: 'flake8',
      typecheck: 'mypy .',
      build: null,
      coverage: 'coverage run -m unittest',
      format: null,
    });
    expect(tc.sources).toMatchObject({ test: 'setup.py', lint: 'setup.cfg#flake8', typecheck: 'setup.cfg#mypy' });
  });

  it('Pipfile → pipenv, commands prefixed with pipenv run', async () => {
    const root = await fixture({
      Pipfile: '[packages]\nflask = "*"\n\n[dev-packages]\npytest = "*"\nmypy = "*"\n',
    });
    const tc = await detectToolchain(root);
    expect(tc.package_managers).toEqual(['pipenv']);
    expect(tc.commands.test).toBe('pipenv run pytest');
    expect(tc.commands.typecheck).toBe('pipenv run mypy .');
  });

  it('does not throw on a malformed pyproject.toml: records the ecosystem, takes nothing from the file', async () => {
    const root = await fixture({ 'pyproject.toml': '[tool.ruff\nline-length = = 3\n' });
    const tc = await detectToolchain(root);
    expect(tc.ecosystems).toEqual(['python']);
    expect(tc.package_managers).toEqual(['pip']);
    expect(tc.commands).toEqual({ ...NO_COMMANDS, test: 'python -m unittest' });
    expect(tc.conventions.linter).toEqual([]);
  });
});

describe('detectToolchain: go and rust', () => {
  it('go with golangci-lint, main.go and cmd/*/main.go entry points', async () => {
    const root = await fixture({
      'go.mod': 'module example.com/x\n\ngo 1.22\n',
      '.golangci.yml': 'linters:\n  enable: [errcheck]\n',
      'main.go': 'package main\n',
      'cmd/tool/main.go': 'package main\n',
      'cmd/lib/': '',
    });
    const tc = await detectToolchain(root);
    expect(tc.ecosystems).toEqual(['go']);
    expect(tc.package_managers).toEqual(['go']);
    expect(tc.commands).toEqual({
      test: 'go test ./...',
      lint: 'golangci-lint run',
      typecheck: 'go build ./...',
      build: 'go build ./...',
      coverage: 'go test -cover ./...',
      format: 'gofmt -l .',
    });
    expect(tc.sources.lint).toBe('.golangci.yml');
    expect(tc.conventions.linter).toEqual(['golangci-lint']);
    expect(tc.entry_points).toEqual(['main.go', 'cmd/tool/main.go']);
  });

  it('go without golangci config lints with go vet', async () => {
    const root = await fixture({ 'go.mod': 'module x\n' });
    expect((await detectToolchain(root)).commands.lint).toBe('go vet ./...');
  });

  it('rust: cargo commands, src/main.rs + src/lib.rs + [[bin]] path', async () => {
    const root = await fixture({
      'Cargo.toml': '[package]\nname = "x"\nversion = "0.1.0"\n\n[[bin]]\nname = "extra"\npath = "tools/extra.rs"\n',
      'src/main.rs': 'fn main() {}\n',
      'src/lib.rs': '',
      'tools/extra.rs': 'fn main() {}\n',
    });
    const tc = await detectToolchain(root);
    expect(tc.ecosystems).toEqual(['rust']);
    expect(tc.package_managers).toEqual(['cargo']);
    expect(tc.commands).toEqual({
      test: 'cargo test',
      lint: 'cargo clippy -- -D warnings',
      typecheck: 'cargo check',
      build: 'cargo build',
      coverage: null,
      format: 'cargo fmt --check',
    });
    expect(tc.entry_points).toEqual(['src/main.rs', 'src/lib.rs', 'tools/extra.rs']);
  });

  it('rust with a malformed Cargo.toml still gets the cargo defaults', async () => {
    const root = await fixture({ 'Cargo.toml': '[package\nname = ' });
    const tc = await detectToolchain(root);
    expect(tc.ecosystems).toEqual(['rust']);
    expect(tc.commands.test).toBe('cargo test');
  });
});

describe('detectToolchain: precedence across ecosystems', () => {
  it('Makefile targets beat package.json scripts, which beat ecosystem defaults', async () => {
    const root = await fixture({
      'package.json': { scripts: { test: 'vitest run', typecheck: 'tsc --noEmit', build: 'tsc' } },
      'go.mod': 'module x\n',
      Makefile: [
        'VERSION := 1.0',
        'build ?= yes',
        'CC = gcc',
        '.PHONY: test lint fmt coverage',
        '',
        'test: deps',
        '\tgo test ./...',
        '',
        'lint fmt: ## lint and format',
        '\tgolangci-lint run',
        '',
        '%.o: %.c',
        '\t$(CC) -c $<',
        '',
      ].join('\n'),
    });
    const tc = await detectToolchain(root);
    expect(tc.ecosystems).toEqual(['node', 'go', 'make']);
    expect(tc.package_managers).toEqual(['npm', 'go', 'make']);
    expect(tc.commands).toEqual({
      test: 'make test',
      lint: 'make lint',
      typecheck: 'npm run typecheck',
      build: 'npm run build',
      coverage: 'go test -cover ./...',
      format: 'make fmt',
    });
    expect(tc.sources).toEqual({
      test: 'Makefile#test',
      lint: 'Makefile#lint',
      typecheck: 'package.json#scripts.typecheck',
      build: 'package.json#scripts.build',
      coverage: 'go.mod',
      format: 'Makefile#fmt',
    });
  });

  it('Makefile alone: check / type-check / cover / format aliases, double-colon rules, lowercase makefile', async () => {
    const root = await fixture({
      makefile: 'check:\n\t./run-tests\ntype-check::\n\tmypy\ncover:\n\tx\nformat build:\n\ty\n.DEFAULT:\n\tz\n',
    });
    const tc = await detectToolchain(root);
    expect(tc.ecosystems).toEqual(['make']);
    expect(tc.commands).toEqual({
      test: 'make check',
      lint: null,
      typecheck: 'make type-check',
      build: 'make build',
      coverage: 'make cover',
      format: 'make format',
    });
    expect(tc.sources.test).toBe('makefile#check');
  });

  it('monorepo root: node scripts first, python fills the rest', async () => {
    const root = await fixture({
      'package.json': { scripts: { lint: 'eslint .' } },
      'pyproject.toml': '[project]\nname = "x"\ndependencies = ["pytest", "mypy"]\n',
    });
    const tc = await detectToolchain(root);
    expect(tc.ecosystems).toEqual(['node', 'python']);
    expect(tc.package_managers).toEqual(['npm', 'pip']);
    expect(tc.commands.lint).toBe('npm run lint');
    expect(tc.commands.test).toBe('pytest');
    expect(tc.commands.typecheck).toBe('mypy .');
    expect(tc.sources.test).toBe('pyproject.toml#project.dependencies');
  });
});
