/**
 * Each transport (OTLP/gRPC, OTLP/HTTP protobuf, OTLP/HTTP JSON) × gzip on/off ships to
 * the embedded receiver over real loopback sockets and is acknowledged; traces go
 * through the same paths; custom headers, TLS and timeouts behave as configured.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type IncomingHttpHeaders } from 'node:http';
import { createServer as createTcpServer, connect, type AddressInfo, type Socket } from 'node:net';
import { otlpTypes } from '../../wire/otlp/codec.ts';
import { reconcile } from '../../reconcile/points.ts';
import { OtlpExporter, type ExporterConfig, type MetricsBatchKey, type OtlpProtocol } from '../../workers/otlp-exporter.ts';
import { config, hasOpenssl, makeCertificates, receiver, ship, SERIES, tickBatches } from './otlp-exporter-fixture.ts';

const PROTOCOLS: OtlpProtocol[] = ['grpc', 'http/protobuf', 'http/json'];

/** A TCP relay in front of `port` that counts client → server bytes (to see gRPC compression on the wire). */
async function byteCountingRelay(port: number): Promise<{ port: number; bytes(): number; close(): Promise<void> }> {
  let bytes = 0;
  const sockets = new Set<Socket>();
  const srv = createTcpServer((client) => {
    const upstream = connect(port, '127.0.0.1');
    sockets.add(client).add(upstream);
    client.on('data', (c) => (bytes += c.length));
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    port: (srv.address() as AddressInfo).port,
    bytes: () => bytes,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        srv.close(() => r());
      }),
  };
}

for (const protocol of PROTOCOLS) {
  for (const gzip of [false, true]) {
    test(`${protocol}${gzip ? ' + gzip' : ''}: every batch is acknowledged and every point arrives once`, async () => {
      const { r, store } = await receiver();
      try {
        const exporter = new OtlpExporter<MetricsBatchKey>(config(protocol, r, { compression: gzip ? 'gzip' : 'none' }));
        const { ledger, settlements } = await ship(exporter, [...tickBatches(1, 25, protocol === 'http/json'), ...tickBatches(2, 25, protocol === 'http/json')]);
        exporter.destroy();
        assert.equal(settlements.length, 8);
        assert.ok(settlements.every((s) => s.finalState === 'acknowledged' && s.attempts === 1));
        assert.equal(ledger.totals.pointsAcknowledged, 2 * SERIES);
        const rec = reconcile(ledger, store);
        assert.equal(rec.pointsMissing, 0);
        assert.equal(rec.duplicatePoints, 0);
        assert.equal(rec.valueMismatches, 0);
        const stats = r.stats();
        assert.equal(stats.grpcRequests, protocol === 'grpc' ? 8 : 0);
        if (protocol !== 'grpc') assert.equal(stats.requestsCompressed, gzip ? 8 : 0);
      } finally {
        await r.close();
      }
    });
  }
}

test('grpc + gzip: the messages on the wire are compressed (bytes counted by a relay)', async () => {
  const { r } = await receiver();
  const grpcPort = Number(new URL(r.grpcUrl!).port);
  const wireBytes: Record<string, number> = {};
  try {
    for (const compression of ['none', 'gzip'] as const) {
      const relay = await byteCountingRelay(grpcPort);
      const exporter = new OtlpExporter<MetricsBatchKey>(config('grpc', r, { endpoint: `http://127.0.0.1:${relay.port}`, compression }));
      const { settlements } = await ship(exporter, tickBatches(3, 100));
      exporter.destroy();
      assert.equal(settlements[0].finalState, 'acknowledged');
      wireBytes[compression] = relay.bytes();
      await relay.close();
    }
  } finally {
    await r.close();
  }
  // Series attributes repeat heavily, so gzip must at least halve the client's bytes.
  assert.ok(wireBytes.gzip < wireBytes.none / 2, `gzip ${wireBytes.gzip} B vs none ${wireBytes.none} B`);
});

test('traces over each transport reach onTraces, and its rejections come back as partial_success', async () => {
  const spans = [1, 2, 3].map((i) => ({
    traceId: Buffer.alloc(16, i),
    spanId: Buffer.alloc(8, i),
    name: `s${i}`,
    kind: 2,
    startTimeUnixNano: '1795280351000000000',
    endTimeUnixNano: '1795280351001000000',
  }));
  const request = { resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ scope: { name: 't' }, spans }] }] };
  const protobufBody = otlpTypes.ExportTraceServiceRequest.encode(otlpTypes.ExportTraceServiceRequest.fromObject(request)).finish();
  const jsonBody = Buffer.from(JSON.stringify({
    resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ scope: { name: 't' }, spans: spans.map((s) => ({ ...s, traceId: s.traceId.toString('hex'), spanId: s.spanId.toString('hex') })) }] }],
  }));
  const seen: { transport: string; spans: number }[] = [];
  const { r } = await receiver({}, { onTraces: (_req, ctx) => (seen.push({ transport: ctx.transport, spans: ctx.spans }), { rejectedSpans: 1, errorMessage: 'one span refused' }) });
  try {
    for (const protocol of PROTOCOLS) {
      const exporter = new OtlpExporter<string>(config(protocol, r));
      await exporter.submit({ signal: 'traces', body: protocol === 'http/json' ? jsonBody : protobufBody, items: 3, key: protocol });
      await exporter.shutdown(5000);
      const [s] = exporter.takeSettlements();
      exporter.destroy();
      assert.equal(s.finalState, 'acknowledged', `${protocol}: ${s.reason}`);
      assert.equal(s.rejectedItems, 1);
      assert.equal(s.last?.class, 'partial_success');
      assert.equal(s.last?.message, 'one span refused');
    }
  } finally {
    await r.close();
  }
  assert.deepEqual(seen, [{ transport: 'grpc', spans: 3 }, { transport: 'http', spans: 3 }, { transport: 'http', spans: 3 }]);
  assert.equal(r.stats().spansReceived, 9);
});

test('custom headers reach an OTLP/HTTP server (a minimal 200-answering HTTP server, not a real collector)', async () => {
  let headers: IncomingHttpHeaders | undefined;
  const srv = createHttpServer((req, res) => {
    headers = req.headers;
    req.resume().on('end', () => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  try {
    const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
    const exporter = new OtlpExporter<MetricsBatchKey>({ ...config('http/protobuf', { url } as never), endpoint: url, headers: { authorization: 'Bearer t0ken', 'x-scope-orgid': 'tenant-1' } });
    const { settlements } = await ship(exporter, tickBatches(1, 100));
    exporter.destroy();
    assert.equal(settlements[0].finalState, 'acknowledged');
    assert.equal(headers?.authorization, 'Bearer t0ken');
    assert.equal(headers?.['x-scope-orgid'], 'tenant-1');
    assert.equal(headers?.['content-type'], 'application/x-protobuf');
  } finally {
    srv.closeAllConnections();
    await new Promise<void>((r) => srv.close(() => r()));
  }
});

test('a per-attempt timeout fails a slow export as a timeout (no retries)', async () => {
  const { r } = await receiver({ latency: { distribution: 'fixed', ms: 400 } });
  try {
    for (const protocol of ['grpc', 'http/protobuf'] as const) {
      const exporter = new OtlpExporter<MetricsBatchKey>(config(protocol, r, { timeoutMs: 100 }));
      const { ledger, settlements } = await ship(exporter, tickBatches(1, 100));
      exporter.destroy();
      assert.equal(settlements[0].finalState, 'failed');
      assert.equal(settlements[0].last?.class, 'timeout', protocol);
      assert.equal(ledger.totals.pointsFailed, SERIES);
    }
  } finally {
    await r.close();
  }
});

test('TLS with a generated CA: verified with the CA, refused without it or with another CA, accepted with insecureSkipVerify; mutual TLS', { skip: hasOpenssl() ? false : 'openssl CLI not installed' }, async () => {
  const certs = makeCertificates();
  try {
    for (const requireClientCert of [false, true]) {
      const { r } = await receiver({}, { tls: { cert: certs.serverCert, key: certs.serverKey, ca: certs.ca, requireClientCert } });
      try {
        assert.match(r.url, /^https:/);
        const client = requireClientCert ? { certFile: certs.clientCertFile, keyFile: certs.clientKeyFile } : {};
        for (const protocol of ['grpc', 'http/protobuf'] as const) {
          const outcome = async (tls: ExporterConfig['tls']): Promise<string> => {
            const exporter = new OtlpExporter<MetricsBatchKey>(config(protocol, r, { tls, timeoutMs: 3000 }));
            const { settlements } = await ship(exporter, tickBatches(1, 100));
            exporter.destroy();
            return settlements[0].finalState;
          };
          assert.equal(await outcome({ caFile: certs.caFile, insecureSkipVerify: false, ...client }), 'acknowledged', `${protocol} with CA`);
          assert.equal(await outcome({ insecureSkipVerify: false, ...client }), 'failed', `${protocol} without CA`);
          assert.equal(await outcome({ caFile: certs.otherCaFile, insecureSkipVerify: false, ...client }), 'failed', `${protocol} other CA`);
          assert.equal(await outcome({ insecureSkipVerify: true, ...client }), 'acknowledged', `${protocol} insecureSkipVerify`);
          if (requireClientCert) assert.equal(await outcome({ caFile: certs.caFile, insecureSkipVerify: false }), 'failed', `${protocol} without client cert`);
        }
      } finally {
        await r.close();
      }
    }
  } finally {
    certs.cleanup();
  }
});
