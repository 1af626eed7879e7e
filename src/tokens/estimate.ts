// Task estimates: computed from a task's text and its files' current size with a real tokenizer; loaded only by the verbs that estimate.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../store/schemas.js';
import { calibrate, createCounter } from './count.js';
import { listFiles } from './walk.js';

/** What an estimate needs of a task. */
export interface EstimateInput {
  id: string;
  name: string;
  action: string;
  done: string;
  verify: string | null;
  files: readonly string[];
}

export interface Estimate {
  id: string;
  /** Estimated tokens: (text + existing files) × calibration + task_overhead. */
  tokens: number;
  text_tokens: number;
  file_tokens: number;
  /** Declared files that exist now and were counted. */
  files_counted: number;
}

const MAX_FILE_BYTES = 2 * 1024 * 1024;
/** Beyond this many bytes of a task's files, the rest is estimated at 4 bytes a token instead of read. */
const MAX_TASK_BYTES = 4 * 1024 * 1024;

/**
 * Estimates each task's cost in tokens: its text and the current content of its existing files — folders expanded honouring
 * .gitignore, a path that does not exist yet counts 0, globs are not expanded — times `tokens.calibration`, plus `tokens.task_overhead`.
 * Uses one encoder for all tasks and frees it. Never throws for a missing or unreadable file.
 */
export async function estimateTasks(root: string, tasks: readonly EstimateInput[], tokens: Config['tokens']): Promise<Estimate[]> {
  const counter = createCounter(tokens.encoding);
  try {
    const out: Estimate[] = [];
    for (const t of tasks) {
      const text = counter.count([t.name, t.action, t.done, t.verify ?? ''].join('\n'));
      let fileTokens = 0;
      let counted = 0;
      const present = t.files.filter((f) => existsSync(path.resolve(root, f))); // the others do not exist yet: the task creates them
      const listed = present.length ? (await listFiles(root, present, { purpose: 'estimate tokens' }).catch(() => ({ files: [] }))).files : [];
      let bytes = 0;
      for (const f of listed) {
        if (f.bytes > MAX_FILE_BYTES) continue;
        bytes += f.bytes;
        counted++;
        if (bytes > MAX_TASK_BYTES) {
          fileTokens += Math.ceil(f.bytes / 4);
          continue;
        }
        try {
          fileTokens += counter.count(await readFile(path.join(root, f.path), 'utf8'));
        } catch {
          // unreadable: not counted
        }
      }
      out.push({ id: t.id, tokens: calibrate(text + fileTokens, tokens.calibration) + tokens.task_overhead, text_tokens: text, file_tokens: fileTokens, files_counted: counted });
    }
    return out;
  } finally {
    counter.free();
  }
}
