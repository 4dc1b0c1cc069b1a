import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CollectorError, InternalError } from '../../../core/errors.ts';
import { jsonIdToHex, padIdHex, parseTraceId, protoIdToHex, traceIdFor } from '../../../readback/tempo/ids.ts';
import { createRng } from '../../../core/rng.ts';

const RUN = '7a117a1100000001';

test('trace ids follow the README layout: run id · shard · 6-byte seq', () => {
  assert.equal(traceIdFor({ runIdHex: RUN, shard: 0, seq: 1 }), '7a117a11000000010000000000000001');
  assert.equal(traceIdFor({ runIdHex: RUN, shard: 0, seq: 15 }), '7a117a1100000001000000000000000f');
  assert.equal(traceIdFor({ runIdHex: RUN, shard: 0, seq: 20 }), '7a117a11000000010000000000000014');
  assert.deepEqual(parseTraceId('7a117a1100000001000000000000000f'), { runIdHex: RUN, shard: 0, seq: 15 });
});

test('traceIdFor and parseTraceId round-trip (property, seeded)', () => {
  const rng = createRng(7);
  for (let i = 0; i < 500; i += 1) {
    const parts = {
      runIdHex: Array.from({ length: 16 }, () => rng.int(16).toString(16)).join(''),
      shard: rng.int(0x10000),
      seq: rng.int(2 ** 24) * 2 ** 24 + rng.int(2 ** 24),
    };
    assert.deepEqual(parseTraceId(traceIdFor(parts)), parts);
  }
});

test('traceIdFor rejects parts that do not fit (a caller bug)', () => {
  assert.throws(() => traceIdFor({ runIdHex: RUN, shard: 0x10000, seq: 1 }), (e: unknown) => e instanceof InternalError && e.code === 'TALLY_INTERNAL');
  assert.throws(() => traceIdFor({ runIdHex: RUN, shard: 0, seq: 2 ** 48 }), InternalError);
  assert.throws(() => traceIdFor({ runIdHex: 'xyz', shard: 0, seq: 1 }), InternalError);
});

test('v1 JSON base64 ids decode to lowercase hex (README examples)', () => {
  assert.equal(jsonIdToHex('ehF6EQAAAAEAAAAAAAAAAQ==', 16), '7a117a11000000010000000000000001');
  assert.equal(jsonIdToHex('ehEAAAABAAE=', 8), '7a11000000010001');
  assert.equal(jsonIdToHex('AAAAAAAAAAB6EQAAAAAA/w==', 16), '00000000000000007a110000000000ff');
});

test('OTLP/JSON hex ids are accepted and lowercased; absent parent is null', () => {
  assert.equal(jsonIdToHex('7A117A11000000010000000000000001', 16), '7a117a11000000010000000000000001');
  assert.equal(jsonIdToHex(undefined, 8), null);
  assert.equal(jsonIdToHex('', 8), null);
});

test('malformed ids are a bad reply, not a silent wrong id', () => {
  for (const bad of ['ehF6EQ==', 'not-an-id', 123, '7a11']) {
    assert.throws(() => jsonIdToHex(bad, 16), (e: unknown) => e instanceof CollectorError && e.code === 'TALLY_COLLECTOR_BAD_REPLY');
  }
  assert.throws(() => protoIdToHex(new Uint8Array(7), 8), (e: unknown) => e instanceof CollectorError && e.code === 'TALLY_COLLECTOR_BAD_REPLY');
  assert.equal(protoIdToHex(new Uint8Array(0), 8), null);
});

test('search ids trimmed of leading zero characters are padded back (probe fixtures)', () => {
  assert.equal(padIdHex('7a110000000000ff', 16), '00000000000000007a110000000000ff');
  // Odd length: Tempo trims hex characters, not bytes.
  assert.equal(padIdHex('a117a110000000100000000000000fe', 16), '0a117a110000000100000000000000fe');
  assert.throws(() => padIdHex('0'.repeat(33), 16), (e: unknown) => e instanceof CollectorError && e.code === 'TALLY_COLLECTOR_BAD_REPLY');
  assert.throws(() => padIdHex('', 16), CollectorError);
});
