import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { PrometheusApi, parseSampleValue } from '../../../readback/prometheus/api.ts';
import { RemoteWriteSender } from '../../../workers/remote-write-sender.ts';
import { TallyError } from '../../../core/errors.ts';
import { startPrometheus, type PrometheusServer } from '../../peers/prometheus.ts';

function details(error: unknown): Record<string, unknown> {
  return (error instanceof TallyError ? error.details : undefined) as Record<string, unknown>;
}
function code(error: unknown): string | undefined {
  return error instanceof TallyError ? error.code : undefined;
}

test('parseSampleValue reads the API value text, infinities included', () => {
  assert.equal(parseSampleValue('1.5'), 1.5);
  assert.equal(parseSampleValue('+Inf'), Infinity);
  assert.equal(parseSampleValue('-Inf'), -Infinity);
  assert.ok(Number.isNaN(parseSampleValue('NaN')));
  assert.ok(Number.isNaN(parseSampleValue('')));
  assert.equal(parseSampleValue('1e+300'), 1e300);
});

// A scripted loopback HTTP server standing in for Prometheus (mocked backend): each test
// sets the replies; the server records what it received.
describe('PrometheusApi against a scripted loopback server (mocked backend)', () => {
  let server: Server;
  let url = '';
  let replies: { status: number; body: string; headers?: Record<string, string> }[] = [];
  const received: { method: string; url: string; headers: IncomingHttpHeaders; body: string }[] = [];

  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => {
        received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
        const reply = replies.shift() ?? { status: 500, body: 'no scripted reply' };
        res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
        res.end(reply.body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/prefix/`;
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const vector = JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [{ metric: { a: 'b' }, value: [1700000000.5, '3'] }] } });

  test('queries are POSTed as forms under the URL prefix, with Cache-Control: no-store', async () => {
    const api = new PrometheusApi({ url });
    replies = [{ status: 200, body: vector }];
    received.length = 0;
    const long = `up{pod=~"${Array.from({ length: 2000 }, (_, i) => `pod-${i}`).join('|')}"}`;
    const result = await api.query(long, 1_700_000_000_500);
    await api.close();
    assert.deepEqual(result.data, { resultType: 'vector', result: [{ metric: { a: 'b' }, value: [1700000000.5, '3'] }] });
    assert.deepEqual(result.warnings, []);
    const r = received[0];
    assert.deepEqual([r.method, r.url, r.headers['content-type'], r.headers['cache-control']], ['POST', '/prefix/api/v1/query', 'application/x-www-form-urlencoded', 'no-store']);
    const form = new URLSearchParams(r.body);
    assert.deepEqual([form.get('query'), form.get('time')], [long, '1700000000.500']);
  });

  test('503 and 429 are retried (Retry-After honoured), then the reply is used; requests and retries are counted', async () => {
    const api = new PrometheusApi({ url, retryBaseMs: 1 });
    replies = [
      { status: 503, body: JSON.stringify({ status: 'error', errorType: 'timeout', error: 'query timed out' }) },
      { status: 429, body: 'slow down', headers: { 'retry-after': '0' } },
      { status: 200, body: vector },
    ];
    const result = await api.query('up', 0);
    assert.equal(result.data.resultType, 'vector');
    assert.deepEqual([api.requests, api.retries], [3, 2]);
    replies = Array.from({ length: 4 }, () => ({ status: 503, body: 'unavailable' }));
    await assert.rejects(api.query('up', 0), (e: unknown) => code(e) === 'TALLY_COLLECTOR_FAILED' && details(e).httpStatus === 503);
    assert.deepEqual([api.requests, api.retries], [7, 5]);
    await api.close();
  });

  test('an API error envelope fails at once, keeping errorType and error', async () => {
    const api = new PrometheusApi({ url });
    replies = [{ status: 400, body: JSON.stringify({ status: 'error', errorType: 'bad_data', error: 'parse error at char 3' }) }];
    await assert.rejects(api.query('up{', 0), (e: unknown) => {
      const d = details(e);
      return code(e) === 'TALLY_COLLECTOR_FAILED' && d.httpStatus === 400 && d.errorType === 'bad_data' && d.error === 'parse error at char 3';
    });
    assert.equal(api.requests, 1);
    await api.close();
  });

  test('malformed replies are TALLY_COLLECTOR_BAD_REPLY naming the JSON pointer', async () => {
    const api = new PrometheusApi({ url });
    const cases: [unknown, string][] = [
      [{ status: 'ok', data: {} }, '/status'],
      [{ status: 'success' }, '/data'],
      [{ status: 'success', data: { resultType: 'vector', result: [{ metric: { a: 1 }, value: [1, '1'] }] } }, '/data/result/0/metric/a'],
      [{ status: 'success', data: { resultType: 'matrix', result: [{ metric: {}, values: [[1, '1'], [2, 2]] }] } }, '/data/result/0/values/1/1'],
      [{ status: 'success', data: { resultType: 'matrix', result: [{ metric: {}, values: [[1, '1', 3]] }] } }, '/data/result/0/values/0'],
      [{ status: 'success', data: { resultType: 'table', result: [] } }, '/data/resultType'],
      [{ status: 'success', data: { resultType: 'scalar', result: ['1', '1'] } }, '/data/result/0'],
      [{ status: 'success', warnings: [3], data: { resultType: 'scalar', result: [1, '1'] } }, '/warnings/0'],
      [{ status: 'error', error: 'x' }, '/errorType'],
    ];
    for (const [body, pointer] of cases) {
      replies = [{ status: 200, body: JSON.stringify(body) }];
      await assert.rejects(api.query('up', 0), (e: unknown) => code(e) === 'TALLY_COLLECTOR_BAD_REPLY' && details(e).pointer === pointer, pointer);
    }
    replies = [{ status: 200, body: '<html>' }];
    await assert.rejects(api.query('up', 0), (e: unknown) => code(e) === 'TALLY_COLLECTOR_BAD_REPLY' && details(e).pointer === '');
    replies = [{ status: 200, body: JSON.stringify({ status: 'success', data: [{ __name__: 'up' }, { job: 7 }] }) }];
    await assert.rejects(api.series(['up']), (e: unknown) => code(e) === 'TALLY_COLLECTOR_BAD_REPLY' && details(e).pointer === '/data/1/job');
    await api.close();
  });

  test('a reply over maxReplyBytes fails instead of being buffered', async () => {
    const api = new PrometheusApi({ url, maxReplyBytes: 1000 });
    replies = [{ status: 200, body: JSON.stringify({ status: 'success', data: { resultType: 'string', result: [1, 'x'.repeat(5000)] } }) }];
    await assert.rejects(api.query('up', 0), (e: unknown) => code(e) === 'TALLY_COLLECTOR_FAILED' && details(e).maxReplyBytes === 1000);
    await api.close();
  });

  test('no listener: fails after bounded retries with the errno', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as { port: number };
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const api = new PrometheusApi({ url: `http://127.0.0.1:${port}`, retryBaseMs: 1, maxRetries: 2 });
    await assert.rejects(api.buildInfo(), (e: unknown) => code(e) === 'TALLY_COLLECTOR_FAILED' && details(e).errno === 'ECONNREFUSED');
    assert.equal(api.requests, 3);
    await api.close();
  });

  test('bad URLs are config errors that never echo a password', () => {
    assert.throws(() => new PrometheusApi({ url: 'ftp://x' }), (e: unknown) => code(e) === 'TALLY_CONFIG_INVALID');
    assert.throws(() => new PrometheusApi({ url: 'http://user:hunter2-secret@127.0.0.1:9' }), (e: unknown) => {
      return code(e) === 'TALLY_CONFIG_INVALID' && !JSON.stringify({ m: (e as Error).message, d: details(e) }).includes('hunter2');
    });
  });
});

describe('PrometheusApi against a real Prometheus', { timeout: 120_000 }, () => {
  let prometheus: PrometheusServer;
  let api: PrometheusApi;
  const t0Ms = Math.floor(Date.now() / 1000) * 1000 - 60_000;

  before(async () => {
    prometheus = await startPrometheus();
    api = new PrometheusApi({ url: prometheus.url });
    const sender = new RemoteWriteSender({ url: prometheus.remoteWriteUrl });
    const outcome = await sender.send([0, 1, 2].map((i) => ({ name: 'tally_api_e2e', labels: { i: String(i) }, samples: [1, 2, 3].map((k) => ({ value: i * 10 + k, timestampMs: t0Ms + k * 1000 })) })));
    await sender.close();
    assert.equal(outcome.ok, true, JSON.stringify(outcome));
  });
  after(async () => {
    await api?.close();
    await prometheus?.stop();
  });

  test('buildinfo and TSDB status parse', async () => {
    const build = await api.buildInfo();
    assert.equal(build.data.version, prometheus.version);
    const tsdb = await api.tsdbStatus();
    assert.equal(tsdb.data.headStats?.numSeries, 3);
    assert.deepEqual(tsdb.data.seriesCountByMetricName, [{ name: 'tally_api_e2e', value: 3 }]);
  });

  test('vector, matrix (raw samples via a range selector), scalar, series and query_range', async () => {
    const vector = await api.query('tally_api_e2e', t0Ms + 3000);
    assert.equal(vector.data.resultType, 'vector');
    assert.deepEqual(vector.data.result.map((e) => e.value?.[1]).sort(), ['13', '23', '3']);
    const matrix = await api.query('tally_api_e2e{i="2"}[2500ms]', t0Ms + 3000);
    assert.deepEqual(matrix.data, { resultType: 'matrix', result: [{ metric: { __name__: 'tally_api_e2e', i: '2' }, values: [[(t0Ms + 1000) / 1000, '21'], [(t0Ms + 2000) / 1000, '22'], [(t0Ms + 3000) / 1000, '23']] }] });
    const scalar = await api.query('scalar(count(tally_api_e2e))', t0Ms + 3000);
    assert.deepEqual(scalar.data, { resultType: 'scalar', result: [(t0Ms + 3000) / 1000, '3'] });
    const series = await api.series(['tally_api_e2e{i=~"1|2"}'], { startMs: t0Ms, endMs: t0Ms + 3000 });
    assert.deepEqual(series.data.map((s) => s.i).sort(), ['1', '2']);
    const range = await api.queryRange('tally_api_e2e{i="0"}', t0Ms + 1000, t0Ms + 3000, 1000);
    assert.equal(range.data.resultType, 'matrix');
    assert.deepEqual(range.data.result[0].values.map((v) => v[1]), ['1', '2', '3']);
  });

  test('a PromQL error is TALLY_COLLECTOR_FAILED with errorType bad_data, after one request', async () => {
    const before = api.requests;
    await assert.rejects(api.query('sum(', 0), (e: unknown) => code(e) === 'TALLY_COLLECTOR_FAILED' && details(e).errorType === 'bad_data' && details(e).httpStatus === 400);
    assert.equal(api.requests - before, 1);
  });
});
