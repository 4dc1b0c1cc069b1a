import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { PrometheusApi } from '../../../readback/prometheus/api.ts';
import { readBack } from '../../../readback/prometheus/read-samples.ts';
import { missingPoints } from '../../../readback/prometheus/store.ts';
import { layoutMetric, otlpLayoutMetric, tickMs, type ReadbackMetric, type ReadbackSpace } from '../../../readback/prometheus/space.ts';
import { RemoteWriteSender } from '../../../workers/remote-write-sender.ts';
import { seriesAttributes, seriesLayout } from '../../../core/series.ts';
import { syntheticSpace, writeSpace } from '../../../bench/prometheus.ts';
import { deleteSeries, startPrometheus, type PrometheusServer } from '../../peers/prometheus.ts';

describe('layoutMetric chunk selectors (pure)', () => {
  // A tiny evaluator for the two matcher forms layoutMetric writes: a="v" and a=~"v1|v2".
  function matches(selector: string, labels: Record<string, string>): boolean {
    for (const part of selector.match(/[a-z_]+=~?"[^"]*"/g) ?? []) {
      const [, name, op, value] = /^([a-z_]+)(=~?)"(.*)"$/.exec(part) as RegExpExecArray;
      if (op === '=' && labels[name] !== value) return false;
      if (op === '=~' && !new RegExp(`^(?:${value.replaceAll('\\\\', '\\')})$`).test(labels[name] ?? '')) return false;
    }
    return true;
  }

  for (const [attributes, maxSeries] of [
    [{ route: 20, status: 5, pod: 10 }, 1000],
    [{ route: 20, status: 5, pod: 10 }, 60],
    [{ route: 20, status: 5, pod: 10 }, 7],
    [{ route: 3, pod: 1000 }, 250],
    [{ a: 1 }, 1],
  ] as const) {
    test(`${JSON.stringify(attributes)} at most ${maxSeries} per selector: disjoint, covering, bounded`, () => {
      const layout = seriesLayout({ ...attributes });
      const metric = layoutMetric({ name: 'm', layout, commonLabels: { job: 'tally', run: 'r1' }, maxSeriesPerSelector: maxSeries, expectedValue: () => 0 });
      const hits = new Uint8Array(layout.seriesCount);
      for (const selector of metric.selectors) {
        assert.ok(selector.startsWith('job="tally",run="r1"'), selector);
        let n = 0;
        for (let i = 0; i < layout.seriesCount; i++) {
          if (matches(selector, metric.seriesLabels(i))) {
            hits[i]++;
            n++;
          }
        }
        assert.ok(n >= 1 && n <= maxSeries, `${selector} matches ${n}`);
      }
      assert.ok(hits.every((h) => h === 1), 'every series matched by exactly one selector');
    });
  }

  test('seriesIndexOf inverts seriesLabels and refuses foreign label sets', () => {
    const layout = seriesLayout({ route: 4, pod: 3 });
    const metric = layoutMetric({ name: 'm', layout, commonLabels: { job: 'tally' }, maxSeriesPerSelector: 5, expectedValue: () => 0 });
    for (let i = 0; i < layout.seriesCount; i++) {
      assert.equal(metric.seriesIndexOf({ __name__: 'm', ...metric.seriesLabels(i) }), i);
      assert.deepEqual(metric.seriesLabels(i), { job: 'tally', ...seriesAttributes(layout, i) });
    }
    assert.equal(metric.seriesIndexOf({ job: 'tally', route: 'route-1' }), -1);
    assert.equal(metric.seriesIndexOf({ job: 'other', route: 'route-1', pod: 'pod-1' }), -1);
    assert.equal(metric.seriesIndexOf({ job: 'tally', route: 'route-1', pod: 'pod-1', extra: 'x' }), -1);
    assert.equal(metric.seriesIndexOf({ job: 'tally', route: 'route-9', pod: 'pod-1' }), -1);
  });
});

test('otlpLayoutMetric: the Prometheus name and labels an OTLP receiver gives a cumulative counter; delta is a finding', () => {
  const layout = seriesLayout({ 'http.route': 3, status: 2 });
  const resource = { attributes: { 'service.name': 'tally', 'service.instance.id': 'shard-0', 'tally.run.id': 'r1' } };
  const common = { layout, resource, translate: { promoteResourceAttributes: ['tally.run.id'] }, maxSeriesPerSelector: 2, expectedValue: () => 0 };
  const metric = otlpLayoutMetric({ ...common, metric: { name: 'tally.requests', unit: '{request}', kind: 'sum', monotonic: true, temporality: 'cumulative' } }) as ReadbackMetric;
  assert.equal(metric.name, 'tally_requests_total');
  assert.deepEqual(metric.seriesLabels(5), { instance: 'shard-0', job: 'tally', tally_run_id: 'r1', http_route: 'http.route-2', status: 'status-1' });
  assert.equal(metric.runMatchers, 'instance="shard-0",job="tally",tally_run_id="r1"');
  assert.equal(metric.seriesIndexOf({ __name__: 'tally_requests_total', ...metric.seriesLabels(5) }), 5);
  assert.equal(metric.selectors.length, 3);
  const delta = otlpLayoutMetric({ ...common, metric: { name: 'tally.requests', unit: '1', kind: 'sum', monotonic: true, temporality: 'delta' } });
  assert.deepEqual('unsupported' in delta && delta.unsupported, 'delta_temporality');
});

describe('read-back against a real Prometheus', { timeout: 300_000 }, () => {
  let prometheus: PrometheusServer;
  let sender: RemoteWriteSender;
  let api: PrometheusApi;
  const TICKS = 4;
  const INTERVAL_MS = 5000;
  // Whole seconds, two minutes back: inside the head block's appendable window.
  const startMs = Math.floor(Date.now() / 1000) * 1000 - 120_000;

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

  test('10k series × 4 ticks written by remote write reconcile to 0 loss and exact values', async (t) => {
    const { space } = syntheticSpace({
      metricName: 'tally_rb_clean_total', attributes: { route: 20, status: 5, pod: 100 }, commonLabels: { job: 'tally', run: 'clean' },
      ticks: TICKS, startMs, intervalMs: INTERVAL_MS, seed: 7, maxSamplesPerQuery: 12_000,
    });
    const written = await writeSpace(sender, space);
    assert.equal(written.samples, 10_000 * TICKS);
    const { report } = await readBack(api, space);
    t.diagnostic(`queries ${report.queries} for ${space.metrics[0].selectors.length} chunks`);
    assert.deepEqual(
      [report.pointsExpected, report.pointsPresent, report.pointsMissing, report.seriesMissing, report.seriesPartial, report.valueMismatches, report.duplicatePoints, report.unexpected, report.seriesOutsideSelectors],
      [40_000, 40_000, 0, 0, 0, 0, 0, 0, 0],
    );
    assert.equal(report.queries, space.metrics[0].selectors.length + 1);
  });

  test('deleted series, deleted and skipped ticks, planted mismatches and a stray series are found exactly', async () => {
    const { space, layout } = syntheticSpace({
      metricName: 'tally_rb_damaged_total', attributes: { route: 10, status: 5, pod: 20 }, commonLabels: { job: 'tally', run: 'damaged' },
      ticks: TICKS, startMs, intervalMs: INTERVAL_MS, seed: 11, maxSamplesPerQuery: 1000,
    });
    const metric = space.metrics[0];
    const skipped = new Set(['17:2', '400:1', '401:4', '999:3']);
    const planted = new Set(['5:3', '640:4']);
    await writeSpace(sender, space, {
      skip: (s, k) => skipped.has(`${s}:${k}`),
      valueAt: (s, k) => (planted.has(`${s}:${k}`) ? metric.expectedValue(s, k) + 0.5 : metric.expectedValue(s, k)),
      seriesPerRequest: 300,
    });
    // A series of this run that no layout index maps to.
    const stray = await sender.send([{ name: metric.name, labels: { ...metric.seriesLabels(3), pod: 'pod-99' }, samples: [{ value: 1, timestampMs: tickMs(space, 2) }] }]);
    assert.equal(stray.ok, true);

    // Whole series: route-2/status-3 (20 series) and one more; ticks 2–3 of series 250.
    const selector = (i: number) => `${metric.name}{${Object.entries(metric.seriesLabels(i)).map(([k, v]) => `${k}="${v}"`).join(',')}}`;
    await deleteSeries(prometheus.url, [`${metric.name}{run="damaged",route="route-2",status="status-3"}`, selector(777)]);
    await deleteSeries(prometheus.url, [selector(250)], tickMs(space, 2) - 1, tickMs(space, 3) + 1);

    const goneSeries = new Set<number>([777]);
    for (let i = 0; i < layout.seriesCount; i++) {
      const labels = metric.seriesLabels(i);
      if (labels.route === 'route-2' && labels.status === 'status-3') goneSeries.add(i);
    }
    assert.equal(goneSeries.size, 21);
    const expectedMissing: string[] = [];
    for (let s = 0; s < layout.seriesCount; s++) {
      for (let k = 1; k <= TICKS; k++) {
        if (goneSeries.has(s) || skipped.has(`${s}:${k}`) || (s === 250 && (k === 2 || k === 3))) expectedMissing.push(`${s}:${k}`);
      }
    }

    const { report, store } = await readBack(api, space);
    assert.deepEqual([...missingPoints(space, store)].map((p) => `${p.series}:${p.tick}`), expectedMissing);
    assert.equal(report.pointsMissing, expectedMissing.length);
    assert.equal(report.seriesMissing, 21);
    assert.deepEqual(new Set(report.samples.missingSeries.map((s) => s.series)), goneSeries);
    assert.equal(report.seriesPartial, 5); // 17, 250, 400, 401, 999
    assert.deepEqual(report.samples.valueMismatches.map((v) => [v.series, v.tick, Number(v.actual) - Number(v.expected)]), [[5, 3, 0.5], [640, 4, 0.5]]);
    assert.equal(report.valueMismatches, 2);
    assert.equal(report.unexpected, 1);
    assert.equal(report.samples.unexpected[0].reason, 'foreign_attributes');
    assert.equal(report.duplicatePoints, 0);
  });

  test('a sample off the tick grid is unexpected, not placed', async () => {
    const space: ReadbackSpace = {
      metrics: [layoutMetric({ name: 'tally_rb_offtick', layout: seriesLayout({ pod: 2 }), commonLabels: { run: 'off' }, maxSeriesPerSelector: 10, expectedValue: (s, k) => s * 10 + k })],
      ticks: 3, startMs, intervalMs: INTERVAL_MS,
    };
    const series = (s: number, samples: { value: number; timestampMs: number }[]) => ({ name: 'tally_rb_offtick', labels: { run: 'off', pod: `pod-${s}` }, samples });
    const outcome = await sender.send([
      series(0, [1, 2, 3].map((k) => ({ value: k, timestampMs: tickMs(space, k) }))),
      series(1, [{ value: 11, timestampMs: tickMs(space, 1) }, { value: 99, timestampMs: tickMs(space, 1) + 1234 }, { value: 13, timestampMs: tickMs(space, 3) }]),
    ]);
    assert.equal(outcome.ok, true, JSON.stringify(outcome));
    const { report } = await readBack(api, space);
    assert.deepEqual([report.pointsMissing, report.samples.missingPoints], [1, [{ metricIndex: 0, series: 1, tick: 2 }]]);
    assert.deepEqual(report.samples.unexpected.map((u) => u.reason), ['off_tick']);
    assert.equal(report.valueMismatches, 0);
  });
});
