// Task ids: one ordering everywhere (task-9 before task-10), and the next free id.

/** Orders ids by their number, then as strings. */
export function compareIdsPure(a: string, b: string): number {
  const na = Number(a.replace(/^\D+/, ''));
  const nb = Number(b.replace(/^\D+/, ''));
  if (Number.isFinite(na) && Number.isFinite(nb) && na !== nb) return na - nb;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The id for the n-th task (1-based): task-001, …, task-999, task-1000. */
export function formatTaskId(n: number): string {
  return `task-${String(n).padStart(3, '0')}`;
}

/** The number in a task id (task-012 → 12). */
export function taskNumber(id: string): number {
  return Number(id.slice('task-'.length));
}
