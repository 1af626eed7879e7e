// YAML codec: parse errors and schema errors always name the file, the 1-based line and the field; writes keep the comments a person added.
import { CST, Document, isMap, isScalar, Lexer, LineCounter, parseDocument, type Node } from 'yaml';
import type * as z from 'zod/mini';
import { PivError } from '../errors.js';
import { hasComments, schemaComment } from './emit.js';
import { markParserLoaded } from '../marks.js';

// Not the usual path of a hot verb: the compile cache keeps what such a run compiled apart (src/compile-cache.ts).
markParserLoaded();

/** Where a value came from, for error messages. */
export interface Source {
  /** Path shown to the user (relative to the repository root where possible). */
  file: string;
  /** Kind of file, for the hint ("task file", "plan"…). */
  kind: string;
}

/**
 * The hint for a YAML syntax error: for yaml's BLOCK_AS_IMPLICIT_KEY ("Nested mappings are not allowed in compact
 * mappings"), what a plain value holding ": " gives (`done: a: b`), how to write it; else the general advice.
 */
function syntaxHint(code: string, kind: string): string {
  if (code === 'BLOCK_AS_IMPLICIT_KEY') return `A value that contains ": " must be quoted (done: "Login works: 200 OK") or written as a block (done: >-, then the text indented on the next lines).`;
  return `Fix the YAML syntax of this ${kind} (indentation, quotes, a missing colon).`;
}

/**
 * Parses YAML (or JSON, which is YAML) text and validates it against `schema`.
 * Returns the schema's output (defaults applied).
 * Throws PivError `invalid_file` (exit 2) naming `source.file`, the line and the dotted field, with a hint;
 * `details.issues` lists every schema problem, not only the first.
 */
export function parseYaml<S extends z.ZodMiniType>(text: string, schema: S, source: Source, code: 'invalid_file' | 'invalid_plan' = 'invalid_file'): z.output<S> {
  checkShape(text, source, code);
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const syntax = doc.errors[0];
  if (syntax) {
    const line = syntax.linePos?.[0]?.line ?? (syntax.pos ? lines.linePos(syntax.pos[0]).line : undefined);
    const what = syntax.message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '') ?? 'invalid YAML';
    throw new PivError(code, `${source.file}${line ? `:${line}` : ''}: YAML syntax error: ${what}`, {
      file: source.file,
      line,
      hint: syntaxHint(syntax.code, source.kind),
    });
  }
  let data: unknown;
  try {
    // maxAliasCount bounds what aliases may expand to (a "billion laughs" document throws instead of eating memory).
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) ?? {};
  } catch (error) {
    throw new PivError(code, `${source.file}: YAML aliases expand too far (${(error as Error).message})`, {
      file: source.file,
      hint: `Write the values out instead of repeating them through aliases (*name) in this ${source.kind}.`,
    });
  }
  if (typeof data !== 'object' || Array.isArray(data)) {
    const what = Array.isArray(data) ? 'a list' : `a ${typeof data}`;
    throw new PivError(code, `${source.file}:1: expected a mapping of fields (key: value), found ${what}`, {
      file: source.file,
      line: 1,
      hint: `A ${source.kind} is a YAML mapping; its JSON Schema is in .agents/schemas/.`,
    });
  }
  const result = schema.safeParse(data);
  if (result.success) return result.data;

  const issues = result.error.issues.map((issue) => describeIssue(issue, doc, lines, schema));
  const first = issues[0]!;
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})` : '';
  throw new PivError(code, `${source.file}${first.line ? `:${first.line}` : ''}: field "${first.field || '(root)'}": ${first.message}${more}`, {
    file: source.file,
    line: first.line,
    field: first.field,
    hint: first.hint ?? `Correct the field in this ${source.kind}; its JSON Schema is in .agents/schemas/.`,
    details: { issues },
  });
}

/** Largest state or plan file piv reads (characters): far above any real one (a 10,000-task plan is about 3 MB). */
export const MAX_FILE_BYTES = 16 * 1024 * 1024;
/** Deepest flow nesting (`[`/`{`) piv reads: piv's own files nest 4 levels; the yaml parser exhausts memory near 2,000. */
export const MAX_NESTING = 128;
/** Widest block indentation piv reads, in columns (indentation and compact `- ` / `? ` / `: ` indicators before a line's content). */
export const MAX_INDENT = 1024;
const MAX_ALIAS_COUNT = 100;

/**
 * Refuses, before parsing, text that would make the YAML parser exhaust the stack or the heap: more than MAX_FILE_BYTES,
 * flow collections nested deeper than MAX_NESTING, or a line indented past MAX_INDENT. The depth is read from yaml's own
 * lexer (iterative, constant stack), so brackets inside quoted or block scalars never count.
 * Throws PivError `code` naming the file and the line.
 */
function checkShape(text: string, source: Source, code: 'invalid_file' | 'invalid_plan'): void {
  const refuse = (line: number | undefined, what: string) => {
    throw new PivError(code, `${source.file}${line ? `:${line}` : ''}: ${what}`, { file: source.file, line, hint: `This is not a ${source.kind} piv wrote; restore it from git (git checkout -- ${source.file}) or fix it.` });
  };
  if (text.length > MAX_FILE_BYTES) refuse(undefined, `the file is ${text.length} characters long; piv reads at most ${MAX_FILE_BYTES}`);
  const marker = /^(<{7}|>{7})(?: |$)/m.exec(text);
  if (marker) {
    const line = text.slice(0, marker.index).split('\n').length;
    throw new PivError(code, `${source.file}:${line}: unresolved merge conflict markers (two branches changed this ${source.kind})`, {
      file: source.file,
      line,
      hint: `Resolve the conflict (keep one version of each field, delete the <<<<<<< ======= >>>>>>> lines). A task file added on two branches means their ids collided: keep one task under this id and re-plan the other (piv plan gives it a free id).`,
    });
  }
  let flow = 0;
  let line = 1;
  /** Columns before the first content token of the current line; -1 once the content started. */
  let indent = 0;
  for (const token of new Lexer().lex(text)) {
    const type = CST.tokenType(token);
    if (indent >= 0) {
      if (type === 'space' || type === 'seq-item-ind' || type === 'explicit-key-ind' || type === 'map-value-ind') {
        indent += token.length;
        if (indent > MAX_INDENT) refuse(line, `indented more than ${MAX_INDENT} columns`);
      } else if (type !== 'newline') indent = -1;
    }
    if (type === 'flow-seq-start' || type === 'flow-map-start') {
      if (++flow > MAX_NESTING) refuse(line, `nested more than ${MAX_NESTING} levels deep`);
    } else if ((type === 'flow-seq-end' || type === 'flow-map-end') && flow > 0) flow--;
    for (let i = token.indexOf('\n'); i !== -1; i = token.indexOf('\n', i + 1)) line++;
    if (type === 'newline') indent = 0;
  }
}

interface IssueReport {
  field: string;
  line?: number;
  message: string;
  hint?: string;
}

function describeIssue(issue: z.core.$ZodIssue, doc: Document, lines: LineCounter, schema: z.ZodMiniType): IssueReport {
  const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0]!;
    const field = [...path, key].join('.');
    const known = knownKeys(schema, path);
    const guess = known ? closest(key, known) : undefined;
    return {
      field,
      line: lineOfKey(doc, path, key, lines),
      message: `unknown field "${key}"`,
      hint: guess
        ? `Did you mean "${guess}"? Rename or remove "${key}".`
        : `Remove "${key}"${known ? `; allowed here: ${known.join(', ')}` : ''}.`,
    };
  }
  const field = path.join('.');
  const message = issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : issue.message;
  return { field, line: lineOfPath(doc, path, lines), message };
}

/** 1-based line of the deepest existing node on `path`. */
function lineOfPath(doc: Document, path: (string | number)[], lines: LineCounter): number | undefined {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = depth === 0 ? doc.contents : (doc.getIn(path.slice(0, depth), true) as Node | undefined);
    if (node && (node as Node).range) return lines.linePos((node as Node).range![0]).line;
  }
  return undefined;
}

function lineOfKey(doc: Document, path: (string | number)[], key: string, lines: LineCounter): number | undefined {
  const parent = path.length === 0 ? doc.contents : doc.getIn(path, true);
  if (isMap(parent)) {
    const pair = parent.items.find((item) => isScalar(item.key) && String(item.key.value) === key);
    const range = pair && isScalar(pair.key) ? pair.key.range : undefined;
    if (range) return lines.linePos(range[0]).line;
  }
  return lineOfPath(doc, path, lines);
}

/** Keys an object schema accepts at `path`, or undefined when the path does not lead to an object. */
function knownKeys(schema: z.ZodMiniType, path: (string | number)[]): string[] | undefined {
  let current: any = schema;
  const unwrap = () => {
    while (current && ['default', 'optional', 'nullable', 'prefault', 'readonly'].includes(current.def?.type)) current = current.def.innerType;
  };
  unwrap();
  for (const segment of path) {
    if (current?.def?.type === 'object') current = current.def.shape[segment];
    else if (current?.def?.type === 'array') current = current.def.element;
    else return undefined;
    unwrap();
  }
  return current?.def?.type === 'object' ? Object.keys(current.def.shape) : undefined;
}

function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const candidate of candidates) {
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

const STRINGIFY = { lineWidth: 0, minContentWidth: 0 } as const;

/**
 * Renders `data` as YAML beginning with `# yaml-language-server: $schema=<schemaRef>`. Key order follows `data`.
 * When `previous` (the file's current text) holds comments, only changed top-level keys are replaced in it, so the
 * comments on the others survive. Without comments there is nothing to keep, and the file is rendered afresh: the
 * same text for a file piv wrote (tests/unit/store.test.ts), without parsing the old one (half the cost of a claim's
 * write). `keep: true` takes the comment-keeping path whatever `previous` holds. The store asks emitYaml first
 * (store/index.ts renderFile) and comes here only for what it cannot do.
 */
export function renderYaml(data: Record<string, unknown>, schemaRef: string, previous?: string, { keep = false } = {}): string {
  const header = schemaComment(schemaRef);
  if (previous !== undefined && (keep || hasComments(previous))) {
    const parsed = parseDocument(previous);
    if (parsed.errors.length === 0 && isMap(parsed.contents)) return renderOver(parsed, data, header);
  }
  return renderFresh(data, header);
}

/** The yaml package's own rendering of `data` under the comment `comment` (no `#`): what emitYaml reproduces. */
export function renderFresh(data: Record<string, unknown>, comment: string): string {
  const doc = new Document(data);
  doc.commentBefore = comment;
  return doc.toString(STRINGIFY);
}

/** `doc` (a parsed mapping) with the top-level keys of `data` that changed replaced and those gone removed, as text. */
function renderOver(doc: Document, data: Record<string, unknown>, header: string): string {
  const map = doc.contents as unknown as { items: { key: unknown }[] };
  const before = (doc.toJS() ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(before)) if (!(key in data)) doc.delete(key);
  for (const [key, value] of Object.entries(data)) {
    if (key in before && JSON.stringify(before[key]) === JSON.stringify(value)) continue;
    doc.set(key, doc.createNode(value));
  }
  // Keep the key order of `data` (stable diffs), moving pairs without losing their comments.
  const order = new Map(Object.keys(data).map((k, i) => [k, i]));
  map.items.sort((a, b) => (order.get(String((a.key as { value?: unknown }).value)) ?? 0) - (order.get(String((b.key as { value?: unknown }).value)) ?? 0));
  if (!doc.commentBefore?.includes('yaml-language-server')) doc.commentBefore = doc.commentBefore ? `${header}\n${doc.commentBefore}` : header;
  return doc.toString(STRINGIFY);
}
