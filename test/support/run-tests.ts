/**
 * The test entry point behind `npm test` and `npm run test:unit`: finds the test files,
 * runs them with node:test one file at a time (each in its own process), with the spec
 * reporter and a per-file durations table.
 *
 * `--unit`: only the fast, self-contained tests: no file under test/e2e/, test/lab/,
 * test/peers/ or test/bench/, and none that starts a real peer (imports test/peers/).
 * Everything else (`npm test`) runs every file.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = new URL('../../', import.meta.url).pathname;
const SLOW_DIRS = ['test/e2e/', 'test/lab/', 'test/peers/', 'test/bench/'];

/** Every `*.test.ts` under test/, sorted. */
function testFiles(): string[] {
  return readdirSync(join(ROOT, 'test'), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.test.ts'))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)))
    .sort();
}

/** Whether a test file is fast and self-contained. */
export function isUnit(file: string): boolean {
  if (SLOW_DIRS.some((d) => file.startsWith(d))) return false;
  return !/from '[./]*\/peers\//.test(readFileSync(join(ROOT, file), 'utf8'));
}

if (import.meta.main) {
  const unit = process.argv.includes('--unit');
  const files = testFiles().filter((f) => !unit || isUnit(f));
  const reporter = new URL('./durations-reporter.ts', import.meta.url).pathname;
  const result = spawnSync(process.execPath, [
    '--test', '--test-concurrency=1',
    '--test-reporter=spec', '--test-reporter-destination=stdout',
    `--test-reporter=${reporter}`, '--test-reporter-destination=stdout',
    ...files,
  ], { cwd: ROOT, stdio: 'inherit' });
  process.exitCode = result.status ?? 1;
}
