/**
 * Scenario loading: YAML/JSON text → schema validation (Ajv, JSON Schema 2020-12) →
 * cross-field rules → normalised {@link Scenario}.
 *
 * `parseScenario` is pure (text in, value out); `loadScenarioFile` is the thin edge that
 * reads the file.
 */
import type { TallyScenario } from './scenario-document.ts';
import { createRequire } from 'node:module';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject } from 'ajv';
import { ConfigError, type InputProblem } from '../core/errors.ts';
import { parseDurationMs } from '../core/units.ts';
import type { MetricSpec, Scenario } from './types.ts';
import { loadProblems, normaliseLoad } from './load-spec.ts';
import { resolveTraceModel } from '../core/trace-model.ts';
import { backendsProblems, normaliseBackends } from './backends-spec.ts';
import { normaliseOutput, outputsProblems } from './outputs-spec.ts';
import { normaliseLatency, normaliseReceiver, normaliseTelemetry, seriesCountOf, telemetryProblems } from './telemetry-spec.ts';
import { parseThresholds } from './thresholds-spec.ts';
import { NOT_ALIASES } from './threshold-names.ts';
import { parseBoundedDocument, readScenarioText } from './document-limits.ts';
import { addScenarioKeywords } from './schema-keywords.ts';
import { headerProblems } from './headers-spec.ts';
import { scenarioUrlProblems } from './url-spec.ts';
import { bookkeepingProblems } from './memory-budget.ts';
import { normaliseTargetCapacity, targetCapacityProblems, targetCapacityWarnings } from './target-capacity-spec.ts';
import { budgetWarnings, normaliseBudget } from './budget.ts';

export { MAX_SCENARIO_BYTES, MAX_SCENARIO_NODES } from './document-limits.ts';

const require = createRequire(import.meta.url);
/** The scenario JSON Schema (draft 2020-12), the source of truth. */
export const scenarioSchema = require('./scenario.schema.json') as Record<string, unknown>;

/** Most series one metric may have; beyond it the ledger would not fit in memory budgets. */
export const MAX_SERIES_PER_METRIC = 10_000_000;

let validator: ReturnType<Ajv2020['compile']> | undefined;
function validate(doc: unknown): ErrorObject[] {
  if (validator === undefined) {
    const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, verbose: true });
    addScenarioKeywords(ajv);
    validator = ajv.compile(scenarioSchema);
  }
  return validator(doc) ? [] : [...(validator.errors ?? [])];
}

function escapePointerToken(token: string): string {
  return token.replaceAll('~', '~0').replaceAll('/', '~1');
}

/** ` (unit)` of the field an error is about, from its schema's `unit`, or nothing. */
function unitOf(e: ErrorObject): string {
  const unit = (e.parentSchema as { unit?: string } | undefined)?.unit;
  return unit === undefined || unit === 'none' ? '' : ` (${unit})`;
}

/** The first sentence of a field's description, which lists its accepted forms. */
function oneOfHint(e: ErrorObject): string {
  const description = (e.parentSchema as { description?: string } | undefined)?.description ?? '';
  return description === '' ? 'see scenario.schema.json' : description.split(/(?<=\.) /)[0];
}

/** Turn Ajv's errors into problems that each name the offending field's JSON pointer. */
function toProblems(errors: ErrorObject[]): InputProblem[] {
  const problems: InputProblem[] = [];
  const seen = new Set<string>();
  // A oneOf failure also reports each branch's complaint at the same path; the oneOf message says it better.
  const oneOfPaths = new Set(errors.filter((e) => e.keyword === 'oneOf').map((e) => e.instancePath));
  for (const e of errors) {
    if (e.keyword !== 'oneOf' && oneOfPaths.has(e.instancePath)) continue;
    let pointer = e.instancePath;
    let message: string;
    switch (e.keyword) {
      case 'required':
        pointer += `/${escapePointerToken(String(e.params.missingProperty))}`;
        message = 'is required';
        break;
      case 'additionalProperties':
        pointer += `/${escapePointerToken(String(e.params.additionalProperty))}`;
        message = e.instancePath === '/thresholds'
          ? (NOT_ALIASES[String(e.params.additionalProperty)] ?? 'is not a threshold name; the names are listed in scenario.schema.json and the README')
          : 'is not a known field; check its spelling against scenario.schema.json';
        break;
      case 'anyOf':
        if (e.instancePath === '') {
          message = 'a scenario needs `load`, `telemetry` or both';
        } else continue;
        break;
      case 'enum':
        message = `must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
        break;
      case 'pattern':
        message = e.instancePath.endsWith('duration') || /Interval|Timeout|timeout|settle|maxWait|timeUnit|Threshold|retryAfter/.test(e.instancePath)
          ? 'must be a duration with units, such as "30s", "250ms" or "1m30s"'
          : `must match ${String(e.params.pattern)}`;
        break;
      case 'propertyNames':
        continue; // the nested `pattern` error names the bad key
      case 'if':
        continue; // the `then` branch's own error (a missing field) names the pointer
      case 'not': {
        if (e.propertyName !== undefined) {
          // `propertyNames: { not: { enum: [...] } }`: a reserved key (e.g. `tally.run.id` in resource, `tally.generation` in attributes).
          problems.push({ pointer: `${pointer}/${escapePointerToken(e.propertyName)}`, message: 'is a reserved name that tally sets itself' });
          continue;
        }
        // `then: { not: { required: [...] } }`: a field this variant must not have (e.g. a gauge's temporality).
        const s = e.schema as { required?: string[]; anyOf?: { required: string[] }[] };
        const fields = s.required ?? s.anyOf?.flatMap((a) => a.required) ?? [];
        const instrument = (e.data as { instrument?: string } | undefined)?.instrument;
        for (const f of fields) {
          if ((e.data as Record<string, unknown> | undefined)?.[f] === undefined) continue;
          problems.push({ pointer: `${pointer}/${escapePointerToken(f)}`, message: `is not allowed${instrument ? ` for a ${instrument}` : ''}` });
        }
        continue;
      }
      case 'oneOf':
        message = `must be one of its documented forms: ${oneOfHint(e)}`;
        break;
      case 'minDuration':
      case 'maxDuration':
        message = `must be at ${e.keyword === 'minDuration' ? 'least' : 'most'} ${String(e.schema)}`;
        break;
      case 'maximum':
      case 'minimum':
      case 'exclusiveMaximum':
      case 'exclusiveMinimum':
        message = `${e.message ?? 'is out of range'}${unitOf(e)}`;
        break;
      default:
        message = e.message ?? `fails ${e.keyword}`;
    }
    if (e.keyword === 'pattern' && e.propertyName !== undefined) {
      pointer += `/${escapePointerToken(e.propertyName)}`;
      message = `is not a valid key name: must match ${String(e.params.pattern)}`;
    }
    const key = `${pointer}\u0000${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push({ pointer, message });
  }
  // The `required` errors for the anyOf branches restate the anyOf problem.
  return problems.filter((p) => !(p.pointer === '/load' || p.pointer === '/telemetry') || p.message !== 'is required');
}

/** Number of series of a metric: the product of its attribute value counts. */
export function seriesCount(metric: Pick<MetricSpec, 'attributes'>): number {
  return seriesCountOf(metric.attributes);
}

/** The cross-field rules the schema cannot say. */
export function crossFieldProblems(doc: TallyScenario): { errors: InputProblem[]; warnings: InputProblem[] } {
  const errors: InputProblem[] = [];
  const warnings: InputProblem[] = [];
  const durationMs = parseDurationMs(doc.duration, '/duration');
  if (durationMs < 1000) errors.push({ pointer: '/duration', message: 'must be at least 1s' });
  if (durationMs > 7 * 24 * 3_600_000) errors.push({ pointer: '/duration', message: 'must be at most 168h' });
  const metrics = doc.telemetry?.metrics ?? [];
  const names = new Set<string>();
  metrics.forEach((m, i) => {
    if (names.has(m.name)) errors.push({ pointer: `/telemetry/metrics/${i}/name`, message: `duplicates the name "${m.name}" of an earlier metric` });
    names.add(m.name);
    const n = seriesCount(m);
    if (n > MAX_SERIES_PER_METRIC) {
      errors.push({ pointer: `/telemetry/metrics/${i}/attributes`, message: `gives ${n} series; at most ${MAX_SERIES_PER_METRIC} per metric` });
    }
  });
  if (doc.telemetry) {
    const intervalMs = parseDurationMs(doc.telemetry.exportInterval ?? '5s', '/telemetry/exportInterval');
    if (intervalMs < 100) errors.push({ pointer: '/telemetry/exportInterval', message: 'must be at least 100ms' });
    if (intervalMs > durationMs) {
      errors.push({ pointer: '/telemetry/exportInterval', message: `must not exceed /duration (${doc.duration}): no tick would be exported` });
    }
  }
  const telemetry = telemetryProblems(doc);
  errors.push(...telemetry.errors);
  warnings.push(...telemetry.warnings);
  if (doc.load) {
    const embeddedTarget = doc.load.target === undefined;
    const more = loadProblems(doc.load, durationMs, embeddedTarget);
    errors.push(...more.errors);
    warnings.push(...more.warnings);
  }
  // Read-back backends and the remote-write transport.
  const readBack = backendsProblems(doc);
  errors.push(...readBack.errors);
  warnings.push(...readBack.warnings);
  const outputs = outputsProblems(doc);
  errors.push(...outputs.errors);
  warnings.push(...outputs.warnings);
  const targetLatency = doc.embedded?.target?.latency;
  if (targetLatency?.distribution === 'uniform' && parseDurationMs(targetLatency.min, '/embedded/target/latency/min') > parseDurationMs(targetLatency.max, '/embedded/target/latency/max')) {
    errors.push({ pointer: '/embedded/target/latency/min', message: 'must not exceed latency.max' });
  }
  errors.push(...targetCapacityProblems(doc));
  warnings.push(...budgetWarnings(doc));
  warnings.push(...targetCapacityWarnings(doc));
  const thresholds = parseThresholds(doc);
  errors.push(...thresholds.errors);
  warnings.push(...thresholds.warnings);
  // What an HTTP client would refuse mid-run, and credentials where they would leak.
  errors.push(...headerProblems(doc.telemetry?.headers, '/telemetry/headers', doc.telemetry?.protocol === 'grpc'));
  errors.push(...headerProblems(doc.backends?.prometheus?.auth?.headers, '/backends/prometheus/auth/headers'));
  (doc.outputs ?? []).forEach((o, i) => errors.push(...headerProblems(o.headers, `/outputs/${i}/headers`)));
  errors.push(...scenarioUrlProblems(doc));
  return { errors, warnings };
}

/** Apply defaults and parse durations. Assumes a schema-valid document. */
function normalise(doc: TallyScenario): Scenario {
  const d = (text: string | undefined, fallback: string, pointer: string): number => parseDurationMs(text ?? fallback, pointer);
  const scenario: Scenario = {
    name: doc.name,
    seed: doc.seed ?? 1,
    durationMs: d(doc.duration, '30s', '/duration'),
    embedded: {
      target: {
        responseBytes: doc.embedded?.target?.responseBytes ?? 2,
        ...(doc.embedded?.target?.latency ? { latency: normaliseLatency(doc.embedded.target.latency, '/embedded/target/latency') } : {}),
        ...(doc.embedded?.target?.capacity ? { capacity: normaliseTargetCapacity(doc.embedded.target.capacity) } : {}),
      },
      receiver: normaliseReceiver(doc.embedded?.receiver),
    },
    reconcile: { settleMs: d(doc.reconcile?.settle, '500ms', '/reconcile/settle') },
    thresholds: parseThresholds(doc).thresholds,
  };
  if (doc.load) scenario.load = normaliseLoad(doc.load);
  if (doc.telemetry) scenario.telemetry = normaliseTelemetry(doc.telemetry);
  normaliseBackends(doc, scenario);
  if (doc.outputs !== undefined) scenario.outputs = doc.outputs.map((o, i) => normaliseOutput(o, `/outputs/${i}`));
  if (doc.budget !== undefined) scenario.budget = normaliseBudget(doc.budget);
  return scenario;
}

/** Result of a successful parse: the scenario and any warnings (each with its pointer). */
export interface ParsedScenario {
  scenario: Scenario;
  warnings: InputProblem[];
}

/**
 * Parse and validate scenario text.
 * @param text YAML or JSON.
 * @param sourceName file name for messages.
 * @returns the normalised scenario and warnings.
 * @throws ConfigError `TALLY_CONFIG_INVALID` listing every problem with its JSON pointer.
 * @see scenarios/scenario.schema.json
 */
export function parseScenario(text: string, sourceName = 'scenario'): ParsedScenario {
  const doc = parseBoundedDocument(text, sourceName);
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new ConfigError(`${sourceName}: a scenario must be a mapping (object)`, [{ pointer: '', message: 'must be an object' }]);
  }
  const schemaErrors = toProblems(validate(doc));
  if (schemaErrors.length > 0) {
    throw new ConfigError(`${sourceName}: ${schemaErrors.length} problem(s) in the scenario`, schemaErrors);
  }
  const { errors, warnings } = crossFieldProblems(doc as TallyScenario);
  if (errors.length > 0) throw new ConfigError(`${sourceName}: ${errors.length} problem(s) in the scenario`, errors);
  const scenario = normalise(doc as TallyScenario);
  const budget = bookkeepingProblems(scenario);
  if (budget.errors.length > 0) throw new ConfigError(`${sourceName}: the run would not fit in memory`, budget.errors);
  warnings.push(...budget.warnings);
  // The trace model's own rules (span ranges, kind weights) name their pointers too.
  if (scenario.telemetry?.traces) resolveTraceModel(scenario.telemetry.traces, { runId: 'validate', seed: scenario.seed, shardCount: 1, startUnixNano: 0n });
  return { scenario, warnings };
}

/**
 * Read and parse a scenario file.
 * @throws ConfigError `TALLY_CONFIG_UNREADABLE` when the file cannot be read, `TALLY_CONFIG_INVALID` when it is invalid.
 */
export async function loadScenarioFile(path: string): Promise<ParsedScenario> {
  return parseScenario(await readScenarioText(path), path);
}
