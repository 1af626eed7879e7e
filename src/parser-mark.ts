// Parser mark: one global flag, set when the YAML parser loads, that the compile cache reads across the two bundles (bin.js, piv.cjs).

/** The key of the flag on globalThis (Symbol.for: the entry's bundle and the CLI's see the same symbol). */
const KEY = Symbol.for('piv.yaml-parser-loaded');

/** Records that this process loaded the YAML parser (src/store/yaml.ts calls it when it loads). */
export function markParserLoaded(): void {
  (globalThis as Record<symbol, unknown>)[KEY] = true;
}

/** Whether this process loaded the YAML parser: it read a file the state cache could not answer for, or rendered one emitYaml declined. */
export function parserLoaded(): boolean {
  return (globalThis as Record<symbol, unknown>)[KEY] === true;
}
