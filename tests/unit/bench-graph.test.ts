// The benchmark's graphs are valid piv state: deterministic per seed, a DAG, completed tasks only after their dependencies.
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs module of the benchmark, without types
import { generateGraph, randomTasks } from '../../bench/lib/graph.mjs';
import { checkGraph } from '../../src/core/graph.js';
import { readTasks } from '../../src/store/index.js';
import { TaskSchema, type Task } from '../../src/store/schemas.js';

describe('bench graph generator', () => {
  it('is deterministic, schema-valid and acyclic, with the completed share it was asked for', () => {
    const tasks = randomTasks(500, { seed: 42 }) as Task[];
    expect(randomTasks(500, { seed: 42 })).toEqual(tasks);
    expect(randomTasks(500, { seed: 43 })).not.toEqual(tasks);
    for (const t of tasks) expect(TaskSchema.parse(t)).toEqual(t);
    expect(checkGraph(tasks)).toEqual([]);
    const status = new Map(tasks.map((t) => [t.id, t.status]));
    for (const t of tasks.filter((x) => x.status !== 'pending')) expect(t.blocked_by.every((d) => status.get(d) === 'completed')).toBe(true);
    expect(tasks.filter((t) => t.status === 'completed')).toHaveLength(200);
    expect(tasks.some((t) => t.status === 'in_progress')).toBe(true);
    expect(Math.max(...tasks.map((t) => t.blocked_by.length))).toBe(3);
  });

  it('writes a repository piv reads back as it was generated', async () => {
    const g = await generateGraph(30, { seed: 7 });
    try {
      expect(await readTasks(g.dir)).toEqual(g.tasks);
    } finally {
      g.cleanup();
    }
  });
});
