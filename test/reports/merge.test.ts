/**
 * The merge is exact: histograms merged from shards equal the histogram of all their
 * values; counters, ledger totals and reconciliations add up; the ledgers' union is the
 * ledger of all points; interval lines align by index with each second's percentiles from
 * merged histograms. And the set of shards is checked first, each refusal with its code.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createHistogramUs, decodeHistogram, encodeHistogram, percentilesUs, recordUs } from '../../core/histogram.ts';
import { ShardError, exitCodeFor } from '../../core/errors.ts';
import { emptyLoadCounts } from '../../core/messages.ts';
import { MetricsLedger, POINT_ACKNOWLEDGED, POINT_UNSENT } from '../../ledger/ledger.ts';
import { unionLedgers } from '../../ledger/ledger-merge.ts';
import { mergeRefusals } from '../../ledger/refusals.ts';
import { mergeReconciliations } from '../../reconcile/merge.ts';
import type { Reconciliation } from '../../reconcile/points.ts';
import type { IntervalLine } from '../../reports/aggregate.ts';
import { checkShardSet, type LoadedShard } from '../../reports/merge-checks.ts';
import { mergeIntervalLines } from '../../reports/merge-intervals.ts';
import { mergeEncodedHistograms, sumLoadCounts } from '../../reports/merge-parts.ts';
import { mergeConnectCliffs } from '../../reports/merge-results.ts';
import type { ShardRecord } from '../../reports/shard-record.ts';

function encodedOf(values: readonly number[]): string {
  const h = createHistogramUs();
  try {
    for (const v of values) recordUs(h, v);
    return encodeHistogram(h);
  } finally {
    h.destroy();
  }
}

test('property: merging the shards\' histograms gives the histogram of all values (any split, any order)', () => {
  fc.assert(fc.property(fc.array(fc.array(fc.integer({ min: 1, max: 50_000_000 }), { maxLength: 60 }), { minLength: 1, maxLength: 5 }), (parts) => {
    const merged = decodeHistogram(mergeEncodedHistograms(parts.map(encodedOf)));
    const whole = decodeHistogram(encodedOf(parts.flat()));
    try {
      assert.equal(merged.totalCount, whole.totalCount);
      assert.deepEqual(percentilesUs(merged), percentilesUs(whole));
      for (const p of [1, 10, 25, 50, 75, 90, 99, 99.9, 100]) assert.equal(merged.getValueAtPercentile(p), whole.getValueAtPercentile(p));
    } finally {
      merged.destroy();
      whole.destroy();
    }
  }), { numRuns: 60 });
});

test('property: merged load counters are the sums of the shards\' counters', () => {
  const counts = fc.record({ started: fc.nat(1000), completed: fc.nat(1000), ok: fc.nat(1000), lateStarts: fc.nat(50), refused: fc.nat(9), c2xx: fc.nat(1000), stage0: fc.nat(99), backend: fc.nat(99), overrunAtMs: fc.integer({ min: 1_700_000_000_000, max: 1_800_000_000_000 }), callMaxUs: fc.nat(5000) });
  fc.assert(fc.property(fc.array(counts, { minLength: 1, maxLength: 6 }), (parts) => {
    const loads = parts.map((p) => {
      const c = emptyLoadCounts();
      Object.assign(c, { started: p.started, completed: p.completed, ok: p.ok, lateStarts: p.lateStarts, lastOverrunStartMs: p.overrunAtMs, connectCallUsMax: p.callMaxUs });
      c.errors.ECONNREFUSED = p.refused;
      c.statusClasses['2xx'] = p.c2xx;
      c.stageStarted[0] = p.stage0;
      c.backends.a = p.backend;
      c.slowConnectsUs.push(p.refused);
      return c;
    });
    const sum = sumLoadCounts(loads);
    const total = (f: (p: (typeof parts)[number]) => number): number => parts.reduce((a, p) => a + f(p), 0);
    assert.equal(sum.started, total((p) => p.started));
    assert.equal(sum.completed, total((p) => p.completed));
    assert.equal(sum.ok, total((p) => p.ok));
    assert.equal(sum.lateStarts, total((p) => p.lateStarts));
    assert.equal(sum.errors.ECONNREFUSED, total((p) => p.refused));
    assert.equal(sum.errors.ETIMEDOUT, 0);
    assert.equal(sum.statusClasses['2xx'], total((p) => p.c2xx));
    assert.equal(sum.stageStarted[0], total((p) => p.stage0));
    assert.equal(sum.backends.a, total((p) => p.backend));
    assert.equal(sum.slowConnectsUs.length, parts.length);
    // An instant and a largest time are the largest over shards, never a sum.
    assert.equal(sum.lastOverrunStartMs, Math.max(...parts.map((p) => p.overrunAtMs)));
    assert.equal(sum.connectCallUsMax, Math.max(...parts.map((p) => p.callMaxUs)));
  }));
});

test('the union of disjoint ledgers is the ledger of all points, its totals the sums; overlapping ones are refused', () => {
  const a = new MetricsLedger([4, 3], 3);
  const b = new MetricsLedger([4, 3], 3);
  a.record({ metricIndex: 0, seriesStart: 0, seriesEnd: 2, tick: 1, dataPoints: 2, status: 200, rejectedDataPoints: 0, durationUs: 1, sizeBytes: 1 });
  b.record({ metricIndex: 0, seriesStart: 2, seriesEnd: 4, tick: 1, dataPoints: 2, status: 200, rejectedDataPoints: 0, durationUs: 1, sizeBytes: 1 });
  b.record({ metricIndex: 1, seriesStart: 0, seriesEnd: 3, tick: 3, dataPoints: 3, status: 503, rejectedDataPoints: 0, durationUs: 1, sizeBytes: 1 });
  const u = unionLedgers([a, b]);
  for (let s = 0; s < 4; s++) assert.equal(u.state(0, s, 1), POINT_ACKNOWLEDGED);
  assert.equal(u.state(0, 0, 2), POINT_UNSENT);
  assert.notEqual(u.state(1, 2, 3), POINT_UNSENT);
  assert.equal(u.totals.pointsSent, a.totals.pointsSent + b.totals.pointsSent);
  assert.equal(u.totals.requests, 3);
  assert.equal(u.totals.statuses['200'], 2);
  assert.equal(u.totals.statuses['503'], 1);
  assert.throws(() => unionLedgers([a, a]), (e: unknown) => e instanceof ShardError && e.code === 'TALLY_MERGE_PLAN_MISMATCH');
  assert.throws(() => unionLedgers([a, new MetricsLedger([4], 3)]), (e: unknown) => e instanceof ShardError && e.code === 'TALLY_MERGE_PLAN_MISMATCH');
});

test('reconciliations and refusals add up; ratios are taken again from the sums', () => {
  const part = (sent: number, missing: number, metric: number): Reconciliation => ({
    pointsSent: sent, pointsReceived: sent - missing, pointsMissing: missing, lossRatio: missing / sent, seriesMissing: 0, duplicatePoints: 1, valueMismatches: 0,
    unexpectedPoints: 0, foreignRunPoints: 0, missingByStage: { rejected: 0, failedExport: missing, lostAfterAck: 0 },
    missingByExportStage: { rejected: 0, failedExport: missing, droppedByQueue: 0, unsettled: 0, lostAfterAck: 0 }, rejectedButVisible: 0,
    metrics: [{ metricIndex: metric, pointsSent: sent, pointsReceived: sent - missing, pointsMissing: missing, seriesMissing: 0, duplicatePoints: 1, unsentReceived: 0 }],
    samples: { missing: Array.from({ length: missing }, (_, i) => ({ metricIndex: metric, series: i, tick: 1, ledgerState: 'failed' as const })), valueMismatches: [], unexpected: [] },
  });
  const m = mergeReconciliations([part(100, 10, 0), part(300, 0, 0), part(600, 150, 1)])!;
  assert.equal(m.pointsSent, 1000);
  assert.equal(m.pointsMissing, 160);
  assert.equal(m.lossRatio, 0.16);
  assert.equal(m.duplicatePoints, 3);
  assert.equal(m.missingByExportStage.failedExport, 160);
  assert.deepEqual(m.metrics.map((x) => [x.metricIndex, x.pointsSent]), [[0, 400], [1, 600]]);
  assert.equal(m.samples.missing.length, 100, 'samples stay capped');
  const r = mergeRefusals([
    { reasons: [{ status: 400, message: 'bad', requests: 2, items: 20 }], otherRequests: 1, otherItems: 5 },
    { reasons: [{ status: 400, message: 'bad', requests: 3, items: 30 }, { status: 503, message: '', requests: 1, items: 1 }], otherRequests: 0, otherItems: 0 },
  ])!;
  assert.deepEqual(r, { reasons: [{ status: 400, message: 'bad', requests: 5, items: 50 }, { status: 503, message: '', requests: 1, items: 1 }], otherRequests: 1, otherItems: 5 });
});

test('interval lines align by index; each second\'s counts add up and its percentiles come from the merged histograms', () => {
  const line = (interval: number, values: number[], inFlight: number): IntervalLine => {
    const h = createHistogramUs();
    for (const v of values) recordUs(h, v);
    const p = percentilesUs(h);
    const enc = encodeHistogram(h);
    h.destroy();
    const short = { p50: p.p50, p99: p.p99, max: p.max };
    return {
      interval, endMs: (interval + 1) * 1000, shards: 1, eventLoopDelayP99MaxUs: interval, workerCpuMaxRatio: 0.1,
      load: { started: values.length, iterationsCompleted: values.length, completed: values.length, newConnections: values.length, connectionsPerSecond: values.length, vusActive: 0, stageStarted: { 0: values.length }, backends: {}, ok: values.length, errors: 0, errorsByClass: {}, statusClasses: { '2xx': values.length }, lateStarts: 0, droppedIterations: 0, maxInFlight: inFlight, achievedRatePerSecond: values.length, latencyUs: short, connectUs: short, serviceUs: short, ttfbUs: short },
      histograms: { latencyUs: enc, connectUs: enc, serviceUs: enc, ttfbUs: enc },
    };
  };
  const shardA = [line(0, [100, 200, 300], 2), line(1, [1000], 1)];
  const shardB = [line(0, [5000, 6000], 4), line(1, [50, 60, 70], 7)];
  const { lines, peaks } = mergeIntervalLines([shardA, shardB]);
  assert.deepEqual(lines.map((l) => l.interval), [0, 1]);
  assert.equal(lines[0].load!.started, 5);
  assert.equal(lines[0].shards, 2);
  // As the run itself has it: its threads' histograms cross to the main thread encoded.
  const whole = decodeHistogram(encodedOf([100, 200, 300, 5000, 6000]));
  assert.deepEqual(lines[0].load!.latencyUs, { p50: percentilesUs(whole).p50, p99: percentilesUs(whole).p99, max: percentilesUs(whole).max });
  whole.destroy();
  assert.equal(lines[0].histograms, undefined, 'merged lines carry no histograms');
  assert.deepEqual(peaks, { maxInFlight: 8, vusActiveMax: 0 }, 'the largest per-second sum (1 + 7), not the sum of each shard\'s peak (4 + 7)');
});

function shard(index: number, count: number, over: { complete?: boolean; hash?: string; start?: number; runId?: string } = {}): LoadedShard {
  const identity = { index, count, runId: over.runId ?? 'r', scenarioHash: over.hash ?? 'sha256:a', startEpochMs: over.start ?? 1000, threads: 2 };
  const record = { version: 1, identity, input: { complete: over.complete ?? true, ...(over.complete === false ? { incompleteReason: 'SIGTERM' } : {}), elapsedMs: 5000 }, encoded: {} } as unknown as ShardRecord;
  return { runDir: `d${index}`, record, saved: { runId: identity.runId, startEpochMs: identity.startEpochMs, shard: { index, count }, scenarioHash: identity.scenarioHash, scenario: {}, scenarioPath: 's.yaml' } };
}

test('the shard set is checked: other plans, duplicates, missing and unfinished shards are refused with their codes (exit 2)', () => {
  const code = (fn: () => unknown, expected: string): void => {
    assert.throws(fn, (e: unknown) => e instanceof ShardError && e.code === expected && exitCodeFor(e) === 2, expected);
  };
  const ok = checkShardSet([shard(2, 3), shard(0, 3), shard(1, 3)], { allowIncomplete: false });
  assert.deepEqual(ok.shards.map((s) => s.record.identity.index), [0, 1, 2]);
  assert.deepEqual(ok.summary.incompleteShards, []);
  code(() => checkShardSet([shard(0, 2), shard(1, 2, { hash: 'sha256:b' })], { allowIncomplete: false }), 'TALLY_MERGE_PLAN_MISMATCH');
  code(() => checkShardSet([shard(0, 2), shard(1, 2, { start: 2000 })], { allowIncomplete: false }), 'TALLY_MERGE_PLAN_MISMATCH');
  code(() => checkShardSet([shard(0, 2), shard(1, 3)], { allowIncomplete: false }), 'TALLY_MERGE_PLAN_MISMATCH');
  code(() => checkShardSet([shard(0, 2), shard(0, 2)], { allowIncomplete: false }), 'TALLY_MERGE_DUPLICATE_SHARD');
  code(() => checkShardSet([shard(0, 3), shard(2, 3)], { allowIncomplete: false }), 'TALLY_MERGE_MISSING_SHARD');
  code(() => checkShardSet([shard(0, 2), shard(1, 2, { complete: false })], { allowIncomplete: false }), 'TALLY_MERGE_INCOMPLETE_SHARD');
  const partial = checkShardSet([shard(0, 3), shard(1, 3, { complete: false })], { allowIncomplete: true });
  assert.deepEqual(partial.summary.incompleteShards, [1, 2]);
  // Duplicates and other plans are refused even with --allow-incomplete.
  code(() => checkShardSet([shard(0, 2), shard(0, 2)], { allowIncomplete: true }), 'TALLY_MERGE_DUPLICATE_SHARD');
});

test('connect cliffs merge as the first shard to reach one, with the worst mean of all; no cliff, none', () => {
  const a = { intervals: 4, firstEndMs: 21_000, firstMeanUs: 3600, firstTimeWait: 31_000, baselineUs: 12, worstMeanUs: 5200 };
  const b = { intervals: 6, firstEndMs: 17_000, firstMeanUs: 900, firstTimeWait: null, baselineUs: 14, worstMeanUs: 4100 };
  assert.deepEqual(mergeConnectCliffs([a, b]), { ...b, intervals: 6, worstMeanUs: 5200 });
  assert.equal(mergeConnectCliffs([]), undefined);
});
