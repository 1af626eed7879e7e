// Session views: decisions and open questions are one list (an open question is a decision without answer), read one way everywhere.
import type { Session } from '../store/schemas.js';

/** Answered decisions, in the order they were recorded. */
export function answeredDecisions(session: Pick<Session, 'decisions'> | null): { question: string; answer: string; rationale: string | null }[] {
  return (session?.decisions ?? []).filter((d) => d.answer !== null).map((d) => ({ question: d.question, answer: d.answer!, rationale: d.rationale }));
}

/** Questions recorded with --question and not answered yet. */
export function openQuestions(session: Pick<Session, 'decisions'> | null): string[] {
  return (session?.decisions ?? []).filter((d) => d.answer === null).map((d) => d.question);
}
