// Formats: the constants of piv's file formats that hot paths need without loading the schema library (ids, enums, versions).

/** Current version of every file format. Bumped on incompatible changes; readers reject unknown versions. */
export const FORMAT_VERSION = 1 as const;

export const TASK_ID_PATTERN = /^task-\d{3,}$/;
/** A feature slug: it names refs (refs/piv/claims/<feature>/…) and folders, so it is short and safe. */
export const FEATURE_PATTERN = /^[a-z0-9][a-z0-9-]{0,63}$/;
/** An agent id: also a file name (`.agents/state/agents/<id>.yaml`). */
export const AGENT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export const PRIORITIES = ['critical', 'high', 'medium', 'low'] as const;
export const TASK_STATUSES = ['pending', 'in_progress', 'completed', 'blocked', 'failed'] as const;
export const PHASES = ['prime', 'discuss', 'plan', 'execute', 'validate', 'done'] as const;
export const SESSION_STATUSES = ['idle', 'active', 'paused', 'completed'] as const;

export type Priority = (typeof PRIORITIES)[number];
export type TaskStatus = (typeof TASK_STATUSES)[number];
export type Phase = (typeof PHASES)[number];
