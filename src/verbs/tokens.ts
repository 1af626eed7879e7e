// tokens: counts for files or folders as an agent would size work; the tokenizer is loaded only here and freed after.
import path from 'node:path';
import { existsSync } from 'node:fs';
import { readConfig, layout } from '../store/index.js';
import type { CountResult } from '../tokens/count.js';
import { resolve, type BaseOptions } from './context.js';

export interface TokensOptions extends BaseOptions {
  /** Files or folders, relative to cwd; none = the whole repository. */
  paths: string[];
}

export interface TokensResult extends CountResult {
  root: string;
}

/**
 * Counts tokens (tiktoken, encoding and calibration from config when piv is initialized, else cl100k_base × 1.1)
 * in `paths`, honouring .gitignore. Returns per-file counts (tokens, bytes) and totals.
 * Throws `not_found` for a missing path, `usage` for a path outside the repository, `not_a_git_repo` (all exit 2).
 */
export async function tokens(opts: TokensOptions): Promise<TokensResult> {
  const { root } = resolve(opts);
  const cwd = path.resolve(opts.cwd ?? process.cwd());
  const config = existsSync(layout(root).config) ? await readConfig(root) : null;
  const { countPaths } = await import('../tokens/count.js');
  const given = opts.paths.length ? opts.paths : [path.relative(root, cwd) || '.'];
  const result = await countPaths(
    root,
    given.map((p) => path.relative(root, path.resolve(cwd, p)) || '.'),
    { encoding: config?.tokens.encoding ?? 'cl100k_base', calibration: config?.tokens.calibration ?? 1.1 },
  );
  return { root, ...result };
}
