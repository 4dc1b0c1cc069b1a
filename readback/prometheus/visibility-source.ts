/**
 * Prometheus as a visibility source for `reconcile/visibility.ts`: each poll reads the
 * requested tick window as raw samples (the same chunked range-vector queries as
 * read-back) and reports every sample placed in the space as visible. Values are not
 * checked here; read-back does that once at the end.
 */
import type { UnexpectedPoint } from '../../reconcile/observations.ts';
import type { VisibilitySource } from '../../reconcile/visibility.ts';
import type { PrometheusApi } from './api.ts';
import type { ReadbackSpace } from './space.ts';
import { readSamplesInto } from './read-samples.ts';

/**
 * A {@link VisibilitySource} over a Prometheus API client.
 * @param options.concurrency queries in flight per poll (default 2).
 * @returns the source; `queries` counts the chunk queries its polls made.
 */
export function prometheusVisibilitySource(api: PrometheusApi, space: ReadbackSpace, options: { concurrency?: number } = {}): VisibilitySource & { queries: number } {
  const source = {
    queries: 0,
    async read(window: { fromTick: number; toTick: number }, visible: (m: number, s: number, k: number) => void, signal?: AbortSignal): Promise<void> {
      const sink = {
        add: (m: number, s: number, k: number) => visible(m, s, k),
        record: (m: number, s: number, k: number) => visible(m, s, k),
        addUnexpected: (_point: UnexpectedPoint) => {},
      };
      const result = await readSamplesInto(api, space, sink, { ...window, concurrency: options.concurrency, signal });
      source.queries += result.queries;
    },
  };
  return source;
}
