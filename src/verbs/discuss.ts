// discuss: opens or reopens the feature session and records decisions; one session per repository, never silently replaced.
import { PivError } from '../errors.js';
import { archiveFeature, readConfig, readSession, readTasks, requireInitialized, withStateLock, writeSession } from '../store/index.js';
import { detectMode } from '../swarm/mode.js';
import { transact } from '../swarm/transact.js';
import { FEATURE_PATTERN, FORMAT_VERSION, type Decision, type Session } from '../store/schemas.js';
import { resolve, type BaseOptions } from './context.js';
import { answeredDecisions, openQuestions } from '../core/session.js';

export interface DiscussOptions extends BaseOptions {
  feature: string;
  title?: string;
  request?: string;
  /** "QUESTION=ANSWER" pairs; the first `=` splits. */
  decide?: string[];
  /** Open questions to record (answer them later with --decide). */
  question?: string[];
  /** Rationale attached to every decision of this call. */
  rationale?: string;
  /** Open `feature` even though the current feature is unfinished: the current one is archived as it is. */
  force?: boolean;
}

export interface DiscussResult {
  feature: string;
  title: string;
  request: string;
  /** true when this call created the session. */
  opened: boolean;
  /** Where the previous, finished feature was archived (when opening a new one replaced it). */
  archived: string | null;
  phase: Session['phase'];
  decisions: { question: string; answer: string; rationale: string | null }[];
  open_questions: string[];
}

/** Splits "QUESTION=ANSWER". Throws `usage` (exit 2) when there is no `=` or a side is empty. */
export function parseDecision(text: string): { question: string; answer: string } {
  const at = text.indexOf('=');
  const question = at < 0 ? '' : text.slice(0, at).trim();
  const answer = at < 0 ? '' : text.slice(at + 1).trim();
  if (!question || !answer) {
    throw new PivError('usage', `--decide expects "QUESTION=ANSWER", got ${JSON.stringify(text)}`, {
      hint: 'Example: --decide "Auth method?=JWT with refresh tokens"',
    });
  }
  return { question, answer };
}

const sameQuestion = (a: string, b: string) => a.trim().toLowerCase() === b.trim().toLowerCase();

/**
 * Opens the session for `feature` (or reopens it), records decisions and open questions.
 * Throws `usage` for a bad slug or decision, `conflict` (exit 3) when another unfinished feature holds the session.
 */
export async function discuss(opts: DiscussOptions): Promise<DiscussResult> {
  const { root, now } = resolve(opts);
  requireInitialized(root);
  if (!FEATURE_PATTERN.test(opts.feature)) {
    throw new PivError('usage', `feature must be a slug like user-authentication, got ${JSON.stringify(opts.feature)}`, {
      hint: 'Use at most 64 lowercase letters, digits and dashes.',
    });
  }
  const decisions = (opts.decide ?? []).map(parseDecision);
  const local = await readSession(root);
  const mode = local?.feature === opts.feature ? detectMode(root, local.feature, await readConfig(root)) : ({ kind: 'local' } as const);
  if (mode.kind === 'branch') {
    // A swarm's session lives on its feature branch: decisions reach every agent through it.
    const { result } = await transact(root, mode, async (view) => {
      const session = record({ ...(view.session ?? local!), title: opts.title ?? (view.session ?? local!).title, request: opts.request ?? (view.session ?? local!).request, status: 'active', updated_at: now }, opts, decisions, now);
      return { change: { session, subject: `chore(piv): discuss ${opts.feature}`, trailers: {} }, result: { ...summarize(session, false), archived: null } };
    });
    return result;
  }
  return withStateLock(root, async () => {
    let existing = await readSession(root);
    let archived: string | null = null;
    if (existing && existing.feature !== opts.feature) {
      // A feature is finished when it has tasks and all are completed (derived, not a stored flag).
      const tasks = await readTasks(root);
      const finished = tasks.length > 0 && tasks.every((t) => t.status === 'completed');
      if (!finished && !opts.force) {
        const open = tasks.filter((t) => t.status !== 'completed').length;
        const state = tasks.length === 0 ? 'it has no tasks yet' : `${open} of ${tasks.length} tasks not completed`;
        throw new PivError('conflict', `the session is open for feature ${existing.feature} (${state})`, {
          hint: `Finish it (piv status), continue it with \`piv discuss ${existing.feature}\`, or archive it unfinished with \`piv discuss ${opts.feature} --force\`.`,
          details: { feature: existing.feature },
        });
      }
      archived = await archiveFeature(root, existing.feature);
      existing = null;
    }
    const opened = !existing;
    const session: Session = opened
      ? {
          version: FORMAT_VERSION,
          feature: opts.feature,
          title: opts.title ?? opts.feature.replace(/-/g, ' '),
          request: opts.request ?? '',
          phase: 'discuss',
          status: 'active',
          created_at: now,
          updated_at: now,
          decisions: [],
          blockers: [],
        }
      : { ...existing!, title: opts.title ?? existing!.title, request: opts.request ?? existing!.request, status: 'active', updated_at: now };

    const recorded = record(session, opts, decisions, now);
    await writeSession(root, recorded);
    return { ...summarize(recorded, opened), archived };
  });
}

/** `session` with the open questions and decisions of this call recorded (a decision answers the question it names). */
function record(session: Session, opts: DiscussOptions, decisions: { question: string; answer: string }[], now: string): Session {
  const list: Decision[] = [...session.decisions];
  for (const q of opts.question ?? []) {
    if (!q.trim()) continue;
    if (!list.some((d) => sameQuestion(d.question, q))) list.push({ question: q.trim(), answer: null, rationale: null, at: now });
  }
  for (const d of decisions) {
    const index = list.findIndex((x) => sameQuestion(x.question, d.question));
    const entry: Decision = { question: d.question, answer: d.answer, rationale: opts.rationale ?? null, at: now };
    if (index >= 0) list[index] = entry;
    else list.push(entry);
  }
  return { ...session, decisions: list };
}

/** The discuss view of a session: answered decisions and the questions still open. */
export function summarize(session: Session, opened = false): DiscussResult {
  return {
    feature: session.feature,
    title: session.title,
    request: session.request,
    opened,
    archived: null,
    phase: session.phase,
    decisions: answeredDecisions(session),
    open_questions: openQuestions(session),
  };
}
