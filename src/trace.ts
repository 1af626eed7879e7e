// Trace: with PIV_TRACE=1, each phase a verb passes is written to stderr with the ms since the process started; otherwise nothing is measured or printed.

/**
 * Marks that the process reached `phase` (a short label): with $PIV_TRACE set, writes `piv-trace <ms> <phase>` to stderr,
 * ms being performance.now() (milliseconds since the process started, including Node's own start-up). A no-op otherwise.
 */
export const trace: (phase: string) => void = process.env.PIV_TRACE
  ? (phase) => process.stderr.write(`piv-trace ${performance.now().toFixed(1).padStart(7)} ${phase}\n`)
  : () => undefined;
