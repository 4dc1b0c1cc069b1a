/**
 * Small builders shared by tally's Grafana dashboards (Grafana Foundation SDK): the
 * Prometheus data source variable, PromQL targets (range or instant), and panels with fixed
 * ids, sizes and order so the generated JSON is byte-for-byte deterministic. Pure.
 *
 * @see https://grafana.github.io/grafana-foundation-sdk/
 */
import { DatasourceVariableBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StatPanel } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TimeseriesPanel } from '@grafana/grafana-foundation-sdk/timeseries';
import { PanelBuilder as HeatmapPanel } from '@grafana/grafana-foundation-sdk/heatmap';
import { ReduceDataOptionsBuilder } from '@grafana/grafana-foundation-sdk/common';
import { PromQueryFormat } from '@grafana/grafana-foundation-sdk/prometheus';

/** The data source every panel queries: the dashboard's `datasource` variable. */
export const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };

/** Lowest step of every query: tally pushes one sample per second, so `$__rate_interval` is at least 4 s. */
export const MIN_INTERVAL = '1s';

/** The `datasource` variable (any Prometheus). */
export function datasourceVariable(): DatasourceVariableBuilder {
  return new DatasourceVariableBuilder('datasource').label('Prometheus').type('prometheus');
}

/** One PromQL target. */
export interface Query {
  expr: string;
  legend?: string;
}

function target(q: Query, refId: string, mode: 'range' | 'instant' | 'heatmap'): DataqueryBuilder {
  const t = new DataqueryBuilder().datasource(DATASOURCE).refId(refId).expr(q.expr).interval(MIN_INTERVAL);
  if (q.legend !== undefined) t.legendFormat(q.legend);
  if (mode === 'instant') t.instant();
  else t.range();
  if (mode === 'heatmap') t.format(PromQueryFormat.Heatmap);
  return t;
}

const refIds = (n: number): string[] => Array.from({ length: n }, (_, i) => String.fromCharCode(65 + i));

/** Sizes on Grafana's 24-column grid. */
export interface Size {
  w: number;
  h: number;
}

/** A time series panel of range queries. */
export function timeseries(id: number, title: string, description: string, unit: string, queries: Query[], size: Size = { w: 12, h: 8 }): TimeseriesPanel {
  const p = new TimeseriesPanel().id(id).title(title).description(description).unit(unit).datasource(DATASOURCE).span(size.w).height(size.h);
  refIds(queries.length).forEach((r, i) => p.withTarget(target(queries[i], r, 'range')));
  return p;
}

/** A stat panel of instant queries over the whole time range (`$__range`): the run's figures. */
export function stat(id: number, title: string, description: string, unit: string, queries: Query[], size: Size = { w: 4, h: 4 }): StatPanel {
  const p = new StatPanel().id(id).title(title).description(description).unit(unit).datasource(DATASOURCE).span(size.w).height(size.h)
    .reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false));
  refIds(queries.length).forEach((r, i) => p.withTarget(target(queries[i], r, 'instant')));
  return p;
}

/** A heatmap of a native histogram's rate (Grafana reads native histograms with format `heatmap`). */
export function heatmap(id: number, title: string, description: string, unit: string, q: Query, size: Size = { w: 12, h: 8 }): HeatmapPanel {
  return new HeatmapPanel().id(id).title(title).description(description).unit(unit).datasource(DATASOURCE).span(size.w).height(size.h)
    .withTarget(target(q, 'A', 'heatmap'));
}
