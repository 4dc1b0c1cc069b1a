/**
 * Preloaded into a measured `tally` process (`node --import ./bench/rss-at-exit.ts …`): at
 * exit, writes the process's peak resident set size (`process.resourceUsage().maxRSS`, the
 * kernel's ru_maxrss, every thread included) as JSON to the file named by
 * TALLY_BENCH_RSS_FILE, so a bench can report the peak of a child it did not sample.
 *
 * @see https://nodejs.org/api/process.html#processresourceusage
 */
import { writeFileSync } from 'node:fs';

const file = process.env.TALLY_BENCH_RSS_FILE;
if (file !== undefined && file !== '') {
  process.on('exit', () => {
    writeFileSync(file, JSON.stringify({ maxRssBytes: process.resourceUsage().maxRSS * 1024 }));
  });
}
