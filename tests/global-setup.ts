// Builds dist/ and the bundle once before the suites, so the integration tests run the real, shipped CLI binary.
import { execFileSync } from 'node:child_process';
import { chmodSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const root = fileURLToPath(new URL('..', import.meta.url));
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });
  chmodSync(new URL('../dist/bin.js', import.meta.url), 0o755);
  // The bundle is what `piv` runs (package.json bin): the CLI tests run it.
  execFileSync(process.execPath, ['scripts/bundle.mjs'], { cwd: root, stdio: 'inherit' });
}
