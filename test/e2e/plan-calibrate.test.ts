/**
 * `tally plan --calibrate`: against a live Prometheus 3 (remote-write receiver on), the
 * calibration's series arrive in its head (exactly as many as sent, under the calibration's
 * run label), bytes per series is measured from its own gauges, and the budget's storage limit
 * is then checked with that figure.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { planScenario } from '../../pipeline/plan.ts';
import { renderPlan } from '../../reports/plan-report.ts';
import { startPrometheus3, type Prometheus3Server } from '../peers/prometheus3.ts';
import { scenarioFile } from './readback-helpers.ts';

let prom: Prometheus3Server;
before(async () => {
  prom = await startPrometheus3();
});
after(async () => {
  await prom?.stop();
});

test('the calibration series land in the head, bytes per series is measured, and the storage budget uses it', async (t) => {
  const { path } = await scenarioFile(`
name: calibrated
duration: 1m
telemetry:
  exportInterval: 15s
  metrics:
    - { name: http.requests, instrument: counter, attributes: { route: 50, pod: 200 } }
budget: { maxStorageBytes: 1000000000000 }
`);
  const report = await planScenario(path, availableParallelism(), { calibrate: prom.url, calibration: { series: 5000 } });
  const storage = report.storage!;
  assert.ok(storage.calibrated);
  assert.equal(storage.seriesSent, 5000);
  assert.equal(storage.headSeriesAdded, 5000);
  assert.ok(storage.bytesPerSeries > 0, `bytes per series ${storage.bytesPerSeries}`);
  t.diagnostic(`Prometheus 3: ${storage.bytesPerSeries} bytes per series (heap), ${storage.residentBytesPerSeries} resident, over ${storage.headSeriesAdded} series`);
  assert.equal(storage.estimatedBytes, 10_000 * storage.bytesPerSeries);
  const check = report.budget!.checks.find((k) => k.limit === 'maxStorageBytes')!;
  assert.equal(check.status, 'ok');
  assert.equal(check.value, storage.estimatedBytes);
  const body = new URLSearchParams({ query: 'count({tally_run_id=~".+-calibration"})' });
  const reply = (await (await fetch(`${prom.url}/api/v1/query?${body}`)).json()) as { data: { result: { value: [number, string] }[] } };
  assert.equal(Number(reply.data.result[0].value[1]), 5000);
  assert.match(renderPlan(report), /bytes per series \(Go heap/);
});

test('a Prometheus that refuses remote write fails the calibration with a runtime error', async () => {
  const { path } = await scenarioFile('name: c\nduration: 1m\ntelemetry: { exportInterval: 15s, metrics: [{ name: m, instrument: counter, attributes: { a: 10 } }] }\n');
  await assert.rejects(planScenario(path, 2, { calibrate: 'http://127.0.0.1:9', calibration: { series: 100 } }), (e: { code: string }) => e.code === 'TALLY_COLLECTOR_FAILED');
});
