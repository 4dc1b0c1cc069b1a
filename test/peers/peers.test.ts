/**
 * The live peers built by `test/peers/build.sh` start and do their job: Prometheus 3 takes
 * OTLP (delta too, with `otlp-deltatocumulative`) and answers PromQL; the collector carries
 * OTLP through memory_limiter, delta_to_cumulative and batch to Prometheus by remote write,
 * and traces to Jaeger by OTLP/gRPC, counting what it accepted in its own metrics; Jaeger
 * stores an OTLP trace and returns it by id from its query API.
 *
 * Needs the cache filled: `bash test/peers/build.sh` (a missing binary fails, never skips).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { type HrTime, SpanKind, SpanStatusCode, ValueType } from '@opentelemetry/api';
import { ProtobufMetricsSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationTemporality, DataPointType, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { CollectorError } from '../../core/errors.ts';
import { PEER_VERSIONS, peerBinary } from './cache.ts';
import { type JaegerServer, startJaeger } from './jaeger.ts';
import { otelcolConfig, type OtelcolServer, startOtelcol } from './otelcol.ts';
import { type Prometheus3Server, startPrometheus3 } from './prometheus3.ts';

type ReadableSpan = Parameters<typeof ProtobufTraceSerializer.serializeRequest>[0][number];

/** Tells this run's series apart from any other's. */
const RUN_ID = `peers-${process.pid}-${Date.now()}`;
/** How long a sample or span may take to become visible, in ms. */
const VISIBLE_TIMEOUT_MS = 20_000;

function hrTime(ms: number): HrTime {
  return [Math.floor(ms / 1000), Math.round((ms % 1000) * 1e6)];
}

/** One monotonic int sum with one data point over [startMs, endMs]. */
function sumRequest(options: {
  name: string; value: number; startMs: number; endMs: number; temporality: AggregationTemporality;
  resource?: Record<string, string>; attributes?: Record<string, string>;
}): Uint8Array {
  const metrics: ResourceMetrics = {
    resource: resourceFromAttributes({ 'service.name': 'tally-peers-test', ...options.resource }),
    scopeMetrics: [{
      scope: { name: 'tally.peers.test' },
      metrics: [{
        descriptor: { name: options.name, description: '', unit: '', valueType: ValueType.INT },
        aggregationTemporality: options.temporality,
        dataPointType: DataPointType.SUM,
        isMonotonic: true,
        dataPoints: [{ startTime: hrTime(options.startMs), endTime: hrTime(options.endMs), attributes: options.attributes ?? {}, value: options.value }],
      }],
    }],
  };
  const body = ProtobufMetricsSerializer.serializeRequest(metrics);
  assert.ok(body, 'the OTLP metrics request serializes');
  return body;
}

/** One finished server span of a new trace. */
function spanRequest(traceId: string, name: string, service: string): Uint8Array {
  const endMs = Date.now();
  const span: ReadableSpan = {
    name,
    kind: SpanKind.SERVER,
    spanContext: () => ({ traceId, spanId: randomBytes(8).toString('hex'), traceFlags: 1 }),
    startTime: hrTime(endMs - 5),
    endTime: hrTime(endMs),
    duration: [0, 5_000_000],
    ended: true,
    status: { code: SpanStatusCode.OK },
    attributes: { 'tally.run.id': RUN_ID },
    links: [],
    events: [],
    resource: resourceFromAttributes({ 'service.name': service }),
    instrumentationScope: { name: 'tally.peers.test' },
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
  const body = ProtobufTraceSerializer.serializeRequest([span]);
  assert.ok(body, 'the OTLP trace request serializes');
  return body;
}

/** POST an OTLP/HTTP protobuf body. @returns the status and the response text. */
async function postOtlp(url: string, body: Uint8Array): Promise<{ status: number; text: string }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body, signal: AbortSignal.timeout(10_000) });
  return { status: response.status, text: await response.text() };
}

/** Poll `probe` until it returns a value other than undefined, or fail after `timeoutMs`. */
async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = VISIBLE_TIMEOUT_MS): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline) assert.fail(`${what}: not seen within ${timeoutMs} ms`);
    await delay(200);
  }
}

interface VectorSample {
  metric: Record<string, string>;
  value: [number, string];
}

/** An instant PromQL query. */
async function query(prometheus: Prometheus3Server, expr: string): Promise<VectorSample[]> {
  const response = await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(expr)}`, { signal: AbortSignal.timeout(10_000) });
  const body = (await response.json()) as { status: string; data?: { resultType: string; result: VectorSample[] } };
  assert.equal(body.status, 'success', `query ${expr}`);
  assert.equal(body.data?.resultType, 'vector');
  return body.data.result;
}

/** Poll `expr` until its single sample has `value`. */
async function eventuallyValue(prometheus: Prometheus3Server, expr: string, value: string): Promise<VectorSample> {
  return eventually(`${expr} == ${value}`, async () => {
    const result = await query(prometheus, expr);
    return result.length === 1 && result[0].value[1] === value ? result[0] : undefined;
  });
}

interface TextSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition (comments skipped). */
function parseExposition(text: string): TextSample[] {
  const samples: TextSample[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (match === null) continue;
    const labels: Record<string, string> = {};
    for (const label of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[label[1]] = label[2];
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

/** The sum of the samples named `name` whose labels include `labels`. */
function total(samples: readonly TextSample[], name: string, labels: Record<string, string>): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

async function selfMetrics(otelcol: OtelcolServer): Promise<TextSample[]> {
  const response = await fetch(otelcol.metricsUrl, { signal: AbortSignal.timeout(10_000) });
  assert.equal(response.status, 200);
  return parseExposition(await response.text());
}

interface JaegerTraceReply {
  data: { traceID: string; spans: { traceID: string; spanID: string; operationName: string; processID: string }[]; processes: Record<string, { serviceName: string }> }[] | null;
}

/** Poll Jaeger's `/api/traces/<id>` until it answers 200 with the trace. */
async function readTrace(jaeger: JaegerServer, traceId: string): Promise<NonNullable<JaegerTraceReply['data']>[number]> {
  return eventually(`trace ${traceId} in Jaeger`, async () => {
    const response = await fetch(`${jaeger.queryUrl}/api/traces/${traceId}`, { signal: AbortSignal.timeout(10_000) });
    const body = (await response.json()) as JaegerTraceReply;
    return response.status === 200 && body.data !== null && body.data.length === 1 ? body.data[0] : undefined;
  });
}

describe('peer cache', () => {
  test('a peer version that is not built throws a CollectorError that says to run build.sh', async () => {
    await assert.rejects(peerBinary('otelcol', '0.0.0-not-built'), (error: unknown) => {
      assert.ok(error instanceof CollectorError);
      assert.equal(error.code, 'TALLY_COLLECTOR_FAILED');
      assert.match(error.message, /bash test\/peers\/build\.sh otelcol/);
      assert.match(error.message, /otelcol-0\.0\.0-not-built/);
      return true;
    });
  });
});

describe('live peers (bash test/peers/build.sh)', { timeout: 120_000 }, () => {
  let prometheus: Prometheus3Server;
  let jaeger: JaegerServer;
  let otelcol: OtelcolServer;

  before(async () => {
    prometheus = await startPrometheus3({
      features: ['exemplar-storage', 'otlp-deltatocumulative'],
      otlp: { promote_resource_attributes: ['tally.run.id'] },
    });
    jaeger = await startJaeger();
    otelcol = await startOtelcol({
      config: (ports) => otelcolConfig(ports, {
        processors: {
          memory_limiter: { check_interval: '1s', limit_mib: 512 },
          delta_to_cumulative: {},
          batch: { timeout: '100ms' },
        },
        exporters: {
          prometheus_remote_write: { endpoint: prometheus.remoteWriteUrl },
          otlp_grpc: { endpoint: jaeger.otlpGrpcEndpoint, tls: { insecure: true } },
          debug: { verbosity: 'basic' },
        },
        pipelines: {
          metrics: { processors: ['memory_limiter', 'delta_to_cumulative', 'batch'], exporters: ['prometheus_remote_write'] },
          traces: { processors: ['memory_limiter', 'batch'], exporters: ['otlp_grpc'] },
          logs: { exporters: ['debug'] },
        },
      }),
    });
  });

  after(async () => {
    await otelcol?.stop();
    await jaeger?.stop();
    await prometheus?.stop();
  });

  test('Prometheus 3 runs the pinned version and stores an OTLP sample with the promoted resource attribute', async () => {
    assert.ok(prometheus.version.startsWith('3.'), `buildinfo version ${prometheus.version}`);
    assert.equal(prometheus.version, PEER_VERSIONS.prometheus3);
    const endMs = Date.now();
    const posted = await postOtlp(`${prometheus.otlpUrl}/v1/metrics`, sumRequest({
      name: 'tally.peers.direct', value: 7, startMs: endMs - 10_000, endMs, temporality: AggregationTemporality.CUMULATIVE,
      resource: { 'tally.run.id': RUN_ID }, attributes: { route: '/a' },
    }));
    assert.equal(posted.status, 200, posted.text);
    // Default translation: dots to underscores, `_total` for a monotonic sum; service.name is `job`.
    const sample = await eventuallyValue(prometheus, `tally_peers_direct_total{tally_run_id="${RUN_ID}"}`, '7');
    assert.equal(sample.metric.job, 'tally-peers-test');
    assert.equal(sample.metric.route, '/a');
  });

  test('Prometheus 3 with otlp-deltatocumulative adds up OTLP delta points into one cumulative series', async () => {
    const now = Date.now();
    for (const [value, startMs, endMs] of [[3, now - 3000, now - 2000], [4, now - 2000, now - 1000]]) {
      const posted = await postOtlp(`${prometheus.otlpUrl}/v1/metrics`, sumRequest({
        name: 'tally.peers.delta', value, startMs, endMs, temporality: AggregationTemporality.DELTA, resource: { 'tally.run.id': RUN_ID },
      }));
      assert.equal(posted.status, 200, posted.text);
    }
    await eventuallyValue(prometheus, `tally_peers_delta_total{tally_run_id="${RUN_ID}"}`, '7');
  });

  test('Prometheus 3 without a delta feature refuses OTLP delta sums', async () => {
    const plain = await startPrometheus3();
    try {
      assert.deepEqual(plain.features, []);
      const endMs = Date.now();
      const posted = await postOtlp(`${plain.otlpUrl}/v1/metrics`, sumRequest({
        name: 'tally.peers.refused', value: 1, startMs: endMs - 1000, endMs, temporality: AggregationTemporality.DELTA,
      }));
      assert.equal(posted.status, 500);
      assert.match(posted.text, /invalid temporality and type combination/);
      assert.deepEqual(await query(plain, 'tally_peers_refused_total'), []);
    } finally {
      await plain.stop();
    }
  });

  test('the collector carries OTLP delta sums through delta_to_cumulative to Prometheus 3 by remote write and counts them', async () => {
    assert.equal(otelcol.version, PEER_VERSIONS.otelcol);
    const health = await fetch(otelcol.healthUrl);
    assert.equal(health.status, 200);
    await health.arrayBuffer();
    const labels = { receiver: 'otlp', transport: 'http' };
    const acceptedBefore = total(await selfMetrics(otelcol), 'otelcol_receiver_accepted_metric_points', labels);

    const now = Date.now();
    for (const [value, startMs, endMs] of [[5, now - 3000, now - 2000], [6, now - 2000, now - 1000]]) {
      const posted = await postOtlp(`${otelcol.httpEndpoint}/v1/metrics`, sumRequest({
        name: 'tally.peers.via.collector', value, startMs, endMs, temporality: AggregationTemporality.DELTA, attributes: { run: RUN_ID },
      }));
      assert.equal(posted.status, 200, posted.text);
    }
    // The remote-write exporter drops delta sums: 11 in Prometheus proves delta_to_cumulative ran.
    const sample = await eventuallyValue(prometheus, `tally_peers_via_collector_total{run="${RUN_ID}"}`, '11');
    assert.equal(sample.metric.job, 'tally-peers-test');

    // Self metrics as the collector's default reader names them: no `_total`, no scope labels.
    const samples = await eventually('accepted metric points counted', async () => {
      const current = await selfMetrics(otelcol);
      return total(current, 'otelcol_receiver_accepted_metric_points', labels) >= acceptedBefore + 2 ? current : undefined;
    });
    assert.equal(total(samples, 'otelcol_receiver_accepted_metric_points', labels), acceptedBefore + 2);
    assert.equal(total(samples, 'otelcol_receiver_refused_metric_points', labels), 0);
    assert.ok(total(samples, 'otelcol_exporter_sent_metric_points', { exporter: 'prometheus_remote_write' }) >= 1);
    assert.ok(!samples.some((s) => s.name.startsWith('otelcol_') && s.name.endsWith('_total')), 'no _total suffix');
  });

  test('Jaeger stores an OTLP/HTTP trace and returns it by id from its query API (v2 JSON and v3 OTLP JSON)', async () => {
    assert.equal(jaeger.version, PEER_VERSIONS.jaeger);
    const traceId = randomBytes(16).toString('hex');
    const posted = await postOtlp(`${jaeger.otlpHttpEndpoint}/v1/traces`, spanRequest(traceId, 'GET /peers/direct', 'tally-peers-direct'));
    assert.equal(posted.status, 200, posted.text);

    const trace = await readTrace(jaeger, traceId);
    assert.equal(trace.traceID, traceId);
    assert.deepEqual(trace.spans.map((s) => s.operationName), ['GET /peers/direct']);
    assert.equal(trace.processes[trace.spans[0].processID].serviceName, 'tally-peers-direct');

    const v3 = await fetch(`${jaeger.queryUrl}/api/v3/traces/${traceId}`);
    assert.equal(v3.status, 200);
    const otlp = (await v3.json()) as { result: { resourceSpans: { scopeSpans: { spans: { traceId: string; name: string }[] }[] }[] } };
    const spans = otlp.result.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans));
    assert.deepEqual(spans.map((s) => [s.traceId, s.name]), [[traceId, 'GET /peers/direct']]);

    const missing = await fetch(`${jaeger.queryUrl}/api/traces/${randomBytes(16).toString('hex')}`);
    assert.equal(missing.status, 404);
    await missing.arrayBuffer();
  });

  test('the collector forwards an OTLP trace to Jaeger with its otlp_grpc exporter', async () => {
    const traceId = randomBytes(16).toString('hex');
    const posted = await postOtlp(`${otelcol.httpEndpoint}/v1/traces`, spanRequest(traceId, 'GET /peers/via-collector', 'tally-peers-via-collector'));
    assert.equal(posted.status, 200, posted.text);
    const trace = await readTrace(jaeger, traceId);
    assert.deepEqual(trace.spans.map((s) => s.operationName), ['GET /peers/via-collector']);
    assert.equal(trace.processes[trace.spans[0].processID].serviceName, 'tally-peers-via-collector');
    await eventually('sent spans counted', async () => {
      const sent = total(await selfMetrics(otelcol), 'otelcol_exporter_sent_spans', { exporter: 'otlp_grpc' });
      return sent >= 1 ? sent : undefined;
    });
  });
});
