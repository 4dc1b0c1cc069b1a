/**
 * Start and stop Jaeger v2 (the all-in-one `jaeger` binary, built on the OpenTelemetry
 * Collector) from the peer cache (built by `test/peers/build.sh`) as the live trace backend
 * of end-to-end tests: OTLP receivers in, in-memory storage, the query service's HTTP API
 * out. Loopback only: every listener gets a free 127.0.0.1 port, and the all-in-one
 * defaults (sampling, zpages, expvar, Jaeger and Zipkin receivers on fixed ports) are left out.
 *
 * Reading a trace back: `GET <queryUrl>/api/traces/<trace id hex>` answers
 * `{ data: [{ traceID, spans: [{ traceID, spanID, operationName, references, startTime (µs),
 * duration (µs), tags, processID, … }], processes: { p1: { serviceName, tags } } }] }`, or 404
 * before the trace is stored; `GET <queryUrl>/api/v3/traces/<trace id hex>` answers the
 * spans as OTLP JSON (`{ result: { resourceSpans } }`).
 */
import { stringify } from 'yaml';
import { peerBinary, PEER_VERSIONS, runPeerCommand } from './cache.ts';
import { startCollectorProcess } from './collector-process.ts';

/** The loopback ports Jaeger gets, all on 127.0.0.1. */
export interface JaegerPorts {
  otlpGrpc: number;
  otlpHttp: number;
  /** jaeger_query HTTP API (and the placeholder UI). */
  queryHttp: number;
  /** jaeger_query gRPC API (api_v2 and api_v3). */
  queryGrpc: number;
  /** Jaeger's own metrics (collector telemetry), Prometheus text at `/metrics`. */
  metrics: number;
  /** healthcheckv2 in its v1-compatible mode: 200 at `/` once every pipeline runs. */
  health: number;
}

const PORT_NAMES = ['otlpGrpc', 'otlpHttp', 'queryHttp', 'queryGrpc', 'metrics', 'health'] as const satisfies readonly (keyof JaegerPorts)[];

/** Options for {@link startJaeger}. */
export interface StartJaegerOptions {
  /** Traces kept in memory (default 100000). */
  maxTraces?: number;
  /** Binary; default the cached build of the pinned version ({@link peerBinary}). */
  binary?: string;
  /** How long to wait for the health endpoint, in ms (default 30000). */
  readyTimeoutMs?: number;
  /** How long to wait for exit after SIGTERM before SIGKILL, in ms (default 10000). */
  stopTimeoutMs?: number;
  /** The ports of a Jaeger stopped before (a restart: same addresses, empty memory storage). */
  ports?: JaegerPorts;
}

/** A running Jaeger started by {@link startJaeger}. */
export interface JaegerServer {
  /** OTLP/gRPC receiver, `http://127.0.0.1:<port>`. */
  otlpGrpcEndpoint: string;
  /** OTLP/HTTP receiver base, `http://127.0.0.1:<port>` (append `/v1/traces`). */
  otlpHttpEndpoint: string;
  /** Query HTTP API base, `http://127.0.0.1:<port>` (`/api/traces/<id>`, `/api/v3/traces/<id>`). */
  queryUrl: string;
  /** Jaeger's own metrics, `http://127.0.0.1:<port>/metrics`. */
  metricsUrl: string;
  ports: JaegerPorts;
  /** From `jaeger version`, e.g. `1.75.0`. */
  version: string;
  /** The process id, for tests that stop it mid-run. */
  pid: number;
  /** The tail of its stdout and stderr. */
  output(): string;
  /** SIGTERM, wait for exit (SIGKILL after `stopTimeoutMs`), then remove the temporary folder. */
  stop(): Promise<void>;
}

function jaegerConfig(ports: JaegerPorts, maxTraces: number): string {
  const store = 'memstore';
  return stringify({
    service: {
      extensions: ['jaeger_storage', 'jaeger_query', 'healthcheckv2'],
      pipelines: { traces: { receivers: ['otlp'], exporters: ['jaeger_storage_exporter'] } },
      telemetry: {
        resource: { 'service.name': 'jaeger' },
        logs: { level: 'info' },
        metrics: {
          level: 'detailed',
          readers: [{ pull: { exporter: { prometheus: { host: '127.0.0.1', port: ports.metrics } } } }],
        },
      },
    },
    extensions: {
      healthcheckv2: { endpoint: `127.0.0.1:${ports.health}`, path: '/' },
      jaeger_storage: { backends: { [store]: { memory: { max_traces: maxTraces } } } },
      jaeger_query: {
        storage: { traces: store },
        // On by default: the query service would trace itself to an OTLP/gRPC exporter on
        // localhost:4317 (not ours) and, on shutdown, wait for that export to time out.
        enable_tracing: false,
        http: { endpoint: `127.0.0.1:${ports.queryHttp}` },
        grpc: { endpoint: `127.0.0.1:${ports.queryGrpc}` },
      },
    },
    receivers: {
      otlp: {
        protocols: {
          grpc: { endpoint: `127.0.0.1:${ports.otlpGrpc}` },
          http: { endpoint: `127.0.0.1:${ports.otlpHttp}` },
        },
      },
    },
    exporters: { jaeger_storage_exporter: { trace_storage: store } },
  });
}

/**
 * Start Jaeger v2 on 127.0.0.1 with in-memory storage and wait until its health endpoint
 * answers 200 (every pipeline started).
 * @returns the running server; call `stop()` in an `after` hook.
 * @throws CollectorError `TALLY_COLLECTOR_FAILED` when the binary is not built (run
 * `bash test/peers/build.sh`), exits during start-up or is not ready in time; the message
 * carries the tail of its output.
 */
export async function startJaeger(options: StartJaegerOptions = {}): Promise<JaegerServer> {
  const binary = options.binary ?? (await peerBinary('jaeger'));
  // `jaeger version` prints {"gitCommit":…,"gitVersion":"v1.75.0",…} on stdout.
  const versionText = await runPeerCommand(binary, ['version']);
  const version = /"gitVersion":"v?([^"]+)"/.exec(versionText)?.[1] ?? PEER_VERSIONS.jaeger;
  const maxTraces = options.maxTraces ?? 100_000;
  const started = await startCollectorProcess({
    name: 'jaeger',
    binary,
    portNames: PORT_NAMES,
    config: (ports) => jaegerConfig(ports, maxTraces),
    readyUrl: (ports) => `http://127.0.0.1:${ports.health}/`,
    readyTimeoutMs: options.readyTimeoutMs ?? 30_000,
    ports: options.ports,
  });
  const { ports, peer } = started;
  const stopTimeoutMs = options.stopTimeoutMs ?? 10_000;
  return {
    otlpGrpcEndpoint: `http://127.0.0.1:${ports.otlpGrpc}`,
    otlpHttpEndpoint: `http://127.0.0.1:${ports.otlpHttp}`,
    queryUrl: `http://127.0.0.1:${ports.queryHttp}`,
    metricsUrl: `http://127.0.0.1:${ports.metrics}/metrics`,
    ports,
    version,
    pid: peer.child.pid ?? -1,
    output: () => peer.output(),
    stop: () => started.stop(stopTimeoutMs),
  };
}
