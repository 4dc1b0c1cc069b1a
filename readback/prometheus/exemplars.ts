/**
 * Exemplars read back from Prometheus (`/api/v1/query_exemplars`, stored with
 * `--enable-feature=exemplar-storage`) and checked against the model: each exemplar belongs
 * to one data point (its series, and the tick whose interval holds its time: exemplars are
 * stamped mid-interval), and must name the generated trace and root span the model gives
 * that point (core/instruments.ts `exemplarAt`, core/trace-model.ts `rootSpanIdsOf`).
 *
 * The traces they name are then looked up in a trace backend by the caller: an exemplar is
 * only worth something if its trace can be opened.
 *
 * @see https://prometheus.io/docs/prometheus/latest/querying/api/#querying-exemplars
 * @see https://opentelemetry.io/docs/specs/otel/compatibility/prometheus_and_openmetrics/#exemplars
 */
import { exemplarAt, hasExemplar, type MetricModel } from '../../core/instruments.ts';
import { rootSpanIdsOf } from '../../core/trace-model.ts';
import type { PrometheusApi } from './api.ts';
import type { ApiExemplar } from './api-replies.ts';
import type { ReadbackSpace } from './space.ts';

/** Mismatch samples kept; counts stay exact. */
const SAMPLES_KEPT = 20;

/** What the exemplar read-back found. */
export interface ExemplarReadback {
  /** Points that carry an exemplar in the model and were acknowledged by the first hop. */
  expected: number;
  /** Exemplars read back on the run's series. */
  read: number;
  /** Read exemplars naming the trace and root span the model gives their point. */
  matching: number;
  /** Read exemplars with another trace or span id, or at no point that carries one. */
  wrong: number;
  /** Distinct generated traces the matching exemplars name (sequence numbers). */
  traceSequences: number[];
  /** Up to {@link SAMPLES_KEPT} wrong exemplars. */
  samples: { metric: string; series: number; tick: number; expected: string; actual: string }[];
}

/** The model side of one read-back metric, for exemplars. */
export interface ExemplarMetric {
  /** Index of the metric in the read-back space. */
  spaceIndex: number;
  model: MetricModel;
}

/** The trace a matching exemplar names, from its trace id (sequence); the caller supplies the run's id layout. */
export type SequenceOf = (traceIdHex: string) => number | null;

/**
 * Check the exemplars read for one metric. Pure.
 * @param acknowledged whether the point (series, tick) was acknowledged by the first hop.
 */
export function checkExemplars(
  space: ReadbackSpace,
  metric: ExemplarMetric,
  series: { labels: Record<string, string>; exemplars: ApiExemplar[] }[],
  runIdHex: string,
  sequenceOf: SequenceOf,
  acknowledged: (series: number, tick: number) => boolean,
  into: ExemplarReadback,
  named: Set<number>,
): void {
  const m = space.metrics[metric.spaceIndex];
  for (let s = 0; s < m.seriesCount; s++) {
    if (!hasExemplar(metric.model, s, 0)) continue;
    for (let k = 1; k <= space.ticks; k++) if (acknowledged(s, k)) into.expected++;
  }
  for (const { labels, exemplars } of series) {
    const { le: _le, ...rest } = labels;
    const index = m.seriesIndexOf(rest);
    if (index < 0) continue;
    for (const e of exemplars) {
      into.read++;
      // Exemplars are stamped mid-interval: tick k's lies in ((k−1)·interval, k·interval].
      const tick = Math.ceil((Math.round(e.timestampS * 1000) - space.startMs) / space.intervalMs);
      const want = tick >= 1 && tick <= space.ticks ? exemplarAt(metric.model, { slot: index, generation: 0, birthTick: 0 }, tick) : null;
      const ids = want === null ? null : rootSpanIdsOf(runIdHex, want.traceShard, want.traceSequence);
      const actual = `${e.labels.trace_id ?? ''}/${e.labels.span_id ?? ''} = ${e.value}`;
      if (want !== null && ids !== null && ids.traceId === e.labels.trace_id && ids.spanId === e.labels.span_id && want.value === e.value) {
        into.matching++;
        const seq = sequenceOf(ids.traceId);
        if (seq !== null) named.add(seq);
      } else {
        into.wrong++;
        if (into.samples.length < SAMPLES_KEPT) into.samples.push({ metric: m.name, series: index, tick, expected: ids === null || want === null ? 'no exemplar' : `${ids.traceId}/${ids.spanId} = ${want.value}`, actual });
      }
    }
  }
}

/**
 * Read and check the exemplars of every metric that carries them.
 * @param runMatchers label matchers naming the run, e.g. `tally_run_id="…"`.
 * @throws CollectorError from the API client.
 */
export async function readExemplars(
  api: PrometheusApi,
  space: ReadbackSpace,
  metrics: readonly ExemplarMetric[],
  runMatchers: string,
  runIdHex: string,
  sequenceOf: SequenceOf,
  acknowledged: (metricIndex: number, series: number, tick: number) => boolean,
  window: { startMs: number; endMs: number },
): Promise<ExemplarReadback> {
  const out: ExemplarReadback = { expected: 0, read: 0, matching: 0, wrong: 0, traceSequences: [], samples: [] };
  const named = new Set<number>();
  for (const metric of metrics) {
    const m = space.metrics[metric.spaceIndex];
    const name = m.histogram?.kind === 'classic' ? `${m.name}_bucket` : m.name;
    const reply = await api.queryExemplars(`${name}{${runMatchers}}`, window.startMs, window.endMs);
    const series = reply.data.map((d) => ({ labels: d.seriesLabels, exemplars: d.exemplars }));
    checkExemplars(space, metric, series, runIdHex, sequenceOf, (s, k) => acknowledged(metric.spaceIndex, s, k), out, named);
  }
  out.traceSequences = [...named].sort((a, b) => a - b);
  return out;
}
