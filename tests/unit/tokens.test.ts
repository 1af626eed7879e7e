// Token counting: real tiktoken, real temp trees (no file-system mocks), checked against git itself where git exists.
import { execFileSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { countPaths, countTokens, createCounter, DEFAULT_MAX_BYTES, rerootGitignore } from '../../src/tokens/count.js';

const TEN_TOKENS = 'hello world hello world hello world hello world hello world'; // 10 tokens in cl100k_base

let tmp: string;
beforeEach(async () => {
  tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'piv-'));
});
afterEach(async () => {
  await fsp.rm(tmp, { recursive: true, force: true });
});

/** Writes `files` (relative path → content) under `root`, creating folders. */
async function writeTree(root: string, files: Record<string, string | Buffer>): Promise<void> {
  for (const [rel, content] of Object.entries(files)) {
    const abs = path.join(root, rel);
    await fsp.mkdir(path.dirname(abs), { recursive: true });
    await fsp.writeFile(abs, content);
  }
}

function hasGit(): boolean {
  try {
    execFileSync('git', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('countTokens', () => {
  it('counts known strings with cl100k_base (the default) and o200k_base', () => {
    expect(countTokens('hello world')).toBe(2);
    expect(countTokens('hello world', { encoding: 'cl100k_base' })).toBe(2);
    expect(countTokens('hello world', { encoding: 'o200k_base' })).toBe(2);
    expect(countTokens(TEN_TOKENS)).toBe(10);
    expect(countTokens('The quick brown fox jumps over the lazy dog.', { encoding: 'o200k_base' })).toBe(10);
    expect(countTokens('')).toBe(0);
  });

  it('multiplies by the calibration and rounds up, without float noise rounding an exact result up', () => {
    expect(countTokens('hello world', { calibration: 1 })).toBe(2);
    expect(countTokens('hello world', { calibration: 1.25 })).toBe(3); // 2.5 → 3
    expect(countTokens('hello world', { calibration: 1.5 })).toBe(3); // exactly 3
    expect(countTokens('hello world', { calibration: 0.4 })).toBe(1); // 0.8 → 1
    expect(countTokens(TEN_TOKENS, { calibration: 1.1 })).toBe(11); // 10 × 1.1 is 11.000000000000002 in floats
    expect(countTokens(TEN_TOKENS, { calibration: 1.15 })).toBe(12); // 11.5 → 12
    expect(countTokens('', { calibration: 3 })).toBe(0);
  });

  it('counts special-token markers as ordinary text instead of throwing', () => {
    expect(countTokens('<|endoftext|>')).toBeGreaterThan(1);
  });

  it('rejects a bad calibration or encoding', () => {
    expect(() => countTokens('x', { calibration: 0 })).toThrow(/calibration/);
    expect(() => countTokens('x', { calibration: -1 })).toThrow(/calibration/);
    expect(() => countTokens('x', { calibration: Number.NaN })).toThrow(/calibration/);
    expect(() => countTokens('x', { encoding: 'gpt2' as never })).toThrow(/encoding "gpt2"/);
  });
});

describe('createCounter', () => {
  it('reuses one encoder, frees idempotently and refuses use after free', () => {
    const counter = createCounter('cl100k_base');
    expect(counter.count('hello world')).toBe(2);
    expect(counter.count(TEN_TOKENS)).toBe(10);
    expect(counter.count('')).toBe(0);
    counter.free();
    counter.free();
    expect(() => counter.count('hello')).toThrow(/after free/);
  });
});

describe('rerootGitignore', () => {
  it('anchors patterns with a slash to the folder and lets the others match at any depth below it', () => {
    const text = ['# comment', '', '*.log', 'out/', '/local.txt', 'a/b', '**/cache/', '!keep.log', '!/x/', '\\#lit', '\\!lit', '/', ''].join('\n');
    expect(rerootGitignore('sub/dir', text)).toEqual([
      'sub/dir/**/*.log',
      'sub/dir/**/out/',
      'sub/dir/local.txt',
      'sub/dir/a/b',
      'sub/dir/**/cache/',
      '!sub/dir/**/keep.log',
      '!sub/dir/x/',
      'sub/dir/**/#lit',
      'sub/dir/**/!lit',
    ]);
  });

  it('escapes glob characters in the folder name', () => {
    expect(rerootGitignore('a*b/[x]', 'y')).toEqual(['a\\*b/\\[x\\]/**/y']);
    expect(rerootGitignore('#f', 'y')).toEqual(['\\#f/**/y']);
    expect(rerootGitignore('!f', '/y')).toEqual(['\\!f/y']);
  });
});

describe('countPaths', () => {
  /** A tree exercising root and nested .gitignore files, binary, oversize, node_modules, .git and a symlink. */
  async function buildTree(root: string): Promise<void> {
    await writeTree(root, {
      '.gitignore': ['# root rules', '*.log', 'build/', '/only-root.txt', 'gen/', 'sub2/vendor/', ''].join('\n'),
      'a.ts': 'const x = 1;\n',
      'x.tmp': 'not ignored: the *.tmp rule lives in sub/.gitignore\n',
      'debug.log': 'ignored by *.log\n',
      'only-root.txt': 'ignored: anchored to the root\n',
      'build/out.js': 'ignored folder\n',
      'gen/root-gen.ts': 'ignored folder\n',
      'node_modules/pkg/index.js': 'module.exports = 1;\n',
      'pkg/node_modules/dep/index.js': 'nested node_modules are skipped too\n',
      'image.bin': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01, 0x02, 0x03]),
      'big.txt': 'x'.repeat(5000),
      'sub/.gitignore': ['*.tmp', '/local.txt', '!keep.log', '!gen/', ''].join('\n'),
      'sub/keep.log': 're-included by the nested negation\n',
      'sub/other.log': 'ignored by the root *.log\n',
      'sub/x.tmp': 'ignored by the nested *.tmp\n',
      'sub/local.txt': 'ignored: /local.txt is anchored to sub/\n',
      'sub/deep/local.txt': 'kept: /local.txt only matches sub/local.txt\n',
      'sub/deep/only-root.txt': 'kept: /only-root.txt only matches at the root\n',
      'sub/deep/y.tmp': 'ignored: *.tmp applies at any depth below sub/\n',
      'sub/gen/file.ts': 'kept: sub/.gitignore re-includes gen/\n',
      'sub2/vendor/lib.js': 'ignored: sub2/vendor/ is relative to the root\n',
      'sub2/main.ts': 'export {};\n',
      'sub2/vendor.ts': 'kept: sub2/vendor/ only matches a folder\n',
    });
    await fsp.symlink(path.join(root, 'a.ts'), path.join(root, 'link.ts'));
    await fsp.symlink(os.tmpdir(), path.join(root, 'linkdir'));
  }

  const KEPT = [
    '.gitignore',
    'a.ts',
    'image.bin',
    'sub/.gitignore',
    'sub/deep/local.txt',
    'sub/deep/only-root.txt',
    'sub/gen/file.ts',
    'sub/keep.log',
    'sub2/main.ts',
    'sub2/vendor.ts',
    'x.tmp',
  ];

  it('walks the root honouring root and nested .gitignore files, binary, oversize, node_modules, .git and symlinks', async () => {
    await buildTree(tmp);
    await writeTree(tmp, { '.git/HEAD': 'ref: refs/heads/main\n' });
    const result = await countPaths(tmp, ['.'], { maxBytes: 1000 });

    expect(result.files.map((f) => f.path)).toEqual(KEPT);
    const bin = result.files.find((f) => f.path === 'image.bin')!;
    expect(bin).toEqual({ path: 'image.bin', bytes: 8, tokens: 0, binary: true });
    const a = result.files.find((f) => f.path === 'a.ts')!;
    expect(a.binary).toBe(false);
    expect(a.bytes).toBe(13);
    expect(a.tokens).toBe(countTokens('const x = 1;\n'));

    expect(result.skipped).toEqual([
      { path: 'big.txt', reason: 'larger than 1000 bytes (5000 bytes)' },
      { path: 'link.ts', reason: 'symbolic link (not followed)' },
      { path: 'linkdir', reason: 'symbolic link (not followed)' },
    ]);
    expect(result.total_tokens).toBe(result.files.reduce((s, f) => s + f.tokens, 0));
    expect(result.total_bytes).toBe(result.files.reduce((s, f) => s + f.bytes, 0));
    expect(result.encoding).toBe('cl100k_base');
    expect(result.calibration).toBe(1);
  });

  it('treats no paths as the whole root and applies the default 2 MB limit', async () => {
    await buildTree(tmp);
    await writeTree(tmp, { 'huge.txt': 'a '.repeat(DEFAULT_MAX_BYTES / 2 + 1) });
    const result = await countPaths(tmp, []);
    expect(result.files.map((f) => f.path)).toEqual([...KEPT, 'big.txt'].sort());
    expect(result.skipped.map((s) => s.path)).toEqual(['huge.txt', 'link.ts', 'linkdir']);
  });

  it('selects the same files as git (ls-files --others --exclude-standard)', async () => {
    if (!hasGit()) return;
    await buildTree(tmp);
    // Extra patterns whose meaning depends on the folder of the .gitignore.
    await writeTree(tmp, {
      'w/.gitignore': ['/*', '!/keep/', '!/top.md', ''].join('\n'),
      'w/top.md': 'kept by the whitelist\n',
      'w/drop.md': 'dropped by /*\n',
      'w/keep/inner.md': 'kept: folder re-included\n',
      'w/dropdir/x.md': 'dropped\n',
      'd/.gitignore': ['**/cache/', 'docs/**/*.html', 'logs/*', '!logs/.keep', ''].join('\n'),
      'd/a/b/cache/c.txt': 'dropped by **/cache/\n',
      'd/docs/x/y.html': 'dropped\n',
      'd/docs/y.html': 'dropped: ** matches zero folders\n',
      'd/docs/y.md': 'kept\n',
      'd/other/docs/z.html': 'kept: docs/ anchored to d/\n',
      'd/logs/.keep': 'kept by negation\n',
      'd/logs/today.txt': 'dropped\n',
      'e/.gitignore': ['build/', ''].join('\n'),
      'e/f/.gitignore': ['!build/', 'secret.txt', ''].join('\n'),
      'e/build/x.js': 'dropped\n',
      'e/f/build/y.js': 'kept: re-included one level down\n',
      'e/f/build/secret.txt': 'dropped by the nested rule\n',
      'e/f/build/z.log': 'dropped: the root *.log still applies inside a re-included folder\n',
      'n/.gitignore': ['*', '!*.ts', ''].join('\n'),
      'n/a.ts': 'kept\n',
      'n/b.md': 'dropped\n',
      'n/deeper/c.ts': 'dropped: * excludes the folder itself\n',
      '#hash/.gitignore': '*.md\n',
      '#hash/x.md': 'dropped\n',
      '#hash/y.ts': 'kept\n',
      '!bang/.gitignore': '/x.md\n',
      '!bang/x.md': 'dropped\n',
      '!bang/s/x.md': 'kept\n',
      'br[1]/.gitignore': 'x.md\n',
      'br[1]/x.md': 'dropped\n',
      'br1/x.md': 'kept: brackets are literal in a folder name\n',
      'st*r/.gitignore': '*.md\n',
      'st*r/a.md': 'dropped\n',
      'crlf/.gitignore': '*.md\r\n!keep.md\r\n',
      'crlf/a.md': 'dropped\n',
      'crlf/keep.md': 'kept\n',
    });
    await writeTree(tmp, { 'stxr/a.md': 'kept: * is literal in a folder name\n' });
    execFileSync('git', ['init', '-q'], { cwd: tmp });
    const out = execFileSync('git', ['ls-files', '--others', '--exclude-standard', '-z'], { cwd: tmp, encoding: 'utf8' });
    const gitFiles = out
      .split('\0')
      .filter((p) => p !== '' && !/(^|\/)node_modules\//.test(p) && p !== 'link.ts' && p !== 'linkdir')
      .sort();
    // The oracle itself agrees with the comments above.
    expect(gitFiles).toEqual(
      expect.arrayContaining(['e/f/build/y.js', 'w/top.md', 'w/keep/inner.md', 'd/docs/y.md', 'd/other/docs/z.html', 'd/logs/.keep', 'n/a.ts']),
    );
    expect(gitFiles).toEqual(expect.arrayContaining(['#hash/y.ts', '!bang/s/x.md', 'br1/x.md', 'stxr/a.md', 'crlf/keep.md']));
    for (const dropped of [
      'e/build/x.js',
      'e/f/build/secret.txt',
      'e/f/build/z.log',
      'w/drop.md',
      'w/dropdir/x.md',
      'd/a/b/cache/c.txt',
      'd/docs/y.html',
      'd/logs/today.txt',
      'n/b.md',
      'n/deeper/c.ts',
      '#hash/x.md',
      '!bang/x.md',
      'br[1]/x.md',
      'st*r/a.md',
      'crlf/a.md',
    ]) {
      expect(gitFiles).not.toContain(dropped);
    }
    const result = await countPaths(tmp, ['.']);
    expect(result.files.map((f) => f.path)).toEqual(gitFiles);
  });

  it('applies the rules of every .gitignore above a named path, and of the ones inside it', async () => {
    await buildTree(tmp);
    const result = await countPaths(tmp, ['sub']);
    expect(result.files.map((f) => f.path)).toEqual([
      'sub/.gitignore',
      'sub/deep/local.txt',
      'sub/deep/only-root.txt',
      'sub/gen/file.ts',
      'sub/keep.log',
    ]);
    const deep = await countPaths(tmp, ['sub/deep']);
    expect(deep.files.map((f) => f.path)).toEqual(['sub/deep/local.txt', 'sub/deep/only-root.txt']);
    const viaAbsolute = await countPaths(tmp, [path.join(tmp, 'sub', 'deep')]);
    expect(viaAbsolute.files).toEqual(deep.files);
  });

  it('lists a named path that is ignored, in node_modules or a symlink as skipped, and counts named files', async () => {
    await buildTree(tmp);
    const result = await countPaths(tmp, ['a.ts', 'debug.log', 'sub/x.tmp', 'build', 'node_modules/pkg', 'link.ts', 'sub/keep.log']);
    expect(result.files.map((f) => f.path)).toEqual(['a.ts', 'sub/keep.log']);
    expect(result.skipped).toEqual([
      { path: 'build', reason: 'ignored by .gitignore' },
      { path: 'debug.log', reason: 'ignored by .gitignore' },
      { path: 'link.ts', reason: 'symbolic link (not followed)' },
      { path: 'node_modules/pkg', reason: 'node_modules/ folders are always skipped' },
      { path: 'sub/x.tmp', reason: 'ignored by .gitignore' },
    ]);
  });

  it('counts each file once when named paths overlap', async () => {
    await buildTree(tmp);
    const whole = await countPaths(tmp, ['.']);
    const overlapping = await countPaths(tmp, ['sub/deep', 'sub', 'sub/keep.log', '.', 'a.ts']);
    expect(overlapping.files).toEqual(whole.files);
    expect(overlapping.total_tokens).toBe(whole.total_tokens);
  });

  it('calibrates each file and rounds it up; the total is the sum of the files', async () => {
    await writeTree(tmp, { 'one.txt': 'hello world', 'two.txt': TEN_TOKENS });
    const result = await countPaths(tmp, ['.'], { calibration: 1.25, encoding: 'o200k_base' });
    expect(result.files.map((f) => [f.path, f.tokens])).toEqual([
      ['one.txt', 3],
      ['two.txt', 13],
    ]);
    expect(result.total_tokens).toBe(16);
    expect(result.encoding).toBe('o200k_base');
    expect(result.calibration).toBe(1.25);
  });

  it('decodes UTF-8 and counts an empty file as 0 tokens', async () => {
    await writeTree(tmp, { 'empty.md': '', 'utf8.md': 'héllo wörld — ünïcode ✓' });
    const result = await countPaths(tmp, ['.']);
    expect(result.files).toEqual([
      { path: 'empty.md', bytes: 0, tokens: 0, binary: false },
      { path: 'utf8.md', bytes: Buffer.byteLength('héllo wörld — ünïcode ✓'), tokens: countTokens('héllo wörld — ünïcode ✓'), binary: false },
    ]);
  });

  it('throws a clear error naming a missing path, a missing root or a path outside the root', async () => {
    await writeTree(tmp, { 'a.ts': 'x' });
    await expect(countPaths(tmp, ['a.ts', 'nope/missing.ts'])).rejects.toMatchObject({
      code: 'not_found',
      message: expect.stringContaining('nope/missing.ts'),
    });
    await expect(countPaths(tmp, ['a.ts/child'])).rejects.toMatchObject({ code: 'not_found' });
    const missingRoot = path.join(tmp, 'no-such-root');
    await expect(countPaths(missingRoot, [])).rejects.toThrow(missingRoot);
    await expect(countPaths(tmp, ['../elsewhere'])).rejects.toMatchObject({ code: 'usage', message: expect.stringContaining('outside') });
    await expect(countPaths(path.join(tmp, 'a.ts'), [])).rejects.toThrow(/not a folder/);
  });
});
