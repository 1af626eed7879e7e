// Shared claims: across working trees (and, with a remote, clones) a claim is a ref written by compare-and-swap, so one task is never claimed twice.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { simpleGit } from 'simple-git';
import { PivError } from '../errors.js';

/** Where shared claims live: refs/piv/claims/<feature>/<task-id>, shared by every working tree of the repository. */
export const CLAIMS_REF = 'refs/piv/claims';
const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';
const ZERO = '0000000000000000000000000000000000000000';

/** A claim as its ref records it. */
export interface SharedClaim {
  task: string;
  agent: string;
  /** Where the claim was made: `<host>:<absolute path of the working tree>` (see `placeOf`). */
  worktree: string;
  /** `claimed`, or `completed` once the task's commit exists on that tree's branch (never claimable again). */
  state: 'claimed' | 'completed';
  at: string;
  lease_expires_at: string | null;
  /** The claim commit the ref points to (the compare-and-swap value). */
  hash: string;
}

/**
 * The identity of a working tree in claims: `<host>/<clone id>:<absolute path>`. The clone id is random, made once and kept in
 * the repository's git config (`piv.placeId`), so two clones never look alike even with the same host name and path
 * (containers, CI runners); the path tells the working trees of one clone apart.
 */
export async function placeOf(root: string): Promise<string> {
  const git = simpleGit({ baseDir: root });
  let id = (await git.raw(['config', '--get', 'piv.placeId']).catch(() => '')).trim();
  if (!id) {
    id = randomUUID().slice(0, 8);
    await git.raw(['config', '--local', 'piv.placeId', id]);
  }
  return `${hostname()}/${id}:${root}`;
}

/**
 * A git error that means another tree or clone changed the ref first (a lost compare-and-swap), not a failure: a rejected
 * lease or non-fast-forward push, or a ref the remote or this repository could not lock because a racing write held it.
 * A hook that declines, or a remote that cannot be reached or refuses access, is a failure.
 */
export function isLostRace(error: unknown): boolean {
  const text = String((error as Error)?.message ?? error);
  if (/hook declined|denied|permission|unable to access|could not read|does not appear to be a git repository/i.test(text)) return false;
  return /stale info|non-fast-forward|fetch first|\[rejected\]|cannot lock ref|failed to (update|lock)|reference already exists|but expected|incorrect old value/i.test(text);
}

function gitError(what: string, error: unknown, hint: string): PivError {
  const lines = String((error as Error)?.message ?? error).trim().split('\n').filter(Boolean);
  return new PivError('git_failed', `${what}: ${lines.slice(-2).join(' ')}`, { hint, cause: error });
}

const CLAIM_HINT = 'Check the remote (git remote -v), its hooks and your access, or set claims.remote: null in .agents/config.yaml to stop sharing claims with other clones.';

const refOf = (feature: string, task: string) => `${CLAIMS_REF}/${feature}/${task}`;

function message(c: Omit<SharedClaim, 'hash' | 'task'> & { task: string }): string {
  return `piv ${c.state === 'completed' ? 'done' : 'claim'} ${c.task} by ${c.agent}\n\nAgent: ${c.agent}\nWorktree: ${c.worktree}\nState: ${c.state}\nAt: ${c.at}\nLease-Expires: ${c.lease_expires_at ?? 'never'}\n`;
}

function parse(task: string, hash: string, body: string): SharedClaim {
  const field = (name: string) => body.match(new RegExp(`^${name}: (.*)$`, 'm'))?.[1]?.trim() ?? '';
  const lease = field('Lease-Expires');
  return { task, hash, agent: field('Agent'), worktree: field('Worktree'), state: field('State') === 'completed' ? 'completed' : 'claimed', at: field('At'), lease_expires_at: lease && lease !== 'never' ? lease : null };
}

/** Where claims are shared: the repository's refs (all its working trees) and, when set, a remote (other clones). */
export interface ClaimScope {
  /** A git remote name; null for this repository only. */
  remote: string | null;
}

/**
 * Every shared claim of `feature`, by task id. With a remote, its claim refs are fetched first (mirrored, deleted ones
 * pruned), so the answer is the remote's. Throws PivError `git_failed` when the remote cannot be reached.
 */
export async function listClaims(root: string, feature: string, scope: ClaimScope = { remote: null }): Promise<Map<string, SharedClaim>> {
  if (scope.remote) await fetchClaims(root, feature, scope.remote);
  const out = await simpleGit({ baseDir: root }).raw(['for-each-ref', '--format=%(refname)%00%(objectname)%00%(contents)%00%00', `${CLAIMS_REF}/${feature}/`]);
  const claims = new Map<string, SharedClaim>();
  for (const record of out.split('\0\0')) {
    const [ref, hash, body] = record.replace(/^\n/, '').split('\0');
    if (!ref || !hash) continue;
    const task = ref.slice(ref.lastIndexOf('/') + 1);
    claims.set(task, parse(task, hash, body ?? ''));
  }
  return claims;
}

/**
 * Writes `claim` to its ref if the ref still has the value `expected` (null: the ref must not exist) — git's own
 * compare-and-swap (`git update-ref <ref> <new> <old>`; remotely `git push --force-with-lease=<ref>:<old>`).
 * Returns the new claim commit, or null when another tree or clone got there first.
 * Throws PivError `git_failed` for any other failure (unreachable remote, a hook that refuses, no access).
 */
export async function putClaim(root: string, feature: string, claim: Omit<SharedClaim, 'hash'>, expected: string | null, scope: ClaimScope = { remote: null }): Promise<string | null> {
  const git = simpleGit({ baseDir: root });
  const ref = refOf(feature, claim.task);
  // Claim commits are piv's bookkeeping, not anyone's work: they carry piv's identity (and need none configured).
  const commit = (await git.raw(['-c', 'user.name=piv', '-c', 'user.email=piv@localhost', 'commit-tree', EMPTY_TREE, '-m', message(claim)])).trim();
  try {
    // Remotely, the push is the compare-and-swap: --force-with-lease=<ref>:<old> (empty old: the ref must not exist).
    if (scope.remote) await git.raw(['push', '--quiet', '--no-verify', `--force-with-lease=${ref}:${expected ?? ''}`, scope.remote, `${commit}:${ref}`]);
    await git.raw(['update-ref', '-m', `piv ${claim.state}`, ref, commit, ...(scope.remote ? [] : [expected ?? ZERO])]);
    return commit;
  } catch (error) {
    if (isLostRace(error)) return null;
    throw gitError(`cannot write the claim ${ref}`, error, CLAIM_HINT);
  }
}

/**
 * Deletes a claim's ref (and the remote's, with a remote) if it still has the value `expected`. Returns false when it changed
 * meanwhile. Throws PivError `git_failed` for any other failure.
 */
export async function dropClaim(root: string, feature: string, task: string, expected: string, scope: ClaimScope = { remote: null }): Promise<boolean> {
  const git = simpleGit({ baseDir: root });
  const ref = refOf(feature, task);
  try {
    if (scope.remote) await git.raw(['push', '--quiet', '--no-verify', `--force-with-lease=${ref}:${expected}`, scope.remote, `:${ref}`]);
    await git.raw(['update-ref', '-d', ref, ...(scope.remote ? [] : [expected])]);
    return true;
  } catch (error) {
    if (isLostRace(error)) return false;
    throw gitError(`cannot delete the claim ${ref}`, error, CLAIM_HINT);
  }
}

/** Mirrors the remote's claim refs of `feature` into this repository (forced, deleted ones pruned). */
async function fetchClaims(root: string, feature: string, remote: string): Promise<void> {
  const spec = `+${CLAIMS_REF}/${feature}/*:${CLAIMS_REF}/${feature}/*`;
  try {
    await simpleGit({ baseDir: root }).raw(['fetch', '--quiet', '--no-tags', '--prune', remote, spec]);
  } catch (error) {
    throw gitError(`cannot fetch the shared claims from ${remote}`, error, CLAIM_HINT);
  }
}

/** Whether a claim still binds: completed, or claimed with a lease that has not ended at `nowMs` (ms since epoch). */
export function isLive(claim: SharedClaim, nowMs: number): boolean {
  return claim.state === 'completed' || claim.lease_expires_at === null || Date.parse(claim.lease_expires_at) > nowMs;
}
