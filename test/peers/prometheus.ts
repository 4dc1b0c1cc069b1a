/**
 * Start and stop a local Prometheus for end-to-end tests and benchmarks: loopback only, a
 * free port, a throw-away TSDB directory and a config with no scrape targets, with the
 * remote-write receiver and admin API on; plus the admin-API calls tests use to damage
 * the TSDB on purpose. Shared by `test/` and `bench/`.
 *
 * A missing binary is a failure, never a skip: an end-to-end suite that silently skips
 * proves nothing.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CollectorError } from '../../core/errors.ts';
import { findExecutable, freeLoopbackPort, startPeerProcess, tail, waitReady } from './process.ts';

/** A running Prometheus started by {@link startPrometheus}. */
export interface PrometheusServer {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** Remote-write receiver URL (`<url>/api/v1/write`). */
  remoteWriteUrl: string;
  /** Version from `/api/v1/status/buildinfo`, e.g. `2.42.0+ds`. */
  version: string;
  /** The TSDB directory, removed by `stop()` (unless the server is a restart: see {@link StartPrometheusOptions.restart}). */
  dataDir: string;
  /** The port it listens on (127.0.0.1). */
  port: number;
  /** The process id, for tests that stop it mid-run. */
  pid: number;
  /**
   * SIGTERM, wait for exit (SIGKILL after `stopTimeoutMs`), then remove the temporary directory;
   * with `keepData`, keep the TSDB for a restart (which removes it when it stops).
   */
  stop(options?: { keepData?: boolean }): Promise<void>;
}

/** Options for {@link startPrometheus}. */
export interface StartPrometheusOptions {
  /** Binary; default `$TALLY_PROMETHEUS_BIN`, else `prometheus` on PATH (Debian's `prometheus` package). */
  binary?: string;
  /** How long to wait for `/-/ready`, in ms (default 30000). */
  readyTimeoutMs?: number;
  /** How long to wait for exit after SIGTERM before SIGKILL, in ms (default 10000). */
  stopTimeoutMs?: number;
  /** Extra command-line flags. */
  extraArgs?: string[];
  /** The configuration file's text (default: no scrape targets). */
  config?: string;
  /**
   * A restart of a stopped Prometheus: its port and TSDB directory (kept by `stop()`: the
   * caller removes it). The WAL is replayed; the process's counters start from zero.
   */
  restart?: { port: number; dataDir: string };
}

const MINIMAL_CONFIG = 'global:\n  scrape_interval: 1m\n  evaluation_interval: 1m\nscrape_configs: []\n';

async function buildVersion(url: string): Promise<string> {
  const response = await fetch(`${url}/api/v1/status/buildinfo`);
  const body = (await response.json()) as { data?: { version?: string } };
  return body.data?.version ?? 'unknown';
}

/**
 * Start Prometheus on 127.0.0.1 and wait until `/-/ready` answers 200.
 * Never uses port 9090 or the system's config and data directories.
 * @returns the running server; call `stop()` in an `after` hook.
 * @throws CollectorError `TALLY_COLLECTOR_FAILED` when the binary is missing (install the
 * Debian package `prometheus`), exits during start-up, or is not ready in time; the
 * message carries the tail of its stderr.
 */
export async function startPrometheus(options: StartPrometheusOptions = {}): Promise<PrometheusServer> {
  const binary = options.binary ?? (await findExecutable('prometheus', [process.env.TALLY_PROMETHEUS_BIN]));
  if (binary === undefined) {
    throw new CollectorError('Prometheus binary not found: install it with "apt-get install -y prometheus" (Debian package prometheus) or set TALLY_PROMETHEUS_BIN', {
      details: { binary: 'prometheus' },
    });
  }
  const dir = await mkdtemp(join(tmpdir(), 'tally-prometheus-'));
  const configFile = join(dir, 'prometheus.yml');
  const dataDir = options.restart?.dataDir ?? join(dir, 'data');
  await writeFile(configFile, options.config ?? MINIMAL_CONFIG);

  // The port is free when probed but may be taken before Prometheus binds it; retry then.
  let lastError = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = options.restart?.port ?? await freeLoopbackPort();
    const url = `http://127.0.0.1:${port}`;
    const peer = startPeerProcess(binary, [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${dataDir}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--web.enable-remote-write-receiver',
      '--web.enable-admin-api',
      '--log.level=warn',
      ...(options.extraArgs ?? []),
    ]);
    const state = await waitReady(`${url}/-/ready`, peer.child, options.readyTimeoutMs ?? 30_000);
    if (state === 'ready') {
      const stopTimeoutMs = options.stopTimeoutMs ?? 10_000;
      return {
        url,
        remoteWriteUrl: `${url}/api/v1/write`,
        version: await buildVersion(url),
        dataDir,
        port,
        pid: peer.child.pid ?? -1,
        async stop(stopOptions = {}) {
          await peer.stop(stopTimeoutMs);
          if (stopOptions.keepData === true) await rm(configFile, { force: true });
          else {
            await rm(dir, { recursive: true, force: true });
            // A restart owns the stopped server's folder, its TSDB included.
            if (options.restart !== undefined) await rm(dirname(options.restart.dataDir), { recursive: true, force: true });
          }
        },
      };
    }
    await peer.stop(5000);
    lastError = `${state === 'timeout' ? 'not ready in time' : `exited with ${peer.child.exitCode ?? peer.child.signalCode}`}: ${tail(peer.output())}`;
    if (options.restart !== undefined || !/address already in use/i.test(peer.output())) break;
  }
  await rm(dir, { recursive: true, force: true });
  throw new CollectorError(`Prometheus (${binary}) did not start: ${lastError}`, { details: { binary } });
}

async function admin(url: string, path: string, params: URLSearchParams): Promise<void> {
  const response = await fetch(`${url}${path}?${params}`, { method: 'POST', signal: AbortSignal.timeout(30_000) });
  const text = await response.text();
  if (response.status !== 204 && response.status !== 200) {
    throw new CollectorError(`Prometheus admin ${path} answered ${response.status}: ${text.slice(0, 200)}`);
  }
}

/**
 * Delete the series matching each selector, optionally only in [startMs, endMs], through
 * the admin API (needs `--web.enable-admin-api`); then clean the tombstones so the
 * deletion is physical, not only masked at query time.
 * @see https://prometheus.io/docs/prometheus/latest/querying/api/#delete-series
 * @see https://prometheus.io/docs/prometheus/latest/querying/api/#clean-tombstones
 */
export async function deleteSeries(url: string, selectors: readonly string[], startMs?: number, endMs?: number): Promise<void> {
  const params = new URLSearchParams();
  for (const s of selectors) params.append('match[]', s);
  if (startMs !== undefined) params.set('start', String(startMs / 1000));
  if (endMs !== undefined) params.set('end', String(endMs / 1000));
  await admin(url, '/api/v1/admin/tsdb/delete_series', params);
  await admin(url, '/api/v1/admin/tsdb/clean_tombstones', new URLSearchParams());
}
