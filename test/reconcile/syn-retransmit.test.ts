/**
 * SYN-retransmit signature: schedules per kernel, window edges, synthetic distributions
 * (including bimodal), raw values vs HDR-style buckets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TallyError } from '../../core/errors.ts';
import { createRng } from '../../core/rng.ts';
import {
  CLASSIC_SYN_SCHEDULE,
  findSynRetransmitSignature,
  LINEAR_SYN_SCHEDULE,
  synRetransmitTimesMs,
} from '../../reconcile/syn-retransmit.ts';
import type { ValueCount } from '../../reconcile/syn-retransmit.ts';

const S = 1_000_000; // µs per second

test('classic schedule (before Linux 6.5): retransmits at 1, 3, 7, 15, 31, 63 s', () => {
  assert.deepEqual(synRetransmitTimesMs(CLASSIC_SYN_SCHEDULE), [1000, 3000, 7000, 15000, 31000, 63000]);
});

test('linear schedule (Linux 6.5+, tcp_syn_linear_timeouts=4): 1, 2, 3, 4, 5, 7, 11, 19, 35, 67 s', () => {
  // ip-sysctl.rst: RTOs 1, 1, 1, 1, 1, 2, 4, …; the last of tcp_syn_retries=6 (+4) retransmits at 67 s.
  assert.deepEqual(synRetransmitTimesMs(LINEAR_SYN_SCHEDULE), [1000, 2000, 3000, 4000, 5000, 7000, 11000, 19000, 35000, 67000]);
});

test('schedule options: fewer retries, another initial RTO, the RTO ceiling', () => {
  assert.deepEqual(synRetransmitTimesMs({ linearTimeouts: 0, synRetries: 2 }), [1000, 3000]);
  assert.deepEqual(synRetransmitTimesMs({ linearTimeouts: 1, synRetries: 2, initialRtoMs: 200 }), [200, 400, 800]);
  assert.deepEqual(synRetransmitTimesMs({ linearTimeouts: 0, synRetries: 4, maxRtoMs: 3000 }), [1000, 3000, 6000, 9000]);
});

test('a fast, unimodal distribution has no signature', () => {
  const rng = createRng(1);
  const connectUs = Array.from({ length: 5000 }, () => 80 + rng.int(4000));
  const f = findSynRetransmitSignature(connectUs, CLASSIC_SYN_SCHEDULE);
  assert.equal(f.kind, 'syn_retransmit_signature');
  assert.equal(f.total, 0);
  assert.equal(f.observed, 5000);
  assert.deepEqual(f.counts, { retransmits1: 0, retransmits2: 0, retransmits3: 0, retransmits4: 0, retransmits5: 0, retransmits6: 0 });
});

/** 10,000 fast connects, 120 after one lost SYN, 15 after two, 2 after three (classic timing), plus strays. */
function bimodal(seed: number): number[] {
  const rng = createRng(seed);
  const fast = Array.from({ length: 10_000 }, () => 150 + rng.int(2000));
  const one = Array.from({ length: 120 }, () => S + 300 + rng.int(250_000));
  const two = Array.from({ length: 15 }, () => 3 * S + 300 + rng.int(400_000));
  const three = [7 * S + 1500, 7 * S + 850_000];
  const strays = [600_000, 1.5 * S, 2.2 * S, 5 * S];
  return [...fast, ...one, ...two, ...three, ...strays];
}

test('bimodal distribution, classic schedule: the 1 s, 3 s and 7 s clusters are counted, strays are not', () => {
  const f = findSynRetransmitSignature(bimodal(3), CLASSIC_SYN_SCHEDULE);
  assert.deepEqual(f.counts, { retransmits1: 120, retransmits2: 15, retransmits3: 2, retransmits4: 0, retransmits5: 0, retransmits6: 0 });
  assert.equal(f.total, 137);
  assert.equal(f.observed, 10_000 + 120 + 15 + 2 + 4);
  assert.deepEqual(f.windows[0], { retransmits: 1, lowUs: 1 * S, highUs: 1.3 * S, count: 120 });
});

test('the same data under the Linux 6.5+ schedule: 3 s is three lost SYNs, 7 s is six, and 2.2 s and 5 s now count', () => {
  const f = findSynRetransmitSignature(bimodal(3), LINEAR_SYN_SCHEDULE);
  assert.equal(f.counts.retransmits1, 120);
  assert.equal(f.counts.retransmits2, 1); // the 2.2 s stray
  assert.equal(f.counts.retransmits3, 15);
  assert.equal(f.counts.retransmits5, 1); // the 5 s stray
  assert.equal(f.counts.retransmits6, 2);
  assert.equal(Object.keys(f.counts).length, 10);
  assert.equal(f.total, 139);
});

test('window edges: [t, t + 200 ms + 10 % of t], inclusive', () => {
  const at = (us: number): number => findSynRetransmitSignature([us], CLASSIC_SYN_SCHEDULE).total;
  assert.equal(at(999_999), 0);
  assert.equal(at(1_000_000), 1);
  assert.equal(at(1_300_000), 1);
  assert.equal(at(1_300_001), 0);
  assert.equal(at(3_500_000), 1);
  assert.equal(at(7_900_000), 1);
  assert.equal(at(7_900_001), 0);
  assert.equal(at(15_000_000 + 1_700_000), 1);
});

test('a custom tolerance narrows or widens the windows', () => {
  const tight = findSynRetransmitSignature([1_050_000, 1_150_000], CLASSIC_SYN_SCHEDULE, { slackMs: 100, slackFraction: 0 });
  assert.equal(tight.counts.retransmits1, 1);
  const wide = findSynRetransmitSignature([1_900_000], CLASSIC_SYN_SCHEDULE, { slackMs: 0, slackFraction: 1 });
  assert.equal(wide.counts.retransmits1, 1);
});

test('HDR-style (value, count) buckets give the same finding as the raw values (seeded property)', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const raw = bimodal(seed);
    const byValue = new Map<number, number>();
    for (const v of raw) byValue.set(v, (byValue.get(v) ?? 0) + 1);
    const buckets: ValueCount[] = [...byValue].map(([valueUs, count]) => ({ valueUs, count }));
    assert.deepEqual(findSynRetransmitSignature(buckets, CLASSIC_SYN_SCHEDULE), findSynRetransmitSignature(raw, CLASSIC_SYN_SCHEDULE));
  }
});

test('property: multiplying every bucket count by k multiplies every window count and the total (seeded)', () => {
  const rng = createRng(11);
  for (let round = 0; round < 50; round++) {
    const buckets = Array.from({ length: 40 }, () => ({ valueUs: rng.int(20 * S), count: rng.int(50) }));
    const k = 1 + rng.int(9);
    const a = findSynRetransmitSignature(buckets, LINEAR_SYN_SCHEDULE);
    const b = findSynRetransmitSignature(buckets.map((x) => ({ ...x, count: x.count * k })), LINEAR_SYN_SCHEDULE);
    assert.equal(b.total, a.total * k);
    assert.equal(b.observed, a.observed * k);
    assert.deepEqual(b.windows.map((w) => w.count), a.windows.map((w) => w.count * k));
    assert.ok(a.total <= a.observed);
  }
});

test('empty input: zero counts, every window present', () => {
  const f = findSynRetransmitSignature([], LINEAR_SYN_SCHEDULE);
  assert.equal(f.total, 0);
  assert.equal(f.observed, 0);
  assert.equal(f.windows.length, 10);
});

test('negative or non-finite times and counts, or a bad schedule, are a bug: TALLY_INTERNAL', () => {
  const isInternal = (e: unknown): boolean => e instanceof TallyError && e.code === 'TALLY_INTERNAL';
  assert.throws(() => findSynRetransmitSignature([-1], CLASSIC_SYN_SCHEDULE), isInternal);
  assert.throws(() => findSynRetransmitSignature([Number.NaN], CLASSIC_SYN_SCHEDULE), isInternal);
  assert.throws(() => findSynRetransmitSignature([{ valueUs: 1, count: -2 }], CLASSIC_SYN_SCHEDULE), isInternal);
  assert.throws(() => synRetransmitTimesMs({ linearTimeouts: -1 }), isInternal);
  assert.throws(() => synRetransmitTimesMs({ linearTimeouts: 0, initialRtoMs: 0 }), isInternal);
});
