// Failpoints: named instants where a test can kill piv outright (SIGKILL), to prove a crash at any of them loses nothing.

/** The instants piv can be killed at, in the order a completion passes them (tests iterate over this list). */
export const FAILPOINTS = [
  'done:after-verify',
  'done:after-task-write',
  'done:after-state-write',
  'done:after-commit',
  'done:after-local-commit',
  'done:after-land',
] as const;
export type Failpoint = (typeof FAILPOINTS)[number];

/**
 * Kills this process with SIGKILL (no cleanup, no exit handlers: like a power cut) when $PIV_FAILPOINT names `point`.
 * Costs one environment lookup otherwise.
 */
export function failpoint(point: Failpoint): void {
  if (process.env.PIV_FAILPOINT === point) process.kill(process.pid, 'SIGKILL');
}
