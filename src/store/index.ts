// Store: the only code that reads or writes .agents/; every read is validated (or served from a cache of what validated), every write is atomic (readers never see a partial file).
import fs, { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkGraph } from '../core/graph.js';
import { PivError } from '../errors.js';
import { emitYaml, hasComments, schemaComment } from './emit.js';
import { readThrough, recordWrite, settledSummaries, type Codec, type Found, type Outcome } from './cache.js';
import { FORMAT_VERSION } from './formats.js';
import { AGENTS_DIR, layout, rel, requireInitialized } from './layout.js';
import type { AgentState, Config, SchemaName, Session, Task } from './schemas.js';

export { tryStateLock, withStateLock } from './lock.js';
export { findRepoRoot, layout, rel, requireInitialized } from './layout.js';
import { sortIds } from '../core/ids.js';
import { trace } from '../trace.js';

// Sync fs calls for the small files of .agents/: a verb writes a few of them, one after the other, and each async call
// costs event-loop turns (and node:fs/promises its load) that a claim, measured, spent more on than on the I/O itself.
const copyFile = async (from: string, to: string) => fs.copyFileSync(from, to);
const mkdir = async (dir: string, opts: { recursive: true }) => void fs.mkdirSync(dir, opts);
const rename = async (from: string, to: string) => fs.renameSync(from, to);
const rm = async (file: string, opts: { force: true }) => fs.rmSync(file, opts);

/** Atomic write (temp file + fsync + rename, by write-file-atomic's sync API), loaded only by verbs that write. */
async function writeFileAtomic(file: string, data: string): Promise<void> {
  const { default: write } = await import('write-file-atomic');
  write.sync(file, data);
}

/** The YAML codec and the zod schemas, loaded only to parse a file the cache cannot answer for, or to write one. */
const codec = async () => ({ ...(await import('./yaml.js')), ...(await import('./schemas.js')) });

/** Where piv's own JSON Schemas live (the package's schemas/ folder). */
export const PACKAGE_SCHEMAS_DIR = fileURLToPath(new URL('../../schemas/', import.meta.url));

const SCHEMA_REF: Record<'task' | 'session' | 'config' | 'agent', string> = {
  task: '../schemas/task.schema.json',
  session: '../schemas/session.schema.json',
  agent: '../../schemas/agent.schema.json',
  config: 'schemas/config.schema.json',
};

/** PivError `invalid_file` (exit 2) for a file that exists but cannot be read as text (a folder in its place, no permission, too large). */
function unreadable(file: string, error: unknown): PivError {
  const code = (error as NodeJS.ErrnoException).code;
  const shown = path.relative(process.cwd(), file) || file;
  return new PivError('invalid_file', `${shown}: cannot be read (${code ?? (error as Error).message})`, {
    file: shown,
    hint: 'It must be a readable YAML file; restore it from git (git checkout -- <file>) or remove it.',
    cause: error,
  });
}

/**
 * The text of `file`, or null when it does not exist. Throws PivError `invalid_file` (exit 2) naming the file when it
 * cannot be read as text (a folder in its place, no permission, too large for a string), so no fs error reaches the user
 * as a crash.
 */
async function readText(file: string): Promise<string | null> {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw unreadable(file, error);
  }
}

/** What the hot verbs (status, execute, the scheduler) read of a task; the cache keeps it apart from the rest. */
export type TaskSummary = Pick<Task, 'id' | 'name' | 'status' | 'priority' | 'phase' | 'blocked_by' | 'estimated_tokens' | 'actual_tokens' | 'owner' | 'lease_expires_at' | 'blocker' | 'claimed_at'>;

const summarize = (t: Task): unknown[] => [t.id, t.name, t.status, t.priority, t.phase, t.blocked_by, t.estimated_tokens, t.actual_tokens, t.owner, t.lease_expires_at, t.blocker, t.claimed_at];
/** A TaskSummary from row `i` of the cache's columns (in summarize's order). */
const expand = (c: unknown[][], i: number): TaskSummary => ({
  id: c[0]![i] as string,
  name: c[1]![i] as string,
  status: c[2]![i] as Task['status'],
  priority: c[3]![i] as Task['priority'],
  phase: c[4]![i] as string | null,
  blocked_by: c[5]![i] as string[],
  estimated_tokens: c[6]![i] as number | null,
  actual_tokens: c[7]![i] as number | null,
  owner: c[8]![i] as string | null,
  lease_expires_at: c[9]![i] as string | null,
  blocker: c[10]![i] as string | null,
  claimed_at: c[11]![i] as string | null,
});

/** Reads one state file (relative to .agents/) through the cache: its value, or null when it does not exist. Throws its PivError. */
async function readStateFile<V>(root: string, relative: string, parse: (text: string, shown: string) => Promise<V>): Promise<V | null> {
  const agents = layout(root).agents;
  const [outcome] = await readThrough<V>(agents, [relative], {
    want: 'value',
    codec: { parse: (_rel, text) => parse(text, rel(root, path.join(agents, relative))) },
    unreadable: (_rel, error) => unreadable(path.join(agents, relative), error),
  });
  return valueOf(outcome!);
}

function valueOf<V, S>(outcome: Outcome<V, S>): V | null {
  if ('error' in outcome) throw outcome.error;
  if ('missing' in outcome) return null;
  return outcome.value;
}

/** Reads and validates `.agents/config.yaml` (defaults applied). Throws `not_initialized` or `invalid_file` (exit 2). */
export async function readConfig(root: string): Promise<Config> {
  const paths = requireInitialized(root);
  const parse = async (text: string) => {
    const { parseYaml, ConfigSchema } = await codec();
    return parseYaml(text, ConfigSchema, { file: rel(root, paths.config), kind: 'config file' });
  };
  return (await readStateFile(root, 'config.yaml', parse)) ?? parse('');
}

/** Reads the feature session, or null when none was opened. Throws `invalid_file` (exit 2) when it does not validate. */
export async function readSession(root: string): Promise<Session | null> {
  return readStateFile(root, 'state/session.yaml', parseSessionText);
}

/** Reads the feature session. Throws `no_session` (exit 2) when none was opened. */
export async function requireSession(root: string): Promise<Session> {
  const session = await readSession(root);
  if (!session) {
    throw new PivError('no_session', 'no feature session is open', {
      hint: 'Open one with `piv discuss <feature>`.',
    });
  }
  return session;
}

/** Ids of the task files present, sorted (from file names; nothing is parsed). A sync readdir: one call, no thread hop. */
export async function listTaskIds(root: string): Promise<string[]> {
  return sortIds(idsOf(taskFileNames(root)));
}

/** The ids of task file names (task-001.yaml → task-001), in their order. */
const idsOf = (names: readonly string[]) => names.map((n) => n.slice(0, -'.yaml'.length));

/** The names of the task files (`*.yaml` in the tasks folder), in the file system's order; [] without the folder. */
function taskFileNames(root: string): string[] {
  let names: string[];
  try {
    names = readdirSync(layout(root).tasksDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return names.filter((n) => n.endsWith('.yaml'));
}

/** Paths of piv's shared state files relative to the repository root (POSIX), as git trees name them. */
export const STATE_PATHS = { tasksDir: `${AGENTS_DIR}/tasks`, session: `${AGENTS_DIR}/state/session.yaml`, task: (id: string) => `${AGENTS_DIR}/tasks/${id}.yaml`, agentState: (agent: string) => `${AGENTS_DIR}/state/agents/${agent}.yaml` } as const;

/**
 * Parses and validates the text of task `id`'s file (shown as `shown` in errors), as piv always did. Throws `invalid_file`
 * (exit 2) naming the file, line and field, also when the id inside differs from the file name.
 */
export async function parseTaskText(text: string, id: string, shown: string): Promise<Task> {
  const { parseYaml, TaskSchema } = await codec();
  const task = parseYaml(text, TaskSchema, { file: shown, kind: 'task file' });
  if (task.id !== id) {
    throw new PivError('invalid_file', `${shown}: field "id": is ${task.id} but the file is named ${id}.yaml`, {
      file: shown,
      field: 'id',
      hint: `Rename the file to ${task.id}.yaml or set id: ${id}.`,
    });
  }
  return task;
}

/** Parses and validates a session file's text. Throws `invalid_file` (exit 2). */
export async function parseSessionText(text: string, shown: string): Promise<Session> {
  const { parseYaml, SessionSchema } = await codec();
  return parseYaml(text, SessionSchema, { file: shown, kind: 'session file' });
}

/** A task file's text: validated, schema line first, comments of `previous` (the file's current text) kept on unchanged fields. */
export async function renderTaskText(task: Task, previous?: string): Promise<string> {
  return renderFile((await import('./schemas.js')).TaskSchema.parse(task), SCHEMA_REF.task, previous);
}

/** The session file's text, as renderTaskText. */
export async function renderSessionText(session: Session, previous?: string): Promise<string> {
  return renderFile((await import('./schemas.js')).SessionSchema.parse(session), SCHEMA_REF.session, previous);
}

/**
 * `data` as the text of a piv file (schema modeline first): emitYaml's, without loading yaml, unless `previous` (the
 * file's current text) holds comments to keep or emitYaml declines `data`; then yaml's renderYaml (the same text for
 * what emitYaml covers: tests/unit/emit.test.ts).
 */
async function renderFile(data: Record<string, unknown>, schemaRef: string, previous?: string): Promise<string> {
  const fast = previous !== undefined && hasComments(previous) ? null : emitYaml(data, schemaComment(schemaRef));
  return fast ?? (await import('./yaml.js')).renderYaml(data, schemaRef, previous);
}

/** The task codec: parses and validates a task file as piv always did, and refuses one whose id is not its file name. */
function taskCodec(root: string): Codec<Task, TaskSummary> {
  return {
    async parse(relative, text) {
      const id = relative.slice('tasks/'.length, -'.yaml'.length);
      return parseTaskText(text, id, rel(root, layout(root).task(id)));
    },
    split: { summarize, expand },
  };
}

/** Reads the task files `ids` through the cache, in order: each a task (or summary), or the error it gives. */
async function readTaskFiles(root: string, ids: readonly string[], want: 'summary' | 'value', complete: boolean): Promise<Outcome<Task, TaskSummary>[]> {
  const agents = layout(root).agents;
  return readThrough(agents, ids.map((id) => `tasks/${id}.yaml`), {
    want,
    codec: taskCodec(root),
    unreadable: (relative, error) => unreadable(path.join(agents, relative), error),
    complete,
  });
}

const notFound = (root: string, id: string) => {
  const shown = rel(root, layout(root).task(id));
  return new PivError('not_found', `task ${id} does not exist (${shown})`, { file: shown, hint: 'List tasks with `piv status`.' });
};

/** Reads one task. Throws `not_found` or `invalid_file` (exit 2, also when the id inside differs from the file name). */
export async function readTask(root: string, id: string): Promise<Task> {
  const [outcome] = await readTaskFiles(root, [id], 'value', false);
  const task = valueOf(outcome!);
  if (task === null) throw notFound(root, id);
  return task;
}

/**
 * Throws `invalid_graph` (exit 2) unless `tasks` form a DAG (every blocked_by id exists, no cycle), naming the file of the
 * first task involved (`fileOf(id)`) and every problem, so no verb ever schedules from a graph a person broke by hand.
 */
export function assertTaskDag(tasks: readonly TaskSummary[], fileOf: (id: string) => string): void {
  const problems = checkGraph(tasks);
  if (problems.length === 0) return;
  const file = fileOf(problems[0]!.ids[0]!);
  throw new PivError('invalid_graph', `${file}: the task graph is invalid: ${problems.map((p) => p.message).join('; ')}`, {
    file,
    field: 'blocked_by',
    hint: 'Fix blocked_by in the task files so that every id exists, no task waits on itself and there is no cycle (or re-plan).',
    details: { problems },
  });
}

const assertDag = (root: string, tasks: readonly TaskSummary[]) => assertTaskDag(tasks, (id) => rel(root, layout(root).task(id)));

/** Every outcome's value, in order; throws the first error (a file gone since the listing is `not_found`). */
function allValues<T>(root: string, ids: readonly string[], outcomes: Outcome<Task, TaskSummary>[], pick: (o: Found<Task, TaskSummary>) => T): T[] {
  return outcomes.map((o, i) => {
    if ('error' in o) throw o.error;
    if ('missing' in o) throw notFound(root, ids[i]!);
    return pick(o);
  });
}

/**
 * Reads every task, sorted by id, and checks that they form a DAG (every blocked_by id exists, no cycle), so no verb ever
 * schedules from a graph a person broke by hand. Throws the first `invalid_file` error, else `invalid_graph` (exit 2)
 * naming the file of the first task involved and every problem.
 */
export async function readTasks(root: string): Promise<Task[]> {
  const ids = await listTaskIds(root);
  const tasks = allValues(root, ids, await readTaskFiles(root, ids, 'value', true), (o) => o.value);
  assertDag(root, tasks);
  return tasks;
}

/**
 * What status and execute need of every task (TaskSummary: id, name, status, priority, phase, blocked_by, tokens, owner,
 * lease, blocker), sorted by id, checked like readTasks (same errors). Served from the cache's index without reading the
 * task files or loading the YAML parser while they are unchanged; `readTask` gives the full task.
 */
export async function readTaskSummaries(root: string): Promise<TaskSummary[]> {
  trace('summaries: start');
  const names = taskFileNames(root);
  trace(`summaries: ${names.length} files listed`);
  // Every file unchanged since the cache's index saw it (the usual case): the index alone answers, else every file is read through the cache.
  // (A file that fails to read makes the whole read fall back, which reports it as it always does.)
  const readFew = async (few: string[]) => {
    const outcomes = await readTaskFiles(root, idsOf(few), 'summary', false);
    return outcomes.every((o) => 'summary' in o && o.summary !== undefined) ? outcomes.map((o) => (o as Found<Task, TaskSummary>).summary!) : null;
  };
  const settled = await settledSummaries(layout(root).agents, names, expand, readFew);
  const ids = settled ? null : sortIds(idsOf(names));
  const tasks = settled ?? allValues(root, ids!, await readTaskFiles(root, ids!, 'summary', true), (o) => o.summary!);
  trace(settled ? 'summaries: read from the index' : 'summaries: read');
  assertDag(root, tasks);
  trace('summaries: DAG checked');
  return tasks;
}

/** Reads every task, collecting errors instead of throwing (for `validate`). */
export async function readTasksCollecting(root: string): Promise<{ tasks: Task[]; errors: PivError[] }> {
  const ids = await listTaskIds(root);
  const outcomes = await readTaskFiles(root, ids, 'value', true);
  const tasks: Task[] = [];
  const errors: PivError[] = [];
  outcomes.forEach((o, i) => {
    if ('error' in o) {
      if (o.error instanceof PivError) errors.push(o.error);
      else throw o.error;
    } else if ('missing' in o) errors.push(notFound(root, ids[i]!));
    else tasks.push(o.value);
  });
  return { tasks, errors };
}

async function writeYamlFile(file: string, data: Record<string, unknown>, schemaRef: string): Promise<string> {
  const previous = await readText(file);
  await mkdir(path.dirname(file), { recursive: true });
  const text = await renderFile(data, schemaRef, previous ?? undefined);
  await writeFileAtomic(file, text);
  return text;
}

/** The path of `file` relative to `.agents/`, as the cache names it. */
const agentsRel = (root: string, file: string) => path.relative(layout(root).agents, file).split(path.sep).join('/');

/** Validates and writes a task file atomically, keeping comments on unchanged fields. Throws on an invalid task (a bug). */
export async function writeTask(root: string, task: Task): Promise<void> {
  const valid = (await import('./schemas.js')).TaskSchema.parse(task);
  const file = layout(root).task(valid.id);
  const text = await writeYamlFile(file, valid, SCHEMA_REF.task);
  trace(`write ${valid.id}: written`);
  await recordWrite(layout(root).agents, agentsRel(root, file), text, valid, summarize(valid));
}

/** Deletes a task file (re-planning dropped it). */
export async function deleteTask(root: string, id: string): Promise<void> {
  await rm(layout(root).task(id), { force: true });
  await recordWrite(layout(root).agents, `tasks/${id}.yaml`, null, null);
}

/** Validates and writes the session file atomically. */
export async function writeSession(root: string, session: Session): Promise<void> {
  const valid = (await import('./schemas.js')).SessionSchema.parse(session);
  const text = await writeYamlFile(layout(root).session, valid, SCHEMA_REF.session);
  await recordWrite(layout(root).agents, 'state/session.yaml', text, valid);
}

/** One agent's usage sessions and checkpoints; an empty state when the agent has none yet. Throws `invalid_file` (exit 2). */
export async function readAgentState(root: string, agent: string): Promise<AgentState> {
  const state = await readStateFile(root, `state/agents/${agent}.yaml`, async (text, shown) => {
    const { parseYaml, AgentStateSchema } = await codec();
    return parseYaml(text, AgentStateSchema, { file: shown, kind: 'agent state file' });
  });
  return state ?? { version: FORMAT_VERSION, agent, sessions: [], checkpoints: [] };
}

/** Every agent's state (for feature totals and the latest checkpoint), sorted by agent id. Throws `invalid_file` (exit 2). */
export async function readAgentStates(root: string): Promise<AgentState[]> {
  let names: string[];
  try {
    names = readdirSync(layout(root).agentStatesDir).filter((n) => n.endsWith('.yaml')).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return Promise.all(names.map((n) => readAgentState(root, n.slice(0, -'.yaml'.length))));
}

/** Validates and writes one agent's state atomically. */
export async function writeAgentState(root: string, state: AgentState): Promise<void> {
  const valid = (await import('./schemas.js')).AgentStateSchema.parse(state);
  const text = await writeYamlFile(layout(root).agentState(valid.agent), valid, SCHEMA_REF.agent);
  await recordWrite(layout(root).agents, `state/agents/${valid.agent}.yaml`, text, valid);
}

/** Puts a file under `.agents/` back as it was: `text`, or absent when `text` is null (undoing a failed verb). */
export async function restoreAgentsFile(root: string, relativePath: string, text: string | null): Promise<void> {
  if (text === null) {
    await rm(path.join(layout(root).agents, relativePath), { force: true });
    await recordWrite(layout(root).agents, relativePath.split(path.sep).join('/'), null, null);
  } else await writeAgentsFile(root, relativePath, text);
}

/** Writes the config file (init only: piv never rewrites a config a person may have edited). */
export async function writeConfigText(root: string, text: string): Promise<void> {
  const paths = layout(root);
  await mkdir(paths.agents, { recursive: true });
  await writeFileAtomic(paths.config, `# yaml-language-server: $schema=${SCHEMA_REF.config}\n${text}`);
  await recordWrite(paths.agents, 'config.yaml', null, null);
}

/** Copies piv's JSON Schemas into `.agents/schemas/` so editors validate the YAML files offline. */
export async function installSchemas(root: string): Promise<string[]> {
  const paths = layout(root);
  await mkdir(paths.schemasDir, { recursive: true });
  const names: SchemaName[] = ['task', 'session', 'agent', 'config', 'plan'];
  await Promise.all(names.map((n) => copyFile(path.join(PACKAGE_SCHEMAS_DIR, `${n}.schema.json`), path.join(paths.schemasDir, `${n}.schema.json`))));
  return names.map((n) => rel(root, path.join(paths.schemasDir, `${n}.schema.json`)));
}

/** The text of a file under `.agents/` (path relative to it), or null when it does not exist. */
export async function readAgentsFile(root: string, relativePath: string): Promise<string | null> {
  return readText(path.join(layout(root).agents, relativePath));
}

/** Writes any text file under `.agents/` atomically (reports, the prime brief, .gitignore, a restored file). */
export async function writeAgentsFile(root: string, relativePath: string, text: string): Promise<string> {
  const file = path.join(layout(root).agents, relativePath);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, text);
  await recordWrite(layout(root).agents, agentsRel(root, file), null, null); // raw text: the next read parses it
  return file;
}

/**
 * Moves a finished feature's session and task files to `.agents/archive/<feature>/` (state/session.yaml, tasks/), so the
 * next feature starts from an empty graph. Returns the archive folder, relative to root. Throws when it already exists.
 */
export async function archiveFeature(root: string, feature: string): Promise<string> {
  const paths = layout(root);
  const target = path.join(paths.agents, 'archive', feature);
  if (existsSync(target)) {
    throw new PivError('conflict', `${rel(root, target)} already exists`, { hint: 'Move or delete the old archive, or give the new feature another name.' });
  }
  await mkdir(path.join(target, 'state'), { recursive: true });
  await rename(paths.session, path.join(target, 'state', 'session.yaml'));
  if (existsSync(paths.tasksDir)) await rename(paths.tasksDir, path.join(target, 'tasks'));
  await mkdir(paths.tasksDir, { recursive: true });
  return rel(root, target);
}
