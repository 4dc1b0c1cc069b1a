/**
 * The embedded OTLP/HTTP receiver: used when a scenario names no `telemetry.endpoint`.
 * It decodes protobuf and JSON export requests, places every data point in the run's
 * series space (series from the attributes, tick from the timestamp), checks its value
 * against the one derived from the seed, and records it in an {@link ObservationStore}.
 *
 * It answers as the OTLP/HTTP specification says: 200 with an ExportMetricsServiceResponse
 * (with partial_success when it rejected points), 400 with a google.rpc.Status for a bad
 * body, 413 for an oversized one, 415 for an unknown content type, 503 with Retry-After
 * when fault injection fails the request.
 *
 * Fault injection is seeded and deterministic: each decision hashes (seed, metric,
 * series, tick), so the same scenario faults the same points whatever the request order.
 *
 * @see https://opentelemetry.io/docs/specs/otlp/#otlphttp-response
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { CollectorError, TallyError } from '../core/errors.ts';
import { hash32 } from '../core/rng.ts';
import { cumulativeCounterValue, seriesIndexOf, type SeriesLayout } from '../core/series.ts';
import type { ObservationStore } from '../ledger/observations.ts';
import type { FaultSpec } from '../scenarios/types.ts';
import { decodeMetricsRequest, encodeMetricsResponse, encodeStatus } from './otlp/codec.ts';

/** The series space the receiver places points in. */
export interface ReceiverSpace {
  runId: string;
  seed: number;
  startUnixNano: bigint;
  exportIntervalNs: bigint;
  ticks: number;
  metrics: { metricIndex: number; name: string; layout: SeriesLayout }[];
}

/** Receiver counters (what it did, including injected faults). */
export interface ReceiverStats {
  requests: number;
  /** Requests answered 503 by fault injection. */
  requestsFailedByFault: number;
  /** Data points rejected through partial_success by fault injection. */
  pointsRejectedByFault: number;
  /** Requests refused as undecodable (400), oversized (413) or of unknown type (415). */
  requestsRefused: number;
  bytesReceived: number;
}

/** A running receiver. */
export interface OtlpReceiver {
  /** Base URL (`http://127.0.0.1:<port>`); metrics go to `<url>/v1/metrics`. */
  url: string;
  stats(): ReceiverStats;
  close(): Promise<void>;
}

/** Options of {@link startOtlpReceiver}. */
export interface ReceiverOptions {
  space: ReceiverSpace;
  store: ObservationStore;
  faults: FaultSpec;
  /** Largest accepted (decompressed) body. Default 16 MiB. */
  maxBodyBytes?: number;
  host?: string;
}

const FAULT_REQUEST = 0x503;
const FAULT_POINT = 0x7e1ec7;

/** True when the seeded draw for this key falls under `ratio`. */
function draw(ratio: number, ...key: number[]): boolean {
  return ratio > 0 && hash32(...key) / 0x1_0000_0000 < ratio;
}

type Format = 'protobuf' | 'json';

function formatOf(contentType: string | undefined): Format | undefined {
  const type = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (type === 'application/x-protobuf' || type === 'application/protobuf') return 'protobuf';
  if (type === 'application/json') return 'json';
  return undefined;
}

function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | 'too_large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > maxBytes) {
        // Stop buffering; the caller answers 413 and closes the connection after the reply.
        req.removeAllListeners('data');
        req.resume();
        resolve('too_large');
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks, size)));
    req.on('error', reject);
  });
}

/** A decoded point placed in the series space, or why it could not be. */
interface Placement {
  metricIndex: number;
  series: number;
  tick: number;
}

/**
 * Start the receiver on 127.0.0.1 (free port).
 * @throws CollectorError `TALLY_COLLECTOR_FAILED` when it cannot listen.
 */
export async function startOtlpReceiver(options: ReceiverOptions): Promise<OtlpReceiver> {
  const { space, store, faults } = options;
  const maxBodyBytes = options.maxBodyBytes ?? 16 * 1024 * 1024;
  const metricsByName = new Map(space.metrics.map((m) => [m.name, m]));
  const stats: ReceiverStats = { requests: 0, requestsFailedByFault: 0, pointsRejectedByFault: 0, requestsRefused: 0, bytesReceived: 0 };

  const reply = (res: ServerResponse, status: number, format: Format, body: Uint8Array, extra: Record<string, string> = {}): void => {
    res.writeHead(status, { 'content-type': format === 'json' ? 'application/json' : 'application/x-protobuf', 'content-length': String(body.byteLength), ...extra });
    res.end(body);
  };
  const refuse = (res: ServerResponse, status: number, format: Format, code: number, message: string): void => {
    stats.requestsRefused++;
    reply(res, status, format, encodeStatus({ code, message }, format));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    stats.requests++;
    if (req.url !== '/v1/metrics' && !req.url?.startsWith('/v1/metrics?')) {
      res.writeHead(404).end();
      return;
    }
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST' }).end();
      return;
    }
    const format = formatOf(req.headers['content-type']);
    if (format === undefined) {
      // google.rpc.Code 3 = INVALID_ARGUMENT
      refuse(res, 415, 'protobuf', 3, `unsupported content-type ${JSON.stringify(req.headers['content-type'] ?? '')}; expected application/x-protobuf or application/json`);
      return;
    }
    let body = await readBody(req, maxBodyBytes);
    if (body === 'too_large') {
      res.setHeader('connection', 'close');
      res.on('finish', () => req.socket.destroy());
      refuse(res, 413, format, 8, `body larger than ${maxBodyBytes} bytes`); // 8 = RESOURCE_EXHAUSTED
      return;
    }
    stats.bytesReceived += body.length;
    if ((req.headers['content-encoding'] ?? '').toLowerCase() === 'gzip') {
      try {
        body = gunzipSync(body, { maxOutputLength: maxBodyBytes });
      } catch (err) {
        refuse(res, 400, format, 3, `gzip body cannot be inflated: ${(err as Error).message}`);
        return;
      }
    }
    let request;
    try {
      request = decodeMetricsRequest(body, format);
    } catch (err) {
      if (err instanceof TallyError) {
        refuse(res, 400, format, 3, err.message);
        return;
      }
      throw err;
    }
    // Place every point first: a 503 is decided by the request's first placed point.
    const placed: Placement[] = [];
    const actuals: number[] = [];
    for (const rm of request.resourceMetrics) {
      if (rm.resource.attributes['tally.run.id'] !== space.runId) {
        for (const sm of rm.scopeMetrics) for (const m of sm.metrics) store.foreignRunPoints += m.dataPoints.length;
        continue;
      }
      for (const sm of rm.scopeMetrics) {
        for (const m of sm.metrics) {
          const metric = metricsByName.get(m.name);
          if (metric === undefined) {
            for (let i = 0; i < m.dataPoints.length; i++) store.addUnexpected({ metric: m.name, reason: 'unknown_metric', detail: 'not in the scenario' });
            continue;
          }
          if (m.kind !== 'sum' || m.aggregationTemporality !== 'cumulative') {
            const detail = m.kind === 'sum' ? `sum/${m.aggregationTemporality}` : m.kind;
            for (let i = 0; i < m.dataPoints.length; i++) store.addUnexpected({ metric: m.name, reason: 'wrong_temporality', detail });
            continue;
          }
          for (const p of m.dataPoints) {
            const series = seriesIndexOf(metric.layout, p.attributes);
            if (series < 0) {
              store.addUnexpected({ metric: m.name, reason: 'foreign_attributes', detail: JSON.stringify(p.attributes).slice(0, 200) });
              continue;
            }
            const sinceStartNs = p.timeUnixNano - space.startUnixNano;
            if (sinceStartNs % space.exportIntervalNs !== 0n) {
              store.addUnexpected({ metric: m.name, reason: 'off_tick', detail: `timeUnixNano ${p.timeUnixNano}` });
              continue;
            }
            const tick = Number(sinceStartNs / space.exportIntervalNs);
            if (tick < 1 || tick > space.ticks) {
              store.addUnexpected({ metric: m.name, reason: 'tick_out_of_range', detail: `tick ${tick}` });
              continue;
            }
            placed.push({ metricIndex: metric.metricIndex, series, tick });
            actuals.push(p.value);
          }
        }
      }
    }
    const first = placed[0];
    if (first !== undefined && draw(faults.failRequestRatio, space.seed, FAULT_REQUEST, first.metricIndex, first.series, first.tick)) {
      stats.requestsFailedByFault++;
      reply(res, 503, format, encodeStatus({ code: 14, message: 'tally fault injection: unavailable' }, format), {
        'retry-after': String(Math.max(1, Math.round(faults.retryAfterMs / 1000))),
      });
      return;
    }
    let rejected = 0;
    for (let i = 0; i < placed.length; i++) {
      const { metricIndex, series, tick } = placed[i];
      if (draw(faults.rejectDataPointRatio, space.seed, FAULT_POINT, metricIndex, series, tick)) {
        rejected++;
        continue;
      }
      store.add(metricIndex, series, tick, cumulativeCounterValue(space.seed, metricIndex, series, tick), actuals[i]);
    }
    stats.pointsRejectedByFault += rejected;
    const partial = rejected > 0 ? { rejectedDataPoints: rejected, errorMessage: `tally fault injection: rejected ${rejected} data points` } : undefined;
    reply(res, 200, format, encodeMetricsResponse(partial, format));
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`internal error: ${(err as Error).message}`);
    });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', (cause) => reject(new CollectorError(`embedded OTLP receiver cannot listen on ${host}: ${cause.message}`, { cause })));
    server.listen({ host, port: 0 }, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    stats: () => ({ ...stats }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
