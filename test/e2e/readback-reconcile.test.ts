/**
 * `tally reconcile <run-dir>` against the real Prometheus 2.42: a run writes by remote
 * write, then known series (and known ticks of one series) are deleted with the admin
 * API; reconcile, run later through the CLI, finds exactly those as missing and
 * attributes them to loss after acknowledgement.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runScenario } from '../../pipeline/run.ts';
import { deleteSeries, startPrometheus, type PrometheusServer } from '../peers/prometheus.ts';
import { captureStdout, remoteWriteScenario, scenarioFile } from './readback-helpers.ts';

const NODE = process.execPath;
const CLI = new URL('../../bin/tally.ts', import.meta.url).pathname;

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(NODE, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('tally reconcile on a real Prometheus 2.42', () => {
  let prom: PrometheusServer;
  before(async () => {
    prom = await startPrometheus();
  });
  after(async () => {
    await prom.stop();
  });

  test('series deleted after the run are found exactly (which series, which ticks) and attributed to loss after acknowledgement', async () => {
    const ticks = 6;
    const intervalMs = 500;
    const { dir, path } = await scenarioFile(remoteWriteScenario({
      name: 'rb-reconcile', seed: 11, remoteWriteUrl: prom.remoteWriteUrl, prometheusUrl: prom.url, attributes: '{ route: 10, pod: 20 }', ticks, intervalMs,
    }));
    const outDir = join(dir, 'out');
    const { results } = await runScenario({ scenarioPath: path, outDir, stdout: captureStdout(), handleSignals: false });
    assert.equal(results.summary.metrics.pointsMissing, 0);
    const runId = results.run.id;
    const plan = JSON.parse(await readFile(join(outDir, 'plan.json'), 'utf8')) as { startEpochMs: number };
    const tickMs = (k: number): number => plan.startEpochMs + k * intervalMs;

    // Three series wholly, and ticks 3..4 of a fourth.
    const whole = [{ route: 'route-1', pod: 'pod-2' }, { route: 'route-4', pod: 'pod-0' }, { route: 'route-9', pod: 'pod-19' }];
    const partial = { route: 'route-5', pod: 'pod-7' };
    const selector = (l: { route: string; pod: string }): string => `tally_requests_total{tally_run_id="${runId}",route="${l.route}",pod="${l.pod}"}`;
    await deleteSeries(prom.url, whole.map(selector));
    await deleteSeries(prom.url, [selector(partial)], tickMs(3), tickMs(4));

    const done = await cli(['reconcile', outDir]);
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stdout, /lost after ack 20/);
    const file = (await readdir(outDir)).find((f) => /^reconcile-\d{8}T\d{6}Z\.json$/.test(f));
    assert.ok(file, 'a reconcile-<timestamp>.json was written');
    const report = JSON.parse(await readFile(join(outDir, file), 'utf8'));
    assert.equal(report.runId, runId);
    assert.equal(report.pointsSent, 200 * ticks);
    assert.equal(report.pointsMissing, 3 * ticks + 2);
    assert.deepEqual(report.missingByStage, { rejected: 0, failedExport: 0, droppedByQueue: 0, unsettled: 0, lostAfterAck: 3 * ticks + 2 });
    assert.equal(report.seriesMissing, 3);
    assert.equal(report.valueMismatches, 0);
    const found = report.missing.series.map((e: { labels: Record<string, string>; ticks: { tick: number; ledgerState: string }[] }) => ({
      route: e.labels.route,
      pod: e.labels.pod,
      run: e.labels.tally_run_id,
      ticks: e.ticks.map((t) => t.tick),
      states: [...new Set(e.ticks.map((t) => t.ledgerState))],
    }));
    const all = [1, 2, 3, 4, 5, 6];
    const expected = [
      { ...whole[0], ticks: all },
      { ...whole[1], ticks: all },
      { ...partial, ticks: [3, 4] },
      { ...whole[2], ticks: all },
    ].map((e) => ({ route: e.route, pod: e.pod, run: runId, ticks: e.ticks, states: ['acknowledged'] }));
    const order = (a: { route: string; pod: string }, b: { route: string; pod: string }): number => (a.route + a.pod < b.route + b.pod ? -1 : 1);
    assert.deepEqual([...found].sort(order), [...expected].sort(order));
    assert.equal(report.missing.truncated, false);
  });

  test('a directory that holds no run is bad input (exit 2), listed with its pointer', async () => {
    const { dir } = await scenarioFile('name: x\n');
    const done = await cli(['reconcile', dir]);
    assert.equal(done.code, 2);
    assert.match(done.stderr, /plan\.json/);
  });
});
