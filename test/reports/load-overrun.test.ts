/**
 * The overrun in results.json: a run whose arrivals started after the planned end rates
 * only what started in the window, says how many started late and by how much
 * (`schedule_overrun`), and is marked saturated. Pure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptyLoadCounts, LOAD_HISTOGRAMS } from '../../core/messages.ts';
import type { PercentilesUs } from '../../core/histogram.ts';
import type { LoadTotals } from '../../reports/aggregate.ts';
import { buildResults } from '../../reports/results.ts';
import { parseScenario } from '../../scenarios/load.ts';
import { planRun } from '../../scenarios/plan.ts';

const empty: PercentilesUs = { count: 0, min: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0 };

function totals(overrun: { started: number; responses: number; lastStartMs: number }, startEpochMs: number): LoadTotals {
  const c = emptyLoadCounts();
  // 2,000/s for 20 s planned: 40,000 arrivals; the server answered all, but 6,449 started after the end.
  c.started = 40_000;
  c.completed = 40_000;
  c.iterationsCompleted = 40_000;
  c.ok = 40_000;
  c.statusClasses['2xx'] = 40_000;
  c.newConnections = 40_000;
  c.stageStarted = { 0: 40_000 - overrun.started };
  c.overrunStarted = overrun.started;
  c.overrunResponses = overrun.responses;
  c.lastOverrunStartMs = overrun.started > 0 ? startEpochMs + overrun.lastStartMs : 0;
  return { ...c, histograms: Object.fromEntries(LOAD_HISTOGRAMS.map((n) => [n, empty])) as LoadTotals['histograms'] };
}

function results(overrun: { started: number; responses: number; lastStartMs: number }) {
  const { scenario } = parseScenario('name: overrun\nduration: 20s\nload: { executor: constant-arrival-rate, rate: 2000, target: "http://127.0.0.1:9/" }\n', 'overrun.yaml');
  const plan = planRun(scenario, 1_700_000_000_000, 2);
  return buildResults({ scenario, plan, complete: true, elapsedMs: 45_300, load: totals(overrun, plan.startEpochMs), cpuRatio: 0.3, eventLoopDelayP99MaxUs: 0, warnings: [], nodeVersion: 'v24', tallyVersion: '0' });
}

test('a run that fell behind: achieved counts arrivals started in the window; the overrun is a finding and saturates', () => {
  const r = results({ started: 6_449, responses: 6_449, lastStartMs: 45_200 });
  const l = r.summary.load;
  assert.equal(l.achievedRatePerSecond, Math.round(((40_000 - 6_449) / 20) * 10) / 10);
  assert.equal(l.stages[0].iterationsStarted, 40_000 - 6_449);
  assert.ok(l.stages[0].ratio < 1);
  assert.deepEqual(l.overrun, { iterationsStarted: 6_449, responses: 6_449, overSeconds: 25.2 });
  const finding = r.findings.find((f: { kind: string }) => f.kind === 'schedule_overrun');
  assert.equal(finding?.count, 6_449);
  assert.equal(r.generator.saturated, true);
  assert.ok(r.generator.reasons.some((reason: string) => reason.includes('6449') || reason.includes('6,449')));
});

test('a run that kept its schedule has no overrun, no finding, and achieved equals the responses over the planned duration', () => {
  const r = results({ started: 0, responses: 0, lastStartMs: 0 });
  assert.equal(r.summary.load.achievedRatePerSecond, 2000);
  assert.equal(r.summary.load.overrun, undefined);
  assert.equal(r.findings.some((f: { kind: string }) => f.kind === 'schedule_overrun'), false);
  assert.equal(r.generator.saturated, false);
});
