/**
 * Property tests of the metrics data model: values per instrument and temporality,
 * delta ≡ cumulative accumulation, gauge encoding, histogram shapes, exemplars, and the
 * option checks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../core/errors.ts';
import {
  decodeGaugeValue, deltaAccumulation, exemplarAt, explicitBucketValues, exponentialBucketValue, exponentialShape, gaugeValue,
  histogramShape, identityAt, linkExemplarTraces, metricModel, shapeFactor, startTickOf, sumValue, DEFAULT_HISTOGRAM_BOUNDS, type InstrumentOptions, type MetricModel,
} from '../../core/instruments.ts';
import { counterIncrement, cumulativeCounterValue } from '../../core/series.ts';

const SEED = 7;
const SERIES = 200;
const TICKS = 30;

function model(options: InstrumentOptions): MetricModel {
  return metricModel(SEED, 1, SERIES, options);
}

/** The scalar a delta point adds and the cumulative value, per instrument, at local tick j. */
function scalars(m: MetricModel, slot: number, j: number): { sum: number; count: number; buckets: number[] } {
  switch (m.instrument) {
    case 'counter':
    case 'up-down-counter':
      return { sum: sumValue(m, slot, 0, j), count: 0, buckets: [] };
    case 'histogram': {
      const s = histogramShape(m.seed, m.metricIndex, slot, 0, m.bucketValues);
      const f = shapeFactor(m, j);
      return { sum: s.sum * f, count: s.count * f, buckets: s.bucketCounts.map((c) => c * f) };
    }
    default: {
      const s = exponentialShape(m.seed, m.metricIndex, slot, 0, m.scale, m.maxSize);
      const f = shapeFactor(m, j);
      return { sum: s.sum * f, count: s.count * f, buckets: [s.zeroCount * f, ...s.bucketCounts.map((c) => c * f)] };
    }
  }
}

for (const instrument of ['counter', 'up-down-counter', 'histogram', 'exponential-histogram'] as const) {
  test(`${instrument}: the running sum of delta points equals the cumulative point at every tick`, () => {
    const cumulative = model({ instrument, temporality: 'cumulative' });
    const delta = model({ instrument, temporality: 'delta' });
    for (let slot = 0; slot < SERIES; slot += 7) {
      let running = { sum: 0, count: 0, buckets: [] as number[] };
      for (let j = 1; j <= TICKS; j++) {
        const d = scalars(delta, slot, j);
        running = { sum: running.sum + d.sum, count: running.count + d.count, buckets: d.buckets.map((c, b) => c + (running.buckets[b] ?? 0)) };
        assert.deepEqual(running, scalars(cumulative, slot, j), `slot ${slot} tick ${j}`);
      }
    }
  });
}

test('counter: generation 0 keeps core/series.ts (k · inc(i)); up-down changes are signed and bounded', () => {
  const c = model({ instrument: 'counter', temporality: 'cumulative' });
  const u = model({ instrument: 'up-down-counter', temporality: 'delta' });
  let negative = 0;
  for (let slot = 0; slot < SERIES; slot++) {
    assert.equal(sumValue(c, slot, 0, 9), cumulativeCounterValue(SEED, 1, slot, 9));
    assert.equal(sumValue(model({ instrument: 'counter', temporality: 'delta' }), slot, 0, 4), counterIncrement(SEED, 1, slot));
    for (let j = 1; j <= 5; j++) {
      const change = sumValue(u, slot, 0, j);
      assert.ok(Number.isInteger(change) && Math.abs(change) <= 120);
      if (change < 0) negative++;
    }
  }
  assert.ok(negative > 0, 'some up-down changes are negative');
});

test('gauge: one sample names its series and tick, exactly, up to 2^33 series and 2^20 ticks', () => {
  for (const [slot, tick] of [[0, 1], [17, 720], [2 ** 33 - 1, 2 ** 20 - 1], [123_456_789, 99_999]]) {
    assert.deepEqual(decodeGaugeValue(gaugeValue(slot, tick)), { slot, tick });
  }
  assert.equal(decodeGaugeValue(1.5), null);
});

test('histogram: every representative value lies in its bucket; sums are integers for integer-friendly bounds', () => {
  for (const bounds of [[...DEFAULT_HISTOGRAM_BOUNDS], [0.005, 0.01, 0.025, 0.05, 0.1, 1, 2.5, 10], [-5, 0, 3]]) {
    const values = explicitBucketValues(bounds);
    values.forEach((v, b) => {
      if (b > 0) assert.ok(v > bounds[b - 1], `bucket ${b} of ${bounds}: ${v} > lower bound`);
      if (b < bounds.length) assert.ok(v <= bounds[b], `bucket ${b}: ${v} ≤ upper bound`);
    });
  }
  const m = model({ instrument: 'histogram', temporality: 'cumulative' });
  for (let slot = 0; slot < SERIES; slot++) {
    const s = histogramShape(SEED, 1, slot, 0, m.bucketValues);
    assert.ok(s.count >= 1 && Number.isInteger(s.sum) && s.min <= s.max);
    assert.equal(s.count, s.bucketCounts.reduce((a, c) => a + c, 0));
  }
});

test('exponential histogram: representative values lie in their base-2 buckets at every scale 0..8', () => {
  for (let scale = 0; scale <= 8; scale++) {
    const s = exponentialShape(SEED, 1, 5, 0, scale, 10);
    for (let b = 0; b < 10; b++) {
      const index = s.offset + b;
      const v = exponentialBucketValue(scale, index);
      assert.ok(v > 2 ** (index / 2 ** scale) && v <= 2 ** ((index + 1) / 2 ** scale) * (1 + 1e-12), `scale ${scale} index ${index}: ${v}`);
    }
    assert.equal(s.count, s.zeroCount + s.bucketCounts.reduce((a, c) => a + c, 0));
  }
});

test('start times: cumulative and gauge from the identity birth, delta from the previous tick', () => {
  assert.equal(startTickOf(model({ instrument: 'counter', temporality: 'cumulative' }), 0, 9), 0);
  assert.equal(startTickOf(model({ instrument: 'gauge' }), 6, 9), 6);
  assert.equal(startTickOf(model({ instrument: 'histogram', temporality: 'delta' }), 0, 9), 8);
});

test('deltaAccumulation: complete arrival has no offset; a lost delta point leaves its value as a lasting offset', () => {
  for (const instrument of ['counter', 'up-down-counter', 'histogram'] as const) {
    const m = model({ instrument, temporality: 'delta' });
    const id = identityAt(m, 11, 1);
    const all = deltaAccumulation(m, id, 20, () => true);
    assert.equal(all.offset, 0);
    assert.equal(all.missingTicks, 0);
    const lost = deltaAccumulation(m, id, 20, (k) => k !== 6);
    const lostValue = instrument === 'histogram' ? histogramShape(SEED, 1, 11, 0, m.bucketValues).count : sumValue(m, 11, 0, 6);
    assert.equal(lost.offset, lostValue, instrument);
    assert.equal(lost.missingTicks, 1);
    // The offset lasts: it is the same at every later tick.
    assert.equal(deltaAccumulation(m, id, 29, (k) => k !== 6).offset, lostValue);
  }
  assert.throws(() => deltaAccumulation(model({ instrument: 'counter', temporality: 'cumulative' }), identityAt(model({ instrument: 'counter', temporality: 'cumulative' }), 0, 1), 3, () => true), { code: 'TALLY_INTERNAL' });
});

test('exemplars: a seeded share of identities carries one; trace sequences sit above 2^47', () => {
  const m = model({ instrument: 'counter', temporality: 'cumulative', exemplars: { ratio: 0.25 } });
  let carrying = 0;
  for (let slot = 0; slot < SERIES; slot++) {
    const e = exemplarAt(m, identityAt(m, slot, 3), 3);
    if (e === null) continue;
    carrying++;
    assert.ok(e.traceSequence >= 2 ** 47 && e.traceSequence < 2 ** 48);
    assert.equal(e.value, counterIncrement(SEED, 1, slot));
    assert.deepEqual(exemplarAt(m, identityAt(m, slot, 3), 3), e, 'deterministic');
  }
  assert.ok(carrying > SERIES * 0.12 && carrying < SERIES * 0.38, `${carrying} of ${SERIES}`);
  assert.equal(exemplarAt(model({ instrument: 'gauge' }), identityAt(model({ instrument: 'gauge' }), 0, 1), 1), null);
});

test('exemplars linked to generated traces: each names a trace due in its interval, sent by seq mod shardCount', () => {
  // 2.5 traces per tick: tick k's window is [⌈2.5(k−1)⌉, ⌈2.5k⌉); 40 traces cover ticks 1..16.
  const m = linkExemplarTraces(model({ instrument: 'gauge', exemplars: { ratio: 1 } }), { traceCount: 40, shardCount: 3, tracesPerTick: 2.5 });
  const seen = new Set<number>();
  for (let tick = 1; tick <= TICKS; tick++) {
    for (let slot = 0; slot < SERIES; slot++) {
      const e = exemplarAt(m, identityAt(m, slot, tick), tick)!;
      const [lo, hi] = tick <= 16 ? [Math.ceil(2.5 * (tick - 1)), Math.ceil(2.5 * tick)] : [0, 40];
      assert.ok(e.traceSequence >= lo && e.traceSequence < hi, `tick ${tick}: ${e.traceSequence} in [${lo}, ${hi})`);
      assert.equal(e.traceShard, e.traceSequence % 3);
      assert.equal(e.value, gaugeValue(slot, tick));
      if (tick <= 16) seen.add(e.traceSequence);
    }
  }
  assert.equal(seen.size, 40, 'over 200 series, every trace of every window is named');
  assert.throws(() => linkExemplarTraces(m, { traceCount: 0, shardCount: 1, tracesPerTick: 1 }), { code: 'TALLY_INTERNAL' });
  assert.throws(() => linkExemplarTraces(m, { traceCount: 5, shardCount: 1, tracesPerTick: 0 }), { code: 'TALLY_INTERNAL' });
});

test('metricModel: bad options are one ConfigError listing every pointer', () => {
  const cases: [InstrumentOptions, string[]][] = [
    [{ instrument: 'gauge', temporality: 'delta' }, ['/temporality']],
    [{ instrument: 'counter' }, ['/temporality']],
    [{ instrument: 'histogram', temporality: 'delta', buckets: [5, 5] }, ['/buckets']],
    [{ instrument: 'counter', temporality: 'delta', buckets: [1], scale: 3, exemplars: { ratio: 2 } }, ['/buckets', '/scale', '/exemplars/ratio']],
    [{ instrument: 'exponential-histogram', temporality: 'delta', scale: 21, maxSize: 0 }, ['/scale', '/maxSize']],
    [{ instrument: 'counter', temporality: 'delta', churn: { ratio: 1.5, everyTicks: 0 } }, ['/churn/ratio', '/churn/everyTicks']],
  ];
  for (const [options, pointers] of cases) {
    assert.throws(() => metricModel(1, 0, 10, options), (e: unknown) => e instanceof ConfigError && e.code === 'TALLY_CONFIG_INVALID'
      && JSON.stringify(e.problems.map((p) => p.pointer)) === JSON.stringify(pointers));
  }
});
