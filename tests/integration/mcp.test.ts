// piv's MCP server through the SDK's own client over a real stdio subprocess (the built CLI), in a real repository.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countTokens } from '../../src/tokens/count.js';
import { BIN, git, piv, seedRepo, taskYaml, tempRepo, write } from '../helpers/repo.js';

let dir: string;
let cleanup: () => void;
let client: Client;

/** Calls a tool and returns its parsed JSON text and whether it was an error result. */
async function call(name: string, args: Record<string, unknown> = {}): Promise<{ data: any; isError: boolean }> {
  const r = (await client.callTool({ name, arguments: args })) as { content: { type: string; text: string }[]; isError?: boolean };
  expect(r.content).toHaveLength(1);
  return { data: JSON.parse(r.content[0]!.text), isError: r.isError === true };
}

beforeAll(async () => {
  ({ dir, cleanup } = tempRepo());
  seedRepo(dir);
  git(dir, 'add', '-A');
  git(dir, 'commit', '-qm', 'plan');
  const transport = new StdioClientTransport({ command: process.execPath, args: [BIN, 'mcp'], cwd: dir, env: { ...process.env, PIV_AGENT: 'mcp-agent', NO_COLOR: '1' } as Record<string, string>, stderr: 'pipe' });
  client = new Client({ name: 'piv-test', version: '1.0.0' });
  await client.connect(transport);
});
afterAll(async () => {
  await client?.close();
  cleanup?.();
});

describe('piv mcp', () => {
  it('lists eight tools whose whole schema set costs under 2,000 tokens', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(['piv_status', 'piv_next', 'piv_complete', 'piv_plan', 'piv_decide', 'piv_pause', 'piv_resume', 'piv_validate']);
    for (const t of tools) {
      expect(t.description?.length).toBeGreaterThan(10);
      expect(t.inputSchema.type).toBe('object');
    }
    expect(tools.find((t) => t.name === 'piv_complete')!.inputSchema.required).toEqual(['id']);
    const tokens = countTokens(JSON.stringify(tools));
    expect(tokens).toBeGreaterThan(300); // the measure counts something real
    expect(tokens).toBeLessThan(2_000);
    // `piv mcp --tools` reports the same figure.
    expect(piv(dir, ['mcp', '--tools', '--json']).json.result.schema_tokens).toBe(tokens);
  });

  it('claims, completes and reports status like the CLI, for the server\'s agent', async () => {
    const next = await call('piv_next');
    expect(next.isError).toBe(false);
    expect(next.data).toMatchObject({ outcome: 'claimed', task: { id: 'task-001', files: ['src/user.js'], verify: 'test -f src/user.js' }, decisions: [{ question: 'Auth method?', answer: 'JWT with refresh tokens' }] });
    expect(taskYaml(dir, 'task-001')).toMatchObject({ status: 'in_progress', owner: 'mcp-agent' });

    const failed = await call('piv_complete', { id: 'task-001' });
    expect(failed.data).toMatchObject({ id: 'task-001', passed: false, status: 'in_progress' });

    write(dir, { 'src/user.js': 'export const User = {};\n' });
    const done = await call('piv_complete', { id: 'task-001', tokens: 1200 });
    expect(done.data).toMatchObject({ id: 'task-001', passed: true, status: 'completed', message: 'feat(models): Create User model' });
    expect(git(dir, 'log', '-1', '--format=%(trailers:key=Piv-Task,valueonly)').trim()).toBe('task-001');

    const status = await call('piv_status');
    expect(status.data).toMatchObject({ feature: 'user-authentication', progress: { done: 1, total: 5 }, ready: ['task-003', 'task-002'] }); // scheduler order: the critical path first
  });

  it('decide, plan (dry run), pause and resume answer compact JSON; errors are error results with piv\'s code', async () => {
    const decided = await call('piv_decide', { feature: 'user-authentication', decide: ['Token duration?=15 minutes'] });
    expect(decided.data.decisions).toContainEqual({ question: 'Token duration?', answer: '15 minutes' });
    const plan = await call('piv_plan', { plan: 'tasks:\n  - name: Only task\n    verify: "true"\n', dry_run: true });
    expect(plan.isError, JSON.stringify(plan.data)).toBe(false);
    expect(plan.data.written).toBe(false);
    expect(plan.data.tasks.map((t: { name: string }) => t.name)).toContain('Only task');
    const paused = await call('piv_pause', { note: 'lunch' });
    expect(paused.data).toMatchObject({ feature: 'user-authentication', done: 1, total: 5 });
    const resumed = await call('piv_resume');
    expect(resumed.data.brief).toContain('piv: feature user-authentication');
    const missing = await call('piv_complete', { id: 'task-042' });
    expect(missing.isError).toBe(true);
    expect(missing.data.error).toMatchObject({ code: 'not_found' });
    const bad = await call('piv_decide', { feature: 'Not A Slug' });
    expect(bad).toMatchObject({ isError: true, data: { error: { code: 'usage' } } });
  });
});
