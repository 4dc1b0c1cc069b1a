/**
 * Benchmark: Prometheus read-back and reconciliation at load scale. Starts Debian's
 * Prometheus on loopback (test/peers/prometheus.ts), backfills N series × T
 * ticks by remote write (ticks stamped in the recent past, in timestamp order), reads
 * them all back with `readBack`, and returns the figures.
 *
 * Peer: a naive read-back that sends one range-vector query per series, measured on a
 * subset and extrapolated to N series (labelled as extrapolated in the output).
 *
 *   node --expose-gc bench/reconcile.ts [--series 100000] [--ticks 60] [--interval-ms 10000]
 *                           [--max-samples-per-query 200000] [--concurrency 2] [--naive-series 200]
 *
 * Prints one JSON object on stdout; progress goes to stderr.
 */
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../core/errors.ts';
import { PrometheusApi } from '../readback/prometheus/api.ts';
import { startPrometheus } from '../test/peers/prometheus.ts';
import { chunkQuery, readBack } from '../readback/prometheus/read-samples.ts';
import { promqlString } from '../readback/prometheus/space.ts';
import { RemoteWriteSender } from '../workers/remote-write-sender.ts';
import { syntheticSpace, writeSpace } from './prometheus.ts';

interface BenchArgs {
  series: number;
  ticks: number;
  intervalMs: number;
  maxSamplesPerQuery: number;
  concurrency: number;
  naiveSeries: number;
}

const DEFAULTS: BenchArgs = { series: 100_000, ticks: 60, intervalMs: 10_000, maxSamplesPerQuery: 200_000, concurrency: 2, naiveSeries: 200 };
const FLAGS: Record<string, keyof BenchArgs> = {
  '--series': 'series', '--ticks': 'ticks', '--interval-ms': 'intervalMs',
  '--max-samples-per-query': 'maxSamplesPerQuery', '--concurrency': 'concurrency', '--naive-series': 'naiveSeries',
};

/** @throws ConfigError `TALLY_USAGE` for an unknown flag or a value that is not a positive integer. */
function parseArgs(args: string[]): BenchArgs {
  const out = { ...DEFAULTS };
  for (let i = 0; i < args.length; i += 2) {
    const key = FLAGS[args[i]];
    const value = Number(args[i + 1]);
    if (key === undefined || !Number.isInteger(value) || value < 1) {
      throw new ConfigError(`bench reconcile: bad argument ${args[i]} ${args[i + 1] ?? ''}`, [{ pointer: `/${i}`, message: `one of ${Object.keys(FLAGS).join(', ')} with a positive integer is expected` }], { code: 'TALLY_USAGE' });
    }
    out[key] = value;
  }
  // The head block appends only samples within ~1 h of its newest; keep the run inside it.
  if (out.ticks * out.intervalMs > 45 * 60_000) throw new ConfigError('bench reconcile: ticks × interval must stay within 45 minutes', [{ pointer: '/ticks', message: 'fewer ticks or a shorter interval is expected' }], { code: 'TALLY_USAGE' });
  return out;
}

function attributesFor(series: number): Record<string, number> {
  return series % 1000 === 0 ? { route: 100, status: 10, pod: series / 1000 } : { pod: series };
}

function progress(text: string): void {
  process.stderr.write(`[bench reconcile] ${text}\n`);
}

/**
 * Run the benchmark.
 * @param args command-line flags (see the module comment).
 * @returns `{ series, ticks, points, seconds, peakRssBytes, queries, writeSeconds, lossPoints, … }`:
 * `seconds` is the read-back and reconciliation wall time; `peakRssBytes` the largest RSS
 * sampled (every 20 ms) during it; `processMaxRssBytes` the process's lifetime maximum
 * (`resourceUsage().maxRSS`, which includes the write phase).
 * @throws ConfigError `TALLY_USAGE` for bad flags; CollectorError when Prometheus is missing or refuses the backfill.
 */
export async function reconcileBench(args: string[]): Promise<object> {
  const o = parseArgs(args);
  const prometheus = await startPrometheus();
  const sender = new RemoteWriteSender({ url: prometheus.remoteWriteUrl, connections: o.concurrency });
  const api = new PrometheusApi({ url: prometheus.url, timeoutMs: 300_000 });
  try {
    const startMs = Math.floor(Date.now() / 1000) * 1000 - (o.ticks + 1) * o.intervalMs;
    const { space } = syntheticSpace({
      metricName: 'tally_bench_requests_total', attributes: attributesFor(o.series), commonLabels: { job: 'tally', run: 'bench' },
      ticks: o.ticks, startMs, intervalMs: o.intervalMs, seed: 42, maxSamplesPerQuery: o.maxSamplesPerQuery,
    });
    progress(`Prometheus ${prometheus.version}; writing ${o.series} series × ${o.ticks} ticks`);
    const writeStart = performance.now();
    const written = await writeSpace(sender, space, { seriesPerRequest: 5000, ticksPerRequest: 6, concurrency: o.concurrency });
    const writeSeconds = (performance.now() - writeStart) / 1000;
    progress(`wrote ${written.samples} samples in ${written.requests} requests, ${writeSeconds.toFixed(1)} s; reading back`);

    // With --expose-gc, drop the write phase's garbage so the RSS figures are the read-back's.
    (globalThis as { gc?: () => void }).gc?.();
    const rssBeforeBytes = process.memoryUsage.rss();
    let peakRssBytes = rssBeforeBytes;
    const sampler = setInterval(() => {
      peakRssBytes = Math.max(peakRssBytes, process.memoryUsage.rss());
    }, 20);
    const readStart = performance.now();
    let result;
    try {
      result = await readBack(api, space, { concurrency: o.concurrency });
    } finally {
      clearInterval(sampler);
    }
    const seconds = (performance.now() - readStart) / 1000;
    peakRssBytes = Math.max(peakRssBytes, process.memoryUsage.rss());
    const { report } = result;
    progress(`read back in ${seconds.toFixed(2)} s with ${report.queries} queries; naive peer on ${o.naiveSeries} series`);

    const naive = await naivePeer(api, space, Math.min(o.naiveSeries, o.series), o.concurrency);
    const naiveExtrapolatedSeconds = (naive.seconds * o.series) / naive.seriesMeasured;
    return {
      series: o.series,
      ticks: o.ticks,
      points: o.series * o.ticks,
      seconds: Number(seconds.toFixed(3)),
      peakRssBytes,
      rssBeforeReconcileBytes: rssBeforeBytes,
      reconcileRssGrowthBytes: peakRssBytes - rssBeforeBytes,
      processMaxRssBytes: process.resourceUsage().maxRSS * 1024,
      queries: report.queries,
      chunkSelectors: space.metrics[0].selectors.length,
      writeSeconds: Number(writeSeconds.toFixed(3)),
      writeRequests: written.requests,
      lossPoints: report.pointsMissing,
      valueMismatches: report.valueMismatches,
      unexpected: report.unexpected,
      prometheusVersion: prometheus.version,
      peer: {
        name: `naive read-back: one range-vector query per series, ${o.concurrency} in flight`,
        extrapolated: true,
        seriesMeasured: naive.seriesMeasured,
        secondsMeasured: Number(naive.seconds.toFixed(3)),
        secondsExtrapolated: Number(naiveExtrapolatedSeconds.toFixed(1)),
        queriesExtrapolated: o.series,
        speedupRatio: Number((naiveExtrapolatedSeconds / seconds).toFixed(1)),
      },
      note: 'timings on a shared 2-core machine; re-measure on a quiet one',
    };
  } finally {
    await api.close();
    await sender.close();
    await prometheus.stop();
  }
}

/** One query per series for `count` series spread over the space, `concurrency` in flight; checks each sample count. */
async function naivePeer(api: PrometheusApi, space: ReturnType<typeof syntheticSpace>['space'], count: number, concurrency: number): Promise<{ seconds: number; seriesMeasured: number }> {
  const metric = space.metrics[0];
  const stride = Math.max(1, Math.floor(metric.seriesCount / count));
  const indices: number[] = [];
  for (let i = 0; i < metric.seriesCount && indices.length < count; i += stride) indices.push(i);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < indices.length) {
      const i = indices[next++];
      const labels = metric.seriesLabels(i);
      const selector = Object.keys(labels).map((k) => `${k}=${promqlString(labels[k])}`).join(',');
      const { expr, timeMs } = chunkQuery(space, metric.name, selector, 1, space.ticks);
      const reply = await api.query(expr, timeMs);
      if (reply.data.resultType !== 'matrix' || reply.data.result[0]?.values.length !== space.ticks) {
        throw new Error(`naive peer: series ${i} did not read back ${space.ticks} samples`);
      }
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { seconds: (performance.now() - start) / 1000, seriesMeasured: indices.length };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  reconcileBench(process.argv.slice(2)).then(
    (result) => process.stdout.write(`${JSON.stringify(result, null, 2)}\n`),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
