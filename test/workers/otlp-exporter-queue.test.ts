/**
 * The sending queue under a slow receiver (seeded added latency), over real sockets:
 * `drop` refuses what does not fit (counted, and attributed to the queue by
 * reconciliation), `block` makes the producer wait (blocked time counted) and loses
 * nothing; a shutdown before the queue drains leaves its batches `unsettled`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeHistogram } from '../../core/histogram.ts';
import { reconcile } from '../../reconcile/points.ts';
import { POINT_DROPPED, POINT_UNSETTLED } from '../../ledger/ledger.ts';
import { OtlpExporter, type MetricsBatchKey } from '../../workers/otlp-exporter.ts';
import { config, receiver, ship, SERIES, tickBatches } from './otlp-exporter-fixture.ts';

const SLOW = { latency: { distribution: 'fixed' as const, ms: 60 } };
const QUEUE = { queueSize: 2, numConsumers: 1 };

test('drop: with 1 consumer and room for 2, a burst of 10 batches keeps 3 and drops 7, which reconcile as dropped by the queue', async () => {
  const { r, store } = await receiver(SLOW);
  try {
    const exporter = new OtlpExporter<MetricsBatchKey>(config('http/protobuf', r, { queue: { ...QUEUE, whenFull: 'drop' } }));
    const batches = tickBatches(1, 10);
    const results = await Promise.all(batches.map((b) => exporter.submit(b)));
    // The first batch goes straight to the consumer, the next two wait, the rest find the queue full.
    assert.deepEqual(results, ['enqueued', 'enqueued', 'enqueued', ...Array(7).fill('dropped')]);
    const interval = exporter.takeInterval();
    assert.equal(interval.counts.droppedBatches, 7);
    assert.equal(interval.counts.droppedItems, 70);
    assert.equal(interval.counts.queueDepthMax, 2);
    const { ledger } = await ship(exporter, []);
    exporter.destroy();
    assert.equal(ledger.totals.pointsDropped, 70);
    assert.equal(ledger.totals.pointsAcknowledged, 30);
    assert.equal(ledger.state(0, 99, 1), POINT_DROPPED);
    const rec = reconcile(ledger, store);
    assert.deepEqual(rec.missingByExportStage, { rejected: 0, failedExport: 0, droppedByQueue: 70, unsettled: 0, lostAfterAck: 0 });
    assert.equal(rec.pointsMissing, 70);
  } finally {
    await r.close();
  }
});

test('block: the same burst waits for room instead, nothing is dropped, and the wait is counted', async () => {
  const { r, store } = await receiver(SLOW);
  try {
    const exporter = new OtlpExporter<MetricsBatchKey>(config('http/protobuf', r, { queue: { ...QUEUE, whenFull: 'block' } }));
    const batches = tickBatches(1, 10);
    const results = await Promise.all(batches.map((b) => exporter.submit(b)));
    assert.ok(results.every((x) => x === 'enqueued'));
    const { ledger } = await ship(exporter, []);
    const interval = exporter.takeInterval();
    exporter.destroy();
    assert.equal(interval.counts.droppedBatches, 0);
    assert.ok(interval.counts.queueDepthMax <= 2);
    // 7 producers each waited at least one 60 ms export.
    assert.ok(interval.counts.blockedUs >= 7 * 60_000, `${interval.counts.blockedUs} µs blocked`);
    assert.equal(interval.counts.settledBatches.acknowledged, 10);
    const h = decodeHistogram(interval.histograms.attemptUs);
    assert.equal(h.totalCount, 10);
    assert.ok(h.minNonZeroValue >= 60_000 * 0.99, `fastest attempt ${h.minNonZeroValue} µs with 60 ms added`);
    h.destroy();
    assert.equal(ledger.totals.pointsAcknowledged, SERIES);
    assert.equal(reconcile(ledger, store).pointsMissing, 0);
  } finally {
    await r.close();
  }
});

test('shutdown before the queue drains: queued and in-flight batches settle unsettled, each exactly once', async () => {
  const { r, store } = await receiver({ latency: { distribution: 'fixed', ms: 300 } });
  try {
    const exporter = new OtlpExporter<MetricsBatchKey>(config('grpc', r, { queue: { queueSize: 10, numConsumers: 1, whenFull: 'block' } }));
    const { ledger, settlements } = await ship(exporter, tickBatches(1, 25), 50);
    exporter.destroy();
    assert.equal(settlements.length, 4);
    assert.ok(settlements.every((s) => s.finalState === 'unsettled'));
    assert.equal(settlements.filter((s) => s.attempts === 1).length, 1); // the one in flight
    assert.equal(ledger.totals.pointsUnsettled, SERIES);
    assert.equal(ledger.state(0, 0, 1), POINT_UNSETTLED);
    // Wait out the receiver's delay: the cancelled in-flight request may still be stored, which is why it is not "unsent".
    await new Promise((res) => setTimeout(res, 400));
    const rec = reconcile(ledger, store);
    assert.equal(rec.unexpectedPoints, 0);
    assert.equal(rec.missingByExportStage.unsettled + store.pointsReceived, SERIES);
  } finally {
    await r.close();
  }
});
