import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../../core/clock.ts';
import { decodeHistogram } from '../../core/histogram.ts';
import { summariseVisibility, VisibilityPoller, type VisibilitySource } from '../../reconcile/visibility.ts';
import { PrometheusApi } from '../../readback/prometheus/api.ts';
import { prometheusVisibilitySource } from '../../readback/prometheus/visibility-source.ts';
import { RemoteWriteSender } from '../../workers/remote-write-sender.ts';
import { syntheticSpace, writeSpace } from '../../bench/prometheus.ts';
import { startPrometheus, type PrometheusServer } from '../peers/prometheus.ts';

/**
 * A scripted source (no backend): point (m, s, k) becomes visible at `appearsAtMs(m, s, k)`
 * (Infinity = never). It records the windows it was asked for.
 */
function scriptedSource(clock: { nowMs(): number }, appearsAtMs: (m: number, s: number, k: number) => number, seriesCounts: number[]): VisibilitySource & { windows: [number, number][] } {
  return {
    windows: [],
    async read(window, visible) {
      this.windows.push([window.fromTick, window.toTick]);
      for (let m = 0; m < seriesCounts.length; m++) {
        for (let s = 0; s < seriesCounts[m]; s++) {
          for (let k = window.fromTick; k <= window.toTick; k++) if (appearsAtMs(m, s, k) <= clock.nowMs()) visible(m, s, k);
        }
      }
    },
  };
}

describe('VisibilityPoller with a scripted source and a manual clock', () => {
  const TICK_MS = 1000;
  const refOf = (_m: number, k: number) => k * TICK_MS;

  test('lags, on time / late / lost against the deadlines, and histogram count = visible points', async () => {
    const clock = manualClock(0);
    // Series s of tick k appears (s+1)·300 ms after the tick; series 9 never does.
    const appears = (_m: number, s: number, k: number) => (s === 9 ? Infinity : k * TICK_MS + (s + 1) * 300);
    const source = scriptedSource(clock, appears, [10]);
    const poller = new VisibilityPoller({ seriesCounts: [10], ticks: 3, referenceMs: refOf, source, clock, sleep: async (ms) => clock.advance(ms) });
    const summary = await poller.run({ settleMs: 1000, maxWaitMs: 2500, pollIntervalMs: 100 });
    // Polls every 100 ms from t=0, so a point is stamped exactly when it appears.
    // Lags 300..2700 ms for s = 0..8: ≤ 1000 on time (s 0–2), ≤ 2500 late (s 3–7). s 8 (lag
    // 2700) of ticks 1–2 is seen after its hard deadline (lost, visibleAfterMaxWait); of tick 3
    // it would appear at 5700 ms, after the run's end (3000 + 2500), so never; s 9 never.
    assert.deepEqual(
      [summary.pointsExpected, summary.pointsVisible, summary.onTime, summary.late, summary.lost, summary.visibleAfterMaxWait, summary.pending, summary.aborted],
      [30, 26, 9, 15, 6, 2, 0, false],
    );
    assert.equal(summary.lagUs.count, summary.pointsVisible);
    assert.equal(summary.lagUs.min, 300_000);
    assert.ok(Math.abs(summary.lagUs.max - 2_700_000) <= 2_700, String(summary.lagUs.max));
    const h = decodeHistogram(summary.lagHistogramUs);
    assert.equal(h.totalCount, 26);
    h.destroy();
    // The poll after the last deadline is the last one: bounded.
    assert.ok(clock.nowMs() >= 3 * TICK_MS + 2500 && clock.nowMs() < 3 * TICK_MS + 2500 + 200);
  });

  test('pollOnce reads only due ticks that still miss points; nothing pending means no read', async () => {
    const clock = manualClock(0);
    const source = scriptedSource(clock, (_m, _s, k) => k * TICK_MS, [2]);
    const poller = new VisibilityPoller({ seriesCounts: [2], ticks: 4, referenceMs: refOf, source });
    assert.equal(await poller.pollOnce(500), 0);
    assert.deepEqual(source.windows, []);
    clock.advance(2500);
    assert.equal(await poller.pollOnce(clock.nowMs()), 4);
    clock.advance(1000);
    assert.equal(await poller.pollOnce(clock.nowMs()), 2);
    assert.deepEqual(source.windows, [[1, 2], [3, 3]]);
  });

  test('unexpected (unsent) points are not expected to arrive, and are counted when they do', async () => {
    const clock = manualClock(10_000);
    const source = scriptedSource(clock, () => 0, [3]);
    const poller = new VisibilityPoller({ seriesCounts: [3], ticks: 2, referenceMs: refOf, expected: (_m, s) => s !== 1, source });
    await poller.pollOnce(clock.nowMs());
    const summary = summariseVisibility(poller.state, { settleMs: 100_000, maxWaitMs: 100_000 }, clock.nowMs());
    assert.deepEqual([summary.pointsExpected, summary.pointsVisible, summary.unexpectedVisible, summary.onTime], [4, 4, 2, 4]);
  });

  test('markSent moves the reference: lag is from the send time, and a tick is not read before it', async () => {
    const clock = manualClock(5000);
    const source = scriptedSource(clock, () => 0, [1]);
    const poller = new VisibilityPoller({ seriesCounts: [1], ticks: 2, referenceMs: refOf, source });
    poller.markSent(0, 1, 4000);
    poller.markSent(0, 2, 9000);
    await poller.pollOnce(clock.nowMs());
    clock.advance(4500);
    await poller.pollOnce(clock.nowMs());
    assert.deepEqual(source.windows, [[1, 1], [2, 2]]);
    const summary = summariseVisibility(poller.state, { settleMs: 800, maxWaitMs: 10_000 }, clock.nowMs());
    assert.deepEqual([summary.pointsVisible, summary.negativeLag, summary.onTime, summary.late], [2, 0, 1, 1]);
    assert.deepEqual([summary.lagUs.min, summary.lagUs.max], [500_000, 1_000_000]);
  });

  test('abort ends run early; unseen points inside their deadline are pending, not lost', async () => {
    const clock = manualClock(0);
    const source = scriptedSource(clock, () => Infinity, [2]);
    const controller = new AbortController();
    let sleeps = 0;
    const poller = new VisibilityPoller({
      seriesCounts: [2], ticks: 1, referenceMs: refOf, source, clock,
      sleep: async (ms) => {
        clock.advance(ms);
        if (++sleeps === 3) controller.abort();
      },
    });
    const summary = await poller.run({ settleMs: 1000, maxWaitMs: 60_000, pollIntervalMs: 1000, signal: controller.signal });
    // Three poll calls; the one at t=0 reads nothing (tick 1 is due at 1000 ms) and is not counted.
    assert.deepEqual([summary.aborted, summary.pending, summary.lost, summary.polls], [true, 2, 0, 2]);
  });
});

describe('visibility against a real Prometheus, fed by remote write', { timeout: 180_000 }, () => {
  let prometheus: PrometheusServer;
  let sender: RemoteWriteSender;
  let api: PrometheusApi;

  before(async () => {
    prometheus = await startPrometheus();
    sender = new RemoteWriteSender({ url: prometheus.remoteWriteUrl });
    api = new PrometheusApi({ url: prometheus.url });
  });
  after(async () => {
    await api?.close();
    await sender?.close();
    await prometheus?.stop();
  });

  test('lag from send to first visibility is measured for every point: non-negative, bounded, count = points', async (t) => {
    const TICKS = 5;
    const { space } = syntheticSpace({
      metricName: 'tally_vis_total', attributes: { route: 10, pod: 200 }, commonLabels: { job: 'tally', run: 'vis' },
      ticks: TICKS, startMs: Math.floor(Date.now() / 1000) * 1000 - 60_000, intervalMs: 5000, seed: 3, maxSamplesPerQuery: 5000,
    });
    const source = prometheusVisibilitySource(api, space);
    const poller = new VisibilityPoller({ seriesCounts: [2000], ticks: TICKS, referenceMs: (_m, k) => space.startMs + k * space.intervalMs, source });
    // During the run: mark each tick sent just before it goes out, poll after each.
    let tick = 1;
    poller.markSent(0, tick, Date.now());
    await writeSpace(sender, space, {
      seriesPerRequest: 1000,
      onBlockWritten: async (lastTick) => {
        await poller.pollOnce(Date.now());
        tick = lastTick + 1;
        if (tick <= TICKS) poller.markSent(0, tick, Date.now());
      },
    });
    const maxWaitMs = 30_000;
    const summary = await poller.run({ settleMs: 5000, maxWaitMs, pollIntervalMs: 200 });
    t.diagnostic(`lag µs p50 ${summary.lagUs.p50} p99 ${summary.lagUs.p99} max ${summary.lagUs.max}; polls ${summary.polls}, chunk queries ${source.queries}`);
    assert.deepEqual([summary.pointsExpected, summary.pointsVisible, summary.lost, summary.pending, summary.negativeLag, summary.aborted], [10_000, 10_000, 0, 0, 0, false]);
    assert.equal(summary.lagUs.count, 10_000);
    assert.ok(summary.lagUs.min >= 1 && summary.lagUs.max <= maxWaitMs * 1000, JSON.stringify(summary.lagUs));
    assert.equal(summary.onTime + summary.late, 10_000);
  });
});
