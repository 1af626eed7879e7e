// Peak-memory probe for the benchmark: loaded into node (`--import`, through NODE_OPTIONS), writes the process's peak resident set (KB) to $PIV_BENCH_RSS at exit.
// On Linux the peak is VmHWM of /proc/self/status: the high-water mark of this program's own memory. getrusage's maxRSS
// (process.resourceUsage().maxRSS, the fallback elsewhere) also counts the memory of the benchmark process it was forked
// from, since fork and exec keep it: with 10,000 tasks loaded in the benchmark, every command would show ≥ 84 MB.
import { readFileSync, writeFileSync } from 'node:fs';

const file = process.env.PIV_BENCH_RSS;
const peakKb = () => {
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]);
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS;
};
if (file) process.on('exit', () => writeFileSync(file, String(peakKb())));
