/**
 * Start a binary built on the OpenTelemetry Collector (our otelcol build, Jaeger v2) with a
 * generated `--config` file: free loopback ports for every listener it is given, wait for
 * its health endpoint, and retry with new ports when one was taken in the meantime
 * ("address already in use"), as `prometheus.ts` does.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CollectorError } from '../../core/errors.ts';
import { freeLoopbackPort, type PeerProcess, startPeerProcess, tail, waitReady } from './process.ts';

/** Start-up attempts when a probed port is taken before the peer binds it. */
const ATTEMPTS = 3;

/** Options for {@link startCollectorProcess}. */
export interface StartCollectorProcessOptions<K extends string> {
  /** Name for messages and the temporary folder, e.g. `otelcol`. */
  name: string;
  binary: string;
  /** One free 127.0.0.1 port is allocated for each name (all distinct). */
  portNames: readonly K[];
  /** The configuration file's text for these ports. Every listener in it must bind 127.0.0.1. */
  config(ports: Readonly<Record<K, number>>): string;
  /** The URL that answers 200 once the peer is ready, for these ports. */
  readyUrl(ports: Readonly<Record<K, number>>): string;
  /** How long to wait for {@link readyUrl}, in ms. */
  readyTimeoutMs: number;
  /** Extra command-line arguments after `--config=<file>`. */
  extraArgs?: readonly string[];
  /** Fixed ports instead of free ones (a restart on the ports of a stopped instance); no retry. */
  ports?: Readonly<Record<K, number>>;
}

/** A collector-based peer started by {@link startCollectorProcess}. */
export interface CollectorProcess<K extends string> {
  ports: Readonly<Record<K, number>>;
  peer: PeerProcess;
  /** The configuration file it runs with. */
  configFile: string;
  /** Stop the process (SIGTERM, SIGKILL after `timeoutMs`) and remove its temporary folder. */
  stop(timeoutMs: number): Promise<void>;
}

async function distinctPorts<K extends string>(names: readonly K[]): Promise<Record<K, number>> {
  const taken = new Set<number>();
  const ports = {} as Record<K, number>;
  for (const name of names) {
    let port = await freeLoopbackPort();
    while (taken.has(port)) port = await freeLoopbackPort();
    taken.add(port);
    ports[name] = port;
  }
  return ports;
}

/**
 * Start `binary --config=<file>` and wait until `readyUrl` answers 200.
 * @throws CollectorError `TALLY_COLLECTOR_FAILED` when it exits during start-up or is not
 * ready in time (after {@link ATTEMPTS} tries on "address already in use"); the message
 * carries the tail of its output.
 */
export async function startCollectorProcess<K extends string>(options: StartCollectorProcessOptions<K>): Promise<CollectorProcess<K>> {
  const dir = await mkdtemp(join(tmpdir(), `tally-${options.name}-`));
  let lastError = '';
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const ports = options.ports ?? await distinctPorts(options.portNames);
    const configFile = join(dir, `config-${attempt}.yaml`);
    await writeFile(configFile, options.config(ports));
    const peer = startPeerProcess(options.binary, [`--config=${configFile}`, ...(options.extraArgs ?? [])], { cwd: dir });
    const state = await waitReady(options.readyUrl(ports), peer.child, options.readyTimeoutMs);
    if (state === 'ready') {
      return {
        ports,
        peer,
        configFile,
        async stop(timeoutMs: number) {
          await peer.stop(timeoutMs);
          await rm(dir, { recursive: true, force: true });
        },
      };
    }
    await peer.stop(5000);
    lastError = `${state === 'timeout' ? 'not ready in time' : `exited with ${peer.child.exitCode ?? peer.child.signalCode}`}: ${tail(peer.output(), 8)}`;
    if (options.ports !== undefined || !/address already in use/i.test(peer.output())) break;
  }
  await rm(dir, { recursive: true, force: true });
  throw new CollectorError(`${options.name} (${options.binary}) did not start: ${lastError}`, { details: { binary: options.binary } });
}
