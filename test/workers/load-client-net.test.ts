/**
 * Load client on the wire: tcp-crr byte counts, DNS per connection vs cached (counted
 * through an injected lookup), source-address rotation, FIN vs RST and TIME_WAIT, and
 * generator-side errors. Real sockets on loopback only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lookup as dnsLookup } from 'node:dns';
import { readFileSync } from 'node:fs';
import { startEmbeddedEcho } from '../../embedded/echo.ts';
import { startEmbeddedTarget } from '../../embedded/target.ts';
import { parseSockstat } from '../../host/sockstat.ts';
import type { LookupFunction } from '../../workers/dns-cache.ts';
import { GENERATOR_SIDE_ERRORS, type LoadClientOptions } from '../../workers/load-client.ts';
import { assertAllOk, httpOptions, recordingServer, timeWaitOnPort, withClient } from './load-client-helpers.ts';

function crrOptions(port: number, requestBytes: number, responseBytes: number, extra: Partial<LoadClientOptions> = {}): LoadClientOptions {
  return httpOptions(port, { protocol: 'tcp-crr', request: Buffer.alloc(0), tcpCrr: { requestBytes, responseBytes }, ...extra });
}

test('tcp-crr: each transaction writes requestBytes and completes on exactly responseBytes', async () => {
  const echo = await startEmbeddedEcho({ requestBytes: 300, responseBytes: 70_000, name: 'crr-1' });
  try {
    const results = await withClient(crrOptions(echo.port, 300, 70_000), 8, 2);
    assertAllOk(results);
    assert.equal(echo.connectionsAccepted(), 8);
    assert.equal(echo.requestsServed(), 8);
    assert.equal(echo.bytesReceived(), 8 * 300);
    for (const r of results) {
      assert.equal(r.newConnection, true);
      assert.equal(r.backend, 'crr-1');
    }
    // Expecting more than the server sends: the client waits for every byte, then times out.
    const short = await withClient(crrOptions(echo.port, 300, 70_001, { requestTimeoutMs: 200 }), 1);
    assert.equal(short[0].errorClass, 'ETIMEDOUT');
    assert.equal(short[0].status, 0);
  } finally {
    await echo.close();
  }
});

test('tcp-crr over per-iteration reuse: one connection carries the iteration, no backend when unnamed', async () => {
  const echo = await startEmbeddedEcho({ requestBytes: 10, responseBytes: 10 });
  try {
    const results = await withClient(crrOptions(echo.port, 10, 10, { reuse: 'per-iteration', requestsPerIteration: 4 }), 3);
    assertAllOk(results);
    assert.equal(echo.connectionsAccepted(), 3);
    assert.equal(echo.bytesReceived(), 12 * 10);
    assert.ok(results.every((r) => r.backend === undefined));
  } finally {
    await echo.close();
  }
});

/** A lookup that counts calls and resolves IPv4 only (the targets listen on 127.0.0.1). */
function countingLookup(): { lookup: LookupFunction; calls: () => number } {
  let calls = 0;
  const lookup: LookupFunction = (hostname, _options, cb) => {
    calls++;
    dnsLookup(hostname, { family: 4 }, cb);
  };
  return { lookup, calls: () => calls };
}

test('DNS per connection: one lookup per new connection, timed apart from connect', async () => {
  const target = await startEmbeddedTarget({ responseBytes: 2 });
  try {
    const { lookup, calls } = countingLookup();
    const results = await withClient(httpOptions(target.port, { host: 'localhost', dns: { mode: 'per-connection', ttlMs: 0 } }), 6, 1, { lookup });
    assertAllOk(results);
    assert.equal(calls(), 6);
    for (const r of results) assert.ok(r.dnsUs >= 0 && r.connectUs >= 0 && r.totalUs >= r.dnsUs + r.connectUs);
    // Reused connections do no lookup.
    const { lookup: l2, calls: c2 } = countingLookup();
    const reused = await withClient(httpOptions(target.port, { host: 'localhost', reuse: 'per-iteration', requestsPerIteration: 3 }), 2, 1, { lookup: l2 });
    assert.equal(c2(), 2);
    assert.equal(reused.filter((r) => r.dnsUs >= 0).length, 2);
  } finally {
    await target.close();
  }
});

test('DNS cached: one lookup per TTL; hits record dnsUs -1; concurrent misses share a lookup', async () => {
  const target = await startEmbeddedTarget({ responseBytes: 2 });
  try {
    const { lookup, calls } = countingLookup();
    const results = await withClient(httpOptions(target.port, { host: 'localhost', dns: { mode: 'cached', ttlMs: 60_000 } }), 12, 4, { lookup });
    assertAllOk(results);
    assert.equal(calls(), 1);
    assert.ok(results.filter((r) => r.dnsUs === -1).length >= 12 - 4);
    const { lookup: l2, calls: c2 } = countingLookup();
    await withClient(httpOptions(target.port, { host: 'localhost', dns: { mode: 'cached', ttlMs: 0 } }), 3, 1, { lookup: l2 });
    assert.equal(c2(), 3); // TTL 0: every connection looks up again
  } finally {
    await target.close();
  }
});

test('a DNS failure is a failed request of class ENOTFOUND, with its lookup time', async () => {
  const failing: LookupFunction = (_h, _o, cb) => setImmediate(() => cb(Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' }), '', 0));
  const results = await withClient(httpOptions(9, { host: 'no-such-host.invalid', requestsPerIteration: 2 }), 1, 1, { lookup: failing });
  assert.deepEqual(
    results.map((r) => [r.status, r.errorClass, r.connectUs, r.newConnection]),
    [
      [0, 'ENOTFOUND', -1, false],
      [0, 'ENOTFOUND', -1, false],
    ],
  );
  assert.ok(results.every((r) => r.dnsUs >= 0));
});

test('localAddresses rotate across new connections: the server sees the source alternate', async () => {
  const srv = await recordingServer();
  try {
    const results = await withClient(httpOptions(srv.port, { localAddresses: ['127.0.0.2', '127.0.0.3'] }), 6);
    assertAllOk(results);
    assert.deepEqual(srv.remotes, ['127.0.0.2', '127.0.0.3', '127.0.0.2', '127.0.0.3', '127.0.0.2', '127.0.0.3']);
  } finally {
    await srv.close();
  }
});

test('a local address not on the host fails with EADDRNOTAVAIL, a generator-side error', async () => {
  const target = await startEmbeddedTarget({ responseBytes: 2 });
  try {
    const [r] = await withClient(httpOptions(target.port, { localAddresses: ['192.0.2.1'] }), 1);
    assert.equal(r.errorClass, 'EADDRNOTAVAIL');
    assert.equal(r.status, 0);
    assert.ok(GENERATOR_SIDE_ERRORS.has(r.errorClass));
    assert.equal(target.connectionsAccepted(), 0);
    assert.equal(GENERATOR_SIDE_ERRORS.has('ECONNREFUSED'), false);
    assert.equal(GENERATOR_SIDE_ERRORS.has('ETIMEDOUT'), false);
  } finally {
    await target.close();
  }
});

const tcpTimeWait = (): number => parseSockstat(readFileSync('/proc/net/sockstat', 'utf8')).TCP?.tw ?? 0;

test('close rst leaves no TIME_WAIT; close fin leaves one per connection on the client', async (t) => {
  const n = 300;
  // Ambient drift of the namespace-wide count (other processes' churn) over an idle moment.
  const idle0 = tcpTimeWait();
  await new Promise((r) => setTimeout(r, 300));
  const ambientDrift = Math.abs(tcpTimeWait() - idle0);
  const counts: Record<'fin' | 'rst', { port: number; sockstatDelta: number }> = { fin: { port: 0, sockstatDelta: 0 }, rst: { port: 0, sockstatDelta: 0 } };
  for (const close of ['rst', 'fin'] as const) {
    // A fresh target port per mode, so the per-port count sees only this mode's sockets.
    const target = await startEmbeddedTarget({ responseBytes: 2 });
    try {
      const before = tcpTimeWait();
      const results = await withClient(httpOptions(target.port, { close }), n, 8);
      assertAllOk(results);
      counts[close] = { port: timeWaitOnPort(target.port), sockstatDelta: tcpTimeWait() - before };
    } finally {
      await target.close();
    }
  }
  // Per port (exact, unaffected by other processes): RST none, FIN about one per connection
  // (a few may already have been recycled by tcp_tw_reuse on loopback).
  assert.equal(counts.rst.port, 0);
  assert.ok(counts.fin.port >= n * 0.8, `fin left ${counts.fin.port} TIME_WAIT on the port`);
  // The namespace-wide sockstat deltas move the same way, but other processes share the
  // namespace: compare the two runs, and only when nothing else was churning.
  if (ambientDrift > n / 10) t.diagnostic(`sockstat comparison skipped: ambient TIME_WAIT drift ${ambientDrift} (${JSON.stringify(counts)})`);
  else assert.ok(counts.fin.sockstatDelta - counts.rst.sockstatDelta >= n * 0.5, JSON.stringify(counts));
});
