/**
 * The Cilium / node-exporter datapath queries, run on a real Prometheus 2.42 fed by
 * remote write with series of the documented names and labels. This proves the PromQL
 * (increase() with a counter reset, max_over_time(), the groupings) on a live engine and
 * the shaping of its answers; it does not prove them against a live Cilium agent or
 * node-exporter, none of which runs here.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { TallyError } from '../../../core/errors.ts';
import { datapathQueries, readDatapathMetrics } from '../../../readback/cilium/datapath-metrics.ts';
import { type RemoteWriteSeries } from '../../../wire/remote-write.ts';
import { RemoteWriteSender } from '../../../workers/remote-write-sender.ts';
import { startPrometheus, type PrometheusServer } from '../../peers/prometheus.ts';
import { PrometheusApi } from '../../../readback/prometheus/api.ts';
import { prometheusInstantQuery } from '../../../readback/prometheus/instant-query.ts';

const resultsSchema = createRequire(import.meta.url)('../../../reports/results.schema.json') as { $defs: Record<string, unknown> };
/** results.json's `datapathMetrics`, as reports/results.schema.json defines it. */
const validate = new Ajv2020({ allErrors: true, strict: true }).compile({ $defs: resultsSchema.$defs, $ref: '#/$defs/datapathMetrics' });

describe('datapathQueries', () => {
  test('one query per metric over the whole window, grouped by the documented labels', () => {
    const byId = Object.fromEntries(datapathQueries(300).map((q) => [q.id, q.promql]));
    assert.equal(byId.cilium_bpf_map_pressure, 'max by (map_name) (max_over_time(cilium_bpf_map_pressure[300s]))');
    assert.equal(byId.cilium_drop_count_total, 'sum by (reason, direction) (increase(cilium_drop_count_total[300s]))');
    assert.equal(byId.node_nf_conntrack_stat_insert_failed, 'sum by (instance) (increase(node_nf_conntrack_stat_insert_failed[300s]))');
    assert.equal(Object.keys(byId).length, 14);
  });
});

describe('readDatapathMetrics on a real Prometheus 2.42', () => {
  let prom: PrometheusServer;
  let api: PrometheusApi;
  // Samples exactly at the window's ends: increase() then does not extrapolate (2.42 ranges are closed).
  const endMs = Math.floor(Date.now() / 1000) * 1000 - 60_000;
  const startMs = endMs - 300_000;
  const at = [startMs, startMs + 150_000, endMs];
  const series = (name: string, labels: Record<string, string>, values: number[]): RemoteWriteSeries => ({
    name,
    labels,
    samples: values.map((value, i) => ({ value, timestampMs: at[i] })),
  });

  before(async () => {
    prom = await startPrometheus();
    api = new PrometheusApi({ url: prom.url });
    const sender = new RemoteWriteSender({ url: prom.remoteWriteUrl });
    const outcome = await sender.send([
      series('cilium_bpf_map_pressure', { map_name: 'cilium_ct4_global', instance: 'n1' }, [0.1, 0.35, 0.2]),
      series('cilium_bpf_map_pressure', { map_name: 'cilium_ct4_global', instance: 'n2' }, [0.5, 0.4, 0.3]),
      series('cilium_bpf_map_pressure', { map_name: 'cilium_snat_v4_external', instance: 'n1' }, [0.05, 0.05, 0.06]),
      series('cilium_drop_count_total', { reason: 'CT: Map insertion failed', direction: 'EGRESS', instance: 'n1' }, [0, 10, 25]),
      // The agent restarted: 10 before, 4 after.
      series('cilium_drop_count_total', { reason: 'CT: Map insertion failed', direction: 'EGRESS', instance: 'n2' }, [0, 10, 4]),
      series('cilium_drop_count_total', { reason: 'Policy denied', direction: 'INGRESS', instance: 'n1' }, [3, 3, 5]),
      series('cilium_datapath_conntrack_gc_runs_total', { family: 'ipv4', protocol: 'TCP', status: 'completed', instance: 'n1' }, [5, 6, 8]),
      series('cilium_datapath_conntrack_gc_entries', { family: 'ipv4', protocol: 'TCP', status: 'alive', instance: 'n1' }, [100, 300, 200]),
      series('cilium_datapath_conntrack_gc_entries', { family: 'ipv4', protocol: 'TCP', status: 'deleted', instance: 'n1' }, [10, 50, 5]),
      series('node_nf_conntrack_entries', { instance: 'n1' }, [1000, 5000, 3000]),
      series('node_nf_conntrack_entries', { instance: 'n2' }, [200, 100, 50]),
      series('node_nf_conntrack_entries_limit', { instance: 'n1' }, [262144, 262144, 262144]),
      series('node_nf_conntrack_stat_insert_failed', { instance: 'n1' }, [0, 3, 7]),
      series('node_nf_conntrack_stat_drop', { instance: 'n1' }, [0, 0, 2]),
      series('node_nf_conntrack_stat_early_drop', { instance: 'n1' }, [0, 0, 0]),
    ]);
    await sender.close();
    assert.equal(outcome.status, 204, outcome.errorMessage);
  });
  after(async () => {
    await api?.close();
    await prom.stop();
  });

  test('maxima, increases (with a reset) and groupings come back shaped for results.json', async () => {
    const m = await readDatapathMetrics(prometheusInstantQuery(api), startMs / 1000, endMs / 1000);
    assert.equal(m.available, true);
    assert.equal(m.windowSec, 300);
    assert.deepEqual(m.bpfMapPressureMaxRatio, [
      { mapName: 'cilium_ct4_global', maxRatio: 0.5 },
      { mapName: 'cilium_snat_v4_external', maxRatio: 0.06 },
    ]);
    assert.deepEqual(m.drops, [
      // n1: 25; n2: 10 then a reset to 4, so 14.
      { reason: 'CT: Map insertion failed', direction: 'EGRESS', packets: 39 },
      { reason: 'Policy denied', direction: 'INGRESS', packets: 2 },
    ]);
    assert.deepEqual(m.conntrackGc.runs, [{ labels: { family: 'ipv4', protocol: 'TCP', status: 'completed' }, value: 3 }]);
    assert.deepEqual(m.conntrackGc.entriesMax, [
      { labels: { family: 'ipv4', protocol: 'TCP', status: 'alive' }, value: 300 },
      { labels: { family: 'ipv4', protocol: 'TCP', status: 'deleted' }, value: 50 },
    ]);
    assert.deepEqual(m.nodeConntrack.entriesMax, [{ labels: { instance: 'n1' }, value: 5000 }, { labels: { instance: 'n2' }, value: 200 }]);
    assert.deepEqual(m.nodeConntrack.entriesLimit, [{ labels: { instance: 'n1' }, value: 262144 }]);
    assert.deepEqual(m.nodeConntrack.stats, {
      insert_failed: [{ labels: { instance: 'n1' }, value: 7 }],
      drop: [{ labels: { instance: 'n1' }, value: 2 }],
      early_drop: [{ labels: { instance: 'n1' }, value: 0 }],
    });
    assert.ok(validate(m), JSON.stringify(validate.errors));
    assert.equal(validate({ ...m, windowSec: 0, extra: 1 }), false, 'the fragment is not vacuous');
    assert.deepEqual(m.missing, ['node_nf_conntrack_stat_found', 'node_nf_conntrack_stat_invalid', 'node_nf_conntrack_stat_ignore', 'node_nf_conntrack_stat_insert', 'node_nf_conntrack_stat_search_restart']);
  });

  test('a window where nothing was scraped is available: false, every query listed as missing, not an error', async () => {
    const m = await readDatapathMetrics(prometheusInstantQuery(api), startMs / 1000 - 7200, startMs / 1000 - 3600);
    assert.equal(m.available, false);
    assert.ok(validate(m), JSON.stringify(validate.errors));
    assert.equal(m.missing.length, datapathQueries(3600).length);
    assert.deepEqual([m.bpfMapPressureMaxRatio, m.drops, m.nodeConntrack.stats], [[], [], {}]);
  });

  test('an empty window is bad input', async () => {
    await assert.rejects(readDatapathMetrics(prometheusInstantQuery(api), 100, 100), (e) => e instanceof TallyError && e.code === 'TALLY_CONFIG_INVALID');
  });
});
