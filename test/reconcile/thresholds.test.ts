/**
 * Threshold evaluation on given figures: every aggregation of every k6 metric type, every
 * operator, and `no_data` when a figure was not measured (never `ok`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { ThresholdSpec } from '../../core/thresholds.ts';
import { aggregate, evaluateThresholds, holds, type FigureValue } from '../../reconcile/thresholds.ts';
import { parseThresholdExpression } from '../../scenarios/thresholds-spec.ts';

function spec(metric: string, kind: ThresholdSpec['kind'], expression: string, abortOnFail = false): ThresholdSpec {
  const p = parseThresholdExpression(expression, kind);
  if ('problem' in p) throw new Error(p.problem);
  return { name: metric, metric, kind, expression, ...p, abortOnFail, delayAbortEvalMs: 0 };
}

const trend: FigureValue = { kind: 'trend', count: 1000, minUs: 100, maxUs: 90_000, meanUs: 1500, percentileUs: (p) => (p === 50 ? 800 : p === 95 ? 4000 : p === 99 ? 20_000 : undefined) };
const FIGURES: Record<string, FigureValue> = {
  latency: trend,
  errors: { kind: 'rate', numerator: 3, denominator: 1000 },
  dropped_iterations: { kind: 'counter', count: 50, elapsedS: 10 },
  achieved_rate: { kind: 'gauge', value: 498.5 },
  empty_trend: { kind: 'trend', count: 0, minUs: 0, maxUs: 0, meanUs: 0, percentileUs: () => undefined },
  no_requests: { kind: 'rate', numerator: 0, denominator: 0 },
};
const figures = (m: string): FigureValue | undefined => FIGURES[m];

test('each aggregation takes its value from the figure, in the figure\'s unit', () => {
  const cases: [string, ThresholdSpec['kind'], string, number | undefined][] = [
    ['latency', 'trend', 'avg<1ms', 1500],
    ['latency', 'trend', 'min<1ms', 100],
    ['latency', 'trend', 'max<1ms', 90_000],
    ['latency', 'trend', 'med<1ms', 800],
    ['latency', 'trend', 'p(95)<1ms', 4000],
    ['latency', 'trend', 'p(99)<1ms', 20_000],
    ['latency', 'trend', 'p(97)<1ms', undefined], // no histogram at hand for this rank
    ['latency', 'trend', 'count>10', 1000],
    ['errors', 'rate', 'rate<0.1', 0.003],
    ['errors', 'rate', 'count<1', 3],
    ['dropped_iterations', 'counter', 'count==0', 50],
    ['dropped_iterations', 'counter', 'rate<1', 5],
    ['achieved_rate', 'gauge', 'value>1', 498.5],
    ['empty_trend', 'trend', 'p(99)<1ms', undefined],
    ['empty_trend', 'trend', 'count==0', 0],
    ['no_requests', 'rate', 'rate==0', undefined],
    ['missing', 'counter', 'count==0', undefined],
  ];
  for (const [metric, kind, expression, expected] of cases) assert.equal(aggregate(spec(metric, kind, expression), figures(metric)), expected, `${metric} ${expression}`);
});

test('ok, breached and no_data, in the order given; no data never passes', () => {
  const results = evaluateThresholds(
    [spec('latency', 'trend', 'p(99)<20ms'), spec('latency', 'trend', 'p(99)<=20ms'), spec('errors', 'rate', 'rate<0.001', true), spec('missing', 'rate', 'rate==0'), spec('achieved_rate', 'gauge', 'value>=498.5')],
    figures,
  );
  assert.deepEqual(results.map((r) => [r.expression, r.status, r.observed]), [
    ['p(99)<20ms', 'breached', 20_000],
    ['p(99)<=20ms', 'ok', 20_000],
    ['rate<0.001', 'breached', 0.003],
    ['rate==0', 'no_data', null],
    ['value>=498.5', 'ok', 498.5],
  ]);
  assert.equal(results[2].abortOnFail, true);
  assert.equal(results[0].unit, 'us');
  assert.equal(results[0].limit, 20_000);
});

test('operators: each holds exactly where its arithmetic says; != is the negation of ==', () => {
  fc.assert(
    fc.property(fc.double({ noNaN: true, min: -1e6, max: 1e6 }), fc.double({ noNaN: true, min: -1e6, max: 1e6 }), (a, b) => {
      assert.equal(holds(a, '<', b), a < b);
      assert.equal(holds(a, '<=', b), a <= b);
      assert.equal(holds(a, '>', b), a > b);
      assert.equal(holds(a, '>=', b), a >= b);
      assert.equal(holds(a, '==', b), !holds(a, '!=', b));
      assert.equal(holds(a, '<', b) || holds(a, '>=', b), true);
    }),
  );
});
