// JUnit XML: one test case per validate stage, so CI systems show the gate like a test suite; loaded only with --junit.
import path from 'node:path';
import { mkdir, writeFile } from 'node:fs/promises';
import junitModule, { type Builder } from 'junit-report-builder';
import type { StageResult } from '../verbs/validate.js';

/** Writes the stages as a JUnit suite `piv validate` to `file` (relative to cwd). Returns the absolute path written. */
export async function writeJunit(stages: readonly StageResult[], file: string, cwd: string): Promise<string> {
  const target = path.resolve(cwd, file);
  await mkdir(path.dirname(target), { recursive: true });
  // The package exports one builder per process (module.exports = builder; its types describe an ES default); validate builds one report.
  const builder = ((junitModule as unknown as { default?: Builder }).default ?? junitModule) as unknown as Builder;
  const suite = builder.testSuite().name('piv validate');
  for (const s of stages) {
    const test = suite.testCase().className('piv.validate').name(s.name).time(s.duration_ms / 1000);
    if (s.status === 'failed') test.failure(s.summary).standardError([...s.problems, s.output_tail ?? ''].filter(Boolean).join('\n'));
    else if (s.status === 'skipped') test.skipped().standardOutput(s.summary);
    else test.standardOutput(s.summary);
  }
  await writeFile(target, builder.build());
  return target;
}
