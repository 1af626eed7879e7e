// Start-up stays light: the verbs agents run dozens of times never statically import the tokenizer, git or execa.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

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
  it.each(['bin.ts', 'verbs/execute.ts', 'verbs/status.ts', 'verbs/hook.ts'])('%s does not statically load tiktoken, simple-git, execa or the MCP SDK', (entry) => {
    const closure = staticClosure(entry);
    expect(closure.size).toBeGreaterThan(entry === 'bin.ts' ? 2 : 5); // the walk found the imports
    for (const heavy of ['tiktoken', 'simple-git', 'execa', path.join(SRC, 'tokens/count.ts')]) expect(closure).not.toContain(heavy);
    expect([...closure].filter((m) => m.startsWith('@modelcontextprotocol/'))).toEqual([]);
  });

  it('the MCP SDK is reachable only through the mcp verb', () => {
    expect([...staticClosure('verbs/mcp.ts')].some((m) => m.startsWith('@modelcontextprotocol/sdk'))).toBe(true);
  });

  it('the tokenizer is reachable only through dynamic import', () => {
    expect(staticClosure('tokens/estimate.ts')).toContain('tiktoken');
    expect(staticClosure('verbs/plan.ts')).not.toContain('tiktoken');
  });
});
