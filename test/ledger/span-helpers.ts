/**
 * Test helpers for the span ledger tests: a shard's send order cut into batches (as
 * TraceExportOutcomes), and decoded-request shapes built from the model's expected traces
 * (what a faithful pipeline would deliver).
 */
import {
  expectedTrace, SPAN_KIND_NUMBER, STATUS_CODE_NUMBER, type ExpectedSpan, type TraceExportOutcome, type TraceModel,
} from '../../core/trace-model.ts';
import type { DecodedSpan, DecodedTraceRequest } from '../../reconcile/span-observations.ts';

/** Every (seq, index) of `shard`, in send order. */
export function sendOrder(model: TraceModel, shard: number, traceCount: number): { seq: number; index: number }[] {
  const out: { seq: number; index: number }[] = [];
  for (let seq = shard; seq < traceCount; seq += model.shardCount) {
    const n = expectedTrace(model, shard, seq).spans.length;
    for (let index = 0; index < n; index++) out.push({ seq, index });
  }
  return out;
}

/** Cut every shard's send order into batches of `batchSpans`, each a 200 outcome. */
export function batches(model: TraceModel, traceCount: number, batchSpans: number): TraceExportOutcome[] {
  const out: TraceExportOutcome[] = [];
  for (let shard = 0; shard < model.shardCount; shard++) {
    const order = sendOrder(model, shard, traceCount);
    for (let i = 0; i < order.length; i += batchSpans) {
      const run = order.slice(i, i + batchSpans);
      const first = run[0];
      const last = run[run.length - 1];
      out.push({
        shard, firstSeq: first.seq, firstIndex: first.index, lastSeq: last.seq, lastIndex: last.index, spans: run.length,
        status: 200, rejectedSpans: 0, durationUs: 1, sizeBytes: 1,
      });
    }
  }
  return out;
}

/** The decoded form of an expected span. */
export function decodedSpan(traceId: string, span: ExpectedSpan): DecodedSpan {
  return {
    traceId,
    spanId: span.spanId,
    parentSpanId: span.parentSpanId ?? '',
    name: span.name,
    kind: SPAN_KIND_NUMBER[span.kind],
    startTimeUnixNano: span.startTimeUnixNano,
    endTimeUnixNano: span.endTimeUnixNano,
    attributes: { ...span.attributes },
    status: { code: STATUS_CODE_NUMBER[span.status], message: '' },
  };
}

/** A request holding the given spans of one shard's traces under the run's resource. */
export function requestOf(model: TraceModel, shard: number, spans: DecodedSpan[], runId = model.runId): DecodedTraceRequest {
  return {
    resourceSpans: [{
      resource: { attributes: { 'service.name': 'tally', 'tally.run.id': runId, 'tally.shard': BigInt(shard) } },
      scopeSpans: [{ spans }],
    }],
  };
}

/** Every span of the run as decoded requests, one per trace. */
export function faithfulRequests(model: TraceModel, traceCount: number): DecodedTraceRequest[] {
  const out: DecodedTraceRequest[] = [];
  for (let seq = 0; seq < traceCount; seq++) {
    const shard = seq % model.shardCount;
    const trace = expectedTrace(model, shard, seq);
    out.push(requestOf(model, shard, trace.spans.map((s) => decodedSpan(trace.traceId, s))));
  }
  return out;
}
