// mcp: piv as a Model Context Protocol server over stdio; eight tools call the verbs in this process and answer compact JSON, and the whole tool schema set stays small (tested under 2,000 tokens).
import { readFileSync } from 'node:fs';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { PivError } from '../errors.js';
import type { BaseOptions } from './context.js';

/** Set by the bundler (scripts/bundle.mjs); unbundled builds read package.json. */
declare const PIV_VERSION: string | undefined;
const version = () => (typeof PIV_VERSION === 'string' ? PIV_VERSION : (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version);

export interface McpOptions extends BaseOptions {
  /** The agent the tools act for when a call names none (default $PIV_AGENT or main). */
  agent?: string;
}

/** The tool names, in the order they are listed. */
export const MCP_TOOLS = ['piv_status', 'piv_next', 'piv_complete', 'piv_plan', 'piv_decide', 'piv_pause', 'piv_resume', 'piv_validate'] as const;

type Json = Record<string, unknown>;

/** Drops null, undefined, empty strings, empty arrays and empty objects (recursively), so results carry only what says something. */
export function compact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(compact);
  if (typeof value !== 'object' || value === null) return value;
  const out: Json = {};
  for (const [k, v] of Object.entries(value)) {
    const c = compact(v);
    if (c === null || c === undefined || c === '') continue;
    if (Array.isArray(c) && c.length === 0) continue;
    if (typeof c === 'object' && !Array.isArray(c) && Object.keys(c as Json).length === 0) continue;
    out[k] = c;
  }
  return out;
}

const reply = (data: unknown, isError = false) => ({ content: [{ type: 'text' as const, text: JSON.stringify(compact(data)) }], ...(isError ? { isError: true } : {}) });

/** Runs a tool body; a PivError becomes an error result `{error: {code, message, hint}}`, anything else an `internal` one. */
async function call(body: () => Promise<unknown>) {
  try {
    return reply(await body());
  } catch (error) {
    if (error instanceof PivError) return reply({ error: { code: error.code, message: error.message, hint: error.hint, details: error.details } }, true);
    return reply({ error: { code: 'internal', message: String((error as Error)?.message ?? error) } }, true);
  }
}

const agent = z.string().optional().describe('agent id (default $PIV_AGENT or main)');

/**
 * The MCP server with piv's tools, working in the repository containing `opts.cwd` (default: the process's working directory).
 * Each call resolves the repository and the clock anew, like a CLI run. The caller connects a transport.
 */
export function createServer(opts: McpOptions = {}): McpServer {
  const cwd = opts.cwd ?? process.cwd();
  const who = (a?: string) => a ?? opts.agent;
  const server = new McpServer({ name: 'piv', version: version() });

  server.registerTool('piv_status', { description: 'Feature progress, ready and claimed tasks, context budget.', inputSchema: { agent }, annotations: { readOnlyHint: true } }, ({ agent: a }) =>
    call(async () => {
      const r = await (await import('./status.js')).status({ cwd, agent: who(a) });
      return { feature: r.feature, phase: r.phase, progress: { done: r.progress.done, total: r.progress.total, percent: r.progress.percent }, ready: r.ready, in_progress: r.in_progress.map((t) => ({ id: t.id, owner: t.owner, expired: t.expired || null })), context: { percent: r.tokens.percent, level: r.tokens.level, recommendation: r.tokens.recommendation } };
    }),
  );

  server.registerTool('piv_next', { description: 'Claim the next ready task (or the one you hold) and get its brief.', inputSchema: { agent, task: z.string().optional().describe('claim this ready task instead') } }, ({ agent: a, task }) =>
    call(async () => {
      const r = await (await import('./execute.js')).execute({ cwd, agent: who(a), task });
      const t = r.task;
      return {
        outcome: r.outcome,
        task: t && { id: t.id, name: t.name, action: t.action, files: t.files, verify: t.verify, done: t.done, unblocks: t.unblocks, attempts: t.attempts || null, last_failure: t.last_attempt && !t.last_attempt.passed ? t.last_attempt.output_tail : null },
        decisions: r.decisions,
        progress: r.progress,
        stall: r.stall,
        warnings: r.warnings,
        next: t ? 'implement it, then call piv_complete with its id' : null,
      };
    }),
  );

  server.registerTool(
    'piv_complete',
    {
      description: "Run a claimed task's verify; on pass commit code and state in one commit.",
      inputSchema: { id: z.string().describe('task id, e.g. task-001'), agent, tokens: z.number().int().nonnegative().optional().describe('tokens the task used'), no_verify: z.boolean().optional().describe('complete without verify (recorded)') },
    },
    ({ id, agent: a, tokens, no_verify }) =>
      call(async () => {
        const r = await (await import('./done.js')).done({ cwd, id, agent: who(a), tokens, noVerify: no_verify });
        return { id: r.id, passed: r.passed, status: r.status, commit: r.commit, message: r.message, output_tail: r.passed ? null : r.attempt.output_tail, left_uncommitted: r.left_uncommitted, warnings: r.warnings };
      }),
  );

  server.registerTool(
    'piv_plan',
    { description: 'Turn a plan (YAML or JSON text, `tasks:` list) into task files.', inputSchema: { plan: z.string().describe('the plan text (schema: plan.schema.json)'), dry_run: z.boolean().optional(), force: z.boolean().optional().describe('plan with questions open') } },
    ({ plan, dry_run, force }) =>
      call(async () => {
        const r = await (await import('./plan.js')).plan({ cwd, text: plan, file: '<mcp>', dryRun: dry_run, force });
        return { feature: r.feature, written: r.written, created: r.created, updated: r.updated, dropped: r.dropped, tasks: r.tasks.map((t) => ({ id: t.id, name: t.name, blocked_by: t.blocked_by, tokens: t.estimated_tokens, oversized: t.oversized || null })), waves: r.waves, sessions: r.sessions, warnings: r.warnings };
      }),
  );

  server.registerTool(
    'piv_decide',
    {
      description: 'Open or update the feature session: request, decisions, open questions.',
      inputSchema: {
        feature: z.string().describe('feature slug, e.g. user-auth'),
        request: z.string().optional(),
        decide: z.array(z.string()).optional().describe('"QUESTION=ANSWER" each'),
        question: z.array(z.string()).optional().describe('open questions'),
      },
    },
    ({ feature, request, decide, question }) =>
      call(async () => {
        const r = await (await import('./discuss.js')).discuss({ cwd, feature, request, decide, question });
        return { feature: r.feature, opened: r.opened || null, phase: r.phase, decisions: r.decisions.map((d) => ({ question: d.question, answer: d.answer })), open_questions: r.open_questions };
      }),
  );

  server.registerTool('piv_pause', { description: 'Checkpoint the feature (and a WIP commit) before the context runs out.', inputSchema: { agent, note: z.string().optional().describe('where you are') } }, ({ agent: a, note }) =>
    call(async () => {
      const r = await (await import('./pause.js')).pause({ cwd, agent: who(a), note });
      return { feature: r.feature, done: r.checkpoint.done, total: r.checkpoint.total, in_progress: r.checkpoint.in_progress, next_task: r.checkpoint.next_task, commit: r.commit };
    }),
  );

  server.registerTool('piv_resume', { description: 'Reload the feature in a fresh context: decisions, progress, current or next task.', inputSchema: { agent } }, ({ agent: a }) =>
    call(async () => {
      const r = await (await import('./resume.js')).resume({ cwd, agent: who(a), brief: true });
      return { brief: r.brief, repairs: r.repairs.map((x) => x.message) };
    }),
  );

  server.registerTool(
    'piv_validate',
    { description: 'The gate: state, tasks committed, lint, typecheck, tests, coverage.', inputSchema: { stages: z.array(z.string()).optional().describe('only these stages') } },
    ({ stages }) =>
      call(async () => {
        const r = await (await import('./validate.js')).validate({ cwd, stages });
        return { passed: r.passed, verdict: r.verdict, stages: r.stages.map((s) => ({ name: s.name, status: s.status, summary: s.summary, problems: s.problems.slice(0, 5) })) };
      }),
  );
  return server;
}

/** Serves piv over stdio until the client closes the connection. Resolves when the transport closes. */
export async function serveStdio(opts: McpOptions = {}): Promise<void> {
  const { StdioServerTransport } = await import('@modelcontextprotocol/sdk/server/stdio.js');
  const server = createServer(opts);
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((done) => {
    transport.onclose = () => done();
    process.stdin.on('end', () => done());
  });
  await server.connect(transport);
  await closed;
  await server.close().catch(() => undefined);
}

export interface McpToolsResult {
  tools: { name: string; description?: string; inputSchema: unknown; annotations?: unknown }[];
  /** Tokens (tiktoken cl100k_base, uncalibrated) of the JSON of the tool list a client receives. */
  schema_tokens: number;
}

/** The tool list exactly as a client receives it (through an in-memory client) and its size in tokens. */
export async function listTools(opts: McpOptions = {}): Promise<McpToolsResult> {
  const [{ Client }, { InMemoryTransport }, { countTokens }] = await Promise.all([
    import('@modelcontextprotocol/sdk/client/index.js'),
    import('@modelcontextprotocol/sdk/inMemory.js'),
    import('../tokens/count.js'),
  ]);
  const server = createServer(opts);
  const [a, b] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'piv-tools', version: version() });
  await Promise.all([server.connect(a), client.connect(b)]);
  const { tools } = await client.listTools();
  await client.close();
  await server.close();
  return { tools, schema_tokens: countTokens(JSON.stringify(tools)) };
}
