/**
 * The sweep's stages with each step's run injected (no traffic): the search walks to the knee
 * and sweep.json (valid against its schema), sweep.svg, each step's scenario and printed text
 * are written; warm-up runs are unjudged; a saturated step is run again and then counts as
 * generator-limited; an abortOnFail threshold ends only its step; a stop ends the sweep
 * incomplete; a step that fails to run ends it with `error`; and bad flags are refused
 * before any step runs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { CollectorError } from '../../core/errors.ts';
import { runSweep, type SweepOptions } from '../../pipeline/sweep.ts';
import type { RunOptions, RunOutcome } from '../../pipeline/run.ts';
import { StopControl } from '../../pipeline/stop.ts';
import { validateSweepReport, type SweepReport } from '../../reports/sweep-report.ts';
import { renderSweep } from '../../reports/sweep-render.ts';

const SCENARIO = `name: fake
duration: 2s
load: { executor: constant-arrival-rate, rate: 100 }
thresholds: { latency: ['p(99)<50ms'] }
`;

interface Call {
  doc: { duration: string; load: { rate: number }; thresholds?: unknown };
  stop: StopControl;
}

/** A fake run: the rate decides; `saturated(rate, attempt)` says whether the generator saturated. */
function fakeRun(calls: Call[], knee: number, saturated: (rate: number, attempt: number) => boolean = () => false, extra?: (o: RunOptions, call: Call) => void) {
  const attempts = new Map<number, number>();
  return async (o: RunOptions): Promise<RunOutcome> => {
    const doc = parse(readFileSync(o.scenarioPath, 'utf8')) as Call['doc'];
    const call = { doc, stop: o.stop! };
    calls.push(call);
    extra?.(o, call);
    const rate = doc.load.rate;
    const attempt = (attempts.get(rate) ?? 0) + 1;
    if (doc.thresholds !== undefined) attempts.set(rate, attempt);
    const ok = rate <= knee;
    const latencyUs = ok ? 5000 : 80_000;
    const sat = saturated(rate, attempt);
    const results = {
      complete: true,
      run: { elapsedMs: 2000, plannedDurationMs: 2000 },
      summary: { load: { achievedRatePerSecond: Math.min(rate, knee), latencyUs: { p50: latencyUs / 2, p99: latencyUs }, requests: rate * 2, ok: rate * 2 } },
      generator: { saturated: sat, reasons: sat ? ['late starts 5.00% > 1%'] : [] },
      thresholds: { ok, breached: ok ? 0 : 1, noData: 0, results: [{ name: 'latency', metric: 'latency', expression: 'p(99)<50ms', observed: latencyUs, limit: 50_000, unit: 'us', status: ok ? 'ok' : 'breached', abortOnFail: false }] },
    };
    return { outDir: o.outDir!, results };
  };
}

async function sweep(o: Partial<SweepOptions>): Promise<{ dir: string; report: SweepReport; text: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'tally-sweep-'));
  const scenarioPath = join(dir, 'scenario.yaml');
  await writeFile(scenarioPath, o.scenarioPath ?? SCENARIO);
  const parts: string[] = [];
  const { report } = await runSweep({ vary: 'load.rate', from: '100', to: '1000', handleSignals: false, drainMaxMs: 0, readTimeWait: () => 0, stdout: { write: (t: string) => parts.push(t) }, outDir: join(dir, 'out'), ...o, scenarioPath });
  return { dir: join(dir, 'out'), report, text: parts.join('') };
}

test('a monotone system: the knee within the resolution, every file written, the scenario\'s thresholds as the SLO', async () => {
  const calls: Call[] = [];
  const { dir, report, text } = await sweep({ runStep: fakeRun(calls, 333), resolution: '10' });
  assert.equal(report.knee.status, 'found');
  const [pass, fail] = report.knee.bracket!;
  assert.ok(pass <= 333 && 333 < fail && fail - pass <= 10);
  assert.equal(report.slo.source, 'scenario');
  assert.equal(report.complete, true);
  validateSweepReport(JSON.parse(readFileSync(join(dir, 'sweep.json'), 'utf8')));
  assert.match(readFileSync(join(dir, 'sweep.svg'), 'utf8'), /<svg[^>]*>/);
  assert.equal(report.plot, 'sweep.svg');
  for (const s of report.steps) {
    assert.equal((parse(readFileSync(join(dir, s.runDir, 'scenario.yaml'), 'utf8')) as Call['doc']).load.rate, s.value);
    assert.ok(existsSync(join(dir, s.runDir, 'terminal.txt')));
  }
  assert.deepEqual(calls.map((c) => c.doc.load.rate), report.steps.map((s) => s.value));
  assert.match(text, /knee: load\.rate = \d+/);
  assert.equal(renderSweep(report).split('\n').filter((l) => /^\d+ /.test(l)).length, report.steps.length);
});

test('--slo replaces the scenario\'s thresholds; a warm-up run before each step is unjudged and at least the warm-up long', async () => {
  const calls: Call[] = [];
  const { report } = await sweep({ runStep: fakeRun(calls, 550), slo: "{ latency: ['p(99)<60ms'] }", warmup: '3s', steps: '2', to: '200' });
  assert.equal(report.knee.status, 'above-range');
  assert.deepEqual(report.slo, { source: 'flag', thresholds: { latency: ['p(99)<60ms'] } });
  assert.equal(calls.length, 4);
  for (const [i, c] of calls.entries()) {
    if (i % 2 === 0) {
      assert.equal(c.doc.thresholds, undefined, 'the warm-up is not judged');
      assert.equal(c.doc.duration, '3000ms');
    } else assert.deepEqual(c.doc.thresholds, { latency: ['p(99)<60ms'] });
  }
  assert.ok(report.steps.every((s) => s.warmupRunDir !== undefined));
});

test('a step whose generator saturated is run again; saturated every time, the sweep ends generator-limited with a suggestion', async () => {
  const once = await sweep({ runStep: fakeRun([], 333, (rate, attempt) => rate === 325 && attempt === 1), steps: '5' });
  const retried = once.report.steps.find((s) => s.value === 325)!;
  assert.equal(retried.attempts, 2);
  assert.equal(once.report.knee.status, 'found');
  const always = await sweep({ runStep: fakeRun([], 333, (rate) => rate >= 330), steps: '5', retryLimited: 2, resolution: '10' });
  assert.equal(always.report.knee.status, 'generator-limited');
  assert.equal(always.report.knee.knee, 325);
  assert.ok(always.report.knee.bracket![1] >= 330 && always.report.knee.bracket![1] <= 335);
  assert.equal(always.report.steps.find((s) => s.value === 550)!.attempts, 3);
  assert.ok(always.report.knee.suggestion !== undefined);
  assert.match(always.text, /above what this generator can show/);
});

test('an abortOnFail threshold stops its own step only; a stop of the sweep ends it incomplete', async () => {
  const own = await sweep({ runStep: fakeRun([], 333, undefined, (_o, call) => call.stop.stop('threshold:latency p(99)<50ms')) });
  assert.equal(own.report.knee.status, 'found');
  const stop = new StopControl();
  let runs = 0;
  const stopped = await sweep({ stop, runStep: fakeRun([], 333, undefined, () => { if (++runs === 2) stop.stop('SIGINT'); }) });
  assert.equal(stopped.report.complete, false);
  assert.equal(stopped.report.incompleteReason, 'SIGINT');
  assert.equal(stopped.report.steps.length, 2);
  assert.equal(stopped.report.knee.status, 'incomplete');
});

test('a step that fails to run ends the sweep with `error` and its code', async () => {
  const { report } = await sweep({ runStep: async (o) => { if (o.outDir!.includes('02-')) throw new CollectorError('target down'); return fakeRun([], 333)(o); } });
  assert.equal(report.knee.status, 'error');
  assert.equal(report.steps[1].error?.code, 'TALLY_COLLECTOR_FAILED');
});

test('a step\'s scenario.yaml in the sweep directory has its header values redacted; the run got them', async () => {
  const seen: string[] = [];
  const withSecret = SCENARIO.replace('thresholds:', 'telemetry: { exportInterval: 1s, endpoint: "http://127.0.0.1:9", headers: { Authorization: "Bearer s3cret" }, metrics: [{ name: m, instrument: counter, attributes: { a: 2 } }] }\nthresholds:');
  const { dir, report } = await sweep({
    scenarioPath: withSecret,
    steps: '2',
    to: '200',
    runStep: async (o) => {
      seen.push(readFileSync(o.scenarioPath, 'utf8'));
      return fakeRun([], 1000)(o);
    },
  });
  assert.ok(seen.every((t) => t.includes('s3cret')), 'the run read the real header');
  for (const s of report.steps) assert.ok(!readFileSync(join(dir, s.runDir, 'scenario.yaml'), 'utf8').includes('s3cret'));
});

test('refused before any step runs: no SLO, a field that is not a number, an end the scenario cannot take', async () => {
  const never = async (): Promise<RunOutcome> => assert.fail('no step may run');
  const refused = async (o: Partial<SweepOptions>, pointer: string): Promise<void> => {
    await assert.rejects(sweep({ runStep: never, ...o }), (e: { problems: { pointer: string }[] }) => e.problems.some((p) => p.pointer === pointer), pointer);
  };
  await refused({ scenarioPath: 'name: fake\nduration: 2s\nload: { executor: constant-arrival-rate, rate: 100 }\n' }, '/slo');
  await refused({ vary: 'load.executor' }, '/vary');
  await refused({ to: '2000000' }, '/to');
  await refused({ from: 'x' }, '/from');
  await refused({ slo: "{ otlp_loss: ['rate==0'] }" }, '/slo/otlp_loss');
  await refused({ slo: "{ latncy: ['p(99)<50ms'] }" }, '/slo/latncy');
  await refused({ resolution: '0%' }, '/resolution');
});

test('an enforced budget that an end of the range exceeds refuses the sweep before any step runs', async () => {
  const never = async (): Promise<RunOutcome> => assert.fail('no step may run');
  const scenario = `name: fake
duration: 2s
telemetry:
  exportInterval: 1s
  metrics: [{ name: pods.cpu, instrument: gauge, attributes: { pod: 100 } }]
budget: { maxSeries: 1000, enforce: true }
thresholds: { otlp_loss: ['rate==0'] }
`;
  await assert.rejects(sweep({ runStep: never, scenarioPath: scenario, vary: 'telemetry.metrics.0.attributes.pod', from: '100', to: '5000' }), (e: { code: string; problems: { pointer: string; message: string }[] }) => {
    assert.equal(e.code, 'TALLY_CONFIG_INVALID');
    assert.deepEqual(e.problems.map((p) => p.pointer), ['/budget/maxSeries']);
    assert.match(e.problems[0].message, /= 5000 \(--to\)/);
    return true;
  });
});

test('a step cut short by a failure (not a threshold or a signal) is an error, not a failure of the SLO', async () => {
  const calls: Call[] = [];
  const broken = fakeRun(calls, 10_000);
  const { report } = await sweep({
    steps: '3',
    runStep: async (o) => {
      const outcome = await broken(o);
      const rate = calls.at(-1)!.doc.load.rate;
      // A backend that failed mid-run at 550/s: thresholds unmet for want of data, the run incomplete.
      if (rate === 550) return { ...outcome, results: { ...outcome.results, complete: false, incompleteReason: 'TALLY_COLLECTOR_FAILED', thresholds: { ...outcome.results.thresholds, ok: false } } };
      return outcome;
    },
  });
  const failed = report.steps.find((s) => s.value === 550)!;
  assert.equal(failed.verdict, 'error');
  assert.equal(failed.error?.code, 'TALLY_COLLECTOR_FAILED');
  assert.equal(report.knee.status, 'error');
  assert.ok(!report.steps.some((s) => s.verdict === 'fail'), 'nothing counted as breaking the SLO');
});
