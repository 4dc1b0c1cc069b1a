/**
 * The two bottom layers stay at the bottom: `core/` imports only `core/`, and
 * `scenarios/` only `core/` and `scenarios/` (README "Architecture"). Type-only imports
 * count too: a shape shared across the worker boundary belongs in core/messages.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SPECIFIER = /(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s+['"](\.[^'"]+)['"]/g;

function tsFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name));
}

/** Each relative import of the folder's files, as `file → top-level folder it reaches`. */
function reaches(dir: string): { file: string; target: string }[] {
  const out: { file: string; target: string }[] = [];
  for (const file of tsFiles(dir)) {
    for (const m of readFileSync(file, 'utf8').matchAll(SPECIFIER)) {
      out.push({ file: relative(ROOT, file), target: relative(ROOT, resolve(dirname(file), m[1])).split('/')[0] });
    }
  }
  return out;
}

test('core/ imports only core/', () => {
  const found = reaches('core');
  assert.ok(found.length > 20, 'the scan sees core’s imports');
  assert.deepEqual(found.filter((r) => r.target !== 'core'), []);
});

test('scenarios/ imports only core/ and scenarios/', () => {
  const found = reaches('scenarios');
  assert.ok(found.some((r) => r.target === 'core'));
  assert.deepEqual(found.filter((r) => r.target !== 'core' && r.target !== 'scenarios'), []);
});
