/**
 * Suite 2b, live: delta temporality through the real pipeline. tally must say what
 * happened to every delta point — refused, converted and stored exactly, stored with a
 * lasting offset, or dropped after acknowledgement — with the backend's or the collector's
 * own counters as evidence.
 *
 * - Prometheus 3's OTLP receiver without a delta feature refuses delta points (HTTP 500);
 * - with `otlp-deltatocumulative` it converts them; with `otlp-native-delta-ingestion` it
 *   stores them as sent (`deltaIngestion: native`);
 * - the collector's deltatocumulative processor converts them before prometheusremotewrite;
 *   a request lost before the collector then leaves every later running sum of its series
 *   short (the cumulative offset), checked here against Prometheus's own stored values;
 * - without deltatocumulative, the collector's prometheusremotewrite exporter counts them
 *   sent and Prometheus never stores them: dropped after acknowledgement, "lost without a
 *   trace" unless tally says so.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { counterIncrement } from '../../core/series.ts';
import { decodeLedger } from '../../ledger/ledger-file.ts';
import { POINT_ACKNOWLEDGED } from '../../ledger/ledger.ts';
import { runScenario } from '../../pipeline/run.ts';
import { otelcolConfig, startOtelcol, type OtelcolServer } from '../peers/otelcol.ts';
import { startPrometheus3, type Prometheus3Server } from '../peers/prometheus3.ts';
import { captureStdout, scenarioFile } from './readback-helpers.ts';

const TICKS = 4;
const SERIES = 4 + 2 + 2;
const SEED = 23;

function scenario(name: string, endpoint: string, prometheusUrl: string, o: { ingestion?: 'converted' | 'native'; collectorMetricsUrl?: string } = {}): string {
  return `
name: ${name}
seed: ${SEED}
duration: ${TICKS}s
telemetry:
  endpoint: ${endpoint}
  exportInterval: 1s
  maxBatchDataPoints: 4
  retry: { enabled: false }
  metrics:
    - { name: tally.requests, instrument: counter, temporality: delta, attributes: { route: 4 } }
    - { name: tally.inflight, instrument: up-down-counter, temporality: delta, attributes: { pod: 2 } }
    - { name: http.latency, instrument: histogram, temporality: delta, unit: ms, buckets: [5, 50], attributes: { route: 2 } }
backends:
  prometheus: { url: ${prometheusUrl}, pollInterval: 250ms, deltaIngestion: ${o.ingestion ?? 'converted'} }
${o.collectorMetricsUrl === undefined ? '' : `  collector: { metricsUrl: ${o.collectorMetricsUrl} }`}
reconcile: { settle: 2s, maxWait: 6s }
`;
}

async function run(text: string): Promise<{ results: any; outDir: string }> {
  const { dir, path } = await scenarioFile(text);
  return runScenario({ scenarioPath: path, outDir: join(dir, 'out'), stdout: captureStdout(), handleSignals: false });
}

function fate(results: any): Record<string, number> {
  const { sent, notAcknowledged, storedExact, storedWithOffset, storedWrong, droppedAfterAck } = results.readback.deltaFate;
  return { sent, notAcknowledged, storedExact, storedWithOffset, storedWrong, droppedAfterAck };
}

const verdicts = (results: any): string[] => results.readback.deltaFate.byMetric.map((b: { verdict: string }) => b.verdict);

describe('live: delta points into Prometheus 3 directly', () => {
  test('no delta feature: every delta point is refused (HTTP 500), and results say so', async () => {
    const prom = await startPrometheus3({ otlp: { promote_resource_attributes: ['tally.run.id'] } });
    try {
      const { results } = await run(scenario('delta-refused', prom.otlpUrl, prom.url));
      assert.deepEqual(fate(results), { sent: SERIES * TICKS, notAcknowledged: SERIES * TICKS, storedExact: 0, storedWithOffset: 0, storedWrong: 0, droppedAfterAck: 0 });
      assert.deepEqual(verdicts(results), ['refused', 'refused', 'refused']);
      assert.equal(results.summary.metrics.missingByStage.failedExport, SERIES * TICKS);
      assert.deepEqual(results.summary.metrics.statuses, { 500: results.summary.metrics.requests });
    } finally {
      await prom.stop();
    }
  });

  for (const [feature, ingestion] of [['otlp-deltatocumulative', 'converted'], ['otlp-native-delta-ingestion', 'native']] as const) {
    test(`--enable-feature=${feature}: every delta point stored exactly (${ingestion})`, async () => {
      const prom = await startPrometheus3({ features: [feature], otlp: { promote_resource_attributes: ['tally.run.id'] } });
      try {
        const { results } = await run(scenario(`delta-${ingestion}`, prom.otlpUrl, prom.url, { ingestion }));
        assert.deepEqual(fate(results), { sent: SERIES * TICKS, notAcknowledged: 0, storedExact: SERIES * TICKS, storedWithOffset: 0, storedWrong: 0, droppedAfterAck: 0 });
        assert.deepEqual(verdicts(results), ['stored', 'stored', 'stored']);
        assert.equal(results.summary.metrics.valueMismatches, 0);
      } finally {
        await prom.stop();
      }
    });
  }
});

/**
 * An OTLP/HTTP relay in front of the collector that answers 503 to the requests whose
 * sequence number is in `fail` (counted from 0, in arrival order) and forwards the rest:
 * loss before the converter, on the wire.
 */
async function lossyRelay(target: string, fail: ReadonlySet<number>): Promise<{ url: string; failed: number; close(): Promise<void> }> {
  const upstream = new URL(target);
  let seen = 0;
  const relay = { url: '', failed: 0, close: async () => {} };
  const server: Server = createServer((req, res) => {
    const n = seen++;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (fail.has(n)) {
        relay.failed++;
        res.writeHead(503, { 'content-type': 'text/plain' }).end('relay: refused on purpose');
        return;
      }
      const out = request({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      out.on('error', () => res.writeHead(502).end());
      out.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  relay.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  relay.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return relay;
}

describe('live: delta points through the OpenTelemetry Collector into Prometheus 3', () => {
  let prom: Prometheus3Server;
  let converting: OtelcolServer;
  let passing: OtelcolServer;
  before(async () => {
    prom = await startPrometheus3();
    const exporters = { prometheus_remote_write: { endpoint: prom.remoteWriteUrl, resource_to_telemetry_conversion: { enabled: true } } };
    converting = await startOtelcol({
      config: (ports) => otelcolConfig(ports, { processors: { delta_to_cumulative: {} }, exporters, pipelines: { metrics: { processors: ['delta_to_cumulative'], exporters: ['prometheus_remote_write'] } } }),
    });
    passing = await startOtelcol({ config: (ports) => otelcolConfig(ports, { exporters, pipelines: { metrics: { exporters: ['prometheus_remote_write'] } } }) });
  });
  after(async () => {
    await converting?.stop();
    await passing?.stop();
    await prom?.stop();
  });

  test('deltatocumulative: stored exactly; a request lost before the collector leaves its series short afterwards (the offset), matching Prometheus', async () => {
    // Requests 2 and 5 of the run (of at least 3 per tick with 4 points per batch) are refused by the relay.
    const relay = await lossyRelay(converting.httpEndpoint, new Set([2, 5]));
    try {
      const { results, outDir } = await run(scenario('delta-offset', relay.url, prom.url, { collectorMetricsUrl: converting.metricsUrl }));
      const f = fate(results);
      assert.equal(relay.failed, 2);
      assert.ok(f.notAcknowledged > 0);
      assert.ok(f.storedWithOffset > 0, 'later running sums of the damaged series are short');
      assert.equal(f.storedWrong, 0, 'every wrong value is explained by an earlier lost point');
      assert.equal(f.droppedAfterAck, 0);
      assert.equal(f.storedExact + f.storedWithOffset, f.sent - f.notAcknowledged);
      assert.ok(results.findings.some((x: { kind: string }) => x.kind === 'delta_cumulative_offset'));
      // Independently of tally's read-back: each counter series' last stored value is Σ inc over the ticks the collector acknowledged.
      const ledger = decodeLedger(await readFile(join(outDir, 'ledger.bin')));
      const body = new URLSearchParams({ query: `tally_requests_total{tally_run_id="${results.run.id}"}`, time: String(Date.parse(results.run.startedAt) / 1000 + TICKS + 0.5) });
      const reply = (await (await fetch(`${prom.url}/api/v1/query?${body}`)).json()) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
      assert.equal(reply.data.result.length, 4);
      let offsets = 0;
      for (const s of reply.data.result) {
        const series = Number(s.metric.route.split('-')[1]);
        let acknowledged = 0;
        for (let k = 1; k <= TICKS; k++) if (ledger.state(0, series, k) === POINT_ACKNOWLEDGED) acknowledged++;
        assert.equal(Number(s.value[1]), acknowledged * counterIncrement(SEED, 0, series), `route-${series}`);
        if (acknowledged < TICKS) offsets++;
      }
      assert.ok(offsets > 0, 'the relay hit the counter too');
    } finally {
      await relay.close();
    }
  });

  test('no deltatocumulative: the exporter counts them sent, Prometheus never stores them: dropped after acknowledgement', async () => {
    const { results } = await run(scenario('delta-dropped', passing.httpEndpoint, prom.url, { collectorMetricsUrl: passing.metricsUrl }));
    assert.deepEqual(fate(results), { sent: SERIES * TICKS, notAcknowledged: 0, storedExact: 0, storedWithOffset: 0, storedWrong: 0, droppedAfterAck: SERIES * TICKS });
    assert.deepEqual(verdicts(results), ['dropped', 'dropped', 'dropped']);
    // The evidence: the collector's own counters say accepted and exported, Prometheus stored none.
    const w = results.waterfalls.find((x: { signal: string }) => x.signal === 'metric_points');
    const stage = (name: string): number => w.stages.find((s: { stage: string }) => s.stage === name).count;
    assert.equal(stage('collector_accepted'), SERIES * TICKS);
    assert.equal(stage('exported'), SERIES * TICKS);
    assert.equal(stage('stored'), 0);
    assert.ok(results.findings.some((x: { kind: string; count: number }) => x.kind === 'delta_points_dropped_after_ack' && x.count === SERIES * TICKS));
  });
});
