import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveTraceModel } from '../../core/trace-model.ts';
import { SpanLedger } from '../../ledger/span-ledger.ts';
import { MetricsLedger } from '../../ledger/ledger.ts';
import { renderProgress } from '../../reports/render.ts';
import { progressPrinter } from '../../pipeline/progress.ts';
import type { RunAggregator } from '../../reports/aggregate.ts';
import type { Plan } from '../../scenarios/plan.ts';

const model = resolveTraceModel(
  { ratePerSecond: 10, spansPerTrace: 2, shape: 'chain', attributes: {}, kinds: { server: 1 }, statusErrorRatio: 0, spanDurationMs: 10 },
  { runId: 'progress', seed: 1, shardCount: 1, startUnixNano: 0n },
);
const aggregator = { errorTotal: () => 0, hasLoad: false } as unknown as RunAggregator;
const plan = {} as Plan;

function printed(metrics: MetricsLedger | undefined, spans: SpanLedger | undefined): string {
  let text = '';
  const print = progressPrinter({ write: (s: string) => ((text += s), true), isTTY: true }, plan, aggregator, metrics, spans);
  print({ endMs: 1000 } as Parameters<typeof print>[0]);
  return text;
}

test('a traces-only run shows spans acknowledged vs sent, not "OTLP acked 0/0"', () => {
  const spans = new SpanLedger(model, 4);
  spans.record({ shard: 0, firstSeq: 0, firstIndex: 0, lastSeq: 1, lastIndex: 1, spans: 4, status: 200, rejectedSpans: 0, durationUs: 1, sizeBytes: 1 });
  spans.record({ shard: 0, firstSeq: 2, firstIndex: 0, lastSeq: 2, lastIndex: 1, spans: 2, status: 503, rejectedSpans: 0, durationUs: 1, sizeBytes: 1 });
  assert.equal(spans.totals.tracesSent, 3);
  const line = printed(undefined, spans);
  assert.match(line, /spans acked 4\/6/);
  assert.doesNotMatch(line, /OTLP acked/);
});

test('a metrics run keeps its points count; a run with both shows both', () => {
  const metrics = new MetricsLedger([2], 3);
  assert.match(printed(metrics, undefined), /OTLP acked 0\/0/);
  assert.match(printed(metrics, new SpanLedger(model, 1)), /OTLP acked 0\/0 {2}spans acked 0\/0/);
  assert.equal(renderProgress({ elapsedMs: 0, errorsTotal: 0 }), '   0s', 'nothing sent, nothing shown');
});

test('a load-only run shows no OTLP count (it sends no points, so "OTLP acked 0/0" says nothing)', () => {
  assert.doesNotMatch(printed(undefined, undefined), /OTLP acked/);
});
