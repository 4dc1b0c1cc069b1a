/**
 * The live TIME_WAIT cliff: interval lines whose mean connect call jumps from tens of µs to
 * milliseconds make a `time_wait_connect_cliff` finding (with the TIME_WAIT count when it
 * was read in the sockets' namespace) and a saturation reason; noise does not. Pure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IntervalLine } from '../../reports/aggregate.ts';
import { ConnectCliffWatch } from '../../reports/connect-cliff.ts';
import { emptyLoadCounts, LOAD_HISTOGRAMS } from '../../core/messages.ts';
import type { PercentilesUs } from '../../core/histogram.ts';
import { buildResults } from '../../reports/results.ts';
import { parseScenario } from '../../scenarios/load.ts';
import { planRun } from '../../scenarios/plan.ts';

function line(i: number, meanUs: number | undefined, tw: number): IntervalLine {
  return {
    interval: i,
    endMs: (i + 1) * 1000,
    shards: 2,
    eventLoopDelayP99MaxUs: 0,
    workerCpuMaxRatio: 0,
    datapath: { 'sockstat.TCP.tw': tw },
    ...(meanUs === undefined ? {} : { load: { connectCallUs: { mean: meanUs, max: meanUs * 3 } } as IntervalLine['load'] }),
  };
}

/** 2,000/s for 20 s without reuse: ~15 µs connect calls until ~32,000 TIME_WAIT, then ~4 ms. */
function calibrationRun(timeWaitKnown: boolean): ConnectCliffWatch {
  const watch = new ConnectCliffWatch(timeWaitKnown);
  for (let i = 0; i < 20; i++) watch.observe(line(i, i < 16 ? 12 + (i % 4) * 3 : 3600 + (i - 16) * 400, 2000 * (i + 1)));
  return watch;
}

test('a connect call that rises from ~15 µs to ms with TIME_WAIT is the cliff, dated and counted', () => {
  const cliff = calibrationRun(true).cliff;
  assert.ok(cliff !== undefined);
  assert.equal(cliff.intervals, 4);
  assert.equal(cliff.firstEndMs, 17_000);
  assert.equal(cliff.firstTimeWait, 34_000);
  assert.equal(cliff.baselineUs, 12);
  assert.equal(cliff.worstMeanUs, 4800);
  assert.equal(calibrationRun(false).cliff?.firstTimeWait, null);
});

test('noise and a slow machine are no cliff: under 200 µs, or under 20 × the lowest mean', () => {
  const watch = new ConnectCliffWatch(true);
  for (let i = 0; i < 30; i++) watch.observe(line(i, i % 7 === 0 ? 190 : 20, 1000));
  for (let i = 30; i < 40; i++) watch.observe(line(i, undefined, 1000));
  assert.equal(watch.cliff, undefined);
  const slow = new ConnectCliffWatch(true);
  for (let i = 0; i < 10; i++) slow.observe(line(i, 300 + i * 50, 1000)); // slow from the start, never 20×
  assert.equal(slow.cliff, undefined);
});

test('results carry the cliff as a finding and a saturation reason', () => {
  const { scenario } = parseScenario('name: cliff\nduration: 20s\nload: { executor: constant-arrival-rate, rate: 2000, target: "http://10.0.0.1:80/" }\n', 'cliff.yaml');
  const plan = planRun(scenario, 1_700_000_000_000, 2);
  const c = emptyLoadCounts();
  const empty: PercentilesUs = { count: 0, min: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0 };
  const load = { ...c, histograms: Object.fromEntries(LOAD_HISTOGRAMS.map((n) => [n, empty])) as Record<(typeof LOAD_HISTOGRAMS)[number], PercentilesUs> };
  const r = buildResults({ scenario, plan, complete: true, elapsedMs: 20_000, load, cpuRatio: 0.3, eventLoopDelayP99MaxUs: 0, warnings: [], nodeVersion: 'v24', tallyVersion: '0', connectCliff: calibrationRun(true).cliff });
  const f = r.findings.find((x: { kind: string }) => x.kind === 'time_wait_connect_cliff');
  assert.equal(f?.count, 4);
  assert.equal(r.generator.saturated, true);
  assert.ok(r.generator.reasons.some((x: string) => x.includes('TIME_WAIT')));
});
