/**
 * Thresholds end to end through the CLI, on loopback against the embedded target and
 * receiver: a run whose thresholds hold exits 0; a breached abortOnFail threshold stops a
 * 20 s run within seconds, keeps what was measured, marks results.json incomplete with the
 * threshold as the reason, and exits 99 as k6 does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT_THRESHOLDS_BREACHED } from '../../bin/exit-codes.ts';
import { validateResults } from '../../reports/results.ts';
import { parseJUnit } from '../support/junit.ts';

const CLI = new URL('../../bin/tally.ts', import.meta.url).pathname;

async function run(scenario: string, extra: string[] = []): Promise<{ status: number | null; stdout: string; outDir: string; results: Record<string, any> }> {
  const dir = await mkdtemp(join(tmpdir(), 'tally-thresholds-'));
  const path = join(dir, 'scenario.yaml');
  await writeFile(path, scenario);
  const outDir = join(dir, 'out');
  const child = spawnSync(process.execPath, [CLI, 'run', path, '--out', outDir, ...extra], { encoding: 'utf8', timeout: 60_000 });
  const results = JSON.parse(await readFile(join(outDir, 'results.json'), 'utf8')) as Record<string, any>;
  return { status: child.status, stdout: child.stdout, outDir, results };
}

test('thresholds that hold: exit 0, each with its observed value in results.json, summary.md and the terminal', async () => {
  const { status, stdout, outDir, results } = await run(`
name: e2e-thresholds-ok
duration: 3s
load: { executor: constant-arrival-rate, rate: 200 }
telemetry:
  exportInterval: 1s
  metrics: [{ name: m, instrument: counter, attributes: { a: 20 } }]
thresholds:
  latency: ['p(99)<5s', 'p(50)<1s']
  http_req_connecting: ['p(99.9)<2s']
  http_req_failed: [{ threshold: 'rate<0.5', abortOnFail: true }]
  otlp_loss: ['rate==0']
  dropped_iterations: ['count==0']
  iterations: ['count>100']
  generator_saturated: ['value<=1']
`);
  assert.equal(status, 0, stdout);
  validateResults(results);
  assert.equal(results.complete, true);
  const th = results.thresholds;
  assert.equal(th.ok, true);
  assert.equal(th.results.length, 8);
  for (const t of th.results) assert.equal(t.status, 'ok', `${t.name} ${t.expression}`);
  const p50 = th.results.find((t: { expression: string }) => t.expression === 'p(50)<1s');
  assert.ok(p50.observed > 0 && p50.observed <= results.summary.load.latencyUs.p99, 'the median is taken from the merged histogram');
  assert.equal(th.results.find((t: { name: string }) => t.name === 'http_req_connecting').metric, 'connect');
  assert.match(stdout, /Thresholds: all 8 held/);
  assert.match(await readFile(join(outDir, 'summary.md'), 'utf8'), /## Thresholds: all 8 held/);
});

test('a breached abortOnFail threshold stops a 20 s run early, keeps the data, says why, exits 99, and --junit says it too', async () => {
  const junit = join(tmpdir(), `tally-thresholds-${process.pid}.xml`);
  const { status, stdout, outDir, results } = await run(`
name: e2e-thresholds-abort
duration: 20s
load: { executor: constant-arrival-rate, rate: 200 }
thresholds:
  latency: [{ threshold: 'p(50)<1us', abortOnFail: true, delayAbortEval: 1s }]
  errors: ['rate<0.5']
`, ['--junit', junit]);
  assert.equal(status, EXIT_THRESHOLDS_BREACHED, stdout);
  const [suite] = parseJUnit(await readFile(junit, 'utf8'));
  const failed = suite.cases.filter((c) => c.failure !== undefined).map((c) => `${c.classname}/${c.name}`);
  // The generator case follows results.json (a loaded host may saturate it); the threshold and completeness cases fail.
  const expected = ['tally.thresholds/latency p(50)<1us', ...(results.generator.saturated ? ['tally.run/generator not saturated'] : []), 'tally.run/run complete'];
  assert.deepEqual(failed, expected);
  validateResults(results);
  assert.equal(results.complete, false);
  assert.equal(results.incompleteReason, 'threshold:latency p(50)<1us');
  assert.equal(results.thresholds.abortedBy, 'latency p(50)<1us');
  assert.equal(results.thresholds.ok, false);
  assert.deepEqual(results.thresholds.results.map((t: { status: string }) => t.status), ['breached', 'ok']);
  assert.ok(results.run.elapsedMs < 10_000, `stopped after ${results.run.elapsedMs} ms of 20,000`);
  assert.ok(results.summary.load.requests > 100, 'what was measured before the stop is kept');
  const lines = (await readFile(join(outDir, 'intervals.ndjson'), 'utf8')).trim().split('\n');
  assert.ok(lines.length >= 1 && lines.length < 10, `${lines.length} interval lines`);
  assert.match(stdout, /run stopped by latency p\(50\)<1us/);
});
