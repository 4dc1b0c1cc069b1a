/**
 * Start and stop the OpenTelemetry Collector that `test/peers/build.sh` builds with the
 * collector builder (ocb) from `test/peers/otelcol/builder-config.yaml`: receiver otlp;
 * processors batch, memory_limiter, delta_to_cumulative; exporters prometheus_remote_write,
 * otlp_grpc, otlp_http, debug; extension health_check. Loopback only: the launcher picks
 * free 127.0.0.1 ports for the OTLP gRPC and HTTP receivers, the collector's own metrics
 * endpoint and health_check, and hands them to the caller's configuration builder.
 *
 * Component names at 0.165: the exporters and the processor are `otlp_grpc`, `otlp_http`,
 * `prometheus_remote_write` and `delta_to_cumulative`; `otlp`, `otlphttp`,
 * `prometheusremotewrite` and `deltatocumulative` still load as deprecated aliases.
 */
import { stringify } from 'yaml';
import { peerBinary, PEER_VERSIONS, runPeerCommand } from './cache.ts';
import { startCollectorProcess } from './collector-process.ts';

/** The loopback ports a collector gets, all on 127.0.0.1. */
export interface OtelcolPorts {
  /** OTLP/gRPC receiver. */
  otlpGrpc: number;
  /** OTLP/HTTP receiver (`/v1/metrics`, `/v1/traces`, `/v1/logs`). */
  otlpHttp: number;
  /** The collector's own metrics, Prometheus text at `/metrics`. */
  metrics: number;
  /** health_check extension, 200 at `/` once every pipeline runs. */
  healthCheck: number;
}

const PORT_NAMES = ['otlpGrpc', 'otlpHttp', 'metrics', 'healthCheck'] as const satisfies readonly (keyof OtelcolPorts)[];

/** One pipeline of `service::pipelines`; receivers default to `[otlp]`. */
export interface OtelcolPipeline {
  receivers?: string[];
  processors?: string[];
  exporters: string[];
}

/** What a caller adds to {@link otelcolConfig}'s fixed receivers, extension and telemetry. */
export interface OtelcolConfigParts {
  /** `processors:` section, e.g. `{ batch: { timeout: '200ms' } }`. */
  processors?: Record<string, unknown>;
  /** `exporters:` section, e.g. `{ prometheus_remote_write: { endpoint } }`. */
  exporters: Record<string, unknown>;
  /** `service::pipelines`, keyed `metrics`, `traces`, `logs` or `metrics/<name>`. */
  pipelines: Record<string, OtelcolPipeline>;
  /** `service::telemetry::metrics::level` (default `detailed`). */
  metricsLevel?: 'none' | 'basic' | 'normal' | 'detailed';
  /** `service::telemetry::logs::level` (default `info`). */
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /**
   * Self-metric naming. Default (false) as the collector's own default reader: no `_total`,
   * no unit suffix, no `otel_scope_*` labels (`otelcol_receiver_accepted_metric_points`).
   * True: the Prometheus exporter's defaults once a reader is configured
   * (`otelcol_receiver_accepted_metric_points_total{otel_scope_name=…}`).
   */
  selfMetricsSuffixes?: boolean;
}

/**
 * A complete collector configuration: receiver `otlp` (gRPC and HTTP) and extension
 * `health_check` on the given ports, the collector's own metrics pulled as Prometheus text
 * on `ports.metrics` (named as {@link OtelcolConfigParts.selfMetricsSuffixes} says), plus
 * the caller's processors, exporters and pipelines.
 * @returns the YAML text.
 */
export function otelcolConfig(ports: OtelcolPorts, parts: OtelcolConfigParts): string {
  const suffixes = parts.selfMetricsSuffixes ?? false;
  const pipelines = Object.fromEntries(Object.entries(parts.pipelines).map(([name, p]) => [name, {
    receivers: p.receivers ?? ['otlp'],
    ...(p.processors === undefined || p.processors.length === 0 ? {} : { processors: p.processors }),
    exporters: p.exporters,
  }]));
  return stringify({
    receivers: {
      otlp: {
        protocols: {
          grpc: { endpoint: `127.0.0.1:${ports.otlpGrpc}` },
          http: { endpoint: `127.0.0.1:${ports.otlpHttp}` },
        },
      },
    },
    ...(parts.processors === undefined ? {} : { processors: parts.processors }),
    exporters: parts.exporters,
    extensions: { health_check: { endpoint: `127.0.0.1:${ports.healthCheck}` } },
    service: {
      extensions: ['health_check'],
      pipelines,
      telemetry: {
        logs: { level: parts.logLevel ?? 'info' },
        metrics: {
          level: parts.metricsLevel ?? 'detailed',
          readers: [{
            pull: {
              exporter: {
                prometheus: {
                  host: '127.0.0.1',
                  port: ports.metrics,
                  without_scope_info: !suffixes,
                  without_units: !suffixes,
                  without_type_suffix: !suffixes,
                },
              },
            },
          }],
        },
      },
    },
  });
}

/** The default configuration: every signal from otlp to the debug exporter. */
function debugConfig(ports: OtelcolPorts): string {
  return otelcolConfig(ports, {
    exporters: { debug: { verbosity: 'basic' } },
    pipelines: { metrics: { exporters: ['debug'] }, traces: { exporters: ['debug'] }, logs: { exporters: ['debug'] } },
  });
}

/** Options for {@link startOtelcol}. */
export interface StartOtelcolOptions {
  /**
   * The configuration's YAML text for the allocated ports; usually
   * `(ports) => otelcolConfig(ports, { exporters, pipelines })`. Every listener must bind
   * 127.0.0.1 and the `health_check` extension must listen on `ports.healthCheck` (the
   * launcher waits for it). Default: otlp → debug for every signal.
   */
  config?: (ports: OtelcolPorts) => string;
  /** Binary; default the cached build of the pinned version ({@link peerBinary}). */
  binary?: string;
  /** How long to wait for health_check, in ms (default 30000). */
  readyTimeoutMs?: number;
  /** How long to wait for exit after SIGTERM before SIGKILL, in ms (default 10000). */
  stopTimeoutMs?: number;
  /** Extra command-line arguments, e.g. `['--feature-gates=…']`. */
  extraArgs?: string[];
}

/** A running collector started by {@link startOtelcol}. */
export interface OtelcolServer {
  /** OTLP/gRPC receiver, `http://127.0.0.1:<port>`. */
  grpcEndpoint: string;
  /** OTLP/HTTP receiver base, `http://127.0.0.1:<port>` (append `/v1/metrics`). */
  httpEndpoint: string;
  /** The collector's own metrics, `http://127.0.0.1:<port>/metrics`. */
  metricsUrl: string;
  /** health_check, `http://127.0.0.1:<port>/`. */
  healthUrl: string;
  ports: OtelcolPorts;
  /** From `otelcol --version`, e.g. `0.165.0`. */
  version: string;
  /** The configuration file it runs with (removed by `stop()`). */
  configFile: string;
  /** The process id, for tests that stop it mid-run. */
  pid: number;
  /** The tail of its stdout and stderr. */
  output(): string;
  /** SIGTERM, wait for exit (SIGKILL after `stopTimeoutMs`), then remove the temporary folder. */
  stop(): Promise<void>;
}

/**
 * Start the collector on 127.0.0.1 and wait until health_check answers 200.
 * @returns the running collector; call `stop()` in an `after` hook.
 * @throws CollectorError `TALLY_COLLECTOR_FAILED` when the binary is not built (run
 * `bash test/peers/build.sh`), rejects its configuration, exits during start-up or is not
 * ready in time; the message carries the tail of its output.
 */
export async function startOtelcol(options: StartOtelcolOptions = {}): Promise<OtelcolServer> {
  const binary = options.binary ?? (await peerBinary('otelcol'));
  const versionText = await runPeerCommand(binary, ['--version']);
  const version = /version (\S+)/.exec(versionText)?.[1] ?? PEER_VERSIONS.otelcol;
  const buildConfig = options.config ?? debugConfig;
  const started = await startCollectorProcess({
    name: 'otelcol',
    binary,
    portNames: PORT_NAMES,
    config: buildConfig,
    readyUrl: (ports) => `http://127.0.0.1:${ports.healthCheck}/`,
    readyTimeoutMs: options.readyTimeoutMs ?? 30_000,
    extraArgs: options.extraArgs,
  });
  const { ports, peer } = started;
  const stopTimeoutMs = options.stopTimeoutMs ?? 10_000;
  return {
    grpcEndpoint: `http://127.0.0.1:${ports.otlpGrpc}`,
    httpEndpoint: `http://127.0.0.1:${ports.otlpHttp}`,
    metricsUrl: `http://127.0.0.1:${ports.metrics}/metrics`,
    healthUrl: `http://127.0.0.1:${ports.healthCheck}/`,
    ports,
    version,
    configFile: started.configFile,
    pid: peer.child.pid ?? -1,
    output: () => peer.output(),
    stop: () => started.stop(stopTimeoutMs),
  };
}
