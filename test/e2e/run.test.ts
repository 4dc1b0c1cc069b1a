/**
 * End to end on real sockets on loopback: the CLI's pipeline against the embedded target
 * and the embedded OTLP receiver.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runScenario } from '../../pipeline/run.ts';

const NODE = process.execPath;
const CLI = new URL('../../bin/tally.ts', import.meta.url).pathname;
const sink = { write: (_s: string) => true, isTTY: false };

async function scenarioFile(text: string): Promise<{ dir: string; path: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'tally-e2e-'));
  const path = join(dir, 'scenario.yaml');
  await writeFile(path, text);
  return { dir, path };
}

test('a 5 s run against the embedded target reaches the target rate within 5% and reconciles with 0 loss', async () => {
  const { dir, path } = await scenarioFile(`
name: e2e-rate
seed: 9
duration: 5s
load: { executor: constant-arrival-rate, rate: 1000, maxInFlight: 512 }
telemetry:
  exportInterval: 1s
  metrics:
    - { name: tally.requests, instrument: counter, attributes: { route: 20, status: 5, pod: 10 } }
`);
  const { results, outDir } = await runScenario({ scenarioPath: path, outDir: join(dir, 'out'), stdout: sink, handleSignals: false });
  const l = results.summary.load;
  assert.equal(results.complete, true);
  assert.equal(l.targetRatePerSecond, 1000);
  assert.ok(Math.abs(l.achievedRatePerSecond - 1000) / 1000 <= 0.05, `achieved ${l.achievedRatePerSecond}/s`);
  assert.equal(l.errors.total, 0);
  // Every planned arrival is accounted for: started, or dropped at maxInFlight.
  assert.equal(l.iterationsStarted + l.droppedIterations, 5000);
  assert.ok(l.latencyUs.count === l.ok && l.latencyUs.p99 > 0 && l.latencyUs.p99 <= l.latencyUs.max);
  const m = results.summary.metrics;
  assert.equal(m.pointsSent, 1000 * 5);
  assert.equal(m.pointsAcknowledged, m.pointsSent);
  assert.equal(m.pointsReceived, m.pointsSent);
  assert.equal(m.lossRatio, 0);
  assert.equal(m.valueMismatches, 0);
  assert.equal(m.duplicatePoints, 0);
  assert.equal(results.target.requestsServed, l.ok);
  // The interval log has one line per second, and its counts add up to the totals.
  const lines = (await readFile(join(outDir, 'intervals.ndjson'), 'utf8')).trim().split('\n').map((s) => JSON.parse(s));
  assert.ok(lines.length >= 5 && lines.length <= 7, `${lines.length} lines`);
  assert.equal(lines.reduce((a, x) => a + (x.load?.started ?? 0), 0), l.iterationsStarted);
  assert.equal(lines.reduce((a, x) => a + (x.metrics?.pointsSent ?? 0), 0), m.pointsSent);
  assert.match(await readFile(join(outDir, 'summary.md'), 'utf8'), /loss ratio \| 0\.00%/);
});

test('with 3% of points rejected by the receiver, reconciled loss is exactly what was rejected, as the ledger says', async () => {
  const { dir, path } = await scenarioFile(`
name: e2e-faults
seed: 21
duration: 3s
telemetry:
  exportInterval: 1s
  maxBatchDataPoints: 250
  metrics:
    - { name: tally.requests, instrument: counter, attributes: { route: 20, status: 5, pod: 10 } }
embedded: { receiver: { faults: { rejectDataPointRatio: 0.03 } } }
`);
  const { results } = await runScenario({ scenarioPath: path, outDir: join(dir, 'out'), stdout: sink, handleSignals: false });
  const m = results.summary.metrics;
  assert.equal(m.pointsSent, 3000);
  assert.ok(m.pointsRejected > 45 && m.pointsRejected < 150, `rejected ${m.pointsRejected}`); // ~90 expected
  assert.equal(m.pointsMissing, m.pointsRejected);
  assert.equal(m.missingByStage.rejected, m.pointsRejected);
  assert.equal(m.missingByStage.lostAfterAck, 0);
  assert.equal(results.receiver.pointsRejectedByFault, m.pointsRejected);
  assert.equal(m.lossRatio, m.pointsRejected / m.pointsSent);
  assert.ok(m.requestsPartial > 0);
  // Deterministic: the same seed rejects the same number of points.
  const again = await runScenario({ scenarioPath: path, outDir: join(dir, 'out2'), stdout: sink, handleSignals: false });
  assert.equal(again.results.summary.metrics.pointsRejected, m.pointsRejected);
});

test('OTLP/HTTP JSON: the same run reconciles with 0 loss and exact values', async () => {
  const { dir, path } = await scenarioFile(`
name: e2e-json
seed: 13
duration: 2s
telemetry:
  protocol: http/json
  exportInterval: 1s
  maxBatchDataPoints: 300
  metrics:
    - { name: tally.requests, instrument: counter, unit: "{request}", attributes: { route: 20, status: 5, pod: 10 } }
    - { name: tally.bytes, instrument: counter, unit: By, attributes: { pod: 7 } }
`);
  const { results } = await runScenario({ scenarioPath: path, outDir: join(dir, 'out'), stdout: sink, handleSignals: false });
  const m = results.summary.metrics;
  assert.equal(m.protocol, 'http/json');
  assert.equal(m.pointsSent, (1000 + 7) * 2);
  assert.equal(m.pointsReceived, m.pointsSent);
  assert.equal(m.lossRatio, 0);
  assert.equal(m.valueMismatches, 0);
  assert.equal(m.unexpectedPoints, 0);
});

test('503 fault injection: failed requests are failed exports in the ledger, not losses after acknowledgement', async () => {
  const { dir, path } = await scenarioFile(`
name: e2e-503
seed: 4
duration: 2s
telemetry:
  exportInterval: 1s
  maxBatchDataPoints: 50
  retry: { enabled: false }            # one attempt each: every 503 is final
  metrics:
    - { name: m, instrument: counter, attributes: { a: 10, b: 100 } }
embedded: { receiver: { faults: { failRequestRatio: 0.2 } } }
`);
  const { results } = await runScenario({ scenarioPath: path, outDir: join(dir, 'out'), stdout: sink, handleSignals: false });
  const m = results.summary.metrics;
  assert.ok(m.requestsFailed > 0 && m.requestsFailed < m.requests);
  assert.equal(m.statuses['503'], m.requestsFailed);
  assert.equal(m.pointsFailed, m.requestsFailed * 50);
  assert.equal(m.missingByStage.failedExport, m.pointsFailed);
  assert.equal(m.pointsMissing, m.pointsFailed);
  assert.equal(results.receiver.requestsFailedByFault, m.requestsFailed);
});

test('SIGTERM mid-run leaves a valid intervals.ndjson and a results.json marked incomplete', async () => {
  const { dir, path } = await scenarioFile(`
name: e2e-sigterm
duration: 20s
load: { executor: constant-arrival-rate, rate: 300 }
telemetry:
  exportInterval: 1s
  metrics:
    - { name: m, instrument: counter, attributes: { a: 10 } }
`);
  const outDir = join(dir, 'out');
  const child = spawn(NODE, [CLI, 'run', path, '--out', outDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c) => (stderr += c));
  // Stop it once it has measured a few seconds (start-up time varies with machine load).
  const deadline = Date.now() + 30_000;
  for (;;) {
    const text = await readFile(join(outDir, 'intervals.ndjson'), 'utf8').catch(() => '');
    if (text.split('\n').filter(Boolean).length >= 3) break;
    assert.ok(Date.now() < deadline, `no 3 interval lines within 30 s; stderr: ${stderr}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill('SIGTERM');
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  assert.equal(code, 143, stderr);
  const lines = (await readFile(join(outDir, 'intervals.ndjson'), 'utf8')).trim().split('\n');
  assert.ok(lines.length >= 3, `${lines.length} interval lines`);
  for (const line of lines) assert.equal(typeof JSON.parse(line).interval, 'number');
  const results = JSON.parse(await readFile(join(outDir, 'results.json'), 'utf8'));
  assert.equal(results.complete, false);
  assert.equal(results.incompleteReason, 'SIGTERM');
  assert.ok(results.summary.load.requests > 0 && results.summary.load.requests < 300 * 20);
  assert.ok(results.summary.metrics.pointsSent > 0);
  assert.equal(results.summary.metrics.lossRatio, 0);
});

test('CLI: validate exits 0 for a good scenario and 2 with pointers for a bad one; a bad run sends nothing', async () => {
  const run = (args: string[]): Promise<{ code: number | null; out: string; err: string }> =>
    new Promise((resolve) => {
      const child = spawn(NODE, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (c) => (out += c));
      child.stderr.on('data', (c) => (err += c));
      child.on('exit', (code) => resolve({ code, out, err }));
    });
  const good = await run(['validate', new URL('../../scenarios/smoke.yaml', import.meta.url).pathname]);
  assert.equal(good.code, 0, good.err);
  const { dir, path } = await scenarioFile('name: bad\nduration: 5 seconds\nload: { executor: constant-arrival-rate, rate: 0 }\n');
  const bad = await run(['validate', path]);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /\/duration: /);
  assert.match(bad.err, /\/load\/rate: /);
  const badRun = await run(['run', path, '--out', join(dir, 'never')]);
  assert.equal(badRun.code, 2);
  await assert.rejects(readFile(join(dir, 'never', 'intervals.ndjson')));
  assert.equal((await run(['frobnicate', path])).code, 2);
});
