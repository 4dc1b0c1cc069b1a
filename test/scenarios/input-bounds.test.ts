/**
 * Careless and hostile scenario input is bounded: every value of the schema has an upper
 * bound (durations below what a Node timer can hold), and the loader refuses oversized
 * documents quickly, with a ConfigError, before it builds anything large.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../core/errors.ts';
import { MAX_TIMER_MS } from '../../core/timers.ts';
import { parseDurationMs } from '../../core/units.ts';
import { loadScenarioFile, MAX_SCENARIO_BYTES, MAX_SCENARIO_NODES, parseScenario, scenarioSchema } from '../../scenarios/load.ts';

type Schema = Record<string, any>;

/** Every subschema of the scenario schema with its path, `$defs` included. */
function* subschemas(schema: Schema, path = '#'): Generator<[string, Schema]> {
  yield [path, schema];
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'default' || key === 'enum' || key === 'const' || key === 'required') continue;
    if (Array.isArray(value)) {
      for (const [i, item] of value.entries()) if (typeof item === 'object' && item !== null) yield* subschemas(item as Schema, `${path}/${key}/${i}`);
    } else if (typeof value === 'object' && value !== null) {
      yield* subschemas(value as Schema, `${path}/${key}`);
    }
  }
}

test('every duration of the scenario schema has an upper bound a Node timer can hold', () => {
  const durations = [...subschemas(scenarioSchema)].filter(([, s]) => s.$ref === '#/$defs/duration');
  assert.ok(durations.length >= 20, `${durations.length} duration fields`);
  for (const [path, s] of durations) {
    assert.equal(typeof s.maxDuration, 'string', `${path} has no maxDuration`);
    assert.ok(parseDurationMs(s.maxDuration) <= MAX_TIMER_MS, `${path}: ${s.maxDuration} overflows a timer`);
    if (s.minDuration !== undefined) assert.ok(parseDurationMs(s.minDuration) < parseDurationMs(s.maxDuration), path);
  }
});

test('every number, string, array and map of the scenario schema is bounded', () => {
  for (const [path, s] of subschemas(scenarioSchema)) {
    const types = ([] as unknown[]).concat(s.type ?? []);
    if (types.includes('number') || types.includes('integer')) assert.ok(s.maximum !== undefined || s.exclusiveMaximum !== undefined, `${path}: a number without a maximum`);
    if (types.includes('string') && s.enum === undefined && s.const === undefined && s.$ref === undefined) assert.ok(s.maxLength !== undefined || /\{\d+,\d+\}\$$/.test(s.pattern ?? ''), `${path}: a string without maxLength`);
    if (types.includes('array')) assert.ok(s.maxItems !== undefined, `${path}: an array without maxItems`);
    if (types.includes('object') && typeof s.additionalProperties === 'object') assert.ok(s.maxProperties !== undefined, `${path}: a map without maxProperties`);
  }
  const duration = (scenarioSchema.$defs as Schema).duration as Schema;
  assert.ok(duration.maxLength !== undefined, 'a duration string has a maxLength');
});

test('a document with 80,000 keys is refused within a second or two, not after a minute of duplicate-key checks', () => {
  for (const count of [40_000, 80_000]) {
    const keys = Array.from({ length: count }, (_, i) => `k${i}: 1`).join(', ');
    const text = `name: big\nduration: 10s\nload: { executor: constant-vus, vus: 1 }\nembedded: { receiver: { faults: { ${keys} } } }\n`;
    // 40,000 keys fit the size cap: the key count is what refuses them; 80,000 do not.
    assert.equal(Buffer.byteLength(text) < MAX_SCENARIO_BYTES, count === 40_000);
    const started = performance.now();
    assert.throws(() => parseScenario(text), (e: unknown) => e instanceof ConfigError && e.code === 'TALLY_CONFIG_INVALID' && e.problems[0].pointer === '');
    assert.ok(performance.now() - started < 2000, `${count} keys: ${Math.round(performance.now() - started)} ms`);
  }
  assert.ok(MAX_SCENARIO_NODES < 40_000);
});

test('a 50 MB scenario file is refused by its size, without reading it whole', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tally-big-'));
  const path = join(dir, 'big.yaml');
  await writeFile(path, `name: big\nduration: 10s\nload: { executor: constant-vus, vus: 1 }\n# ${'x'.repeat(50 * 1024 * 1024)}\n`);
  const rssBefore = process.memoryUsage().rss;
  const error = await loadScenarioFile(path).then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof ConfigError, String(error));
  assert.equal(error.code, 'TALLY_CONFIG_INVALID');
  assert.deepEqual(error.problems.map((p) => p.pointer), ['']);
  assert.ok(process.memoryUsage().rss - rssBefore < 40 * 1024 * 1024, 'the file was not read whole');
});

test('a long string value is refused by its field\'s maxLength', () => {
  const text = JSON.stringify({ name: 'long', duration: '10s', load: { executor: 'constant-vus', vus: 1, request: { path: `/${'a'.repeat(100_000)}` } } });
  assert.throws(() => parseScenario(text), (e: unknown) => e instanceof ConfigError && e.problems.some((p) => p.pointer === '/load/request/path'));
});
