/**
 * Helpers for the measurement-output end-to-end tests: a scenario with load (embedded
 * target), OTLP telemetry into a live Prometheus 3 read back from it, and an output of
 * tally's own figures; instant queries; and the expected value of every counter at the end
 * of the run, from results.json, as the catalogue (core/measurement-metrics.ts) maps them.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DATAPATH_COUNTER_METRICS, LEDGER_STATES, LOSS_STAGES, promName } from '../../core/measurement-metrics.ts';
import { ERROR_CLASSES, STATUS_CLASSES } from '../../core/messages.ts';
import { runScenario } from '../../pipeline/run.ts';
import { PrometheusApi } from '../../readback/prometheus/api.ts';
import { GENERATOR_SIDE_ERRORS } from '../../reports/load-results.ts';
import { captureStdout, scenarioFile } from './readback-helpers.ts';

/**
 * A ramping load on the embedded target, OTLP telemetry to Prometheus 3 read back from it
 * (or, without `otlpUrl`, to the embedded receiver with seeded rejections and failures, so
 * there is loss by stage), and `outputs`.
 */
export function liveScenario(o: { name: string; otlpUrl?: string; prometheusUrl?: string; outputs: string; rate?: number; seconds?: number }): string {
  const seconds = o.seconds ?? 6;
  const rate = o.rate ?? 300;
  // Without a Prometheus: the embedded receiver, with seeded rejections and failures (loss by stage).
  const telemetry = o.otlpUrl === undefined
    ? 'embedded:\n  receiver: { faults: { rejectDataPointRatio: 0.05, failRequestRatio: 0.1 } }'
    : `backends:\n  prometheus: { url: ${o.prometheusUrl}, pollInterval: 250ms }`;
  return `
name: ${o.name}
seed: 23
duration: ${seconds}s
load:
  executor: ramping-arrival-rate
  startRate: ${rate / 2}
  stages: [{ duration: ${seconds / 2}s, target: ${rate} }, { duration: ${seconds / 2}s, target: ${rate} }]
  maxInFlight: 256
  workers: 2
  connection: { reuse: never, close: fin, connectTimeout: 2s }
telemetry:
${o.otlpUrl === undefined ? '' : `  endpoint: ${o.otlpUrl}\n`}  protocol: http/protobuf
  exportInterval: 1s
  metrics:
    - { name: app.requests, instrument: counter, attributes: { route: 4, code: 3 } }
  retry: { initialInterval: 100ms, maxInterval: 200ms, maxElapsedTime: 300ms }
${telemetry}
reconcile: { settle: 2s, maxWait: 10s }
outputs:
${o.outputs}
`;
}

/** Run a scenario through the real pipeline; returns results.json. */
export async function runLive(text: string): Promise<any> {
  const { dir, path } = await scenarioFile(text);
  const out = captureStdout();
  const { results } = await runScenario({ scenarioPath: path, outDir: join(dir, 'out'), stdout: out, handleSignals: false });
  return results;
}

/** One instant query's vector, as {labels, value}. */
export async function vector(api: PrometheusApi, expr: string, timeMs = Date.now()): Promise<{ labels: Record<string, string>; value: number }[]> {
  const r = await api.query(expr, timeMs);
  const data = r.data as { resultType: string; result: { metric: Record<string, string>; value?: [number, string] }[] };
  assert.equal(data.resultType, 'vector', expr);
  return data.result.map((s) => ({ labels: s.metric, value: Number(s.value![1]) }));
}

/** The expected final value of every counter series, keyed `name{label=value}`, from results.json. */
export function expectedCounters(results: any): Map<string, number> {
  const out = new Map<string, number>();
  const l = results.summary.load;
  const set = (key: string, labels: Record<string, string>, value: number) => out.set(`${promName(key)}${labelText(labels)}`, value);
  set('iterationsPlanned', {}, l.iterationsPlanned);
  set('iterationsStarted', {}, l.iterationsStarted);
  set('iterationsCompleted', {}, l.iterationsCompleted);
  set('requests', {}, l.requests);
  set('newConnections', {}, l.newConnections);
  set('lateStarts', {}, l.lateStarts);
  set('droppedIterations', {}, l.droppedIterations);
  for (const s of l.stages) set('stageIterationsStarted', { stage: String(s.stage) }, s.iterationsStarted);
  for (const c of STATUS_CLASSES) set('responses', { status_class: c }, l.statusClasses[c] ?? 0);
  for (const c of ERROR_CLASSES) set('requestErrors', { class: c, side: (GENERATOR_SIDE_ERRORS as readonly string[]).includes(c) ? 'generator' : 'target' }, l.errors.byClass[c] ?? 0);
  const m = results.summary.metrics;
  const field = (s: string) => `points${s[0].toUpperCase()}${s.slice(1)}`;
  for (const s of LEDGER_STATES) set('dataPoints', { state: s }, m[field(s)]);
  const stageField: Record<string, string> = { rejected: 'rejected', failed_export: 'failedExport', dropped_by_queue: 'droppedByQueue', unsettled: 'unsettled', lost_after_ack: 'lostAfterAck' };
  for (const s of LOSS_STAGES) set('dataPointsMissing', { stage: s }, m.missingByExportStage[stageField[s]]);
  if (results.datapath) for (const [key] of DATAPATH_COUNTER_METRICS) set(`datapath:${key}`, {}, results.datapath.counters[key]?.delta ?? 0);
  return out;
}

/** `{a="x",b="y"}` with keys sorted; `''` for none. */
export function labelText(labels: Record<string, string>): string {
  const keys = Object.keys(labels).sort();
  return keys.length === 0 ? '' : `{${keys.map((k) => `${k}="${labels[k]}"`).join(',')}}`;
}
