// Marks: a global flag the CLI (piv.cjs) sets for the entry (bin.js), which is bundled apart and shares no module with it; set once, never cleared.

type Marks = Record<symbol, unknown>;
/** Symbol.for: the entry's bundle and the CLI's see the same symbol. */
const PARSER = Symbol.for('piv.yaml-parser-loaded');

/** Records that this process loaded the YAML parser (src/store/yaml.ts calls it when it loads). */
export function markParserLoaded(): void {
  (globalThis as Marks)[PARSER] = true;
}

/** Whether this process loaded the YAML parser: it read a file the state cache could not answer for, or rendered one emitYaml declined. */
export function parserLoaded(): boolean {
  return (globalThis as Marks)[PARSER] === true;
}
