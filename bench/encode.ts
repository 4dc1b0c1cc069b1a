/**
 * Encoding self-benchmark, on one thread, in one run: OTLP/protobuf metric data points
 * per second for the official otlp-transformer path (build the SDK ResourceMetrics +
 * `ProtobufMetricsSerializer`) against the fast path (patch a template, a Buffer ready to
 * send), for 1,000-point batches of a cumulative counter and a cumulative histogram; and
 * spans per second, in 1,000-span batches of the trace model, for the official
 * `ProtobufTraceSerializer` (fill ReadableSpan records + serialize) against the fast
 * trace encoder the trace shards use (workers/otlp-fast-traces.ts, byte-identical output).
 *
 * Each case warms up, then runs for a fixed time (bounded in iterations too) and reports
 * the rate. Figures depend on the machine and its load: re-measure on a quiet machine.
 *
 * Usage: `node bench/encode.ts [--seconds 2] [--warmup-seconds 1] [--points 1000]`
 * (or, once registered, `npm run bench -- encode …`). Prints one JSON object.
 */
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../core/errors.ts';
import { metricModel, type InstrumentOptions } from '../core/instruments.ts';
import { seriesLayout } from '../core/series.ts';
import { buildOfficialBatch, encodeOfficial, type BatchIdentity, type BatchMetric } from '../workers/otlp-build.ts';
import { FastMetricBatch } from '../workers/otlp-fast.ts';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resolveTraceModel } from '../core/trace-model.ts';
import { FastSpanBatches } from '../workers/otlp-fast-traces.ts';
import { OfficialSpanBatches, type SpanBatchSource } from '../workers/otlp-trace-spans.ts';

/** Options of {@link encodeBench}. */
interface BenchOptions {
  seconds: number;
  warmupSeconds: number;
  points: number;
}

/** One measured case: items (points or spans) per second and how the figure was taken. */
interface Rate {
  perSecond: number;
  iterations: number;
  elapsedMs: number;
  bytesPerBatch: number;
}

const MAX_ITERATIONS = 10_000_000;

function parseArgs(args: string[]): BenchOptions {
  const options: BenchOptions = { seconds: 2, warmupSeconds: 1, points: 1000 };
  for (let i = 0; i < args.length; i++) {
    const flag = args[i];
    const value = Number(args[i + 1]);
    const key = flag === '--seconds' ? 'seconds' : flag === '--warmup-seconds' ? 'warmupSeconds' : flag === '--points' ? 'points' : undefined;
    if (key === undefined || !Number.isFinite(value) || value <= 0 || (key === 'points' && (!Number.isInteger(value) || value > 1_000_000))) {
      throw new ConfigError(`bad bench argument ${flag} ${args[i + 1] ?? ''}`, [{ pointer: '', message: 'expected --seconds S, --warmup-seconds S, --points N (1..1000000)' }], { code: 'TALLY_USAGE' });
    }
    options[key] = value;
    i++;
  }
  return options;
}

/** Run `step(i)` for warm-up then measurement; returns items/s where each step yields `itemsPerStep` items. */
function measure(step: (i: number) => Uint8Array, itemsPerStep: number, options: BenchOptions): Rate {
  let bytes = 0;
  const warmUntil = performance.now() + options.warmupSeconds * 1000;
  let i = 0;
  while (performance.now() < warmUntil && i < MAX_ITERATIONS) bytes = step(i++).byteLength;
  const start = performance.now();
  const until = start + options.seconds * 1000;
  let iterations = 0;
  while (iterations < MAX_ITERATIONS) {
    bytes = step(i++).byteLength;
    iterations++;
    // Reading the clock every 8 steps keeps its cost out of the fast path's figure.
    if ((iterations & 7) === 0 && performance.now() >= until) break;
  }
  const elapsedMs = performance.now() - start;
  return { perSecond: Math.round((iterations * itemsPerStep) / (elapsedMs / 1000)), iterations, elapsedMs: Math.round(elapsedMs), bytesPerBatch: bytes };
}

const identity: BatchIdentity = { runId: 'bench-encode', shard: 0, startUnixNano: 1_735_689_600_000_000_000n, intervalNs: 5_000_000_000n };

function metricCase(options: InstrumentOptions, points: number): BatchMetric {
  // 1,000 series as route × status × pod, like the smoke scenario.
  const layout = seriesLayout({ route: 20, status: 5, pod: Math.max(1, Math.ceil(points / 100)) });
  return { name: `bench.${options.instrument}`, unit: 'ms', layout, model: metricModel(42, 0, layout.seriesCount, options) };
}

/** Ticks cycle over a day of 5 s ticks, so every step patches a different tick. */
const TICK_CYCLE = 17_280;

interface MetricRates {
  official: Rate;
  /** The official serializer alone, on one prebuilt ResourceMetrics (no per-tick build): its lower bound of cost. */
  officialSerializeOnly: Rate;
  fast: Rate;
  ratio: number;
  ratioToSerializeOnly: number;
}

function metricRates(metric: BatchMetric, options: BenchOptions): MetricRates {
  const n = options.points;
  const official = measure((i) => encodeOfficial(buildOfficialBatch(identity, metric, 0, n, 1 + (i % TICK_CYCLE)), 'protobuf'), n, options);
  const prebuilt = buildOfficialBatch(identity, metric, 0, n, 1);
  const officialSerializeOnly = measure(() => encodeOfficial(prebuilt, 'protobuf'), n, options);
  const batch = new FastMetricBatch(identity, metric, 0, n);
  const fast = measure((i) => batch.encode(1 + (i % TICK_CYCLE)), n, options);
  return {
    official, officialSerializeOnly, fast,
    ratio: round2(fast.perSecond / official.perSecond),
    ratioToSerializeOnly: round2(fast.perSecond / officialSerializeOnly.perSecond),
  };
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

/**
 * Run the encoding benchmark.
 * @param args CLI arguments after `encode`: `--seconds S` per measured case (default 2),
 *   `--warmup-seconds S` (default 1), `--points N` per metric batch (default 1000).
 * @returns the result object (also what the CLI prints as JSON).
 * @throws ConfigError `TALLY_USAGE` for a bad argument.
 */
export async function encodeBench(args: string[]): Promise<object> {
  const options = parseArgs(args);
  const counter = metricRates(metricCase({ instrument: 'counter', temporality: 'cumulative' }, options.points), options);
  const histogram = metricRates(metricCase({ instrument: 'histogram', temporality: 'cumulative' }, options.points), options);
  // 250 traces of 4 chained spans per batch; 100 span-attribute combinations, a kind and status mix.
  const traceModel = resolveTraceModel(
    { ratePerSecond: 1000, spansPerTrace: 4, shape: 'chain', attributes: { route: 20, peer: 5 }, kinds: { server: 1, client: 3 }, statusErrorRatio: 0.05, spanDurationMs: 0.75 },
    { runId: identity.runId, seed: 42, shardCount: 1, startUnixNano: identity.startUnixNano },
  );
  const tracesPerBatch = 250;
  const spansPerBatch = tracesPerBatch * 4;
  const spanBatch = (source: SpanBatchSource, i: number): Uint8Array => {
    for (let t = 0; t < tracesPerBatch; t++) {
      source.beginTrace(i * tracesPerBatch + t);
      source.addSpans();
    }
    return source.takeBody().body;
  };
  const official = new OfficialSpanBatches(traceModel, 0, spansPerBatch, ProtobufTraceSerializer);
  const officialSpans = measure((i) => spanBatch(official, i), spansPerBatch, options);
  const fast = new FastSpanBatches(traceModel, 0, spansPerBatch);
  const fastSpans = measure((i) => spanBatch(fast, i), spansPerBatch, options);
  // The same batch both ways: the fast encoder's bytes are the official ones.
  const identicalBytes = Buffer.from(spanBatch(official, 7)).equals(spanBatch(fast, 7));
  // Both metric cases hold the same number of points, so the combined rate is points over total time.
  const combined = (a: Rate, b: Rate): number => Math.round(2 / (1 / a.perSecond + 1 / b.perSecond));
  const officialPoints = combined(counter.official, histogram.official);
  const fastPoints = combined(counter.fast, histogram.fast);
  return {
    official: { pointsPerSecond: officialPoints, spansPerSecond: officialSpans.perSecond },
    fast: { pointsPerSecond: fastPoints, spansPerSecond: fastSpans.perSecond },
    ratio: round2(fastPoints / officialPoints),
    spansRatio: round2(fastSpans.perSecond / officialSpans.perSecond),
    goals: { ratio: 4, fastPointsPerSecond: 2_000_000, met: fastPoints / officialPoints >= 4 && fastPoints >= 2_000_000 },
    cases: {
      counterCumulative: counter,
      histogramCumulative: { ...histogram, buckets: metricCase({ instrument: 'histogram', temporality: 'cumulative' }, 1).model.bucketValues.length },
      spans: { official: officialSpans, fast: fastSpans, spansPerBatch, identicalBytes },
    },
    batchDataPoints: options.points,
    secondsPerCase: options.seconds,
    warmupSecondsPerCase: options.warmupSeconds,
    thread: 'one (the main thread)',
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    note: 'Timings depend on machine load; re-measure on a quiet machine.',
  };
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  encodeBench(process.argv.slice(2)).then(
    (result) => console.log(JSON.stringify(result, null, 2)),
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : String(error));
      process.exitCode = error instanceof ConfigError ? 2 : 1;
    },
  );
}
