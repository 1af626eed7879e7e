// State at a commit: the task graph and session as a git commit holds them, read from objects (no checkout), validated like files.
import { compareIdsPure } from '../core/ids.js';
import { lsTree, readBlobs } from '../git/plumbing.js';
import { assertTaskDag, parseSessionText, parseTaskText, STATE_PATHS } from './index.js';
import { AgentStateSchema, type AgentState, type Session, type Task } from './schemas.js';
import { parseYaml } from './yaml.js';

/** The shared state of a feature as one commit holds it. */
export interface CommitState {
  commit: string;
  tasks: Task[];
  session: Session | null;
  /** Text of each state file read (repository path → text), so a rewrite keeps its comments. */
  texts: Map<string, string>;
}

/** Parsed task files by blob oid: a blob never changes, so a retry after a lost compare-and-swap parses only new blobs. */
const parsed = new Map<string, Task>();

/**
 * Reads and validates the tasks and session of `commit` (errors name the file as `<label>:<path>`, e.g.
 * `piv/auth:.agents/tasks/task-003.yaml`). Returns them sorted by id. Throws `invalid_file` / `invalid_graph` (exit 2)
 * like the working-tree readers, `git_failed` when the commit cannot be read.
 */
export async function readStateAt(root: string, commit: string, label: string): Promise<CommitState> {
  const entries = (await lsTree(root, commit, [STATE_PATHS.tasksDir, STATE_PATHS.session])).filter((e) => e.type === 'blob');
  const taskEntries = entries.filter((e) => e.path.startsWith(`${STATE_PATHS.tasksDir}/`) && e.path.endsWith('.yaml') && !e.path.slice(STATE_PATHS.tasksDir.length + 1).includes('/'));
  const sessionEntry = entries.find((e) => e.path === STATE_PATHS.session);
  const blobs = await readBlobs(root, [...taskEntries, ...(sessionEntry ? [sessionEntry] : [])].map((e) => e.oid));
  const texts = new Map<string, string>();
  const tasks: Task[] = [];
  for (const e of taskEntries) {
    const text = blobs.get(e.oid)!;
    texts.set(e.path, text);
    const id = e.path.slice(STATE_PATHS.tasksDir.length + 1, -'.yaml'.length);
    let task = parsed.get(e.oid);
    if (!task) {
      task = await parseTaskText(text, id, `${label}:${e.path}`);
      parsed.set(e.oid, task);
    }
    tasks.push(task);
  }
  tasks.sort((a, b) => compareIdsPure(a.id, b.id));
  assertTaskDag(tasks, (id) => `${label}:${STATE_PATHS.task(id)}`);
  let session: Session | null = null;
  if (sessionEntry) {
    const text = blobs.get(sessionEntry.oid)!;
    texts.set(STATE_PATHS.session, text);
    session = await parseSessionText(text, `${label}:${STATE_PATHS.session}`);
  }
  return { commit, tasks, session, texts };
}

/** Every agent's state file in `commit` (`.agents/state/agents/*.yaml`), validated; sorted by agent. */
export async function readAgentStatesAt(root: string, commit: string, label: string): Promise<AgentState[]> {
  const dir = '.agents/state/agents';
  const entries = (await lsTree(root, commit, [dir])).filter((e) => e.type === 'blob' && e.path.endsWith('.yaml'));
  const blobs = await readBlobs(root, entries.map((e) => e.oid));
  return entries.map((e) => parseYaml(blobs.get(e.oid)!, AgentStateSchema, { file: `${label}:${e.path}`, kind: 'agent state file' })).sort((a, b) => (a.agent < b.agent ? -1 : 1));
}
