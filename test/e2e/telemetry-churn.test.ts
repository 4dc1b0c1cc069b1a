/**
 * Series churn end to end through `tally run`: what a receiver observes of the series
 * (their `tally.generation` attribute and timestamps) gives exactly the identity starts
 * and ends the model enumerates (`seriesLifecycle`). The observing receiver here is a
 * plain OTLP/HTTP sink written for this test (node:http on loopback, decoded with
 * tally's codec, answering 200 with an empty ExportMetricsServiceResponse): it knows
 * nothing of the model, so the comparison is independent. The scenario's resource
 * attributes are checked at the same sink. The same scenario against the embedded
 * receiver then reconciles with 0 loss and no wrong generation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { metricModel, seriesLifecycle } from '../../core/instruments.ts';
import { decodeMetricsRequest } from '../../wire/otlp/codec.ts';
import { runScenario } from './telemetry-helpers.ts';

const SEED = 41;
const SERIES = 30;
const TICKS = 6;
const INTERVAL_NS = 500_000_000n;

const scenario = (endpoint: string): string => `
name: e2e-churn
seed: ${SEED}
duration: 3s
telemetry:
  ${endpoint}
  exportInterval: 500ms
  resource: { deployment.environment: churn-test, team.size: 7 }
  metrics:
    - { name: churned, instrument: counter, attributes: { k: ${SERIES} }, churn: { ratio: 0.2, everyTicks: 2 } }
`;

interface SeenPoint { slot: number; generation: string; timeUnixNano: bigint }

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

test('churn: the series starts and ends observed at a receiver are exactly the model\'s', async () => {
  const points: SeenPoint[] = [];
  const resources: Record<string, unknown>[] = [];
  const sink = createServer((req, res) => {
    readBody(req).then((body) => {
      const request = decodeMetricsRequest(body, 'protobuf');
      for (const rm of request.resourceMetrics) {
        resources.push(rm.resource.attributes);
        for (const sm of rm.scopeMetrics) {
          for (const m of sm.metrics) {
            for (const p of m.dataPoints) {
              points.push({ slot: Number(String(p.attributes.k).slice(2)), generation: String(p.attributes['tally.generation']), timeUnixNano: p.timeUnixNano });
            }
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': '0' }).end();
    }, (err: Error) => res.writeHead(400).end(err.message));
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = sink.address() as AddressInfo;
    const { results } = await runScenario(scenario(`endpoint: http://127.0.0.1:${port}`));
    assert.equal(results.summary.metrics.pointsAcknowledged, SERIES * TICKS);
    assert.equal(points.length, SERIES * TICKS);
    const startNs = BigInt(Date.parse(results.run.startedAt)) * 1_000_000n;
    // Each identity (slot, generation) seen: its first and last tick.
    const identities = new Map<string, { slot: number; generation: number; first: number; last: number }>();
    for (const p of points) {
      const tick = Number((p.timeUnixNano - startNs) / INTERVAL_NS);
      const key = `${p.slot}/${p.generation}`;
      const id = identities.get(key) ?? { slot: p.slot, generation: Number(p.generation), first: tick, last: tick };
      id.first = Math.min(id.first, tick);
      id.last = Math.max(id.last, tick);
      identities.set(key, id);
    }
    const observedStarts = [...identities.values()].map((i) => `${i.slot}/${i.generation}@${i.first}`).sort();
    const observedEnds = [...identities.values()].filter((i) => i.last < TICKS).map((i) => `${i.slot}/${i.generation}@${i.last}`).sort();
    const expected = seriesLifecycle(metricModel(SEED, 0, SERIES, { instrument: 'counter', temporality: 'cumulative', churn: { ratio: 0.2, everyTicks: 2 } }), TICKS);
    assert.equal(expected.ends.length, 12, '6 rotations at each of the boundaries after ticks 2 and 4');
    assert.deepEqual(observedStarts, expected.starts.map((s) => `${s.slot}/${s.generation}@${s.firstTick}`).sort());
    assert.deepEqual(observedEnds, expected.ends.map((e) => `${e.slot}/${e.generation}@${e.lastTick}`).sort());
    // The scenario's resource attributes arrive beside tally's own.
    for (const r of resources) {
      assert.equal(r['deployment.environment'], 'churn-test');
      assert.equal(Number(r['team.size']), 7);
      assert.equal(r['service.name'], 'tally');
      assert.equal(r['tally.run.id'], results.run.id);
    }
  } finally {
    sink.closeAllConnections();
    await new Promise((r) => sink.close(r));
  }
});

test('churn against the embedded receiver: 0 loss, no wrong generation, no bad start time', async () => {
  const { results } = await runScenario(scenario('protocol: grpc'));
  const m = results.summary.metrics;
  assert.equal(m.pointsReceived, SERIES * TICKS);
  assert.equal(m.pointsMissing, 0);
  assert.equal(m.unexpectedPoints, 0);
  assert.equal(m.valueMismatches, 0);
});
