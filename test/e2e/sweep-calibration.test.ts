/**
 * Calibration of `tally sweep` against known truths, end to end through `tally run` on real
 * sockets (each step a full run, in this process):
 * - the embedded target with a capacity model (one server, 4 ms per request: 250 requests/s
 *   exactly); the sweep over `load.rate` must find 250/s within its stated resolution;
 * - the embedded receiver with a throughput limit of N = 2,000 data points per second; the
 *   sweep over a metric's cardinality, exported every T = 1.5 s, must find N × T = 3,000
 *   series (N data points per second divided by 1/T exports per second) within its resolution.
 * Each step is short (2–3 s of load) so the two sweeps together stay around a minute. A step
 * whose generator saturated (a busy shared host) is run again twice before it counts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runSweep } from '../../pipeline/sweep.ts';
import { validateSweepReport, type SweepReport } from '../../reports/sweep-report.ts';
import { capacityPerSecond } from '../../embedded/target-capacity.ts';
import { captureStdout, scenarioFile } from './readback-helpers.ts';

/** The knee is within the sweep's own stated resolution of the truth. */
function assertFound(t: { diagnostic(message: string): void }, report: SweepReport, truth: number): void {
  const { knee } = report;
  t.diagnostic(`truth ${truth}; ${knee.summary}; steps ${report.steps.map((s) => `${s.valueText}:${s.verdict}`).join(', ')}`);
  assert.equal(knee.status, 'found', knee.summary);
  const [pass, fail] = knee.bracket!;
  const resolution = report.resolution.relative ? report.resolution.value * fail : report.resolution.value;
  assert.ok(fail - pass <= resolution, `bracket ${pass}…${fail} within ${resolution}`);
  assert.ok(Math.abs(knee.knee! - truth) <= resolution, `found ${knee.knee}, truth ${truth}, resolution ${resolution}`);
}

function assertWritten(outDir: string, report: SweepReport): void {
  validateSweepReport(JSON.parse(readFileSync(join(outDir, 'sweep.json'), 'utf8')) as SweepReport);
  assert.match(readFileSync(join(outDir, 'sweep.svg'), 'utf8'), /^<svg/);
  for (const step of report.steps) assert.ok(existsSync(join(outDir, step.runDir, 'results.json')), `${step.runDir}/results.json`);
}

test('load.rate sweep: finds the capacity of a one-server, 4 ms target (250 requests/s) within its resolution', async (t) => {
  const capacity = { serviceTimeMs: 4, servers: 1, queueLimit: 10_000 };
  const { dir, path } = await scenarioFile(`
name: capacity-calibration
seed: 7
duration: 2s
load:
  executor: constant-arrival-rate
  rate: 100
  maxInFlight: 2000
  lateStartThreshold: 50ms
  connection: { reuse: never, close: rst }
embedded:
  target:
    capacity: { serviceTime: ${capacity.serviceTimeMs}ms, servers: ${capacity.servers}, queueLimit: ${capacity.queueLimit} }
`);
  const stdout = captureStdout();
  const outDir = join(dir, 'sweep');
  const { report } = await runSweep({
    scenarioPath: path,
    vary: 'load.rate',
    from: '100',
    to: '400',
    steps: '4',
    resolution: '5%',
    // Below capacity every request is answered one service time after it arrived; above it the queue grows
    // by (rate − capacity) per second, so the request at the 90th percentile of arrival time (1.8 s into a 2 s
    // run) waits (rate / capacity − 1) × 1.8 s: more than the 46 ms the SLO leaves once rate > about 256/s
    // (capacity × 1.026). The SLO knee is that, not the capacity itself; the 5 % resolution holds both.
    slo: "{ latency: ['p(90)<50ms'] }",
    outDir,
    // close: rst leaves no TIME_WAIT of the sweep's own to wait for.
    drainMaxMs: 0,
    retryLimited: 2,
    stdout,
    handleSignals: false,
  });
  assertFound(t, report, capacityPerSecond(capacity));
  assertWritten(outDir, report);
  assert.match(stdout.text(), /knee: load\.rate = /);
});

test('cardinality sweep: finds the series a receiver limited to N data points per second (burst B) takes over K exports: N·T + (B − N·T) / K', async (t) => {
  const pointsPerSecond = 2000;
  const intervalMs = 1500;
  // A burst of twice an interval's refill: the first exports may exceed N·T, the later ones
  // only by what is left of it, so both the burst and the refill rate decide the knee (a
  // wrong refill rate moves it): over K = 4 exports, 3,000 + 3,000 / 4 = 3,750 series.
  const burstDataPoints = (2 * pointsPerSecond * intervalMs) / 1000;
  const exports = 4;
  const { dir, path } = await scenarioFile(`
name: cardinality-calibration
seed: 11
duration: ${(exports * intervalMs) / 1000}s
telemetry:
  exportInterval: ${intervalMs}ms
  retry: { enabled: false }
  metrics:
    - { name: tally.requests, instrument: counter, attributes: { pod: 100 } }
embedded:
  receiver:
    limits: { dataPointsPerSecond: ${pointsPerSecond}, burstDataPoints: ${burstDataPoints} }
reconcile: { settle: 200ms }
`);
  const outDir = join(dir, 'sweep');
  const { report } = await runSweep({
    scenarioPath: path,
    vary: 'telemetry.metrics.0.attributes.pod',
    from: '1000',
    to: '7000',
    steps: '4',
    resolution: '5%',
    slo: "{ otlp_loss: ['rate==0'] }",
    outDir,
    retryLimited: 2,
    stdout: captureStdout(),
    handleSignals: false,
  });
  const refillPerExport = (pointsPerSecond * intervalMs) / 1000;
  assertFound(t, report, refillPerExport + (burstDataPoints - refillPerExport) / exports);
  assertWritten(outDir, report);
  const failed = report.steps.find((s) => s.verdict === 'fail')!;
  const results = JSON.parse(readFileSync(join(outDir, failed.runDir, 'results.json'), 'utf8'));
  assert.ok(results.receiver.requestsThrottledByLimit > 0, 'the failing step was refused by the limit');
  assert.ok(failed.figures!.lossRatio! > 0);
});
