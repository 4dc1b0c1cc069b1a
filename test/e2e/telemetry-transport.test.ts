/**
 * Transport settings reachable from a scenario, end to end through `tally run`: gzip,
 * custom headers (observed at a plain OTLP/HTTP sink written for this test), TLS to the
 * embedded receiver (a throw-away CA and certificates made with the openssl CLI at test
 * time), mutual TLS over gRPC, and a server certificate from another CA refused (TLS
 * verification is on by default).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { decodeMetricsRequest } from '../../wire/otlp/codec.ts';
import { hasOpenssl, makeCertificates } from '../workers/otlp-exporter-fixture.ts';
import { runScenario } from './telemetry-helpers.ts';

const metrics = `
  exportInterval: 500ms
  retry: { enabled: false }
  metrics:
    - { name: x.requests, instrument: counter, attributes: { k: 25 } }
    - { name: x.latency, instrument: histogram, temporality: delta, attributes: { k: 5 } }`;
const PLANNED = 30 * 4;

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

test('gzip and custom headers reach the endpoint: every request compressed, every header there', async () => {
  const seen: { encoding: string | undefined; tenant: string | undefined; points: number }[] = [];
  const sink = createServer((req, res) => {
    readBody(req).then((body) => {
      const raw = req.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body;
      const request = decodeMetricsRequest(raw, 'protobuf');
      const points = request.resourceMetrics.reduce((a, rm) => a + rm.scopeMetrics.reduce((b, sm) => b + sm.metrics.reduce((c, m) => c + m.dataPoints.length, 0), 0), 0);
      seen.push({ encoding: req.headers['content-encoding'], tenant: req.headers['x-scope-orgid'] as string | undefined, points });
      res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': '0' }).end();
    }, (err: Error) => res.writeHead(400).end(err.message));
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = sink.address() as AddressInfo;
    const { results } = await runScenario(`
name: e2e-gzip-headers
duration: 2s
telemetry:
  endpoint: http://127.0.0.1:${port}
  compression: gzip
  headers: { X-Scope-OrgID: tenant-7 }
${metrics}
`);
    assert.equal(results.summary.metrics.pointsAcknowledged, PLANNED);
    assert.equal(results.summary.metrics.reconciled, false);
    assert.equal(seen.length, results.summary.metrics.requests);
    for (const s of seen) assert.deepEqual([s.encoding, s.tenant], ['gzip', 'tenant-7']);
    assert.equal(seen.reduce((a, s) => a + s.points, 0), PLANNED);
  } finally {
    sink.closeAllConnections();
    await new Promise((r) => sink.close(r));
  }
});

test('gzip to the embedded receiver over OTLP/HTTP JSON reconciles with 0 loss', async () => {
  const { results } = await runScenario(`
name: e2e-gzip-json
duration: 2s
telemetry:
  protocol: http/json
  compression: gzip
${metrics}
`);
  assert.equal(results.summary.metrics.pointsReceived, PLANNED);
  assert.equal(results.summary.metrics.valueMismatches, 0);
  assert.equal(results.receiver.requestsCompressed, results.receiver.requests);
});

test('TLS from the scenario: https and mutual-TLS gRPC reconcile; a server from another CA is refused', { skip: !hasOpenssl() && 'openssl CLI not installed' }, async () => {
  const certs = makeCertificates();
  try {
    // makeCertificates leaves the server's PEM files beside the CA's.
    const serverCertFile = `${certs.dir}/server.crt`;
    const serverKeyFile = `${certs.dir}/server.key`;
    const https = await runScenario(`
name: e2e-tls
duration: 2s
telemetry:
  protocol: http/protobuf
  tls: { caFile: ${certs.caFile} }
${metrics}
embedded: { receiver: { tls: { certFile: ${serverCertFile}, keyFile: ${serverKeyFile} } } }
`);
    assert.equal(https.results.summary.metrics.pointsReceived, PLANNED);
    assert.equal(https.results.summary.metrics.pointsMissing, 0);

    const mtls = await runScenario(`
name: e2e-mtls
duration: 2s
telemetry:
  protocol: grpc
  compression: gzip
  tls: { caFile: ${certs.caFile}, certFile: ${certs.clientCertFile}, keyFile: ${certs.clientKeyFile} }
${metrics}
embedded: { receiver: { tls: { certFile: ${serverCertFile}, keyFile: ${serverKeyFile}, caFile: ${certs.caFile}, requireClientCert: true } } }
`);
    assert.equal(mtls.results.summary.metrics.pointsReceived, PLANNED);
    assert.equal(mtls.results.receiver.grpcRequests, mtls.results.summary.metrics.requests);

    const wrongCa = await runScenario(`
name: e2e-tls-wrong-ca
duration: 2s
telemetry:
  protocol: http/protobuf
  tls: { caFile: ${certs.otherCaFile} }
${metrics}
embedded: { receiver: { tls: { certFile: ${serverCertFile}, keyFile: ${serverKeyFile} } } }
`);
    const m = wrongCa.results.summary.metrics;
    assert.equal(m.pointsFailed, PLANNED);
    assert.equal(m.pointsReceived, 0);
    assert.equal(m.exporter.attempts.transport_error, m.requests);
    assert.equal(wrongCa.results.receiver.requests, 0);
  } finally {
    certs.cleanup();
  }
});
