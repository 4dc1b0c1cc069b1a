import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseScenario } from '../../scenarios/load.ts';
import { planRun } from '../../scenarios/plan.ts';
import { MeasurementSnapshots } from '../../reports/measurement-snapshot.ts';
import type { IntervalLine } from '../../reports/aggregate.ts';
import type { MeasurementSnapshot } from '../../core/measurement-output.ts';

const { scenario } = parseScenario(`
name: snap
duration: 4s
load: { executor: ramping-arrival-rate, startRate: 0, stages: [{ duration: 2s, target: 100 }, { duration: 2s, target: 100 }] }
telemetry: { exportInterval: 1s, metrics: [{ name: app.requests, instrument: counter, attributes: { a: 2 } }] }
`);
const plan = planRun(scenario, 1_700_000_000_000, 2);

function line(interval: number, started: number, errors: Record<string, number>): IntervalLine {
  const errorCount = Object.values(errors).reduce((a, n) => a + n, 0);
  return {
    interval, endMs: (interval + 1) * 1000, shards: 2, eventLoopDelayP99MaxUs: 2000, workerCpuMaxRatio: 0.25, datapath: { 'conntrack.insert_failed': 1, 'sockstat.TCP.tw': 40 },
    load: { started, iterationsCompleted: started, completed: started, newConnections: started, connectionsPerSecond: started, vusActive: 0, stageStarted: { [interval < 2 ? 0 : 1]: started }, backends: {}, ok: started - errorCount, errors: errorCount, errorsByClass: errors, statusClasses: { '2xx': started - errorCount }, lateStarts: 1, droppedIterations: 0, maxInFlight: 3, achievedRatePerSecond: started, latencyUs: { p50: 1, p99: 2, max: 3 }, connectUs: { p50: 1, p99: 2, max: 3 }, serviceUs: { p50: 1, p99: 2, max: 3 }, ttfbUs: { p50: 1, p99: 2, max: 3 } },
    metrics: { exports: 1, pointsSent: 2, pointsAcknowledged: 2, pointsRejected: 0, pointsFailed: 0, pointsDropped: 0, pointsUnsettled: 0 },
  };
}
const value = (s: MeasurementSnapshot, metric: string, labels?: Record<string, string>) =>
  s.values.find((v) => v.metric === metric && JSON.stringify(v.labels ?? {}) === JSON.stringify(labels ?? {}))?.value;

test('interval snapshots: cumulative counters, every bounded label set declared from the start, never stamped in the future', () => {
  const b = new MeasurementSnapshots({ plan, scenario, datapath: true });
  const s0 = b.interval(line(0, 25, {}), {}, plan.startEpochMs + 900);
  const s1 = b.interval(line(1, 75, { ECONNREFUSED: 2, EADDRNOTAVAIL: 1 }));
  assert.equal(s0.timestampMs, plan.startEpochMs + 900, 'clamped to now');
  assert.equal(s1.timestampMs, plan.startEpochMs + 2000);
  assert.deepEqual([value(s0, 'iterationsStarted'), value(s1, 'iterationsStarted')], [25, 100]);
  assert.equal(value(s0, 'requestErrors', { class: 'ECONNREFUSED', side: 'target' }), 0, 'declared before it happens');
  assert.equal(value(s1, 'requestErrors', { class: 'ECONNREFUSED', side: 'target' }), 2);
  assert.equal(value(s1, 'requestErrors', { class: 'EADDRNOTAVAIL', side: 'generator' }), 1);
  assert.equal(value(s1, 'stageIterationsStarted', { stage: '0' }), 100);
  assert.equal(value(s1, 'dataPoints', { state: 'acknowledged' }), 4);
  assert.equal(value(s1, 'datapath:conntrack.insert_failed'), 2);
  assert.equal(value(s1, 'datapath:sockstat.TCP.tw'), 40);
  assert.equal(value(s1, 'eventLoopDelayP99'), 0.002);
  // Due by the end of the second interval: the integral of a 0 → 100/s ramp over 2 s.
  assert.equal(value(s1, 'iterationsPlanned'), 100);
  assert.equal(value(s1, 'targetRate'), plan.load!.ratePerSecond);
});

test('the final snapshot takes every counter from results.json and comes after every interval one', () => {
  const b = new MeasurementSnapshots({ plan, scenario, datapath: true });
  const s = b.interval(line(0, 25, {}));
  const results = {
    generator: { saturated: true },
    summary: {
      load: { iterationsPlanned: 300, iterationsStarted: 299, iterationsCompleted: 298, requests: 298, newConnections: 298, lateStarts: 4, droppedIterations: 1, stages: [{ iterationsStarted: 100 }, { iterationsStarted: 199 }], statusClasses: { '2xx': 290 }, errors: { byClass: { ETIMEDOUT: 8 } } },
      metrics: { reconciled: true, pointsAcknowledged: 14, pointsRejected: 1, pointsFailed: 1, pointsDropped: 0, pointsUnsettled: 0, missingByExportStage: { rejected: 1, failedExport: 1, droppedByQueue: 0, unsettled: 0, lostAfterAck: 2 } },
    },
    datapath: { counters: { 'conntrack.insert_failed': { delta: 5 } }, gauges: { 'conntrack.count': { before: 1, after: 9 } } },
  };
  const f = b.final(results, {}, s.timestampMs - 5000);
  assert.equal(f.final, true);
  assert.ok(f.timestampMs > s.timestampMs);
  assert.deepEqual([value(f, 'iterationsPlanned'), value(f, 'iterationsStarted'), value(f, 'lateStarts')], [300, 299, 4]);
  assert.equal(value(f, 'stageIterationsStarted', { stage: '1' }), 199);
  assert.equal(value(f, 'requestErrors', { class: 'ETIMEDOUT', side: 'target' }), 8);
  assert.equal(value(f, 'responses', { status_class: '5xx' }), 0);
  assert.equal(value(f, 'dataPointsMissing', { stage: 'lost_after_ack' }), 2);
  assert.equal(value(f, 'datapath:conntrack.insert_failed'), 5);
  assert.equal(value(f, 'datapath:conntrack.count'), 9);
  assert.equal(value(f, 'saturated'), 1);
  assert.equal(value(f, 'workerCpuMax'), undefined, 'per-interval gauges are not in the final snapshot');
});
