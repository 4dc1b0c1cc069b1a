import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTempoClient, type TempoClient } from '../../../readback/tempo/client.ts';
import { FIXTURE_RUN, fixtureRunExpectation, type TraceExpectation } from '../../../readback/tempo/expected.ts';
import { parseTraceId } from '../../../readback/tempo/ids.ts';
import { tempoTraceBackend, type TempoCountOptions } from '../../../readback/tempo/backend.ts';
import { verifyTraceSample } from '../../../readback/traces/verify.ts';
import { CollectorError } from '../../../core/errors.ts';
import { sampleTraceSeqs, wilsonInterval } from '../../../reconcile/traces-sample.ts';
import { deriveTraceJson, derivedTraceRoutes } from './derived-traces.ts';
import { FIXTURE_PROBES, FIXTURE_WINDOW, fixture, startReplayServer, type ReplayPhase, type ReplayServer } from './replay-server.ts';

const expectation = fixtureRunExpectation();
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const isRunTrace = (hex: string): boolean => parseTraceId(hex)?.runIdHex === FIXTURE_RUN.runIdHex;

const SEARCH_COUNT: TempoCountOptions = {
  isRunTrace,
  count: { traceql: '{ name = "tally-root" }', ...FIXTURE_WINDOW, stepMs: 15_000 },
  search: { tags: { 'service.name': 'tally-fixture' }, ...FIXTURE_WINDOW, limit: 50 },
};

async function withClient(
  phases: ReplayPhase[],
  derived: boolean,
  body: (client: TempoClient, server: ReplayServer) => Promise<void>,
): Promise<void> {
  const server = await startReplayServer({ phases, extraRoutes: derived ? derivedTraceRoutes() : undefined });
  const client = createTempoClient({ baseUrl: server.url, traceEncoding: 'json' });
  try {
    await client.detect(FIXTURE_PROBES);
    await body(client, server);
  } finally {
    await client.close();
    await server.close();
  }
}

test('the fixture expectation reproduces the README layout (seq 1, 15, 20)', () => {
  const one = expectation(1);
  assert.equal(one.traceId, '7a117a11000000010000000000000001');
  assert.deepEqual(one.spans.map((s) => [s.spanId, s.parentSpanId, s.name, s.kind]), [
    ['7a11000000010001', null, 'tally-root', 'server'],
    ['7a11000000010002', '7a11000000010001', 'tally-child', 'internal'],
    ['7a11000000010003', '7a11000000010002', 'tally-leaf', 'internal'],
  ]);
  assert.equal(one.spans[0].startTimeUnixNano, 1795280351000000000n);
  assert.equal(one.spans[0].endTimeUnixNano, 1795280351050000000n);
  assert.equal(expectation(15).spans[2].spanId, '7a110000000f0003');
  assert.equal(expectation(20).traceId, '7a117a11000000010000000000000014');
  assert.equal(expectation(20).spans[0].startTimeUnixNano, 1795280352900000000n);
});

test('genuine recordings: traces 1 and 15 verify span by span with no findings, JSON and protobuf', async () => {
  await withClient(['A'], false, async (client, server) => {
    for (const encoding of ['json', 'protobuf'] as const) {
      const result = await verifyTraceSample(tempoTraceBackend(client, { traceById: { encoding } }), expectation, { seqs: [15, 1] });
      assert.deepEqual(result.findings, []);
      assert.equal(result.checked, 2);
      assert.equal(result.found, 2);
      assert.equal(result.traceLoss.lost, 0);
      assert.equal(result.crossCheck.method, 'none');
    }
    assert.deepEqual(server.unmatched, []);
  });
});

test('genuine recordings: a seq that was never sent (999, recorded 404) is a missing trace, counted in the loss', async () => {
  await withClient(['A'], false, async (client) => {
    const result = await verifyTraceSample(tempoTraceBackend(client), expectation, { seqs: [1, 15, 999] });
    assert.deepEqual(result.findings, [{ kind: 'missing_trace', seq: 999, traceId: '7a117a110000000100000000000003e7' }]);
    assert.equal(result.counts.missing_trace, 1);
    assert.equal(result.traceLoss.checked, 3);
    assert.ok(Math.abs((result.traceLoss.ratio ?? -1) - 1 / 3) < 1e-12);
  });
});

test('derived bodies are trustworthy: deriving trace 15 from trace 1 reproduces the recorded trace-15.json byte for byte', () => {
  assert.ok(deriveTraceJson(15).equals(fixture('api/trace-15.json')));
  assert.ok(deriveTraceJson(1).equals(fixture('api/trace-01.json')));
});

test('all 20 traces verify with zero loss; Wilson upper bound 0.1611; search cross-check agrees (metrics absent on 2.0.1)', async () => {
  await withClient(['A'], true, async (client) => {
    const result = await verifyTraceSample(tempoTraceBackend(client, { count: SEARCH_COUNT }), expectation, { seqs: range(1, 20), crossCheck: { expectedTraces: 20 } });
    assert.deepEqual(result.findings, []);
    assert.equal(result.sampled, 20);
    assert.equal(result.checked, 20);
    assert.equal(result.traceLoss.ratio, 0);
    assert.equal(result.traceLoss.lower, 0);
    assert.ok(Math.abs(result.traceLoss.upper - 0.16112515805281938) < 1e-9);
    assert.equal(result.crossCheck.method, 'search', 'count_over_time is unsupported on 2.0.1, search is the fallback');
    assert.equal(result.crossCheck.observedTraces, 20);
    assert.equal(result.crossCheck.lossRatio, 0);
    assert.equal(result.crossCheck.lowerBound, false);
    assert.equal(result.crossCheck.consistentWithSample, true);
  });
});

test('a seeded stratified sample of the run verifies with zero loss and a wider interval', async () => {
  const seqs = sampleTraceSeqs({ seed: 42, firstSeq: 1, lastSeq: 20, sampleSize: 8, strata: 4 });
  assert.equal(seqs.length, 8);
  assert.deepEqual([0, 1, 2, 3].map((s) => seqs.filter((seq) => Math.floor((seq - 1) / 5) === s).length), [2, 2, 2, 2]);
  await withClient(['A'], true, async (client) => {
    const result = await verifyTraceSample(tempoTraceBackend(client, { count: SEARCH_COUNT }), expectation, { seqs, crossCheck: { expectedTraces: 20 } });
    assert.deepEqual(result.findings, []);
    assert.equal(result.traceLoss.checked, 8);
    assert.equal(result.traceLoss.upper, wilsonInterval(0, 8).upper);
    assert.equal(result.crossCheck.consistentWithSample, true);
  });
});

test('a sample including seq 21 (never sent) finds it missing; the search count stays consistent', async () => {
  await withClient(['A'], true, async (client) => {
    const result = await verifyTraceSample(tempoTraceBackend(client, { count: SEARCH_COUNT }), expectation, {
      seqs: range(1, 21),
      crossCheck: { expectedTraces: 21 },
    });
    assert.deepEqual(result.findings, [{ kind: 'missing_trace', seq: 21, traceId: '7a117a11000000010000000000000015' }]);
    assert.equal(result.missing, 1);
    assert.equal(result.traceLoss.lost, 1);
    assert.equal(result.traceLoss.checked, 21);
    assert.equal(result.crossCheck.observedTraces, 20);
    assert.equal(result.crossCheck.consistentWithSample, true);
  });
});

test('content differences are findings naming the field; missing and unexpected spans are counted', async () => {
  const altered: TraceExpectation = (seq) => {
    const want = expectation(seq);
    if (seq === 15) {
      return {
        ...want,
        spans: [
          { ...want.spans[0], name: 'renamed-root', attributes: { ...want.spans[0].attributes, 'http.route': '/r/9' } },
          want.spans[1],
          { ...want.spans[1], spanId: '7a110000000f0009', parentSpanId: want.spans[1].spanId },
        ],
      };
    }
    return want;
  };
  await withClient(['A'], false, async (client) => {
    const result = await verifyTraceSample(tempoTraceBackend(client), altered, { seqs: [1, 15] });
    assert.deepEqual(result.counts, { missing_trace: 0, missing_span: 1, unexpected_span: 1, duplicate_span: 0, wrong_content: 2, query_failed: 0 });
    assert.deepEqual(result.wrongContentByField, { name: 1, 'attributes.http.route': 1 });
    const route = result.findings.find((f) => f.field === 'attributes.http.route');
    assert.deepEqual(route, { kind: 'wrong_content', seq: 15, traceId: '7a117a1100000001000000000000000f', spanId: '7a110000000f0001', field: 'attributes.http.route', expected: '"/r/9"', observed: '"/r/3"' });
    assert.equal(result.findings.find((f) => f.kind === 'unexpected_span')?.spanId, '7a110000000f0003');
    assert.equal(result.incomplete, 1);
    assert.equal(result.altered, 1);
    assert.equal(result.traceLoss.lost, 0, 'a damaged trace is not a lost trace');
    assert.doesNotThrow(() => JSON.stringify(result));
  });
});

test('an int sent as int but expected as double is wrong_content (types are compared)', async () => {
  const asDouble: TraceExpectation = (seq) => {
    const want = expectation(seq);
    return { ...want, spans: want.spans.map((s) => ({ ...s, attributes: { ...s.attributes, 'tally.seq': seq } })) };
  };
  await withClient(['A'], false, async (client) => {
    const result = await verifyTraceSample(tempoTraceBackend(client), asDouble, { seqs: [1] });
    assert.equal(result.counts.wrong_content, 3);
    assert.equal(result.findings[0].expected, 'double 1');
    assert.equal(result.findings[0].observed, 'int 1');
  });
});

test('failed reads are query_failed findings, excluded from the loss denominator', async () => {
  // Phase A has no body for trace 2 by id: the replay answers 501, a server_error.
  await withClient(['A'], false, async (client) => {
    const result = await verifyTraceSample(tempoTraceBackend(client), expectation, { seqs: [1, 2] });
    assert.equal(result.failed, 1);
    assert.equal(result.checked, 1);
    assert.deepEqual(result.findings.map((f) => [f.kind, f.seq, f.reason]), [['query_failed', 2, 'server_error']]);
  });
});

test('cross-check without a usable count reports method none and why', async () => {
  await withClient(['A'], false, async (client) => {
    const result = await verifyTraceSample(tempoTraceBackend(client, { count: { count: SEARCH_COUNT.count } }), expectation, {
      seqs: [1],
      crossCheck: { expectedTraces: 20, maxWaitMs: 10_000 },
    });
    assert.equal(result.crossCheck.method, 'none');
    assert.equal(result.crossCheck.observedTraces, null);
    assert.equal(result.crossCheck.failure?.reason, 'unsupported');
    assert.equal(result.crossCheck.failure?.status, null, 'known absent: no request sent');
  });
});

test('an unreachable Tempo aborts verification instead of reporting 100% loss', async () => {
  const server = await startReplayServer({ phases: ['A'] });
  const url = server.url;
  await server.close();
  const client = createTempoClient({ baseUrl: url });
  try {
    await assert.rejects(verifyTraceSample(tempoTraceBackend(client), expectation, { seqs: [1, 2, 3] }),
      (e: unknown) => e instanceof CollectorError && (e.details as { reason: string }).reason === 'connection_refused');
  } finally {
    await client.close();
  }
});
