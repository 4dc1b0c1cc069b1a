import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../../core/rng.ts';
import type { ExportOutcome } from '../../core/messages.ts';
import { MetricsLedger, POINT_ACKNOWLEDGED, POINT_FAILED, POINT_PARTIAL, POINT_UNSENT } from '../../ledger/ledger.ts';
import { ObservationStore } from '../../reconcile/observations.ts';
import { reconcile } from '../../reconcile/points.ts';

const SERIES = [300, 50];
const TICKS = 6;

function outcome(metricIndex: number, seriesStart: number, seriesEnd: number, tick: number, status: number, rejectedDataPoints = 0): ExportOutcome {
  return { metricIndex, seriesStart, seriesEnd, tick, dataPoints: seriesEnd - seriesStart, status, rejectedDataPoints, durationUs: 1, sizeBytes: 1 };
}

/** Send every point in batches of 25; return the outcomes. */
function sendAll(status = 200): ExportOutcome[] {
  const out: ExportOutcome[] = [];
  SERIES.forEach((n, m) => {
    for (let k = 1; k <= TICKS; k++) for (let s = 0; s < n; s += 25) out.push(outcome(m, s, Math.min(n, s + 25), k, status));
  });
  return out;
}

test('a ledger reconciled against a perfect read-back has zero loss (property, several seeds)', () => {
  for (const seed of [1, 2, 3]) {
    const rng = createRng(seed);
    const ledger = new MetricsLedger(SERIES, TICKS);
    const seen = new ObservationStore(SERIES, TICKS);
    const outcomes = sendAll();
    // Order of arrival must not matter.
    for (let i = outcomes.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [outcomes[i], outcomes[j]] = [outcomes[j], outcomes[i]];
    }
    for (const o of outcomes) {
      ledger.record(o);
      for (let s = o.seriesStart; s < o.seriesEnd; s++) seen.add(o.metricIndex, s, o.tick, 1, 1);
    }
    const r = reconcile(ledger, seen);
    assert.equal(r.pointsSent, (300 + 50) * TICKS);
    assert.equal(r.pointsMissing, 0);
    assert.equal(r.lossRatio, 0);
    assert.equal(r.duplicatePoints, 0);
    assert.equal(ledger.totals.pointsAcknowledged, r.pointsSent);
  }
});

test('known missing points are found exactly, by series and tick, and attributed to their stage', () => {
  const ledger = new MetricsLedger(SERIES, TICKS);
  const seen = new ObservationStore(SERIES, TICKS);
  const dropped = new Set(['0:7:2', '0:299:6', '1:3:1']);
  for (const o of sendAll()) {
    ledger.record(o);
    for (let s = o.seriesStart; s < o.seriesEnd; s++) if (!dropped.has(`${o.metricIndex}:${s}:${o.tick}`)) seen.add(o.metricIndex, s, o.tick, 1, 1);
  }
  const r = reconcile(ledger, seen);
  assert.equal(r.pointsMissing, 3);
  assert.equal(r.missingByStage.lostAfterAck, 3);
  assert.deepEqual(
    new Set(r.samples.missing.map((p) => `${p.metricIndex}:${p.series}:${p.tick}`)),
    dropped,
  );
  assert.equal(r.seriesMissing, 0);
});

test('a series never seen is a missing series; duplicates and value mismatches are counted', () => {
  const ledger = new MetricsLedger(SERIES, TICKS);
  const seen = new ObservationStore(SERIES, TICKS);
  for (const o of sendAll()) {
    ledger.record(o);
    for (let s = o.seriesStart; s < o.seriesEnd; s++) {
      if (o.metricIndex === 1 && s === 10) continue;
      seen.add(o.metricIndex, s, o.tick, 5, o.tick === 3 && s === 4 ? 6 : 5);
      if (o.metricIndex === 0 && s === 20 && o.tick === 1) seen.add(0, 20, 1, 5, 5);
    }
  }
  const r = reconcile(ledger, seen);
  assert.equal(r.seriesMissing, 1);
  assert.equal(r.pointsMissing, TICKS);
  assert.equal(r.duplicatePoints, 1);
  assert.equal(r.valueMismatches, 2); // series 4 tick 3 of both metrics
});

test('partial_success: missing points are attributed as rejected up to the batch count, each point in exactly one state', () => {
  const ledger = new MetricsLedger([100], 1);
  const seen = new ObservationStore([100], 1);
  ledger.record(outcome(0, 0, 50, 1, 200, 4)); // 4 rejected
  ledger.record(outcome(0, 50, 75, 1, 503)); // failed
  // 75..100 never sent
  for (let s = 0; s < 50; s++) if (s % 10 !== 0) seen.add(0, s, 1, 1, 1); // 5 missing: 4 rejected + 1 lost after ack
  assert.equal(ledger.state(0, 0, 1), POINT_PARTIAL);
  assert.equal(ledger.state(0, 60, 1), POINT_FAILED);
  assert.equal(ledger.state(0, 80, 1), POINT_UNSENT);
  const r = reconcile(ledger, seen);
  assert.equal(r.pointsSent, 75);
  assert.equal(r.pointsMissing, 5 + 25);
  assert.deepEqual(r.missingByStage, { rejected: 4, failedExport: 25, lostAfterAck: 1 });
  const t = ledger.totals;
  assert.equal(t.pointsAcknowledged + t.pointsRejected + t.pointsFailed, t.pointsSent);
  assert.equal(t.pointsRejected, 4);
});

test('points seen that were never sent are unexpected', () => {
  const ledger = new MetricsLedger([10], 2);
  const seen = new ObservationStore([10], 2);
  ledger.record(outcome(0, 0, 10, 1, 200));
  for (let s = 0; s < 10; s++) seen.add(0, s, 1, 1, 1);
  seen.add(0, 3, 2, 1, 1);
  const r = reconcile(ledger, seen);
  assert.equal(r.unexpectedPoints, 1);
  assert.equal(r.pointsMissing, 0);
  assert.equal(ledger.state(0, 3, 1), POINT_ACKNOWLEDGED);
});
