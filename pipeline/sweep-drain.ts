/**
 * Between a sweep's steps, the system under test is given back its rest state, so that one
 * step's backlog is not the next one's load: TIME_WAIT sockets drained (host/time-wait.ts),
 * and, when the scenario names the collector's metrics (`backends.collector`), the
 * collector's exporter queues emptied (otelcol_exporter_queue_size summed over its
 * exporters): an overloaded step leaves batches queued that the collector still exports
 * during the next step, which would count them as that step's traffic.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { otelcolDelta, scrapeOtelcol } from '../readback/otelcol/self-metrics.ts';
import type { Scenario } from '../scenarios/types.ts';

/** How a queue drain went. */
export interface QueueDrain {
  /** Batches (or items, by the queue's sizer) queued in the collector's exporters when the wait began; null when it could not be read. */
  atStart: number | null;
  /** Seconds waited (0.1 s resolution). */
  waitedS: number;
  /** True when the queues were read empty. */
  drained: boolean;
}

/** The collector's exporter queues, summed; null when they cannot be read. */
async function queued(metricsUrl: string): Promise<number | null> {
  try {
    const snapshot = await scrapeOtelcol(metricsUrl, { requestTimeoutMs: 5000 });
    const queues = otelcolDelta(snapshot, snapshot).queues;
    return queues.reduce((a, q) => a + (q.sizeAfter ?? 0), 0);
  } catch {
    return null;
  }
}

/**
 * Wait until the collector the scenario names has nothing queued, at most `maxWaitMs`,
 * polling every `pollMs`. Undefined when the scenario names no collector metrics.
 */
export async function drainCollectorQueues(scenario: Scenario, maxWaitMs: number, options: { signal?: AbortSignal; pollMs?: number } = {}): Promise<QueueDrain | undefined> {
  const url = scenario.backends?.collector?.metricsUrl;
  if (url === undefined) return undefined;
  const startMs = performance.now();
  const atStart = await queued(url);
  let now = atStart;
  while (now !== null && now > 0 && performance.now() - startMs < maxWaitMs && options.signal?.aborted !== true) {
    await delay(options.pollMs ?? 500, undefined, { signal: options.signal }).catch(() => {});
    now = await queued(url);
  }
  return { atStart, waitedS: Math.round((performance.now() - startMs) / 100) / 10, drained: now === 0 };
}
