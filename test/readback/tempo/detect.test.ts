import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTempoClient } from '../../../readback/tempo/client.ts';
import { parseBuildInfoJson, parseStatusVersionText } from '../../../readback/tempo/version.ts';
import { CollectorError } from '../../../core/errors.ts';
import { FIXTURE_PROBES, fixture, startReplayServer } from './replay-server.ts';

test('Tempo 2.0.1 (phase A): capabilities decided by probing, empty version notwithstanding', async () => {
  const server = await startReplayServer({ phases: ['A'] });
  const client = createTempoClient({ baseUrl: server.url });
  try {
    const caps = await client.detect(FIXTURE_PROBES);
    assert.deepEqual(server.unmatched, [], 'every probe has a recorded answer');
    assert.deepEqual(caps.buildInfo, { version: null, branch: null, revision: null, goVersion: 'go1.19.8', source: 'status_version' });
    assert.equal(caps.readiness.state, 'ready');
    const presence = Object.fromEntries(Object.entries(caps.endpoints).map(([name, probe]) => [name, probe.presence]));
    assert.deepEqual(presence, {
      echo: 'present',
      buildInfo: 'absent',
      statusVersion: 'present',
      traceByIdV1: 'present',
      traceByIdV2: 'absent',
      search: 'present',
      traceql: 'present',
      tagNamesV1: 'present',
      tagValuesV1: 'present',
      tagValuesV2: 'present',
      metricsQueryRange: 'absent',
    });
    assert.equal(caps.endpoints.traceByIdV2.status, 404);
    assert.equal(caps.endpoints.metricsQueryRange.status, 404);
    assert.equal(caps.endpoints.traceql.status, 400);
    assert.equal(caps.generation, 'traceql');
    assert.equal(client.capabilities, caps);
  } finally {
    await client.close();
    await server.close();
  }
});

test('after the block cut (phase B) the v2 tag route still probes present; readiness from phase A', async () => {
  const server = await startReplayServer({ phases: ['B', 'A'] });
  const client = createTempoClient({ baseUrl: server.url });
  try {
    const caps = await client.detect(FIXTURE_PROBES);
    assert.deepEqual(server.unmatched, []);
    assert.equal(caps.endpoints.tagValuesV2.presence, 'present');
    assert.equal(caps.generation, 'traceql');
  } finally {
    await client.close();
    await server.close();
  }
});

test('a starting server is classified not ready (recorded 503), by ready() and by detect()', async () => {
  const server = await startReplayServer({ phases: ['startup', 'A'] });
  const client = createTempoClient({ baseUrl: server.url });
  try {
    const ready = await client.ready();
    assert.equal(ready.state, 'not_ready');
    assert.equal(ready.status, 503);
    assert.match(ready.bodyText, /^Ingester not ready/);
    const caps = await client.detect(FIXTURE_PROBES);
    assert.equal(caps.readiness.state, 'not_ready');
    // The API still answers while /ready says 503: capabilities are still decided.
    assert.equal(caps.endpoints.traceql.presence, 'present');
  } finally {
    await client.close();
    await server.close();
  }
});

test('probes without a recorded answer stay unknown instead of guessing', async () => {
  const server = await startReplayServer({ phases: ['A'] });
  const client = createTempoClient({ baseUrl: server.url });
  try {
    const caps = await client.detect({ ...FIXTURE_PROBES, traceIdHex: 'ffffffffffffffffffffffffffffffff' });
    assert.equal(caps.endpoints.traceByIdV1.presence, 'unknown');
    assert.equal(caps.endpoints.traceByIdV1.status, 501);
  } finally {
    await client.close();
    await server.close();
  }
});

test('detect throws only when no probe gets any answer (connection refused)', async () => {
  const server = await startReplayServer({ phases: ['A'] });
  const url = server.url;
  await server.close();
  const client = createTempoClient({ baseUrl: url, connectTimeoutMs: 500 });
  try {
    await assert.rejects(client.detect(FIXTURE_PROBES), (e: unknown) =>
      e instanceof CollectorError && e.code === 'TALLY_COLLECTOR_FAILED' && (e.details as { reason: string }).reason === 'connection_refused');
  } finally {
    await client.close();
  }
});

test('status/version text: the recorded empty 2.0.1 build and a released build', () => {
  const empty = parseStatusVersionText(fixture('api/status-version.txt').toString('utf8'));
  assert.deepEqual(empty, { version: null, branch: null, revision: null, goVersion: 'go1.19.8', source: 'status_version' });
  const released = parseStatusVersionText('tempo, version 2.0.1 (branch: HEAD, revision: 2a0b5b9)\n  go version:       go1.19.8\n');
  assert.equal(released.version, '2.0.1');
  assert.equal(released.revision, '2a0b5b9');
});

test('buildinfo JSON (docs shape, not recorded: 2.0.1 has no such route)', () => {
  const info = parseBuildInfoJson('{"version":"2.9.0","revision":"abc","branch":"main","buildDate":"","buildUser":"","goVersion":"go1.24.1"}', 'GET /api/status/buildinfo');
  assert.deepEqual(info, { version: '2.9.0', revision: 'abc', branch: 'main', goVersion: 'go1.24.1', source: 'buildinfo' });
  assert.throws(() => parseBuildInfoJson('404 page not found', 'GET /api/status/buildinfo'),
    (e: unknown) => e instanceof CollectorError && e.code === 'TALLY_COLLECTOR_BAD_REPLY');
});
