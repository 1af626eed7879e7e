// prime: real temporary git repositories, the verbs called directly; the brief is measured with the real tokenizer.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { renderPrime } from '../../src/cli/render-prime.js';
import { countTokens } from '../../src/tokens/count.js';
import { discuss } from '../../src/verbs/discuss.js';
import { init } from '../../src/verbs/init.js';
import { plan } from '../../src/verbs/plan.js';
import { languageOf, prime, type PrimeResult } from '../../src/verbs/prime.js';
import { git, tempRepo, write } from '../helpers/repo.js';

let repo: { dir: string; cleanup: () => void };
beforeEach(() => {
  repo = tempRepo();
});
afterEach(() => repo.cleanup());

const PKG = JSON.stringify(
  {
    name: 'demo',
    version: '1.0.0',
    type: 'module',
    main: 'src/index.js',
    scripts: { test: 'vitest run', lint: 'eslint .', typecheck: 'tsc --noEmit', build: 'tsc -p .' },
    devDependencies: { vitest: '^4.0.0', typescript: '^5.0.0', eslint: '^9.0.0', prettier: '^3.0.0' },
  },
  null,
  2,
);

/** A small multi-language project: node + python, an import graph where src/util.js is imported by three modules. */
function buildProject(dir: string): void {
  write(dir, {
    'package.json': PKG,
    '.gitignore': 'dist/\n*.log\nsecret/\n',
    'src/index.js': "import { a } from './a.js';\nimport { b } from './b.js';\nexport const main = () => a() + b();\n",
    'src/util.js': 'export const twice = (x) => x * 2;\n',
    'src/a.js': "import { twice } from './util.js';\nexport const a = () => twice(1);\n",
    'src/b.js': "import { twice } from './util';\nexport const b = () => twice(2);\n",
    'src/c.ts': "import { twice } from './util.js';\nexport const c = (): number => twice(3);\n",
    'src/big.js': `// the largest source file\n${'export const value = 1;\n'.repeat(400)}`,
    'tests/util.test.js': "import { twice } from '../src/util.js';\n",
    'tool/__init__.py': '',
    'tool/core.py': 'def run():\n    return 1\n',
    'tool/cli.py': 'from tool.core import run\nfrom . import core\n',
    'tool/test_core.py': 'import tool.core\n',
    'tool/extra.py': 'from tool import (\n    core,\n)\n',
    'docs/guide.md': '# Guide\n\nSome words.\n',
    'dist/huge.js': `// built output, ignored\n${'x'.repeat(200_000)}\n`,
    'debug.log': 'ignored log\n',
    'secret/keys.txt': 'ignored\n',
  });
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'feat: the demo project');
}

describe('prime', () => {
  it('analyses git, layout, languages, toolchain, centrality and key files, honouring .gitignore', async () => {
    buildProject(repo.dir);
    write(repo.dir, { 'src/new.js': 'export {};\n' });
    const r = await prime({ cwd: repo.dir, write: false, now: new Date('2030-01-02T03:04:05Z') });

    expect(r.generated_at).toBe('2030-01-02T03:04:05.000Z');
    expect(r.git.branch).toBe('main');
    expect(r.git.head).toMatch(/^[0-9a-f]{40}$/);
    expect(r.git.dirty).toEqual(['src/new.js']);
    expect(r.git.dirty_total).toBe(1);
    expect(r.git.recent_commits.map((c) => c.subject)).toEqual(['feat: the demo project', 'initial commit']);
    expect(r.git.upstream).toBeNull();

    // Ignored files appear nowhere.
    const all = JSON.stringify(r);
    for (const ignored of ['dist/huge.js', 'debug.log', 'secret/keys.txt']) expect(all).not.toContain(ignored);
    expect(r.layout.files).toBe(17); // README.md, .gitignore, package.json, 7 in src/ (new.js included), 1 test, 5 tool, 1 doc
    expect(r.layout.top_dirs.map((d) => d.path)).toEqual(['src', 'tool', 'tests', 'docs']); // most files first, then most bytes
    const langs = Object.fromEntries(r.layout.languages.map((l) => [l.language, l.files]));
    expect(langs).toMatchObject({ JavaScript: 7, TypeScript: 1, Python: 5, Markdown: 2, JSON: 1 });
    expect(r.layout.languages.map((l) => l.bytes)).toEqual([...r.layout.languages.map((l) => l.bytes)].sort((a, b) => b - a));
    expect(r.layout.entry_points).toContain('src/index.js');
    expect(r.layout.test_dirs).toEqual(['tests', 'tool']);
    expect(r.layout.test_files).toBe(2);

    expect(r.toolchain.commands).toMatchObject({ test: 'npm test', lint: 'npm run lint', typecheck: 'npm run typecheck', build: 'npm run build' });
    expect(r.toolchain.conventions.test_framework).toContain('vitest');

    const central = r.key_files.filter((k) => k.reason === 'central');
    expect(central[0]).toMatchObject({ path: 'src/util.js', imported_by: 4 }); // a, b (extensionless), c.ts, the test
    // from-import + relative from-import (one file), import, parenthesised multi-line from-import.
    expect(central.find((k) => k.path === 'tool/core.py')).toMatchObject({ imported_by: 3 });
    expect(r.key_files.find((k) => k.path === 'src/index.js')?.reason).toBe('entry');
    expect(r.key_files.find((k) => k.path === 'package.json')?.reason).toBe('config');
    expect(r.key_files.find((k) => k.path === 'src/big.js')?.reason).toBe('largest');
    const big = r.key_files.find((k) => k.path === 'src/big.js')!;
    const text = readFileSync(path.join(repo.dir, 'src/big.js'), 'utf8');
    expect(big.tokens).toBe(countTokens(text, { calibration: 1.1 })); // config defaults: cl100k_base, calibration 1.1
    expect(big.tokens_exact).toBe(true);
    expect(r.key_files.length).toBeLessThanOrEqual(20);
    expect(new Set(r.key_files.map((k) => k.path)).size).toBe(r.key_files.length);

    expect(r.session).toBeNull();
    expect(r.brief.budget).toBe(4000);
    expect(r.brief.tokens).toBeLessThanOrEqual(4000);
    expect(r.brief.omitted).toEqual([]);
    expect(r.files_written).toEqual([]);
    expect(r.elapsed_ms).toBeGreaterThanOrEqual(0);
  });

  it('writes nothing with write: false, and prime.md + prime.json otherwise', async () => {
    buildProject(repo.dir);
    await prime({ cwd: repo.dir, write: false });
    expect(existsSync(path.join(repo.dir, '.agents'))).toBe(false);

    const r = await prime({ cwd: repo.dir });
    expect(r.files_written).toEqual(['.agents/context/prime.md', '.agents/context/prime.json']);
    const md = readFileSync(path.join(repo.dir, '.agents/context/prime.md'), 'utf8');
    const json = JSON.parse(readFileSync(path.join(repo.dir, '.agents/context/prime.json'), 'utf8')) as PrimeResult;
    expect(json).toEqual(r);
    expect(countTokens(md, { calibration: 1.1 })).toBe(r.brief.tokens);
    expect(md).toContain('## Commands');
    expect(md).toContain('`npm test`');
    expect(md).toContain('`src/util.js` — central, imported by 4');
    expect(md.trimEnd().split('\n').at(-1)).toMatch(/^_Nothing left out to fit the 4000-token budget\._$/);

    // Its own output is not reported as a dirty path or a file of the project.
    const again = await prime({ cwd: repo.dir, write: false });
    expect(again.git.dirty).toEqual([]);
    expect(again.layout.files).toBe(r.layout.files);
  });

  it('reports the open session first: decisions, open questions, progress, next and in-progress tasks', async () => {
    buildProject(repo.dir);
    await init({ cwd: repo.dir });
    await discuss({ cwd: repo.dir, feature: 'user-auth', title: 'User authentication', decide: ['Auth method?=JWT with refresh tokens'] });
    await plan({
      cwd: repo.dir,
      text: `tasks:
  - name: Create User model
    priority: high
    files: [src/user.js]
    verify: test -f src/user.js
  - name: Login endpoint
    blocked_by: [task-001]
    files: [src/login.js]
    verify: test -f src/login.js
`,
    });
    await discuss({ cwd: repo.dir, feature: 'user-auth', question: ['Token lifetime?'] });

    const r = await prime({ cwd: repo.dir, write: false });
    expect(r.session).toEqual({
      feature: 'user-auth',
      title: 'User authentication',
      phase: 'plan',
      decisions: [{ question: 'Auth method?', answer: 'JWT with refresh tokens' }],
      open_questions: ['Token lifetime?'],
      progress: { done: 0, total: 2 },
      next_task: { id: 'task-001', name: 'Create User model' },
      in_progress: [],
    });
    // .agents/ state is reported as the session, not as project files.
    expect(r.layout.top_dirs.map((d) => d.path)).not.toContain('.agents');

    const written = await prime({ cwd: repo.dir });
    const md = readFileSync(path.join(repo.dir, '.agents/context/prime.md'), 'utf8');
    expect(md.indexOf('## Feature session: `user-auth`')).toBeGreaterThan(0);
    expect(md.indexOf('## Feature session')).toBeLessThan(md.indexOf('## Commands'));
    expect(md).toContain('Auth method? → JWT with refresh tokens');
    expect(md).toContain('Token lifetime?');
    expect(md).toContain('next `task-001` Create User model');
    expect(written.brief.tokens).toBeLessThanOrEqual(written.brief.budget);
  });

  it('fits a tiny budget: trims lists, drops low-rank sections, and says what was left out', async () => {
    buildProject(repo.dir);
    await init({ cwd: repo.dir });
    await discuss({ cwd: repo.dir, feature: 'user-auth', decide: ['Auth method?=JWT'] });
    const r = await prime({ cwd: repo.dir, budget: 300 });
    const md = readFileSync(path.join(repo.dir, '.agents/context/prime.md'), 'utf8');
    expect(r.brief.budget).toBe(300);
    expect(r.brief.tokens).toBeLessThanOrEqual(300);
    expect(countTokens(md, { calibration: 1.1 })).toBe(r.brief.tokens);
    expect(r.brief.omitted.length).toBeGreaterThan(0);
    expect(r.brief.omitted).toContain('conventions section');
    const last = md.trimEnd().split('\n').at(-1)!;
    expect(last).toMatch(/^_Left out to fit the 300-token budget: /);
    for (const item of r.brief.omitted) expect(last).toContain(item);
    // Session outranks everything: it is still there.
    expect(md).toContain('## Feature session');
    // The JSON keeps every fact.
    expect(r.key_files.length).toBeGreaterThan(3);

    // Budgets all the way down still fit.
    for (const budget of [120, 40, 5, 1]) {
      const t = await prime({ cwd: repo.dir, budget, write: false });
      expect(t.brief.tokens).toBeLessThanOrEqual(budget);
      expect(t.brief.omitted.length).toBeGreaterThan(0);
    }
  });

  it('the budget defaults to config tokens.prime_budget and rejects a bad value', async () => {
    buildProject(repo.dir);
    await init({ cwd: repo.dir });
    const config = path.join(repo.dir, '.agents/config.yaml');
    write(repo.dir, { '.agents/config.yaml': readFileSync(config, 'utf8').replace('prime_budget: 4000', 'prime_budget: 500') });
    const r = await prime({ cwd: repo.dir, write: false });
    expect(r.brief.budget).toBe(500);
    expect(r.brief.tokens).toBeLessThanOrEqual(500);
    await expect(prime({ cwd: repo.dir, budget: 0 })).rejects.toMatchObject({ code: 'usage' });
    await expect(prime({ cwd: repo.dir, budget: 1.5 })).rejects.toMatchObject({ code: 'usage' });
  });

  it('reports the upstream with ahead/behind counts', async () => {
    buildProject(repo.dir);
    const remote = tempRepo({ git: false });
    try {
      git(remote.dir, 'init', '-q', '--bare');
      git(repo.dir, 'remote', 'add', 'origin', remote.dir);
      git(repo.dir, 'push', '-q', '-u', 'origin', 'main');
      write(repo.dir, { 'src/d.js': 'export const d = 1;\n' });
      git(repo.dir, 'add', '-A');
      git(repo.dir, 'commit', '-q', '-m', 'feat: d');
      const r = await prime({ cwd: repo.dir, write: false });
      expect(r.git.upstream).toEqual({ name: 'origin/main', ahead: 1, behind: 0 });
    } finally {
      remote.cleanup();
    }
  });

  it('works in a repository without commits', async () => {
    const bare = tempRepo({ git: false });
    try {
      git(bare.dir, 'init', '-q', '-b', 'main');
      write(bare.dir, { 'main.py': 'print(1)\n' });
      const r = await prime({ cwd: bare.dir, write: false });
      expect(r.git).toMatchObject({ head: null, recent_commits: [], upstream: null, dirty: ['main.py'] });
      expect(r.layout.files).toBe(1);
    } finally {
      bare.cleanup();
    }
  });

  it('renders a short terminal summary', async () => {
    buildProject(repo.dir);
    const r = await prime({ cwd: repo.dir, budget: 200 });
    const text = renderPrime(r);
    expect(text).toContain('.agents/context/prime.md');
    expect(text).toContain('/200 tokens');
    expect(text).toContain('left out');
    expect(text).toContain('JavaScript');
    expect(text).toContain('npm test');
  });
});

describe('languageOf', () => {
  it('maps extensions and well-known names, case-insensitively for extensions', () => {
    expect(languageOf('src/a.TS')).toBe('TypeScript');
    expect(languageOf('x/Makefile')).toBe('Makefile');
    expect(languageOf('pkg/main.go')).toBe('Go');
    expect(languageOf('.gitignore')).toBeNull();
    expect(languageOf('LICENSE')).toBeNull();
  });
});
