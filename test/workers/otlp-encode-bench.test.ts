/**
 * The encode benchmark runs end to end with short cases and reports the shape the
 * dispatcher prints. No measured figure is asserted beyond "the fast path is faster",
 * which holds by a wide margin even on a loaded machine.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { encodeBench } from '../../bench/encode.ts';

const BENCH = fileURLToPath(new URL('../../bench/encode.ts', import.meta.url));

test('encodeBench reports official vs fast points/s and spans/s, on equal-size batches', async () => {
  const r = (await encodeBench(['--seconds', '0.05', '--warmup-seconds', '0.02', '--points', '200'])) as Record<string, any>;
  for (const side of ['official', 'fast']) {
    assert.ok(r[side].pointsPerSecond > 0 && r[side].spansPerSecond > 0, side);
  }
  assert.equal(r.batchDataPoints, 200);
  const { counterCumulative, histogramCumulative, spans } = r.cases;
  assert.equal(counterCumulative.fast.bytesPerBatch, counterCumulative.official.bytesPerBatch, 'same request size');
  assert.equal(histogramCumulative.fast.bytesPerBatch, histogramCumulative.official.bytesPerBatch);
  assert.equal(spans.identicalBytes, true, 'the fast span encoder writes the official bytes');
  assert.equal(spans.spansPerBatch, 1000);
  assert.ok(r.ratio > 1 && r.spansRatio > 1, `fast path faster (ratio ${r.ratio}, spans ${r.spansRatio})`);
});

test('encodeBench refuses a bad argument with TALLY_USAGE; the file runs directly with node', async () => {
  await assert.rejects(encodeBench(['--points', '0']), { code: 'TALLY_USAGE' });
  const run = spawnSync(process.execPath, [BENCH, '--seconds', '0.02', '--warmup-seconds', '0.01', '--points', '100'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(JSON.parse(run.stdout).batchDataPoints, 100);
  const bad = spawnSync(process.execPath, [BENCH, '--nope', '1'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(bad.status, 2);
});
