/**
 * The count cross-check is polled: against the recorded Tempo 2.0.1 search body served as a
 * search index that catches up (a live Tempo 2.0.1 answered 592 of 1,000 stored traces on
 * the first search, all of them seconds later), and against scripted counts for each way
 * the polling can end.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../../../core/clock.ts';
import { wilsonInterval } from '../../../reconcile/traces-sample.ts';
import { createTempoClient } from '../../../readback/tempo/client.ts';
import { tempoTraceBackend } from '../../../readback/tempo/backend.ts';
import { FIXTURE_RUN, fixtureRunExpectation } from '../../../readback/tempo/expected.ts';
import { parseTraceId } from '../../../readback/tempo/ids.ts';
import type { TraceBackend, TraceCountReading } from '../../../readback/traces/backend.ts';
import { judgeCount, pollCrossCheck } from '../../../readback/traces/cross-check.ts';
import { verifyTraceSample } from '../../../readback/traces/verify.ts';
import { derivedTraceRoutes } from '../tempo/derived-traces.ts';
import { FIXTURE_PROBES, FIXTURE_WINDOW, fixture, startReplayServer, type ReplayRequest } from '../tempo/replay-server.ts';

/** A limit no recording has, so the catching-up route below answers the search. */
const LIMIT = 51;

test('Tempo replay: a search index that catches up is polled until its count agrees with the sample (12, then 20 of 20)', async () => {
  const recorded = JSON.parse(fixture('api/search-tags-service-start-end.json').toString('utf8')) as { traces: unknown[]; metrics: unknown };
  let searches = 0;
  const derived = derivedTraceRoutes();
  const server = await startReplayServer({
    phases: ['A'],
    extraRoutes: (r: ReplayRequest) => {
      if (r.pathname !== '/api/search') return derived(r);
      searches++;
      // The recorded body, as an index that has seen 12 traces on the first search and all 20 from the second on.
      const traces = searches === 1 ? recorded.traces.slice(8) : recorded.traces;
      return { status: 200, contentType: 'application/json', body: Buffer.from(JSON.stringify({ traces, metrics: recorded.metrics })) };
    },
  });
  const client = createTempoClient({ baseUrl: server.url, traceEncoding: 'json' });
  try {
    await client.detect(FIXTURE_PROBES);
    const backend = tempoTraceBackend(client, {
      count: { isRunTrace: (hex) => parseTraceId(hex)?.runIdHex === FIXTURE_RUN.runIdHex, search: { tags: { 'service.name': 'tally-fixture' }, ...FIXTURE_WINDOW, limit: LIMIT } },
    });
    const seqs = Array.from({ length: 20 }, (_, i) => i + 1);
    const result = await verifyTraceSample(backend, fixtureRunExpectation(), { seqs, crossCheck: { expectedTraces: 20, maxWaitMs: 10_000, pollIntervalMs: 50 } });
    assert.equal(result.missing, 0);
    assert.equal(result.crossCheck.method, 'search');
    assert.equal(result.crossCheck.readings, 2);
    assert.equal(result.crossCheck.observedTraces, 20);
    assert.equal(result.crossCheck.consistentWithSample, true);
    assert.equal(result.crossCheck.settledBy, 'consistent');
    assert.equal(searches, 2);

    // Read once, as before: the lagging index is taken for 40 % loss, which the sample contradicts.
    searches = 0;
    const once = await verifyTraceSample(backend, fixtureRunExpectation(), { seqs, crossCheck: { expectedTraces: 20 } });
    assert.equal(once.crossCheck.readings, 1);
    assert.equal(once.crossCheck.observedTraces, 12);
    assert.equal(once.crossCheck.consistentWithSample, false);
    assert.equal(once.crossCheck.settledBy, 'max_wait');
  } finally {
    await client.close();
    await server.close();
  }
});

/** A backend whose count follows a script, one reading per call (the last repeats). */
function scripted(counts: (number | 'unsupported' | 'server_error')[]): TraceBackend & { calls: number } {
  const backend = {
    name: 'tempo' as const,
    calls: 0,
    traceById: () => Promise.reject(new Error('not used')),
    countRunTraces: async (): Promise<TraceCountReading> => {
      const c = counts[Math.min(backend.calls, counts.length - 1)];
      backend.calls++;
      if (typeof c === 'number') return { ok: true, method: 'search', observedTraces: c, lowerBound: false, endpoint: 'GET /api/search' };
      return { ok: false, failure: { reason: c, status: c === 'unsupported' ? null : 500, bodyText: '' }, endpoint: 'GET /api/search' };
    },
  };
  return backend;
}

/** Poll with a manual clock that the sleeps advance. */
function poll(backend: TraceBackend, interval = wilsonInterval(0, 100), options: { maxWaitMs?: number; stableForMs?: number } = {}) {
  const clock = manualClock();
  return pollCrossCheck(backend, { expectedTraces: 1000, pollIntervalMs: 1000, clock, sleep: async (ms) => clock.advance(ms), ...options }, interval);
}

test('a count that stays below the sample\'s interval is final once it has not moved for stableForMs, and disagrees', async () => {
  const backend = scripted([500, 592, 592, 592, 592, 592, 592, 592]);
  const result = await poll(backend, undefined, { maxWaitMs: 60_000, stableForMs: 3000 });
  assert.equal(result.settledBy, 'stable');
  assert.equal(result.consistentWithSample, false);
  assert.equal(result.observedTraces, 592);
  assert.equal(result.readings, 5, '592 first read at 1 s, unchanged for 3 s at the fifth reading');
  assert.equal(result.waitedMs, 4000);
});

test('a count still moving when maxWait passes ends the polling with max_wait', async () => {
  const backend = scripted([100, 200, 300, 400, 500, 600, 700, 800]);
  const result = await poll(backend, undefined, { maxWaitMs: 3500, stableForMs: 10_000 });
  assert.equal(result.settledBy, 'max_wait');
  assert.equal(result.readings, 4);
  assert.equal(result.observedTraces, 400);
  assert.equal(result.consistentWithSample, false);
});

test('transient count failures (5xx) are polled through; a refused query (unsupported) stops at once; no count at all is method none', async () => {
  const flaky = await poll(scripted(['server_error', 'server_error', 1000]), undefined, { maxWaitMs: 10_000 });
  assert.equal(flaky.settledBy, 'consistent');
  assert.equal(flaky.readings, 3);
  const absent = scripted(['unsupported']);
  const unsupported = await poll(absent, undefined, { maxWaitMs: 10_000 });
  assert.equal(unsupported.method, 'none');
  assert.equal(unsupported.settledBy, 'no_count');
  assert.equal(absent.calls, 1);
  const none = await pollCrossCheck({ name: 'jaeger', traceById: () => Promise.reject(new Error('not used')) }, { expectedTraces: 5 }, wilsonInterval(0, 5));
  assert.equal(none.method, 'none');
  assert.equal(none.readings, 0);
});

test('judgeCount: a truncated search contradicts the sample only below its interval', () => {
  const interval = wilsonInterval(10, 100);
  assert.equal(judgeCount(1000, 900, false, interval).consistentWithSample, true);
  assert.equal(judgeCount(1000, 990, false, interval).consistentWithSample, false);
  assert.equal(judgeCount(1000, 990, true, interval).consistentWithSample, false, 'at least 990 seen: loss at most 1 %, below the interval');
  assert.equal(judgeCount(1000, 500, true, interval).consistentWithSample, true, 'at least 500 seen: loss up to 50 % may hold 10 %');
  assert.equal(judgeCount(1000, 500, false, wilsonInterval(0, 0)).consistentWithSample, null);
});
