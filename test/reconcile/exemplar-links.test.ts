/**
 * The exemplar → trace join: named traces are counted once, by whether their root span
 * and every span arrived; ids outside the run's traces (other run, sequence past the
 * last trace, wrong shard) are counted apart.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveTraceModel, traceIdOf, traceSpanCount, shardOfSeq } from '../../core/trace-model.ts';
import { exemplarTraceLinks } from '../../reconcile/exemplar-links.ts';
import { ObservationStore } from '../../reconcile/observations.ts';
import { SpanObservationStore } from '../../reconcile/span-observations.ts';

const model = resolveTraceModel(
  { ratePerSecond: 10, spansPerTrace: { min: 2, max: 4 }, shape: 'chain', attributes: {}, kinds: { server: 1 }, statusErrorRatio: 0, spanDurationMs: 5 },
  { runId: 'links-run', seed: 9, shardCount: 2, startUnixNano: 1_700_000_000_000_000_000n },
);

test('exemplarTraceLinks: named, with root span, complete and missing', () => {
  const points = new ObservationStore([4], 3);
  const spans = new SpanObservationStore(model, 10);
  points.trackExemplarTraces(model.runIdHex, 10, 2);
  // Trace 1 arrives whole, trace 2 only its root span, trace 3 not at all; trace 1 is named twice.
  for (let i = 0; i < traceSpanCount(model, shardOfSeq(model, 1), 1); i++) spans.add(1, i);
  spans.add(2, 0);
  for (const seq of [1, 1, 2, 3]) points.recordExemplar(traceIdOf(model, seq).toUpperCase());
  // Not the run's traces: another run, a sequence past the last trace, the wrong shard.
  const other = resolveTraceModel({ ratePerSecond: 10, spansPerTrace: 2, shape: 'chain', attributes: {}, kinds: { server: 1 }, statusErrorRatio: 0, spanDurationMs: 5 },
    { runId: 'another-run', seed: 9, shardCount: 2, startUnixNano: 0n });
  points.recordExemplar(traceIdOf(other, 1));
  points.recordExemplar(traceIdOf(model, 10));
  points.recordExemplar(traceIdOf(model, 4).slice(0, 16) + '0001' + traceIdOf(model, 4).slice(20));
  assert.deepEqual(exemplarTraceLinks(points, spans, model), {
    exemplarsReceived: 7, exemplarsNamingOtherTraces: 3, tracesNamed: 3, tracesNamedWithRootSpan: 2, tracesNamedComplete: 1, tracesNamedMissing: 1,
  });
});

test('without tracking, exemplars are counted and name nothing', () => {
  const points = new ObservationStore([4], 3);
  points.recordExemplar(traceIdOf(model, 1));
  assert.deepEqual(exemplarTraceLinks(points, new SpanObservationStore(model, 10), model), {
    exemplarsReceived: 1, exemplarsNamingOtherTraces: 0, tracesNamed: 0, tracesNamedWithRootSpan: 0, tracesNamedComplete: 0, tracesNamedMissing: 0,
  });
});
