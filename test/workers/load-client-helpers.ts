/**
 * Helpers for the load-client tests: run iterations and collect their results, and a raw
 * HTTP responder on loopback that records each connection's remote address.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { buildRequestText, createLoadClient, type LoadClient, type LoadClientHooks, type LoadClientOptions, type RequestResult } from '../../workers/load-client.ts';

/** Client options for an HTTP/1.1 GET to 127.0.0.1:port, with overrides. */
export function httpOptions(port: number, extra: Partial<LoadClientOptions> = {}): LoadClientOptions {
  const host = extra.host ?? '127.0.0.1';
  return {
    protocol: 'http1',
    host,
    port,
    request: Buffer.from(buildRequestText({ method: 'GET', host, port, path: '/' }), 'latin1'),
    isHead: false,
    reuse: 'never',
    close: 'fin',
    requestsPerIteration: 1,
    connectTimeoutMs: 1000,
    requestTimeoutMs: 2000,
    ...extra,
  };
}

/**
 * Run `iterations` iterations, at most `concurrency` at a time, and return every iteration's results.
 * Fails when an iteration calls onDone more than once or reports a number of requests other than requestsPerIteration.
 * Bounded: rejects after `timeoutMs`.
 */
export async function runIterations(client: LoadClient, iterations: number, requestsPerIteration: number, concurrency = 1, timeoutMs = 20_000): Promise<RequestResult[][]> {
  const all: RequestResult[][] = [];
  let started = 0;
  let finished = 0;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`iterations not done after ${timeoutMs} ms (${finished}/${iterations})`)), timeoutMs);
    const launch = (): void => {
      if (started === iterations) return;
      started++;
      const results: RequestResult[] = [];
      all.push(results);
      let done = false;
      client.iterate(
        (r) => results.push(r),
        () => {
          if (done) return reject(new Error('onDone called twice'));
          done = true;
          if (results.length !== requestsPerIteration) return reject(new Error(`iteration reported ${results.length} requests`));
          finished++;
          if (finished === iterations) {
            clearTimeout(timer);
            resolve();
          } else launch();
        },
      );
    };
    for (let i = 0; i < Math.min(concurrency, iterations); i++) launch();
  });
  return all;
}

/** Build a client, run iterations, close the client. */
export async function withClient(options: LoadClientOptions, iterations: number, concurrency = 1, hooks: LoadClientHooks = {}): Promise<RequestResult[]> {
  const client = createLoadClient(options, hooks);
  try {
    return (await runIterations(client, iterations, options.requestsPerIteration, concurrency)).flat();
  } finally {
    await client.close();
  }
}

/** Assert every result succeeded with status 200. */
export function assertAllOk(results: RequestResult[]): void {
  for (const r of results) {
    assert.equal(r.errorClass, undefined, `unexpected error ${r.errorClass}`);
    assert.equal(r.status, 200);
  }
}

/** A raw HTTP/1.1 responder (keep-alive, 2-byte body) that records every connection's remote address. */
export async function recordingServer(): Promise<{ port: number; remotes: string[]; close(): Promise<void> }> {
  const remotes: string[] = [];
  const reply = Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok', 'latin1');
  const srv: Server = createServer((s) => {
    remotes.push(s.remoteAddress ?? '');
    s.on('data', () => s.write(reply));
    s.on('error', () => s.destroy());
    s.on('end', () => s.end());
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    port: (srv.address() as AddressInfo).port,
    remotes,
    close: () => new Promise<void>((r) => srv.close(() => r())),
  };
}

/**
 * TIME_WAIT sockets whose local or remote port is `port`, from /proc/net/tcp and tcp6
 * (state 06). Exact per port, so other processes' churn does not disturb it.
 * @see proc(5) /proc/net/tcp
 */
export function timeWaitOnPort(port: number): number {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  let n = 0;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 4 || f[3] !== '06') continue;
      if (f[1].endsWith(`:${hex}`) || f[2].endsWith(`:${hex}`)) n++;
    }
  }
  return n;
}
