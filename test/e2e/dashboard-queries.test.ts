/**
 * Live: every panel query of the generated Grafana dashboards, run through the Prometheus
 * HTTP API with the variables substituted as Grafana would.
 *
 * - The run dashboard (k8s/grafana/tally.json): a real tally run (ramping load on the
 *   embedded target, OTLP telemetry into one Prometheus 3 and read back from it) pushes its
 *   own figures by remote write into another Prometheus 3 (the team's). Each panel's PromQL
 *   must return data over the run, and the headline panels must equal results.json:
 *   achieved rate, target rate, requests, errors, data points sent, loss.
 * - The datapath dashboard (k8s/grafana/tally-datapath.json): that Prometheus fed, by remote
 *   write, series of the documented Cilium and node-exporter names (as
 *   test/readback/cilium/datapath-metrics.test.ts does); each query must return data.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PrometheusApi } from '../../readback/prometheus/api.ts';
import { datapathDashboard } from '../../reports/grafana/datapath-dashboard.ts';
import { panelQueries, rateIntervalSeconds, substitute, type PanelQuery } from '../../reports/grafana/queries.ts';
import { HEADLINE_QUERIES, tallyDashboard } from '../../reports/grafana/tally-dashboard.ts';
import type { RemoteWriteSeries } from '../../wire/remote-write.ts';
import { RemoteWriteSender } from '../../workers/remote-write-sender.ts';
import { startPrometheus3, type Prometheus3Server } from '../peers/prometheus3.ts';
import { liveScenario, runLive } from './measurement-output-helpers.ts';

const STEP_S = 1;

/** Whether a query returns at least one sample over the window (range) or at its end (instant). */
async function returnsData(api: PrometheusApi, q: PanelQuery, expr: string, startMs: number, endMs: number): Promise<number> {
  const r = q.instant ? await api.query(expr, endMs) : await api.queryRange(expr, startMs, endMs, STEP_S * 1000);
  const data = r.data as { result: { value?: unknown; histogram?: unknown; values?: [number, string][]; histograms?: unknown[] }[] };
  let samples = 0;
  for (const s of data.result) {
    if (s.value !== undefined || s.histogram !== undefined) samples++;
    samples += (s.values ?? []).filter(([, v]) => !Number.isNaN(Number(v))).length + (s.histograms?.length ?? 0);
  }
  return samples;
}

async function instant(api: PrometheusApi, expr: string, timeMs: number): Promise<number> {
  const r = await api.query(expr, timeMs);
  const result = (r.data as { result: { value: [number, string] }[] }).result;
  assert.equal(result.length, 1, expr);
  return Number(result[0].value[1]);
}

describe('live: every dashboard query on Prometheus 3', () => {
  let sut: Prometheus3Server;
  let watch: Prometheus3Server;
  let api: PrometheusApi;
  before(async () => {
    [sut, watch] = await Promise.all([startPrometheus3({ otlp: { promote_resource_attributes: ['tally.run.id'] } }), startPrometheus3()]);
    api = new PrometheusApi({ url: watch.url });
  });
  after(async () => {
    await api?.close();
    await Promise.all([sut?.stop(), watch?.stop()]);
  });

  /** Grafana's variables for a run, over its whole time range ending at `endMs`. */
  function runVariables(results: any, endMs: number): Record<string, string> {
    const rangeS = Math.ceil((endMs - Date.parse(results.run.startedAt) + 1000) / 1000);
    return { run_id: results.run.id, scenario: results.run.scenario, __range: `${rangeS}s`, __range_s: String(rangeS), __interval: `${STEP_S}s`, __rate_interval: `${rateIntervalSeconds(STEP_S)}s` };
  }

  /** The headline panels against results.json. */
  async function assertHeadline(results: any, variables: Record<string, string>, endMs: number): Promise<void> {
    const at = async (key: keyof typeof HEADLINE_QUERIES) => instant(api, substitute(HEADLINE_QUERIES[key], variables), endMs);
    const load = results.summary.load;
    assert.equal(Math.round((await at('achievedRate')) * 10) / 10, load.achievedRatePerSecond);
    assert.equal(await at('targetRate'), load.targetRatePerSecond);
    assert.equal(await at('requests'), load.requests);
    assert.equal(await at('errors'), load.errors.total);
    assert.equal(await at('dataPointsSent'), results.summary.metrics.pointsSent);
    assert.equal(await at('lossRatio'), results.summary.metrics.lossRatio);
  }

  test('the run dashboard: each panel returns data, the headline panels equal results.json', async () => {
    const outputs = `  - { type: prometheus-remote-write, url: ${watch.remoteWriteUrl} }`;
    const results = await runLive(liveScenario({ name: 'dash', otlpUrl: sut.otlpUrl, prometheusUrl: sut.url, outputs }));
    assert.equal(results.measurementOutputs[0].finalDelivered, true);
    const startMs = Date.parse(results.run.startedAt) - 1000;
    const endMs = Date.now() + 1000;
    const variables = runVariables(results, endMs);
    const queries = panelQueries(tallyDashboard());
    const empty: string[] = [];
    for (const q of queries) {
      const expr = substitute(q.expr, variables);
      assert.doesNotMatch(expr, /\$/, `${q.panelTitle}: every variable substituted`);
      if ((await returnsData(api, q, expr, startMs, endMs)) === 0) empty.push(`${q.panelTitle} ${q.refId}: ${expr}`);
    }
    assert.deepEqual(empty, []);
    await assertHeadline(results, variables, endMs);
    // The headline panels are the dashboard's own queries, not copies.
    for (const expr of Object.values(HEADLINE_QUERIES)) assert.ok(queries.some((q) => q.expr === expr && q.instant));

    // A run that loses data (the embedded receiver's seeded rejections and failures): the loss panel says how much.
    const lossy = await runLive(liveScenario({ name: 'dash-loss', outputs }));
    assert.ok(lossy.summary.metrics.lossRatio > 0, 'the run lost data points');
    const lossyEnd = Date.now() + 1000;
    await assertHeadline(lossy, runVariables(lossy, lossyEnd), lossyEnd);
    const [byStage] = panelQueries(tallyDashboard()).filter((q) => q.panelTitle === 'OTLP loss by stage' && q.refId === 'B');
    const r = await api.query(substitute(byStage.expr, runVariables(lossy, lossyEnd)), lossyEnd);
    const stages = Object.fromEntries((r.data as unknown as { result: { metric: { stage: string }; value: [number, string] }[] }).result.map((s) => [s.metric.stage, Number(s.value[1])]));
    assert.equal(stages.rejected, lossy.summary.metrics.missingByExportStage.rejected);
    assert.equal(stages.failed_export, lossy.summary.metrics.missingByExportStage.failedExport);
  });

  test('the datapath dashboard: each query returns data on series of the documented names', async () => {
    const endMs = Math.floor(Date.now() / 1000) * 1000;
    const at = [endMs - 60_000, endMs - 30_000, endMs];
    const s = (name: string, labels: Record<string, string>, values: number[]): RemoteWriteSeries => ({ name, labels, samples: values.map((value, i) => ({ value, timestampMs: at[i] })) });
    const series: RemoteWriteSeries[] = [
      s('cilium_bpf_map_pressure', { map_name: 'cilium_ct4_global', instance: 'n1' }, [0.1, 0.35, 0.2]),
      s('cilium_drop_count_total', { reason: 'CT: Map insertion failed', direction: 'EGRESS', instance: 'n1' }, [0, 10, 25]),
      s('cilium_datapath_conntrack_gc_runs_total', { family: 'ipv4', protocol: 'TCP', status: 'completed', instance: 'n1' }, [5, 6, 8]),
      s('cilium_datapath_conntrack_gc_entries', { family: 'ipv4', protocol: 'TCP', status: 'alive', instance: 'n1' }, [100, 300, 200]),
      s('node_nf_conntrack_entries', { instance: 'n1' }, [1000, 5000, 3000]),
      s('node_nf_conntrack_entries_limit', { instance: 'n1' }, [262144, 262144, 262144]),
      ...['found', 'invalid', 'ignore', 'insert', 'insert_failed', 'drop', 'early_drop', 'search_restart'].map((stat, i) => s(`node_nf_conntrack_stat_${stat}`, { instance: 'n1' }, [0, i + 1, 2 * i + 3])),
    ];
    const sender = new RemoteWriteSender({ url: watch.remoteWriteUrl });
    const outcome = await sender.send(series);
    await sender.close();
    assert.equal(outcome.status, 204, outcome.errorMessage);
    const variables = { instance: '.*', __range: '90s', __range_s: '90', __interval: '10s', __rate_interval: '40s' };
    const empty: string[] = [];
    for (const q of panelQueries(datapathDashboard())) {
      const expr = substitute(q.expr, variables);
      if ((await returnsData(api, q, expr, at[0], endMs)) === 0) empty.push(`${q.panelTitle} ${q.refId}: ${expr}`);
    }
    assert.deepEqual(empty, []);
  });
});
