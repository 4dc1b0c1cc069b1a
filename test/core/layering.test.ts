/**
 * The README's layering rule, for every folder: a folder imports only from itself and from
 * the folders {@link IMPORTS} lists for it (the README's architecture table says the same).
 * Pure cores sit upstream and edges downstream, so imports point from an edge to a core:
 * an adapter (embedded/, readback/) fills a core's store and returns a core's types, never
 * the reverse. Type-only imports count, and so do `new URL('…', import.meta.url)`
 * references (worker and process entry points) and dynamic `import()`.
 *
 * `bench/` and `test/` sit outside the rule: they may use anything.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** What each folder may import besides itself, upstream first. Keep in step with the README's architecture table. */
export const IMPORTS: Readonly<Record<string, readonly string[]>> = {
  core: ['package.json'],
  wire: ['core'],
  scenarios: ['core', 'wire'],
  host: ['core', 'scenarios'],
  ledger: ['core'],
  reconcile: ['core', 'ledger'],
  workers: ['core', 'wire', 'host'],
  embedded: ['core', 'wire', 'scenarios', 'reconcile'],
  readback: ['core', 'wire', 'scenarios', 'ledger', 'reconcile'],
  reports: ['core', 'scenarios', 'host', 'ledger', 'reconcile', 'readback'],
  pipeline: ['core', 'wire', 'scenarios', 'host', 'ledger', 'reconcile', 'embedded', 'readback', 'reports'],
  lab: ['core', 'host', 'embedded'],
  k8s: ['core', 'scenarios', 'host'],
  bin: ['core', 'scenarios', 'host', 'reports', 'embedded', 'pipeline', 'lab', 'k8s'],
};
const LAYERS = Object.keys(IMPORTS);

/** References allowed only as entry points (`new URL(…)` handed to a thread or a process), never as imports. */
const ENTRY_POINTS: Readonly<Record<string, readonly string[]>> = { pipeline: ['workers/shard.ts', 'workers/measurement-output.ts', 'workers/export-bytes.ts'] };

const SPECIFIERS = [
  /(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s+['"](\.[^'"]+)['"]/g,
  /(?:^|\n)\s*import\s+['"](\.[^'"]+)['"]/g,
  /\bimport\(\s*['"](\.[^'"]+)['"]\s*\)/g,
  /new URL\(\s*['"](\.[^'"]+)['"]\s*,\s*import\.meta\.url\s*\)/g,
];

function tsFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name));
}

/** Each relative reference of the folder's files, as `file → top-level folder it reaches`. */
function reaches(dir: string): { file: string; specifier: string; path: string; target: string; entry: boolean }[] {
  const out: { file: string; specifier: string; path: string; target: string; entry: boolean }[] = [];
  for (const file of tsFiles(dir)) {
    const text = readFileSync(file, 'utf8');
    for (const [p, pattern] of SPECIFIERS.entries()) {
      for (const m of text.matchAll(pattern)) {
        const path = relative(ROOT, resolve(dirname(file), m[1]));
        out.push({ file: relative(ROOT, file), specifier: m[1], path, target: path.split('/')[0], entry: p === SPECIFIERS.length - 1 });
      }
    }
  }
  return out;
}

test('every top-level source folder is in the layer order (or is bench/ or test/)', () => {
  const folders = readdirSync(ROOT, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.') && e.name !== 'node_modules')
    .filter((e) => tsFiles(e.name).length > 0)
    .map((e) => e.name);
  const unordered = folders.filter((f) => !LAYERS.includes(f) && f !== 'bench' && f !== 'test');
  assert.deepEqual(unordered, []);
  for (const layer of LAYERS) assert.ok(existsSync(join(ROOT, layer)), `${layer}/ exists`);
});

test('the allowed imports form a DAG listed upstream first', () => {
  for (const [index, layer] of LAYERS.entries()) {
    for (const upstream of IMPORTS[layer]) if (upstream !== 'package.json') assert.ok(LAYERS.indexOf(upstream) < index, `${layer} → ${upstream} points upstream`);
  }
});

for (const layer of LAYERS) {
  const allowed = new Set<string>([layer, ...IMPORTS[layer]]);
  const entries = new Set(ENTRY_POINTS[layer] ?? []);
  test(`${layer}/ imports only ${IMPORTS[layer].join(', ') || 'itself'}`, () => {
    const found = reaches(layer);
    assert.ok(found.length > 0, `the scan sees ${layer}'s imports`);
    const bad = found.filter((r) => !allowed.has(r.target) && !(r.entry && entries.has(r.path)));
    assert.deepEqual(bad.map((r) => `${r.file} → ${r.specifier}`), []);
  });
}

test('the scan sees entry-point references made with new URL()', () => {
  const found = reaches('pipeline');
  assert.ok(found.some((r) => r.target === 'workers' && r.specifier.endsWith('shard.ts')), 'the piscina worker entry is found');
});

test("the README's architecture table names every folder, with the imports this test enforces", () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Architecture'), readme.indexOf('\n## ', readme.indexOf('## Architecture') + 1));
  const rows = new Map<string, string>();
  for (const m of section.matchAll(/^\| `([a-z0-9]+)\/` \|.*\| ([^|]+) \|$/gm)) rows.set(m[1], m[2].trim());
  for (const layer of LAYERS) {
    assert.ok(rows.has(layer), `README lists ${layer}/`);
    const listed = rows.get(layer)!;
    for (const upstream of IMPORTS[layer]) if (upstream !== 'package.json' && !listed.startsWith('everything above')) assert.ok(listed.split(/,\s*/).includes(upstream), `README: ${layer}/ imports from ${upstream}`);
  }
});
