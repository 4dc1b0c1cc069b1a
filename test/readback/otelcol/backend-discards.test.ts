/**
 * Against a real Prometheus 2.42 on loopback:
 * - its own ingest/discard counters, scraped live before and after real refused remote
 *   writes (out of order, out of bounds, duplicate timestamp across and within requests);
 * - the waterfall of a direct remote write built from those counters and a read-back;
 * - the collector self-metrics read through PromQL (series fed by remote write with
 *   collector names: this proves the selector and the delta on a live engine, not
 *   against a live collector).
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { type RemoteWriteSeries } from '../../../wire/remote-write.ts';
import { RemoteWriteSender, type RemoteWriteOutcome } from '../../../workers/remote-write-sender.ts';
import {
  prometheusBackendStage,
  prometheusIngestDelta,
  scrapeBackendCounters,
  tempoBackendStage,
  tempoIngestDelta,
  tempoSnapshotFromText,
} from '../../../readback/backend-self-metrics.ts';
import { otelcolDelta, queryOtelcolSnapshot } from '../../../readback/otelcol/self-metrics.ts';
import { buildWaterfall } from '../../../reconcile/waterfall.ts';
import { startPrometheus, type PrometheusServer } from '../../peers/prometheus.ts';
import { PrometheusApi } from '../../../readback/prometheus/api.ts';
import { prometheusInstantQuery } from '../../../readback/prometheus/instant-query.ts';

const samplesIn = (batch: readonly RemoteWriteSeries[]): number => batch.reduce((a, s) => a + s.samples.length, 0);

describe('backend counters on a real Prometheus 2.42', () => {
  let prom: PrometheusServer;
  let sender: RemoteWriteSender;
  let api: PrometheusApi;
  before(async () => {
    prom = await startPrometheus();
    sender = new RemoteWriteSender({ url: prom.remoteWriteUrl });
    api = new PrometheusApi({ url: prom.url });
  });
  after(async () => {
    await api.close();
    await sender.close();
    await prom.stop();
  });

  test('refused writes move the TSDB discard counters; duplicates have none; a refused request is lost whole', async () => {
    const nowMs = Math.floor(Date.now() / 1000) * 1000;
    const t = (offsetS: number): number => nowMs - 600_000 + offsetS * 1000;
    const first = await scrapeBackendCounters('prometheus', prom.url);
    // Each batch with what the ledger would record for it.
    const batches: RemoteWriteSeries[][] = [
      // 6 samples, all fine.
      [
        { name: 'tally_wf_points', labels: { series: '0' }, samples: [{ value: 1, timestampMs: t(0) }, { value: 2, timestampMs: t(10) }, { value: 3, timestampMs: t(20) }] },
        { name: 'tally_wf_points', labels: { series: '1' }, samples: [{ value: 1, timestampMs: t(0) }, { value: 2, timestampMs: t(10) }, { value: 3, timestampMs: t(20) }] },
      ],
      // One out-of-order sample refuses the whole request: the two new series go too.
      [
        { name: 'tally_wf_points', labels: { series: '2' }, samples: [{ value: 1, timestampMs: t(20) }] },
        { name: 'tally_wf_points', labels: { series: '0' }, samples: [{ value: 9, timestampMs: t(5) }] },
        { name: 'tally_wf_points', labels: { series: '3' }, samples: [{ value: 1, timestampMs: t(20) }] },
      ],
      // Same timestamp, different value, in a later request.
      [{ name: 'tally_wf_points', labels: { series: '1' }, samples: [{ value: 7, timestampMs: t(20) }] }],
      // Older than the head can take.
      [{ name: 'tally_wf_points', labels: { series: '4' }, samples: [{ value: 1, timestampMs: nowMs - 5 * 3600_000 }] }],
      // Same timestamp twice in one request: accepted, the second value silently dropped.
      [{ name: 'tally_wf_points', labels: { series: '5' }, samples: [{ value: 1, timestampMs: t(30) }, { value: 2, timestampMs: t(30) }] }],
    ];
    const outcomes: RemoteWriteOutcome[] = [];
    for (const batch of batches) outcomes.push(await sender.send(batch));
    assert.deepEqual(outcomes.map((o) => [o.status, o.rejection ?? 'none']), [[204, 'none'], [400, 'out_of_order'], [400, 'duplicate'], [400, 'out_of_bounds'], [204, 'none']]);
    const second = await scrapeBackendCounters('prometheus', prom.url);

    const delta = prometheusIngestDelta(first, second);
    assert.equal(delta.samplesAppended, 7, '6 + the first of the same-request duplicates');
    assert.deepEqual(delta.discarded, { out_of_order: 1, out_of_bounds: 1, too_old: 0 });
    assert.deepEqual(delta.writeRequestsByCode, { '204': 2, '400': 3 });
    assert.equal(delta.samplesIn - delta.samplesAppended, 1, 'the silently dropped same-request duplicate');
    assert.deepEqual(delta.scrape, { duplicateTimestamp: 0, outOfOrder: 0, outOfBounds: 0 });

    // Read back what is queryable: series 2 and 3 were rolled back with the refused request.
    const query = prometheusInstantQuery(api);
    const seen = await query('count_over_time(tally_wf_points[1h])', nowMs / 1000);
    const bySeries = Object.fromEntries(seen.map((s) => [s.labels.series, s.value]));
    assert.deepEqual(bySeries, { '0': 3, '1': 3, '5': 1 });
    const queryable = seen.reduce((a, s) => a + s.value, 0);

    // The ledger of this direct remote write, and its waterfall.
    let sent = 0;
    let acknowledged = 0;
    let failed = 0;
    batches.forEach((batch, i) => {
      sent += samplesIn(batch);
      if (outcomes[i].ok) acknowledged += samplesIn(batch);
      else failed += samplesIn(batch);
    });
    const w = buildWaterfall({ signal: 'metric_points', ledger: { sent, acknowledged, rejected: 0, failed }, backend: prometheusBackendStage(delta), queryable });
    assert.deepEqual(w.stages.map((s) => [s.stage, s.count]), [['sent', 13], ['acknowledged', 8], ['stored', 7], ['queryable', 7]]);
    const stored = w.steps[1];
    assert.equal(stored.loss, 1);
    assert.equal(stored.unattributed, 1, 'the silent duplicate: acknowledged, never stored, no counter admits it');
    // The discards were of refused requests the ledger already counts as failed.
    assert.deepEqual(
      w.findings.map((f) => [f.kind, f.reason, f.count]),
      [['backend_refused', 'out_of_bounds', 1], ['backend_refused', 'out_of_order', 1]],
    );
    assert.deepEqual(w.steps[0].attributed, [{ cause: 'failed_export', count: 5 }]);
  });

  test('collector self-metrics read through PromQL: collector names on a live engine, a reset per instance', async () => {
    const nowMs = Math.floor(Date.now() / 1000) * 1000;
    const t0 = nowMs - 120_000;
    const t1 = nowMs - 60_000;
    const labels = (instance: string): Record<string, string> => ({ job: 'otelcol', instance, receiver: 'otlp', transport: 'grpc' });
    const outcome = await sender.send([
      { name: 'otelcol_receiver_accepted_spans_total', labels: labels('a'), samples: [{ value: 500, timestampMs: t0 }, { value: 5500, timestampMs: t1 }] },
      { name: 'otelcol_receiver_accepted_spans_total', labels: labels('b'), samples: [{ value: 9000, timestampMs: t0 }, { value: 700, timestampMs: t1 }] },
      { name: 'otelcol_exporter_sent_spans_total', labels: { job: 'otelcol', instance: 'a', exporter: 'otlp/tempo' }, samples: [{ value: 480, timestampMs: t0 }, { value: 5380, timestampMs: t1 }] },
      { name: 'otelcol_process_uptime_total', labels: { job: 'otelcol', instance: 'a' }, samples: [{ value: 1, timestampMs: t0 }, { value: 61, timestampMs: t1 }] },
      { name: 'receiverish_thing', labels: {}, samples: [{ value: 1, timestampMs: t0 }] },
    ]);
    assert.equal(outcome.status, 204);
    const query = prometheusInstantQuery(api);
    const before = await queryOtelcolSnapshot(query, t0 / 1000);
    const after = await queryOtelcolSnapshot(query, t1 / 1000);
    assert.equal(before.source, 'promql');
    assert.equal(before.counters.length, 3, 'uptime and unrelated names are left out');
    const delta = otelcolDelta(before, after);
    assert.deepEqual(delta.components, [
      { kind: 'exporter', id: 'otlp/tempo', signal: 'spans', counters: { sent: 4900 } },
      // 5000 from instance a, 700 (post-reset) from instance b.
      { kind: 'receiver', id: 'otlp', signal: 'spans', counters: { accepted: 5700 } },
    ]);
    assert.deepEqual(delta.flags.map((f) => f.kind), ['reset']);
    assert.match(delta.flags[0].series, /instance="b"/);
  });

  test('Tempo discard counters from an exposition body (hand-written: no Tempo runs here)', () => {
    const start = tempoSnapshotFromText('tempo_distributor_spans_received_total{tenant="single-tenant"} 100\n');
    const end = tempoSnapshotFromText(
      'tempo_distributor_spans_received_total{tenant="single-tenant"} 1100\n' +
        'tempo_discarded_spans_total{reason="rate_limited",tenant="single-tenant"} 40\n' +
        'tempo_discarded_spans_total{reason="trace_too_large",tenant="single-tenant"} 2\n' +
        'tempo_discarded_spans_total{reason="rate_limited",tenant="other"} 9\n',
    );
    const delta = tempoIngestDelta(start, end, 'single-tenant');
    assert.deepEqual(delta, { spansReceived: 1000, discardedByReason: { rate_limited: 40, trace_too_large: 2 }, flags: [] });
    assert.deepEqual(tempoBackendStage(delta), { name: 'tempo', received: 1000, discarded: { trace_too_large: 2 }, refused: { rate_limited: 40 } });
  });
});
