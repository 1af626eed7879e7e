// Lock: read-modify-write of piv state happens inside one cross-process lock, so two piv processes never lose each other's update.
import { PivError } from '../errors.js';
import { beginWrites, endWrites } from './cache.js';
import { rel, requireInitialized } from './layout.js';

/** How long a waiter keeps retrying, in ms (about 30 s), and when a dead holder's lock counts as stale (ms). */
const RETRIES = { retries: 150, factor: 1.15, minTimeout: 5, maxTimeout: 200 } as const;
const STALE_MS = 15_000;

/**
 * Runs `fn` while holding the repository's state lock (`.agents/.lock`, a directory created atomically by mkdir,
 * refreshed every 5 s; a crashed holder's lock is taken over after 15 s).
 * Returns what `fn` returns. Throws `not_initialized` (exit 2) without .agents/config.yaml, `lock_timeout` (exit 3) when the lock
 * cannot be had in about 30 s, `usage` (exit 2) when it cannot be created at all (permissions).
 * What `fn` wrote through the store goes into the cache (store/cache.ts) before the lock is released.
 */
export async function withStateLock<T>(root: string, fn: () => Promise<T>): Promise<T> {
  const paths = requireInitialized(root);
  let release: () => Promise<void>;
  try {
    const { default: lockfile } = await import('proper-lockfile'); // loaded only by verbs that write
    release = await lockfile.lock(paths.agents, {
      lockfilePath: paths.lock,
      realpath: false,
      stale: STALE_MS,
      update: 5_000,
      retries: RETRIES,
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOCKED') {
      throw new PivError('lock_timeout', `another piv process holds ${rel(root, paths.lock)} and did not release it`, {
        hint: 'Wait for the other piv command to finish; if none is running, the lock is released automatically after 15 s.',
        cause: error,
      });
    }
    throw new PivError('usage', `cannot create the state lock ${rel(root, paths.lock)}: ${(error as Error).message}`, {
      hint: 'piv needs to write in .agents/: check the folder permissions and free disk space.',
      cause: error,
    });
  }
  beginWrites(paths.agents);
  try {
    return await fn();
  } finally {
    await endWrites(paths.agents);
    await release().catch(() => undefined);
  }
}
