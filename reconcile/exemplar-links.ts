/**
 * Exemplars → traces: of the generated traces that received exemplars named, how many
 * arrived at the receiver, root span first and whole. An exemplar is only useful if the
 * trace it points at can be opened; this says how often that holds after the pipeline.
 * Pure.
 *
 * @see https://opentelemetry.io/docs/specs/otel/metrics/data-model/#exemplars
 */
import { shardOfSeq, traceSpanCount, type TraceModel } from '../core/trace-model.ts';
import type { ObservationStore } from './observations.ts';
import type { SpanObservationStore } from './span-observations.ts';

/** `summary.metrics.exemplarTraces` of results.json. */
export interface ExemplarTraceLinks {
  /** Exemplars on the data points the receiver recorded. */
  exemplarsReceived: number;
  /** Exemplars whose trace id is none of the run's generated traces. */
  exemplarsNamingOtherTraces: number;
  /** Distinct generated traces named by at least one exemplar. */
  tracesNamed: number;
  /** Of those, traces whose root span (the span the exemplar names) arrived. */
  tracesNamedWithRootSpan: number;
  /** Of those, traces every span of which arrived. */
  tracesNamedComplete: number;
  /** Named traces whose root span never arrived: exemplars that lead nowhere. */
  tracesNamedMissing: number;
}

/**
 * Join the exemplars a receiver recorded with the spans it saw.
 * @param points the metric observations, after {@link ObservationStore.trackExemplarTraces}.
 * @param spans the span observations of the same run.
 */
export function exemplarTraceLinks(points: ObservationStore, spans: SpanObservationStore, model: TraceModel): ExemplarTraceLinks {
  const named = points.exemplarTraceSequences();
  let withRoot = 0;
  let complete = 0;
  for (const seq of named) {
    if (spans.count(seq, 0) === 0) continue;
    withRoot++;
    const count = traceSpanCount(model, shardOfSeq(model, seq), seq);
    let all = true;
    for (let index = 1; index < count && all; index++) all = spans.count(seq, index) > 0;
    if (all) complete++;
  }
  return {
    exemplarsReceived: points.exemplarsReceived,
    exemplarsNamingOtherTraces: points.exemplarsNamingOtherTraces,
    tracesNamed: named.length,
    tracesNamedWithRootSpan: withRoot,
    tracesNamedComplete: complete,
    tracesNamedMissing: named.length - withRoot,
  };
}
