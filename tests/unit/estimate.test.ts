import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigSchema } from '../../src/store/schemas.js';
import { countTokens } from '../../src/tokens/count.js';
import { estimateTasks } from '../../src/tokens/estimate.js';
import { write } from '../helpers/repo.js';

const tokens = { ...ConfigSchema.parse({ version: 1 }).tokens, calibration: 1, task_overhead: 1000 };

describe('estimateTasks', () => {
  let dir = '';
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('counts the text, existing files and folders (honouring .gitignore), plus the overhead', async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'piv-est-'));
    const body = 'export function add(a, b) {\n  return a + b;\n}\n';
    write(dir, { 'src/a.js': body, 'src/b.js': body, 'src/.gitignore': 'gen.js\n', 'src/gen.js': body.repeat(100), 'one.js': body });
    const text = { name: 'Add numbers', action: 'Write add()', done: 'add works', verify: 'node --test' };
    const [withDir, withFile, missing] = await estimateTasks(dir, [
      { id: 'task-001', ...text, files: ['src'] },
      { id: 'task-002', ...text, files: ['one.js', 'not-yet.js'] },
      { id: 'task-003', ...text, files: ['not-yet.js'] },
    ], tokens);
    const textTokens = countTokens(['Add numbers', 'Write add()', 'add works', 'node --test'].join('\n'));
    const fileTokens = countTokens(body);
    expect(missing).toMatchObject({ tokens: textTokens + 1000, file_tokens: 0, files_counted: 0 });
    expect(withFile).toMatchObject({ tokens: textTokens + fileTokens + 1000, files_counted: 1 });
    // src/a.js + src/b.js + src/.gitignore; src/gen.js is ignored
    expect(withDir!.files_counted).toBe(3);
    expect(withDir!.file_tokens).toBe(2 * fileTokens + countTokens('gen.js\n'));
  });
});
