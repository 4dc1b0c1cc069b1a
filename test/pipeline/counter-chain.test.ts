/**
 * Counters read periodically and chained as increase() does: a backend restarted mid-run
 * (its counters back at zero) is counted across the restart. The readings are Tempo 2.0.1's
 * recorded `/metrics` (test/fixtures/tempo-2.0.1/metrics-filtered.txt) with the intake
 * counter set to each reading's value, served over a real socket.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { prometheusIngestDelta, prometheusSnapshotFromText, scrapeBackendCounters, tempoBackendStage, tempoIngestDelta, tempoSnapshotFromText } from '../../readback/backend-self-metrics.ts';
import { sumPrometheusIngestDeltas, sumTempoIngestDeltas } from '../../readback/backend-deltas.ts';
import { CounterChain, type CounterSource } from '../../pipeline/counter-chain.ts';
import { WaterfallProbe } from '../../pipeline/waterfall.ts';
import type { BackendCounterSnapshot, PrometheusIngestDelta, TempoIngestDelta } from '../../readback/backend-self-metrics.ts';
import { fixture } from '../readback/tempo/replay-server.ts';

const RECORDED = fixture('metrics-filtered.txt').toString('utf8');
/** The recorded exposition with the distributor's intake at `spans`, or 503 while "restarting". */
const exposition = (spans: number): string => RECORDED.replace('tempo_distributor_spans_received_total{tenant="single-tenant"} 60', `tempo_distributor_spans_received_total{tenant="single-tenant"} ${spans}`);

/** Tempo received 6,522 spans, restarted (counters back to 0), then received 978 more: 7,500 in all. */
const READINGS: (number | 'down')[] = [0, 2500, 5000, 6522, 'down', 500, 978];

function scripted(): CounterSource<BackendCounterSnapshot, TempoIngestDelta> & { calls: number } {
  const source = {
    name: 'tempo',
    calls: 0,
    read: async (): Promise<BackendCounterSnapshot> => {
      const r = READINGS[Math.min(source.calls++, READINGS.length - 1)];
      if (r === 'down') throw new Error('connection refused');
      return tempoSnapshotFromText(exposition(r));
    },
    delta: (a: BackendCounterSnapshot, b: BackendCounterSnapshot) => tempoIngestDelta(a, b),
    sum: sumTempoIngestDeltas,
    flags: (d: TempoIngestDelta) => d.flags,
  };
  return source;
}

test('a restart between readings is counted across, as increase() does: 7,500 received, one reset, one failed reading', async () => {
  const problems: unknown[] = [];
  const source = scripted();
  const chain = new CounterChain(source, 5, (e) => problems.push(e));
  await chain.read();
  chain.startPolling();
  // Let the timer take every scripted reading (the last one repeats: no increase).
  const deadline = Date.now() + 5000;
  while (source.calls < READINGS.length + 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  const done = await chain.finish();
  assert.ok(done);
  assert.equal(done.delta.spansReceived, 7500);
  assert.equal(done.readings.resets, 1);
  assert.equal(done.readings.failedReadings, 1);
  assert.equal(problems.length, 1, 'the first failed reading is reported');
  assert.deepEqual(tempoBackendStage(done.delta), { name: 'tempo', received: 7500, discarded: {}, refused: {} });
  // Read only before and after, as before: the restart loses what came before it.
  const twoReadings = tempoIngestDelta(tempoSnapshotFromText(exposition(0)), tempoSnapshotFromText(exposition(978)));
  assert.equal(twoReadings.spansReceived, 978);
});

test('the waterfall probe reads a live /metrics endpoint every interval and says how in the spans waterfall', async () => {
  let calls = 0;
  const server = createServer((_req, res) => {
    const r = READINGS[Math.min(calls++, READINGS.length - 1)];
    if (r === 'down') {
      res.writeHead(503);
      res.end('restarting');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(exposition(r));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    await scrapeBackendCounters('tempo', url);
    calls = 0;
    const probe = new WaterfallProbe({ tempo: { url }, intervalMs: 20 });
    await probe.before();
    probe.startPolling();
    const deadline = Date.now() + 5000;
    while (calls < READINGS.length + 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const reading = await probe.after(undefined, undefined, { spansSent: 7500, spansAcknowledged: 7500, spansRejected: 0, spansFailed: 0, spansDropped: 0 });
    probe.close();
    const w = reading.waterfalls[0];
    assert.equal(w.signal, 'spans');
    assert.deepEqual(w.stages.map((s) => [s.stage, s.count]), [['sent', 7500], ['acknowledged', 7500], ['backend_received', 7500]]);
    assert.equal(w.unattributedTotal, 0);
    assert.equal(w.counters?.[0].source, 'tempo');
    assert.equal(w.counters?.[0].resets, 1);
    assert.equal(w.counters?.[0].failedReadings, 1);
    assert.equal(probe.problems.length, 1);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

test('a restart seen by process_start_time_seconds takes the counters from zero, even where they climbed above the reading before', async () => {
  const text = (start: number, appended: number): string => [
    '# TYPE process_start_time_seconds gauge',
    `process_start_time_seconds ${start}`,
    '# TYPE prometheus_tsdb_head_samples_appended_total counter',
    `prometheus_tsdb_head_samples_appended_total{type="float"} ${appended}`,
    '',
  ].join('\n');
  // 1,000 appended, a restart, then 1,500 appended by the new process: 2,500, where increase() alone would say 1,500.
  const readings = [text(100, 0), text(100, 1000), text(200, 1500)];
  let i = 0;
  const source: CounterSource<BackendCounterSnapshot, PrometheusIngestDelta> = {
    name: 'prometheus',
    read: async () => prometheusSnapshotFromText(readings[Math.min(i++, readings.length - 1)]),
    delta: prometheusIngestDelta,
    sum: sumPrometheusIngestDeltas,
    flags: (d) => d.flags,
    restarted: (a, b) => a.processStartTimeS !== b.processStartTimeS,
    empty: () => ({ backend: 'prometheus', samples: [] }),
  };
  const chain = new CounterChain(source, 1000, () => {});
  await chain.read();
  await chain.read();
  const done = await chain.finish();
  assert.equal(done?.delta.samplesAppended, 2500);
  assert.equal(done?.readings.restarts, 1);
  assert.equal(prometheusSnapshotFromText(readings[2]).processStartTimeS, 200);
});
