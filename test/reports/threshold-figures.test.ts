/**
 * The figures thresholds judge, read from a recorded results.json: every catalog name
 * resolves for a run that has what it needs, percentiles of any rank come from the encoded
 * histograms, and a datapath counter is 0 when unchanged but unknown when its source was
 * unreadable.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createHistogramUs, encodeHistogram, recordUs } from '../../core/histogram.ts';
import { aggregate } from '../../reconcile/thresholds.ts';
import type { Results } from '../../reports/results.ts';
import { datapathCount, resultsFigures, thresholdsSection, withResultsHistograms } from '../../reports/threshold-figures.ts';
import { THRESHOLD_NAMES } from '../../scenarios/threshold-names.ts';
import { parseThresholdExpression } from '../../scenarios/thresholds-spec.ts';
import type { ThresholdSpec } from '../../core/thresholds.ts';

const embedded = JSON.parse(readFileSync(new URL('../fixtures/results/embedded.results.json', import.meta.url), 'utf8')) as Results;

function spec(metric: string, kind: ThresholdSpec['kind'], expression: string): ThresholdSpec {
  const p = parseThresholdExpression(expression, kind);
  if ('problem' in p) throw new Error(p.problem);
  return { name: metric, metric, kind, expression, ...p, abortOnFail: false, delayAbortEvalMs: 0 };
}

test('every catalog figure a load + metrics + traces run on the embedded stand-ins has resolves, with its kind', () => {
  const figures = resultsFigures(embedded);
  const notMeasured = new Set(['dns', 'visibility_lag']); // no DNS name, no Prometheus
  for (const t of THRESHOLD_NAMES) {
    const f = figures(t.name);
    if (notMeasured.has(t.name)) assert.equal(f, undefined, t.name);
    else assert.equal(f?.kind, t.kind, t.name);
  }
});

test('the figures are the fields of results.json they name', () => {
  const l = embedded.summary.load;
  const m = embedded.summary.metrics;
  const f = resultsFigures(embedded);
  assert.equal(aggregate(spec('latency', 'trend', 'p(99)<1s'), f('latency')), l.latencyUs.p99);
  assert.equal(aggregate(spec('ttfb', 'trend', 'med<1s'), f('ttfb')), l.ttfbUs.p50);
  assert.equal(aggregate(spec('errors', 'rate', 'rate<1'), f('errors')), (l.requests - l.ok) / l.requests);
  assert.equal(aggregate(spec('late_starts', 'rate', 'count<1'), f('late_starts')), l.lateStarts);
  assert.equal(aggregate(spec('iterations', 'counter', 'rate>1'), f('iterations')), l.iterationsCompleted / (embedded.run.plannedDurationMs / 1000));
  assert.equal(aggregate(spec('otlp_loss', 'rate', 'rate<1'), f('otlp_loss')), m.lossRatio);
  assert.equal(aggregate(spec('otlp_loss{stage:rejected}', 'rate', 'count<1'), f('otlp_loss{stage:rejected}')), m.missingByExportStage.rejected);
  assert.equal(aggregate(spec('span_loss', 'rate', 'rate<1'), f('span_loss')), embedded.summary.traces.spanLossRatio);
  assert.equal(aggregate(spec('achieved_rate_ratio', 'gauge', 'value>0'), f('achieved_rate_ratio')), l.achievedRatePerSecond / l.targetRatePerSecond);
  assert.equal(aggregate(spec('generator_saturated', 'gauge', 'value==0'), f('generator_saturated')), embedded.generator.saturated ? 1 : 0);
});

test('a datapath counter is 0 when unchanged, its delta when changed, unknown when its source was unreadable or it reset', () => {
  assert.equal(datapathCount(embedded, 'conntrack.drop'), 0);
  assert.equal(datapathCount(embedded, 'snmp.Tcp.ActiveOpens'), embedded.datapath.counters['snmp.Tcp.ActiveOpens'].delta);
  const unreadable = structuredClone(embedded);
  unreadable.datapath.flags = [{ key: 'conntrackStats', kind: 'unavailable', message: 'absent' }];
  assert.equal(datapathCount(unreadable, 'conntrack.drop'), undefined);
  assert.equal(datapathCount(unreadable, 'netstat.TcpExt.ListenDrops'), 0);
  unreadable.datapath.counters['snmp.Tcp.RetransSegs'] = { before: 9, after: 1, delta: null, reset: true };
  assert.equal(datapathCount(unreadable, 'snmp.Tcp.RetransSegs'), undefined);
  const none = structuredClone(embedded);
  delete none.datapath;
  assert.equal(resultsFigures(none)('conntrack_drops'), undefined);
});

test('percentiles of any rank come from the encoded histograms; without them only the recorded ones are known', () => {
  const h = createHistogramUs();
  for (let v = 1; v <= 1000; v++) recordUs(h, v * 10);
  const r = structuredClone(embedded);
  r.histograms = { latencyUs: encodeHistogram(h) };
  const expected95 = h.getValueAtPercentile(95);
  h.destroy();
  const p95 = spec('latency', 'trend', 'p(95)<1s');
  const observed = withResultsHistograms(r, (source) => aggregate(p95, resultsFigures(r, source)('latency')));
  assert.equal(observed, expected95);
  assert.equal(aggregate(p95, resultsFigures(embedded)('latency')), undefined);
});

test('the thresholds section: ok only when every threshold held; no data counts against it', () => {
  const f = resultsFigures(embedded);
  const held = thresholdsSection([spec('errors', 'rate', 'rate==0')], f);
  assert.deepEqual([held.ok, held.breached, held.noData], [true, 0, 0]);
  const failed = thresholdsSection([spec('errors', 'rate', 'rate==0'), spec('latency', 'trend', 'p(99)<1us'), spec('dns', 'trend', 'p(99)<1s')], f, 'latency p(99)<1us');
  assert.deepEqual([failed.ok, failed.breached, failed.noData, failed.abortedBy], [false, 1, 1, 'latency p(99)<1us']);
});
