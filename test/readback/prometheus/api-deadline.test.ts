/**
 * A Prometheus that answers too slowly to ever trip a per-chunk timeout (a body dripped a
 * byte at a time) still fails an API call at its timeout: the deadline covers the whole
 * attempt. Real sockets on loopback.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CollectorError } from '../../../core/errors.ts';
import { PrometheusApi } from '../../../readback/prometheus/api.ts';

test('a reply dripped a byte every 100 ms fails at the call\'s timeout, not when the body ends', async () => {
  const body = JSON.stringify({ status: 'success', data: { version: '2.42.0', revision: 'x', branch: 'x', buildUser: 'x', buildDate: 'x', goVersion: 'x' } });
  const server = createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(body.length) });
    let i = 0;
    const timer = setInterval(() => {
      if (i >= body.length || res.destroyed) return clearInterval(timer);
      res.write(body[i++]);
    }, 100);
    res.on('close', () => clearInterval(timer));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const api = new PrometheusApi({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, timeoutMs: 1000, maxRetries: 0 });
  try {
    const started = performance.now();
    const error = await api.buildInfo().then(() => undefined, (e: unknown) => e);
    const tookMs = performance.now() - started;
    assert.ok(error instanceof CollectorError, String(error));
    assert.equal(error.code, 'TALLY_COLLECTOR_FAILED');
    assert.ok(tookMs < 3000, `${Math.round(tookMs)} ms (the body takes ${body.length / 10} s to drip)`);
  } finally {
    await api.close();
    server.closeAllConnections();
    server.close();
  }
});
