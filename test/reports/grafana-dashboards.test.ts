import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { MEASUREMENT_METRICS, PROMETHEUS_NAMESPACE } from '../../core/measurement-metrics.ts';
import { panelQueries, substitute } from '../../reports/grafana/queries.ts';
import { tallyDashboard, RUN_SELECTOR } from '../../reports/grafana/tally-dashboard.ts';
import { datapathDashboard } from '../../reports/grafana/datapath-dashboard.ts';
import { dashboardFiles } from './grafana-dashboards.ts';

test('the committed dashboards are what the code generates, byte for byte (npm run gen:dashboards)', () => {
  for (const { file, text } of dashboardFiles()) assert.equal(readFileSync(file, 'utf8'), text, file.pathname);
});

test('generation is deterministic', () => {
  assert.equal(JSON.stringify(tallyDashboard()), JSON.stringify(tallyDashboard()));
  assert.equal(JSON.stringify(datapathDashboard()), JSON.stringify(datapathDashboard()));
});

test('the run dashboard: variables for run id and scenario, every query selects the run, names only from the catalogue', () => {
  const d = tallyDashboard();
  const names = (d.templating?.list ?? []).map((v) => v.name);
  assert.deepEqual(names, ['datasource', 'scenario', 'run_id']);
  const queries = panelQueries(d);
  assert.ok(queries.length >= 30);
  const catalogue = new Set(MEASUREMENT_METRICS.map((m) => m.prometheusName));
  for (const q of queries) {
    assert.ok(q.expr.includes(RUN_SELECTOR), `${q.panelTitle}: ${q.expr}`);
    for (const name of q.expr.match(new RegExp(`${PROMETHEUS_NAMESPACE}[a-z0-9_]+`, 'g')) ?? []) assert.ok(catalogue.has(name), name);
  }
  const ids = (d.panels ?? []).map((p) => (p as { id?: number }).id);
  assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
});

test('the datapath dashboard queries the series the read-back queries, for the chosen nodes', () => {
  const queries = panelQueries(datapathDashboard());
  for (const name of ['cilium_bpf_map_pressure', 'cilium_drop_count_total', 'cilium_datapath_conntrack_gc_runs_total', 'cilium_datapath_conntrack_gc_entries', 'node_nf_conntrack_entries', 'node_nf_conntrack_entries_limit', 'node_nf_conntrack_stat_insert_failed']) {
    assert.ok(queries.some((q) => q.expr.includes(`${name}{instance=~"$instance"}`)), name);
  }
});

test('variables are substituted longest name first', () => {
  assert.equal(substitute('x[$__range] y[$__range_s] ${run_id} $run_id', { __range: '60s', __range_s: '60', run_id: 'r' }), 'x[60s] y[60] r r');
});
