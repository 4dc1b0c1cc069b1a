/**
 * Collector self-metrics: names across versions, parse → deltas (with a reset), stage
 * totals, and the HTTP scrape against a loopback server.
 *
 * The .prom fixtures are HAND-WRITTEN from the documentation (see
 * test/fixtures/otelcol/README.md), not recorded from a live collector; the loopback
 * server below serves them and is a stand-in for a collector's :8888, labelled as such.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TallyError } from '../../../core/errors.ts';
import { counterDeltas, seriesKey } from '../../../readback/otelcol/counter-delta.ts';
import { parseExposition } from '../../../readback/otelcol/exposition.ts';
import { canonicalName, classifyOtelcolName, componentIdOf, signalOf } from '../../../readback/otelcol/names.ts';
import { collectorStageTotals, otelcolDelta, otelcolSnapshotFromText, scrapeOtelcol, sumOtelcolDeltas, type OtelcolDelta } from '../../../readback/otelcol/self-metrics.ts';
import { buildWaterfall } from '../../../reconcile/waterfall.ts';

const fixture = (name: string): string => readFileSync(new URL(`../../fixtures/otelcol/${name}`, import.meta.url), 'utf8');
const code = (e: unknown): string | undefined => (e instanceof TallyError ? e.code : undefined);
const reason = (e: unknown): unknown => (e instanceof TallyError ? (e.details as { reason?: string }).reason : undefined);

function component(delta: OtelcolDelta, kind: string, id: string, signal: string): Record<string, number> | undefined {
  return delta.components.find((c) => c.kind === kind && c.id === id && c.signal === signal)?.counters;
}

describe('collector metric names', () => {
  test('every spelling across versions maps to one canonical name', () => {
    for (const name of [
      'otelcol_receiver_accepted_spans',
      'otelcol_receiver_accepted_spans_total',
      'receiver_accepted_spans',
      'receiver_accepted_spans_total',
      'otelcol.receiver.accepted_spans',
      'otelcol_receiver_accepted_spans__spans__total',
    ]) {
      assert.equal(canonicalName(name), 'receiver_accepted_spans', name);
      assert.deepEqual(classifyOtelcolName(name), { kind: 'receiver', instrument: 'counter', measure: 'accepted', signal: 'spans' }, name);
    }
  });

  test('classifies counters, item counters and queue gauges; leaves everything else out', () => {
    assert.deepEqual(classifyOtelcolName('otelcol_exporter_enqueue_failed_metric_points_total'), { kind: 'exporter', instrument: 'counter', measure: 'enqueue_failed', signal: 'metric_points' });
    assert.deepEqual(classifyOtelcolName('otelcol_processor_incoming_items_total'), { kind: 'processor', instrument: 'counter', measure: 'incoming', signal: 'from_label' });
    assert.deepEqual(classifyOtelcolName('otelcol_exporter_queue_size'), { kind: 'exporter', instrument: 'gauge', measure: 'queue_size', signal: 'from_label' });
    for (const other of ['otelcol_process_uptime_total', 'otelcol_processor_batch_batch_send_size_count', 'otelcol_exporter_accepted_spans', 'otelcol_receiver_sent_spans_total', 'up', 'http_server_duration_count']) {
      assert.equal(classifyOtelcolName(other), null, other);
    }
  });

  test('signal and component id come from the labels each version uses', () => {
    const items = classifyOtelcolName('otelcol_processor_outgoing_items_total');
    assert.ok(items);
    assert.equal(signalOf(items, { otel_signal: 'traces' }), 'spans');
    assert.equal(signalOf(items, { otelcol_signal: 'metrics' }), 'metric_points');
    assert.equal(signalOf(items, {}), null);
    assert.equal(componentIdOf('processor', { processor: 'filter/x' }), 'filter/x');
    assert.equal(componentIdOf('exporter', { otelcol_component_id: 'otlp/2' }), 'otlp/2');
    assert.equal(componentIdOf('receiver', {}), '');
  });
});

describe('exposition parsing', () => {
  test('keeps selected samples as numbers, skips histograms and NaN, reads +Inf', () => {
    const parsed = parseExposition('# TYPE h histogram\nh_bucket{le="+Inf"} 3\nh_sum 1\nh_count 3\na{x="1"} 1e3\nb NaN\nc +Inf\nd notanumber\n');
    assert.deepEqual(parsed.samples, [
      { name: 'a', labels: { x: '1' }, value: 1000 },
      { name: 'c', labels: {}, value: Number.POSITIVE_INFINITY },
    ]);
    assert.equal(parsed.unusableSamples, 2);
    assert.deepEqual(parsed.skippedFamilies, ['h']);
  });

  test('a body with sample lines and nothing parsed is a bad reply', () => {
    assert.throws(() => parseExposition('garbage line {{{\n'), (e) => code(e) === 'TALLY_COLLECTOR_BAD_REPLY');
    assert.deepEqual(parseExposition('# only comments\n\n').samples, []);
  });
});

describe('counter deltas', () => {
  test('a reset takes the post-reset value as the delta and is flagged; appeared and vanished series too', () => {
    const { deltas, flags } = counterDeltas(
      [{ name: 'c', labels: { a: '1' }, value: 100 }, { name: 'c', labels: { a: '2' }, value: 10 }, { name: 'gone', labels: {}, value: 5 }],
      [{ name: 'c', labels: { a: '1' }, value: 30 }, { name: 'c', labels: { a: '2' }, value: 15 }, { name: 'new', labels: {}, value: 7 }],
      { flagAppeared: true },
    );
    assert.deepEqual(
      deltas.map((d) => [seriesKey(d.name, d.labels), d.delta, d.note ?? 'plain']),
      [['c{a="1"}', 30, 'reset'], ['c{a="2"}', 5, 'plain'], ['gone', 0, 'vanished'], ['new', 7, 'appeared']],
    );
    assert.deepEqual(flags.map((f) => [f.series, f.kind]), [['c{a="1"}', 'reset'], ['gone', 'vanished'], ['new', 'appeared']]);
  });

  test('appeared series are routine for SDK counters and not flagged by default', () => {
    const { flags } = counterDeltas([], [{ name: 'x', labels: {}, value: 3 }]);
    assert.deepEqual(flags, []);
  });
});

describe('collector deltas from the hand-written fixtures', () => {
  test('SDK-era names: per component and signal, summed over transports', () => {
    const delta = otelcolDelta(otelcolSnapshotFromText(fixture('sdk-v0.96-start.prom')), otelcolSnapshotFromText(fixture('sdk-v0.96-end.prom')));
    // http +10000, and grpc created in the window at 200.
    assert.deepEqual(component(delta, 'receiver', 'otlp', 'metric_points'), { accepted: 10200, refused: 50 });
    assert.deepEqual(component(delta, 'receiver', 'otlp', 'spans'), { accepted: 5000, refused: 0 });
    assert.deepEqual(component(delta, 'processor', 'memory_limiter', 'metric_points'), { refused: 50 });
    assert.deepEqual(component(delta, 'exporter', 'prometheusremotewrite', 'metric_points'), { sent: 10150, send_failed: 30, enqueue_failed: 20 });
    assert.deepEqual(component(delta, 'exporter', 'otlp/tempo', 'spans'), { sent: 4900, send_failed: 100, enqueue_failed: 0 });
    assert.deepEqual(delta.queues, [{ exporter: 'otlp/tempo', signal: null, sizeBefore: 0, sizeAfter: 3, capacity: 1000 }]);
    assert.deepEqual(delta.flags, []);
  });

  test('OpenCensus-era names and a restart in the window: resets flagged, post-reset values as deltas', () => {
    const delta = otelcolDelta(otelcolSnapshotFromText(fixture('opencensus-v0.60-start.prom')), otelcolSnapshotFromText(fixture('opencensus-v0.60-end.prom')));
    assert.deepEqual(component(delta, 'receiver', 'otlp', 'spans'), { accepted: 700, refused: 0 });
    assert.deepEqual(component(delta, 'exporter', 'otlp', 'spans'), { sent: 650, send_failed: 50 });
    assert.deepEqual(
      delta.flags.map((f) => [f.kind, f.series.slice(0, f.series.indexOf('{'))]),
      [['reset', 'otelcol_exporter_sent_spans'], ['reset', 'otelcol_receiver_accepted_spans'], ['vanished', 'otelcol_receiver_refused_spans']],
    );
  });

  test('v0.120-style pipeline metrics: processor in − out gaps per signal, receiver failures, per-signal queues', () => {
    const delta = otelcolDelta(otelcolSnapshotFromText(fixture('pipeline-v0.120-start.prom')), otelcolSnapshotFromText(fixture('pipeline-v0.120-end.prom')));
    assert.deepEqual(component(delta, 'processor', 'filter/drop-debug', 'metric_points'), { incoming: 10000, outgoing: 9800 });
    assert.deepEqual(component(delta, 'processor', 'batch', 'spans'), { incoming: 4000, outgoing: 3960 });
    assert.deepEqual(component(delta, 'receiver', 'otlp', 'metric_points'), { accepted: 10000, failed: 7 });
    const metrics = collectorStageTotals(delta, 'metric_points');
    assert.equal(metrics.processorInOutGap, 200);
    assert.equal(metrics.queueSizeAfter, 1);
    assert.equal(collectorStageTotals(delta, 'spans').queueSizeAfter, 0);
  });

  test('interval deltas chain into the run-window delta', () => {
    const a = otelcolSnapshotFromText(fixture('sdk-v0.96-start.prom'));
    const c = otelcolSnapshotFromText(fixture('sdk-v0.96-end.prom'));
    // A reading half-way: every counter between its start and end values.
    const startOf = new Map(a.counters.map((x) => [seriesKey(x.name, x.labels), x.value]));
    const b = { ...c, counters: c.counters.map((x) => ({ ...x, value: Math.floor(((startOf.get(seriesKey(x.name, x.labels)) ?? 0) + x.value) / 2) })) };
    const whole = otelcolDelta(a, c);
    const chained = sumOtelcolDeltas([otelcolDelta(a, b), otelcolDelta(b, c)]);
    assert.deepEqual(chained.components, whole.components);
    assert.deepEqual(chained.queues, whole.queues);
  });

  test('stage totals feed the waterfall: exporter losses admitted by enqueue/send failures', () => {
    const delta = otelcolDelta(otelcolSnapshotFromText(fixture('sdk-v0.96-start.prom')), otelcolSnapshotFromText(fixture('sdk-v0.96-end.prom')));
    const collector = collectorStageTotals(delta, 'metric_points', { receivers: ['otlp'], exporters: ['prometheusremotewrite'] });
    assert.deepEqual(collector, {
      receiverAccepted: 10200,
      receiverRefused: 50,
      receiverFailed: 0,
      processorDropped: 0,
      processorRefused: 50,
      processorInOutGap: 0,
      exporterSent: 10150,
      exporterSendFailed: 30,
      exporterEnqueueFailed: 20,
      exporterCount: 1,
    });
    const w = buildWaterfall({ signal: 'metric_points', ledger: { sent: 10250, acknowledged: 10200, rejected: 0, failed: 50 }, collector });
    const exported = w.steps.find((s) => s.to === 'exported');
    assert.deepEqual(exported?.attributed, [{ cause: 'enqueue_failed', count: 20 }, { cause: 'send_failed', count: 30 }]);
    assert.equal(exported?.unattributed, 0);
    assert.deepEqual(w.steps[0].attributed.map((a) => [a.cause, a.count]), [['refused_by_receiver', 50]]);
  });
});

describe('scrapeOtelcol over loopback (a fixture server standing in for a collector, not a live one)', () => {
  let server: Server;
  let base = '';
  let lastHeaders: IncomingHttpHeaders = {};
  const pending = new Set<NodeJS.Timeout>();
  before(async () => {
    server = createServer((req, res) => {
      lastHeaders = req.headers;
      if (req.url === '/metrics') {
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(fixture('sdk-v0.96-end.prom'));
      } else if (req.url === '/big') {
        res.writeHead(200).end('a 1\n'.repeat(4096));
      } else if (req.url === '/hang') {
        // Answer late, bounded: the client's deadline is shorter.
        const t = setTimeout(() => res.writeHead(200).end('a 1\n'), 2000);
        pending.add(t);
      } else {
        res.writeHead(503).end('unavailable');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    for (const t of pending) clearTimeout(t);
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  test('reads the same snapshot as parsing the text, asking for text format 0.0.4', async () => {
    const snapshot = await scrapeOtelcol(`${base}/metrics`);
    assert.deepEqual(snapshot, otelcolSnapshotFromText(fixture('sdk-v0.96-end.prom')));
    assert.match(lastHeaders.accept ?? '', /^text\/plain;version=0\.0\.4/);
  });

  test('classifies failures: HTTP status, body cap, timeout, refused connection, bad URL', async () => {
    await assert.rejects(scrapeOtelcol(`${base}/other`), (e) => code(e) === 'TALLY_COLLECTOR_BAD_REPLY' && reason(e) === 'http_status');
    await assert.rejects(scrapeOtelcol(`${base}/big`, { maxBodyBytes: 1024 }), (e) => code(e) === 'TALLY_COLLECTOR_BAD_REPLY' && reason(e) === 'body_too_large');
    await assert.rejects(scrapeOtelcol(`${base}/hang`, { requestTimeoutMs: 200 }), (e) => code(e) === 'TALLY_COLLECTOR_FAILED' && reason(e) === 'timeout');
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await assert.rejects(scrapeOtelcol(`http://127.0.0.1:${port}/metrics`), (e) => code(e) === 'TALLY_COLLECTOR_FAILED' && reason(e) === 'connection_refused');
    await assert.rejects(scrapeOtelcol('ftp://127.0.0.1/metrics'), (e) => code(e) === 'TALLY_CONFIG_INVALID');
  });
});
