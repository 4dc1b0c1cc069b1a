/**
 * The fate of every delta point: from the ledger (what the first hop took) and read-back
 * (what was stored, and whether its value matched), each point lands in one class, and a
 * converted running sum short of an earlier lost point is an offset, not a wrong value.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { metricModel } from '../../core/instruments.ts';
import { MetricsLedger } from '../../ledger/ledger.ts';
import { deltaFate, type PointsSeen } from '../../reconcile/delta-fate.ts';

const TICKS = 4;
const models = [
  metricModel(1, 0, 3, { instrument: 'counter', temporality: 'delta' }),
  metricModel(1, 1, 2, { instrument: 'counter', temporality: 'cumulative' }),
];

/** A ledger where every point of metric 0 was sent, acknowledged except those in `failed` (`series:tick`). */
function ledgerWith(failed: Set<string>): MetricsLedger {
  const ledger = new MetricsLedger([3, 2], TICKS);
  for (let k = 1; k <= TICKS; k++) {
    for (let s = 0; s < 3; s++) {
      const ok = !failed.has(`${s}:${k}`);
      ledger.record({ metricIndex: 0, tick: k, seriesStart: s, seriesEnd: s + 1, dataPoints: 1, status: ok ? 200 : 500, rejectedDataPoints: 0, durationUs: 1, sizeBytes: 10 });
    }
  }
  return ledger;
}

function seenFrom(present: (s: number, k: number) => boolean, wrong: (s: number, k: number) => boolean): PointsSeen {
  return { count: (m, s, k) => (m === 0 && present(s, k) ? 1 : 0), mismatched: (m, s, k) => m === 0 && wrong(s, k) };
}

test('converted: a point the first hop refused leaves its series short afterwards (offset), the rest exact', () => {
  const ledger = ledgerWith(new Set(['1:2']));
  const seen = seenFrom((s, k) => !(s === 1 && k === 2), (s, k) => s === 1 && k > 2);
  const fate = deltaFate(models, ledger, seen, 'converted')!;
  assert.deepEqual({ sent: fate.sent, notAcknowledged: fate.notAcknowledged, storedExact: fate.storedExact, storedWithOffset: fate.storedWithOffset, storedWrong: fate.storedWrong, droppedAfterAck: fate.droppedAfterAck, seriesWithOffset: fate.seriesWithOffset },
    { sent: 12, notAcknowledged: 1, storedExact: 9, storedWithOffset: 2, storedWrong: 0, droppedAfterAck: 0, seriesWithOffset: 1 });
  assert.equal(fate.byMetric.length, 1, 'cumulative metrics are not classified');
  assert.equal(fate.byMetric[0].verdict, 'offset');
});

test('every point is in exactly one class, whatever the pattern (property over seeded patterns)', () => {
  for (let seed = 1; seed <= 50; seed++) {
    const rand = (s: number, k: number, salt: number) => ((seed * 7919 + s * 104729 + k * 1299709 + salt * 15485863) % 97) / 97;
    const failed = new Set<string>();
    for (let s = 0; s < 3; s++) for (let k = 1; k <= TICKS; k++) if (rand(s, k, 1) < 0.2) failed.add(`${s}:${k}`);
    const fate = deltaFate(models, ledgerWith(failed), seenFrom((s, k) => rand(s, k, 2) < 0.8, (s, k) => rand(s, k, 3) < 0.3), seed % 2 === 0 ? 'converted' : 'native')!;
    // Acknowledged points are stored (one of three ways) or dropped; refused ones may still show (a retry the sender never saw succeed).
    const stored = fate.storedExact + fate.storedWithOffset + fate.storedWrong;
    const present = Array.from({ length: 3 }, (_, s) => Array.from({ length: TICKS }, (_, k) => (rand(s, k + 1, 2) < 0.8 ? 1 : 0) as number)).flat().reduce((a, b) => a + b, 0);
    assert.equal(fate.sent, 12);
    assert.equal(stored, present);
    assert.equal(fate.droppedAfterAck, 12 - failed.size - [...Array(12).keys()].filter((i) => !failed.has(`${Math.floor(i / TICKS)}:${(i % TICKS) + 1}`) && rand(Math.floor(i / TICKS), (i % TICKS) + 1, 2) < 0.8).length);
    assert.equal(fate.notAcknowledged, failed.size);
    if (fate.ingestion === 'native') assert.equal(fate.storedWithOffset, 0, 'stored as sent, a loss is only a gap');
  }
});

test('verdicts: all refused, all dropped after acknowledgement, all stored', () => {
  const all = new Set<string>();
  for (let s = 0; s < 3; s++) for (let k = 1; k <= TICKS; k++) all.add(`${s}:${k}`);
  assert.equal(deltaFate(models, ledgerWith(all), seenFrom(() => false, () => false), 'converted')!.byMetric[0].verdict, 'refused');
  assert.equal(deltaFate(models, ledgerWith(new Set()), seenFrom(() => false, () => false), 'converted')!.byMetric[0].verdict, 'dropped');
  assert.equal(deltaFate(models, ledgerWith(new Set()), seenFrom(() => true, () => false), 'native')!.byMetric[0].verdict, 'stored');
  assert.equal(deltaFate([models[1]], ledgerWith(new Set()), seenFrom(() => true, () => false), 'native'), undefined);
});
