// Shared claims: across the working trees of one repository a claim is a ref created by compare-and-swap, so two trees never claim one task.
import { simpleGit } from 'simple-git';

/** Where shared claims live: refs/piv/claims/<feature>/<task-id>, shared by every working tree of the repository. */
export const CLAIMS_REF = 'refs/piv/claims';
const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';
const ZERO = '0000000000000000000000000000000000000000';

/** A claim as its ref records it. */
export interface SharedClaim {
  task: string;
  agent: string;
  /** The working tree (absolute path) the claim was made in. */
  worktree: string;
  /** `claimed`, or `completed` once the task's commit exists on that tree's branch (never claimable again). */
  state: 'claimed' | 'completed';
  at: string;
  lease_expires_at: string | null;
  /** The claim commit the ref points to (the compare-and-swap value). */
  hash: string;
}

const refOf = (feature: string, task: string) => `${CLAIMS_REF}/${feature}/${task}`;

function message(c: Omit<SharedClaim, 'hash' | 'task'> & { task: string }): string {
  return `piv ${c.state === 'completed' ? 'done' : 'claim'} ${c.task} by ${c.agent}\n\nAgent: ${c.agent}\nWorktree: ${c.worktree}\nState: ${c.state}\nAt: ${c.at}\nLease-Expires: ${c.lease_expires_at ?? 'never'}\n`;
}

function parse(task: string, hash: string, body: string): SharedClaim {
  const field = (name: string) => body.match(new RegExp(`^${name}: (.*)$`, 'm'))?.[1]?.trim() ?? '';
  const lease = field('Lease-Expires');
  return { task, hash, agent: field('Agent'), worktree: field('Worktree'), state: field('State') === 'completed' ? 'completed' : 'claimed', at: field('At'), lease_expires_at: lease && lease !== 'never' ? lease : null };
}

/** Every shared claim of `feature`, by task id. */
export async function listClaims(root: string, feature: string): Promise<Map<string, SharedClaim>> {
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
 * compare-and-swap (`git update-ref <ref> <new> <old>`). Returns false when another tree got there first.
 */
export async function putClaim(root: string, feature: string, claim: Omit<SharedClaim, 'hash'>, expected: string | null): Promise<boolean> {
  const git = simpleGit({ baseDir: root });
  // Claim commits are piv's bookkeeping, not anyone's work: they carry piv's identity (and need none configured).
  const commit = (await git.raw(['-c', 'user.name=piv', '-c', 'user.email=piv@localhost', 'commit-tree', EMPTY_TREE, '-m', message(claim)])).trim();
  try {
    await git.raw(['update-ref', '-m', `piv ${claim.state}`, refOf(feature, claim.task), commit, expected ?? ZERO]);
    return true;
  } catch {
    return false;
  }
}

/** Deletes a claim's ref if it still has the value `expected`. Returns false when it changed meanwhile. */
export async function dropClaim(root: string, feature: string, task: string, expected: string): Promise<boolean> {
  try {
    await simpleGit({ baseDir: root }).raw(['update-ref', '-d', refOf(feature, task), expected]);
    return true;
  } catch {
    return false;
  }
}
