/**
 * The pipeline bench's pure parts: its flags, and tally's steady send rate read from an
 * interval log (from the second its first tick was acknowledged to its last acknowledgement).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePipelineFlags, steadySendRate } from '../../bench/pipeline.ts';

test('flags: a million series by default, both transports; bad values are usage errors', () => {
  const o = parsePipelineFlags([]);
  assert.equal(o.series, 1_000_000);
  assert.deepEqual(o.transports, ['remote-write', 'otlp']);
  assert.deepEqual(parsePipelineFlags(['--series', '5000', '--transport', 'otlp']).transports, ['otlp']);
  assert.throws(() => parsePipelineFlags(['--series', '12']), (e: { code: string }) => e.code === 'TALLY_USAGE');
  assert.throws(() => parsePipelineFlags(['--transport', 'kafka']), (e: { code: string }) => e.code === 'TALLY_USAGE');
});

test('steady rate: the points after the first tick, over the seconds after it', () => {
  const lines = [
    { endMs: 1000, metrics: { pointsAcknowledged: 400 } },
    { endMs: 2000, metrics: { pointsAcknowledged: 700 } }, // 1,100 ≥ 1,000 series: the first tick is in
    { endMs: 3000, metrics: { pointsAcknowledged: 1000 } },
    { endMs: 4000, metrics: { pointsAcknowledged: 900 } },
    { endMs: 5000, metrics: { pointsAcknowledged: 0 } },
  ];
  assert.deepEqual(steadySendRate(lines, 1000), { pointsPerSecond: 950, seconds: 2 });
  assert.deepEqual(steadySendRate(lines.slice(0, 1), 1000), { pointsPerSecond: 0, seconds: 0 });
});
