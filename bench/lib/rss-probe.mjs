// Peak-memory probe for the benchmark: `node --import bench/lib/rss-probe.mjs …` writes the process's peak resident set (maxRSS, KB) to $PIV_BENCH_RSS at exit.
import { writeFileSync } from 'node:fs';

const file = process.env.PIV_BENCH_RSS;
if (file) process.on('exit', () => writeFileSync(file, String(process.resourceUsage().maxRSS)));
