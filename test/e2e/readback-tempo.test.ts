/**
 * Tempo read-back, wired into the run, against the genuine Tempo 2.0.1 responses recorded
 * in test/fixtures/tempo-2.0.1 and replayed over a real socket. Not a live Tempo:
 * none runs here. Trace bodies for fixture seqs that were not recorded by id are derived
 * from the recorded ones (test/readback/tempo/derived-traces.ts proves the derivation);
 * ids the recording never saw get Tempo 2.0.1's recorded 404 body.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runScenario } from '../../pipeline/run.ts';
import { verifySample } from '../../pipeline/trace-sample.ts';
import { tempoTraceBackend } from '../../readback/tempo/backend.ts';
import { createTempoClient } from '../../readback/tempo/client.ts';
import { FIXTURE_RUN, fixtureRunExpectation } from '../../readback/tempo/expected.ts';
import { parseTraceId } from '../../readback/tempo/ids.ts';
import { runIdHexOf } from '../../core/trace-model.ts';
import { derivedTraceRoutes } from '../readback/tempo/derived-traces.ts';
import { FIXTURE_PROBES, FIXTURE_WINDOW, fixture, startReplayServer, type ReplayRequest } from '../readback/tempo/replay-server.ts';
import { captureStdout, scenarioFile } from './readback-helpers.ts';

test('a seeded stratified sample of the recorded run verifies span by span: 0 lost, a Wilson interval, and a search count that agrees', async () => {
  const server = await startReplayServer({ phases: ['A'], extraRoutes: derivedTraceRoutes() });
  const client = createTempoClient({ baseUrl: server.url, traceEncoding: 'json' });
  try {
    await client.detect(FIXTURE_PROBES);
    const backend = tempoTraceBackend(client, {
      count: {
        isRunTrace: (hex) => parseTraceId(hex)?.runIdHex === FIXTURE_RUN.runIdHex,
        search: { tags: { 'service.name': 'tally-fixture' }, ...FIXTURE_WINDOW, limit: 50 },
      },
    });
    const result = await verifySample(backend, fixtureRunExpectation(), { seed: 9, firstSeq: 1, lastSeq: 20, sampleSize: 10 }, { expectedTraces: 20 });
    assert.equal(result.sampled, 10);
    assert.equal(result.found, 10);
    assert.deepEqual(result.findings, []);
    assert.equal(result.traceLoss.ratio, 0);
    assert.ok(result.traceLoss.upper > 0 && result.traceLoss.upper < 0.35, `upper ${result.traceLoss.upper}`);
    assert.equal(result.crossCheck.method, 'search');
    assert.equal(result.crossCheck.observedTraces, 20);
    assert.equal(result.crossCheck.consistentWithSample, true);
  } finally {
    await client.close();
    await server.close();
  }
});

test('tally run with backends.tempo: the run\'s sampled trace ids are read by id and reported (here all missing: its traces never reached this Tempo)', async () => {
  const notFound = fixture('api/trace-not-found.txt');
  const server = await startReplayServer({
    phases: ['A'],
    extraRoutes: (r: ReplayRequest) => (/^\/api\/traces\/[0-9a-f]{32}$/.test(r.pathname) ? { status: 404, contentType: 'text/plain; charset=utf-8', body: notFound } : undefined),
  });
  try {
    const { dir, path } = await scenarioFile(`
name: rb-tempo
seed: 4
duration: 2s
telemetry:
  exportInterval: 1s
  traces: { ratePerSecond: 50 }
backends:
  tempo: { url: ${server.url}, sample: 12 }
reconcile: { maxWait: 2s }
`);
    const { results } = await runScenario({ scenarioPath: path, outDir: join(dir, 'out'), stdout: captureStdout(), handleSignals: false });
    const t = results.tempo;
    assert.equal(t.url, server.url);
    assert.equal(t.tracesPlanned, 100);
    assert.equal(t.sampled, 12);
    assert.equal(t.checked, 12);
    assert.equal(t.missing, 12);
    assert.equal(t.traceLoss.ratio, 1);
    assert.ok(t.traceLoss.lower > 0.5 && t.traceLoss.upper === 1, JSON.stringify(t.traceLoss));
    // The sampled ids are the run's: 8 run-id bytes hashed from the run id.
    const runHex = runIdHexOf(results.run.id);
    const asked = server.requests
      .filter((r) => r.pathname.startsWith('/api/traces/'))
      .map((r) => parseTraceId(r.pathname.slice('/api/traces/'.length)))
      .filter((p) => p?.runIdHex === runHex);
    assert.equal(new Set(asked.map((p) => p?.seq)).size, 12);
    assert.ok(asked.every((p) => p !== null && p.seq < 100 && p.shard === p.seq % results.run.workers));
    const finding = results.findings.find((f: { kind: string }) => f.kind === 'tempo_missing_traces');
    assert.equal(finding.count, 12);
  } finally {
    await server.close();
  }
});
