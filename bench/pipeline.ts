/**
 * `npm run bench -- pipeline [--series 1000000] [--ticks 20] [--transport remote-write|otlp|both]`:
 * `tally run` doing the whole job at scale against a real Prometheus 3 (started here on
 * 127.0.0.1): generate N series, send them every tick (remote write; OTLP into Prometheus
 * 3's OTLP receiver), keep the ledger, read every point back and reconcile. Then, in the same
 * run, the backend's own ingest ceiling: the next ticks of the very series tally wrote,
 * pre-encoded as tally encodes them (same requests, same requests in flight) and posted as
 * fast as Prometheus acknowledges; tally's send rate is taken over the same kind of ticks
 * (after its first, which creates the series), so both are appends to a million series.
 *
 * tally runs as a child process (`node bin/tally.ts run`), so its peak RSS is its own
 * (`bench/rss-at-exit.ts`): threads, ledger, read-back and all. Its export interval is shorter
 * than a tick takes to send, so it sends back to back, as fast as the backend acknowledges.
 *
 * Prints, per transport, `series`, `ticks`, `tallyPeakRssBytes`, `reconcileSeconds` (the
 * read-back and reconciliation, results.json readback.seconds), `sendPointsPerSecond`
 * (points acknowledged per second after the first tick), `backendCeilingPointsPerSecond`,
 * `ratioToCeiling` and `lossRatio`; the first transport's figures are also at the top level.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { ConfigError, CollectorError } from '../core/errors.ts';
import { cumulativeSampleValue } from '../core/sample-value.ts';
import { parseScenario } from '../scenarios/load.ts';
import { planRun, remoteWriteShardTasks, shardTasks } from '../scenarios/plan.ts';
import { runMetricNaming } from '../scenarios/prometheus-naming.ts';
import { RemoteWriteTemplate } from '../wire/remote-write-template.ts';
import { batchSeries } from '../workers/remote-write-shard.ts';
import { RemoteWriteSender } from '../workers/remote-write-sender.ts';
import { FastMetricBatch } from '../workers/otlp-fast.ts';
import { packRequests } from '../workers/otlp-metrics.ts';
import { startPrometheus3, type Prometheus3Server } from '../test/peers/prometheus3.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));

/** Flags of the bench. */
export interface PipelineBenchOptions {
  series: number;
  ticks: number;
  intervalMs: number;
  batch: number;
  transports: ('remote-write' | 'otlp')[];
  /** Ticks of the ceiling measurement after the first (which creates the series and is not timed). */
  ceilingTicks: number;
}

const USAGE = 'usage: npm run bench -- pipeline [--series N] [--ticks N] [--interval-ms N] [--batch N] [--transport remote-write|otlp|both] [--ceiling-ticks N]';

/** @throws ConfigError `TALLY_USAGE`. */
export function parsePipelineFlags(argv: string[]): PipelineBenchOptions {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: { series: { type: 'string' }, ticks: { type: 'string' }, 'interval-ms': { type: 'string' }, batch: { type: 'string' }, transport: { type: 'string' }, 'ceiling-ticks': { type: 'string' } } }));
  } catch (cause) {
    throw new ConfigError(`${(cause as Error).message}\n${USAGE}`, [], { code: 'TALLY_USAGE', cause });
  }
  const int = (name: string, text: string | undefined, fallback: number, min: number, max: number): number => {
    const n = text === undefined ? fallback : Number(text);
    if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`--${name} must be an integer in ${min}…${max}\n${USAGE}`, [{ pointer: `/${name}`, message: `must be an integer in ${min}…${max}` }], { code: 'TALLY_USAGE' });
    return n;
  };
  const transport = values.transport ?? 'both';
  if (!['remote-write', 'otlp', 'both'].includes(transport)) throw new ConfigError(`--transport must be remote-write, otlp or both\n${USAGE}`, [{ pointer: '/transport', message: 'must be remote-write, otlp or both' }], { code: 'TALLY_USAGE' });
  return {
    series: int('series', values.series, 1_000_000, 1000, 10_000_000),
    ticks: int('ticks', values.ticks, 20, 2, 600),
    intervalMs: int('interval-ms', values['interval-ms'], 500, 100, 60_000),
    batch: int('batch', values.batch, 2000, 100, 100_000),
    transports: transport === 'both' ? ['remote-write', 'otlp'] : [transport as 'remote-write' | 'otlp'],
    ceilingTicks: int('ceiling-ticks', values['ceiling-ticks'], 10, 1, 60),
  };
}

/** OTLP requests in flight per shard (the exporter's consumers); the ceiling keeps as many in flight. */
const OTLP_CONSUMERS = 4;

/** Attribute counts with `series` series (three labels when it divides, else one). */
function attributesFor(series: number): Record<string, number> {
  return series % 1000 === 0 ? { route: 100, status: 10, pod: series / 1000 } : { pod: series };
}

function scenarioText(o: PipelineBenchOptions, transport: 'remote-write' | 'otlp', prom: Prometheus3Server, name: string): string {
  const attributes = Object.entries(attributesFor(o.series)).map(([k, v]) => `${k}: ${v}`).join(', ');
  const telemetry = transport === 'remote-write'
    ? `  protocol: prometheus/remote-write\n  endpoint: ${prom.remoteWriteUrl}`
    : `  protocol: http/protobuf\n  endpoint: ${prom.otlpUrl}\n  retry: { enabled: true, maxElapsedTime: 120s }\n  queue: { queueSize: 64, numConsumers: ${OTLP_CONSUMERS}, whenFull: block }\n  timeout: 60s`;
  return `
name: ${name}
seed: 7
duration: ${o.ticks * o.intervalMs}ms
telemetry:
${telemetry}
  exportInterval: ${o.intervalMs}ms
  maxBatchDataPoints: ${o.batch}
  metrics:
    - { name: tally.requests, instrument: counter, attributes: { ${attributes} } }
backends:
  prometheus: { url: ${prom.url}, timeout: 5m, pollInterval: 5s, visibilitySeries: 2000 }
reconcile: { settle: 10s, maxWait: 2m }
`;
}

/** Post bodies with `concurrency` in flight; a tick is a barrier (a series' samples stay in order). Returns the acknowledged points per second over the timed ticks. */
async function postTicks(ticks: Buffer[][], points: number[][], concurrency: number, send: (body: Buffer) => Promise<boolean>, timedFrom: number): Promise<{ pointsPerSecond: number; failed: number }> {
  let timedPoints = 0;
  let startedMs = 0;
  let failed = 0;
  for (let k = 0; k < ticks.length; k++) {
    if (k === timedFrom) startedMs = performance.now();
    let next = 0;
    const bodies = ticks[k];
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (next < bodies.length) {
        const i = next++;
        if (await send(bodies[i])) {
          if (k >= timedFrom) timedPoints += points[k][i];
        } else failed++;
      }
    }));
  }
  return { pointsPerSecond: timedPoints / ((performance.now() - startedMs) / 1000), failed };
}

/** The run tally made, as the ceiling continues it. */
interface RunIdentity {
  text: string;
  startEpochMs: number;
  workers: number;
  /** tally's last tick; the ceiling sends the ticks after it. */
  lastTick: number;
}

/** The plan of the run tally made (the planner is pure: the same scenario, start and workers give the same run id and series). */
function replan(o: PipelineBenchOptions, run: RunIdentity) {
  const { scenario } = parseScenario(run.text.replace(/duration: \d+ms/, `duration: ${(run.lastTick + o.ceilingTicks) * o.intervalMs}ms`));
  return { scenario, plan: planRun(scenario, run.startEpochMs, run.workers) };
}

/**
 * The backend's ingest ceiling for remote write, on the series tally just wrote: its next
 * ticks, every request pre-encoded (templates, snappy) as tally's shards encode them, then
 * posted with as many in flight as tally's shards keep (4 connections each).
 */
async function remoteWriteCeiling(o: PipelineBenchOptions, prom: Prometheus3Server, run: RunIdentity): Promise<{ pointsPerSecond: number; failed: number }> {
  const { scenario, plan } = replan(o, run);
  const tasks = remoteWriteShardTasks(scenario, plan, runMetricNaming(plan), prom.remoteWriteUrl).filter((t) => t !== undefined);
  const ticks: Buffer[][] = [];
  const points: number[][] = [];
  // Templates once (tally's shards hold theirs too); each tick's bodies before anything is timed.
  const batches: { template: RemoteWriteTemplate; t: (typeof tasks)[number]; m: (typeof tasks)[number]['metrics'][number]; s: number; end: number }[] = [];
  for (const t of tasks) {
    for (const m of t.metrics) {
      for (let s = m.seriesStart; s < m.seriesEnd; s += t.maxBatchDataPoints) {
        const end = Math.min(m.seriesEnd, s + t.maxBatchDataPoints);
        batches.push({ template: new RemoteWriteTemplate(batchSeries(m, s, end), plan.startEpochMs + o.intervalMs, { keepSeries: false }), t, m, s, end });
      }
    }
  }
  for (let k = run.lastTick + 1; k <= run.lastTick + o.ceilingTicks; k++) {
    const ts = plan.startEpochMs + k * o.intervalMs;
    ticks.push(batches.map(({ template, t, m, s }) => template.body((i) => cumulativeSampleValue(t.seed, m.metricIndex, m.instrument, s + i, k), ts)));
    points.push(batches.map(({ s, end }) => end - s));
  }
  const concurrency = run.workers * 4;
  const sender = new RemoteWriteSender({ url: prom.remoteWriteUrl, connections: concurrency, timeoutMs: 300_000 });
  try {
    return await postTicks(ticks, points, concurrency, async (body) => (await sender.sendEncoded(body)).ok, 0);
  } finally {
    await sender.close();
  }
}

/** The backend's ingest ceiling for OTLP, on the series tally just wrote: its next ticks as its shards pack and encode them (fast path), pre-encoded, posted with tally's consumers in flight. */
async function otlpCeiling(o: PipelineBenchOptions, prom: Prometheus3Server, run: RunIdentity, consumers: number): Promise<{ pointsPerSecond: number; failed: number }> {
  const { scenario, plan } = replan(o, run);
  const tasks = shardTasks(scenario, plan, { otlpEndpoint: prom.otlpUrl }, 1000);
  const ticks: Buffer[][] = [];
  const points: number[][] = [];
  for (let k = run.lastTick + 1; k <= run.lastTick + o.ceilingTicks; k++) {
    const bodies: Buffer[] = [];
    const counts: number[] = [];
    for (const task of tasks) {
      const t = task.telemetry!;
      const identity = { runId: plan.runId, shard: task.shard, startUnixNano: BigInt(plan.startUnixNano), intervalNs: BigInt(o.intervalMs * 1e6), resource: t.resource };
      const metric = t.metrics[0];
      const batchMetric = { name: metric.name, unit: metric.unit, layout: { keys: metric.keys, counts: metric.counts, seriesCount: metric.model.seriesCount }, model: metric.model };
      for (const slices of packRequests(t.metrics, t.maxBatchDataPoints)) {
        bodies.push(Buffer.concat(slices.map((s) => Buffer.from(new FastMetricBatch(identity, batchMetric, s.seriesStart, s.seriesEnd).encode(k)))));
        counts.push(slices.reduce((a, s) => a + s.seriesEnd - s.seriesStart, 0));
      }
    }
    ticks.push(bodies);
    points.push(counts);
  }
  const url = `${prom.otlpUrl}/v1/metrics`;
  return postTicks(ticks, points, run.workers * consumers, async (body) => {
    const reply = await request(url, { method: 'POST', body, headers: { 'content-type': 'application/x-protobuf' }, headersTimeout: 300_000, bodyTimeout: 300_000 });
    await reply.body.dump();
    return reply.statusCode < 300;
  }, 0);
}

/**
 * tally's send rate in its steady state, from intervals.ndjson (acknowledged points per
 * second): from the second in which its first tick's points were all acknowledged (the tick
 * that creates the series, which the ceiling never pays) to the last second with any.
 */
export function steadySendRate(lines: readonly { endMs: number; metrics?: { pointsAcknowledged: number } }[], series: number): { pointsPerSecond: number; seconds: number } {
  let cumulative = 0;
  let fromMs: number | undefined;
  let fromPoints = 0;
  let lastMs = 0;
  for (const l of lines) {
    const acked = l.metrics?.pointsAcknowledged ?? 0;
    cumulative += acked;
    if (acked > 0) lastMs = l.endMs;
    if (fromMs === undefined && cumulative >= series) {
      fromMs = l.endMs;
      fromPoints = cumulative;
    }
  }
  if (fromMs === undefined || lastMs <= fromMs) return { pointsPerSecond: 0, seconds: 0 };
  return { pointsPerSecond: (cumulative - fromPoints) / ((lastMs - fromMs) / 1000), seconds: (lastMs - fromMs) / 1000 };
}

/** The longest a bench run may take before it is stopped (ms): 20 ticks, read-back and reconciliation at a million series take about 2 minutes here. */
const RUN_TIMEOUT_MS = 20 * 60_000;

/** Run `tally run` as a child (stopped with SIGTERM after {@link RUN_TIMEOUT_MS}); its results and peak RSS. */
async function runTally(dir: string, text: string): Promise<{ results: any; lines: any[]; maxRssBytes: number; exitCode: number | null; wallSeconds: number }> {
  const scenarioPath = join(dir, 'scenario.yaml');
  const outDir = join(dir, 'run');
  const rssFile = join(dir, 'rss.json');
  await writeFile(scenarioPath, text);
  const started = performance.now();
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', join(REPO, 'bench', 'rss-at-exit.ts'), join(REPO, 'bin', 'tally.ts'), 'run', scenarioPath, '--out', outDir], {
      env: { ...process.env, TALLY_BENCH_RSS_FILE: rssFile },
      stdio: ['ignore', 'ignore', 'inherit'],
      // Bounded: a run that hangs is stopped as a user would (SIGTERM: tally keeps what it measured, complete: false).
      timeout: RUN_TIMEOUT_MS,
      killSignal: 'SIGTERM',
    });
    child.on('error', reject);
    child.on('exit', (code) => resolve(code));
  });
  const wallSeconds = (performance.now() - started) / 1000;
  const results = JSON.parse(await readFile(join(outDir, 'results.json'), 'utf8'));
  const lines = (await readFile(join(outDir, 'intervals.ndjson'), 'utf8')).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
  const { maxRssBytes } = JSON.parse(await readFile(rssFile, 'utf8')) as { maxRssBytes: number };
  return { results, lines, maxRssBytes, exitCode, wallSeconds };
}

function progress(text: string): void {
  process.stderr.write(`[bench pipeline] ${text}\n`);
}

const round = (n: number, digits = 0): number => Number(n.toFixed(digits));

/** One transport: tally, then the backend's ceiling on the same series, on the same Prometheus. */
async function measure(o: PipelineBenchOptions, transport: 'remote-write' | 'otlp', prom: Prometheus3Server, dir: string): Promise<Record<string, unknown>> {
  progress(`${transport}: running tally (${o.series} series × ${o.ticks} ticks)`);
  const text = scenarioText(o, transport, prom, `pipeline-${transport === 'otlp' ? 'otlp' : 'rw'}`);
  const run = await runTally(dir, text);
  const r = run.results;
  const m = r.summary.metrics;
  const sendSeconds = r.run.elapsedMs / 1000 - o.intervalMs / 1000;
  const steady = steadySendRate(run.lines, o.series);
  progress(`${transport}: sent ${round(steady.pointsPerSecond)} points/s after the first tick (${round(m.pointsAcknowledged / sendSeconds)} over the whole send), read back in ${r.readback?.seconds} s, peak RSS ${round(run.maxRssBytes / 2 ** 20)} MiB; measuring the backend's ceiling with pre-encoded bodies on the same series`);
  const identity: RunIdentity = { text, startEpochMs: Date.parse(r.run.startedAt), workers: r.run.workers, lastTick: o.ticks };
  const ceiling = transport === 'remote-write' ? await remoteWriteCeiling(o, prom, identity) : await otlpCeiling(o, prom, identity, OTLP_CONSUMERS);
  progress(`${transport}: ceiling ${round(ceiling.pointsPerSecond)} points/s`);
  return {
    transport,
    series: o.series,
    ticks: o.ticks,
    tallyPeakRssBytes: run.maxRssBytes,
    reconcileSeconds: r.readback?.seconds ?? null,
    sendPointsPerSecond: round(steady.pointsPerSecond),
    backendCeilingPointsPerSecond: round(ceiling.pointsPerSecond),
    ratioToCeiling: round(steady.pointsPerSecond / ceiling.pointsPerSecond, 3),
    lossRatio: m.lossRatio ?? null,
    pointsSent: m.pointsSent,
    pointsAcknowledged: m.pointsAcknowledged,
    pointsReceived: m.pointsReceived ?? null,
    sendPointsPerSecondWholeRun: round(m.pointsAcknowledged / sendSeconds),
    sendSeconds: round(sendSeconds, 1),
    steadySendSeconds: round(steady.seconds, 1),
    ceilingTicks: o.ceilingTicks,
    ceilingFailedRequests: ceiling.failed,
    readbackQueries: r.readback?.report?.queries ?? null,
    generatorSaturated: r.generator.saturated,
    generatorReasons: r.generator.reasons,
    tallyExitCode: run.exitCode,
    // Figures of a run that did not finish (stopped, failed) are not the pipeline's: say so beside them.
    tallyComplete: r.complete === true && run.exitCode === 0,
    tallyWallSeconds: round(run.wallSeconds, 1),
    runDir: join(dir, 'run'),
  };
}

/**
 * Run the bench.
 * @throws ConfigError `TALLY_USAGE` for bad flags; CollectorError when Prometheus 3 is not built or tally fails.
 */
export async function pipelineBench(argv: string[]): Promise<Record<string, unknown>> {
  const o = parsePipelineFlags(argv);
  const loadBefore = loadavg();
  const results: Record<string, unknown>[] = [];
  for (const transport of o.transports) {
    // A fresh Prometheus per transport: the second must not meet the first's million series.
    const prom = await startPrometheus3({ otlp: { promote_resource_attributes: ['tally.run.id'] } });
    const dir = await mkdtemp(join(tmpdir(), `tally-bench-pipeline-${transport}-`));
    try {
      results.push(await measure(o, transport, prom, dir));
    } catch (error) {
      throw error instanceof CollectorError ? error : new CollectorError(`bench pipeline (${transport}): ${(error as Error).message}`, { cause: error });
    } finally {
      await prom.stop();
    }
  }
  const [first] = results;
  const { transport: _, ...headline } = first;
  return {
    ...headline,
    transports: Object.fromEntries(results.map((r) => [r.transport as string, r])),
    goals: { tallyPeakRssBytesMax: 2 ** 30, reconcileSecondsMax: 60, ratioToCeilingMin: 0.9 },
    machine: { cpus: availableParallelism(), loadAverageBefore: loadBefore.map((l) => round(l, 2)), loadAverageAfter: loadavg().map((l) => round(l, 2)) },
    prometheus: '3.16.0 (test/peers)',
    note: 'the machine is shared: figures move with the load of other work on it (loadAverage); run directories are kept under the OS temporary directory',
  };
}
