/**
 * Unbounded reply bodies: an OTLP endpoint answering 200 with a huge body (streamed on a
 * real loopback socket) costs the exporter at most its cap, and the attempt fails with
 * its reason instead of holding the whole body in memory. OTLP/HTTP (metrics exporter and
 * the plain trace sender) and OTLP/gRPC (grpc-js's receive limit).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { HttpTransport } from '../../workers/otlp-exporter-http.ts';
import { GrpcTransport, OTLP_GRPC_PATHS } from '../../workers/grpc-transport.ts';
import { createHttpTraceSender } from '../../workers/otlp-trace-sender.ts';
import { MAX_OTLP_REPLY_BYTES } from '../../workers/reply-body.ts';
import type { ExporterConfig } from '../../workers/otlp-exporter-types.ts';

/** Bytes the hostile endpoint streams per reply: far over any cap, never held whole by the server. */
const HUGE_BYTES = 512 * 1024 * 1024;

/** An endpoint that answers every POST with 200 and {@link HUGE_BYTES} of zeros, streamed. */
async function hugeReplies(): Promise<{ url: string; server: Server; sent: () => number }> {
  let sent = 0;
  const chunk = Buffer.alloc(64 * 1024);
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': String(HUGE_BYTES) });
      let left = HUGE_BYTES;
      const pump = (): void => {
        while (left > 0) {
          left -= chunk.length;
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      res.on('close', () => (left = 0));
      pump();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, sent: () => sent };
}

function config(endpoint: string, protocol: ExporterConfig['protocol']): ExporterConfig {
  return {
    protocol, endpoint, compression: 'none', headers: {}, timeoutMs: 30_000,
    retry: { enabled: false, initialIntervalMs: 50, maxIntervalMs: 100, multiplier: 1.5, randomizationFactor: 0, maxElapsedTimeMs: 0 },
    queue: { queueSize: 10, numConsumers: 1, whenFull: 'block' }, seed: 1,
  };
}

test('OTLP/HTTP: a 512 MiB reply is read no further than the cap; the attempt fails as RESPONSE_TOO_LARGE, not retried', async () => {
  const peer = await hugeReplies();
  const transport = new HttpTransport(config(peer.url, 'http/protobuf'));
  try {
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    const result = await transport.send('metrics', new Uint8Array(8), new AbortController().signal);
    const grownBytes = process.memoryUsage().rss - rssBefore;
    assert.equal(result.errorCode, 'RESPONSE_TOO_LARGE');
    assert.equal(result.class, 'bad_response');
    assert.equal(result.retryable, false);
    assert.ok(grownBytes < 64 * 1024 * 1024, `RSS grew ${Math.round(grownBytes / 1e6)} MB`);
    assert.ok(peer.sent() < HUGE_BYTES / 4, `the endpoint got to send ${Math.round(peer.sent() / 1e6)} MB`);
  } finally {
    await transport.close();
    peer.server.closeAllConnections();
    peer.server.close();
  }
});

test('the plain OTLP/HTTP trace sender caps its replies too', async () => {
  const peer = await hugeReplies();
  const sender = createHttpTraceSender({ url: `${peer.url}/v1/traces`, protocol: 'http/protobuf', timeoutMs: 30_000 });
  try {
    const outcome = await sender.send(new Uint8Array(8), 1);
    assert.equal(outcome.errorCode, 'RESPONSE_TOO_LARGE');
    assert.ok(peer.sent() < HUGE_BYTES / 4);
  } finally {
    await sender.close().catch(() => {});
    peer.server.closeAllConnections();
    peer.server.close();
  }
});

test('OTLP/gRPC: a reply over grpc-js\'s receive limit fails as RESOURCE_EXHAUSTED, not retried', async () => {
  const server = new grpc.Server({ 'grpc.max_send_message_length': -1 });
  const big = Buffer.alloc(4 * MAX_OTLP_REPLY_BYTES + 1024 * 1024);
  server.register(OTLP_GRPC_PATHS.metrics, (_call: unknown, callback: (e: null, r: Buffer) => void) => callback(null, big), (b: Buffer) => b, (b: Buffer) => b, 'unary');
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  const transport = new GrpcTransport(config(`http://127.0.0.1:${port}`, 'grpc'));
  try {
    const result = await transport.send('metrics', new Uint8Array(8), new AbortController().signal);
    assert.equal(result.grpcCode, grpc.status.RESOURCE_EXHAUSTED);
    assert.equal(result.retryable, false);
  } finally {
    await transport.close();
    server.forceShutdown();
  }
});
