/**
 * Pipeline stages called from code, as `tally sweep` and tests do: the stop switch, the
 * ordered interval log with its checkpoints, and the load's stand-in.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { CHECKPOINT_EVERY_INTERVALS, IntervalLog } from '../../pipeline/interval-log.ts';
import { startLoadStandIn } from '../../pipeline/stand-ins.ts';
import { StopControl, waitUnlessStopped } from '../../pipeline/stop.ts';
import type { IntervalLine } from '../../reports/aggregate.ts';
import { parseScenario } from '../../scenarios/load.ts';
import type { DatapathWatch } from '../../host/datapath-watch.ts';

test('the stop switch: the first reason wins, listeners hear it once, waits end at once', async () => {
  const stop = new StopControl();
  const heard: string[] = [];
  stop.onStop((r) => heard.push(r));
  const started = performance.now();
  const waiting = waitUnlessStopped(60_000, stop);
  setTimeout(() => stop.stop('SIGTERM'), 20);
  assert.equal(await waiting, false);
  assert.ok(performance.now() - started < 1000, 'a 60 s wait ended within a second of the stop');
  stop.stop('SIGINT');
  assert.equal(stop.reason, 'SIGTERM');
  assert.deepEqual(heard, ['SIGTERM']);
  assert.equal(stop.signal.aborted, true);
  const late: string[] = [];
  stop.onStop((r) => late.push(r));
  assert.deepEqual(late, ['SIGTERM'], 'a listener added after the stop hears it at once');
  assert.equal(await waitUnlessStopped(10, new StopControl()), true);
});

function line(interval: number): IntervalLine {
  return { interval, endMs: (interval + 1) * 1000, shards: 1, eventLoopDelayP99MaxUs: 0, workerCpuMaxRatio: 0 };
}

test('the interval log writes lines in order, each with its datapath delta, and checkpoints every few lines', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tally-log-'));
  let sample = 0;
  // Samples take decreasing time: without the chain, later lines would overtake earlier ones.
  const datapath = { interval: async () => { const n = sample++; await delay(20 - n); return { sample: n }; } } as unknown as DatapathWatch;
  const shown: number[] = [];
  let checkpoints = 0;
  const errors: unknown[] = [];
  const log = new IntervalLog(join(dir, 'intervals.ndjson'), {
    datapath,
    progress: (l) => shown.push(l.interval),
    checkpoint: async () => {
      checkpoints++;
      if (checkpoints === 2) throw Object.assign(new Error('disk full'), { code: 'ENOSPC' });
    },
    onError: (e) => errors.push(e),
  });
  log.write([line(0), line(1), line(2)]);
  log.write(Array.from({ length: 2 * CHECKPOINT_EVERY_INTERVALS - 3 }, (_, i) => line(i + 3)));
  await log.drained();
  await log.checkpointsDone();
  await log.close();
  const written = (await readFile(join(dir, 'intervals.ndjson'), 'utf8')).trim().split('\n').map((s) => JSON.parse(s) as IntervalLine);
  assert.deepEqual(written.map((l) => l.interval), Array.from({ length: 2 * CHECKPOINT_EVERY_INTERVALS }, (_, i) => i));
  assert.deepEqual(written.map((l) => (l.datapath as { sample: number }).sample), written.map((l) => l.interval));
  assert.deepEqual(shown, written.map((l) => l.interval));
  assert.equal(checkpoints, 2);
  assert.equal((errors[0] as { code: string }).code, 'ENOSPC', 'a failed checkpoint is reported, not thrown into the run');
});

test('the load stand-in: the embedded target serves (on its own thread), an external target is only addressed', async () => {
  const embedded = parseScenario('name: s\nduration: 2s\nload: { executor: constant-vus, vus: 1 }\n').scenario;
  const standIn = await startLoadStandIn(embedded);
  try {
    assert.ok(standIn.target !== undefined && standIn.served !== undefined);
    const reply = await new Promise<string>((resolve, reject) => {
      let text = '';
      const s = connect({ host: standIn.target!.host, port: standIn.target!.port }, () => s.end('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
      s.on('data', (b: Buffer) => (text += b.toString('latin1')));
      s.on('end', () => resolve(text));
      s.on('error', reject);
    });
    assert.match(reply, /^HTTP\/1\.1 200 /);
    // The target runs on its own thread: its counts are brought up to date on request.
    await standIn.refresh();
    assert.deepEqual(standIn.served(), { embedded: true, requestsServed: 1 });
  } finally {
    await standIn.close();
  }
  const external = parseScenario('name: s\nduration: 2s\nload: { executor: constant-vus, vus: 1, target: "http://[::1]:8080/x?y=1" }\n').scenario;
  const addressed = await startLoadStandIn(external);
  assert.deepEqual(addressed.target, { host: '::1', port: 8080, path: '/x?y=1' });
  assert.equal(addressed.served, undefined);
});

test('the lead covers the run\'s set-up by default; a lead set-up overran is said in a warning beside the late starts', async () => {
  const { runScenario, DEFAULT_LEAD_MS } = await import('../../pipeline/run.ts');
  const { writeFile } = await import('node:fs/promises');
  const dir = await mkdtemp(join(tmpdir(), 'tally-lead-'));
  const path = join(dir, 's.yaml');
  await writeFile(path, 'name: lead\nseed: 1\nduration: 1s\nload: { executor: constant-arrival-rate, rate: 50, workers: 1 }\n');
  const quiet = { write: () => true, isTTY: false };
  const overrun = await runScenario({ scenarioPath: path, outDir: join(dir, 'short'), stdout: quiet, handleSignals: false, leadMs: 1 });
  const warning = overrun.results.warnings?.find((w: { pointer: string; message: string }) => w.pointer === '/load' && /set-up ended \d+ ms after the planned start/.test(w.message));
  assert.ok(warning, JSON.stringify(overrun.results.warnings));
  assert.ok(DEFAULT_LEAD_MS >= 1000);
  const usual = await runScenario({ scenarioPath: path, outDir: join(dir, 'usual'), stdout: quiet, handleSignals: false });
  assert.ok(!usual.results.warnings?.some((w: { message: string }) => /set-up ended/.test(w.message)), JSON.stringify(usual.results.warnings));
});
