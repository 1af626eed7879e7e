import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PivError } from '../../src/errors.js';
import { readTask, readTasks, writeTask } from '../../src/store/index.js';
import { jsonSchemaOf, SCHEMAS, TaskSchema, type SchemaName } from '../../src/store/schemas.js';
import { parseYaml, renderYaml } from '../../src/store/yaml.js';
import { task } from './fixtures.js';
import { randomTasks } from '../../bench/lib/graph.mjs';
import { claim, complete, release } from '../../src/core/transitions.js';
import type { Task } from '../../src/store/schemas.js';

const source = { file: '.agents/tasks/task-001.yaml', kind: 'task file' };
const errorOf = (fn: () => unknown): PivError => {
  try {
    fn();
  } catch (error) {
    return error as PivError;
  }
  throw new Error('expected an error');
};

describe('schemas', () => {
  it.each(Object.keys(SCHEMAS) as SchemaName[])('schemas/%s.schema.json is up to date (run npm run schemas)', (name) => {
    const file = new URL(`../../schemas/${name}.schema.json`, import.meta.url);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(jsonSchemaOf(name));
  });

  it('task schema is strict: an unknown key is rejected', () => {
    expect(TaskSchema.safeParse({ ...task('task-001'), priorty: 'high' }).success).toBe(false);
  });
});

describe('parseYaml errors name the file, the line and the field', () => {
  const valid = renderYaml(task('task-001') as unknown as Record<string, unknown>, '../schemas/task.schema.json');

  it('a misspelt key: line of the key and a did-you-mean hint', () => {
    const text = valid.replace('priority: medium', 'priorty: medium');
    const line = text.split('\n').findIndex((l) => l.startsWith('priorty')) + 1;
    const e = errorOf(() => parseYaml(text, TaskSchema, source));
    expect(e).toMatchObject({ code: 'invalid_file', exitCode: 2, file: source.file, line, field: 'priorty' });
    expect(e.hint).toContain('Did you mean "priority"?');
    expect(e.message).toBe(`${source.file}:${line}: field "priorty": unknown field "priorty"`);
  });

  it('a wrong value: line of the value, dotted field path', () => {
    const text = valid.replace('blocked_by: []', 'blocked_by:\n  - task-1');
    const line = text.split('\n').findIndex((l) => l === '  - task-1') + 1;
    const e = errorOf(() => parseYaml(text, TaskSchema, source));
    expect(e).toMatchObject({ line, field: 'blocked_by.0' });
    expect(e.message).toContain('a task id looks like task-001');
  });

  it('a missing required field', () => {
    const e = errorOf(() => parseYaml(valid.replace(/^name: .*\n/m, ''), TaskSchema, source));
    expect(e).toMatchObject({ field: 'name' });
    expect(e.message).toContain('is required');
  });

  it('a YAML syntax error', () => {
    const e = errorOf(() => parseYaml('id: task-001\nname: [unclosed\nstatus: pending\n', TaskSchema, source));
    expect(e.code).toBe('invalid_file');
    expect(e.line).toBeGreaterThanOrEqual(2);
    expect(e.message).toMatch(/^\.agents\/tasks\/task-001\.yaml:\d+: YAML syntax error/);
  });

  it('a plain value holding ": " gets a hint to quote it; other syntax errors the general one', () => {
    const text = valid.replace(/^blocker: .*$/m, 'blocker: the login works: 200 OK');
    const e = errorOf(() => parseYaml(text, TaskSchema, source));
    expect(e.message).toMatch(/^\.agents\/tasks\/task-001\.yaml:\d+: YAML syntax error: Nested mappings/);
    expect(e.line).toBe(text.split('\n').findIndex((l) => l.startsWith('blocker: ')) + 1);
    expect(e.hint).toContain('must be quoted (done: "Login works: 200 OK")');
    expect(errorOf(() => parseYaml('id: task-001\nname: [unclosed\n', TaskSchema, source)).hint).toContain('Fix the YAML syntax of this task file');
  });

  it('brackets inside a multi-line quoted scalar do not count as nesting (a verify output tail full of ANSI codes)', () => {
    const tail = Array.from({ length: 200 }, (_, i) => `\\e[33m\\e[2m✓ test ${i}\\e[22m`).join('\n\n      ');
    const withTail = { ...task('task-001'), attempts: [{ at: '2026-01-01T00:00:00.000Z', agent: 'main', exit_code: 0, passed: true, skipped: false, duration_ms: 5, timed_out: false, output_tail: tail }] };
    const text = renderYaml(withTail as unknown as Record<string, unknown>, '../schemas/task.schema.json');
    expect(text.split('[').length).toBeGreaterThan(300);
    expect(parseYaml(text, TaskSchema, source).attempts[0]!.output_tail).toBe(tail);
    // The same text written by hand as a double-quoted scalar spanning lines.
    const quoted = `${valid.trimEnd()}\nnotes:\n  - at: 2026-01-01T00:00:00.000Z\n    text: "${'[x '.repeat(50)}\n      ${'{y '.repeat(200)}"\n`;
    expect(parseYaml(quoted.replace(/^notes: \[\]\n/m, ''), TaskSchema, source).notes[0]!.text).toContain('{y');
  });

  it('flow collections nested past the bound are refused before parsing, naming the line', () => {
    const e = errorOf(() => parseYaml(`${valid}extra:\n  ${'['.repeat(129)}${']'.repeat(129)}\n`, TaskSchema, source));
    expect(e).toMatchObject({ code: 'invalid_file', exitCode: 2 });
    expect(e.message).toMatch(/task-001\.yaml:\d+: nested more than 128 levels deep/);
    expect(e.line).toBe(valid.split('\n').length + 1);
    const ok = errorOf(() => parseYaml(`${valid}extra: ${'['.repeat(100)}${']'.repeat(100)}\n`, TaskSchema, source));
    expect(ok.field).toBe('extra'); // parsed: only the schema objects
  });
});

describe('task files', () => {
  let dir = '';
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('round-trip, start with the schema line, and keep comments on unchanged fields', async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'piv-store-'));
    mkdirSync(path.join(dir, '.agents', 'tasks'), { recursive: true });
    const t = task('task-001', { action: 'line one\nline two' });
    await writeTask(dir, t);
    const file = path.join(dir, '.agents', 'tasks', 'task-001.yaml');
    const text = readFileSync(file, 'utf8');
    expect(text.startsWith('# yaml-language-server: $schema=../schemas/task.schema.json\n')).toBe(true);
    expect(await readTask(dir, 'task-001')).toEqual(t);
    writeFileSync(file, text.replace('verify: "true"', 'verify: "true" # keep me'));
    await writeTask(dir, { ...t, status: 'in_progress', owner: 'a' });
    const after = readFileSync(file, 'utf8');
    expect(after).toContain('# keep me');
    expect(after).toContain('status: in_progress');
  });

  it('a file without comments is rendered afresh, to the text the comment-keeping render gives', () => {
    const ref = '../schemas/task.schema.json';
    const now = '2026-12-02T10:00:00.000Z';
    const attempt = { at: now, agent: 'a', exit_code: 0, passed: true, skipped: false, duration_ms: 12, timed_out: false, output_tail: 'ok\n\u001b[32m✓\u001b[0m done [1/1]' };
    let compared = 0;
    for (const t of randomTasks(300, { seed: 0x51ab }) as Task[]) {
      const before = renderYaml(t as unknown as Record<string, unknown>, ref);
      // The transitions piv writes most: claim, complete, release, and one that adds a multi-line note.
      const pending = t.status === 'pending' ? t : { ...t, status: 'pending' as const, owner: null, lease_expires_at: null, claimed_at: null, completed_at: null };
      const claimed = claim(pending, 'a', now, 3_600_000);
      for (const after of [claimed, complete(claimed, 'a', attempt, now, 1234), release(claimed, 'a', now, 'later\nand more'), { ...t, name: `${t.name}: "quoted" [x]`, files: [] }]) {
        const data = after as unknown as Record<string, unknown>;
        const fresh = renderYaml(data, ref, before);
        if (before.indexOf('#', before.indexOf('\n')) >= 0) continue; // a comment-free file only
        expect(fresh).toBe(renderYaml(data, ref, before, { keep: true }));
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(1000);
  });

  it('a file whose id differs from its name is an error', async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'piv-store-'));
    mkdirSync(path.join(dir, '.agents', 'tasks'), { recursive: true });
    await writeTask(dir, task('task-002'));
    rmSync(path.join(dir, '.agents', 'tasks', 'task-003.yaml'), { force: true });
    writeFileSync(path.join(dir, '.agents', 'tasks', 'task-003.yaml'), readFileSync(path.join(dir, '.agents', 'tasks', 'task-002.yaml')));
    await expect(readTasks(dir)).rejects.toMatchObject({ code: 'invalid_file', field: 'id' });
  });
});
