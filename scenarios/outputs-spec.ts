/**
 * The scenario's `outputs:` (where tally pushes its own measurements) and `tally run
 * --output KIND=URL`: normalisation with the schema's defaults, the flag's parsing, and the
 * rule that keeps the two kinds of metrics apart: a generated metric may not be named into
 * the measurement namespace (`tally.self.…`, or any name Prometheus would store as
 * `tally_self_…`). Pure; called from scenarios/load.ts and the run pipeline.
 *
 * @see scenarios/scenario.schema.json `$defs/output`
 */
import { ConfigError, type InputProblem } from '../core/errors.ts';
import { OTLP_NAMESPACE, PROMETHEUS_NAMESPACE } from '../core/measurement-metrics.ts';
import type { MeasurementOutputConfig, MeasurementOutputKind } from '../core/measurement-output.ts';
import { parseDurationMs } from '../core/units.ts';
import { prometheusMetricName } from '../wire/prometheus-translate.ts';
import type { Output, TallyScenario } from './scenario-document.ts';

/** The output kinds, as `type:` and `--output KIND=` name them. */
export const OUTPUT_KINDS: readonly MeasurementOutputKind[] = ['prometheus-remote-write', 'otlp'];

/**
 * Normalise one schema-valid output.
 * @param pointer its JSON pointer, for duration errors.
 */
export function normaliseOutput(o: Output, pointer: string): MeasurementOutputConfig {
  const d = (text: string | undefined, fallback: string, field: string): number => parseDurationMs(text ?? fallback, `${pointer}/${field}`);
  return {
    kind: o.type,
    url: o.url,
    headers: { ...o.headers },
    timeoutMs: d(o.timeout, '5s', 'timeout'),
    queueSnapshots: o.queueSize ?? 600,
    maxSnapshotsPerRequest: o.maxSnapshotsPerRequest ?? 60,
    retry: {
      initialIntervalMs: d(o.retry?.initialInterval, '500ms', 'retry/initialInterval'),
      maxIntervalMs: d(o.retry?.maxInterval, '5s', 'retry/maxInterval'),
      maxElapsedTimeMs: d(o.retry?.maxElapsedTime, '30s', 'retry/maxElapsedTime'),
    },
    drainTimeoutMs: d(o.drainTimeout, '10s', 'drainTimeout'),
  };
}

/** Whether a generated metric's name falls in the measurement namespace, in either form. */
export function inMeasurementNamespace(name: string): boolean {
  if (name.toLowerCase().startsWith(OTLP_NAMESPACE)) return true;
  // Any unit and type: the prefix is decided by the name's first tokens.
  const stored = prometheusMetricName(name, '', 'gauge');
  return stored !== null && stored.toLowerCase().startsWith(PROMETHEUS_NAMESPACE);
}

/**
 * Cross-field rules of `outputs` and the namespace they reserve.
 * @param doc a schema-valid scenario document.
 */
export function outputsProblems(doc: TallyScenario): { errors: InputProblem[]; warnings: InputProblem[] } {
  const errors: InputProblem[] = [];
  const warnings: InputProblem[] = [];
  (doc.telemetry?.metrics ?? []).forEach((m, i) => {
    if (inMeasurementNamespace(m.name)) errors.push({ pointer: `/telemetry/metrics/${i}/name`, message: `"${m.name}" is in the namespace of tally's own measurements (${OTLP_NAMESPACE}…, ${PROMETHEUS_NAMESPACE}…): choose another name` });
  });
  (doc.outputs ?? []).forEach((o, i) => {
    const p = `/outputs/${i}`;
    const timeoutMs = parseDurationMs(o.timeout ?? '5s', `${p}/timeout`);
    if (timeoutMs < 1) errors.push({ pointer: `${p}/timeout`, message: 'must be at least 1ms' });
    const drainMs = parseDurationMs(o.drainTimeout ?? '10s', `${p}/drainTimeout`);
    if (drainMs < timeoutMs) warnings.push({ pointer: `${p}/drainTimeout`, message: 'is shorter than one request\'s timeout: a slow endpoint will leave the final snapshot unsent' });
  });
  return { errors, warnings };
}

const URL_RE = /^https?:\/\/[^\s@/]+(\/[^\s]*)?$/;

/**
 * Outputs from `tally run --output KIND=URL` (repeatable), with the schema's defaults.
 * @throws ConfigError `TALLY_CONFIG_INVALID` (pointer `--output`) for an unknown kind or a URL
 * that is not http(s) or carries credentials.
 */
export function outputsFromFlags(values: readonly string[]): MeasurementOutputConfig[] {
  const problems: InputProblem[] = [];
  const outputs: MeasurementOutputConfig[] = [];
  for (const value of values) {
    const at = value.indexOf('=');
    const kind = at < 0 ? value : value.slice(0, at);
    const url = at < 0 ? '' : value.slice(at + 1);
    if (!(OUTPUT_KINDS as readonly string[]).includes(kind)) {
      problems.push({ pointer: '--output', message: `"${kind}" is not an output kind: expected ${OUTPUT_KINDS.map((k) => `${k}=URL`).join(' or ')}` });
      continue;
    }
    if (!URL_RE.test(url)) {
      problems.push({ pointer: '--output', message: `${kind}: an http(s) URL without credentials is expected after "="` });
      continue;
    }
    outputs.push(normaliseOutput({ type: kind as MeasurementOutputKind, url }, '--output'));
  }
  if (problems.length > 0) throw new ConfigError(`${problems.length} problem(s) in --output`, problems);
  return outputs;
}
