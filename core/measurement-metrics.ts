/**
 * The catalogue of tally's own measurements as metrics: what the measurement output pushes
 * while a run goes (Prometheus remote write or OTLP), what the Grafana dashboards query, and
 * the results.json field each one matches. Pure data.
 *
 * Names follow the OpenTelemetry semantic conventions on the OTLP side (dotted, lowercase,
 * UCUM units: `s`, `1`, `{iteration}`) and come out, through the OpenTelemetry → Prometheus
 * translation Prometheus applies (unit suffix, `_total` on monotonic sums, `_ratio` on unit
 * `1` gauges), as the Prometheus names given here; the remote-write form sends those names
 * directly, so both forms land on the same series. A test checks each name against
 * wire/prometheus-translate.ts.
 *
 * Telling them apart from the telemetry under test: every name is in the `tally.self.` /
 * `tally_self_` namespace, which the scenario loader refuses for generated metrics; the
 * resource is `service.name = tally-self` (so `job="tally-self"`), and the run is labelled
 * `run_id`, never the generated series' `tally_run_id`.
 *
 * @see https://opentelemetry.io/docs/specs/semconv/general/metrics/
 * @see https://prometheus.io/docs/practices/naming/
 * @see https://opentelemetry.io/docs/specs/otel/compatibility/prometheus_and_openmetrics/#otlp-metric-points-to-prometheus
 */
import { InternalError } from './errors.ts';

/** How a metric is pushed: a cumulative monotonic sum, a gauge, or a cumulative (native / exponential) histogram. */
export type MeasurementKind = 'counter' | 'gauge' | 'histogram';

/** When a value is known: at every interval line, or only from the final results. */
export type MeasurementWhen = 'interval' | 'final';

/** One metric of the catalogue. */
export interface MeasurementMetric {
  /** Key used in snapshots (core/measurement-output.ts). */
  readonly key: string;
  /** OTLP metric name. */
  readonly otlpName: string;
  /** UCUM unit; `''` for none. */
  readonly unit: string;
  readonly kind: MeasurementKind;
  /** The name Prometheus stores (either form). */
  readonly prometheusName: string;
  /** Labels besides {@link COMMON_LABELS}, each of bounded cardinality. */
  readonly labels: readonly string[];
  readonly description: string;
  /** The results.json field(s) its value at the end of the run equals (for histograms: the count). */
  readonly resultsField: string;
  readonly when: MeasurementWhen;
}

/** The OTLP name prefix of every measurement metric. */
export const OTLP_NAMESPACE = 'tally.self.';
/** The Prometheus name prefix of every measurement metric; refused for generated metrics. */
export const PROMETHEUS_NAMESPACE = 'tally_self_';
/** `service.name` of the measurement output's OTLP resource (Prometheus: `job`). */
export const MEASUREMENT_SERVICE_NAME = 'tally-self';
/** Labels on every measurement series: the run, the scenario's name, and this process's shard of the run. */
export const COMMON_LABELS = ['run_id', 'scenario', 'shard'] as const;
/** `job` label the remote-write form sets, as Prometheus derives it from the OTLP form's `service.name`. */
export const JOB_LABEL = 'job';

/** Bounded label values. */
export const ERROR_SIDES = ['generator', 'target'] as const;
export const LEDGER_STATES = ['acknowledged', 'rejected', 'failed', 'dropped', 'unsettled'] as const;
export const LOSS_STAGES = ['rejected', 'failed_export', 'dropped_by_queue', 'unsettled', 'lost_after_ack'] as const;

const m = (
  key: string, otlpName: string, unit: string, kind: MeasurementKind, prometheusName: string,
  labels: readonly string[], when: MeasurementWhen, resultsField: string, description: string,
): MeasurementMetric => ({ key, otlpName: `${OTLP_NAMESPACE}${otlpName}`, unit, kind, prometheusName: `${PROMETHEUS_NAMESPACE}${prometheusName}`, labels, description, resultsField, when });

/** The load, the generator and the telemetry ledger. */
const CORE_METRICS: readonly MeasurementMetric[] = [
  m('iterationsPlanned', 'iterations.planned', '{iteration}', 'counter', 'iterations_planned_total', [], 'interval', 'summary.load.iterationsPlanned', 'Iterations the open-model schedule had due by the end of each interval.'),
  m('iterationsStarted', 'iterations.started', '{iteration}', 'counter', 'iterations_started_total', [], 'interval', 'summary.load.iterationsStarted', 'Iterations started.'),
  m('stageIterationsStarted', 'stage.iterations.started', '{iteration}', 'counter', 'stage_iterations_started_total', ['stage'], 'interval', 'summary.load.stages[stage].iterationsStarted', 'Iterations started, by the executor stage their actual start fell in (constant and ramping arrival rates).'),
  m('iterationsCompleted', 'iterations.completed', '{iteration}', 'counter', 'iterations_completed_total', [], 'interval', 'summary.load.iterationsCompleted', 'Iterations whose requests all settled.'),
  m('requests', 'requests', '{request}', 'counter', 'requests_total', [], 'interval', 'summary.load.requests', 'Requests settled: a response or an error.'),
  m('responses', 'responses', '{response}', 'counter', 'responses_total', ['status_class'], 'interval', 'summary.load.statusClasses[status_class]', 'Responses by HTTP status class.'),
  m('requestErrors', 'request.errors', '{error}', 'counter', 'request_errors_total', ['class', 'side'], 'interval', 'summary.load.errors.byClass[class] (sum by side: errors.generatorSide, errors.targetSide)', 'Requests that ended in a transport error, by errno class and by side (generator: EADDRNOTAVAIL, EADDRINUSE, EMFILE, generator_stall).'),
  m('newConnections', 'new_connections', '{connection}', 'counter', 'new_connections_total', [], 'interval', 'summary.load.newConnections', 'Requests that opened a new connection.'),
  m('lateStarts', 'late_starts', '{iteration}', 'counter', 'late_starts_total', [], 'interval', 'summary.load.lateStarts', 'Iterations that started more than lateStartThreshold after their intended start.'),
  m('droppedIterations', 'dropped_iterations', '{iteration}', 'counter', 'dropped_iterations_total', [], 'interval', 'summary.load.droppedIterations', 'Due iterations dropped at maxInFlight.'),
  m('vusActive', 'vus.active', '{vu}', 'gauge', 'vus_active', [], 'interval', 'summary.load.vusActiveMax (largest value)', 'Closed model: VUs active in the interval.'),
  m('inFlightMax', 'iterations.in_flight.max', '{iteration}', 'gauge', 'iterations_in_flight_max', [], 'interval', 'summary.load.maxInFlight (largest value)', 'Most iterations in flight in the interval, summed over worker threads.'),
  m('targetRate', 'target.rate', '{iteration}/s', 'gauge', 'target_rate_per_second', [], 'interval', 'summary.load.targetRatePerSecond', "Open model: the plan's average arrival rate."),
  m('loadDuration', 'load.planned_duration', 's', 'gauge', 'load_planned_duration_seconds', [], 'interval', 'the length summary.load.achievedRatePerSecond is computed over (run.plannedDurationMs, or the stages\' total)', "The load's planned length (the executor's stages, or the run's duration)."),
  m('latency', 'request.latency', 's', 'histogram', 'request_latency_seconds', [], 'interval', 'summary.load.latencyUs.count', 'Request latency from the intended start (coordinated omission corrected).'),
  m('serviceTime', 'request.service_time', 's', 'histogram', 'request_service_time_seconds', [], 'interval', 'summary.load.serviceUs.count', 'Request time from the actual start.'),
  m('connect', 'connect.duration', 's', 'histogram', 'connect_duration_seconds', [], 'interval', 'summary.load.connectUs.count', 'TCP connect time of new connections.'),
  m('ttfb', 'request.time_to_first_byte', 's', 'histogram', 'request_time_to_first_byte_seconds', [], 'interval', 'summary.load.ttfbUs.count', 'Request written to first response byte.'),
  m('schedulerLag', 'scheduler.lag', 's', 'histogram', 'scheduler_lag_seconds', [], 'interval', 'summary.load.schedulerLagUs.count', "Each start's lag behind its intended start (generator health)."),
  m('workerCpuMax', 'generator.worker_cpu.max', '1', 'gauge', 'generator_worker_cpu_max_ratio', [], 'interval', 'generator.workerCpuRatios (largest)', 'CPU of the busiest worker thread over the interval, as a share of one core.'),
  m('eventLoopDelayP99', 'generator.event_loop_delay.p99', 's', 'gauge', 'generator_event_loop_delay_p99_seconds', [], 'interval', 'generator.eventLoopDelayP99MaxUs (largest)', "The worst worker thread's event-loop delay p99 in the interval."),
  m('saturated', 'generator.saturated', '', 'gauge', 'generator_saturated', [], 'final', 'generator.saturated (1 = true)', 'Whether the generator was saturated (late starts over 1 %, CPU over 90 %).'),
  m('dataPoints', 'telemetry.data_points', '{data_point}', 'counter', 'telemetry_data_points_total', ['state'], 'interval', 'summary.metrics.points{Acknowledged,Rejected,Failed,Dropped,Unsettled} (sum: pointsSent)', 'Generated data points sent, by the final ledger state of their export request.'),
  m('spans', 'telemetry.spans', '{span}', 'counter', 'telemetry_spans_total', ['state'], 'interval', 'summary.traces.spans{Acknowledged,Rejected,Failed,Dropped,Unsettled} (sum: spansSent)', 'Generated spans sent, by the final ledger state of their export request.'),
  m('dataPointsMissing', 'telemetry.data_points.missing', '{data_point}', 'counter', 'telemetry_data_points_missing_total', ['stage'], 'final', 'summary.metrics.missingByExportStage[stage] (sum: pointsMissing)', 'Sent data points not read back, by the stage the loss is attributed to.'),
  m('spansMissing', 'telemetry.spans.missing', '{span}', 'counter', 'telemetry_spans_missing_total', ['stage'], 'final', 'summary.traces.missingByStage[stage] (sum: spansMissing)', 'Sent spans not read back, by the stage the loss is attributed to.'),
  m('visibilityLag', 'telemetry.visibility_lag', 's', 'histogram', 'telemetry_visibility_lag_seconds', [], 'final', 'readback.visibility.lagUs.count', 'Time from send to first visible in the backend, of every point seen.'),
];

/** The /proc datapath counters of each interval line, by their intervals.ndjson key. */
export const DATAPATH_COUNTER_METRICS: readonly (readonly [string, string])[] = [
  ['conntrack.insert_failed', 'conntrack_insert_failed'],
  ['conntrack.drop', 'conntrack_drop'],
  ['conntrack.early_drop', 'conntrack_early_drop'],
  ['conntrack.search_restart', 'conntrack_search_restart'],
  ['conntrack.invalid', 'conntrack_invalid'],
  ['snmp.Tcp.ActiveOpens', 'tcp_active_opens'],
  ['snmp.Tcp.AttemptFails', 'tcp_attempt_fails'],
  ['snmp.Tcp.EstabResets', 'tcp_estab_resets'],
  ['snmp.Tcp.RetransSegs', 'tcp_retrans_segs'],
  ['netstat.TcpExt.ListenOverflows', 'tcp_listen_overflows'],
  ['netstat.TcpExt.ListenDrops', 'tcp_listen_drops'],
  ['netstat.TcpExt.TCPSynRetrans', 'tcp_syn_retrans'],
  ['netstat.TcpExt.TW', 'tcp_time_wait_finished'],
];
/** The /proc datapath gauges of each interval line (values at its end). */
export const DATAPATH_GAUGE_METRICS: readonly (readonly [string, string])[] = [
  ['conntrack.count', 'conntrack_entries'],
  ['conntrack.max', 'conntrack_entries_limit'],
  ['sockstat.TCP.tw', 'tcp_time_wait_sockets'],
  ['sockstat.TCP.inuse', 'tcp_sockets_in_use'],
];

const DATAPATH_METRICS: readonly MeasurementMetric[] = [
  ...DATAPATH_COUNTER_METRICS.map(([key, name]) =>
    m(`datapath:${key}`, `datapath.${name}`, '', 'counter', `datapath_${name}_total`, [], 'interval', `datapath.counters["${key}"].delta`, `/proc ${key} since the run started.`)),
  ...DATAPATH_GAUGE_METRICS.map(([key, name]) =>
    m(`datapath:${key}`, `datapath.${name}`, '', 'gauge', `datapath_${name}`, [], 'interval', `datapath.gauges["${key}"].after (at the end)`, `/proc ${key} at the end of each interval.`)),
];

/** Every measurement metric. */
export const MEASUREMENT_METRICS: readonly MeasurementMetric[] = [...CORE_METRICS, ...DATAPATH_METRICS];

const BY_KEY = new Map(MEASUREMENT_METRICS.map((x) => [x.key, x]));

/**
 * A catalogue entry by key.
 * @throws InternalError `TALLY_INTERNAL` for an unknown key (a bug in the caller).
 */
export function measurementMetric(key: string): MeasurementMetric {
  const found = BY_KEY.get(key);
  if (found === undefined) throw new InternalError(`unknown measurement metric "${key}"`);
  return found;
}

/** The Prometheus name of a catalogue entry. */
export function promName(key: string): string {
  return measurementMetric(key).prometheusName;
}
