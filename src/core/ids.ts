// Task ids: one ordering everywhere (task-9 before task-10), and the next free id.

/** The number after an id's leading non-digits (task-012 → 12), NaN when the rest is not a number; no regex for the usual task-N. */
export function idNumber(id: string): number {
  if (id.startsWith('task-')) {
    let n = 0;
    for (let i = 5; i < id.length; i++) {
      const c = id.charCodeAt(i) - 48;
      if (c < 0 || c > 9) return Number(id.replace(/^\D+/, ''));
      n = n * 10 + c;
    }
    if (id.length > 5 && id.length < 20) return n;
  }
  return Number(id.replace(/^\D+/, ''));
}

/** Orders ids by their number, then as strings. */
export function compareIdsPure(a: string, b: string): number {
  return compareNumberedIds(idNumber(a), a, idNumber(b), b);
}

/** compareIdsPure for ids whose numbers (idNumber) are already known: `na` of `a`, `nb` of `b`. */
export function compareNumberedIds(na: number, a: string, nb: number, b: string): number {
  if (Number.isFinite(na) && Number.isFinite(nb) && na !== nb) return na - nb;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A canonical task id: task-N, N at most 15 digits (so Number(N) is exact). */
const CANONICAL = /^task-\d{1,15}$/;

/**
 * The positions of `numbers` (whole numbers ≥ 0) in ascending order, placed by number in one pass (no comparison sort),
 * or null when two are equal or the largest is far beyond the count (then a comparison sort is the cheaper one). This is
 * the order of canonical ids (task-N) under compareIdsPure.
 */
export function numericOrder(numbers: readonly number[]): number[] | null {
  const limit = 16 * numbers.length + 1024;
  const slot: number[] = [];
  for (let k = 0; k < numbers.length; k++) {
    const n = numbers[k]!;
    if (n >= limit || slot[n] !== undefined) return null;
    slot[n] = k;
  }
  const order: number[] = [];
  for (const k of slot) if (k !== undefined) order.push(k);
  return order;
}

/**
 * `ids` sorted as compareIdsPure orders them. Returns a new array. Canonical ids (task-N, one id per number, numbers not
 * far beyond the count) are placed by number in linear time (numericOrder); anything else is sorted with each number
 * computed once. Built-ins (a regex, Number) rather than a loop per character: this runs on 10,000 ids in a process that just started.
 */
export function sortIds(ids: readonly string[]): string[] {
  const canonical = ids.every((id) => CANONICAL.test(id));
  const placed = canonical ? numericOrder(ids.map((id) => Number(id.slice(5)))) : null;
  if (placed) return placed.map((k) => ids[k]!);
  const numbers = ids.map(idNumber);
  const order = Array.from(ids.keys()).sort((a, b) => {
    const na = numbers[a]!;
    const nb = numbers[b]!;
    if (Number.isFinite(na) && Number.isFinite(nb) && na !== nb) return na - nb;
    return ids[a]! < ids[b]! ? -1 : ids[a]! > ids[b]! ? 1 : 0;
  });
  return order.map((i) => ids[i]!);
}

/** The id for the n-th task (1-based): task-001, …, task-999, task-1000. */
export function formatTaskId(n: number): string {
  return `task-${String(n).padStart(3, '0')}`;
}

/** The number in a task id (task-012 → 12). */
export function taskNumber(id: string): number {
  return Number(id.slice('task-'.length));
}
