/**
 * A measurement output whose endpoint accepts connections and never answers must not slow
 * the load or the telemetry under test: the run still reaches its target rate, every
 * generated data point is acknowledged by the embedded receiver, the output reports what it
 * could not deliver, and the run ends within its drain timeout of the results.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { runScenario } from '../../pipeline/run.ts';
import { captureStdout, scenarioFile } from './readback-helpers.ts';

test('an output endpoint that never answers: full rate, all telemetry acknowledged, the loss reported, the wait bounded', async () => {
  const held: Socket[] = [];
  const hole = createServer((s) => held.push(s));
  await new Promise<void>((r) => hole.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(hole.address() as AddressInfo).port}/api/v1/write`;
  try {
    const { dir, path } = await scenarioFile(`
name: slow-output
seed: 3
duration: 5s
load: { executor: constant-arrival-rate, rate: 400, maxInFlight: 256, connection: { reuse: never, close: rst } }
telemetry:
  exportInterval: 1s
  metrics: [{ name: app.requests, instrument: counter, attributes: { route: 10, code: 5 } }]
reconcile: { settle: 200ms }
outputs:
  - { type: prometheus-remote-write, url: ${url}, timeout: 1s, queueSize: 2, drainTimeout: 1500ms }
`);
    const t0 = performance.now();
    const { results } = await runScenario({ scenarioPath: path, outDir: join(dir, 'out'), stdout: captureStdout(), handleSignals: false });
    const wallMs = performance.now() - t0;
    const load = results.summary.load;
    assert.equal(results.complete, true);
    assert.ok(load.achievedRatePerSecond >= 0.97 * load.targetRatePerSecond, `${load.achievedRatePerSecond}/s`);
    assert.equal(load.errors.total, 0);
    assert.equal(results.summary.metrics.pointsAcknowledged, results.summary.metrics.pointsSent);
    const [o] = results.measurementOutputs;
    assert.equal(o.finalDelivered, false);
    assert.equal(o.snapshotsDelivered, 0);
    assert.ok(o.snapshotsDropped > 0, 'the small queue dropped its oldest snapshots');
    assert.equal(o.snapshotsDropped + o.snapshotsFailed + o.snapshotsUnsent, o.snapshots);
    // Load 5 s, settle 0.2 s, drain at most 1.5 s: plus start-up and the checkpoint, well under 12 s.
    assert.ok(wallMs < 12_000, `${Math.round(wallMs)} ms`);
  } finally {
    for (const s of held) s.destroy();
    hole.close();
  }
});
