/**
 * Exemplar read-back: an exemplar belongs to the point whose interval holds its time, and
 * matches when it names the trace, root span and value the model gives that point.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exemplarAt, hasExemplar, linkExemplarTraces, metricModel } from '../../../core/instruments.ts';
import { seriesLayout } from '../../../core/series.ts';
import { parseTraceIdHex, rootSpanIdsOf, runIdHexOf } from '../../../core/trace-model.ts';
import { checkExemplars, type ExemplarReadback } from '../../../readback/prometheus/exemplars.ts';
import { layoutMetric, type ReadbackSpace } from '../../../readback/prometheus/space.ts';

const layout = seriesLayout({ route: 8 });
const model = linkExemplarTraces(metricModel(2, 0, layout.seriesCount, { instrument: 'counter', temporality: 'cumulative', exemplars: { ratio: 0.5 } }), { traceCount: 40, shardCount: 2, tracesPerTick: 10 });
const space: ReadbackSpace = {
  metrics: [layoutMetric({ name: 'tally_requests_total', layout, commonLabels: { job: 'tally' }, maxSeriesPerSelector: 100, expectedValue: () => 0 })],
  ticks: 3,
  startMs: 1_000_000,
  intervalMs: 1000,
};
const runIdHex = runIdHexOf('run-1');
const sequenceOf = (hex: string): number | null => parseTraceIdHex(hex)?.seq ?? null;

/** The exemplar the model gives (series, tick), as Prometheus returns it (stamped mid-interval). */
function stored(series: number, tick: number) {
  const e = exemplarAt(model, { slot: series, generation: 0, birthTick: 0 }, tick)!;
  const ids = rootSpanIdsOf(runIdHex, e.traceShard, e.traceSequence);
  return { labels: { trace_id: ids.traceId, span_id: ids.spanId }, value: e.value, timestampS: (space.startMs + tick * 1000 - 500) / 1000 };
}

test('the model\'s exemplars match; a wrong trace or value does not; expected counts only acknowledged points', () => {
  const withExemplars = [0, 1, 2, 3, 4, 5, 6, 7].filter((s) => hasExemplar(model, s, 0));
  assert.ok(withExemplars.length > 0 && withExemplars.length < 8, 'the ratio gives some series exemplars and some not');
  const s = withExemplars[0];
  const good = [stored(s, 1), stored(s, 2), stored(s, 3)];
  const wrongTrace = { ...stored(s, 2), labels: { ...stored(s, 2).labels, trace_id: rootSpanIdsOf(runIdHex, 0, 39).traceId } };
  const wrongValue = { ...stored(s, 3), value: stored(s, 3).value + 1 };
  const out: ExemplarReadback = { expected: 0, read: 0, matching: 0, wrong: 0, traceSequences: [], samples: [] };
  const named = new Set<number>();
  checkExemplars(space, { spaceIndex: 0, model }, [
    { labels: { __name__: 'tally_requests_total', job: 'tally', route: `route-${s}` }, exemplars: [...good, wrongTrace, wrongValue] },
    { labels: { __name__: 'tally_requests_total', job: 'other', route: 'route-0' }, exemplars: [stored(s, 1)] },
  ], runIdHex, sequenceOf, (series, tick) => tick !== 3, out, named);
  assert.equal(out.expected, withExemplars.length * 2);
  assert.equal(out.read, 5, 'a series of another job is not the run\'s');
  assert.equal(out.matching, 3);
  assert.equal(out.wrong, 2);
  assert.deepEqual([...named].sort((a, b) => a - b), [...new Set(good.map((g) => sequenceOf(g.labels.trace_id)!))].sort((a, b) => a - b));
  assert.equal(out.samples[0].tick, 2);
});
