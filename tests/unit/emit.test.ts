// emitYaml writes exactly what the yaml package writes for the documents it covers, and declines the rest.
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { emitYaml, schemaComment } from '../../src/store/emit.js';
import { renderFresh } from '../../src/store/yaml.js';
import { task, T0 } from './fixtures.js';

const HEADER = schemaComment('../schemas/task.schema.json');

/** A deterministic pseudo-random source (mulberry32), so a failure names a seed that reproduces it. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Strings yaml treats specially: words that resolve to other types, indicators, markers, quotes, spaces where they matter. */
const TRICKY = ['', ' ', 'null', 'Null', 'NULL', '~', 'true', 'True', 'TRUE', 'false', 'FALSE', 'yes', 'No', 'on', '0o17', '0o8', '0x1F', '0xg', '-.inf', '.Inf', '.nan', '.NaN', '1e3', '-2E+5', '.5e1', '1.5', '1.', '.5', '+1', '-0', '007', '12', '---', '--- x', '...', '%YAML', '- ', '-', '-x', '?', '? x', '?x', 'a: b', 'a:b', 'a:', ':a', 'a #b', 'a#b', '#a', ' a', 'a ', 'a  b', "it's", 'say "hi"', `"'`, 'back\\slash', '[x]', '{x}', 'a,b', ',a', '&a', '*a', '!a', '|a', '>a', '@a', '`a', '%a', 'tab\there', 'line\nbreak', 'trail\n', 'café', '→', T0, '2026-11-22', 'npm test -- --run', 'src/a.ts', 'task-001', 'feat(store): a: b'];
const ALPHABET = [...'  ab:#-?\'",[]{}&*!|>%@`.~0123456789eEoxnulTtrfNI\\'];
/** Characters emitYaml declines (yaml writes them with escapes or other styles), drawn rarely. */
const RARE = ['\t', '\n', '\r', '\u0085', '\u2028', '\u2029', '\ufeff', '\ud800', '\u0007', '\u007f', '\u009f'];
/** Non-ASCII text emitYaml writes as yaml does: letters, dashes, arrows, a no-break space, CJK, an emoji (a surrogate pair). */
const WIDE = ['é', 'ß', '—', '→', '…', '\u00a0', '中文', '😀', '\ue000', '\ufffd'];

function randomString(r: () => number): string {
  if (r() < 0.4) return TRICKY[Math.floor(r() * TRICKY.length)]!;
  let s = '';
  const n = Math.floor(r() * 8);
  for (let i = 0; i < n; i++) {
    const k = r();
    s += k < 0.01 ? RARE[Math.floor(r() * RARE.length)] : k < 0.1 ? WIDE[Math.floor(r() * WIDE.length)] : ALPHABET[Math.floor(r() * ALPHABET.length)];
  }
  return s;
}

const NUMBERS = [0, 1, -1, 42, 4000, -17, 2 ** 53 - 1, 120_000];
/** Numbers emitYaml declines, drawn rarely. */
const ODD_NUMBERS = [2 ** 53, -0, 0.5, 1e21, Number.NaN, Number.POSITIVE_INFINITY];

function randomValue(r: () => number, depth: number): unknown {
  const k = r();
  if (k < 0.35) return randomString(r);
  if (k < 0.45) return r() < 0.02 ? ODD_NUMBERS[Math.floor(r() * ODD_NUMBERS.length)] : NUMBERS[Math.floor(r() * NUMBERS.length)];
  if (k < 0.5) return r() < 0.5;
  if (k < 0.58) return null;
  if (k < 0.6) return undefined;
  if (depth >= 3) return randomString(r);
  if (k < 0.8) return Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth + 1));
  return randomMap(r, depth + 1);
}

function randomMap(r: () => number, depth: number): Record<string, unknown> {
  const keys = ['id', 'name', 'at', 'text', 'x_1', 'Agent', '_', 'blocked_by'];
  /** Keys emitYaml declines (yaml would quote or otherwise mark them), drawn rarely. */
  const oddKeys = ['null', 'true', 'a-b', 'a b', '9'];
  const out: Record<string, unknown> = {};
  const n = Math.floor(r() * 5);
  for (let i = 0; i < n; i++) out[r() < 0.01 ? oddKeys[Math.floor(r() * oddKeys.length)]! : keys[Math.floor(r() * keys.length)]!] = randomValue(r, depth);
  return out;
}

describe('emitYaml', () => {
  it("renders piv's task files exactly as yaml does, with attempts and notes", () => {
    const cases = [
      task('task-001'),
      task('task-002', { status: 'in_progress', owner: 'agent-1', claimed_at: T0, lease_expires_at: T0, started_at: T0, blocked_by: ['task-001'], files: ['src/a.ts', 'src/b c.ts'] }),
      task('task-003', { action: 'Implement the worker queue part: task report endpoint', done: 'it "works"', notes: [{ at: T0, text: 'released: lease ended' }] }),
      task('task-005', { name: 'Café menu — prices → euros', notes: [{ at: T0, text: 'released by main: status 161→148 ms; «done» 😀' }] }),
      task('task-004', { attempts: [{ at: T0, agent: 'main', command: 'npm test', exit_code: 1, passed: false, duration_ms: 120, output_tail: 'FAIL 1 test' }] }),
    ];
    for (const t of cases) {
      const fast = emitYaml(t as unknown as Record<string, unknown>, HEADER);
      expect(fast).not.toBeNull();
      expect(fast).toBe(renderFresh(t as unknown as Record<string, unknown>, HEADER));
    }
  });

  it('matches yaml byte for byte on 20,000 generated documents, and declines only what it does not cover', () => {
    let covered = 0;
    for (let seed = 1; seed <= 20_000; seed++) {
      const r = rng(seed);
      const doc = randomMap(r, 0);
      const fast = emitYaml(doc, HEADER);
      if (fast === null) continue;
      covered++;
      const slow = renderFresh(doc, HEADER);
      if (fast !== slow) expect({ seed, doc, fast }).toEqual({ seed, doc, fast: slow });
      expect(parse(fast)).toEqual(JSON.parse(JSON.stringify(doc)) ?? null);
    }
    // Not a vacuous comparison: most documents are covered (the rest hold floats, non-ASCII, line breaks, odd keys).
    expect(covered).toBeGreaterThan(10_000);
  });

  it('declines what it does not cover', () => {
    for (const doc of [{}, { a: 'bell\u0007' }, { a: 'two\nlines' }, { a: 'next\u0085line' }, { a: 'sep\u2028' }, { a: '\ufeffbom' }, { a: 'lone \ud800' }, { a: 1.5 }, { a: -0 }, { a: 2 ** 53 }, { 'a b': 1 }, { null: 1 }, { a: '--- x' }, { a: [undefined] }, { a: new Date(0) }, { a: 1n }]) {
      expect(emitYaml(doc as Record<string, unknown>, HEADER)).toBeNull();
    }
  });
});
