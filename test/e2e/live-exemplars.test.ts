/**
 * Suite 2e, live: exemplars end to end. tally sends metrics with exemplars and the traces
 * they name through a real OpenTelemetry Collector: metrics by prometheusremotewrite into
 * Prometheus 3 with exemplar storage, traces by OTLP into Jaeger. tally reads the exemplars
 * back (`/api/v1/query_exemplars`), checks each names its point's generated trace, root
 * span and value, and opens the named traces in Jaeger. Without exemplar storage,
 * Prometheus keeps none, and results say so.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runScenario } from '../../pipeline/run.ts';
import { startJaeger, type JaegerServer } from '../peers/jaeger.ts';
import { otelcolConfig, startOtelcol, type OtelcolServer } from '../peers/otelcol.ts';
import { startPrometheus3, type Prometheus3Server } from '../peers/prometheus3.ts';
import { captureStdout, scenarioFile } from './readback-helpers.ts';

function scenario(name: string, collector: OtelcolServer, prom: Prometheus3Server, jaeger: JaegerServer): string {
  return `
name: ${name}
seed: 31
duration: 4s
telemetry:
  endpoint: ${collector.grpcEndpoint}
  protocol: grpc
  exportInterval: 1s
  metrics:
    - { name: tally.requests, instrument: counter, attributes: { route: 3 }, exemplars: { ratio: 1 } }
    - { name: http.latency, instrument: histogram, unit: ms, buckets: [5, 50], attributes: { route: 3 }, exemplars: { ratio: 1 } }
  traces: { ratePerSecond: 25, spansPerTrace: 3, batchDelay: 200ms }
backends:
  prometheus: { url: ${prom.url}, pollInterval: 250ms }
  jaeger: { url: ${jaeger.queryUrl}, sample: 20 }
reconcile: { settle: 2s, maxWait: 10s }
`;
}

async function run(text: string): Promise<any> {
  const { dir, path } = await scenarioFile(text);
  const { results } = await runScenario({ scenarioPath: path, outDir: join(dir, 'out'), stdout: captureStdout(), handleSignals: false });
  return results;
}

describe('live: exemplars through the collector into Prometheus 3, traces into Jaeger', () => {
  let jaeger: JaegerServer;
  const started: { prom: Prometheus3Server; collector: OtelcolServer }[] = [];
  before(async () => {
    jaeger = await startJaeger();
  });
  after(async () => {
    for (const s of started) {
      await s.collector.stop();
      await s.prom.stop();
    }
    await jaeger?.stop();
  });

  async function pipeline(features: string[]): Promise<{ prom: Prometheus3Server; collector: OtelcolServer }> {
    const prom = await startPrometheus3({ features });
    const collector = await startOtelcol({
      config: (ports) => otelcolConfig(ports, {
        processors: { batch: { timeout: '200ms' } },
        exporters: {
          prometheus_remote_write: { endpoint: prom.remoteWriteUrl, resource_to_telemetry_conversion: { enabled: true } },
          otlp_grpc: { endpoint: jaeger.otlpGrpcEndpoint, tls: { insecure: true } },
        },
        pipelines: {
          metrics: { processors: ['batch'], exporters: ['prometheus_remote_write'] },
          traces: { processors: ['batch'], exporters: ['otlp_grpc'] },
        },
      }),
    });
    started.push({ prom, collector });
    return { prom, collector };
  }

  test('every exemplar read back names its point\'s trace, root span and value, and Jaeger opens every named trace', async () => {
    const { prom, collector } = await pipeline(['exemplar-storage']);
    const results = await run(scenario('live-exemplars', collector, prom, jaeger));
    const ex = results.readback.exemplars;
    assert.equal(results.summary.metrics.pointsMissing, 0);
    assert.equal(ex.expected, 6 * 4, 'every point of both metrics carries one (ratio 1)');
    assert.equal(ex.matching, ex.expected);
    assert.equal(ex.wrong, 0, JSON.stringify(ex.samples));
    assert.ok(ex.tracesNamed > 0);
    assert.deepEqual({ ...ex.traceBackend, url: undefined }, { backend: 'jaeger', url: undefined, checked: ex.tracesNamed, found: ex.tracesNamed, withoutRootSpan: 0, missing: 0 });
    assert.equal(results.jaeger.missing, 0, 'the trace sample agrees');
  });

  test('without exemplar storage Prometheus keeps none: every expected exemplar is reported not read back', async () => {
    const { prom, collector } = await pipeline([]);
    const results = await run(scenario('live-no-exemplars', collector, prom, jaeger));
    const ex = results.readback.exemplars;
    assert.equal(ex.read, 0);
    assert.equal(ex.traceBackend.checked, 0);
    assert.ok(results.findings.some((f: { kind: string; count: number }) => f.kind === 'exemplars_not_read_back' && f.count === ex.expected && ex.expected > 0));
  });
});
