/**
 * End to end over real HTTP on 127.0.0.1: TraceShard (official otlp-transformer serializer,
 * undici) → a minimal OTLP/HTTP trace sink written here (codec decode → observeTraceRequest
 * → partial_success reply) → SpanLedger × SpanObservationStore → reconcileTraces.
 * The sink is this test's own server, not the embedded receiver.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeTraceRequest, encodeStatus, encodeTraceResponse, type TraceRequest } from '../../wire/otlp/codec.ts';
import {
  expectedTrace, resolveTraceModel, traceIdOf, type TraceExportOutcome, type TraceModel, type TraceSpec,
} from '../../core/trace-model.ts';
import { SpanLedger } from '../../ledger/span-ledger.ts';
import { observeTraceRequest, SpanObservationStore, type TraceSpace } from '../../reconcile/span-observations.ts';
import { reconcileTraces } from '../../reconcile/spans.ts';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { modelExpectation } from '../../readback/tempo/expected.ts';
import { compareTrace } from '../../readback/tempo/trace-compare.ts';
import { spansFromResourceSpans } from '../../readback/tempo/trace-normalize.ts';
import { epochNowMs } from '../../workers/load-shard.ts';
import { SpanBatchBuilder } from '../../workers/otlp-trace-spans.ts';
import { TraceShard, type ShardTraceTask, type TraceSender } from '../../workers/otlp-traces.ts';

const SPEC: TraceSpec = {
  ratePerSecond: 1000,
  spansPerTrace: { min: 1, max: 7 },
  shape: 'chain',
  attributes: { route: 5, status: 2 },
  kinds: { server: 1, client: 1, internal: 1 },
  statusErrorRatio: 0.2,
  spanDurationMs: 20,
};

type Format = 'protobuf' | 'json';
/** What the sink does with request i: record it, acknowledge it without recording (lost after ack), or answer 503. */
type Verdict = 'observe' | 'ack-only' | 'fail';

interface SinkRequest {
  /** Arrival, epoch ms on the shard's clock. */
  atMs: number;
  format: Format;
  raw: Buffer;
  decoded: TraceRequest;
  verdict: Verdict;
}

interface Sink {
  url: string;
  requests: SinkRequest[];
  close(): Promise<void>;
}

function readAll(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

async function startSink(space: TraceSpace, store: SpanObservationStore, decide: (i: number, request: TraceRequest) => Verdict = () => 'observe'): Promise<Sink> {
  const requests: SinkRequest[] = [];
  const server = createServer((req, res) => {
    void readAll(req).then((raw) => {
      const format: Format = req.headers['content-type'] === 'application/json' ? 'json' : 'protobuf';
      const type = format === 'json' ? 'application/json' : 'application/x-protobuf';
      if (req.url !== '/v1/traces' || req.method !== 'POST') {
        res.writeHead(404).end();
        return;
      }
      const decoded = decodeTraceRequest(raw, format);
      const verdict = decide(requests.length, decoded);
      requests.push({ atMs: epochNowMs(), format, raw, decoded, verdict });
      if (verdict === 'fail') {
        res.writeHead(503, { 'content-type': type, 'retry-after': '1' }).end(encodeStatus({ code: 14, message: 'test sink: unavailable' }, format));
        return;
      }
      let rejectedSpans = 0;
      if (verdict === 'observe') rejectedSpans = observeTraceRequest(decoded, space, store).rejectedSpans;
      const partial = rejectedSpans > 0 ? { rejectedSpans, errorMessage: `rejected ${rejectedSpans}` } : undefined;
      res.writeHead(200, { 'content-type': type }).end(encodeTraceResponse(partial, format));
    });
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1/traces`,
    requests,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

interface RunResult {
  model: TraceModel;
  ledger: SpanLedger;
  store: SpanObservationStore;
  sink: Sink;
  outcomes: TraceExportOutcome[];
  traceCount: number;
}

/**
 * Run `shardCount` TraceShards against a fresh sink. The run start is put 10 s in the
 * past, so every trace is already due and the shards send as fast as they can.
 */
async function runShards(options: {
  spec?: Partial<TraceSpec>; shardCount?: number; traces?: number; protocol?: ShardTraceTask['protocol']; maxBatchSpans?: number;
  rejectSpanRatio?: number; decide?: (i: number, request: TraceRequest) => Verdict; startEpochMs?: number; batchDelayMs?: number;
}): Promise<RunResult & { startEpochMs: number }> {
  const startEpochMs = Math.round(options.startEpochMs ?? epochNowMs() - 10_000);
  const model = resolveTraceModel({ ...SPEC, ...options.spec }, {
    runId: 'traces-test-run', seed: 7, shardCount: options.shardCount ?? 2, startUnixNano: BigInt(startEpochMs) * 1_000_000n,
  });
  const traceCount = options.traces ?? 200;
  const space: TraceSpace = { model, traceCount, faults: { rejectSpanRatio: options.rejectSpanRatio ?? 0 } };
  const store = new SpanObservationStore(model, traceCount);
  const ledger = new SpanLedger(model, traceCount);
  const sink = await startSink(space, store, options.decide);
  const outcomes: TraceExportOutcome[] = [];
  try {
    const task: ShardTraceTask = {
      tracesUrl: sink.url, protocol: options.protocol ?? 'http/protobuf', timeoutMs: 5000, headers: {}, model, traceCount,
      maxBatchSpans: options.maxBatchSpans ?? 16, batchDelayMs: options.batchDelayMs ?? 5000,
    };
    const shards = Array.from({ length: model.shardCount }, (_, s) => new TraceShard(task, s, startEpochMs));
    await Promise.all(shards.map((shard) => shard.run()));
    for (const shard of shards) outcomes.push(...shard.takeOutcomes());
  } finally {
    await sink.close();
  }
  for (const o of outcomes) ledger.record(o);
  return { model, ledger, store, sink, outcomes, traceCount, startEpochMs };
}

function expectedSpanTotal(model: TraceModel, traceCount: number): number {
  let total = 0;
  for (let seq = 0; seq < traceCount; seq++) total += expectedTrace(model, seq % model.shardCount, seq).spans.length;
  return total;
}

for (const protocol of ['http/protobuf', 'http/json'] as const) {
  test(`${protocol}: every span of every trace reconciles by id, span by span, through real HTTP`, async () => {
    const { model, ledger, store, sink, outcomes, traceCount } = await runShards({ protocol, shardCount: 3, traces: 300, maxBatchSpans: 10 });
    const total = expectedSpanTotal(model, traceCount);
    assert.ok(outcomes.every((o) => o.status === 200 && o.spans <= 10 && o.errorCode === undefined));
    assert.equal(outcomes.reduce((a, o) => a + o.spans, 0), total);
    assert.ok(outcomes.some((o) => o.firstSeq !== o.lastSeq && o.lastIndex < 6), 'some trace straddles two batches');
    assert.equal(sink.requests.length, outcomes.length);
    const r = reconcileTraces(ledger, store);
    assert.equal(r.tracesSent, traceCount);
    assert.equal(r.tracesComplete, traceCount);
    assert.equal(r.spansSent, total);
    assert.equal(r.spansReceived, total);
    assert.deepEqual([r.spansMissing, r.tracesMissing, r.tracesIncomplete, r.duplicateSpans, r.wrongContentSpans, r.unexpectedSpans, r.foreignRunSpans], [0, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual(ledger.totals.statuses, { 200: outcomes.length });
  });
}

test('open model in real time: no trace leaves before it is due, and partly filled batches go out on the batch delay', async () => {
  // 200 traces/s over 2 shards, 60 traces: due between start + 20 ms (root span end) and start + 315 ms.
  const startEpochMs = Math.round(epochNowMs() + 50);
  const { model, ledger, store, sink, outcomes } = await runShards({ startEpochMs, traces: 60, spec: { ratePerSecond: 200 }, maxBatchSpans: 1000, batchDelayMs: 25 });
  const dueMs = (seq: number): number => startEpochMs + (seq * 1000) / model.ratePerSecond + 20;
  for (const request of sink.requests) {
    const seqs = request.decoded.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => Number.parseInt(s.traceId.slice(20), 16))));
    assert.ok(request.atMs >= dueMs(Math.max(...seqs)) - 1, 'a batch arrives only after its last trace is due');
  }
  assert.ok(outcomes.length > 2, 'with a 25 ms batch delay the 300 ms schedule is not one batch per shard');
  assert.equal(reconcileTraces(ledger, store).tracesComplete, 60);
});

test('a batch acknowledged but dropped shows as exactly its traces missing (lost after ack); a 503 batch as failed export', async () => {
  // 4 spans per trace, 8 per batch: every batch holds two whole traces.
  const { ledger, store, sink } = await runShards({ spec: { spansPerTrace: 4 }, maxBatchSpans: 8, traces: 120, decide: (i) => (i === 3 ? 'ack-only' : i === 7 ? 'fail' : 'observe') });
  const idsOf = (req: SinkRequest): string[] => [...new Set(req.decoded.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => s.traceId))))].sort();
  const dropped = idsOf(sink.requests[3]);
  const failed = idsOf(sink.requests[7]);
  assert.equal(dropped.length, 2);
  assert.equal(failed.length, 2);
  const r = reconcileTraces(ledger, store);
  assert.equal(r.tracesMissing, 4);
  assert.equal(r.tracesIncomplete, 0);
  assert.deepEqual(r.samples.missingTraces.map((t) => t.traceId).sort(), [...dropped, ...failed].sort());
  assert.deepEqual(r.missingByStage, { rejected: 0, failedExport: 8, lostAfterAck: 8 });
  assert.equal(r.spansMissing, 16);
  for (const t of r.samples.missingTraces) assert.deepEqual(t.ledgerStates, [dropped.includes(t.traceId) ? 'acknowledged' : 'failed']);
  assert.equal(ledger.totals.requestsFailed, 1);
});

test('partial_success rejections are attributed to the rejected stage, exactly', async () => {
  const { ledger, store } = await runShards({ rejectSpanRatio: 0.1, traces: 200 });
  const r = reconcileTraces(ledger, store);
  assert.ok(ledger.totals.spansRejected > 0, 'the seeded draw rejected some spans');
  assert.equal(r.missingByStage.rejected, ledger.totals.spansRejected);
  assert.equal(r.spansMissing, ledger.totals.spansRejected);
  assert.deepEqual([r.missingByStage.failedExport, r.missingByStage.lostAfterAck, r.rejectedButVisible], [0, 0, 0]);
});

test('a tampered attribute shows as wrong content on exactly that span', async () => {
  let tampered = '';
  const { store, ledger } = await runShards({
    traces: 50,
    decide: (i, request) => {
      if (i === 1) {
        const span = request.resourceSpans[0].scopeSpans[0].spans[2];
        span.attributes.route = 'route-99';
        tampered = span.spanId;
      }
      return 'observe';
    },
  });
  const r = reconcileTraces(ledger, store);
  assert.equal(r.wrongContentSpans, 1);
  assert.deepEqual(r.wrongContentByField, { attributes: 1 });
  assert.equal(r.samples.wrongContent[0].spanId, tampered);
  assert.equal(r.spansMissing, 0);
});

test('fan-out parentage survives the wire: every child names the root', async () => {
  const { model, store, ledger, sink } = await runShards({ spec: { shape: 'fan-out', spansPerTrace: { min: 3, max: 5 } }, traces: 40 });
  assert.equal(reconcileTraces(ledger, store).wrongContentSpans, 0);
  const spans = sink.requests.flatMap((q) => q.decoded.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans)));
  const roots = new Map(spans.filter((s) => s.parentSpanId === '').map((s) => [s.traceId, s.spanId]));
  assert.equal(roots.size, 40);
  for (const s of spans) if (s.parentSpanId !== '') assert.equal(s.parentSpanId, roots.get(s.traceId));
  assert.equal(traceIdOf(model, 5), expectedTrace(model, 5 % 2, 5).traceId);
});

test('OTLP/JSON bodies carry trace and span ids as lowercase hex (OTLP spec, JSON Protobuf Encoding)', async () => {
  const { model, sink } = await runShards({ protocol: 'http/json', traces: 10 });
  interface JsonSpan { traceId: string; spanId: string; parentSpanId?: string }
  const body = JSON.parse(sink.requests[0].raw.toString('utf8')) as { resourceSpans: { scopeSpans: { spans: JsonSpan[] }[] }[] };
  const spans = body.resourceSpans[0].scopeSpans[0].spans;
  assert.ok(spans.length > 0);
  for (const span of spans) {
    assert.match(span.traceId, /^[0-9a-f]{32}$/);
    assert.match(span.spanId, /^[0-9a-f]{16}$/);
    if (span.parentSpanId) assert.match(span.parentSpanId, /^[0-9a-f]{16}$/);
  }
  const first = expectedTrace(model, 0, 0);
  assert.equal(spans[0].traceId, first.traceId);
  assert.equal(spans[0].spanId, first.spans[0].spanId);
});

test('a batch beyond the in-flight and queue limits is never sent and recorded as dropped by the queue (fake sender, no network)', async () => {
  const model = resolveTraceModel({ ...SPEC, spansPerTrace: 2 }, { runId: 'q', seed: 1, shardCount: 1, startUnixNano: 0n });
  const held: (() => void)[] = [];
  // A fake sender that holds every request until released: labelled as such, it tests the queue only.
  const sender: TraceSender = {
    send: () => new Promise((resolve) => held.push(() => resolve({ status: 200, rejectedSpans: 0 }))),
    close: async () => {},
  };
  const task: ShardTraceTask = {
    tracesUrl: 'http://127.0.0.1:9/v1/traces', protocol: 'http/protobuf', timeoutMs: 1000, headers: {}, model, traceCount: 6,
    maxBatchSpans: 4, batchDelayMs: 1000, maxInFlightRequests: 1, maxQueuedBatches: 1,
  };
  const shard = new TraceShard(task, 0, -1e9, { sender });
  const done = shard.run();
  for (let i = 0; i < 50 && held.length < 1; i++) await new Promise((r) => setImmediate(r));
  for (let i = 0; i < 10 && held.length > 0; i++) {
    held.shift()!();
    await new Promise((r) => setImmediate(r));
  }
  await done;
  const outcomes = shard.takeOutcomes();
  assert.equal(outcomes.length, 3);
  assert.deepEqual(outcomes.map((o) => o.errorCode ?? 'sent').sort(), ['TALLY_QUEUE_FULL', 'sent', 'sent']);
  const ledger = new SpanLedger(model, 6);
  for (const o of outcomes) ledger.record(o);
  assert.equal(ledger.totals.spansDropped, 4);
  assert.equal(ledger.totals.spansFailed, 0);
  assert.equal(ledger.totals.spansAcknowledged, 8);
});

test('the Tempo read-back comparer finds nothing to report between the model expectation and the serialized spans', () => {
  const model = resolveTraceModel({ ...SPEC, shape: 'fan-out' }, { runId: 'tempo-side', seed: 9, shardCount: 2, startUnixNano: 1_700_000_000_123_456_789n });
  const builder = new SpanBatchBuilder(model, 1, 1000);
  for (let seq = 1; seq < 40; seq += 2) {
    builder.beginTrace(seq);
    builder.addSpans();
  }
  const body = JSON.parse(Buffer.from(JsonTraceSerializer.serializeRequest(builder.take().records)!).toString('utf8')) as { resourceSpans: unknown };
  builder.release();
  const spans = spansFromResourceSpans(body.resourceSpans, 'serialized batch');
  const expectation = modelExpectation(model);
  let compared = 0;
  for (let seq = 1; seq < 40; seq += 2) {
    const want = expectation(seq);
    const trace = { traceId: want.traceId, spans: spans.filter((s) => s.traceId === want.traceId), completeness: 'complete' as const, source: { api: 'v2' as const, encoding: 'json' as const } };
    assert.deepEqual(compareTrace(want, trace), []);
    compared += trace.spans.length;
  }
  assert.equal(compared, spans.length);
});
