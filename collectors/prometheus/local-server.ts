/**
 * Start and stop a local Prometheus server for end-to-end tests and benchmarks: loopback
 * only, a free port, a throw-away TSDB directory and a config with no scrape targets,
 * with the remote-write receiver and admin API on. Moved here from
 * `test/helpers/prometheus.ts` (which re-exports it) so `bench/` can use it too.
 *
 * A missing binary is a failure, never a skip: an end-to-end suite that silently skips
 * proves nothing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { access, constants, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { CollectorError } from '../../core/errors.ts';

/** A running Prometheus started by {@link startPrometheus}. */
export interface PrometheusServer {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** Remote-write receiver URL (`<url>/api/v1/write`). */
  remoteWriteUrl: string;
  /** Version from `/api/v1/status/buildinfo`, e.g. `2.42.0+ds`. */
  version: string;
  /** The TSDB directory, removed by `stop()`. */
  dataDir: string;
  /** SIGTERM, wait for exit (SIGKILL after `stopTimeoutMs`), then remove the temporary directory. */
  stop(): Promise<void>;
}

/** Options for {@link startPrometheus}. */
export interface StartPrometheusOptions {
  /** Binary; default `$TALLY_PROMETHEUS_BIN` or `/usr/bin/prometheus` (Debian's `prometheus` package). */
  binary?: string;
  /** How long to wait for `/-/ready`, in ms (default 30000). */
  readyTimeoutMs?: number;
  /** How long to wait for exit after SIGTERM before SIGKILL, in ms (default 10000). */
  stopTimeoutMs?: number;
  /** Extra command-line flags. */
  extraArgs?: string[];
}

const MINIMAL_CONFIG = 'global:\n  scrape_interval: 1m\n  evaluation_interval: 1m\nscrape_configs: []\n';
const STDERR_KEEP_BYTES = 8192;

async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new CollectorError('could not find a free loopback port');
  return address.port;
}

async function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return true;
  const exited = new Promise<true>((resolve) => child.once('exit', () => resolve(true)));
  const timedOut = delay(timeoutMs, false as const);
  return Promise.race([exited, timedOut]);
}

async function ready(url: string, child: ChildProcess, timeoutMs: number): Promise<'ready' | 'exited' | 'timeout'> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) return 'exited';
    try {
      const response = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) });
      await response.arrayBuffer();
      if (response.status === 200) return 'ready';
    } catch {
      // Not listening yet.
    }
    await delay(50);
  }
  return 'timeout';
}

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
  const binary = options.binary ?? process.env.TALLY_PROMETHEUS_BIN ?? '/usr/bin/prometheus';
  try {
    await access(binary, constants.X_OK);
  } catch (cause) {
    throw new CollectorError(
      `Prometheus binary ${binary} not found or not executable: install it with "apt-get install -y prometheus" (Debian package prometheus) or set TALLY_PROMETHEUS_BIN`,
      { details: { binary }, cause },
    );
  }
  const dir = await mkdtemp(join(tmpdir(), 'tally-prometheus-'));
  const configFile = join(dir, 'prometheus.yml');
  const dataDir = join(dir, 'data');
  await writeFile(configFile, MINIMAL_CONFIG);

  // The port is free when probed but may be taken before Prometheus binds it; retry then.
  let lastError = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freeLoopbackPort();
    const url = `http://127.0.0.1:${port}`;
    const child = spawn(
      binary,
      [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${dataDir}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--web.enable-remote-write-receiver',
        '--web.enable-admin-api',
        '--log.level=warn',
        ...(options.extraArgs ?? []),
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_KEEP_BYTES);
    });
    const state = await ready(url, child, options.readyTimeoutMs ?? 30_000);
    if (state === 'ready') {
      const stopTimeoutMs = options.stopTimeoutMs ?? 10_000;
      return {
        url,
        remoteWriteUrl: `${url}/api/v1/write`,
        version: await buildVersion(url),
        dataDir,
        async stop() {
          child.kill('SIGTERM');
          if (!(await waitForExit(child, stopTimeoutMs))) {
            child.kill('SIGKILL');
            await waitForExit(child, stopTimeoutMs);
          }
          await rm(dir, { recursive: true, force: true });
        },
      };
    }
    child.kill('SIGKILL');
    await waitForExit(child, 5000);
    lastError = `${state === 'timeout' ? 'not ready in time' : `exited with ${child.exitCode ?? child.signalCode}`}: ${stderr.trim().split('\n').slice(-5).join('\n')}`;
    if (!/address already in use/i.test(stderr)) break;
  }
  await rm(dir, { recursive: true, force: true });
  throw new CollectorError(`Prometheus (${binary}) did not start: ${lastError}`, { details: { binary } });
}
