import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../../core/rng.ts';
import { EXPORT_FINAL_STATES, type ExportFinalState, type ExportOutcome } from '../../core/messages.ts';
import { finalStateOf, MetricsLedger, POINT_ACKNOWLEDGED, POINT_DROPPED, POINT_FAILED, POINT_PARTIAL, POINT_UNSENT, POINT_UNSETTLED } from '../../ledger/ledger.ts';
import { ObservationStore } from '../../reconcile/observations.ts';
import { reconcile } from '../../reconcile/points.ts';

function outcome(seriesStart: number, seriesEnd: number, tick: number, finalState: ExportFinalState | undefined, rejectedDataPoints = 0, status = 200): ExportOutcome {
  const o: ExportOutcome = { metricIndex: 0, seriesStart, seriesEnd, tick, dataPoints: seriesEnd - seriesStart, status, rejectedDataPoints, durationUs: 1, sizeBytes: 1 };
  if (finalState !== undefined) o.finalState = finalState;
  return o;
}

test('4-bit states: neighbouring points keep their own state (no bleed between nibbles)', () => {
  const ledger = new MetricsLedger([7], 3); // odd series × ticks: the last byte is half used
  const states: ExportFinalState[] = ['acknowledged', 'failed', 'dropped', 'unsettled'];
  for (let s = 0; s < 7; s++) for (let k = 1; k <= 3; k++) ledger.record(outcome(s, s + 1, k, states[(s * 3 + k) % 4], (s + k) % 5 === 0 ? 1 : 0));
  const want = { acknowledged: POINT_ACKNOWLEDGED, failed: POINT_FAILED, dropped: POINT_DROPPED, unsettled: POINT_UNSETTLED };
  for (let s = 0; s < 7; s++) {
    for (let k = 1; k <= 3; k++) {
      const st = states[(s * 3 + k) % 4];
      const expected = st === 'acknowledged' && (s + k) % 5 === 0 ? POINT_PARTIAL : want[st];
      assert.equal(ledger.state(0, s, k), expected, `series ${s} tick ${k}`);
    }
  }
});

test('legacy outcomes (no finalState) derive acknowledged from 2xx and failed otherwise', () => {
  assert.equal(finalStateOf(outcome(0, 1, 1, undefined, 0, 200)), 'acknowledged');
  assert.equal(finalStateOf(outcome(0, 1, 1, undefined, 0, 503)), 'failed');
  assert.equal(finalStateOf({ ...outcome(0, 1, 1, undefined, 0, 200), errorCode: 'BAD_RESPONSE' }), 'failed');
  assert.equal(finalStateOf(outcome(0, 1, 1, 'dropped', 0, 0)), 'dropped');
});

test('every point ends in exactly one final state: totals add up to sent, and reconciliation splits the missing by stage (property, several seeds)', () => {
  for (const seed of [1, 2, 3, 4]) {
    const rng = createRng(seed);
    const ledger = new MetricsLedger([200], 4);
    const seen = new ObservationStore([200], 4);
    const expected = { rejected: 0, failedExport: 0, droppedByQueue: 0, unsettled: 0, lostAfterAck: 0 };
    for (let k = 1; k <= 4; k++) {
      for (let s = 0; s < 200; s += 20) {
        const state = EXPORT_FINAL_STATES[rng.int(4)];
        const rejected = state === 'acknowledged' && rng.next() < 0.3 ? 1 + rng.int(5) : 0;
        ledger.record({ ...outcome(s, s + 20, k, state, rejected), attempts: 1 + rng.int(3) });
        for (let i = s; i < s + 20; i++) {
          const visible = state === 'acknowledged' ? i - s >= rejected && rng.next() > 0.05 : state === 'unsettled' && rng.next() < 0.5;
          if (visible) seen.add(0, i, k, 1, 1);
          else if (state === 'acknowledged' && i - s < rejected) expected.rejected++;
          else if (state === 'acknowledged') expected.lostAfterAck++;
          else if (state === 'failed') expected.failedExport++;
          else if (state === 'dropped') expected.droppedByQueue++;
          else expected.unsettled++;
        }
      }
    }
    const t = ledger.totals;
    assert.equal(t.pointsSent, 800);
    assert.equal(t.pointsAcknowledged + t.pointsRejected + t.pointsFailed + t.pointsDropped + t.pointsUnsettled, t.pointsSent);
    assert.equal(t.pointsResent, 0);
    const r = reconcile(ledger, seen);
    assert.deepEqual(r.missingByExportStage, expected);
    const m = r.missingByExportStage;
    assert.equal(m.rejected + m.failedExport + m.droppedByQueue + m.unsettled + m.lostAfterAck, r.pointsMissing);
    assert.deepEqual(r.missingByStage, { rejected: m.rejected, failedExport: m.failedExport, lostAfterAck: m.lostAfterAck });
    assert.equal(r.unexpectedPoints, 0);
  }
});

test('an outcome recorded twice is counted as resent, never as sent twice; untouched points stay unsent', () => {
  const ledger = new MetricsLedger([10], 2);
  ledger.record(outcome(0, 5, 1, 'failed', 0, 503));
  ledger.record(outcome(0, 5, 1, 'acknowledged'));
  assert.equal(ledger.totals.pointsSent, 5);
  assert.equal(ledger.totals.pointsResent, 5);
  assert.equal(ledger.state(0, 4, 1), POINT_ACKNOWLEDGED);
  assert.equal(ledger.state(0, 5, 1), POINT_UNSENT);
});
