/**
 * Fuzzing the loader and the planner with fast-check: random mutations of the example
 * scenarios (scenarios/*.yaml and every YAML example of the README) are either valid, and
 * then plan, or refused with a ConfigError that names its problems. Never an internal
 * error, never a TypeError or RangeError from deep inside.
 *
 * The seed is fixed so CI is repeatable; `TALLY_FUZZ_SEED` and `TALLY_FUZZ_RUNS` explore more.
 * @see https://fast-check.dev/docs/core-blocks/properties/
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { parseDocument, stringify } from 'yaml';
import { ConfigError, PlanError } from '../../core/errors.ts';
import { parseScenario } from '../../scenarios/load.ts';
import { planRun } from '../../scenarios/plan.ts';
import { redactScenarioDocument } from '../../pipeline/run-files.ts';

const SEED = Number(process.env.TALLY_FUZZ_SEED ?? 20261121);
const RUNS = Number(process.env.TALLY_FUZZ_RUNS ?? 400);
const START_MS = Date.UTC(2026, 10, 21, 12);

type Doc = Record<string, any>;

/** The README's YAML examples, each completed into a whole scenario. */
function readmeSeeds(): Doc[] {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const seeds: Doc[] = [];
  for (const [, block] of readme.matchAll(/```yaml\n([\s\S]*?)```/g)) {
    let part = parseDocument(block, { uniqueKeys: false }).toJS() as Doc | unknown[] | null;
    if (part === null || typeof part !== 'object') continue;
    if (Array.isArray(part)) part = { telemetry: { metrics: part } };
    const doc: Doc = { name: 'fuzz', duration: '1m', ...part };
    if (doc.telemetry !== undefined && !doc.telemetry.metrics && !doc.telemetry.traces) doc.telemetry.metrics = [{ name: 'm', instrument: 'counter', attributes: { a: 2 } }];
    if (doc.load === undefined && doc.telemetry === undefined) doc.load = { executor: 'constant-vus', vus: 1 };
    seeds.push(doc);
  }
  return seeds;
}

function fileSeeds(): Doc[] {
  const dir = new URL('../../scenarios/', import.meta.url);
  return readdirSync(dir).filter((f) => f.endsWith('.yaml')).map((f) => parseDocument(readFileSync(new URL(f, dir), 'utf8')).toJS() as Doc);
}

const SEEDS = [...fileSeeds(), ...readmeSeeds()];

/** Every path into a document: [key, key, …] to each value. */
function paths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [];
  if (Array.isArray(value)) value.forEach((v, i) => out.push([...prefix, i], ...paths(v, [...prefix, i])));
  else if (typeof value === 'object' && value !== null) for (const [k, v] of Object.entries(value)) out.push([...prefix, k], ...paths(v, [...prefix, k]));
  return out;
}

/** Values careless and hostile users write. */
const nasty = fc.oneof(
  fc.constantFrom('0s', '1000h', '0ms', '1ns', '99999999999h', '-1s', '1e3s', '', ' ', '\n', 'a\r\nb', '\0', 'http://:80/', 'http://u:p@h:1/', 'tcp://h:99999', 'http://h:0/'),
  fc.constantFrom(0, -1, 1, 1.5, 2 ** 31, 2 ** 53, 1e308, -1e308, Number.NaN, Number.POSITIVE_INFINITY, Number.MAX_SAFE_INTEGER, 10_000_000),
  fc.constantFrom(null, true, false, [], {}, [[]], { '': 1 }),
  fc.string({ maxLength: 40 }),
  fc.integer(),
  fc.double(),
  fc.jsonValue({ maxDepth: 2 }),
);

/** One mutation: a path chooser (an index into the document's paths) and what to do there. */
const mutation = fc.record({
  at: fc.nat(),
  op: fc.constantFrom('delete', 'replace', 'replace', 'replace', 'add-key', 'duplicate-into-list'),
  value: nasty,
  key: fc.oneof(fc.constantFrom('executor', 'rate', 'headers', 'endpoint', 'target', 'timeout', 'settle', 'metrics', 'traces', 'x'), fc.string({ maxLength: 8 })),
});

function mutate(doc: Doc, m: { at: number; op: string; value: unknown; key: string }): void {
  const all = paths(doc);
  if (all.length === 0) return;
  const path = all[m.at % all.length];
  let parent: any = doc;
  for (const k of path.slice(0, -1)) parent = parent[k];
  const last = path[path.length - 1];
  const value = structuredClone(m.value);
  switch (m.op) {
    case 'delete':
      if (Array.isArray(parent)) parent.splice(Number(last), 1);
      else delete parent[last];
      return;
    case 'replace':
      parent[last] = value;
      return;
    case 'add-key':
      if (typeof parent[last] === 'object' && parent[last] !== null && !Array.isArray(parent[last])) parent[last][m.key] = value;
      else parent[m.key] = value;
      return;
    default:
      parent[last] = [structuredClone(parent[last]), value];
  }
}

/** Parse and plan: fine, or a ConfigError / PlanError; anything else fails the property. */
function loadAndPlan(text: string): void {
  let parsed;
  try {
    parsed = parseScenario(text, 'fuzz');
  } catch (error) {
    if (error instanceof ConfigError && error.code === 'TALLY_CONFIG_INVALID') return;
    throw error;
  }
  try {
    planRun(parsed.scenario, START_MS, 2);
  } catch (error) {
    if (error instanceof ConfigError || error instanceof PlanError) return;
    throw error;
  }
}

test('the example scenarios are valid seeds', () => {
  assert.ok(SEEDS.length >= 10, `${SEEDS.length} seeds`);
  let valid = 0;
  for (const seed of SEEDS) {
    try {
      parseScenario(JSON.stringify(seed));
      valid++;
    } catch {
      // A README part that only makes sense beside others (a backends block without an endpoint).
    }
  }
  assert.ok(valid >= SEEDS.length * 0.6, `${valid} of ${SEEDS.length} seeds valid`);
});

test('fuzz: mutated example scenarios load and plan, or are refused with a ConfigError', () => {
  fc.assert(
    fc.property(fc.nat({ max: SEEDS.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 4 }), (seedIndex, mutations) => {
      const doc = structuredClone(SEEDS[seedIndex]);
      for (const m of mutations) mutate(doc, m);
      loadAndPlan(stringify(doc));
      loadAndPlan(JSON.stringify(doc));
      redactScenarioDocument(doc);
    }),
    { seed: SEED, numRuns: RUNS },
  );
});

test('fuzz: damaged YAML text of the examples is refused with a ConfigError, never a crash', () => {
  const texts = SEEDS.map((s) => stringify(s));
  fc.assert(
    fc.property(
      fc.nat({ max: texts.length - 1 }),
      fc.array(fc.record({ at: fc.nat(), text: fc.constantFrom('&a ', '*a', '*', ': ', '- ', '{', '}', '[', ']', '"', "'", '\t', '\n', '#', '!!binary ', '!!js/function ', '<<: *a\n', '---\n', '...\n', '%YAML 1.1\n', '? ') }), { minLength: 1, maxLength: 5 }),
      (i, edits) => {
        let text = texts[i];
        for (const e of edits) {
          const at = e.at % (text.length + 1);
          text = text.slice(0, at) + e.text + text.slice(at);
        }
        loadAndPlan(text);
      },
    ),
    { seed: SEED, numRuns: RUNS },
  );
});
