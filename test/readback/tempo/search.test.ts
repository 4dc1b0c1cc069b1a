import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTempoClient, type TempoClient } from '../../../readback/tempo/client.ts';
import { decodeMetricsReply } from '../../../readback/tempo/replies.ts';
import { logfmtTags } from '../../../readback/tempo/search.ts';
import { ConfigError } from '../../../core/errors.ts';
import type { TempoResult } from '../../../readback/tempo/types.ts';
import { FIXTURE_PROBES, FIXTURE_WINDOW, startReplayServer, type ReplayServer } from './replay-server.ts';

const RUN_PREFIX = '7a117a110000000100000000';
const seqHex = (seq: number): string => RUN_PREFIX + seq.toString(16).padStart(8, '0');

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

function ok<T>(result: TempoResult<T>): T {
  assert.equal(result.ok, true, result.ok ? '' : `${result.reason} ${result.status} ${result.bodyText}`);
  return (result as { value: T }).value;
}

test('tag search: all 20 traces, newest first, full 32-hex ids, string times parsed', async () => {
  const result = ok(await client.search({ tags: { 'service.name': 'tally-fixture' }, limit: 50 }));
  assert.deepEqual(result.traces.map((t) => t.traceId), Array.from({ length: 20 }, (_, i) => seqHex(20 - i)));
  assert.equal(result.traces[0].startTimeUnixNano, 1795280352900000000n);
  assert.equal(result.traces[0].durationMs, 50);
  assert.equal(result.traces[0].rootServiceName, 'tally-fixture');
  assert.deepEqual(result.traces[0].spanSets, []);
  assert.deepEqual(result.metrics, { inspectedTraces: 20, inspectedBytes: 14790n, inspectedBlocks: 1 });
  assert.equal(result.limitReached, false);
  assert.deepEqual(server.unmatched, []);
});

test('tag search with start/end: metrics without inspectedBlocks read as 0', async () => {
  const result = ok(await client.search({ tags: { 'service.name': 'tally-fixture' }, limit: 50, ...FIXTURE_WINDOW }));
  assert.equal(result.traces.length, 20);
  assert.equal(result.metrics.inspectedBlocks, 0);
});

test('limit 5 returns the oldest five (scan order) and is flagged as a possibly truncated count', async () => {
  const result = ok(await client.search({ tags: { 'service.name': 'tally-fixture' }, limit: 5 }));
  assert.deepEqual(result.traces.map((t) => t.traceId), [5, 4, 3, 2, 1].map(seqHex));
  assert.equal(result.limitReached, true);
});

test('TraceQL search: singular spanSet (2.0) becomes spanSets with full span ids', async () => {
  const result = ok(await client.searchTraceQL('{ resource.service.name = "tally-fixture" }', { limit: 50 }));
  assert.equal(result.traces.length, 20);
  const newest = result.traces[0];
  assert.equal(newest.traceId, seqHex(20));
  assert.equal(newest.spanSets.length, 1);
  assert.equal(newest.spanSets[0].matched, 3);
  assert.deepEqual(newest.spanSets[0].spans.map((s) => s.spanId), ['7a11000000140001', '7a11000000140002', '7a11000000140003']);
  assert.equal(newest.spanSets[0].spans[1].durationNanos, 30_000_000n);
  assert.equal(newest.spanSets[0].spans[0].name, null, '2.0.1 does not return span names');
  assert.deepEqual(newest.spanSets[0].spans[0].attributes, { 'service.name': 'tally-fixture' });
});

test('TraceQL search with start/end answers with an empty metrics object', async () => {
  const result = ok(await client.searchTraceQL('{ resource.service.name = "tally-fixture" }', { limit: 50, ...FIXTURE_WINDOW }));
  assert.equal(result.traces.length, 20);
  assert.deepEqual(result.metrics, { inspectedTraces: 0, inspectedBytes: 0n, inspectedBlocks: 0 });
});

test('TraceQL search on an int attribute returns exactly trace 7, with the int typed', async () => {
  const result = ok(await client.searchTraceQL('{ span.tally.seq = 7 }', { limit: 50 }));
  assert.deepEqual(result.traces.map((t) => t.traceId), [seqHex(7)]);
  assert.deepEqual(result.traces[0].spanSets[0].spans.map((s) => s.attributes['tally.seq']), [7n, 7n, 7n]);
});

test('invalid TraceQL is a bad_request result carrying the parser message', async () => {
  const result = await client.searchTraceQL('{ span.tally.seq = }', { limit: 50 });
  assert.ok(!result.ok);
  assert.equal(result.reason, 'bad_request');
  assert.equal(result.status, 400);
  assert.match(result.bodyText, /^invalid TraceQL query: parse error at line 1, col 20/);
});

test('search ids trimmed of leading zeros (probe traces) are restored, tag and TraceQL alike', async () => {
  const tags = ok(await client.search({ tags: { 'service.name': 'tally-fixture-probe' }, limit: 50 }));
  const traceql = ok(await client.searchTraceQL('{ resource.service.name = "tally-fixture-probe" }', { limit: 50 }));
  const expected = ['0a117a110000000100000000000000fe', '00000000000000007a110000000000ff'];
  assert.deepEqual(tags.traces.map((t) => t.traceId), expected);
  assert.deepEqual(traceql.traces.map((t) => t.traceId), expected);
  assert.deepEqual(traceql.traces.map((t) => t.spanSets[0].spans[0].spanId), ['7a110000fe000001', '7a110000ff000001']);
});

test('v1 tag values: strings, untyped; an int attribute sorts as strings', async () => {
  const service = ok(await client.tagValues('service.name'));
  assert.deepEqual(service, { api: 'v1', values: [{ type: null, value: 'tally-fixture' }] });
  const seqs = ok(await client.tagValues('tally.seq'));
  assert.deepEqual(seqs.values.slice(0, 4).map((v) => v.value), ['1', '10', '11', '12']);
  assert.equal(seqs.values.length, 20);
});

test('v2 tag values before the block cut: 200 {} reads as no values', async () => {
  const result = ok(await client.tagValues('resource.service.name'));
  assert.deepEqual(result, { api: 'v2', values: [] });
});

test('v2 tag values after the block cut: typed and unsorted; an unscoped name is a 500 server_error', async () => {
  const b = await startReplayServer({ phases: ['B'] });
  const bClient = createTempoClient({ baseUrl: b.url });
  try {
    const routes = ok(await bClient.tagValues('span.http.route'));
    assert.equal(routes.api, 'v2');
    assert.deepEqual(routes.values, ['/r/1', '/r/2', '/r/3', '/r/0'].map((value) => ({ type: 'string', value })));
    const unscoped = await bClient.tagValues('service.name', { api: 'v2' });
    assert.ok(!unscoped.ok);
    assert.equal(unscoped.reason, 'server_error');
    assert.equal(unscoped.status, 500);
    assert.match(unscoped.bodyText, /tag name is not valid intrinsic or scoped attribute: service\.name$/);
    assert.deepEqual(b.unmatched, []);
  } finally {
    await bClient.close();
    await b.close();
  }
});

test('count_over_time on 2.0.1: unsupported after detect, with no request sent', async () => {
  const fresh = createTempoClient({ baseUrl: server.url });
  try {
    await fresh.detect(FIXTURE_PROBES);
    const sent = server.requests.length;
    const result = await fresh.countOverTime('{ name = "tally-root" }', FIXTURE_WINDOW.startUnixS, FIXTURE_WINDOW.endUnixS, 15_000);
    assert.ok(!result.ok);
    assert.equal(result.reason, 'unsupported');
    assert.equal(result.status, null);
    assert.equal(server.requests.length, sent);
  } finally {
    await fresh.close();
  }
});

test('count_over_time reply (docs shape, not verified against a server): series and total', () => {
  const body = Buffer.from(JSON.stringify({
    series: [
      { labels: [{ key: 'resource.service.name', value: { stringValue: 'tally-fixture' } }], samples: [{ timestampMs: '1795280340000', value: 12 }, { timestampMs: '1795280355000', value: 8 }] },
      { labels: [], samples: [{ timestampMs: '1795280370000' }] },
    ],
    metrics: { inspectedBytes: '1024' },
  }));
  const decoded = decodeMetricsReply({ status: 200, contentType: 'application/json', body, endpoint: 'GET /api/metrics/query_range' });
  assert.equal(decoded.total, 20);
  assert.deepEqual(decoded.series[0].samples, [{ timestampMs: 1795280340000, value: 12 }, { timestampMs: 1795280355000, value: 8 }]);
  assert.deepEqual(decoded.series[1].samples, [{ timestampMs: 1795280370000, value: 0 }]);
});

test('logfmt tags: plain, quoted and escaped values; unwritable names are config errors', () => {
  assert.equal(logfmtTags({ 'service.name': 'tally-fixture' }), 'service.name=tally-fixture');
  assert.equal(logfmtTags({ a: 'x y', b: 'say "hi"' }), 'a="x y" b="say \\"hi\\""');
  assert.throws(() => logfmtTags({ 'bad key': 'x' }), (e: unknown) => e instanceof ConfigError && e.code === 'TALLY_CONFIG_INVALID');
});
