// Store: the only code that reads or writes .agents/; every read is validated, every write is atomic (readers never see a partial file).
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkGraph } from '../core/graph.js';
import { PivError } from '../errors.js';
import { AGENTS_DIR, layout, rel, requireInitialized } from './layout.js';
import { parseYaml, renderYaml } from './yaml.js';

/** Atomic write (temp file + fsync + rename, by write-file-atomic), loaded only by verbs that write. */
async function writeFileAtomic(file: string, data: string): Promise<void> {
  const { default: write } = await import('write-file-atomic');
  await write(file, data);
}
import { AgentStateSchema, ConfigSchema, FORMAT_VERSION, SessionSchema, TaskSchema, type AgentState, type Config, type SchemaName, type Session, type Task } from './schemas.js';

export { withStateLock } from './lock.js';
export { findRepoRoot, layout, rel, requireInitialized } from './layout.js';
import { compareIdsPure as compareIds } from '../core/ids.js';

/** Where piv's own JSON Schemas live (the package's schemas/ folder). */
export const PACKAGE_SCHEMAS_DIR = fileURLToPath(new URL('../../schemas/', import.meta.url));

const SCHEMA_REF: Record<'task' | 'session' | 'config' | 'agent', string> = {
  task: '../schemas/task.schema.json',
  session: '../schemas/session.schema.json',
  agent: '../../schemas/agent.schema.json',
  config: 'schemas/config.schema.json',
};

/**
 * The text of `file`, or null when it does not exist. Throws PivError `invalid_file` (exit 2) naming the file when it
 * cannot be read as text (a folder in its place, no permission, too large for a string), so no fs error reaches the user
 * as a crash.
 */
async function readText(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    const shown = path.relative(process.cwd(), file) || file;
    throw new PivError('invalid_file', `${shown}: cannot be read (${code ?? (error as Error).message})`, {
      file: shown,
      hint: 'It must be a readable YAML file; restore it from git (git checkout -- <file>) or remove it.',
      cause: error,
    });
  }
}

/** Reads and validates `.agents/config.yaml` (defaults applied). Throws `not_initialized` or `invalid_file` (exit 2). */
export async function readConfig(root: string): Promise<Config> {
  const paths = requireInitialized(root);
  const text = (await readText(paths.config)) ?? '';
  return parseYaml(text, ConfigSchema, { file: rel(root, paths.config), kind: 'config file' });
}

/** Reads the feature session, or null when none was opened. Throws `invalid_file` (exit 2) when it does not validate. */
export async function readSession(root: string): Promise<Session | null> {
  const paths = layout(root);
  const text = await readText(paths.session);
  if (text === null) return null;
  return parseSessionText(text, rel(root, paths.session));
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

/** Ids of the task files present, sorted (from file names; nothing is parsed). */
export async function listTaskIds(root: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(layout(root).tasksDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return names
    .filter((n) => n.endsWith('.yaml'))
    .map((n) => n.slice(0, -'.yaml'.length))
    .sort(compareIds);
}



/** Paths of piv's shared state files relative to the repository root (POSIX), as git trees name them. */
export const STATE_PATHS = { tasksDir: `${AGENTS_DIR}/tasks`, session: `${AGENTS_DIR}/state/session.yaml`, task: (id: string) => `${AGENTS_DIR}/tasks/${id}.yaml`, agentState: (agent: string) => `${AGENTS_DIR}/state/agents/${agent}.yaml` } as const;

/**
 * Parses and validates the text of task `id`'s file (shown as `shown` in errors). Throws `invalid_file` (exit 2) naming the
 * file, line and field, also when the id inside differs from the file name.
 */
export function parseTaskText(text: string, id: string, shown: string): Task {
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
export function parseSessionText(text: string, shown: string): Session {
  return parseYaml(text, SessionSchema, { file: shown, kind: 'session file' });
}

/** A task file's text: validated, schema line first, comments of `previous` (the file's current text) kept on unchanged fields. */
export function renderTaskText(task: Task, previous?: string): string {
  return renderYaml(TaskSchema.parse(task), SCHEMA_REF.task, previous);
}

/** The session file's text, as renderTaskText. */
export function renderSessionText(session: Session, previous?: string): string {
  return renderYaml(SessionSchema.parse(session), SCHEMA_REF.session, previous);
}

/** Reads one task. Throws `not_found` or `invalid_file` (exit 2, also when the id inside differs from the file name). */
export async function readTask(root: string, id: string): Promise<Task> {
  const file = layout(root).task(id);
  const shown = rel(root, file);
  const text = await readText(file);
  if (text === null) throw new PivError('not_found', `task ${id} does not exist (${shown})`, { file: shown, hint: 'List tasks with `piv status`.' });
  return parseTaskText(text, id, shown);
}

/**
 * Throws `invalid_graph` (exit 2) unless `tasks` form a DAG (every blocked_by id exists, no cycle), naming the file of the
 * first task involved (`fileOf(id)`) and every problem, so no verb ever schedules from a graph a person broke by hand.
 */
export function assertTaskDag(tasks: readonly Task[], fileOf: (id: string) => string): void {
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

/**
 * Reads every task, sorted by id, and checks that they form a DAG (assertTaskDag). Throws the first `invalid_file` error,
 * else `invalid_graph` (exit 2).
 */
export async function readTasks(root: string): Promise<Task[]> {
  const ids = await listTaskIds(root);
  const tasks = await Promise.all(ids.map((id) => readTask(root, id)));
  assertTaskDag(tasks, (id) => rel(root, layout(root).task(id)));
  return tasks;
}

/** Reads every task, collecting errors instead of throwing (for `validate`). */
export async function readTasksCollecting(root: string): Promise<{ tasks: Task[]; errors: PivError[] }> {
  const ids = await listTaskIds(root);
  const results = await Promise.allSettled(ids.map((id) => readTask(root, id)));
  const tasks: Task[] = [];
  const errors: PivError[] = [];
  for (const r of results) {
    if (r.status === 'fulfilled') tasks.push(r.value);
    else if (r.reason instanceof PivError) errors.push(r.reason);
    else throw r.reason;
  }
  return { tasks, errors };
}

async function writeYamlFile(file: string, data: Record<string, unknown>, schemaRef: string): Promise<void> {
  const previous = await readText(file);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, renderYaml(data, schemaRef, previous ?? undefined));
}

/** Validates and writes a task file atomically, keeping comments on unchanged fields. Throws on an invalid task (a bug). */
export async function writeTask(root: string, task: Task): Promise<void> {
  const file = layout(root).task(task.id);
  const previous = await readText(file);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, renderTaskText(task, previous ?? undefined));
}

/** Deletes a task file (re-planning dropped it). */
export async function deleteTask(root: string, id: string): Promise<void> {
  await rm(layout(root).task(id), { force: true });
}

/** Validates and writes the session file atomically. */
export async function writeSession(root: string, session: Session): Promise<void> {
  const file = layout(root).session;
  const previous = await readText(file);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, renderSessionText(session, previous ?? undefined));
}

/** One agent's usage sessions and checkpoints; an empty state when the agent has none yet. Throws `invalid_file` (exit 2). */
export async function readAgentState(root: string, agent: string): Promise<AgentState> {
  const file = layout(root).agentState(agent);
  const text = await readText(file);
  if (text === null) return { version: FORMAT_VERSION, agent, sessions: [], checkpoints: [] };
  return parseYaml(text, AgentStateSchema, { file: rel(root, file), kind: 'agent state file' });
}

/** Every agent's state (for feature totals and the latest checkpoint), sorted by agent id. Throws `invalid_file` (exit 2). */
export async function readAgentStates(root: string): Promise<AgentState[]> {
  let names: string[];
  try {
    names = (await readdir(layout(root).agentStatesDir)).filter((n) => n.endsWith('.yaml')).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return Promise.all(names.map((n) => readAgentState(root, n.slice(0, -'.yaml'.length))));
}

/** Validates and writes one agent's state atomically. */
export async function writeAgentState(root: string, state: AgentState): Promise<void> {
  const valid = AgentStateSchema.parse(state);
  await writeYamlFile(layout(root).agentState(valid.agent), valid, SCHEMA_REF.agent);
}

/** Puts a file under `.agents/` back as it was: `text`, or absent when `text` is null (undoing a failed verb). */
export async function restoreAgentsFile(root: string, relativePath: string, text: string | null): Promise<void> {
  if (text === null) await rm(path.join(layout(root).agents, relativePath), { force: true });
  else await writeAgentsFile(root, relativePath, text);
}

/** Writes the config file (init only: piv never rewrites a config a person may have edited). */
export async function writeConfigText(root: string, text: string): Promise<void> {
  const paths = layout(root);
  await mkdir(paths.agents, { recursive: true });
  await writeFileAtomic(paths.config, `# yaml-language-server: $schema=${SCHEMA_REF.config}\n${text}`);
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
