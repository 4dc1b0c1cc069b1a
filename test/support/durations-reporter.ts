/**
 * A node:test reporter that prints, after the run, every test file's duration (the sum of
 * its top-level tests and suites, hooks included), slowest first, so the slow files are
 * visible. Used beside the spec reporter by `npm test` and `npm run test:unit`.
 * @see https://nodejs.org/api/test.html#custom-reporters
 */
import { relative } from 'node:path';

interface TestEventData {
  nesting?: number;
  file?: string;
  details?: { duration_ms?: number };
}

/** Reporter: yields the table once every event has been read. */
export default async function* durations(source: AsyncIterable<{ type: string; data: TestEventData }>): AsyncGenerator<string> {
  const byFile = new Map<string, number>();
  for await (const event of source) {
    if ((event.type === 'test:pass' || event.type === 'test:fail') && event.data.nesting === 0 && event.data.file !== undefined) {
      byFile.set(event.data.file, (byFile.get(event.data.file) ?? 0) + (event.data.details?.duration_ms ?? 0));
    }
  }
  const rows = [...byFile].sort((a, b) => b[1] - a[1]);
  const totalMs = rows.reduce((a, [, ms]) => a + ms, 0);
  yield `\nfile durations (${rows.length} files, ${(totalMs / 1000).toFixed(1)} s of tests), slowest first:\n`;
  for (const [file, ms] of rows) yield `${(ms / 1000).toFixed(2).padStart(8)} s  ${relative(process.cwd(), file)}\n`;
}
