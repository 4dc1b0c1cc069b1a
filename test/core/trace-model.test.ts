import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../core/errors.ts';
import {
  expectedTrace, parseTraceIdHex, resolveTraceModel, rootSpanIdsOf, runIdHexOf, runIdWords, shardOfSeq, shardTraceIds, spanIdHex,
  spanIndexOf, traceCountFor, traceIdHex, traceIdOf, traceSpanPrefix, traceSpanPrefixOf, traceStartUnixNano, type TraceSpec,
} from '../../core/trace-model.ts';

const SPEC: TraceSpec = {
  ratePerSecond: 100,
  spansPerTrace: { min: 2, max: 6 },
  shape: 'chain',
  attributes: { route: 4, status: 3 },
  kinds: { server: 1, client: 1, internal: 2 },
  statusErrorRatio: 0.1,
  spanDurationMs: 40,
};
const RUN = { runId: 'smoke-20250101T000000Z-abcdef', seed: 42, shardCount: 4, startUnixNano: '1735689600000000000' };

test('trace ids are 8 bytes of run-id hash · 2 bytes shard · 6 bytes sequence, and parse back', () => {
  const model = resolveTraceModel(SPEC, RUN);
  assert.equal(model.runIdHex, runIdHexOf(RUN.runId));
  assert.match(model.runIdHex, /^[0-9a-f]{16}$/);
  const seq = 0x123456789a + 2; // shard = seq mod 4 = 0
  const id = traceIdOf(model, seq);
  assert.equal(id, model.runIdHex + (seq % 4).toString(16).padStart(4, '0') + seq.toString(16).padStart(12, '0'));
  assert.deepEqual(parseTraceIdHex(id), { runIdHex: model.runIdHex, shard: seq % 4, seq });
  assert.equal(traceIdHex({ runIdHex: model.runIdHex, shard: 0xffff, seq: 2 ** 48 - 1 }).slice(16), 'ffffffffffffffff');
  assert.throws(() => traceIdHex({ runIdHex: model.runIdHex, shard: 0x10000, seq: 0 }), { code: 'TALLY_INTERNAL' });
  assert.throws(() => traceIdHex({ runIdHex: model.runIdHex, shard: 0, seq: 2 ** 48 }), { code: 'TALLY_INTERNAL' });
  assert.equal(parseTraceIdHex('not hex'), null);
});

test('hot-path forms: traceSpanPrefixOf ≡ traceSpanPrefix ≡ hash32 of the parts; rootSpanIdsOf is the root span of expectedTrace', async () => {
  const { hash32 } = await import('../../core/rng.ts');
  const model = resolveTraceModel(SPEC, RUN);
  const run = runIdWords(model.runIdHex);
  for (const seq of [0, 1, 7, 2 ** 32 + 5, 2 ** 47 + 3]) {
    const shard = shardOfSeq(model, seq);
    const prefix = traceSpanPrefix({ runIdHex: model.runIdHex, shard, seq });
    assert.equal(traceSpanPrefixOf(run.high, run.low, shard, seq), prefix);
    assert.equal(prefix, hash32(run.high, run.low, shard, Math.floor(seq / 2 ** 32), seq >>> 0));
    if (seq < 1000) {
      const trace = expectedTrace(model, shard, seq);
      assert.deepEqual(rootSpanIdsOf(model.runIdHex, shard, seq), { traceId: trace.traceId, spanId: trace.spans[0].spanId });
    }
  }
});

test('derived ids are unique across shards and sequences, never zero, and reproducible', () => {
  const model = resolveTraceModel(SPEC, RUN);
  const again = resolveTraceModel(SPEC, RUN);
  const traceIds = new Set<string>();
  let spans = 0;
  for (let seq = 0; seq < 5000; seq++) {
    const trace = expectedTrace(model, shardOfSeq(model, seq), seq);
    traceIds.add(trace.traceId);
    assert.notEqual(trace.traceId, '0'.repeat(32));
    const spanIds = new Set(trace.spans.map((s) => s.spanId));
    assert.equal(spanIds.size, trace.spans.length, `span ids unique within trace ${seq}`);
    for (const span of trace.spans) {
      assert.match(span.spanId, /^[0-9a-f]{16}$/);
      assert.notEqual(span.spanId.slice(8), '00000000');
      assert.equal(spanIndexOf(traceSpanPrefix(parseTraceIdHex(trace.traceId)!), span.spanId), span.index);
    }
    spans += trace.spans.length;
    if (seq % 500 === 0) assert.deepEqual(expectedTrace(again, shardOfSeq(again, seq), seq), trace, 'same inputs, same trace');
  }
  assert.equal(traceIds.size, 5000);
  assert.ok(spans >= 5000 * 2 && spans <= 5000 * 6);
  // Another run id moves every trace id; the span id of one trace is not valid in another.
  const other = resolveTraceModel(SPEC, { ...RUN, runId: RUN.runId + 'x' });
  assert.notEqual(other.runIdHex, model.runIdHex);
  const prefix0 = traceSpanPrefix({ runIdHex: model.runIdHex, shard: 0, seq: 0 });
  const prefix4 = traceSpanPrefix({ runIdHex: model.runIdHex, shard: 0, seq: 4 });
  assert.equal(spanIndexOf(prefix4, spanIdHex(prefix0, 1)), -1);
  assert.equal(spanIndexOf(prefix0, spanIdHex(prefix0, 0).slice(0, 8) + '00000000'), -1, 'an all-zero low half is never a span id');
});

test('every trace id a shard sends, and the shards together cover [0, n) exactly once', () => {
  const model = resolveTraceModel(SPEC, RUN);
  const n = 103;
  const seen = new Map<number, string>();
  for (let shard = 0; shard < model.shardCount; shard++) {
    for (const { seq, traceId } of shardTraceIds(model, shard, n)) {
      assert.equal(seq % model.shardCount, shard);
      assert.equal(seen.has(seq), false);
      seen.set(seq, traceId);
      assert.equal(traceId, traceIdOf(model, seq));
    }
  }
  assert.deepEqual([...seen.keys()].sort((a, b) => a - b), Array.from({ length: n }, (_, i) => i));
  assert.equal(traceCountFor(model, 1000), 100);
  assert.equal(traceCountFor(model, 1005), 101);
  assert.equal(traceCountFor(model, 0), 0);
});

test('chain: span i is the child of span i−1; fan-out: every span is a child of the root; children nest in time', () => {
  for (const shape of ['chain', 'fan-out'] as const) {
    const model = resolveTraceModel({ ...SPEC, shape, spansPerTrace: 5 }, RUN);
    const trace = expectedTrace(model, 3, 7);
    const start = traceStartUnixNano(model, 7);
    assert.equal(start, BigInt(RUN.startUnixNano) + 70_000_000n, 'anchored at start + seq / rate');
    const [root, ...children] = trace.spans;
    assert.equal(root.parentSpanId, null);
    assert.equal(root.name, 'tally-root');
    assert.equal(root.startTimeUnixNano, start);
    assert.equal(root.endTimeUnixNano, start + 40_000_000n);
    children.forEach((span, k) => {
      const parent = shape === 'chain' ? trace.spans[k] : root;
      assert.equal(span.parentSpanId, parent.spanId, `${shape} parent of span ${k + 1}`);
      assert.ok(span.startTimeUnixNano >= parent.startTimeUnixNano && span.endTimeUnixNano <= parent.endTimeUnixNano, 'child inside parent');
      assert.ok(span.startTimeUnixNano < span.endTimeUnixNano);
    });
  }
});

test('span counts, kinds, status and attributes follow the spec over many spans', () => {
  const model = resolveTraceModel(SPEC, RUN);
  const counts = new Map<number, number>();
  const kinds = new Map<string, number>();
  const combos = new Set<string>();
  let errors = 0;
  let spans = 0;
  for (let seq = 0; seq < 4000; seq++) {
    const trace = expectedTrace(model, seq % 4, seq);
    counts.set(trace.spans.length, (counts.get(trace.spans.length) ?? 0) + 1);
    for (const span of trace.spans) {
      spans++;
      kinds.set(span.kind, (kinds.get(span.kind) ?? 0) + 1);
      if (span.status === 'error') errors++;
      assert.deepEqual(Object.keys(span.attributes), ['route', 'status']);
      combos.add(JSON.stringify(span.attributes));
      assert.deepEqual(span.resourceAttributes, { 'service.name': 'tally', 'tally.run.id': RUN.runId, 'tally.shard': BigInt(seq % 4) });
    }
  }
  assert.deepEqual([...counts.keys()].sort(), [2, 3, 4, 5, 6], 'every count in [min, max] occurs, none outside');
  assert.deepEqual([...kinds.keys()].sort(), ['client', 'internal', 'server']);
  // Weights 1:1:2 → 25 %, 25 %, 50 %; binomial sd at ~16k spans is < 0.4 %, allow 3 %.
  assert.ok(Math.abs(kinds.get('internal')! / spans - 0.5) < 0.03);
  assert.ok(Math.abs(kinds.get('server')! / spans - 0.25) < 0.03);
  assert.ok(Math.abs(errors / spans - 0.1) < 0.02);
  assert.equal(combos.size, 12, 'cardinality 4 × 3 covered');
});

test('a different seed changes content but not ids; the shard is checked', () => {
  const a = resolveTraceModel(SPEC, RUN);
  const b = resolveTraceModel(SPEC, { ...RUN, seed: 43 });
  const ta = expectedTrace(a, 1, 9);
  const tb = expectedTrace(b, 1, 9);
  assert.equal(ta.traceId, tb.traceId);
  const differs = [...Array(50).keys()].some((seq) => JSON.stringify(expectedTrace(a, seq % 4, seq).spans, big) !== JSON.stringify(expectedTrace(b, seq % 4, seq).spans, big));
  assert.ok(differs);
  assert.throws(() => expectedTrace(a, 2, 9), { code: 'TALLY_INTERNAL' });
});

test('a bad traces section is a ConfigError naming every field by JSON pointer', () => {
  const bad = { ...SPEC, ratePerSecond: 0, spansPerTrace: { min: 3, max: 2 }, shape: 'star' as 'chain', kinds: { server: -1 }, statusErrorRatio: 2, spanDurationMs: 0 };
  try {
    resolveTraceModel(bad, RUN);
    assert.fail('expected a ConfigError');
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    assert.equal(error.code, 'TALLY_CONFIG_INVALID');
    assert.deepEqual(error.problems.map((p) => p.pointer).sort(), [
      '/telemetry/traces/kinds', '/telemetry/traces/kinds/server', '/telemetry/traces/ratePerSecond', '/telemetry/traces/shape',
      '/telemetry/traces/spanDuration', '/telemetry/traces/spansPerTrace', '/telemetry/traces/statusErrorRatio',
    ]);
  }
});

function big(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? String(value) : value;
}

test('telemetry.traces in a scenario: a full section is accepted, bad ones are refused with their pointers, and defaults resolve', async () => {
  const { parseScenario } = await import('../../scenarios/load.ts');
  const { ConfigError } = await import('../../core/errors.ts');
  const withTraces = (traces: string): string => `name: t\nduration: 5s\ntelemetry:\n  traces: ${traces}\n`;
  const full = parseScenario(withTraces('{ ratePerSecond: 500, spansPerTrace: { min: 2, max: 8 }, shape: fan-out, attributes: { route: 20 }, kinds: { server: 1, client: 3 }, statusErrorRatio: 0.05, spanDuration: 20ms, maxBatchSpans: 256, batchDelay: 200ms }'));
  assert.deepEqual(full.scenario.telemetry?.traces?.spansPerTrace, { min: 2, max: 8 });
  assert.equal(full.scenario.telemetry?.traces?.batchDelayMs, 200);
  const bad: [string, string][] = [
    ['{ ratePerSecond: 0 }', '/telemetry/traces/ratePerSecond'],
    ['{ ratePerSecond: 1, shape: star }', '/telemetry/traces/shape'],
    ['{ ratePerSecond: 1, kinds: { unspecified: 1 } }', '/telemetry/traces/kinds/unspecified'],
    ['{ ratePerSecond: 1, spanDuration: "20" }', '/telemetry/traces/spanDuration'],
    ['{ ratePerSecond: 1, extra: true }', '/telemetry/traces/extra'],
    ['{ ratePerSecond: 1, spansPerTrace: { min: 5, max: 2 } }', '/telemetry/traces/spansPerTrace'],
  ];
  for (const [section, pointer] of bad) {
    assert.throws(() => parseScenario(withTraces(section)), (err: unknown) => err instanceof ConfigError && err.problems.some((p) => p.pointer.startsWith(pointer)), section);
  }
  // The documented defaults resolve to a model of 4-span traces.
  const { scenario } = parseScenario(withTraces('{ ratePerSecond: 1 }'));
  const model = resolveTraceModel(scenario.telemetry!.traces!, RUN);
  assert.equal(expectedTrace(model, 0, 0).spans.length, 4);
});
