// A swarm agent as its own process: claims (piv execute), does the task (writes its declared files), completes it (piv done),
// until the graph is done. It calls the built verbs in-process, so 16 of them contend through the real lock and the real git.
// Usage: node swarm-worker.mjs '{"cwd": "...", "agent": "a1", "worktree": false, "seed": 1, "claimOnly": false}'
// Prints one JSON line per event: {"event":"claimed"|"done"|"idle"|"error", ...}; exits 0 when all tasks are completed.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const { cwd, agent, worktree = false, seed = 1, maxIdleMs = 120_000, claimOnly = false } = JSON.parse(process.argv[2]);
const { execute } = await import(new URL('../../dist/verbs/execute.js', import.meta.url).href);
const { done } = await import(new URL('../../dist/verbs/done.js', import.meta.url).href);

const { rand } = (await import(new URL('../../bench/lib/random.mjs', import.meta.url).href)).seeded(seed);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const emit = (event) => process.stdout.write(JSON.stringify({ agent, at: Date.now(), ...event }) + '\n');

let idleSince = null;
try {
  // claimOnly: the claim race alone — claim under a fresh agent id each time (an agent holds one task), until nothing is ready.
  for (let k = 1; claimOnly; k++) {
    const claimed = await execute({ cwd, agent: `${agent}.${k}` });
    if (!claimed.task) break;
    emit({ event: 'claimed', task: claimed.task.id, outcome: claimed.outcome, as: `${agent}.${k}` });
  }
  for (; !claimOnly; ) {
    const claimed = await execute({ cwd, agent, worktree });
    const tree = claimed.swarm?.worktree ?? cwd;
    if (claimed.task) {
      idleSince = null;
      emit({ event: 'claimed', task: claimed.task.id, outcome: claimed.outcome });
      for (const file of claimed.task.files) {
        mkdirSync(path.dirname(path.join(tree, file)), { recursive: true });
        writeFileSync(path.join(tree, file), `${claimed.task.id} by ${agent}\n`);
      }
      const finished = await done({ cwd: tree, id: claimed.task.id, agent });
      if (!finished.passed) throw new Error(`${claimed.task.id}: verify failed: ${finished.attempt.output_tail}`);
      emit({ event: 'done', task: finished.id, commit: finished.commit, rebased: finished.landed?.rebased ?? false, attempts: finished.landed?.attempts ?? 1 });
      continue;
    }
    if (claimed.outcome === 'all_done') break;
    // Nothing ready: other agents hold what the rest waits on.
    idleSince ??= Date.now();
    if (Date.now() - idleSince > maxIdleMs) throw new Error(`idle for ${maxIdleMs} ms: ${JSON.stringify(claimed.stall)}`);
    await sleep(50 + rand() * 100);
  }
  emit({ event: 'finished' });
} catch (error) {
  emit({ event: 'error', code: error?.code ?? null, message: String(error?.message ?? error), stack: error?.code ? undefined : String(error?.stack) });
  process.exitCode = 1;
}
