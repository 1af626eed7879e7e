// Hostile input: thousands of generated malformed task and session files are refused with a clear error (file, and line
// where there is one) and the documented exit code; never a stack trace, a crash or a write.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseYaml } from '../../src/store/yaml.js';
import { SessionSchema, TaskSchema } from '../../src/store/schemas.js';
import { PivError } from '../../src/errors.js';
import { seeded } from '../../bench/lib/random.mjs';
import { cloneRepo, piv, pivAsync, read, seedRepo, snapshot, tempRepo, write } from '../helpers/repo.js';

// mulberry32 (bench/lib/random.mjs): the same seed generates the same inputs on every run, so a failure can be replayed.
type Rng = ReturnType<typeof seeded>;

const VALID_TASK: Record<string, string> = {
  version: '1',
  id: 'task-002',
  name: 'Create User repository',
  status: 'pending',
  priority: 'high',
  phase: 'repo',
  commit_type: 'feat',
  action: 'Write the repository.',
  files: '[src/repo.js]',
  verify: 'test -f src/repo.js',
  done: "''",
  blocked_by: '[task-001]',
  estimated_tokens: '12000',
  created_at: '2026-11-22T04:54:07.243Z',
  attempts: '[]',
};
const VALID_SESSION: Record<string, string> = {
  version: '1',
  feature: 'user-authentication',
  title: "''",
  request: "''",
  phase: 'plan',
  status: 'active',
  created_at: '2026-11-22T04:54:07.243Z',
  updated_at: '2026-11-22T04:54:07.243Z',
  decisions: '[]',
};
const render = (fields: Record<string, string>) => Object.entries(fields).map(([k, v]) => `${k}: ${v}`).join('\n') + '\n';

/** Values of a type no field of that name accepts. */
const WRONG: Record<string, string[]> = {
  version: ['"1"', '2', '0', 'null', '[1]', '1.5'],
  id: ['42', 'null', '[task-002]', '{a: 1}', "'task-2'", "'TASK-002'"],
  name: ['42', 'null', '[a, b]', '{a: 1}', "''", 'true'],
  status: ['done', 'null', '3', '[pending]', 'PENDING'],
  priority: ['urgent', '1', 'null', '[high]'],
  phase: ['42', '[a]', "'two words'", "'a;b'"],
  commit_type: ['Feat', '42', "'feat!'", 'null'],
  action: ['42', '[a]', '{a: 1}'],
  files: ['src/repo.js', '42', '{a: 1}', '[42]', '[null]', "['']"],
  verify: ['42', '[a]', '{a: 1}', 'true'],
  blocked_by: ['task-001', '[42]', '[task-1]', '{a: 1}', '[null]'],
  estimated_tokens: ['-1', '1.5', 'many', '[1]', 'true'],
  created_at: ['yesterday', '42', 'null', "'2026-13-45T00:00:00Z'"],
  attempts: ['x', '42', '[x]', '[{}]', '{a: 1}'],
  feature: ["'User Auth'", '42', 'null', "'-auth'", "'a_b'"],
  title: ['42', '[a]', '{a: 1}'],
  request: ['[a]', '{a: 1}', '42'],
  updated_at: ['now', '42'],
  decisions: ['x', '[x]', '[{answer: y}]', '42', '[{question: ""}]'],
};

/** Ids, paths and words that must never reach a shell or leave the repository. */
const HOSTILE_IDS = ['task-001; rm -rf ~', 'task-001$(touch pwned)', '`touch pwned`', 'task-001 && echo x', '../task-001', 'task-001\n', '|x', '"; exit 1', 'task-\u0000001', 'task-001/../../x'];
const ESCAPING_PATHS = ['../outside.js', '/etc/passwd', 'src/../../x', '..', 'C:\\Windows\\x', 'a/../../../b', '../../.ssh/id_rsa'];

function deep(rng: Rng): string {
  const depth = rng.int(130, 3000);
  switch (rng.int(0, 3)) {
    case 0:
      return '['.repeat(depth) + ']'.repeat(depth);
    case 1:
      return '{a: '.repeat(depth) + '1' + '}'.repeat(depth);
    case 2:
      return '\n' + Array.from({ length: depth }, (_, i) => ' '.repeat(i + 1) + '-').join('\n') + ' x';
    default:
      return '\n' + Array.from({ length: depth }, (_, i) => ' '.repeat(i + 1) + 'a:').join('\n') + ' 1';
  }
}

function aliasBomb(rng: Rng): string {
  const width = rng.int(6, 12);
  const levels = rng.int(5, 9);
  let text = `\n  l0: &l0 [${Array(width).fill('"lol"').join(', ')}]`;
  for (let i = 1; i < levels; i++) text += `\n  l${i}: &l${i} [${Array(width).fill(`*l${i - 1}`).join(', ')}]`;
  return text;
}

/** One hostile file: always invalid by construction (the test would be worthless if a generated input could be valid). */
function hostile(rng: Rng, base: Record<string, string>): { kind: string; text: string } {
  const fields = { ...base };
  const keys = Object.keys(base);
  const kind = rng.pick(['wrong_type', 'huge', 'deep', 'alias_bomb', 'escaping_path', 'shell_id', 'unknown_key', 'syntax', 'not_a_mapping', 'missing'] as const);
  const isTask = 'blocked_by' in base;
  switch (kind) {
    case 'wrong_type': {
      const key = rng.pick(keys.filter((k) => WRONG[k]));
      fields[key] = rng.pick(WRONG[key]!);
      break;
    }
    case 'huge':
      // Past the schema's limit for a name, or past the size piv reads at all.
      if (rng.rand() < 0.05) fields[isTask ? 'action' : 'title'] = `'${'y'.repeat(17 * 1024 * 1024)}'`;
      else fields[isTask ? 'name' : 'feature'] = rng.pick(['x', 'a-']).repeat(rng.int(isTask ? 101 : 65, 300_000));
      break;
    case 'deep':
      fields[rng.pick(isTask ? ['action', 'files', 'attempts', 'name'] : ['decisions', 'title', 'request'])] = deep(rng);
      break;
    case 'alias_bomb':
      fields[rng.pick(isTask ? ['files', 'attempts', 'action'] : ['decisions', 'title'])] = aliasBomb(rng);
      break;
    case 'escaping_path':
      if (isTask) fields.files = JSON.stringify(['src/ok.js', rng.pick(ESCAPING_PATHS)]);
      else fields.feature = JSON.stringify(rng.pick(ESCAPING_PATHS));
      break;
    case 'shell_id':
      fields[isTask ? rng.pick(['id', 'blocked_by']) : 'feature'] = JSON.stringify(fields.blocked_by !== undefined && rng.rand() < 0.3 ? [rng.pick(HOSTILE_IDS)] : rng.pick(HOSTILE_IDS));
      break;
    case 'unknown_key':
      // defineProperty: `fields.__proto__ = …` would set the prototype instead of adding the key.
      Object.defineProperty(fields, rng.pick(['priorty', 'stauts', 'owner_id', '__proto__', 'constructor', 'toString', 'x'.repeat(rng.int(1, 300))]), {
        value: rng.pick(['1', 'x', '[]', '{}', '{status: completed}']),
        enumerable: true,
      });
      break;
    case 'syntax': {
      const key = rng.pick(keys);
      fields[key] = rng.pick([`"unterminated`, `[a, b`, `{a: 1`, `a: b: c`, `'it''s`, `- a\n- b`, `*undefined_alias`, '!!binary |\n  ###']);
      if (fields[key] === `'it''s`) fields[key] += '\n  broken: [';
      break;
    }
    case 'not_a_mapping':
      return { kind, text: rng.pick(['- a\n- b\n', 'just a string\n', '42\n', '[1, 2]\n', '"quoted"\n', 'null\n', '---\n', '\u0000\u0001\u0002']) };
    case 'missing':
      delete fields[rng.pick(['version', ...(isTask ? ['id', 'name', 'created_at'] : ['feature', 'created_at'])])];
      if (Object.keys(fields).length === keys.length) delete fields.version;
      break;
  }
  if (kind === 'syntax' && rng.rand() < 0.3) {
    // A duplicated key (uniqueKeys) or a tab-indented line.
    return { kind, text: render(fields) + (rng.rand() < 0.5 ? `${rng.pick(keys)}: again\n` : 'files:\n\t- a\n') };
  }
  return { kind, text: render(fields) };
}

const INPUTS = 3000;

describe('fuzz: hostile task and session files through the store', () => {
  it(`refuses ${INPUTS} generated inputs with PivError invalid_file naming the file; never another error`, () => {
    const rng = seeded(20261122);
    const kinds = new Map<string, number>();
    for (let n = 0; n < INPUTS; n++) {
      const isTask = n % 3 !== 0;
      const file = isTask ? '.agents/tasks/task-002.yaml' : '.agents/state/session.yaml';
      const { kind, text } = hostile(rng, isTask ? VALID_TASK : VALID_SESSION);
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
      let thrown: unknown;
      try {
        parseYaml(text, isTask ? TaskSchema : SessionSchema, { file, kind: isTask ? 'task file' : 'session file' });
      } catch (error) {
        thrown = error;
      }
      const context = `input #${n} (${kind}): ${text.slice(-300)}`;
      expect(thrown, context).toBeInstanceOf(PivError);
      const error = thrown as PivError;
      expect(error.code, context).toBe('invalid_file');
      expect(error.message.startsWith(`${file}`), context).toBe(true);
      expect(error.message.length, context).toBeLessThan(2000);
      if (error.line !== undefined) expect(error.line, context).toBeGreaterThan(0);
    }
    // Every kind of hostility was generated (the generator did not collapse into one case).
    expect([...kinds.keys()].sort()).toEqual(['alias_bomb', 'deep', 'escaping_path', 'huge', 'missing', 'not_a_mapping', 'shell_id', 'syntax', 'unknown_key', 'wrong_type']);
  });

  it('the unmodified templates are valid (so every refusal above is caused by the mutation)', () => {
    expect(() => parseYaml(render(VALID_TASK), TaskSchema, { file: 't', kind: 'task file' })).not.toThrow();
    expect(() => parseYaml(render(VALID_SESSION), SessionSchema, { file: 's', kind: 'session file' })).not.toThrow();
  });
});

describe.concurrent('fuzz: hostile files through the built binary', () => {
  let seededDir: string;
  const cleanups: (() => void)[] = [];
  beforeAll(() => {
    const repo = tempRepo();
    cleanups.push(repo.cleanup);
    seedRepo(repo.dir);
    // task-001 is claimed and its work is done: `piv done task-001` would commit, were it not for the hostile file.
    const claimed = piv(repo.dir, ['execute', '--json']);
    if (claimed.json?.result?.task?.id !== 'task-001') throw new Error(`fixture: ${claimed.stdout}${claimed.stderr}`);
    write(repo.dir, { 'src/user.js': 'export const user = 1;\n' });
    seededDir = repo.dir;
  });
  afterAll(() => {
    for (const cleanup of cleanups.splice(0)) cleanup();
  });

  /** One input of each kind for a task file and for the session, plus a cycle and a dangling id. */
  const rng = seeded(7);
  const cases: { name: string; file: string; text: string }[] = [];
  for (const [file, base, per] of [['.agents/tasks/task-002.yaml', VALID_TASK, 1], ['.agents/state/session.yaml', VALID_SESSION, 1]] as const) {
    const wanted = new Map<string, number>();
    while ([...wanted.values()].reduce((a, b) => a + b, 0) < per * 10) {
      const { kind, text } = hostile(rng, base);
      if ((wanted.get(kind) ?? 0) >= per) continue;
      wanted.set(kind, (wanted.get(kind) ?? 0) + 1);
      cases.push({ name: `${path.basename(file)} ${kind} #${wanted.get(kind)}`, file, text });
    }
  }
  cases.push({ name: 'task-002.yaml a cycle (task-001 ⇄ task-002)', file: '.agents/tasks/task-001.yaml', text: '' });
  cases.push({ name: 'task-002.yaml is a folder', file: '.agents/tasks/task-002.yaml', text: '<folder>' });
  cases.push({ name: 'task-002.yaml blocked by a task that does not exist', file: '.agents/tasks/task-002.yaml', text: render({ ...VALID_TASK, blocked_by: '[task-999]' }) });

  it.each(cases)('$name: exit 2 (validate: 1), a clear error, no stack trace, nothing written', async ({ file, text }) => {
    const repo = cloneRepo(seededDir);
    cleanups.push(repo.cleanup);
    const dir = repo.dir;
    if (text === '') {
      // A cycle: task-001 now waits on task-002, which waits on task-001.
      writeFileSync(path.join(dir, file), read(dir, file).replace(/^blocked_by: \[\]$/m, 'blocked_by: [task-002]'));
    } else if (text === '<folder>') {
      rmSync(path.join(dir, file));
      mkdirSync(path.join(dir, file, 'inside'), { recursive: true });
      writeFileSync(path.join(dir, file, 'inside', 'x'), 'x');
    } else writeFileSync(path.join(dir, file), text);
    const before = snapshot(dir);
    for (const args of [['status', '--json'], ['execute', '--json'], ['done', 'task-001', '--json'], ['pause', '--json'], ['validate', '--stage', 'state', '--no-report', '--json']]) {
      const r = await pivAsync(dir, args, { timeoutMs: 60_000 });
      const context = `piv ${args.join(' ')}: ${r.stdout.slice(0, 500)} ${r.stderr.slice(0, 500)}`;
      expect(r.stderr, context).not.toMatch(/^\s+at /m);
      expect(r.json, context).toBeDefined();
      expect(r.json.ok, context).toBe(false);
      if (args[0] === 'validate') {
        expect(r.code, context).toBe(1);
        const state = r.json.result.stages.find((s: { name: string }) => s.name === 'state');
        expect(state.status, context).toBe('failed');
        expect(state.problems.join('\n'), context).toMatch(/\.agents\//);
      } else {
        expect(r.code, context).toBe(2);
        expect(['invalid_file', 'invalid_graph'], context).toContain(r.json.error.code);
        expect(r.json.error.message, context).toMatch(/\.agents\/|task-\d{3}/);
      }
      expect(snapshot(dir), `${context}: something was written`).toBe(before);
    }
  });
});

describe('fuzz: hostile task graphs', () => {
  const GRAPHS = 1000;
  it(`${GRAPHS} generated graphs with cycles, self-edges and dangling ids: each problem named with its ids, valid ones accepted`, async () => {
    const { assertTaskDag } = await import('../../src/store/index.js');
    const { TaskSchema: Schema } = await import('../../src/store/schemas.js');
    const rng = seeded(424242);
    const kinds = new Map<string, number>();
    for (let n = 0; n < GRAPHS; n++) {
      const size = rng.int(2, 40);
      const id = (i: number) => `task-${String(i).padStart(3, '0')}`;
      // A DAG first: edges only to lower ids.
      const deps: string[][] = Array.from({ length: size }, (_, i) => (i === 0 ? [] : Array.from({ length: rng.int(0, 3) }, () => id(1 + rng.int(0, i - 1)))));
      const kind = rng.pick(['valid', 'cycle', 'self', 'dangling'] as const);
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
      let culprits: string[] = [];
      if (kind === 'cycle') {
        // A back edge from a low task to a higher one that reaches it: a cycle through both.
        const hi = rng.int(1, size - 1);
        deps[hi] = [...new Set([...deps[hi]!, id(hi)])].filter((d) => d !== id(hi + 1));
        deps[hi]!.push(id(1 + rng.int(0, hi - 1)));
        const lo = deps[hi]!.at(-1)!;
        deps[Number(lo.slice(5)) - 1]!.push(id(hi + 1));
        culprits = [id(hi + 1), lo];
      } else if (kind === 'self') {
        const i = rng.int(0, size - 1);
        deps[i]!.push(id(i + 1));
        culprits = [id(i + 1)];
      } else if (kind === 'dangling') {
        const i = rng.int(0, size - 1);
        deps[i]!.push(id(900 + rng.int(0, 99)));
        culprits = [id(i + 1)];
      }
      const tasks = deps.map((d, i) => Schema.parse({ version: 1, id: id(i + 1), name: `T${i + 1}`, created_at: '2026-01-01T00:00:00.000Z', blocked_by: [...new Set(d)] }));
      let thrown: unknown;
      try {
        assertTaskDag(tasks, (t) => `.agents/tasks/${t}.yaml`);
      } catch (error) {
        thrown = error;
      }
      const context = `graph #${n} (${kind}): ${JSON.stringify(deps)}`;
      if (kind === 'valid') {
        expect(thrown, context).toBeUndefined();
        continue;
      }
      expect(thrown, context).toBeInstanceOf(PivError);
      const error = thrown as PivError;
      expect([error.code, error.exitCode], context).toEqual(['invalid_graph', 2]);
      expect(error.message, context).toMatch(/^\.agents\/tasks\/task-\d{3}\.yaml: the task graph is invalid: /);
      for (const c of culprits) expect(error.message, context).toContain(c);
      if (kind === 'cycle') expect(error.message, context).toMatch(/dependency cycle: (task-\d{3} → )+task-\d{3}/);
    }
    expect([...kinds.keys()].sort()).toEqual(['cycle', 'dangling', 'self', 'valid']);
  });
});
