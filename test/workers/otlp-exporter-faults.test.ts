/**
 * Each seeded receiver fault, over real sockets, ends in the ledger state it should, and
 * reconciliation attributes the missing points to the right stage. Totals always add up:
 * acknowledged + rejected + failed + dropped + unsettled = sent, nothing counted twice.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ValueType } from '@opentelemetry/api';
import { AggregationTemporality, DataPointType } from '@opentelemetry/sdk-metrics';
import { ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import type { MetricsLedger } from '../../ledger/ledger.ts';
import { POINT_FAILED } from '../../ledger/ledger.ts';
import { reconcile } from '../../reconcile/points.ts';
import { buildBatch } from '../../workers/otlp-metrics.ts';
import { OtlpExporter, type MetricsBatchKey, type OtlpProtocol } from '../../workers/otlp-exporter.ts';
import { config, receiver, ship, SERIES, space, START_NS, metricTask, tickBatches } from './otlp-exporter-fixture.ts';
import type { ReceiverFaults } from '../../embedded/receiver-faults.ts';

function assertTotalsAddUp(ledger: MetricsLedger): void {
  const t = ledger.totals;
  assert.equal(t.pointsAcknowledged + t.pointsRejected + t.pointsFailed + t.pointsDropped + t.pointsUnsettled, t.pointsSent);
  assert.equal(t.pointsResent, 0);
}

async function runWith(protocol: OtlpProtocol, faults: Partial<ReceiverFaults>, ticks = [1, 2, 3, 4, 5]) {
  const { r, store } = await receiver(faults);
  try {
    const exporter = new OtlpExporter<MetricsBatchKey>(config(protocol, r));
    const { ledger, settlements } = await ship(exporter, ticks.flatMap((k) => tickBatches(k, 10, protocol === 'http/json')));
    exporter.destroy();
    return { ledger, settlements, rec: reconcile(ledger, store), stats: r.stats() };
  } finally {
    await r.close();
  }
}

for (const protocol of ['grpc', 'http/protobuf', 'http/json'] as const) {
  test(`${protocol}: partial_success rejections are 'rejected', and exactly those points are missing`, async () => {
    const { ledger, rec, stats } = await runWith(protocol, { rejectDataPointRatio: 0.1 });
    assert.ok(stats.pointsRejectedByFault > 0);
    assert.equal(ledger.totals.pointsRejected, stats.pointsRejectedByFault);
    assert.equal(rec.missingByExportStage.rejected, stats.pointsRejectedByFault);
    assert.equal(rec.pointsMissing, stats.pointsRejectedByFault);
    assertTotalsAddUp(ledger);
  });

  test(`${protocol}: requests and points dropped after acknowledgement are 'lost after ack'`, async () => {
    const { ledger, rec, stats } = await runWith(protocol, { dropRequestRatio: 0.2, dropDataPointRatio: 0.05 });
    assert.ok(stats.requestsDroppedByFault > 0 && stats.pointsDroppedByFault > stats.requestsDroppedByFault * 10);
    assert.equal(ledger.totals.pointsAcknowledged, SERIES * 5);
    assert.equal(rec.missingByExportStage.lostAfterAck, stats.pointsDroppedByFault);
    assert.equal(rec.pointsMissing, stats.pointsDroppedByFault);
    assertTotalsAddUp(ledger);
  });

  test(`${protocol}: 503 / UNAVAILABLE without retries are failed exports`, async () => {
    const { ledger, rec, stats, settlements } = await runWith(protocol, { failRequestRatio: 0.3 });
    assert.ok(stats.requestsFailedByFault > 0);
    const failed = settlements.filter((s) => s.finalState === 'failed');
    assert.equal(failed.length, stats.requestsFailedByFault);
    assert.ok(failed.every((s) => s.attempts === 1 && (s.last?.httpStatus === 503 || s.last?.grpcCode === 14)));
    assert.equal(rec.missingByExportStage.failedExport, ledger.totals.pointsFailed);
    assert.equal(rec.pointsMissing, ledger.totals.pointsFailed);
    assertTotalsAddUp(ledger);
  });
}

/** One request holding cumulative `m` (series 0..50 at tick 1) and a delta metric. */
function mixedTemporalityBody(): Uint8Array {
  const rm = buildBatch({ runId: space.runId, shard: 0, seed: space.seed, startUnixNano: String(START_NS) }, metricTask, 0, 50, 1, 1000);
  const cumulative = rm.scopeMetrics[0].metrics[0];
  rm.scopeMetrics[0].metrics.push({
    descriptor: { name: 'd', description: '', unit: '1', valueType: ValueType.INT },
    aggregationTemporality: AggregationTemporality.DELTA,
    dataPointType: DataPointType.SUM,
    isMonotonic: true,
    dataPoints: [{ ...cumulative.dataPoints[0], value: 3 }],
  } as typeof cumulative);
  return ProtobufMetricsSerializer.serializeRequest(rm)!;
}

for (const protocol of ['grpc', 'http/protobuf'] as const) {
  test(`${protocol}: a delta metric gets the whole request refused (400 / INVALID_ARGUMENT), its cumulative series included, and is not retried`, async () => {
    const { r, store } = await receiver({ rejectDeltaTemporality: true });
    try {
      const exporter = new OtlpExporter<MetricsBatchKey>(config(protocol, r, { retry: { enabled: true, initialIntervalMs: 10, maxIntervalMs: 10, multiplier: 1, randomizationFactor: 0, maxElapsedTimeMs: 5000 } }));
      const batches = [
        { signal: 'metrics' as const, body: mixedTemporalityBody(), items: 50, key: { metricIndex: 0, seriesStart: 0, seriesEnd: 50, tick: 1 } },
        ...tickBatches(1, 50).slice(1),
      ];
      const { ledger, settlements } = await ship(exporter, batches);
      exporter.destroy();
      const refused = settlements.find((s) => s.key.seriesStart === 0)!;
      assert.equal(refused.finalState, 'failed');
      assert.equal(refused.attempts, 1);
      assert.equal(refused.last?.class, 'non_retryable_status');
      if (protocol === 'grpc') assert.equal(refused.last?.grpcCode, 3);
      else assert.equal(refused.last?.httpStatus, 400);
      assert.match(refused.last?.message ?? '', /invalid temporality and type combination/);
      assert.equal(ledger.state(0, 49, 1), POINT_FAILED);
      const rec = reconcile(ledger, store);
      assert.equal(store.pointsReceived, 50); // only the all-cumulative request
      assert.equal(rec.missingByExportStage.failedExport, 50);
      assert.equal(r.stats().requestsRefusedDelta, 1);
      assertTotalsAddUp(ledger);
    } finally {
      await r.close();
    }
  });
}
