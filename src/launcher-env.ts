// Launcher environment: what the sh preamble of piv's command (dist/bundle/bin.js) set aside before starting node is put back, so every command piv runs sees the environment its user gave.
//
// NODE_EXTRA_CA_CERTS makes node parse that certificate file while it starts, before any JavaScript runs: ~35 ms with a
// system bundle (/etc/ssl/certs/ca-certificates.crt) under OpenSSL 3 (nodejs/node#40524), on every call. piv opens no
// TLS connection, so its launcher moves the variable to PIV_NODE_EXTRA_CA_CERTS for node's start, and restores it here
// for the commands piv runs (verify, tests, hooks), which may need it.

/** The variable the launcher keeps NODE_EXTRA_CA_CERTS in while node starts. */
export const STASHED_CA_CERTS = 'PIV_NODE_EXTRA_CA_CERTS';

/**
 * Puts back in `env` (process.env) what the launcher set aside: NODE_EXTRA_CA_CERTS gets the value of
 * PIV_NODE_EXTRA_CA_CERTS (set, even empty, only by the launcher), which is removed. A NODE_EXTRA_CA_CERTS already set
 * (piv started some other way) is kept. Returns whether anything was put back. Never throws.
 */
export function restoreLauncherEnv(env: NodeJS.ProcessEnv): boolean {
  const stashed = env[STASHED_CA_CERTS];
  if (stashed === undefined) return false;
  delete env[STASHED_CA_CERTS];
  if (env.NODE_EXTRA_CA_CERTS !== undefined) return false;
  env.NODE_EXTRA_CA_CERTS = stashed;
  return true;
}
