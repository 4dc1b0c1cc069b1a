/**
 * Phases that cannot be interrupted by the peer they wait for still end soon after a stop:
 * a stepped computation (the point reconciliation) yields to the event loop between steps
 * and is given up after the grace; a wait on work that never settles is given up after
 * the grace; and the stepped reconciliation gives exactly what the one-shot one does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MetricsLedger } from '../../ledger/ledger.ts';
import { ObservationStore } from '../../reconcile/observations.ts';
import { reconcile, reconcileSteps } from '../../reconcile/points.ts';
import { raceStop, stepUnlessStopped, StopControl } from '../../pipeline/stop.ts';
import type { ExportOutcome } from '../../core/messages.ts';

function* forever(): Generator<void, number, void> {
  for (;;) {
    const until = performance.now() + 5;
    while (performance.now() < until) {
      // A step of work.
    }
    yield;
  }
}

test('a stepped computation yields between steps (a signal could run) and is given up after the stop\'s grace', async () => {
  const stop = new StopControl();
  let timerRan = false;
  setTimeout(() => {
    timerRan = true;
    stop.stop('SIGTERM');
  }, 50);
  const started = performance.now();
  const result = await stepUnlessStopped(forever(), stop, 200);
  assert.equal(result, undefined);
  assert.ok(timerRan, 'the event loop ran between steps');
  assert.ok(performance.now() - started < 50 + 200 + 300, `${Math.round(performance.now() - started)} ms`);
});

test('a wait on work that never settles is given up after the stop\'s grace; settled work is returned', async () => {
  const stop = new StopControl();
  setTimeout(() => stop.stop('SIGINT'), 30);
  const started = performance.now();
  assert.deepEqual(await raceStop(new Promise<never>(() => {}), stop, 100), { done: false });
  assert.ok(performance.now() - started < 30 + 100 + 200);
  assert.deepEqual(await raceStop(Promise.resolve(7), new StopControl(), 100), { done: true, value: 7 });
  await assert.rejects(raceStop(Promise.reject(new Error('x')), new StopControl(), 100));
});

test('the stepped point reconciliation gives exactly what the one-shot one does', () => {
  const ledger = new MetricsLedger([37, 5], 9);
  const store = new ObservationStore([37, 5], 9);
  const outcome = (metricIndex: number, seriesStart: number, seriesEnd: number, tick: number, finalState: ExportOutcome['finalState']): ExportOutcome =>
    ({ metricIndex, seriesStart, seriesEnd, tick, dataPoints: seriesEnd - seriesStart, status: 200, rejectedDataPoints: 0, durationUs: 1, sizeBytes: 1, finalState, attempts: 1 });
  for (let k = 1; k <= 9; k++) {
    ledger.record(outcome(0, 0, 20, k, 'acknowledged'));
    ledger.record(outcome(0, 20, 37, k, k % 3 === 0 ? 'failed' : 'acknowledged'));
    ledger.record(outcome(1, 0, 5, k, 'unsettled'));
    for (let s = 0; s < 37; s += (k % 4) + 1) store.add(0, s, k, 1, 1);
  }
  const steps = reconcileSteps(ledger, store, 10);
  let yields = 0;
  let result;
  for (;;) {
    const step = steps.next();
    if (step.done) {
      result = step.value;
      break;
    }
    yields++;
  }
  assert.ok(yields > 5, `${yields} steps`);
  assert.deepEqual(result, reconcile(ledger, store));
});
