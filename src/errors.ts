// Errors: every failure piv reports carries a stable code, an exit code and, where it helps, the file, line, field and a fix.

/** Documented exit codes (README § Exit codes). */
export const EXIT = {
  ok: 0,
  /** A gate failed: validate found a problem, or a task's verify command failed. */
  gate: 1,
  /** Usage error or invalid state (bad flag, malformed file, cycle, not a git repository…). */
  usage: 2,
  /** Conflict: the task is claimed by another agent, or the state changed underneath. */
  conflict: 3,
  /** A bug in piv itself. */
  internal: 70,
} as const;

export type ErrorCode =
  | 'usage'
  | 'not_a_git_repo'
  | 'not_initialized'
  | 'no_session'
  | 'invalid_file'
  | 'invalid_plan'
  | 'invalid_graph'
  | 'invalid_transition'
  | 'not_found'
  | 'conflict'
  | 'lock_timeout'
  | 'git_failed'
  | 'verify_failed'
  | 'internal';

const EXIT_BY_CODE: Record<ErrorCode, number> = {
  usage: EXIT.usage,
  not_a_git_repo: EXIT.usage,
  not_initialized: EXIT.usage,
  no_session: EXIT.usage,
  invalid_file: EXIT.usage,
  invalid_plan: EXIT.usage,
  invalid_graph: EXIT.usage,
  invalid_transition: EXIT.usage,
  not_found: EXIT.usage,
  conflict: EXIT.conflict,
  lock_timeout: EXIT.conflict,
  git_failed: EXIT.gate,
  verify_failed: EXIT.gate,
  internal: EXIT.internal,
};

export interface PivErrorInit {
  /** How to fix it, in one sentence. */
  hint?: string;
  /** The file at fault, relative to the repository root where possible. */
  file?: string;
  /** 1-based line in `file`. */
  line?: number;
  /** Dotted path of the field at fault, e.g. `tasks.2.blocked_by`. */
  field?: string;
  /** Machine-readable extra data (ids involved in a cycle, the owner of a claim…). */
  details?: Record<string, unknown>;
  cause?: unknown;
}

/** An expected failure: the CLI prints it without a stack trace and exits with `exitCode`. */
export class PivError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: number;
  readonly hint?: string;
  readonly file?: string;
  readonly line?: number;
  readonly field?: string;
  readonly details?: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, init: PivErrorInit = {}) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'PivError';
    this.code = code;
    this.exitCode = EXIT_BY_CODE[code];
    this.hint = init.hint;
    this.file = init.file;
    this.line = init.line;
    this.field = init.field;
    this.details = init.details;
  }

  /** The stable JSON shape of an error (README § JSON output). */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = { code: this.code, message: this.message };
    if (this.file !== undefined) out.file = this.file;
    if (this.line !== undefined) out.line = this.line;
    if (this.field !== undefined) out.field = this.field;
    if (this.hint !== undefined) out.hint = this.hint;
    if (this.details !== undefined) out.details = this.details;
    return out;
  }
}
