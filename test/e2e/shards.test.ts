/**
 * A sharded run end to end, as Kubernetes would run it but as processes on loopback:
 * three `tally run --shard i/3` processes agree on one start instant at shard 0's barrier,
 * load one target (a raw server in this test that logs every accept), each reconciles its
 * own telemetry with its own embedded receiver, and hand their run directories to shard
 * 0, which merges them (`--collect`). The same shards merged again with `tally merge`
 * give the same figures; `tally report` and `tally compare` read the merged directory;
 * merge refuses mismatched, duplicate, missing and unfinished shards with their codes; a
 * shard ready after its `--start-at` fails.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { validateResults } from '../../reports/results.ts';
import { freeLoopbackPort } from '../peers/process.ts';
import { loadRun } from '../../pipeline/run-files.ts';

const CLI = new URL('../../bin/tally.ts', import.meta.url).pathname;
const RATE = 300;
const DURATION_S = 6;

/** An HTTP target on loopback that logs when it accepted each connection (epoch ms). */
async function acceptLogTarget(): Promise<{ port: number; accepts: number[]; close(): Promise<void> }> {
  const accepts: number[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    accepts.push(performance.timeOrigin + performance.now());
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.once('data', () => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return { port, accepts, close: () => new Promise((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()); }) };
}

function scenario(port: number): string {
  return `
name: e2e-shards
seed: 5
duration: ${DURATION_S}s
load:
  target: http://127.0.0.1:${port}/
  executor: constant-arrival-rate
  rate: ${RATE}
  maxInFlight: 300
  workers: 1
  connection: { reuse: never, close: rst, connectTimeout: 2s }
telemetry:
  exportInterval: 1s
  metrics:
    - { name: e2e.requests, instrument: counter, attributes: { route: 10, code: 3 } }
    - { name: e2e.latency, instrument: histogram, temporality: delta, buckets: [1, 5, 10], attributes: { route: 4 } }
  traces: { ratePerSecond: 30, spansPerTrace: { min: 1, max: 3 } }
reconcile: { settle: 300ms }
thresholds:
  latency: ['p(99)<5s']
  otlp_loss: ['rate==0']
  span_loss: ['rate==0']
`;
}

interface Exit { status: number | null; stdout: string; stderr: string }

function runProcess(args: string[], timeoutMs: number): Promise<Exit> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

function cli(args: string[]): Exit {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const json = async (path: string): Promise<Record<string, any>> => JSON.parse(await readFile(path, 'utf8')) as Record<string, any>;

test('three shards on loopback: one start instant, arrivals interleaved at the target, an exact merge with 0 telemetry loss', { timeout: 240_000 }, async (t) => {
  const target = await acceptLogTarget();
  t.after(() => target.close());
  const dir = await mkdtemp(join(tmpdir(), 'tally-shards-'));
  const path = join(dir, 'scenario.yaml');
  await writeFile(path, scenario(target.port));
  const barrier = `http://127.0.0.1:${await freeLoopbackPort()}`;
  const collect = join(dir, 'collected');
  const outOf = (i: number): string => (i === 0 ? join(collect, 'shard-0') : join(dir, `s${i}`));
  const exits = await Promise.all([0, 1, 2].map((i) => runProcess(['run', path, '--shard', `${i}/3`, '--barrier', barrier, '--barrier-bind', '127.0.0.1', '--out', outOf(i), '--collect', collect], 180_000)));
  for (const [i, e] of exits.entries()) assert.equal(e.status, 0, `shard ${i}: ${e.stderr}${e.stdout.slice(-2000)}`);

  const shards = await Promise.all([0, 1, 2].map((i) => json(join(outOf(i), 'results.json'))));
  const start = shards[0].shard.startEpochMs as number;
  for (const [i, r] of shards.entries()) {
    assert.equal(r.shard.index, i);
    assert.equal(r.shard.startEpochMs, start, 'one start instant');
    assert.equal(r.run.id, shards[0].run.id, 'one run id');
    assert.equal(r.thresholds, undefined, 'a shard judges no thresholds');
    assert.equal(r.summary.metrics.lossRatio, 0, `shard ${i} reconciled its own series`);
  }

  // Shard 0 merged what the others handed it; tally merge of the same shards agrees.
  const collected = await json(join(collect, 'merged', 'results.json'));
  const merged = cli(['merge', outOf(0), outOf(1), outOf(2), '--out', join(dir, 'merged')]);
  assert.equal(merged.status, 0, merged.stderr);
  const m = await json(join(dir, 'merged', 'results.json'));
  validateResults(m);
  for (const key of ['requests', 'iterationsStarted', 'achievedRatePerSecond', 'latencyUs']) assert.deepEqual(collected.summary.load[key], m.summary.load[key], key);
  assert.deepEqual(collected.summary.metrics.pointsSent, m.summary.metrics.pointsSent);

  // Exact: counts are the shards' sums; the target saw every planned arrival once.
  const load = m.summary.load;
  const sum = (f: (r: Record<string, any>) => number): number => shards.reduce((a, r) => a + f(r), 0);
  assert.equal(load.requests, sum((r) => r.summary.load.requests));
  assert.equal(load.iterationsPlanned, RATE * DURATION_S);
  assert.equal(sum((r) => r.summary.load.iterationsPlanned), load.iterationsPlanned);
  assert.equal(target.accepts.length, load.newConnections);
  assert.equal(m.summary.metrics.pointsSent, sum((r) => r.summary.metrics.pointsSent));
  assert.equal(m.summary.traces.spansSent, sum((r) => r.summary.traces.spansSent));
  assert.equal(m.run.workers, 3);
  assert.equal(m.merge.count, 3);
  assert.deepEqual(m.merge.incompleteShards, []);

  // The target rate per second (report.html's line) is each shard's share on its lines, so the merged lines hold the whole schedule's.
  const mergedLines = (await readFile(join(dir, 'merged', 'intervals.ndjson'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
  const planned = mergedLines.filter((l) => l.load?.plannedArrivals !== undefined).map((l) => l.load.plannedArrivals as number);
  assert.equal(planned.reduce((a, b) => a + b, 0), RATE * DURATION_S, 'planned arrivals over the merged lines');
  assert.deepEqual(planned.slice(0, DURATION_S), Array(DURATION_S).fill(RATE), 'planned arrivals per second');

  // The merged achieved rate is the target rate within 5 %.
  assert.equal(load.targetRatePerSecond, RATE);
  assert.ok(Math.abs(load.achievedRatePerSecond - RATE) / RATE <= 0.05, `achieved ${load.achievedRatePerSecond}/s`);

  // Interleaved at the target: consecutive accepts are about 1/rate apart, not the shards' arrivals in threes.
  const inRun = target.accepts.filter((a) => a >= start && a < start + DURATION_S * 1000 + 500).sort((a, b) => a - b);
  const gapMs = 1000 / RATE;
  let triples = 0;
  for (let i = 0; i + 2 < inRun.length; i++) if (inRun[i + 2] - inRun[i] < gapMs) triples++;
  const tripleRatio = triples / Math.max(1, inRun.length - 2);
  // Shards releasing the same instants (not interleaved) would put 1 in 3 of these windows at ~0 and 2 in 3 close pairs.
  let pairs = 0;
  for (let i = 0; i + 1 < inRun.length; i++) if (inRun[i + 1] - inRun[i] < gapMs / 4) pairs++;
  const pairRatio = pairs / Math.max(1, inRun.length - 1);
  t.diagnostic(`accepts ${inRun.length}; three within one planned gap (${gapMs.toFixed(2)} ms): ${(tripleRatio * 100).toFixed(1)} %; two within a quarter gap: ${(pairRatio * 100).toFixed(1)} %`);
  assert.ok(tripleRatio < 0.25, `3-fold bursts: ${(tripleRatio * 100).toFixed(1)} % of accepts`);
  assert.ok(pairRatio < 0.5, `accepts bunched: ${(pairRatio * 100).toFixed(1)} % within a quarter of the planned gap`);
  const perSecond = Array.from({ length: DURATION_S }, (_, s) => inRun.filter((a) => a >= start + s * 1000 && a < start + (s + 1) * 1000).length);
  t.diagnostic(`accepts per second: ${perSecond.join(', ')}`);

  // Telemetry reconciles with 0 loss across the shards, and the thresholds are judged on the whole.
  assert.equal(m.summary.metrics.reconciled, true);
  assert.equal(m.summary.metrics.pointsSent, m.summary.metrics.pointsPlanned);
  assert.equal(m.summary.metrics.pointsMissing, 0);
  assert.equal(m.summary.metrics.lossRatio, 0);
  assert.equal(m.summary.traces.reconciled, true);
  assert.equal(m.summary.traces.tracesSent, m.summary.traces.tracesPlanned);
  assert.equal(m.summary.traces.spansMissing, 0);
  assert.equal(m.thresholds.ok, true);
  t.diagnostic(`merged: target ${load.targetRatePerSecond}/s, achieved ${load.achievedRatePerSecond}/s, requests ${load.requests}, latency p50/p99 ${load.latencyUs.p50}/${load.latencyUs.p99} µs, points ${m.summary.metrics.pointsSent} sent / ${m.summary.metrics.pointsMissing} missing, spans ${m.summary.traces.spansSent} sent / ${m.summary.traces.spansMissing} missing`);

  // The merged directory is a normal run directory: report, compare, and the whole run re-derived for tally reconcile.
  assert.equal(cli(['report', join(dir, 'merged')]).status, 0);
  const saved = await loadRun(join(dir, 'merged'));
  assert.equal(saved.plan.runId, m.run.id);
  assert.equal(saved.plan.traces!.model.shardCount, 3, 'the trace ids the shards sent');
  assert.equal(saved.ledger!.totals.pointsSent, m.summary.metrics.pointsSent, 'the shards\' ledgers, united');
  assert.equal(cli(['compare', join(dir, 'merged'), join(dir, 'merged')]).status, 0);

  // Refusals, each with its code (exit 2).
  const refused = (args: string[], code: string): void => {
    const r = cli(['merge', ...args, '--out', join(dir, `refused-${code}`)]);
    assert.equal(r.status, 2, r.stderr);
    assert.ok(r.stderr.includes(`[${code}]`), r.stderr);
  };
  refused([outOf(0), outOf(0), outOf(1)], 'TALLY_MERGE_DUPLICATE_SHARD');
  refused([outOf(0), outOf(1)], 'TALLY_MERGE_MISSING_SHARD');
  refused([outOf(0), outOf(1), dir], 'TALLY_MERGE_NOT_A_SHARD');
  const other = join(dir, 'other-plan');
  await cp(outOf(2), other, { recursive: true });
  for (const file of ['shard.json', 'plan.json']) {
    const doc = await json(join(other, file));
    if (file === 'shard.json') doc.identity.startEpochMs += 1000;
    else doc.startEpochMs += 1000;
    await writeFile(join(other, file), JSON.stringify(doc));
  }
  refused([outOf(0), outOf(1), other], 'TALLY_MERGE_PLAN_MISMATCH');
  const stopped = join(dir, 'stopped');
  await cp(outOf(2), stopped, { recursive: true });
  const record = await json(join(stopped, 'shard.json'));
  record.input.complete = false;
  record.input.incompleteReason = 'SIGTERM';
  await writeFile(join(stopped, 'shard.json'), JSON.stringify(record));
  refused([outOf(0), outOf(1), stopped], 'TALLY_MERGE_INCOMPLETE_SHARD');
  const partial = cli(['merge', outOf(0), outOf(1), stopped, '--allow-incomplete', '--out', join(dir, 'partial')]);
  assert.equal(partial.status, 0, partial.stderr);
  const p = await json(join(dir, 'partial', 'results.json'));
  assert.equal(p.complete, false);
  assert.deepEqual(p.merge.incompleteShards, [2]);
});

test('a shard ready after its --start-at fails with TALLY_SHARD_START_MISSED, before sending anything', { timeout: 60_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tally-shard-late-'));
  const path = join(dir, 'scenario.yaml');
  await writeFile(path, scenario(9));
  const r = cli(['run', path, '--shard', '1/2', '--start-at', String(Date.now() - 1000), '--out', join(dir, 'out')]);
  assert.equal(r.status, 1, r.stderr);
  assert.ok(r.stderr.includes('[TALLY_SHARD_START_MISSED]'), r.stderr);
  const usage = cli(['run', path, '--shard', '1/2', '--out', join(dir, 'out2')]);
  assert.equal(usage.status, 2, 'a shard needs --start-at or --barrier');
});
