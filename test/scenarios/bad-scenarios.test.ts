/**
 * The corpus of bad scenarios (test/fixtures/bad-scenarios/*.yaml): each file says, in its
 * leading comments, the error code it must get (`# code:`) and the exact set of JSON
 * pointers its problems must name (`# pointers:`, `(document)` for the whole document).
 * Every one is refused by the loader with a ConfigError (exit 2), never an internal error,
 * before anything is started.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { ConfigError } from '../../core/errors.ts';
import { loadScenarioFile } from '../../scenarios/load.ts';

const DIR = new URL('../fixtures/bad-scenarios/', import.meta.url);

/** A corpus file's expectation, from its `# code:` and `# pointers:` lines. */
function expectation(text: string): { code: string; pointers: string[] } {
  const code = /^# code: (\S+)$/m.exec(text)?.[1];
  const pointers = /^# pointers: (.+)$/m.exec(text)?.[1];
  assert.ok(code !== undefined && pointers !== undefined, 'each corpus file states # code: and # pointers:');
  return { code, pointers: pointers.trim().split(/\s+/).map((p) => (p === '(document)' ? '' : p)).sort() };
}

const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml')).sort();

test('the bad-scenario corpus is not empty', () => {
  assert.ok(files.length >= 20, `${files.length} files`);
});

for (const file of files) {
  test(`bad scenario ${file}: refused with its code and exactly its pointers`, async () => {
    const path = new URL(file, DIR).pathname;
    const { code, pointers } = expectation(readFileSync(path, 'utf8'));
    const started = performance.now();
    const error = await loadScenarioFile(path).then(
      () => assert.fail(`${file} validated`),
      (e: unknown) => e,
    );
    assert.ok(error instanceof ConfigError, `${file}: ${(error as Error).stack}`);
    assert.equal(error.code, code);
    assert.deepEqual([...new Set(error.problems.map((p) => p.pointer))].sort(), pointers, JSON.stringify(error.problems));
    assert.ok(performance.now() - started < 2000, `${file} took ${Math.round(performance.now() - started)} ms`);
  });
}
