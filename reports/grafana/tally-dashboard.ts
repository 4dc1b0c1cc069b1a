/**
 * The Grafana dashboard of a tally run, built from tally's own measurement metrics
 * (core/measurement-metrics.ts) with the Grafana Foundation SDK: the run's headline figures
 * (achieved and target rate, requests, errors, data points lost), rate against target,
 * latency heatmaps and percentiles from the native histograms, errors, late starts and
 * dropped iterations, generator saturation, the telemetry ledger and its loss by stage,
 * visibility lag, and the /proc datapath panels (conntrack, SYN retransmits, TIME_WAIT).
 * Variables: `datasource`, `scenario`, `run_id`. Written to k8s/grafana/tally.json by
 * `npm run gen:dashboards`; every panel's PromQL is run against a live Prometheus 3 by
 * test/e2e/dashboard-queries.test.ts. Pure.
 *
 * @see https://grafana.com/docs/grafana/latest/dashboards/variables/add-template-variables/#global-variables ($__range, $__rate_interval)
 * @see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile (native histograms)
 */
import { DashboardBuilder, DashboardLinkBuilder, DashboardLinkType, QueryVariableBuilder, RowBuilder, VariableRefresh, VariableSort } from '@grafana/grafana-foundation-sdk/dashboard';
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { promName } from '../../core/measurement-metrics.ts';
import { DATASOURCE, datasourceVariable, heatmap, stat, timeseries, type Query } from './panels.ts';

/** Dashboard uid (stable, so links and provisioning keep working). */
export const TALLY_DASHBOARD_UID = 'tally-run';
/** The series selector every query carries. */
export const RUN_SELECTOR = 'run_id="$run_id", scenario="$scenario"';

const n = (key: string, extra = ''): string => `${promName(key)}{${RUN_SELECTOR}${extra}}`;
const rate = (key: string, extra = ''): string => `rate(${n(key, extra)}[$__rate_interval])`;
const last = (key: string, extra = ''): string => `last_over_time(${n(key, extra)}[$__range])`;
const quantile = (q: number, key: string): Query => ({ expr: `histogram_quantile(${q}, sum(${rate(key)}))`, legend: `p${q * 100}` });

/** The whole-run figures, each equal to a results.json field (checked live). */
export const HEADLINE_QUERIES = {
  achievedRate: `(sum(${last('requests')}) - sum(${last('requestErrors')})) / max(${last('loadDuration')})`,
  targetRate: `max(${last('targetRate')})`,
  requests: `sum(${last('requests')})`,
  errors: `sum(${last('requestErrors')})`,
  dataPointsSent: `sum(${last('dataPoints')})`,
  lossRatio: `sum(${last('dataPointsMissing')}) / sum(${last('dataPoints')})`,
} as const;

function headline(): StatLike[] {
  return [
    stat(1, 'Achieved rate', 'Requests answered per second of the planned load (results.json summary.load.achievedRatePerSecond).', 'reqps', [{ expr: HEADLINE_QUERIES.achievedRate }]),
    stat(2, 'Target rate', "The plan's average arrival rate (summary.load.targetRatePerSecond).", 'reqps', [{ expr: HEADLINE_QUERIES.targetRate }]),
    stat(3, 'Requests', 'Requests settled (summary.load.requests).', 'short', [{ expr: HEADLINE_QUERIES.requests }]),
    stat(4, 'Errors', 'Transport errors (summary.load.errors.total).', 'short', [{ expr: HEADLINE_QUERIES.errors }]),
    stat(5, 'Data points sent', 'Generated data points sent (summary.metrics.pointsSent).', 'short', [{ expr: HEADLINE_QUERIES.dataPointsSent }]),
    stat(6, 'Data points lost', 'Sent and never read back, as a share (summary.metrics.lossRatio); known once the run has reconciled.', 'percentunit', [{ expr: HEADLINE_QUERIES.lossRatio }]),
  ];
}

type StatLike = ReturnType<typeof stat>;

function load(): ReturnType<typeof timeseries | typeof heatmap>[] {
  return [
    timeseries(10, 'Rate against target', 'Iterations due (the plan), started, and requests answered, per second.', 'reqps', [
      { expr: `sum(${rate('iterationsPlanned')})`, legend: 'target (planned)' },
      { expr: `sum(${rate('iterationsStarted')})`, legend: 'started' },
      { expr: `sum(${rate('requests')}) - sum(${rate('requestErrors')})`, legend: 'achieved' },
    ]),
    timeseries(11, 'Latency percentiles', 'From the intended start (coordinated omission corrected), and service time from the actual start, from the native histograms.', 's', [
      quantile(0.5, 'latency'), quantile(0.99, 'latency'), quantile(0.999, 'latency'),
      { expr: `histogram_quantile(0.99, sum(${rate('serviceTime')}))`, legend: 'service p99' },
    ]),
    heatmap(12, 'Latency heatmap', 'Request latency from the intended start (native histogram).', 's', { expr: `sum(${rate('latency')})` }),
    heatmap(13, 'Connect heatmap', 'TCP connect time of new connections (native histogram).', 's', { expr: `sum(${rate('connect')})` }),
    timeseries(14, 'Connect and time to first byte', 'p50 and p99 from the native histograms.', 's', [
      quantile(0.5, 'connect'), quantile(0.99, 'connect'),
      { expr: `histogram_quantile(0.99, sum(${rate('ttfb')}))`, legend: 'ttfb p99' },
    ]),
    timeseries(15, 'Errors by class and side', 'Transport errors per second by errno class; generator side: EADDRNOTAVAIL, EADDRINUSE, EMFILE, generator_stall.', 'reqps', [
      { expr: `sum by (class, side) (${rate('requestErrors')})`, legend: '{{class}} ({{side}})' },
    ]),
    timeseries(16, 'Responses by status class', 'HTTP responses per second.', 'reqps', [{ expr: `sum by (status_class) (${rate('responses')})`, legend: '{{status_class}}' }]),
    timeseries(17, 'Late starts and dropped iterations', 'Per second: starts later than lateStartThreshold, and due iterations dropped at maxInFlight.', 'reqps', [
      { expr: `sum(${rate('lateStarts')})`, legend: 'late starts' },
      { expr: `sum(${rate('droppedIterations')})`, legend: 'dropped' },
    ]),
    timeseries(18, 'Generator saturation', "The busiest worker thread's CPU (share of a core), the worst event-loop delay p99, and the scheduler lag p99.", 's', [
      { expr: `max(${n('workerCpuMax')})`, legend: 'worker CPU (ratio)' },
      { expr: `max(${n('eventLoopDelayP99')})`, legend: 'event-loop delay p99' },
      { expr: `histogram_quantile(0.99, sum(${rate('schedulerLag')}))`, legend: 'scheduler lag p99' },
    ]),
  ];
}

function telemetry(): ReturnType<typeof timeseries | typeof stat>[] {
  return [
    timeseries(20, 'Data points by final ledger state', 'Generated data points per second, by how their export request settled.', 'short', [
      { expr: `sum by (state) (${rate('dataPoints')})`, legend: '{{state}}' },
    ]),
    timeseries(21, 'OTLP loss by stage', 'Data points not acknowledged, by ledger state (live); and, once the run has reconciled, every missing point by the stage it is attributed to.', 'short', [
      { expr: `sum by (state) (${n('dataPoints', ', state!="acknowledged"')})`, legend: 'not acknowledged: {{state}}' },
      { expr: `sum by (stage) (${n('dataPointsMissing')})`, legend: 'missing: {{stage}}' },
    ]),
    stat(22, 'Visibility lag', 'Send to first visible in the backend, over every point read back (from the final results).', 's', [
      { expr: `histogram_quantile(0.5, sum(${last('visibilityLag')}))`, legend: 'p50' },
      { expr: `histogram_quantile(0.99, sum(${last('visibilityLag')}))`, legend: 'p99' },
    ], { w: 12, h: 8 }),
  ];
}

function datapath(): ReturnType<typeof timeseries>[] {
  return [
    timeseries(30, 'Conntrack', 'Entries and limit (gauges), and insert failures and drops per second, from /proc where the datapath was sampled.', 'short', [
      { expr: `max(${n('datapath:conntrack.count')})`, legend: 'entries' },
      { expr: `max(${n('datapath:conntrack.max')})`, legend: 'limit' },
      { expr: `sum(${rate('datapath:conntrack.insert_failed')})`, legend: 'insert_failed/s' },
      { expr: `sum(${rate('datapath:conntrack.drop')})`, legend: 'drop/s' },
    ], { w: 8, h: 8 }),
    timeseries(31, 'SYN retransmits and listen drops', 'Per second: SYNs retransmitted, accept-queue overflows and SYNs dropped at a listener.', 'short', [
      { expr: `sum(${rate('datapath:netstat.TcpExt.TCPSynRetrans')})`, legend: 'SYN retransmits' },
      { expr: `sum(${rate('datapath:netstat.TcpExt.ListenOverflows')})`, legend: 'listen overflows' },
      { expr: `sum(${rate('datapath:netstat.TcpExt.ListenDrops')})`, legend: 'listen drops' },
    ], { w: 8, h: 8 }),
    timeseries(32, 'TIME_WAIT', 'TCP sockets in TIME_WAIT, and new connections per second (ActiveOpens).', 'short', [
      { expr: `max(${n('datapath:sockstat.TCP.tw')})`, legend: 'TIME_WAIT sockets' },
      { expr: `sum(${rate('datapath:snmp.Tcp.ActiveOpens')})`, legend: 'active opens/s' },
    ], { w: 8, h: 8 }),
  ];
}

/** The run dashboard as Grafana's JSON model. */
export function tallyDashboard(): Dashboard {
  const variable = (name: string, label: string, query: string) => new QueryVariableBuilder(name).label(label).datasource(DATASOURCE).query(query).definition(query)
    .refresh(VariableRefresh.OnTimeRangeChanged).sort(VariableSort.AlphabeticalDesc);
  const b = new DashboardBuilder('tally run').uid(TALLY_DASHBOARD_UID).tags(['tally', 'generated'])
    .description("A tally run from its own measurements (tally_self_*): load, generator, telemetry ledger and datapath. Generated by reports/grafana/tally-dashboard.ts; do not edit by hand.")
    .time({ from: 'now-1h', to: 'now' }).refresh('10s').timezone('browser').editable()
    .withVariable(datasourceVariable())
    .withVariable(variable('scenario', 'Scenario', `label_values(${promName('workerCpuMax')}, scenario)`))
    .withVariable(variable('run_id', 'Run', `label_values(${promName('workerCpuMax')}{scenario="$scenario"}, run_id)`))
    .link(new DashboardLinkBuilder('Cluster datapath').type(DashboardLinkType.Dashboards).tags(['tally-datapath']).keepTime(true).includeVars(false));
  b.withRow(new RowBuilder('The run').id(101));
  for (const p of headline()) b.withPanel(p);
  b.withRow(new RowBuilder('Load and generator').id(102));
  for (const p of load()) b.withPanel(p);
  b.withRow(new RowBuilder('Telemetry under test').id(103));
  for (const p of telemetry()) b.withPanel(p);
  b.withRow(new RowBuilder('Datapath (/proc where tally ran)').id(104));
  for (const p of datapath()) b.withPanel(p);
  return b.build();
}
