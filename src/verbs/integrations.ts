// integrations: installs, removes or lists the agent integrations (/piv commands, Claude Code plugin, hooks) of a repository; only what piv wrote is ever replaced or deleted.
import { PivError } from '../errors.js';
import { AGENTS, type AgentName } from '../integrations/commands.js';
import { installIntegrations, listIntegrations, removeIntegrations, type IntegrationList, type IntegrationReport } from '../integrations/install.js';
import { resolve, type BaseOptions } from './context.js';

export interface IntegrationsOptions extends BaseOptions {
  /** Agent names, comma-separated lists allowed; `all`; `none` (an empty list). Default: claude (install) or all (list, remove). */
  agents?: string[];
  force?: boolean;
  hooksInSettings?: boolean;
  codexPrompts?: boolean;
  marketplace?: string;
}

/**
 * The agents named in `values` (`a,b`, repeated, `all`, `none`), in AGENTS order, without duplicates; `fallback` when none is
 * given. Throws `usage` (exit 2) for an unknown name.
 */
export function parseAgents(values: string[] | undefined, fallback: readonly AgentName[]): AgentName[] {
  const names = (values ?? []).flatMap((v) => v.split(',')).map((a) => a.trim().toLowerCase()).filter(Boolean);
  if (names.length === 0) return [...fallback];
  if (names.includes('none')) return [];
  if (names.includes('all')) return [...AGENTS];
  for (const n of names) {
    if (!(AGENTS as readonly string[]).includes(n)) throw new PivError('usage', `unknown agent ${JSON.stringify(n)}`, { hint: `Choose from ${AGENTS.join(', ')}, all or none.` });
  }
  return AGENTS.filter((a) => names.includes(a));
}

/** `piv integrations install`: see installIntegrations. Throws `not_a_git_repo`, `invalid_file`, `usage` (exit 2). */
export async function integrationsInstall(opts: IntegrationsOptions = {}): Promise<IntegrationReport> {
  const { root } = resolve(opts);
  return installIntegrations({ root, agents: parseAgents(opts.agents, ['claude']), force: opts.force, hooksInSettings: opts.hooksInSettings, codexPrompts: opts.codexPrompts, marketplace: opts.marketplace });
}

/** `piv integrations remove`: see removeIntegrations (default: every agent). Throws `not_a_git_repo`, `invalid_file`, `usage` (exit 2). */
export async function integrationsRemove(opts: IntegrationsOptions = {}): Promise<IntegrationReport> {
  const { root } = resolve(opts);
  return removeIntegrations({ root, agents: parseAgents(opts.agents, AGENTS), force: opts.force, marketplace: opts.marketplace });
}

/** `piv integrations list`: see listIntegrations (default: every agent). Throws `not_a_git_repo`, `invalid_file`, `usage` (exit 2). */
export async function integrationsList(opts: IntegrationsOptions = {}): Promise<IntegrationList> {
  const { root } = resolve(opts);
  return listIntegrations({ root, agents: parseAgents(opts.agents, AGENTS), marketplace: opts.marketplace, hooksInSettings: opts.hooksInSettings });
}
