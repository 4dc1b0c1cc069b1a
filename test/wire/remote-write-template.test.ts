/**
 * The remote-write template: patched bytes decode (protobufjs, remote-write.proto) to exactly
 * the message a one-off encode of the same series and samples gives, for any values and
 * timestamps (0 included, and timestamps whose varint needs another width); with non-zero
 * values the bytes are identical to the one-off encoder's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { uncompressSync } from 'snappy';
import fc from 'fast-check';
import { encodeWriteRequest } from '../../wire/remote-write.ts';
import { RemoteWriteTemplate } from '../../wire/remote-write-template.ts';

const WriteRequest = protobuf.loadSync(fileURLToPath(new URL('../../wire/remote-write.proto', import.meta.url))).lookupType('prometheus.WriteRequest');

const decode = (bytes: Uint8Array): unknown => WriteRequest.toObject(WriteRequest.decode(bytes), { longs: Number, defaults: true });

function batch(n: number) {
  return Array.from({ length: n }, (_, i) => ({ name: 'tally_requests_total', labels: { job: 'tally', tally_run_id: 'run-20261205T190000Z-abc', pod: `pod-${i}`, route: `route-${i % 7}` } }));
}

test('property: every tick decodes as a one-off encode of the same samples; non-zero values give identical bytes', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 40 }),
      fc.array(fc.record({ t: fc.integer({ min: 1, max: 2 ** 45 }), scale: fc.oneof(fc.constant(0), fc.double({ min: -1e12, max: 1e12, noNaN: true })) }), { minLength: 1, maxLength: 4 }),
      (n, ticks) => {
        const series = batch(n);
        const template = new RemoteWriteTemplate(series, 1_765_000_000_000);
        for (const { t, scale } of ticks) {
          const valueOf = (i: number): number => (scale === 0 ? 0 : scale * (i + 1));
          const bytes = template.encode(valueOf, t);
          const oneOff = encodeWriteRequest(series.map((s, i) => ({ ...s, samples: [{ value: valueOf(i), timestampMs: t }] })));
          assert.deepEqual(decode(bytes), decode(oneOff));
          if (scale !== 0) assert.deepEqual(Buffer.from(bytes), oneOff);
        }
      },
    ),
  );
});

test('the body is the protobuf, snappy-compressed; a template without its labels refuses a timestamp of another width', () => {
  const template = new RemoteWriteTemplate(batch(3), 1_765_000_000_000);
  const body = template.body((i) => i + 1, 1_765_000_001_000);
  assert.deepEqual(uncompressSync(body), template.encode((i) => i + 1, 1_765_000_001_000));
  assert.equal(template.protobufBytes, template.encode(() => 1, 1_765_000_002_000).length);
  const lean = new RemoteWriteTemplate(batch(3), 1_765_000_000_000, { keepSeries: false });
  assert.throws(() => lean.encode(() => 1, 5), (e: { code: string }) => e.code === 'TALLY_INTERNAL');
});
