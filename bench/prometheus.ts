/**
 * A synthetic run for Prometheus read-back benchmarks and end-to-end tests: a series
 * space from `core/series.ts` (mixed-radix attributes, seeded counter values) and a
 * remote-write loader that backfills it in timestamp order.
 *
 * Backfill rules (Prometheus 2.x TSDB): samples of one series must arrive in timestamp
 * order (an older one is refused as out of order), and the head block only appends
 * samples newer than about `maxTime − 1 h` (chunk range / 2). So ticks are stamped in
 * the recent past and written block of ticks by block of ticks: every request of a block
 * completes before the next block starts.
 */
import { cumulativeCounterValue, seriesLayout, type SeriesLayout } from '../core/series.ts';
import { CollectorError } from '../core/errors.ts';
import { encodeRemoteWriteBody, type RemoteWriteSeries } from '../wire/remote-write.ts';
import { type RemoteWriteOutcome, type RemoteWriteSender } from '../workers/remote-write-sender.ts';
import { layoutMetric } from '../readback/prometheus/space.ts';
import type { ReadbackSpace } from '../readback/prometheus/space.ts';

/** Options for {@link syntheticSpace}. */
export interface SyntheticSpaceOptions {
  metricName: string;
  /** Attribute value counts, e.g. `{ route: 100, status: 10, pod: 100 }` (100k series). */
  attributes: Record<string, number>;
  commonLabels: Record<string, string>;
  ticks: number;
  startMs: number;
  intervalMs: number;
  seed: number;
  /** Reply bound per chunk query, in samples (default 200,000). */
  maxSamplesPerQuery?: number;
}

/**
 * One counter metric over a mixed-radix layout; tick k of series i has value
 * `k · inc(i)` (`cumulativeCounterValue`).
 */
export function syntheticSpace(options: SyntheticSpaceOptions): { space: ReadbackSpace; layout: SeriesLayout } {
  const layout = seriesLayout(options.attributes);
  const maxSeriesPerSelector = Math.max(1, Math.floor((options.maxSamplesPerQuery ?? 200_000) / options.ticks));
  const metric = layoutMetric({
    name: options.metricName,
    layout,
    commonLabels: options.commonLabels,
    maxSeriesPerSelector,
    expectedValue: (series, tick) => cumulativeCounterValue(options.seed, 0, series, tick),
  });
  return { space: { metrics: [metric], ticks: options.ticks, startMs: options.startMs, intervalMs: options.intervalMs }, layout };
}

/** Options for {@link writeSpace}. */
export interface WriteSpaceOptions {
  /** Leave (series, tick) out on purpose. */
  skip?(series: number, tick: number): boolean;
  /** Value to write instead of the expected one (to plant mismatches). */
  valueAt?(series: number, tick: number): number;
  /** Series per request (default 10,000). */
  seriesPerRequest?: number;
  /** Ticks per request and per block (default 1). */
  ticksPerRequest?: number;
  /** Requests in flight within a block (default 2). */
  concurrency?: number;
  /** Called after each block with its last tick and the wall time the block was acknowledged. */
  onBlockWritten?(lastTick: number, acknowledgedMs: number): void | Promise<void>;
}

/** What {@link writeSpace} sent. */
export interface WriteSpaceResult {
  requests: number;
  samples: number;
  protobufBytes: number;
}

/**
 * Write metric 0 of the space by remote write, in timestamp order.
 * @throws CollectorError `TALLY_COLLECTOR_FAILED` on the first refused or failed request
 * (with its status and classified rejection): a loader that silently drops data would
 * make the read-back figures meaningless.
 */
export async function writeSpace(sender: RemoteWriteSender, space: ReadbackSpace, options: WriteSpaceOptions = {}): Promise<WriteSpaceResult> {
  const metric = space.metrics[0];
  const perRequest = options.seriesPerRequest ?? 10_000;
  const ticksPerRequest = options.ticksPerRequest ?? 1;
  const result: WriteSpaceResult = { requests: 0, samples: 0, protobufBytes: 0 };
  const labels = Array.from({ length: metric.seriesCount }, (_, i) => metric.seriesLabels(i));
  for (let first = 1; first <= space.ticks; first += ticksPerRequest) {
    const last = Math.min(space.ticks, first + ticksPerRequest - 1);
    const starts: number[] = [];
    for (let s = 0; s < metric.seriesCount; s += perRequest) starts.push(s);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < starts.length) {
        const from = starts[next++];
        const batch: RemoteWriteSeries[] = [];
        for (let s = from; s < Math.min(from + perRequest, metric.seriesCount); s++) {
          const samples = [];
          for (let k = first; k <= last; k++) {
            if (options.skip?.(s, k)) continue;
            samples.push({ value: options.valueAt?.(s, k) ?? metric.expectedValue(s, k), timestampMs: space.startMs + k * space.intervalMs });
          }
          if (samples.length > 0) batch.push({ name: metric.name, labels: labels[s], samples });
        }
        if (batch.length === 0) continue;
        const body = encodeRemoteWriteBody(batch);
        const outcome: RemoteWriteOutcome = await sender.sendEncoded(body.body);
        result.requests++;
        if (!outcome.ok) {
          throw new CollectorError(`remote write refused a backfill request: HTTP ${outcome.status} ${outcome.rejection ?? outcome.errno ?? ''}: ${outcome.errorMessage ?? ''}`, {
            details: { status: outcome.status, rejection: outcome.rejection },
          });
        }
        result.samples += body.sampleCount;
        result.protobufBytes += body.protobufBytes;
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 2) }, worker));
    await options.onBlockWritten?.(last, Date.now());
  }
  return result;
}
