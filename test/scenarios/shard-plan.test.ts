import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseScenario } from '../../scenarios/load.ts';
import { planRun, shardTasks } from '../../scenarios/plan.ts';
import { parseShardFlag, parseStartAt, residuesBelow, shareOfStages, threadLane, threadSeriesSlice } from '../../scenarios/shard-plan.ts';
import { shardOfSeq, traceIdOf, parseTraceIdHex } from '../../core/trace-model.ts';
import { SpanLedger } from '../../ledger/span-ledger.ts';
import { ConfigError, TallyError } from '../../core/errors.ts';

const START = 1_700_000_000_000;
const SCENARIO = `
name: sharded
seed: 7
duration: 3s
load: { executor: ramping-arrival-rate, startRate: 10, stages: [{ duration: 1s, target: 100 }, { duration: 2s, target: 40 }], maxInFlight: 96 }
telemetry:
  exportInterval: 1s
  metrics:
    - { name: a, instrument: counter, attributes: { route: 7, code: 3 } }
    - { name: b, instrument: gauge, attributes: { pod: 5 } }
  traces: { ratePerSecond: 37, spansPerTrace: { min: 1, max: 4 } }
`;

test('--shard i/N parses, and anything else is a usage error', () => {
  assert.deepEqual(parseShardFlag('2/3'), { index: 2, count: 3 });
  for (const bad of ['3/3', '-1/3', '0/0', 'a/b', '1', '0/1001', '1/2/3']) {
    assert.throws(() => parseShardFlag(bad), (e: unknown) => e instanceof ConfigError && e.code === 'TALLY_USAGE', bad);
  }
});

test('arrivals: every j is taken exactly once over shards × threads, whatever each shard\'s thread count', () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 6 }), fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 6, maxLength: 6 }), fc.integer({ min: 0, max: 500 }), (count, threadsOf, arrivals) => {
    const taken = new Uint8Array(arrivals);
    for (let index = 0; index < count; index++) {
      const threads = threadsOf[index];
      let own = 0;
      for (let t = 0; t < threads; t++) {
        const lane = threadLane({ index, count }, t, threads);
        for (let j = lane.first; j < arrivals; j += lane.stride) {
          taken[j]++;
          own++;
          assert.equal(j % count, index, 'shard i takes j ≡ i (mod N)');
        }
      }
      assert.equal(own, residuesBelow(arrivals, index, count));
    }
    assert.ok(taken.every((n) => n === 1));
  }));
});

test('series: the thread slices of every shard cover each series exactly once', () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 300 }), (count, threads, series) => {
    const seen = new Uint8Array(series);
    for (let index = 0; index < count; index++) {
      for (let t = 0; t < threads; t++) {
        const s = threadSeriesSlice(series, { index, count }, t, threads);
        for (let i = s.seriesStart; i < s.seriesEnd; i++) seen[i]++;
      }
    }
    assert.ok(seen.every((n) => n === 1));
  }));
});

test('stage shares add up to the stage counts', () => {
  fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 8 }), fc.integer({ min: 1, max: 7 }), (perStage, count) => {
    const sums = perStage.map(() => 0);
    for (let index = 0; index < count; index++) shareOfStages(perStage, { index, count }).forEach((n, i) => (sums[i] += n));
    assert.deepEqual(sums, perStage);
  }));
});

test("a shard's plan is its share of the run's; the run id, seed and trace ids are the same in every shard", () => {
  const { scenario } = parseScenario(SCENARIO);
  const whole = planRun(scenario, START, 2, { count: 3 });
  const shards = [0, 1, 2].map((index) => planRun(scenario, START, index + 1, { index, count: 3 }));
  const sum = (f: (p: (typeof shards)[number]) => number): number => shards.reduce((a, p) => a + f(p), 0);
  assert.equal(sum((p) => p.load!.iterationsPlanned!), whole.load!.iterationsPlanned);
  assert.deepEqual(shards.map((p) => p.load!.plannedPerStage!).reduce((a, b) => a.map((n, i) => n + b[i])), whole.load!.plannedPerStage);
  assert.equal(sum((p) => p.telemetry!.pointsPlanned), whole.telemetry!.pointsPlanned);
  assert.equal(sum((p) => p.traces!.tracesPlanned), whole.traces!.traceCount);
  for (const p of shards) {
    assert.equal(p.runId, whole.runId);
    assert.equal(p.traces!.model.shardCount, 3, 'trace ids carry the process shard, not the thread');
    assert.equal(p.traces!.traceCount, whole.traces!.traceCount, 'every shard\'s span ledger spans the whole run');
  }
  for (let seq = 0; seq < 20; seq++) assert.equal(parseTraceIdHex(traceIdOf(whole.traces!.model, seq))!.shard, seq % 3);
});

test('shard tasks: lanes, series slices and trace sequences of each thread, and a span ledger that takes their strided ranges', () => {
  const { scenario } = parseScenario(SCENARIO);
  const endpoints = { target: { host: '127.0.0.1', port: 1, path: '/' }, otlpEndpoint: 'http://127.0.0.1:2' };
  const seen = new Map<number, number>();
  const ledger = new SpanLedger(planRun(scenario, START, 1, { count: 3 }).traces!.model, planRun(scenario, START, 1, { count: 3 }).traces!.traceCount);
  for (let index = 0; index < 3; index++) {
    const plan = planRun(scenario, START, 2, { index, count: 3 });
    const tasks = shardTasks(scenario, plan, endpoints, 1000);
    assert.equal(tasks.length, 2);
    for (const [t, task] of tasks.entries()) {
      assert.deepEqual(task.load!.lane, { first: index + 3 * t, stride: 6 });
      assert.equal(task.telemetry!.resourceShard, index);
      const traces = task.traces!;
      assert.equal(traces.idShard, index);
      for (let seq = traces.firstSeq!; seq < traces.traceCount; seq += traces.seqStride!) {
        seen.set(seq, (seen.get(seq) ?? 0) + 1);
        assert.equal(shardOfSeq(traces.model, seq), index);
      }
      // One acknowledged batch of the thread's first three traces, as the thread reports it.
      const first = traces.firstSeq!;
      const last = first + 2 * traces.seqStride!;
      if (last < traces.traceCount) {
        ledger.record({ shard: index, firstSeq: first, firstIndex: 0, lastSeq: last, lastIndex: 0, seqStride: traces.seqStride!, spans: 0, status: 200, rejectedSpans: 0, durationUs: 1, sizeBytes: 1 });
      }
    }
  }
  const traceCount = planRun(scenario, START, 1, { count: 3 }).traces!.traceCount;
  assert.equal(seen.size, traceCount);
  assert.ok([...seen.values()].every((n) => n === 1));
  assert.ok(ledger.totals.tracesSent > 0);
  assert.throws(() => ledger.record({ shard: 0, firstSeq: 0, firstIndex: 0, lastSeq: 5, lastIndex: 0, seqStride: 6, spans: 1, status: 200, rejectedSpans: 0, durationUs: 1, sizeBytes: 1 }), (e: unknown) => e instanceof TallyError && e.code === 'TALLY_INTERNAL');
});

test('an unsharded plan is unchanged: threads are the shards', () => {
  const { scenario } = parseScenario(SCENARIO);
  const plan = planRun(scenario, START, 3);
  assert.equal(plan.shard, undefined);
  assert.equal(plan.traces!.model.shardCount, 3);
  assert.equal(plan.traces!.tracesPlanned, plan.traces!.traceCount);
  const tasks = shardTasks(scenario, plan, { target: { host: '127.0.0.1', port: 1, path: '/' }, otlpEndpoint: 'http://127.0.0.1:2' }, 1000);
  for (const task of tasks) {
    assert.equal(task.load!.lane, undefined);
    assert.equal(task.traces!.firstSeq, undefined);
    assert.equal(task.telemetry!.resourceShard, undefined);
  }
});

test('--start-at takes RFC 3339 with a zone or epoch ms, nothing else', () => {
  assert.equal(parseStartAt('2026-11-21T18:00:00Z'), Date.UTC(2026, 10, 21, 18));
  assert.equal(parseStartAt('2026-11-21T19:00:00.5+01:00'), Date.UTC(2026, 10, 21, 18) + 500);
  assert.equal(parseStartAt('1795372800000'), 1_795_372_800_000);
  for (const bad of ['2026-11-21T18:00:00', 'tomorrow', '12', '2026-13-01T00:00:00Z', '']) {
    assert.throws(() => parseStartAt(bad), (e: unknown) => e instanceof ConfigError && e.code === 'TALLY_USAGE', bad);
  }
});
