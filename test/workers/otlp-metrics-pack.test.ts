/**
 * Request packing of the metrics shard (pure): every series of every slice is in exactly
 * one request, in metric order, no request holds more than the batch size, and only the
 * last request of a shard may be short. Also the settlement → ledger outcome mapping of a
 * request that holds several metrics.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hash32 } from '../../core/rng.ts';
import { packRequests, requestOutcome, type MetricsRequestKey } from '../../workers/otlp-metrics.ts';
import type { ExportSettlement } from '../../workers/otlp-exporter.ts';
import { MetricsLedger } from '../../ledger/ledger.ts';

test('property: packing covers every series once, in order, within the batch size', () => {
  for (let seed = 1; seed <= 200; seed++) {
    const n = 1 + (hash32(seed, 1) % 6);
    const metrics = Array.from({ length: n }, (_, i) => {
      const start = hash32(seed, i, 2) % 50;
      return { metricIndex: i, seriesStart: start, seriesEnd: start + (hash32(seed, i, 3) % 40) };
    });
    const max = 1 + (hash32(seed, 4) % 30);
    const requests = packRequests(metrics, max);
    const flat = requests.flat();
    const sizes = requests.map((r) => r.reduce((a, s) => a + s.seriesEnd - s.seriesStart, 0));
    assert.ok(sizes.every((s) => s > 0 && s <= max));
    assert.ok(sizes.slice(0, -1).every((s) => s === max), 'only the last request is short');
    for (const m of metrics) {
      const mine = flat.filter((s) => s.metricIndex === m.metricIndex);
      let at = m.seriesStart;
      for (const s of mine) {
        assert.equal(s.seriesStart, at);
        at = s.seriesEnd;
      }
      assert.equal(at, m.seriesEnd);
    }
    assert.deepEqual(flat.map((s) => s.metricIndex), [...flat.map((s) => s.metricIndex)].sort((a, b) => a - b));
  }
});

test('a request of several metrics settles into one outcome whose slices all land in the ledger', () => {
  const key: MetricsRequestKey = { tick: 2, slices: [{ metricIndex: 0, seriesStart: 8, seriesEnd: 10 }, { metricIndex: 1, seriesStart: 0, seriesEnd: 3 }] };
  const settlement: ExportSettlement<MetricsRequestKey> = {
    key, signal: 'metrics', items: 5, finalState: 'acknowledged', rejectedItems: 2, attempts: 2, durationUs: 1500, sizeBytes: 99,
    last: { class: 'partial_success', retryable: false, httpStatus: 200, rejectedItems: 2, message: 'two refused', durationUs: 700 },
  };
  const o = requestOutcome(settlement);
  assert.deepEqual([o.metricIndex, o.seriesStart, o.seriesEnd, o.tick, o.dataPoints], [0, 8, 10, 2, 5]);
  assert.deepEqual(o.slices, key.slices);
  const ledger = new MetricsLedger([10, 3], 3);
  ledger.record(o);
  assert.equal(ledger.totals.pointsSent, 5);
  assert.equal(ledger.totals.pointsRejected, 2);
  assert.equal(ledger.totals.retries, 1);
  for (const [m, s] of [[0, 8], [0, 9], [1, 0], [1, 2]]) assert.equal(ledger.state(m, s, 2), 3, `partial ${m}/${s}`);
  assert.equal(ledger.state(0, 7, 2), 0);
  assert.deepEqual(ledger.partialBatches[0].slices, key.slices);
});
