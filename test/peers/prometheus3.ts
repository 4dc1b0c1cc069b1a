/**
 * Start and stop Prometheus 3 from the peer cache (built by `test/peers/build.sh`) for
 * end-to-end tests: {@link startPrometheus} (loopback, free port, throw-away TSDB, remote-write
 * receiver and admin API) plus the OTLP receiver, optional `--enable-feature` flags and an
 * optional `otlp:` configuration section.
 *
 * Feature flags of 3.16 that matter here: `exemplar-storage` (keep exemplars, from remote
 * write and OTLP); `otlp-deltatocumulative` (convert OTLP delta sums and histograms to
 * cumulative) or, exclusive with it, `otlp-native-delta-ingestion` (store delta samples as
 * they are); `type-and-unit-labels` (`__type__` and `__unit__` labels). Without either delta
 * flag the OTLP receiver refuses delta sums and histograms (HTTP 500, `invalid temporality
 * and type combination for metric "…"`); with both, Prometheus refuses to start. Unknown
 * names are only warned about in its log, not refused.
 */
import { parse, stringify } from 'yaml';
import { ConfigError } from '../../core/errors.ts';
import { peerBinary } from './cache.ts';
import { type PrometheusServer, startPrometheus } from './prometheus.ts';

/**
 * The default configuration: no scrape targets, and the out-of-order window Prometheus's
 * OTLP guide recommends (OTLP senders batch, so samples can arrive late).
 */
export const PROMETHEUS3_BASE_CONFIG = [
  'global:',
  '  scrape_interval: 1m',
  '  evaluation_interval: 1m',
  'scrape_configs: []',
  'storage:',
  '  tsdb:',
  '    out_of_order_time_window: 30m',
  '',
].join('\n');

/** Options for {@link startPrometheus3}. */
export interface StartPrometheus3Options {
  /** Names for `--enable-feature`, e.g. `['exemplar-storage', 'otlp-deltatocumulative']`. */
  features?: string[];
  /**
   * The `otlp:` section of the configuration, e.g.
   * `{ promote_resource_attributes: ['tally.run.id'] }` or `{ translation_strategy: 'NoUTF8EscapingWithSuffixes' }`.
   */
  otlp?: Record<string, unknown>;
  /** The whole configuration file's text (default {@link PROMETHEUS3_BASE_CONFIG}); `otlp` is merged into it. */
  config?: string;
  /** Extra command-line flags. */
  extraArgs?: string[];
  /** Binary; default the cached build of the pinned version ({@link peerBinary}). */
  binary?: string;
  /** How long to wait for `/-/ready`, in ms (default 30000). */
  readyTimeoutMs?: number;
  /** How long to wait for exit after SIGTERM before SIGKILL, in ms (default 10000). */
  stopTimeoutMs?: number;
  /** A restart of a server stopped with `stop({ keepData: true })`: its port and TSDB (see startPrometheus). */
  restart?: { port: number; dataDir: string };
}

/** A running Prometheus 3 started by {@link startPrometheus3}. */
export interface Prometheus3Server extends PrometheusServer {
  /** Base for OTLP/HTTP, `<url>/api/v1/otlp` (POST metrics to `<otlpUrl>/v1/metrics`). */
  otlpUrl: string;
  /** The `--enable-feature` names it was started with. */
  features: string[];
}

function configText(options: StartPrometheus3Options): string {
  const base = options.config ?? PROMETHEUS3_BASE_CONFIG;
  if (options.otlp === undefined) return base;
  const document: unknown = parse(base) ?? {};
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw new ConfigError('the Prometheus configuration must be a YAML mapping', [{ pointer: '', message: 'expected a mapping at the top level' }]);
  }
  return stringify({ ...document, otlp: options.otlp });
}

/**
 * Start Prometheus 3 on 127.0.0.1 with `--web.enable-otlp-receiver`,
 * `--web.enable-remote-write-receiver` and `--web.enable-admin-api`, and wait until
 * `/-/ready` answers 200.
 * @returns the running server; call `stop()` in an `after` hook.
 * @throws CollectorError `TALLY_COLLECTOR_FAILED` when the binary is not built (run
 * `bash test/peers/build.sh`), exits during start-up (a bad flag, feature combination or
 * configuration) or is not ready in time; the message carries the tail of its stderr.
 */
export async function startPrometheus3(options: StartPrometheus3Options = {}): Promise<Prometheus3Server> {
  const binary = options.binary ?? (await peerBinary('prometheus3'));
  const features = options.features ?? [];
  const server = await startPrometheus({
    binary,
    config: configText(options),
    readyTimeoutMs: options.readyTimeoutMs,
    stopTimeoutMs: options.stopTimeoutMs,
    restart: options.restart,
    extraArgs: [
      '--web.enable-otlp-receiver',
      ...(features.length > 0 ? [`--enable-feature=${features.join(',')}`] : []),
      ...(options.extraArgs ?? []),
    ],
  });
  return { ...server, otlpUrl: `${server.url}/api/v1/otlp`, features };
}
