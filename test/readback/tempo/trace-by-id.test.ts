import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTempoClient, type TempoClient } from '../../../readback/tempo/client.ts';
import { decodeTraceReply } from '../../../readback/tempo/trace-body.ts';
import type { TempoResult, TempoTrace } from '../../../readback/tempo/types.ts';
import { FIXTURE_PROBES, fixture, startReplayServer, type ReplayServer } from './replay-server.ts';

const TRACE_1 = '7a117a11000000010000000000000001';
const TRACE_15 = '7a117a1100000001000000000000000f';
const PROBE_1 = '00000000000000007a110000000000ff';

let server: ReplayServer;
let client: TempoClient;

before(async () => {
  server = await startReplayServer({ phases: ['A', 'C'] });
  client = createTempoClient({ baseUrl: server.url });
});

after(async () => {
  await client.close();
  await server.close();
});

function value(result: TempoResult<TempoTrace>): TempoTrace {
  assert.equal(result.ok, true, result.ok ? '' : `${result.reason} ${result.bodyText}`);
  return (result as { value: TempoTrace }).value;
}

/** The trace without `source`, so the two encodings can be compared. */
function content(trace: TempoTrace): unknown {
  const { source: _source, ...rest } = trace;
  return rest;
}

test('trace 1: protobuf and JSON bodies agree span for span', async () => {
  const pb = value(await client.traceById(TRACE_1, { encoding: 'protobuf' }));
  const json = value(await client.traceById(TRACE_1, { encoding: 'json' }));
  assert.deepEqual(pb.source, { api: 'v1', encoding: 'protobuf' });
  assert.deepEqual(json.source, { api: 'v1', encoding: 'json' });
  assert.deepEqual(content(pb), content(json));
  assert.deepEqual(server.unmatched, []);
});

test('trace 1 decodes to the README values: ids from base64, chain, kinds, times, typed attributes', async () => {
  const trace = value(await client.traceById(TRACE_1, { encoding: 'json' }));
  assert.equal(trace.traceId, TRACE_1);
  assert.deepEqual(trace.spans.map((s) => [s.spanId, s.parentSpanId, s.name, s.kind]), [
    ['7a11000000010001', null, 'tally-root', 'server'],
    ['7a11000000010002', '7a11000000010001', 'tally-child', 'internal'],
    ['7a11000000010003', '7a11000000010002', 'tally-leaf', 'internal'],
  ]);
  assert.ok(trace.spans.every((s) => s.traceId === TRACE_1));
  assert.equal(trace.spans[0].startTimeUnixNano, 1795280351000000000n);
  assert.equal(trace.spans[0].endTimeUnixNano, 1795280351050000000n);
  assert.deepEqual(trace.spans[0].attributes, { 'tally.seq': 1n, 'http.route': '/r/1' });
  assert.deepEqual(trace.spans[0].status, { code: 'unset', message: '' });
  // Order is not preserved by Tempo; the record compares by key.
  assert.deepEqual(trace.spans[0].resourceAttributes, { 'service.name': 'tally-fixture', 'tally.run.id': '7a117a1100000001', 'tally.shard': 0n });
  assert.deepEqual(trace.spans[0].scope, { name: 'tally-fixture-recorder', version: '1.0.0' });
});

test('trace 15 (ingested as OTLP/JSON): protobuf and JSON agree and carry seq 15 ids', async () => {
  const pb = value(await client.traceById(TRACE_15, { encoding: 'protobuf' }));
  const json = value(await client.traceById(TRACE_15, { encoding: 'json' }));
  assert.deepEqual(content(pb), content(json));
  assert.deepEqual(pb.spans.map((s) => s.spanId), ['7a110000000f0001', '7a110000000f0002', '7a110000000f0003']);
  assert.equal(pb.spans[0].attributes['tally.seq'], 15n);
  assert.equal(pb.spans[0].attributes['http.route'], '/r/3');
});

test('large JSON bodies travel gzip-encoded, as Tempo served them', async () => {
  const before = server.requests.length;
  value(await client.traceById(TRACE_1, { encoding: 'json' }));
  const request = server.requests[before];
  assert.match(String(request.headers['accept-encoding']), /gzip/);
  assert.equal(request.headers.accept, 'application/json');
});

test('leading-zero trace id: a 16-hex trimmed id is padded; base64 in the body keeps all 16 bytes', async () => {
  const pb = value(await client.traceById('7a110000000000ff', { encoding: 'protobuf' }));
  const json = value(await client.traceById(PROBE_1, { encoding: 'json' }));
  assert.equal(pb.traceId, PROBE_1);
  assert.equal(json.spans[0].traceId, PROBE_1);
  assert.deepEqual(content(pb), content(json));
  assert.equal(json.spans[0].spanId, '7a110000ff000001');
  assert.equal(server.requests.at(-2)?.pathname, `/api/traces/${PROBE_1}`);
});

test('probe 2 (odd-length trimmed id on the wire): the recorded body decodes to the full id', () => {
  const trace = decodeTraceReply({
    status: 200,
    contentType: 'application/json',
    body: fixture('probe-leading-zero-ids/trace-probe2-trimmed-id.json'),
    endpoint: 'GET /api/traces/a117a110000000100000000000000fe',
  }, '0a117a110000000100000000000000fe', 'v1');
  assert.equal(trace.spans[0].traceId, '0a117a110000000100000000000000fe');
  assert.equal(trace.spans[0].spanId, '7a110000fe000001');
});

test('404 is a not_found result, for JSON and for protobuf requests', async () => {
  for (const encoding of ['json', 'protobuf'] as const) {
    const result = await client.traceById('7a117a110000000100000000000003e7', { encoding });
    assert.equal(result.ok, false);
    assert.ok(!result.ok);
    assert.equal(result.reason, 'not_found');
    assert.equal(result.status, 404);
    assert.equal(result.bodyText, 'trace not found');
  }
});

test('a non-hex id is sent verbatim and Tempo\'s 400 comes back classified with its text', async () => {
  const result = await client.traceById('zz', { encoding: 'json' });
  assert.ok(!result.ok);
  assert.equal(result.reason, 'bad_request');
  assert.equal(result.status, 400);
  assert.match(result.bodyText, /^trace IDs can only contain hex characters/);
});

test('a 34-hex id (too long) is Tempo\'s 400, classified', async () => {
  const result = await client.traceById('7a117a1100000001000000000000000100', { encoding: 'json' });
  assert.ok(!result.ok);
  assert.equal(result.reason, 'bad_request');
  assert.equal(result.bodyText, "trace IDs can't be larger than 128 bits");
});

test('v2 trace by id: asked for without detect, 2.0.1 says 404 page not found → unsupported, and it is learned', async () => {
  const fresh = createTempoClient({ baseUrl: server.url });
  try {
    const result = await fresh.traceById(TRACE_1, { api: 'v2', encoding: 'json' });
    assert.ok(!result.ok);
    assert.equal(result.reason, 'unsupported');
    assert.equal(fresh.capabilities.endpoints.traceByIdV2.presence, 'absent');
    const sent = server.requests.length;
    const again = await fresh.traceById(TRACE_1, { api: 'v2' });
    assert.ok(!again.ok && again.reason === 'unsupported' && again.status === null);
    assert.equal(server.requests.length, sent, 'no request for a route known absent');
  } finally {
    await fresh.close();
  }
});

test('after detect, auto uses v1 on 2.0.1 (v2 probed absent) without trying v2', async () => {
  const fresh = createTempoClient({ baseUrl: server.url });
  try {
    await fresh.detect(FIXTURE_PROBES);
    const sent = server.requests.length;
    const trace = value(await fresh.traceById(TRACE_15));
    assert.equal(trace.source.api, 'v1');
    assert.deepEqual(server.requests.slice(sent).map((r) => r.pathname), [`/api/traces/${TRACE_15}`]);
  } finally {
    await fresh.close();
  }
});

test('phase B trace 1 (after the block cut) reads back identically', async () => {
  const b = await startReplayServer({ phases: ['B'] });
  const bClient = createTempoClient({ baseUrl: b.url });
  try {
    const later = value(await bClient.traceById(TRACE_1, { encoding: 'json' }));
    const earlier = value(await client.traceById(TRACE_1, { encoding: 'json' }));
    assert.deepEqual(later, earlier);
  } finally {
    await bClient.close();
    await b.close();
  }
});

test('v2 JSON envelope (docs shape, not verified against a server): trace.resourceSpans and PARTIAL status', () => {
  const v1 = JSON.parse(fixture('api/trace-01.json').toString('utf8')) as { batches: unknown[] };
  const body = Buffer.from(JSON.stringify({ trace: { resourceSpans: v1.batches }, status: 'PARTIAL', message: 'some blocks failed' }));
  const trace = decodeTraceReply({ status: 200, contentType: 'application/json', body, endpoint: 'GET /api/v2/traces/x' }, TRACE_1, 'v2');
  assert.equal(trace.completeness, 'partial');
  assert.equal(trace.spans.length, 3);
  assert.deepEqual(trace.source, { api: 'v2', encoding: 'json' });
});
