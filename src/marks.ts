// Marks: global flags the CLI (piv.cjs) sets for the entry (bin.js), which is bundled apart and shares no module with it; each is set once and never cleared.

type Marks = Record<symbol, unknown>;
/** Symbol.for: the entry's bundle and the CLI's see the same symbols. */
const PARSER = Symbol.for('piv.yaml-parser-loaded');
const FINISHED = Symbol.for('piv.verb-finished');

/** Records that this process loaded the YAML parser (src/store/yaml.ts calls it when it loads). */
export function markParserLoaded(): void {
  (globalThis as Marks)[PARSER] = true;
}

/** Whether this process loaded the YAML parser: it read a file the state cache could not answer for, or rendered one emitYaml declined. */
export function parserLoaded(): boolean {
  return (globalThis as Marks)[PARSER] === true;
}

/** Records that the verb has done all its work and printed its answer (src/bin.ts's run): nothing it started is still running. */
export function markVerbFinished(): void {
  (globalThis as Marks)[FINISHED] = true;
}

/** Whether the verb finished (markVerbFinished); false for what keeps running after main returns (`piv mcp` serves stdin). */
export function verbFinished(): boolean {
  return (globalThis as Marks)[FINISHED] === true;
}
