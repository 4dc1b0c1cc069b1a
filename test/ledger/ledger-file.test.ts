import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../../core/rng.ts';
import { EXPORT_FINAL_STATES, type ExportOutcome } from '../../core/messages.ts';
import { MetricsLedger } from '../../ledger/ledger.ts';
import { decodeLedger, encodeLedger } from '../../ledger/ledger-file.ts';
import { ObservationStore } from '../../reconcile/observations.ts';
import { reconcile } from '../../reconcile/points.ts';
import { TallyError } from '../../core/errors.ts';

/** A ledger fed random outcomes (seeded): every final state, partial_success batches, odd sizes. */
function randomLedger(seed: number): MetricsLedger {
  const rng = createRng(seed);
  const seriesCounts = [37, 5, 1];
  const ticks = 7;
  const ledger = new MetricsLedger(seriesCounts, ticks);
  seriesCounts.forEach((n, m) => {
    for (let k = 1; k <= ticks; k++) {
      for (let s = 0; s < n; s += 4) {
        if (rng.next() < 0.1) continue; // unsent
        const end = Math.min(n, s + 4);
        const finalState = EXPORT_FINAL_STATES[Math.floor(rng.next() * EXPORT_FINAL_STATES.length)];
        const o: ExportOutcome = { metricIndex: m, seriesStart: s, seriesEnd: end, tick: k, dataPoints: end - s, status: finalState === 'acknowledged' ? 200 : 503, rejectedDataPoints: 0, durationUs: 1, sizeBytes: 1, finalState };
        if (finalState === 'acknowledged' && rng.next() < 0.3) {
          o.rejectedDataPoints = 1;
          o.message = 'rejected one';
        }
        ledger.record(o);
      }
    }
  });
  return ledger;
}

test('a ledger survives its file form: every point state, the totals and the partial_success batches', () => {
  for (const seed of [1, 2, 3]) {
    const ledger = randomLedger(seed);
    const back = decodeLedger(encodeLedger(ledger));
    assert.deepEqual(back.seriesCounts, ledger.seriesCounts);
    assert.equal(back.ticks, ledger.ticks);
    assert.deepEqual(back.totals, ledger.totals);
    assert.deepEqual(back.partialBatches, ledger.partialBatches);
    ledger.seriesCounts.forEach((n, m) => {
      for (let s = 0; s < n; s++) for (let k = 1; k <= ledger.ticks; k++) assert.equal(back.state(m, s, k), ledger.state(m, s, k));
    });
    // Reconciled against the same (empty) observations, both say the same.
    const seen = new ObservationStore(ledger.seriesCounts, ledger.ticks);
    assert.deepEqual(reconcile(back, seen), reconcile(ledger, seen));
  }
});

test('a file that is not a ledger, truncated, or of another version is refused with TALLY_RECONCILE_FAILED', () => {
  const bytes = encodeLedger(randomLedger(4));
  const refused = (b: Uint8Array): void => {
    assert.throws(() => decodeLedger(b), (e) => e instanceof TallyError && e.code === 'TALLY_RECONCILE_FAILED');
  };
  refused(new Uint8Array(3));
  refused(Buffer.concat([Buffer.from('NOTALEDG'), bytes.subarray(8)]));
  refused(bytes.subarray(0, bytes.byteLength - 1));
  refused(Buffer.concat([bytes, Buffer.from([0])]));
  const text = Buffer.from(bytes).toString('latin1').replace('"version":1', '"version":9');
  refused(Buffer.from(text, 'latin1'));
});
