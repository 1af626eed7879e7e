// Schemas: the single definition of every .agents/ file; strict objects, so a misspelt key is an error, never silently ignored.
// Written with zod/mini (the same validator core and English messages as zod's classic API, a tenth of its start-up cost).
import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import { AGENT_ID_PATTERN, FEATURE_PATTERN, FORMAT_VERSION, PHASES, PRIORITIES, SESSION_STATUSES, TASK_ID_PATTERN, TASK_STATUSES } from './formats.js';

export { AGENT_ID_PATTERN, FEATURE_PATTERN, FORMAT_VERSION, PHASES, PRIORITIES, SESSION_STATUSES, TASK_ID_PATTERN, TASK_STATUSES } from './formats.js';
export type { Phase, Priority, TaskStatus } from './formats.js';

// zod/mini loads no locale by itself: the English messages are the ones zod's classic API shows.
z.config(en());

const isoTime = z.iso.datetime({ offset: true });
const nullableString = z.nullable(z.string());
/** A whole number (zod's safe-integer check). */
const int = () => z.number().check(z.int());
const nonNegativeInt = () => z.number().check(z.int(), z.nonnegative());

/** A path inside the repository, relative to its root: not absolute, no `..` segment. */
const repoPath = z
  .string()
  .check(
    z.minLength(1),
    z.refine((p: string) => !p.startsWith('/') && !/^[A-Za-z]:[\\/]/.test(p) && !p.split(/[\\/]/).includes('..'), 'a path relative to the repository root, without ..'),
  );
export const taskId = z.string().check(z.regex(TASK_ID_PATTERN, 'a task id looks like task-001'));
const phaseName = z.nullable(z.string().check(z.regex(/^[A-Za-z0-9_./-]+$/, 'a phase is one word such as models or api')));
const commitType = z.string().check(z.regex(/^[a-z]+$/));

/** One run of a task's verify command (or a recorded `--no-verify` skip). */
export const AttemptSchema = z.strictObject({
  at: isoTime,
  agent: z.string(),
  /** null when the command was killed (timeout) or skipped. */
  exit_code: z.nullable(int()),
  passed: z.boolean(),
  /** true when completed with --no-verify: nothing was run. */
  skipped: z._default(z.boolean(), false),
  duration_ms: nonNegativeInt(),
  timed_out: z._default(z.boolean(), false),
  /** The last lines of stdout+stderr, interleaved. */
  output_tail: z._default(z.string(), ''),
  /** Tokens reported with this attempt (`--tokens` or the transcript), also in actual_tokens and the agent's usage; null for none. */
  tokens: z._default(z.nullable(nonNegativeInt()), null),
});
export type Attempt = z.infer<typeof AttemptSchema>;

export const NoteSchema = z.strictObject({ at: isoTime, text: z.string() });

/** `.agents/tasks/task-NNN.yaml` */
export const TaskSchema = z.strictObject({
  version: z.literal(FORMAT_VERSION),
  id: taskId,
  name: z.string().check(z.minLength(1), z.maxLength(100)),
  status: z._default(z.enum(TASK_STATUSES), 'pending'),
  priority: z._default(z.enum(PRIORITIES), 'medium'),
  /** Free label; used as the commit scope: feat(<phase>): <name>. */
  phase: z._default(phaseName, null),
  /** Conventional-commit type of the task's commit. */
  commit_type: z._default(commitType, 'feat'),
  action: z._default(z.string(), ''),
  files: z._default(z.array(repoPath), []),
  /** Shell command; exit code 0 means the task is done. null: completing needs --no-verify. */
  verify: z._default(nullableString, null),
  done: z._default(z.string(), ''),
  blocked_by: z._default(z.array(taskId), []),
  estimated_tokens: z._default(z.nullable(nonNegativeInt()), null),
  actual_tokens: z._default(z.nullable(nonNegativeInt()), null),
  /** Agent holding the claim, or null. */
  owner: z._default(nullableString, null),
  /** When the current claim was made (null when nobody holds the task). */
  claimed_at: z._default(z.nullable(isoTime), null),
  /** End of the claim's lease; another agent may take the task back after it. */
  lease_expires_at: z._default(z.nullable(isoTime), null),
  /** Why the task is blocked (status blocked), or null. */
  blocker: z._default(nullableString, null),
  created_at: isoTime,
  started_at: z._default(z.nullable(isoTime), null),
  completed_at: z._default(z.nullable(isoTime), null),
  attempts: z._default(z.array(AttemptSchema), []),
  notes: z._default(z.array(NoteSchema), []),
});
export type Task = z.infer<typeof TaskSchema>;

export const DecisionSchema = z.strictObject({
  question: z.string().check(z.minLength(1)),
  /** null while the question is open. */
  answer: z._default(nullableString, null),
  rationale: z._default(nullableString, null),
  at: isoTime,
});
export type Decision = z.infer<typeof DecisionSchema>;

export const CheckpointSchema = z.strictObject({
  at: isoTime,
  done: nonNegativeInt(),
  total: nonNegativeInt(),
  /** Tokens used by the feature so far (all sessions). */
  tokens_used: nonNegativeInt(),
  in_progress: z.array(taskId),
  next_task: z.nullable(taskId),
  /** HEAD when the checkpoint was taken (the WIP commit, if any, comes after it). */
  head: nullableString,
  note: z._default(nullableString, null),
});
export type Checkpoint = z.infer<typeof CheckpointSchema>;

export const UsageSessionSchema = z.strictObject({
  started_at: isoTime,
  /** Tokens used in this context session. */
  used: z._default(nonNegativeInt(), 0),
  /** Claude Code transcript id, when usage was read from one. */
  transcript: z._default(nullableString, null),
  /**
   * The attempt whose tokens were added last (`<task id>@<attempt time>`): resume adds a completed attempt's tokens that a
   * crash kept out of this file, and never adds them twice.
   */
  last_attempt: z._default(nullableString, null),
});

/** `.agents/state/session.yaml` */
export const SessionSchema = z.strictObject({
  version: z.literal(FORMAT_VERSION),
  feature: z.string().check(z.regex(FEATURE_PATTERN, 'a feature is a slug of at most 64 characters such as user-authentication')),
  title: z._default(z.string(), ''),
  request: z._default(z.string(), ''),
  phase: z._default(z.enum(PHASES), 'discuss'),
  status: z._default(z.enum(SESSION_STATUSES), 'active'),
  created_at: isoTime,
  updated_at: isoTime,
  decisions: z._default(z.array(DecisionSchema), []),
  blockers: z._default(z.array(NoteSchema), []),
});
export type Session = z.infer<typeof SessionSchema>;

/**
 * `.agents/state/agents/<agent>.yaml` — what one agent's contexts used and where they paused. One file per agent, written
 * only by that agent, so branches of a swarm merge without conflicts; feature totals are sums over these files.
 */
export const AgentStateSchema = z.strictObject({
  version: z.literal(FORMAT_VERSION),
  agent: z.string().check(z.regex(AGENT_ID_PATTERN, 'an agent id is letters, digits, dot, dash or underscore')),
  /** One entry per context session of this agent; the last is the current one. */
  sessions: z._default(z.array(UsageSessionSchema), []),
  checkpoints: z._default(z.array(CheckpointSchema), []),
});
export type AgentState = z.infer<typeof AgentStateSchema>;

const command = z._default(nullableString, null);

/** `.agents/config.yaml` — the only file piv never rewrites; edit it freely. */
export const ConfigSchema = z.strictObject({
  version: z.literal(FORMAT_VERSION),
  commands: z.prefault(
    z.strictObject({
      test: command,
      lint: command,
      typecheck: command,
      build: command,
      coverage: command,
    }),
    {},
  ),
  coverage: z.prefault(
    z.strictObject({
      /** Minimum line coverage in percent. */
      threshold: z._default(z.number().check(z.gte(0), z.lte(100)), 80),
      /** Regular expression whose first group is the coverage percentage in the coverage command's output. */
      pattern: z._default(z.string(), 'All files[^\\d]*(\\d+(?:\\.\\d+)?)'),
    }),
    {},
  ),
  verify: z.prefault(
    z.strictObject({
      /** Kill a verify or gate command after this many milliseconds. */
      timeout_ms: z._default(z.number().check(z.int(), z.positive()), 600_000),
      /** Lines of output kept in an attempt record. */
      tail_lines: z._default(z.number().check(z.int(), z.positive()), 40),
      /** Failed verify runs after which a task becomes `failed`. 0 = never. */
      max_attempts: z._default(nonNegativeInt(), 0),
    }),
    {},
  ),
  claims: z.prefault(
    z.strictObject({
      /** A claim's lease in minutes; an expired claim may be taken back by resume or another agent (execute --steal-expired). */
      lease_minutes: z._default(z.number().check(z.positive()), 120),
    }),
    {},
  ),
  swarm: z.prefault(
    z.strictObject({
      /**
       * A git remote (e.g. origin) holding the feature branch piv/<feature> that agents on other machines share: every claim and
       * completion is a push to it by compare-and-swap. null: the branch is shared by the working trees of this repository only.
       */
      remote: z._default(z.nullable(z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9._/-]*$/, 'a git remote name such as origin'))), null),
      /** Folder of the agents' working trees (`execute --worktree`), relative to the repository root; null: ../<repo>.piv/. */
      worktrees: z._default(z.nullable(z.string().check(z.minLength(1))), null),
      /** A shell command run once in each new agent working tree (e.g. npm ci), so its verify commands can run. */
      setup: z._default(nullableString, null),
    }),
    {},
  ),
  tokens: z.prefault(
    z.strictObject({
      /** Context window of the agent, in tokens. */
      budget: z._default(z.number().check(z.int(), z.positive()), 200_000),
      warning_at: z._default(z.number().check(z.gt(0), z.lt(1)), 0.75),
      critical_at: z._default(z.number().check(z.gt(0), z.lt(1)), 0.88),
      encoding: z._default(z.enum(['cl100k_base', 'o200k_base']), 'cl100k_base'),
      /** Multiplies tiktoken counts to approximate the agent's own tokenizer. */
      calibration: z._default(z.number().check(z.positive()), 1.1),
      /** Tokens a task costs beyond its files and text (reading, tool calls, reasoning). */
      task_overhead: z._default(nonNegativeInt(), 4_000),
      /** Tokens each fresh context spends before its first task (prime brief, resume). */
      session_overhead: z._default(nonNegativeInt(), 15_000),
      /** A task estimated above this should be split. */
      task_limit: z._default(z.number().check(z.int(), z.positive()), 20_000),
      /** Budget of the prime brief. */
      prime_budget: z._default(z.number().check(z.int(), z.positive()), 4_000),
    }),
    {},
  ),
  hooks: z.prefault(
    z.strictObject({
      /** `piv pause --auto` (the PreCompact hook) also makes the WIP commit; by default it only writes the checkpoint. */
      pause_commit: z._default(z.boolean(), false),
      /** The Stop hook warns when the context measured from the Claude Code transcript passes tokens.critical_at. */
      stop_warning: z._default(z.boolean(), true),
    }),
    {},
  ),
});
export type Config = z.infer<typeof ConfigSchema>;

/** A task as a plan gives it: what an agent writes; ids and bookkeeping are piv's. */
export const PlanTaskSchema = z.strictObject({
  id: z.optional(taskId),
  name: z.string().check(z.minLength(1), z.maxLength(100)),
  priority: z._default(z.enum(PRIORITIES), 'medium'),
  phase: z.optional(phaseName),
  commit_type: z.optional(commitType),
  blocked_by: z._default(z.array(taskId), []),
  files: z._default(z.array(repoPath), []),
  action: z._default(z.string(), ''),
  verify: z.optional(nullableString),
  done: z._default(z.string(), ''),
  estimated_tokens: z.optional(z.nullable(nonNegativeInt())),
});
export type PlanTask = z.infer<typeof PlanTaskSchema>;

/** The input of `piv plan` (YAML or JSON). */
export const PlanSchema = z.strictObject({
  version: z.optional(z.literal(FORMAT_VERSION)),
  tasks: z.array(PlanTaskSchema).check(z.minLength(1, 'a plan needs at least one task')),
});
export type Plan = z.infer<typeof PlanSchema>;

/** Every schema piv publishes as JSON Schema (schemas/<name>.schema.json). */
export const SCHEMAS = {
  task: TaskSchema,
  session: SessionSchema,
  agent: AgentStateSchema,
  config: ConfigSchema,
  plan: PlanSchema,
} as const;
export type SchemaName = keyof typeof SCHEMAS;

/** JSON Schema (draft 2020-12) of one of piv's files, as written to schemas/. Input shape: fields with defaults are optional. */
export function jsonSchemaOf(name: SchemaName): Record<string, unknown> {
  const schema = z.toJSONSchema(SCHEMAS[name], { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;
  return { $id: `https://piv.dev/schemas/${name}.schema.json`, title: `piv ${name} file`, ...schema };
}
