/**
 * The `thresholds` section of a scenario, in k6's syntax and semantics: each name (see
 * threshold-names.ts) takes a list of expressions `<aggregation> <operator> <value>`, each
 * a string or `{ threshold, abortOnFail, delayAbortEval }`. Parsing, the cross-field rules
 * (a threshold on a figure the scenario cannot produce is an error) and normalisation to
 * {@link ThresholdSpec}s. Pure; called from scenarios/load.ts.
 *
 * - Aggregations by k6 metric type: trend `avg`, `min`, `max`, `med`, `p(N)` (and `count`);
 *   rate `rate` (and `count`); counter `count`, `rate` (per second); gauge `value`.
 * - Operators `<`, `<=`, `>`, `>=`, `==`, `===`, `!=`.
 * - Trend values are durations: a bare number is milliseconds (as in k6), or give a unit
 *   (`20ms`, `1.5s`, `300us`); they are held in µs.
 *
 * @see https://grafana.com/docs/k6/latest/using-k6/thresholds/
 */
import type { InputProblem } from '../core/errors.ts';
import type { Aggregation, ThresholdKind, ThresholdOperator, ThresholdSpec, ThresholdUnit } from '../core/thresholds.ts';
import { parseDurationMs } from '../core/units.ts';
import type { TallyScenario } from './scenario-document.ts';
import { NOT_ALIASES, thresholdName, type ThresholdNeed } from './threshold-names.ts';

/** One entry of a threshold list as written. */
export type ThresholdEntry = string | { threshold: string; abortOnFail?: boolean; delayAbortEval?: string };

/** The aggregations each k6 metric type allows. */
export const AGGREGATIONS: Readonly<Record<ThresholdKind, readonly Aggregation[]>> = {
  trend: ['avg', 'min', 'max', 'med', 'p', 'count'],
  rate: ['rate', 'count'],
  counter: ['count', 'rate'],
  gauge: ['value'],
};

const EXPRESSION = /^\s*(avg|min|max|med|count|rate|value|p\(\s*(\d+(?:\.\d+)?)\s*\))\s*(<=|>=|===|==|!=|<|>)\s*(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)\s*(ns|us|µs|ms|s|m|h)?\s*$/;
const US_PER_UNIT: Record<string, number> = { ns: 1e-3, us: 1, 'µs': 1, ms: 1000, s: 1e6, m: 6e7, h: 3.6e9 };

function escapePointerToken(token: string): string {
  return token.replaceAll('~', '~0').replaceAll('/', '~1');
}

/** The unit of an aggregation's value for a kind. */
function unitOf(kind: ThresholdKind, aggregation: Aggregation): ThresholdUnit {
  if (aggregation === 'count') return 'count';
  if (kind === 'trend') return 'us';
  if (kind === 'rate') return 'ratio';
  if (kind === 'counter') return 'per_second';
  return 'value';
}

/**
 * Parse one expression for a figure of `kind`.
 * @returns the parsed parts, or the problem's message.
 */
export function parseThresholdExpression(expression: string, kind: ThresholdKind): Pick<ThresholdSpec, 'aggregation' | 'percentile' | 'operator' | 'limit' | 'unit'> | { problem: string } {
  const m = EXPRESSION.exec(expression);
  if (m === null) return { problem: `"${expression}" is not a threshold expression: expected <aggregation> <operator> <value>, such as "p(99)<20ms", "rate<0.001", "count==0"` };
  const aggregation = (m[1].startsWith('p(') ? 'p' : m[1]) as Aggregation;
  if (!AGGREGATIONS[kind].includes(aggregation)) {
    return { problem: `${aggregation === 'p' ? 'p(N)' : aggregation} is not an aggregation of a ${kind}; use ${AGGREGATIONS[kind].map((a) => (a === 'p' ? 'p(N)' : a)).join(', ')}` };
  }
  const percentile = m[2] === undefined ? undefined : Number(m[2]);
  if (percentile !== undefined && percentile > 100) return { problem: `p(${m[2]}): a percentile is between 0 and 100` };
  const operator = (m[3] === '===' ? '==' : m[3]) as ThresholdOperator;
  const unit = unitOf(kind, aggregation);
  let limit = Number(m[4]);
  if (m[5] !== undefined) {
    if (unit !== 'us') return { problem: `"${m[5]}": only a duration (a trend's ${AGGREGATIONS.trend.filter((a) => a !== 'count').join(', ')}) takes a unit` };
    limit *= US_PER_UNIT[m[5]];
  } else if (unit === 'us') {
    limit *= 1000; // k6: a trend's bare number is milliseconds
  }
  return { aggregation, ...(percentile === undefined ? {} : { percentile }), operator, limit, unit };
}

/** What each need requires of the scenario, or the problem when it is missing. */
function needProblem(need: ThresholdNeed, doc: TallyScenario): string | undefined {
  const t = doc.telemetry;
  const embeddedReceiver = t !== undefined && t.endpoint === undefined;
  switch (need) {
    case 'load':
      return doc.load === undefined ? 'needs a load section' : undefined;
    case 'open-load':
      return doc.load === undefined || doc.load.executor === 'constant-vus' || doc.load.executor === 'ramping-vus' ? 'needs an open-model load (an arrival-rate or burst executor)' : undefined;
    case 'metrics-reconciled':
      return (t?.metrics?.length ?? 0) === 0 || !(embeddedReceiver || doc.backends?.prometheus !== undefined) ? 'needs metrics that are read back: the embedded receiver (no telemetry.endpoint) or backends.prometheus' : undefined;
    case 'spans-reconciled':
      return t?.traces === undefined || !embeddedReceiver ? 'needs traces sent to the embedded receiver (no telemetry.endpoint)' : undefined;
    case 'traces-checked':
      return t?.traces === undefined || !(embeddedReceiver || doc.backends?.tempo !== undefined) ? 'needs traces that are read back: the embedded receiver or backends.tempo' : undefined;
    case 'prometheus':
      return doc.backends?.prometheus === undefined ? 'needs backends.prometheus (visibility is measured by polling it)' : undefined;
    case 'none':
      return undefined;
  }
}

/**
 * Parse and check `/thresholds`.
 * @param doc a schema-valid scenario document (the schema already limits the names).
 * @returns the thresholds, and errors and warnings, each with its JSON pointer.
 */
export function parseThresholds(doc: TallyScenario): { thresholds: ThresholdSpec[]; errors: InputProblem[]; warnings: InputProblem[] } {
  const thresholds: ThresholdSpec[] = [];
  const errors: InputProblem[] = [];
  const warnings: InputProblem[] = [];
  const section = (doc.thresholds ?? {}) as Readonly<Record<string, readonly ThresholdEntry[]>>;
  for (const [name, entries] of Object.entries(section)) {
    const base = `/thresholds/${escapePointerToken(name)}`;
    const figure = thresholdName(name);
    if (figure === undefined) {
      errors.push({ pointer: base, message: NOT_ALIASES[name] ?? 'is not a threshold name; see the names in scenario.schema.json' });
      continue;
    }
    const missing = needProblem(figure.needs, doc);
    if (missing !== undefined) errors.push({ pointer: base, message: missing });
    entries.forEach((entry, i) => {
      const written = typeof entry === 'string' ? { threshold: entry } : entry;
      const pointer = typeof entry === 'string' ? `${base}/${i}` : `${base}/${i}/threshold`;
      const parsed = parseThresholdExpression(written.threshold, figure.kind);
      if ('problem' in parsed) {
        errors.push({ pointer, message: parsed.problem });
        return;
      }
      const abortOnFail = written.abortOnFail ?? false;
      const delayAbortEvalMs = written.delayAbortEval === undefined ? 0 : parseDurationMs(written.delayAbortEval, `${base}/${i}/delayAbortEval`);
      if (written.delayAbortEval !== undefined && !abortOnFail) warnings.push({ pointer: `${base}/${i}/delayAbortEval`, message: 'ignored without abortOnFail: true' });
      thresholds.push({ name, metric: figure.name, kind: figure.kind, expression: written.threshold.trim(), ...parsed, abortOnFail, delayAbortEvalMs });
    });
  }
  return { thresholds, errors, warnings };
}
