// Schemas: the single definition of every .agents/ file; strict objects, so a misspelt key is an error, never silently ignored.
import { z } from 'zod';

/** Current version of every file format. Bumped on incompatible changes; readers reject unknown versions. */
export const FORMAT_VERSION = 1 as const;

const isoTime = z.iso.datetime({ offset: true });
const nullableString = z.string().nullable();

export const TASK_ID_PATTERN = /^task-\d{3,}$/;
/** A path inside the repository, relative to its root: not absolute, no `..` segment. */
const repoPath = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith('/') && !/^[A-Za-z]:[\\/]/.test(p) && !p.split(/[\\/]/).includes('..'), 'a path relative to the repository root, without ..');
export const taskId = z.string().regex(TASK_ID_PATTERN, 'a task id looks like task-001');
/** A feature slug: it names refs (refs/piv/claims/<feature>/…) and folders, so it is short and safe. */
export const FEATURE_PATTERN = /^[a-z0-9][a-z0-9-]{0,63}$/;

export const PRIORITIES = ['critical', 'high', 'medium', 'low'] as const;
export const TASK_STATUSES = ['pending', 'in_progress', 'completed', 'blocked', 'failed'] as const;
export const PHASES = ['prime', 'discuss', 'plan', 'execute', 'validate', 'done'] as const;
export const SESSION_STATUSES = ['idle', 'active', 'paused', 'completed'] as const;

export type Priority = (typeof PRIORITIES)[number];
export type TaskStatus = (typeof TASK_STATUSES)[number];
export type Phase = (typeof PHASES)[number];

/** One run of a task's verify command (or a recorded `--no-verify` skip). */
export const AttemptSchema = z.strictObject({
  at: isoTime,
  agent: z.string(),
  /** null when the command was killed (timeout) or skipped. */
  exit_code: z.number().int().nullable(),
  passed: z.boolean(),
  /** true when completed with --no-verify: nothing was run. */
  skipped: z.boolean().default(false),
  duration_ms: z.number().int().nonnegative(),
  timed_out: z.boolean().default(false),
  /** The last lines of stdout+stderr, interleaved. */
  output_tail: z.string().default(''),
});
export type Attempt = z.infer<typeof AttemptSchema>;

export const NoteSchema = z.strictObject({ at: isoTime, text: z.string() });

/** `.agents/tasks/task-NNN.yaml` */
export const TaskSchema = z.strictObject({
  version: z.literal(FORMAT_VERSION),
  id: taskId,
  name: z.string().min(1).max(100),
  status: z.enum(TASK_STATUSES).default('pending'),
  priority: z.enum(PRIORITIES).default('medium'),
  /** Free label; used as the commit scope: feat(<phase>): <name>. */
  phase: z.string().regex(/^[A-Za-z0-9_./-]+$/, 'a phase is one word such as models or api').nullable().default(null),
  /** Conventional-commit type of the task's commit. */
  commit_type: z.string().regex(/^[a-z]+$/).default('feat'),
  action: z.string().default(''),
  files: z.array(repoPath).default([]),
  /** Shell command; exit code 0 means the task is done. null: completing needs --no-verify. */
  verify: nullableString.default(null),
  done: z.string().default(''),
  blocked_by: z.array(taskId).default([]),
  estimated_tokens: z.number().int().nonnegative().nullable().default(null),
  actual_tokens: z.number().int().nonnegative().nullable().default(null),
  /** Agent holding the claim, or null. */
  owner: nullableString.default(null),
  /** When the current claim was made (null when nobody holds the task). */
  claimed_at: isoTime.nullable().default(null),
  /** End of the claim's lease; another agent may take the task back after it. */
  lease_expires_at: isoTime.nullable().default(null),
  /** Why the task is blocked (status blocked), or null. */
  blocker: nullableString.default(null),
  created_at: isoTime,
  started_at: isoTime.nullable().default(null),
  completed_at: isoTime.nullable().default(null),
  attempts: z.array(AttemptSchema).default([]),
  notes: z.array(NoteSchema).default([]),
});
export type Task = z.infer<typeof TaskSchema>;

export const DecisionSchema = z.strictObject({
  question: z.string().min(1),
  /** null while the question is open. */
  answer: nullableString.default(null),
  rationale: nullableString.default(null),
  at: isoTime,
});
export type Decision = z.infer<typeof DecisionSchema>;

export const CheckpointSchema = z.strictObject({
  at: isoTime,
  done: z.number().int().nonnegative(),
  total: z.number().int().nonnegative(),
  /** Tokens used by the feature so far (all sessions). */
  tokens_used: z.number().int().nonnegative(),
  in_progress: z.array(taskId),
  next_task: taskId.nullable(),
  /** HEAD when the checkpoint was taken (the WIP commit, if any, comes after it). */
  head: nullableString,
  note: nullableString.default(null),
});
export type Checkpoint = z.infer<typeof CheckpointSchema>;

export const UsageSessionSchema = z.strictObject({
  started_at: isoTime,
  /** Tokens used in this context session. */
  used: z.number().int().nonnegative().default(0),
  /** Claude Code transcript id, when usage was read from one. */
  transcript: nullableString.default(null),
});

/** `.agents/state/session.yaml` */
export const SessionSchema = z.strictObject({
  version: z.literal(FORMAT_VERSION),
  feature: z.string().regex(FEATURE_PATTERN, 'a feature is a slug of at most 64 characters such as user-authentication'),
  title: z.string().default(''),
  request: z.string().default(''),
  phase: z.enum(PHASES).default('discuss'),
  status: z.enum(SESSION_STATUSES).default('active'),
  created_at: isoTime,
  updated_at: isoTime,
  decisions: z.array(DecisionSchema).default([]),
  blockers: z.array(NoteSchema).default([]),
});
export type Session = z.infer<typeof SessionSchema>;

/** An agent id: also a file name (`.agents/state/agents/<id>.yaml`). */
export const AGENT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * `.agents/state/agents/<agent>.yaml` — what one agent's contexts used and where they paused. One file per agent, written
 * only by that agent, so branches of a swarm merge without conflicts; feature totals are sums over these files.
 */
export const AgentStateSchema = z.strictObject({
  version: z.literal(FORMAT_VERSION),
  agent: z.string().regex(AGENT_ID_PATTERN, 'an agent id is letters, digits, dot, dash or underscore'),
  /** One entry per context session of this agent; the last is the current one. */
  sessions: z.array(UsageSessionSchema).default([]),
  checkpoints: z.array(CheckpointSchema).default([]),
});
export type AgentState = z.infer<typeof AgentStateSchema>;

const command = nullableString.default(null);

/** `.agents/config.yaml` — the only file piv never rewrites; edit it freely. */
export const ConfigSchema = z.strictObject({
  version: z.literal(FORMAT_VERSION),
  commands: z
    .strictObject({
      test: command,
      lint: command,
      typecheck: command,
      build: command,
      coverage: command,
    })
    .prefault({}),
  coverage: z
    .strictObject({
      /** Minimum line coverage in percent. */
      threshold: z.number().min(0).max(100).default(80),
      /** Regular expression whose first group is the coverage percentage in the coverage command's output. */
      pattern: z.string().default('All files[^\\d]*(\\d+(?:\\.\\d+)?)'),
    })
    .prefault({}),
  verify: z
    .strictObject({
      /** Kill a verify or gate command after this many milliseconds. */
      timeout_ms: z.number().int().positive().default(600_000),
      /** Lines of output kept in an attempt record. */
      tail_lines: z.number().int().positive().default(40),
      /** Failed verify runs after which a task becomes `failed`. 0 = never. */
      max_attempts: z.number().int().nonnegative().default(0),
    })
    .prefault({}),
  claims: z
    .strictObject({
      /** A claim's lease in minutes; an expired claim may be taken back by resume or another agent (execute --steal-expired). */
      lease_minutes: z.number().positive().default(120),
    })
    .prefault({}),
  swarm: z
    .strictObject({
      /**
       * A git remote (e.g. origin) holding the feature branch piv/<feature> that agents on other machines share: every claim and
       * completion is a push to it by compare-and-swap. null: the branch is shared by the working trees of this repository only.
       */
      remote: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._/-]*$/, 'a git remote name such as origin').nullable().default(null),
      /** Folder of the agents' working trees (`execute --worktree`), relative to the repository root; null: ../<repo>.piv/. */
      worktrees: z.string().min(1).nullable().default(null),
      /** A shell command run once in each new agent working tree (e.g. npm ci), so its verify commands can run. */
      setup: nullableString.default(null),
    })
    .prefault({}),
  tokens: z
    .strictObject({
      /** Context window of the agent, in tokens. */
      budget: z.number().int().positive().default(200_000),
      warning_at: z.number().gt(0).lt(1).default(0.75),
      critical_at: z.number().gt(0).lt(1).default(0.88),
      encoding: z.enum(['cl100k_base', 'o200k_base']).default('cl100k_base'),
      /** Multiplies tiktoken counts to approximate the agent's own tokenizer. */
      calibration: z.number().positive().default(1.1),
      /** Tokens a task costs beyond its files and text (reading, tool calls, reasoning). */
      task_overhead: z.number().int().nonnegative().default(4_000),
      /** Tokens each fresh context spends before its first task (prime brief, resume). */
      session_overhead: z.number().int().nonnegative().default(15_000),
      /** A task estimated above this should be split. */
      task_limit: z.number().int().positive().default(20_000),
      /** Budget of the prime brief. */
      prime_budget: z.number().int().positive().default(4_000),
    })
    .prefault({}),
  hooks: z
    .strictObject({
      /** `piv pause --auto` (the PreCompact hook) also makes the WIP commit; by default it only writes the checkpoint. */
      pause_commit: z.boolean().default(false),
      /** The Stop hook warns when the context measured from the Claude Code transcript passes tokens.critical_at. */
      stop_warning: z.boolean().default(true),
    })
    .prefault({}),
});
export type Config = z.infer<typeof ConfigSchema>;

/** A task as a plan gives it: what an agent writes; ids and bookkeeping are piv's. */
export const PlanTaskSchema = z.strictObject({
  id: taskId.optional(),
  name: z.string().min(1).max(100),
  priority: z.enum(PRIORITIES).default('medium'),
  phase: z.string().regex(/^[A-Za-z0-9_./-]+$/, 'a phase is one word such as models or api').nullable().optional(),
  commit_type: z.string().regex(/^[a-z]+$/).optional(),
  blocked_by: z.array(taskId).default([]),
  files: z.array(repoPath).default([]),
  action: z.string().default(''),
  verify: nullableString.optional(),
  done: z.string().default(''),
  estimated_tokens: z.number().int().nonnegative().nullable().optional(),
});
export type PlanTask = z.infer<typeof PlanTaskSchema>;

/** The input of `piv plan` (YAML or JSON). */
export const PlanSchema = z.strictObject({
  version: z.literal(FORMAT_VERSION).optional(),
  tasks: z.array(PlanTaskSchema).min(1, 'a plan needs at least one task'),
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
