/**
 * Reuse modes against the embedded HTTP target: the connections the target accepted
 * (server side) against the requests made.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startEmbeddedTarget } from '../../embedded/target.ts';
import { buildRequestText, createLoadClient, type RequestResult } from '../../workers/load-client.ts';
import { assertAllOk, httpOptions, withClient } from './load-client-helpers.ts';

const newConnections = (rs: RequestResult[]): number => rs.filter((r) => r.newConnection).length;

test('reuse never: one accepted connection per request, each with connect timing', async () => {
  const target = await startEmbeddedTarget({ responseBytes: 2 });
  try {
    const results = await withClient(httpOptions(target.port, { reuse: 'never', requestsPerIteration: 3 }), 4, 2);
    assert.equal(results.length, 12);
    assertAllOk(results);
    assert.equal(target.connectionsAccepted(), 12);
    assert.equal(target.requestsServed(), 12);
    for (const r of results) {
      assert.equal(r.newConnection, true);
      assert.ok(r.connectUs >= 0 && r.ttfbUs >= 0 && r.totalUs >= r.connectUs);
      assert.equal(r.dnsUs, -1); // IP literal: no lookup
    }
  } finally {
    await target.close();
  }
});

test('reuse per-iteration: 3 requests per iteration share one connection', async () => {
  const target = await startEmbeddedTarget({ responseBytes: 2 });
  try {
    const results = await withClient(httpOptions(target.port, { reuse: 'per-iteration', requestsPerIteration: 3 }), 5, 2);
    assertAllOk(results);
    assert.equal(target.requestsServed(), 15);
    assert.equal(target.connectionsAccepted(), 5);
    assert.equal(newConnections(results), 5);
    for (const r of results.filter((x) => !x.newConnection)) assert.equal(r.connectUs, -1);
  } finally {
    await target.close();
  }
});

test('reuse requestsPerConnection 5: ceil(requests / 5) connections, sequentially', async () => {
  const target = await startEmbeddedTarget({ responseBytes: 2 });
  try {
    const results = await withClient(httpOptions(target.port, { reuse: { requestsPerConnection: 5 }, requestsPerIteration: 3 }), 7, 1);
    assertAllOk(results);
    assert.equal(results.length, 21);
    assert.equal(target.connectionsAccepted(), Math.ceil(21 / 5));
    assert.equal(newConnections(results), Math.ceil(21 / 5));
  } finally {
    await target.close();
  }
});

test('reuse requestsPerConnection under concurrency: no connection carries more than N requests', async () => {
  const target = await startEmbeddedTarget({ responseBytes: 2 });
  try {
    const results = await withClient(httpOptions(target.port, { reuse: { requestsPerConnection: 4 }, requestsPerIteration: 2 }), 20, 4);
    assertAllOk(results);
    assert.ok(target.connectionsAccepted() >= Math.ceil(40 / 4), `accepted ${target.connectionsAccepted()}`);
    assert.ok(target.connectionsAccepted() < 40);
  } finally {
    await target.close();
  }
});

test('reuse keep-alive (undici Pool): at most maxConnections connections, new ones timed', async () => {
  const target = await startEmbeddedTarget({ responseBytes: 16 });
  try {
    const results = await withClient(httpOptions(target.port, { reuse: 'keep-alive', requestsPerIteration: 3, maxConnections: 2 }), 10, 4);
    assertAllOk(results);
    assert.equal(target.requestsServed(), 30);
    const accepted = target.connectionsAccepted();
    assert.ok(accepted >= 1 && accepted <= 2, `accepted ${accepted}`);
    assert.equal(newConnections(results), accepted);
    for (const r of results) {
      if (r.newConnection) assert.ok(r.connectUs >= 0);
      else assert.equal(r.connectUs, -1);
    }
  } finally {
    await target.close();
  }
});

test('x-tally-backend is recorded in every reuse mode; absent header records nothing', async () => {
  const tagged = await startEmbeddedTarget({ responseBytes: 2, headers: { 'X-Tally-Backend': 'be-7' } });
  const plain = await startEmbeddedTarget({ responseBytes: 2 });
  try {
    for (const reuse of ['never', 'per-iteration', { requestsPerConnection: 2 }, 'keep-alive'] as const) {
      const results = await withClient(httpOptions(tagged.port, { reuse, requestsPerIteration: 2 }), 2);
      assert.deepEqual(new Set(results.map((r) => r.backend)), new Set(['be-7']), `reuse ${JSON.stringify(reuse)}`);
    }
    const none = await withClient(httpOptions(plain.port), 2);
    assert.deepEqual(new Set(none.map((r) => r.backend)), new Set([undefined]));
  } finally {
    await tagged.close();
    await plain.close();
  }
});

test('HEAD requests complete on the head alone', async () => {
  const target = await startEmbeddedTarget({ responseBytes: 100 });
  try {
    const request = Buffer.from(buildRequestText({ method: 'HEAD', host: '127.0.0.1', port: target.port, path: '/' }), 'latin1');
    const results = await withClient(httpOptions(target.port, { request, isHead: true, reuse: 'per-iteration', requestsPerIteration: 3 }), 2);
    assertAllOk(results);
    assert.equal(target.connectionsAccepted(), 2);
  } finally {
    await target.close();
  }
});

test('bad options are a ConfigError naming the field', () => {
  assert.throws(
    () => createLoadClient(httpOptions(80, { requestsPerIteration: 0, reuse: { requestsPerConnection: 0 } })),
    (e: { code: string; problems: { pointer: string }[] }) =>
      e.code === 'TALLY_CONFIG_INVALID' && e.problems.some((p) => p.pointer === '/requestsPerIteration') && e.problems.some((p) => p.pointer === '/reuse/requestsPerConnection'),
  );
  assert.throws(() => createLoadClient({ ...httpOptions(80), protocol: 'tcp-crr' }), (e: { code: string }) => e.code === 'TALLY_CONFIG_INVALID');
});
