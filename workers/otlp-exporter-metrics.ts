/**
 * The exporter's own measurements over an interval: queue depth, drops, blocked time,
 * attempts by outcome class, retries, settlements by final state, and two HDR
 * histograms in µs (one attempt's round trip; a batch's first attempt → settlement,
 * retries included). `take()` hands them over encoded, like the load shard's
 * `takeInterval()`, and starts a new interval.
 */
import { emptyExporterCounts, type ExportAttemptClass, type ExporterInterval, type ExporterIntervalCounts, type ExportFinalState } from '../core/messages.ts';
import { createHistogramUs, encodeHistogram, recordUs, type Histogram } from '../core/histogram.ts';

export type { ExporterInterval } from '../core/messages.ts';

/** Mutable counters of the current interval. */
export class ExporterMetrics {
  #counts: ExporterIntervalCounts = emptyExporterCounts();
  readonly #attemptUs: Histogram = createHistogramUs();
  readonly #exportUs: Histogram = createHistogramUs();

  enqueued(depth: number): void {
    this.#counts.enqueued++;
    this.depth(depth);
  }

  depth(depth: number): void {
    this.#counts.queueDepth = depth;
    if (depth > this.#counts.queueDepthMax) this.#counts.queueDepthMax = depth;
  }

  blocked(us: number): void {
    this.#counts.blockedUs += us;
  }

  attempt(cls: ExportAttemptClass, durationUs: number, isRetry: boolean): void {
    this.#counts.attempts[cls]++;
    if (isRetry) this.#counts.retries++;
    recordUs(this.#attemptUs, durationUs);
  }

  settled(state: ExportFinalState, items: number, rejectedItems: number, durationUs: number): void {
    const c = this.#counts;
    c.settledBatches[state]++;
    c.settledItems[state] += items;
    c.rejectedItems += rejectedItems;
    if (state === 'dropped') {
      c.droppedBatches++;
      c.droppedItems += items;
    }
    if (durationUs > 0) recordUs(this.#exportUs, durationUs);
  }

  /** Take this interval's counts and encoded histograms; the depth carries over. */
  take(): ExporterInterval {
    const counts = this.#counts;
    this.#counts = emptyExporterCounts();
    this.#counts.queueDepth = counts.queueDepth;
    this.#counts.queueDepthMax = counts.queueDepth;
    const histograms = { attemptUs: encodeHistogram(this.#attemptUs), exportUs: encodeHistogram(this.#exportUs) };
    this.#attemptUs.reset();
    this.#exportUs.reset();
    return { counts, histograms };
  }

  destroy(): void {
    this.#attemptUs.destroy();
    this.#exportUs.destroy();
  }
}
