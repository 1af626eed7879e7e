// Which git errors are a lost compare-and-swap (try the next task) and which are failures (report them).
import { describe, expect, it } from 'vitest';
import { isLostRace } from '../../src/git/plumbing.js';

// Messages as git 2.39 prints them (captured from real pushes and update-refs).
const RACES = [
  // two clones pushing the feature branch at once: the remote's ref lock is taken by the winner
  "remote: error: cannot lock ref 'refs/piv/claims/x/t1': reference already exists\nTo /tmp/r.git\n ! [remote rejected] dc31aa7 -> refs/piv/claims/x/t1 (failed to update ref)\nerror: failed to push some refs to '/tmp/r.git'",
  // the lease check: the ref moved since it was fetched
  "To /tmp/r.git\n ! [rejected]        dc31aa7 -> refs/piv/claims/x/t1 (stale info)\nerror: failed to push some refs to '/tmp/r.git'",
  // local compare-and-swap
  "fatal: update_ref failed for ref 'refs/piv/claims/f/task-001': cannot lock ref 'refs/piv/claims/f/task-001': reference already exists",
  "fatal: update_ref failed for ref 'refs/piv/claims/f/task-001': cannot lock ref 'refs/piv/claims/f/task-001': is at 13c6f28 but expected 0000000",
];
const FAILURES = [
  "remote: claims are frozen\nTo /tmp/r.git\n ! [remote rejected] dc31aa7 -> refs/piv/claims/x/t1 (pre-receive hook declined)\nerror: failed to push some refs to '/tmp/r.git'",
  "fatal: '/tmp/gone.git' does not appear to be a git repository\nfatal: Could not read from remote repository.",
  'fatal: unable to access \'https://example.invalid/r.git/\': Could not resolve host: example.invalid',
  'ERROR: Permission to org/repo.git denied to someone.',
];

describe('isLostRace', () => {
  it.each(RACES)('a lost race: %s', (message) => expect(isLostRace(message)).toBe(true));
  it.each(FAILURES)('a failure: %s', (message) => expect(isLostRace(message)).toBe(false));
});
