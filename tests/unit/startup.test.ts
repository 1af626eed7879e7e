// Start-up stays light: `--version` loads nothing; the verbs agents run dozens of times never statically import the tokenizer, git, execa, graphlib, or (on the cached read path) the YAML parser and zod.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { restoreLauncherEnv } from '../../src/launcher-env.js';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/** Every module reachable from `entry` through static imports (dynamic `import()` is where heavy modules belong). */
function staticClosure(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    if (!file.startsWith(SRC)) return;
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^(?:import|export)\s+(?!type\b)[^;]*?from\s+'([^']+)'/gms)) {
      const spec = m[1]!;
      if (m[0].startsWith('import type') || m[0].startsWith('export type')) continue;
      if (spec.startsWith('.')) visit(path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts')));
      else seen.add(spec);
    }
  };
  visit(path.join(SRC, entry));
  return seen;
}

describe('start-up cost', () => {
  it.each(['bin.ts', 'verbs/execute.ts', 'verbs/status.ts', 'verbs/validate.ts', 'verbs/hook.ts'])('%s does not statically load tiktoken, simple-git, execa, graphlib or the MCP SDK', (entry) => {
    const closure = staticClosure(entry);
    expect(closure.size).toBeGreaterThan(entry === 'bin.ts' ? 2 : 5); // the walk found the imports
    for (const heavy of ['tiktoken', 'simple-git', 'execa', '@dagrejs/graphlib', 'proper-lockfile', path.join(SRC, 'tokens/count.ts'), path.join(SRC, 'exec/run.ts'), path.join(SRC, 'git/git.ts'), path.join(SRC, 'git/plumbing.ts')]) expect(closure).not.toContain(heavy);
    expect([...closure].filter((m) => m.startsWith('@modelcontextprotocol/'))).toEqual([]);
  });

  it.each(['bin.ts', 'verbs/execute.ts', 'verbs/status.ts', 'store/index.ts'])('%s reaches neither the YAML parser nor zod statically: a cache hit needs neither', (entry) => {
    const closure = [...staticClosure(entry)];
    if (entry !== 'bin.ts') expect(closure).toContain(path.join(SRC, 'store/cache.ts')); // the walk reached the store
    expect(closure.filter((m) => m.startsWith('zod') || m === 'yaml' || m.endsWith('store/yaml.ts') || m.endsWith('store/schemas.ts'))).toEqual([]);
    // ...while the parser and the schemas stay reachable, lazily, for a miss or a write.
    expect(staticClosure('store/yaml.ts')).toContain('yaml');
    expect(staticClosure('store/schemas.ts')).toContain('zod/mini');
  });

  it('the shipped entry point loads only node built-ins before answering --version (not even commander)', () => {
    expect([...staticClosure('entry.ts')].filter((m) => !m.startsWith(SRC))).toEqual(['node:fs', 'node:url']);
  });

  it('the MCP SDK is reachable only through the mcp verb', () => {
    expect([...staticClosure('verbs/mcp.ts')].some((m) => m.startsWith('@modelcontextprotocol/sdk'))).toBe(true);
  });

  it('the tokenizer is reachable only through dynamic import', () => {
    expect(staticClosure('tokens/estimate.ts')).toContain('tiktoken');
    expect(staticClosure('verbs/plan.ts')).not.toContain('tiktoken');
  });
});

describe('restoreLauncherEnv', () => {
  it('puts back what the launcher set aside, even an empty value, and removes the stash', () => {
    const env: NodeJS.ProcessEnv = { PIV_NODE_EXTRA_CA_CERTS: '/etc/ssl/certs/ca.pem', PATH: '/bin' };
    expect(restoreLauncherEnv(env)).toBe(true);
    expect(env).toEqual({ NODE_EXTRA_CA_CERTS: '/etc/ssl/certs/ca.pem', PATH: '/bin' });
    const empty: NodeJS.ProcessEnv = { PIV_NODE_EXTRA_CA_CERTS: '' };
    expect(restoreLauncherEnv(empty)).toBe(true);
    expect(empty).toEqual({ NODE_EXTRA_CA_CERTS: '' });
  });

  it('changes nothing without a stash, and keeps a NODE_EXTRA_CA_CERTS set some other way', () => {
    const none: NodeJS.ProcessEnv = { NODE_EXTRA_CA_CERTS: '/a.pem' };
    expect(restoreLauncherEnv(none)).toBe(false);
    expect(none).toEqual({ NODE_EXTRA_CA_CERTS: '/a.pem' });
    const both: NodeJS.ProcessEnv = { NODE_EXTRA_CA_CERTS: '/a.pem', PIV_NODE_EXTRA_CA_CERTS: '/b.pem' };
    expect(restoreLauncherEnv(both)).toBe(false);
    expect(both).toEqual({ NODE_EXTRA_CA_CERTS: '/a.pem' });
  });
});
