// Emit: renders a plain document as the exact text the yaml package writes for it (piv's options), or declines; writing a task file then loads no YAML library.
//
// Why: a claim or a release rewrites one task file, and the yaml package's first stringify in a process costs ~7 ms of
// cold code (plus ~2 ms to load it) for a 30-line document. This covers what piv's own files hold: mappings, sequences,
// null, booleans, safe integers and single-line printable strings (non-ASCII letters and symbols included). Anything
// else (a multi-line log, a control character, a float) makes it decline, and the caller renders with yaml as before. The rules below are yaml 2.x's own
// (stringifyString.js: plainString, quotedString; stringifyNumber.js), with lineWidth 0 (no folding); the unit tests
// compare the two renderings over thousands of generated documents, so an upgrade of yaml that changes its output fails them.

/** yaml's test for a plain scalar it must quote (plainString): indicators first, `: `, ` #`, a trailing space or colon… */
const NOT_PLAIN = /^[\n\t ,[\]{}#&*!|>'"%@`]|^[?-]$|^[?-][ \t]|[\n:][ \t]|[ \t]\n|[\n\t ]#|[\n\t :]$/;
/** A value starting like a directive or a document (`%`, `---`, `...`): yaml's choice for it depends on the indentation, so it is declined. */
const DOCUMENT_MARKER = /^(%|---|\.\.\.)/;
/**
 * The core schema's tests for scalars that resolve to something other than a string (null, bool, octal/decimal/hex int,
 * .inf/.nan, exponent and plain floats): a string matching one is quoted, as yaml's plainString does.
 */
const RESOLVES = [
  /^(?:~|[Nn]ull|NULL)?$/,
  /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/,
  /^0o[0-7]+$/,
  /^[-+]?[0-9]+$/,
  /^0x[0-9a-fA-F]+$/,
  /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/,
  /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/,
  /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/,
];
/**
 * One-line printable text: ASCII from space to `~`, and from U+00A0 on what YAML calls printable, less the line and
 * paragraph separators (U+2028, U+2029) and the byte-order mark and non-characters (U+FEFF, U+FFFE, U+FFFF); a
 * supplementary character only as a whole surrogate pair. No control character (yaml escapes those), no line break,
 * nothing JSON.stringify escapes but `"` and `\`: the quoted form is then JSON's, as yaml's doubleQuotedString makes it.
 */
const PRINTABLE = /^[\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\u{10000}-\u{10ffff}]*$/u;
/** Mapping keys this emitter writes: identifiers, which yaml writes plain. */
const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Thrown inside the emitter for a value it does not cover; never leaves this module. */
const DECLINE = Symbol('decline');

function scalarString(value: string): string {
  if (!PRINTABLE.test(value) || DOCUMENT_MARKER.test(value)) throw DECLINE;
  if (value !== '' && !NOT_PLAIN.test(value) && !RESOLVES.some((r) => r.test(value))) return value;
  // quotedString: single quotes for a value with " and no ', else double quotes (JSON's escaping of " and \ is YAML's).
  const hasDouble = value.includes('"');
  if (hasDouble && !value.includes("'")) return `'${value}'`;
  return JSON.stringify(value);
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;

/** The one-line text of a scalar or an empty collection; null for a non-empty collection (written as a block). */
function inline(value: unknown): string | null {
  if (value === null) return 'null';
  if (typeof value === 'string') return scalarString(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || Object.is(value, -0)) throw DECLINE;
    return String(value);
  }
  if (Array.isArray(value)) return value.length === 0 ? '[]' : null;
  if (isPlainObject(value)) return Object.values(value).some((v) => v !== undefined) ? null : '{}';
  throw DECLINE;
}

/** Lines of a non-empty block collection at `indent`. */
function block(value: unknown, indent: string, out: string[]): void {
  if (Array.isArray(value)) {
    for (const item of value) {
      if (item === undefined) throw DECLINE;
      const text = inline(item);
      if (text !== null) {
        out.push(`${indent}- ${text}`);
        continue;
      }
      // A collection in a sequence: its first line after the dash, the rest aligned under it.
      const first = out.length;
      block(item, `${indent}  `, out);
      out[first] = `${indent}- ${out[first]!.slice(indent.length + 2)}`;
    }
    return;
  }
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    if (item === undefined) continue;
    if (!KEY.test(key) || RESOLVES.some((r) => r.test(key))) throw DECLINE;
    const text = inline(item);
    if (text !== null) {
      out.push(`${indent}${key}: ${text}`);
      continue;
    }
    out.push(`${indent}${key}:`);
    // yaml indents a sequence under its key (indentSeq) as it does a mapping.
    block(item, `${indent}  `, out);
  }
}

/**
 * The text yaml (2.x, `{ lineWidth: 0, minContentWidth: 0 }`) writes for a Document of `data` whose comment before is
 * `comment` (no `#`), or null when `data` holds something this emitter does not cover (the caller then asks yaml).
 * `data` must be a non-empty mapping of mappings, sequences and the scalars named in this module's note.
 */
export function emitYaml(data: Record<string, unknown>, comment: string): string | null {
  if (!isPlainObject(data)) return null;
  const lines: string[] = [];
  try {
    if (inline(data) !== null) return null; // an empty mapping
    block(data, '', lines);
  } catch (error) {
    if (error === DECLINE) return null;
    throw error;
  }
  return `#${comment}\n\n${lines.join('\n')}\n`;
}

/** The comment piv's files begin with (without its `#`): the modeline naming their JSON Schema at `schemaRef`, for editors. */
export const schemaComment = (schemaRef: string) => ` yaml-language-server: $schema=${schemaRef}`;

/**
 * Whether `text` may hold a comment other than its first line's schema modeline: any `#` after that line (one inside a
 * quoted value counts too; it only costs the slower, comment-keeping render).
 */
export function hasComments(text: string): boolean {
  const body = text.startsWith('# yaml-language-server:') ? text.indexOf('\n') : 0;
  return body >= 0 && text.indexOf('#', body) >= 0;
}
