import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { uncompressSync } from 'snappy';
import { classifyRejection, encodeRemoteWriteBody, encodeWriteRequest, STALE_NAN, STALE_NAN_BITS, type RemoteWriteSeries } from '../../wire/remote-write.ts';
import { RemoteWriteSender } from '../../workers/remote-write-sender.ts';
import { TallyError } from '../../core/errors.ts';
import { startPrometheus, type PrometheusServer } from '../peers/prometheus.ts';

const PROTO = fileURLToPath(new URL('../../wire/remote-write.proto', import.meta.url));
const WriteRequest = protobuf.loadSync(PROTO).lookupType('prometheus.WriteRequest');

interface Decoded {
  timeseries: { labels: { name: string; value: string }[]; samples: { value: number; timestamp: number }[] }[];
}
function decode(bytes: Uint8Array): Decoded {
  const message = WriteRequest.decode(bytes);
  return WriteRequest.toObject(message, { longs: Number, defaults: true, arrays: true }) as Decoded;
}
function float64Bits(value: number): bigint {
  return new BigUint64Array(new Float64Array([value]).buffer)[0];
}
function code(error: unknown): string | undefined {
  return error instanceof TallyError ? error.code : undefined;
}

describe('encodeWriteRequest', () => {
  test('decodes back to the same labels (sorted, __name__ in place, empty values dropped) and samples', () => {
    const series: RemoteWriteSeries[] = [
      { name: 'http_requests_total', labels: { zone: 'a', job: 'api', empty: '', Instance: 'i-1' }, samples: [{ value: 1.5, timestampMs: 1_700_000_000_123 }, { value: 0, timestampMs: 1_700_000_001_123 }] },
      { name: 'up', labels: {}, samples: [{ value: -2e300, timestampMs: 0 }, { value: 7, timestampMs: -1000 }] },
    ];
    const got = decode(encodeWriteRequest(series));
    assert.deepEqual(got.timeseries[0].labels, [
      // Lexicographic per the spec: upper-case names sort before __name__.
      { name: 'Instance', value: 'i-1' },
      { name: '__name__', value: 'http_requests_total' },
      { name: 'job', value: 'api' },
      { name: 'zone', value: 'a' },
    ]);
    assert.deepEqual(got.timeseries[0].samples, [{ value: 1.5, timestamp: 1_700_000_000_123 }, { value: 0, timestamp: 1_700_000_001_123 }]);
    assert.deepEqual(got.timeseries[1].labels, [{ name: '__name__', value: 'up' }]);
    assert.deepEqual(got.timeseries[1].samples, [{ value: -2e300, timestamp: 0 }, { value: 7, timestamp: -1000 }]);
  });

  test('is byte-identical to protobufjs encoding the same message', () => {
    const series: RemoteWriteSeries[] = Array.from({ length: 200 }, (_, i) => ({
      name: 'tally_requests_total',
      labels: { route: `r-${i % 7}`, pod: `p-${i % 3}`, series: String(i), ...(i % 50 === 0 ? { note: 'x'.repeat(300) } : {}) },
      samples: [{ value: i * 0.25, timestampMs: 1_700_000_000_000 + i }],
    }));
    const reference = WriteRequest.encode({
      timeseries: series.map((s) => ({
        labels: [['__name__', s.name] as const, ...Object.entries(s.labels)].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, value]) => ({ name, value })),
        samples: s.samples.map((x) => ({ value: x.value, timestamp: x.timestampMs })),
      })),
    }).finish();
    assert.equal(Buffer.compare(Buffer.from(reference), encodeWriteRequest(series)), 0);
  });

  test('UTF-8 label values (BMP, astral, long) round-trip through the exact-length path', () => {
    const values = ['plain', 'café', '日本語', 'emoji 😀 tail', 'ü'.repeat(200)];
    const series: RemoteWriteSeries[] = values.map((v, i) => ({ name: 'm', labels: { v, i: String(i) }, samples: [{ value: i + 1, timestampMs: 5 }] }));
    const got = decode(encodeWriteRequest(series));
    assert.deepEqual(got.timeseries.map((ts) => ts.labels.find((l) => l.name === 'v')?.value), values);
  });

  test('the staleness marker goes out with its exact (signalling) NaN bits; other NaNs as they are', () => {
    const sentBits = (value: number): bigint => {
      const bytes = encodeWriteRequest([{ name: 'm', labels: {}, samples: [{ value, timestampMs: 1 }] }]);
      const at = bytes.indexOf(0x09); // Sample.value tag: the first 0x09 in this message
      return new DataView(bytes.buffer, bytes.byteOffset + at + 1, 8).getBigUint64(0, true);
    };
    // V8 quiets the signalling NaN in a JS number; the wire must still carry 0x7ff0000000000002.
    assert.equal(float64Bits(STALE_NAN) & 0x0007ffffffffffffn, 2n);
    assert.equal(sentBits(STALE_NAN), STALE_NAN_BITS);
    assert.equal(sentBits(NaN), float64Bits(NaN));
    assert.ok(Number.isNaN(decode(encodeWriteRequest([{ name: 'm', labels: {}, samples: [{ value: STALE_NAN, timestampMs: 1 }] }])).timeseries[0].samples[0].value));
  });

  test('refuses what the spec forbids, with TALLY_INTERNAL', () => {
    const bad: [string, RemoteWriteSeries][] = [
      ['metric name', { name: 'http.requests', labels: {}, samples: [] }],
      ['label name', { name: 'm', labels: { 'a-b': 'x' }, samples: [] }],
      ['__name__ in labels', { name: 'm', labels: { __name__: 'x' }, samples: [] }],
      ['timestamp', { name: 'm', labels: {}, samples: [{ value: 1, timestampMs: 1.5 }] }],
      ['non-string value', { name: 'm', labels: { a: 1 as unknown as string }, samples: [] }],
    ];
    for (const [what, series] of bad) {
      assert.throws(() => encodeWriteRequest([series]), (e: unknown) => code(e) === 'TALLY_INTERNAL', what);
    }
    assert.doesNotThrow(() => encodeWriteRequest([{ name: 'http.requests', labels: { 'http.method': 'GET' }, samples: [] }], 'utf8'));
  });

  test('snappy block format (not framed) that uncompresses to the protobuf', () => {
    const series: RemoteWriteSeries[] = Array.from({ length: 500 }, (_, i) => ({ name: 'm', labels: { i: String(i) }, samples: [{ value: i, timestampMs: 1_700_000_000_000 }] }));
    const { body, protobufBytes, seriesCount, sampleCount } = encodeRemoteWriteBody(series);
    assert.notEqual(body[0], 0xff, 'framed snappy starts with a 0xff stream identifier chunk');
    const raw = uncompressSync(body, { asBuffer: true }) as Buffer;
    assert.equal(raw.length, protobufBytes);
    assert.equal(Buffer.compare(raw, encodeWriteRequest(series)), 0);
    assert.deepEqual([seriesCount, sampleCount], [500, 500]);
    assert.ok(body.length < protobufBytes);
  });

  test('speed: 10k series × 1 sample, against protobufjs', (t) => {
    const now = 1_700_000_000_000;
    const series: RemoteWriteSeries[] = Array.from({ length: 10_000 }, (_, i) => ({
      name: 'tally_requests_total',
      labels: { instance: 'shard-0', job: 'tally', pod: `pod-${i % 10}`, route: `route-${i % 20}`, status: `status-${i % 5}`, series: String(i) },
      samples: [{ value: i * 1.5, timestampMs: now }],
    }));
    const viaProtobufjs = () =>
      WriteRequest.encode({
        timeseries: series.map((s) => ({
          labels: [{ name: '__name__', value: s.name }, ...Object.keys(s.labels).sort().map((k) => ({ name: k, value: s.labels[k] }))],
          samples: s.samples.map((x) => ({ value: x.value, timestamp: x.timestampMs })),
        })),
      }).finish();
    const medianMs = (fn: () => unknown): number => {
      for (let i = 0; i < 5; i++) fn();
      const runs: number[] = [];
      for (let i = 0; i < 15; i++) {
        const start = performance.now();
        fn();
        runs.push(performance.now() - start);
      }
      return runs.sort((a, b) => a - b)[7];
    };
    const ours = medianMs(() => encodeWriteRequest(series));
    const theirs = medianMs(viaProtobufjs);
    const withSnappy = medianMs(() => encodeRemoteWriteBody(series));
    t.diagnostic(`encode 10k series: ${ours.toFixed(1)} ms; with snappy ${withSnappy.toFixed(1)} ms; protobufjs ${theirs.toFixed(1)} ms`);
    // A loose bound that survives a busy CI machine but catches an accidental O(n²) or per-byte allocation.
    assert.ok(ours < 100, `encoding 10k series took ${ours.toFixed(1)} ms`);
  });
});

test('classifyRejection maps Prometheus storage errors', () => {
  assert.equal(classifyRejection('out of order sample'), 'out_of_order');
  assert.equal(classifyRejection('duplicate sample for timestamp'), 'duplicate');
  assert.equal(classifyRejection('out of bounds'), 'out_of_bounds');
  assert.equal(classifyRejection('too old sample'), 'too_old');
  assert.equal(classifyRejection('context deadline exceeded'), 'other');
});

describe('RemoteWriteSender against a loopback HTTP server', () => {
  let server: Server;
  let url = '';
  const seen: { headers: IncomingMessage['headers']; bytes: number }[] = [];
  let sockets = 0;
  // The next reply, set by each test: [status, body].
  let reply: [number, string] = [204, ''];

  before(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({ headers: req.headers, bytes: Buffer.concat(chunks).length });
        res.writeHead(reply[0], { 'content-type': 'text/plain' });
        res.end(reply[1]);
      });
    });
    server.on('connection', () => sockets++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    assert.ok(address !== null && typeof address === 'object');
    url = `http://127.0.0.1:${address.port}/api/v1/write`;
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const batch: RemoteWriteSeries[] = [{ name: 'm', labels: { a: 'b' }, samples: [{ value: 1, timestampMs: 1_700_000_000_000 }] }];

  test('2xx is ok; spec headers are sent; one keep-alive connection serves many posts', async () => {
    const sender = new RemoteWriteSender({ url, connections: 1 });
    reply = [204, ''];
    sockets = 0;
    for (let i = 0; i < 5; i++) {
      const outcome = await sender.send(batch);
      assert.deepEqual({ ...outcome, durationUs: 0 }, { status: 204, ok: true, retryable: false, durationUs: 0 });
      assert.ok(outcome.durationUs > 0);
    }
    await sender.close();
    assert.equal(sockets, 1);
    const headers = seen.at(-1)?.headers ?? {};
    assert.equal(headers['content-encoding'], 'snappy');
    assert.equal(headers['content-type'], 'application/x-protobuf');
    assert.equal(headers['x-prometheus-remote-write-version'], '0.1.0');
    assert.match(String(headers['user-agent']), /^tally\/\d+\.\d+\.\d+/);
  });

  test('4xx is a final refusal with the classified body; 429 and 5xx are retryable and refuse nothing', async () => {
    const sender = new RemoteWriteSender({ url });
    reply = [400, 'out of order sample\n'];
    assert.deepEqual({ ...(await sender.send(batch)), durationUs: 0 }, {
      status: 400, ok: false, retryable: false, rejection: 'out_of_order', errorMessage: 'out of order sample', durationUs: 0,
    });
    reply = [429, 'slow down'];
    const throttled = await sender.send(batch);
    assert.deepEqual([throttled.retryable, throttled.rejection], [true, undefined]);
    reply = [503, 'TSDB not ready'];
    const unavailable = await sender.send(batch);
    assert.deepEqual([unavailable.retryable, unavailable.rejection, unavailable.errorMessage], [true, undefined, 'TSDB not ready']);
    reply = [413, 'x'.repeat(5000)];
    const large = await sender.send(batch);
    assert.deepEqual([large.retryable, large.errorMessage?.length], [false, 1024]);
    await sender.close();
  });

  test('no listener: status 0, retryable, errno ECONNREFUSED', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as { port: number };
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const sender = new RemoteWriteSender({ url: `http://127.0.0.1:${port}/api/v1/write` });
    const outcome = await sender.send(batch);
    await sender.close();
    assert.deepEqual([outcome.status, outcome.ok, outcome.retryable, outcome.errno], [0, false, true, 'ECONNREFUSED']);
  });

  test('use after close is a bug', async () => {
    const sender = new RemoteWriteSender({ url });
    await sender.close();
    await assert.rejects(sender.send(batch), (e: unknown) => code(e) === 'TALLY_INTERNAL');
  });
});

describe('end to end against a real Prometheus', { timeout: 180_000 }, () => {
  let prometheus: PrometheusServer;
  let sender: RemoteWriteSender;
  const SERIES = 1000;
  const TICKS = 5;
  // Whole seconds, a minute back: inside the head block, and step-aligned for query_range.
  const t0Ms = Math.floor(Date.now() / 1000) * 1000 - 60_000;
  const tickMs = (k: number) => t0Ms + k * 1000;
  const valueOf = (i: number, k: number) => i * 10 + k + 0.5;
  const series = (i: number, ticks: number[]): RemoteWriteSeries => ({
    name: 'tally_rw_e2e',
    labels: { series: String(i), shard: 'shard-0', job: 'tally-e2e' },
    samples: ticks.map((k) => ({ value: valueOf(i, k), timestampMs: tickMs(k) })),
  });

  async function query(path: string, params: Record<string, string>): Promise<{ metric: Record<string, string>; value?: [number, string]; values?: [number, string][] }[]> {
    const response = await fetch(`${prometheus.url}${path}?${new URLSearchParams(params)}`);
    const body = (await response.json()) as { status: string; data: { result: never[] } };
    assert.equal(body.status, 'success', JSON.stringify(body));
    return body.data.result;
  }
  const seconds = (ms: number) => String(ms / 1000);

  before(async () => {
    prometheus = await startPrometheus();
    sender = new RemoteWriteSender({ url: prometheus.remoteWriteUrl });
  });
  after(async () => {
    await sender?.close();
    await prometheus?.stop();
  });

  test(`writes ${SERIES} series × ${TICKS} samples and reads back exact values`, async (t) => {
    t.diagnostic(`Prometheus ${prometheus.version}`);
    const all = Array.from({ length: SERIES }, (_, i) => i);
    // Three posts: ticks 0–2 (several samples per series), then 3, then 4.
    for (const ticks of [[0, 1, 2], [3], [4]]) {
      const outcome = await sender.send(all.map((i) => series(i, ticks)));
      assert.equal(outcome.ok, true, JSON.stringify(outcome));
    }
    const counted = await query('/api/v1/query', { query: 'count({__name__="tally_rw_e2e"})', time: seconds(tickMs(4)) });
    assert.equal(counted[0]?.value?.[1], String(SERIES));

    const ranged = await query('/api/v1/query_range', { query: 'tally_rw_e2e', start: seconds(tickMs(0)), end: seconds(tickMs(4)), step: '1' });
    assert.equal(ranged.length, SERIES);
    for (const r of ranged) {
      const i = Number(r.metric.series);
      assert.deepEqual(r.metric, { __name__: 'tally_rw_e2e', series: String(i), shard: 'shard-0', job: 'tally-e2e' });
      assert.deepEqual(r.values, [0, 1, 2, 3, 4].map((k) => [tickMs(k) / 1000, String(valueOf(i, k))]));
    }

    const instant = await query('/api/v1/query', { query: 'tally_rw_e2e{series="17"}', time: seconds(tickMs(2)) });
    assert.deepEqual(instant.map((r) => r.value), [[tickMs(2) / 1000, '172.5']]);
  });

  test('an out-of-order sample is refused with 400 out_of_order, and the stored value stands', async () => {
    const outcome = await sender.send([{ ...series(0, []), samples: [{ value: 999, timestampMs: tickMs(1) }] }]);
    assert.deepEqual([outcome.status, outcome.ok, outcome.retryable, outcome.rejection], [400, false, false, 'out_of_order'], JSON.stringify(outcome));
    const stored = await query('/api/v1/query', { query: 'tally_rw_e2e{series="0"}', time: seconds(tickMs(1)) });
    assert.equal(stored[0]?.value?.[1], String(valueOf(0, 1)));
  });

  test('a duplicate timestamp with a different value is refused with 400 duplicate; the same value is accepted', async () => {
    const outcome = await sender.send([{ ...series(0, []), samples: [{ value: 12345, timestampMs: tickMs(4) }] }]);
    assert.deepEqual([outcome.status, outcome.ok, outcome.retryable, outcome.rejection], [400, false, false, 'duplicate'], JSON.stringify(outcome));
    const same = await sender.send([series(0, [4])]);
    assert.equal(same.ok, true, JSON.stringify(same));
  });

  test('one refused sample loses the whole 1.0 request: valid series in it are not stored', async () => {
    const fresh: RemoteWriteSeries = { name: 'tally_rw_e2e_rollback', labels: { series: 'new' }, samples: [{ value: 1, timestampMs: tickMs(4) }] };
    const late: RemoteWriteSeries = { ...series(2, []), samples: [{ value: 1, timestampMs: tickMs(0) }] };
    const outcome = await sender.send([fresh, late]);
    assert.equal(outcome.rejection, 'out_of_order', JSON.stringify(outcome));
    const found = await query('/api/v1/query', { query: 'tally_rw_e2e_rollback', time: seconds(tickMs(4)) });
    assert.deepEqual(found, []);
  });

  // Runs last: a future sample that is accepted moves the head's lower bound and makes
  // every later write at "now" out of bounds.
  test('future samples: refused as out_of_bounds, or (older Prometheus) accepted and then older writes are out_of_bounds', async (t) => {
    const future = await sender.send([{ name: 'tally_rw_e2e_future', labels: {}, samples: [{ value: 1, timestampMs: Date.now() + 3 * 3_600_000 }] }]);
    if (!future.ok) {
      assert.deepEqual([future.status, future.retryable, future.rejection], [400, false, 'out_of_bounds'], JSON.stringify(future));
      return;
    }
    // Prometheus before the remote-write 10-minute future limit (2.42 among them) takes it.
    t.diagnostic(`Prometheus ${prometheus.version} accepted a sample 3 h in the future`);
    const old = await sender.send([{ name: 'tally_rw_e2e_after_future', labels: {}, samples: [{ value: 1, timestampMs: tickMs(4) }] }]);
    assert.deepEqual([old.status, old.retryable, old.rejection], [400, false, 'out_of_bounds'], JSON.stringify(old));
  });
});
