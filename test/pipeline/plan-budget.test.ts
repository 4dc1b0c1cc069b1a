/**
 * `tally plan`'s cardinality budget: series, Prometheus series and data points per second
 * per metric and in total; what each attribute multiplies and what dropping or bucketing it
 * saves (checked by re-planning the scenario without it); bytes per export counted on a
 * thread and reported per metric and in total; no storage figure without a calibration; and
 * the budget a warning, or with enforce a refusal naming the limit's pointer — in `tally
 * plan` and in `tally run`, before anything is sent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planScenario } from '../../pipeline/plan.ts';
import { runScenario } from '../../pipeline/run.ts';
import { renderPlan } from '../../reports/plan-report.ts';

async function scenarioFile(text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tally-plan-'));
  await writeFile(join(dir, 'scenario.yaml'), text);
  return join(dir, 'scenario.yaml');
}

const METRICS = `
telemetry:
  exportInterval: 10s
  metrics:
    - { name: http.requests, instrument: counter, attributes: { route: 20, status: 5, pod: 30 } }
    - { name: http.duration, instrument: histogram, unit: ms, buckets: [10, 100, 1000], attributes: { route: 20 } }
`;

test('per metric and in total: series, Prometheus series, data points/s, and each attribute\'s cost as re-planning without it confirms', async () => {
  const report = await planScenario(await scenarioFile(`name: p\nduration: 1m\n${METRICS}`), 2);
  const c = report.cardinality!;
  assert.deepEqual(c.metrics.map((m) => [m.name, m.series, m.prometheusSeries, m.dataPointsPerSecond]), [['http.requests', 3000, 3000, 300], ['http.duration', 20, 20 * (3 + 1 + 2), 2]]);
  assert.equal(c.series, 3020);
  assert.equal(c.prometheusSeries, 3120);
  const pod = c.metrics[0].attributes.find((a) => a.key === 'pod')!;
  const without = await planScenario(await scenarioFile(`name: p\nduration: 1m\n${METRICS.replace(', pod: 30', '')}`), 2);
  assert.equal(pod.seriesWithout, without.cardinality!.metrics[0].series);
  assert.equal(pod.seriesSavedByDropping, 3000 - 100);
  assert.equal(pod.bucketTo, 10);
  assert.equal(pod.seriesSavedByBucketing, 3000 - 100 * 10);
  assert.equal(c.metrics[0].attributes.find((a) => a.key === 'status')!.bucketTo, undefined, 'five values need no bucketing');
  // Bytes: per metric, adding up to the totals; remote write cannot carry the histogram.
  const b = c.bytesPerExport;
  assert.equal(b.metrics.reduce((a, m) => a + m.otlpBytes, 0), b.otlp!.bytes);
  assert.equal(b.metrics[1].remoteWriteBytes, undefined);
  assert.equal(b.metrics[0].remoteWriteBytes, b.remoteWrite!.bytes);
  assert.ok(b.otlp!.bytes > 3020 * 20, 'at least 20 bytes per point');
  assert.equal(c.bytesPerSecond.transport, b.otlp!.wireBytes / 10);
  assert.equal(report.storage?.calibrated, false, 'no storage figure without a calibration');
  assert.match(renderPlan(report), /storage: not measured/);
});

test('gzip: as-sent bytes are the gzip of each request, smaller than the bodies', async () => {
  const report = await planScenario(await scenarioFile(`name: p\nduration: 1m\n${METRICS.replace('exportInterval: 10s', 'exportInterval: 10s\n  compression: gzip')}`), 2);
  const o = report.cardinality!.bytesPerExport.otlp!;
  assert.equal(o.compression, 'gzip');
  assert.ok(o.wireBytes < o.bytes / 2);
});

test('a budget exceeded is a warning; with enforce, plan and run refuse it with the limit\'s pointer before anything is sent', async () => {
  const budget = 'budget: { maxSeries: 3000, maxDataPointsPerSecond: 1000, maxBytesPerSecond: 100, maxStorageBytes: 1000 }';
  const warned = await planScenario(await scenarioFile(`name: p\nduration: 1m\n${METRICS}${budget}\n`), 2);
  const status = Object.fromEntries(warned.budget!.checks.map((k) => [k.limit, k.status]));
  assert.deepEqual(status, { maxSeries: 'exceeded', maxDataPointsPerSecond: 'ok', maxBytesPerSecond: 'exceeded', maxStorageBytes: 'not_checked' });
  assert.ok(warned.warnings.some((w) => w.pointer === '/budget/maxSeries'));
  const enforced = await scenarioFile(`name: p\nduration: 1m\n${METRICS}${budget.replace(' }', ', enforce: true }')}\n`);
  const refused = (e: { code: string; problems: { pointer: string }[] }): boolean => e.code === 'TALLY_CONFIG_INVALID' && e.problems.some((p) => p.pointer === '/budget/maxSeries') && e.problems.some((p) => p.pointer === '/budget/maxBytesPerSecond');
  await assert.rejects(planScenario(enforced, 2), refused);
  const outDir = join(await mkdtemp(join(tmpdir(), 'tally-plan-run-')), 'out');
  const parts: string[] = [];
  await assert.rejects(runScenario({ scenarioPath: enforced, outDir, handleSignals: false, stdout: { write: (t: string) => parts.push(t) } }), refused);
  assert.deepEqual(await readdir(outDir).catch(() => []), [], 'nothing was written');
});
