/**
 * The embedded OTLP receiver: used when a scenario names no `telemetry.endpoint`. It
 * serves OTLP/HTTP (`/v1/metrics`, `/v1/traces`; protobuf and JSON; gzip) and, when
 * asked, OTLP/gRPC (otlp-grpc-receiver.ts), optionally over TLS. Metrics: every data
 * point of every instrument and temporality is placed in the run's series space
 * (otlp-place.ts: series and churn generation from the attributes, tick from the
 * timestamp), checked field by field against the model, and recorded in an
 * {@link ObservationStore} once the request's faults are decided. Traces: decoded, spans counted, and handed to `onTraces`.
 *
 * It answers as the OTLP specification says: success with an Export*ServiceResponse
 * (partial_success when it rejected items); HTTP 400 / INVALID_ARGUMENT with a
 * google.rpc.Status for a bad body or (with `rejectDeltaTemporality`) a request holding
 * a delta metric; 413 oversized; 415 unknown content type; and the seeded faults of
 * receiver-faults.ts (503/UNAVAILABLE, 429/RESOURCE_EXHAUSTED with Retry-After or
 * RetryInfo, acknowledged-then-dropped, added latency).
 *
 * @see https://opentelemetry.io/docs/specs/otlp/#otlphttp-response
 * @see https://opentelemetry.io/docs/specs/otlp/#otlpgrpc-response
 */
import { CollectorError, TallyError } from '../core/errors.ts';
import type { SeriesLayout } from '../core/series.ts';
import { metricModel, type MetricModel } from '../core/instruments.ts';
import type { ObservationStore } from '../reconcile/observations.ts';
import { commitPlacement, placeMetricsRequest, placementIndex, type PlacementIndex } from './otlp-place.ts';
import { FaultPlan, spanKey, type ReceiverFaults, type RequestKey } from './receiver-faults.ts';
import { DataPointBucket } from './receiver-limit.ts';
import type { ReceiverLimits } from '../scenarios/types.ts';
import { decodeMetricsRequest, decodeTraceRequest, type MetricsRequest, type OtlpFormat, type TraceRequest } from '../wire/otlp/codec.ts';
import { startHttpListener } from './otlp-receiver-http.ts';
import { startGrpcReceiver } from './otlp-receiver-grpc.ts';

/** The series space the receiver places points in. */
export interface ReceiverSpace {
  runId: string;
  seed: number;
  startUnixNano: bigint;
  exportIntervalNs: bigint;
  ticks: number;
  /** `model` absent: a cumulative counter (the first instrument tally had). */
  metrics: { metricIndex: number; name: string; layout: SeriesLayout; model?: MetricModel }[];
}

/** The placement index of a space: built once per receiver. */
export function receiverIndex(space: ReceiverSpace): PlacementIndex {
  return placementIndex({
    runId: space.runId,
    startUnixNano: space.startUnixNano,
    exportIntervalNs: space.exportIntervalNs,
    ticks: space.ticks,
    metrics: space.metrics.map((m) => ({
      metricIndex: m.metricIndex,
      name: m.name,
      layout: m.layout,
      model: m.model ?? metricModel(space.seed, m.metricIndex, m.layout.seriesCount, { instrument: 'counter', temporality: 'cumulative' }),
    })),
  });
}

/** Receiver counters (what it did, including injected faults). */
export interface ReceiverStats {
  requests: number;
  /** Requests over OTLP/gRPC (included in `requests`). */
  grpcRequests: number;
  /** Requests whose body came gzip-compressed (OTLP/HTTP Content-Encoding). */
  requestsCompressed: number;
  /** Requests answered 503 / UNAVAILABLE by fault injection. */
  requestsFailedByFault: number;
  /** Requests answered 429 / RESOURCE_EXHAUSTED by fault injection. */
  requestsThrottledByFault: number;
  /** Requests answered 429 / RESOURCE_EXHAUSTED by the throughput limit (`limits`). */
  requestsThrottledByLimit: number;
  /** Data points in the requests the throughput limit refused. */
  pointsThrottledByLimit: number;
  /** Requests acknowledged and then discarded by fault injection. */
  requestsDroppedByFault: number;
  /** Data points rejected through partial_success by fault injection. */
  pointsRejectedByFault: number;
  /** Data points acknowledged and then discarded (request or point drops). */
  pointsDroppedByFault: number;
  /** Requests refused for holding a delta metric (`rejectDeltaTemporality`). */
  requestsRefusedDelta: number;
  /** Requests refused as undecodable (400), oversized (413) or of unknown type (415), delta ones included. */
  requestsRefused: number;
  traceRequests: number;
  spansReceived: number;
  spansRejected: number;
  bytesReceived: number;
}

/** Context of a trace request handed to `onTraces`. */
export interface TraceRequestContext {
  transport: 'http' | 'grpc';
  format: OtlpFormat;
  spans: number;
}

/** What `onTraces` may answer: spans to report rejected through partial_success. */
export interface TraceVerdict {
  rejectedSpans: number;
  errorMessage?: string;
}

/** One request's arrival, for tests and diagnostics (`onArrival`). */
export interface Arrival {
  transport: 'http' | 'grpc';
  signal: 'metrics' | 'traces';
  /** Request identity (first placed point or span), `''` when none. */
  key: string;
  /** `performance.now()`-style monotonic ms. */
  atMs: number;
  verdict: Verdict['kind'];
}

/** A running receiver. */
export interface OtlpReceiver {
  /** OTLP/HTTP base URL (`http(s)://127.0.0.1:<port>`); metrics go to `<url>/v1/metrics`. */
  url: string;
  /** OTLP/gRPC endpoint (`http(s)://127.0.0.1:<port>`), when `grpc` was asked for. */
  grpcUrl?: string;
  stats(): ReceiverStats;
  close(): Promise<void>;
}

/** TLS of the receiver's listeners: PEM server certificate and key; `ca` + `requireClientCert` for mutual TLS. */
export interface ReceiverTls {
  cert: string | Buffer;
  key: string | Buffer;
  ca?: string | Buffer;
  requireClientCert?: boolean;
}

/** Options of {@link startOtlpReceiver}. */
export interface ReceiverOptions {
  space: ReceiverSpace;
  store: ObservationStore;
  faults: ReceiverFaults;
  /** A throughput limit on data points (embedded/receiver-limit.ts); none when undefined. */
  limits?: ReceiverLimits;
  /** Largest accepted (decompressed) body. Default 16 MiB. */
  maxBodyBytes?: number;
  host?: string;
  /** Also serve OTLP/gRPC on its own port. */
  grpc?: boolean;
  tls?: ReceiverTls;
  /** Called for every trace request that was accepted (not faulted). */
  onTraces?: (request: TraceRequest, ctx: TraceRequestContext) => TraceVerdict | void;
  onArrival?: (arrival: Arrival) => void;
}

/** The protocol-neutral answer to one export request. */
export type Verdict =
  | { kind: 'ok'; rejected: number; message: string }
  | { kind: 'invalid'; message: string }
  | { kind: 'unavailable' }
  | { kind: 'throttled'; message?: string };

/** The first delta metric of a request, if any. */
function firstDeltaMetric(request: MetricsRequest): string | undefined {
  for (const rm of request.resourceMetrics) {
    for (const sm of rm.scopeMetrics) {
      for (const m of sm.metrics) if ('aggregationTemporality' in m && m.aggregationTemporality === 'delta') return m.name;
    }
  }
  return undefined;
}

const sleep = (ms: number): Promise<void> => (ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve());

/** The receiver's protocol-neutral handling, shared by the HTTP and gRPC listeners. */
export class ReceiverCore {
  readonly stats: ReceiverStats = {
    requests: 0, grpcRequests: 0, requestsCompressed: 0, requestsFailedByFault: 0, requestsThrottledByFault: 0, requestsThrottledByLimit: 0,
    pointsThrottledByLimit: 0, requestsDroppedByFault: 0, pointsRejectedByFault: 0, pointsDroppedByFault: 0, requestsRefusedDelta: 0, requestsRefused: 0,
    traceRequests: 0, spansReceived: 0, spansRejected: 0, bytesReceived: 0,
  };
  readonly plan: FaultPlan;
  readonly maxBodyBytes: number;
  readonly #options: ReceiverOptions;
  readonly #index: PlacementIndex;
  readonly #bucket: DataPointBucket | undefined;

  constructor(options: ReceiverOptions) {
    this.#options = options;
    this.plan = new FaultPlan(options.space.seed, options.faults);
    this.#bucket = options.limits === undefined ? undefined : new DataPointBucket(options.limits, Number(options.space.exportIntervalNs) / 1e6);
    this.maxBodyBytes = options.maxBodyBytes ?? 16 * 1024 * 1024;
    this.#index = receiverIndex(options.space);
  }

  /** Count a refused request and return its verdict. */
  invalid(message: string): Verdict {
    this.stats.requestsRefused++;
    return { kind: 'invalid', message };
  }

  #arrive(transport: 'http' | 'grpc', signal: 'metrics' | 'traces', key: RequestKey | undefined, verdict: Verdict): Verdict {
    this.#options.onArrival?.({ transport, signal, key: key?.join(':') ?? '', atMs: performance.now(), verdict: verdict.kind });
    return verdict;
  }

  #requestFault(key: RequestKey | undefined): Verdict | 'drop' | undefined {
    const fault = this.plan.requestFault(key);
    if (fault === 'unavailable') {
      this.stats.requestsFailedByFault++;
      return { kind: 'unavailable' };
    }
    if (fault === 'throttled') {
      this.stats.requestsThrottledByFault++;
      return { kind: 'throttled' };
    }
    return fault;
  }

  /** Decode, fault and record one metrics export (body already decompressed). */
  async metrics(body: Uint8Array, format: OtlpFormat, transport: 'http' | 'grpc'): Promise<Verdict> {
    const { store } = this.#options;
    let request: MetricsRequest;
    try {
      request = decodeMetricsRequest(body, format, { maxBodyBytes: this.maxBodyBytes });
    } catch (err) {
      if (err instanceof TallyError) return this.#arrive(transport, 'metrics', undefined, this.invalid(err.message));
      throw err;
    }
    const delta = this.plan.faults.rejectDeltaTemporality ? firstDeltaMetric(request) : undefined;
    if (delta !== undefined) {
      this.stats.requestsRefusedDelta++;
      // Prometheus's OTLP receiver wording for the same refusal.
      return this.#arrive(transport, 'metrics', undefined, this.invalid(`invalid temporality and type combination for metric "${delta}": delta temporality is not accepted`));
    }
    const placement = placeMetricsRequest(this.#index, request);
    const placed = placement.placed;
    const first = placed[0];
    const key: RequestKey | undefined = first === undefined ? undefined : [first.metricIndex, first.series, first.tick];
    await sleep(this.plan.latencyMs(key));
    const points = placed.length + placement.unexpected.length + placement.foreignRunPoints;
    if (this.#bucket !== undefined && !this.#bucket.take(points, performance.now())) {
      this.stats.requestsThrottledByLimit++;
      this.stats.pointsThrottledByLimit += points;
      return this.#arrive(transport, 'metrics', key, { kind: 'throttled', message: `tally receiver limit: more than ${this.#options.limits!.dataPointsPerSecond} data points per second` });
    }
    const fault = this.#requestFault(key);
    if (fault !== undefined && fault !== 'drop') return this.#arrive(transport, 'metrics', key, fault);
    if (fault === 'drop') {
      this.stats.requestsDroppedByFault++;
      this.stats.pointsDroppedByFault += placed.length;
      return this.#arrive(transport, 'metrics', key, { kind: 'ok', rejected: 0, message: '' });
    }
    let rejected = 0;
    commitPlacement(store, placement, (p) => {
      if (this.plan.rejectPoint(p.metricIndex, p.series, p.tick)) {
        rejected++;
        return true;
      }
      if (this.plan.dropPoint(p.metricIndex, p.series, p.tick)) {
        this.stats.pointsDroppedByFault++;
        return true;
      }
      return false;
    });
    this.stats.pointsRejectedByFault += rejected;
    const message = rejected > 0 ? `tally fault injection: rejected ${rejected} data points` : '';
    return this.#arrive(transport, 'metrics', key, { kind: 'ok', rejected, message });
  }

  /** Decode, fault and hand over one trace export (body already decompressed). */
  async traces(body: Uint8Array, format: OtlpFormat, transport: 'http' | 'grpc'): Promise<Verdict> {
    this.stats.traceRequests++;
    let request: TraceRequest;
    try {
      request = decodeTraceRequest(body, format, { maxBodyBytes: this.maxBodyBytes });
    } catch (err) {
      if (err instanceof TallyError) return this.#arrive(transport, 'traces', undefined, this.invalid(err.message));
      throw err;
    }
    let spans = 0;
    let key: RequestKey | undefined;
    for (const rs of request.resourceSpans) {
      for (const ss of rs.scopeSpans) {
        spans += ss.spans.length;
        if (key === undefined && ss.spans.length > 0) key = spanKey(ss.spans[0].traceId, ss.spans[0].spanId);
      }
    }
    await sleep(this.plan.latencyMs(key));
    const fault = this.#requestFault(key);
    if (fault !== undefined && fault !== 'drop') return this.#arrive(transport, 'traces', key, fault);
    if (fault === 'drop') {
      this.stats.requestsDroppedByFault++;
      return this.#arrive(transport, 'traces', key, { kind: 'ok', rejected: 0, message: '' });
    }
    this.stats.spansReceived += spans;
    const verdict = this.#options.onTraces?.(request, { transport, format, spans });
    const rejected = Math.min(spans, Math.max(0, Math.floor(verdict?.rejectedSpans ?? 0)));
    this.stats.spansRejected += rejected;
    return this.#arrive(transport, 'traces', key, { kind: 'ok', rejected, message: verdict?.errorMessage ?? '' });
  }
}

/**
 * Start the receiver on 127.0.0.1 (free ports): OTLP/HTTP always, OTLP/gRPC when
 * `options.grpc`, both over TLS when `options.tls`.
 * @throws CollectorError `TALLY_COLLECTOR_FAILED` when it cannot listen.
 */
export async function startOtlpReceiver(options: ReceiverOptions): Promise<OtlpReceiver> {
  const core = new ReceiverCore(options);
  const host = options.host ?? '127.0.0.1';
  const http = await startHttpListener(core, host, options.tls);
  let grpc: { url: string; close(): Promise<void> } | undefined;
  try {
    if (options.grpc) grpc = await startGrpcReceiver(core, host, options.tls);
  } catch (err) {
    await http.close();
    throw err instanceof TallyError ? err : new CollectorError(`embedded OTLP/gRPC receiver cannot listen on ${host}: ${(err as Error).message}`, { cause: err });
  }
  return {
    url: http.url,
    grpcUrl: grpc?.url,
    stats: () => ({ ...core.stats }),
    close: async () => {
      await Promise.all([http.close(), grpc?.close()]);
    },
  };
}
