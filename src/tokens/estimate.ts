// Task estimates: computed from a task's text and its files' current size with a real tokenizer; loaded only by the verbs that estimate.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../store/schemas.js';
import { createCounter } from './count.js';

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

/**
 * Estimates each task's cost in tokens: its text and the current content of its existing files (a file that does not exist
 * yet counts 0; directories and globs are not expanded), times `tokens.calibration`, plus `tokens.task_overhead`.
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
      for (const f of t.files) {
        const file = path.resolve(root, f);
        try {
          const info = await stat(file);
          if (!info.isFile() || info.size > MAX_FILE_BYTES) continue;
          fileTokens += counter.count(await readFile(file, 'utf8'));
          counted++;
        } catch {
          // not there yet: the task creates it
        }
      }
      out.push({ id: t.id, tokens: Math.ceil((text + fileTokens) * tokens.calibration) + tokens.task_overhead, text_tokens: text, file_tokens: fileTokens, files_counted: counted });
    }
    return out;
  } finally {
    counter.free();
  }
}
