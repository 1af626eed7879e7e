// Deterministic randomness for benchmarks (mulberry32): the same seed generates the same tree on every run.

/** Returns `{ rand, pick, int }` drawing from one mulberry32 stream started at `seed`. */
export function seeded(seed) {
  let state = seed | 0;
  const rand = () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { rand, pick: (list) => list[Math.floor(rand() * list.length)], int: (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1)) };
}

/** Reads `--name VALUE` from argv as a number, or `fallback`. */
export function numberArg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? Number(process.argv[i + 1]) : fallback;
}
