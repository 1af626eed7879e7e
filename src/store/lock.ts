// Lock: read-modify-write of piv state happens inside one cross-process lock, so two piv processes never lose each other's update.
import { mkdirSync, readFileSync, realpathSync, rmdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { PivError } from '../errors.js';
import { beginWrites, endWrites } from './cache.js';
import { rel, requireInitialized } from './layout.js';
import { trace } from '../trace.js';

/** How long a waiter keeps trying, in ms. */
const WAIT_MS = 30_000;
/** A live holder refreshes the lock every UPDATE_MS; a lock not refreshed for STALE_MS is a dead holder's (ms). */
const UPDATE_MS = 1_000;
const STALE_MS = 15_000;
/** The stale threshold used once the holder is known to be dead (its pid is gone on this host): proper-lockfile's minimum. */
const DEAD_STALE_MS = 2_000;

/**
 * Runs `fn` while holding the repository's state lock, and returns what `fn` returns.
 * The lock is `.agents/.lock/held` (a directory made atomically by mkdir, by proper-lockfile), refreshed every second;
 * `.agents/.lock/owner` names the holder (pid and host). A waiter takes over a lock not refreshed for 15 s, or for 2 s when
 * its holder's process is gone on this host (a piv killed with SIGKILL), so a crash delays the next verb by seconds, not more.
 * What `fn` wrote through the store goes into the cache (store/cache.ts) before the lock is released.
 * Throws `not_initialized` (exit 2) without .agents/config.yaml, `lock_timeout` (exit 3) when the lock cannot be had in
 * about 30 s, `usage` (exit 2) when it cannot be created at all (permissions).
 */
export async function withStateLock<T>(root: string, fn: () => Promise<T>): Promise<T> {
  return (await lockAndRun(root, fn, true)) as T; // waiting, it never returns the busy marker
}

/**
 * Runs `fn` under the state lock if the lock is free right now, without waiting: returns `{ ran: true, value }`, or
 * `{ ran: false }` when another piv holds it. Throws as withStateLock does, but never `lock_timeout`.
 */
export async function tryStateLock<T>(root: string, fn: () => Promise<T>): Promise<{ ran: true; value: T } | { ran: false }> {
  const NOT_RUN = Symbol('busy');
  const value = await lockAndRun(root, fn, false, NOT_RUN);
  return value === NOT_RUN ? { ran: false } : { ran: true, value: value as T };
}

/**
 * The file system proper-lockfile is given (its `fs` option): only the calls it makes, synchronous (lockSync wraps each
 * `<name>Sync` as its callback form). Taking and releasing the lock then costs a few syscalls, not a round trip through
 * libuv's thread pool per call (mkdir, utimes, stat; rmdir), and proper-lockfile's copy of the object (`{ ...fs }`)
 * runs none of node:fs's lazy getters (fs.promises, streams).
 */
const LOCK_FS = { mkdirSync, realpathSync, statSync, rmdirSync, utimesSync };

async function lockAndRun<T>(root: string, fn: () => Promise<T>, wait: boolean, busy?: symbol): Promise<T | symbol> {
  const paths = requireInitialized(root);
  const { default: lockfile } = await import('proper-lockfile'); // loaded only by verbs that write
  const held = path.join(paths.lock, 'held');
  const ownerFile = path.join(paths.lock, 'owner');
  const deadline = Date.now() + WAIT_MS;
  let release: () => void;
  for (let attempt = 0; ; attempt++) {
    try {
      mkdirSync(paths.lock, { recursive: true });
      release = lockfile.lockSync(paths.agents, {
        fs: LOCK_FS,
        lockfilePath: held,
        realpath: false,
        stale: holderIsDead(ownerFile) ? DEAD_STALE_MS : STALE_MS,
        update: UPDATE_MS,
        retries: 0,
        // A holder whose lock was taken over (it stalled past the stale time) must not go on writing.
        onCompromised: (error) => {
          throw error;
        },
      });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') {
        throw new PivError('usage', `cannot create the state lock ${rel(root, held)}: ${(error as Error).message}`, {
          hint: 'piv needs to write in .agents/: check the folder permissions and free disk space.',
          cause: error,
        });
      }
      if (!wait) return busy!;
      if (Date.now() >= deadline) {
        throw new PivError('lock_timeout', `another piv process holds ${rel(root, held)} and did not release it in ${WAIT_MS / 1000} s`, {
          hint: 'Wait for the other piv command to finish; a lock whose holder died is taken over automatically after a few seconds.',
          cause: error,
        });
      }
      // Exponential backoff with jitter (5 ms … 200 ms), so waiters do not retry in lockstep.
      await sleep(Math.min(200, 5 * 1.3 ** attempt) * (0.5 + Math.random()));
    }
  }
  try {
    writeFileSync(ownerFile, `${process.pid} ${hostname()}\n`);
  } catch {
    // the owner file only speeds up taking over a dead holder's lock
  }
  beginWrites(paths.agents);
  trace('lock: held');
  try {
    return await fn();
  } finally {
    await endWrites(paths.agents);
    trace('lock: cache written');
    // The owner goes first: a recorded owner is then always the current holder's, or a crashed one's.
    try {
      rmSync(ownerFile, { force: true });
    } catch {
      // a lock without an owner file is taken over after the usual stale time
    }
    try {
      release();
    } catch {
      // already released: the lock was compromised (taken over), which onCompromised reported
    }
    trace('lock: released');
  }
}

/** Whether the lock's recorded holder is a process on this host that no longer exists. False when unknown. */
function holderIsDead(ownerFile: string): boolean {
  let text: string;
  try {
    text = readFileSync(ownerFile, 'utf8');
  } catch {
    return false;
  }
  const [pid, host] = text.trim().split(' ');
  if (!pid || host !== hostname() || Number(pid) === process.pid) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
