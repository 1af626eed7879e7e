// Heap: the CLI runs without incremental marking, and a process about to parse many files lets V8's young generation grow 16× at a time; both flags are put back before a code cache is written.
//
// Why not at start-up: any V8 flag changes V8's flag hash, and every Node module loaded after that compiles from source
// instead of from Node's code cache (~7 ms on a verb's start-up), and V8 rejects piv's own code cache made without it.
// So each flag is set once the CLI is loaded, and put back before V8 writes piv's code cache (src/compile-cache.ts),
// which V8 checks against the flag hash of the next start.
//
// Incremental marking, off for the whole run: a verb at 10,000 tasks grows the old generation past the point where V8
// starts marking it incrementally, and the task that finishes the marking then ran a full mark-compact at the very end
// (before exit, or between the event-loop turns of a large write to a pipe): ~9 ms of status's wall time, to free memory
// the process is about to hand back whole. Without it, V8 collects the old generation only when it reaches its limit,
// which a hot verb does not (a cold read of 10,000 files does, and collects it in one atomic pause instead of many steps).
//
// Young-generation growth, only before a parse of many files: parsing 10,000 task files keeps ~15 MB alive, which a
// young generation growing 2× at a time copies through dozens of scavenges (a cold read of 10,000 files: 3.4 s, 3.2 s
// with the flag); for a hot verb the flag saved nothing measurable.
import type * as V8 from 'node:v8';

/** Files to parse from which the flag is set: parsing that many costs far more than the modules compiled afterwards. */
const HEAVY_PARSE = 64;
const GROWTH = 'semi-space-growth-factor';
/** V8's default for GROWTH (`node --v8-options`): with it, the flag hash is V8's default again. */
const DEFAULT_GROWTH = 2;

const v8 = () => process.getBuiltinModule('node:v8') as typeof V8;
let grown = false;

/**
 * Turns incremental marking off for the rest of the run. bin.ts main calls it once the CLI's code and the modules every
 * verb needs are loaded: set earlier, it would make V8 reject piv's code cache and Node's (both record the flag hash).
 * Never throws.
 */
export function prepareHeapForRun(): void {
  v8().setFlagsFromString('--no-incremental-marking');
}

/** Before parsing `files` files: from HEAVY_PARSE on, sets V8's young generation to grow 16× at a time (once per process). Never throws. */
export function prepareHeapForParse(files: number): void {
  if (grown || files < HEAVY_PARSE) return;
  grown = true;
  v8().setFlagsFromString(`--${GROWTH}=16`);
}

/**
 * Puts V8's flags back to V8's defaults, as they were at start (incremental marking on, growth factor 2), before a code
 * cache is written: it records their hash. Unconditional: the entry (bin.js) and the CLI (piv.cjs) each bundle this
 * module, so the entry cannot see which flags the CLI set; setting a default again changes nothing.
 */
export function restoreHeapFlags(): void {
  v8().setFlagsFromString(`--${GROWTH}=${DEFAULT_GROWTH}`);
  v8().setFlagsFromString('--incremental-marking');
}
