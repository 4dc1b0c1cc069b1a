/**
 * Every figure a threshold may name: tally's names for the headline figures of
 * results.json, k6's names as aliases where the meaning is the same, each with its k6
 * metric type (which decides the aggregations) and its unit. scenario.schema.json lists
 * the same names (test/scenarios/threshold-names.test.ts keeps them in step); reports/
 * threshold-figures.ts reads each one from results.json. Pure data.
 *
 * @see https://grafana.com/docs/k6/latest/using-k6/metrics/reference/ (k6's built-in metrics)
 */
import { ERROR_CLASSES } from '../core/messages.ts';
import type { ThresholdKind } from '../core/thresholds.ts';

/** What a scenario must do for a figure to exist (checked at load time). */
export type ThresholdNeed = 'load' | 'open-load' | 'metrics-reconciled' | 'spans-reconciled' | 'traces-checked' | 'prometheus' | 'none';

/** One name a threshold may use. */
export interface ThresholdName {
  /** tally's name (snake_case, k6 style; sub-metrics with a `{tag:value}` selector). */
  name: string;
  kind: ThresholdKind;
  /** The unit of the figure, for the schema and the README (per aggregation where they differ). */
  unit: string;
  description: string;
  /** k6's names for the same figure. */
  aliases?: string[];
  needs: ThresholdNeed;
}

const TREND_UNIT = 'duration: a bare number is milliseconds, as in k6, or give a unit (20ms, 1.5s, 300us)';
const RATE_UNIT = 'ratio 0..1 (rate), or events (count)';
const COUNTER_UNIT = 'events (count), or events per second of the run (rate)';

/** The OTLP export stages a missing data point is attributed to (results.json `missingByExportStage`). */
export const LOSS_STAGES = ['rejected', 'failed_export', 'dropped_by_queue', 'unsettled', 'lost_after_ack'] as const;

/** Datapath counters (results.json `datapath.counters` keys) a threshold may name. */
export const DATAPATH_THRESHOLDS: readonly { name: string; key: string; description: string }[] = [
  { name: 'conntrack_drops', key: 'conntrack.drop', description: 'Packets conntrack dropped (a full table), /proc/net/stat/nf_conntrack `drop`, over the run.' },
  { name: 'conntrack_insert_failed', key: 'conntrack.insert_failed', description: 'Entries conntrack could not insert (`insert_failed`), over the run.' },
  { name: 'conntrack_early_drop', key: 'conntrack.early_drop', description: 'Entries conntrack evicted to make room (`early_drop`), over the run.' },
  { name: 'listen_overflows', key: 'netstat.TcpExt.ListenOverflows', description: 'Accept-queue overflows (TcpExt ListenOverflows), over the run.' },
  { name: 'listen_drops', key: 'netstat.TcpExt.ListenDrops', description: 'SYNs dropped at a listener (TcpExt ListenDrops), over the run.' },
  { name: 'syn_retransmits', key: 'netstat.TcpExt.TCPSynRetrans', description: 'SYN retransmissions (TcpExt TCPSynRetrans), over the run.' },
  { name: 'tcp_retransmits', key: 'snmp.Tcp.RetransSegs', description: 'TCP segments retransmitted (Tcp RetransSegs), over the run.' },
  { name: 'tcp_attempt_fails', key: 'snmp.Tcp.AttemptFails', description: 'Failed TCP connection attempts (Tcp AttemptFails), over the run.' },
  { name: 'tcp_estab_resets', key: 'snmp.Tcp.EstabResets', description: 'Established TCP connections reset (Tcp EstabResets), over the run.' },
];

const trend = (name: string, description: string, aliases?: string[], needs: ThresholdNeed = 'load'): ThresholdName => ({ name, kind: 'trend', unit: TREND_UNIT, description, needs, ...(aliases ? { aliases } : {}) });
const rate = (name: string, description: string, needs: ThresholdNeed, aliases?: string[]): ThresholdName => ({ name, kind: 'rate', unit: RATE_UNIT, description, needs, ...(aliases ? { aliases } : {}) });
const counter = (name: string, description: string, needs: ThresholdNeed, aliases?: string[]): ThresholdName => ({ name, kind: 'counter', unit: COUNTER_UNIT, description, needs, ...(aliases ? { aliases } : {}) });

/** Every threshold name, in the order of the README's table. */
export const THRESHOLD_NAMES: readonly ThresholdName[] = [
  trend('latency', 'Request latency from the intended start (coordinated omission corrected): results.json summary.load.latencyUs.'),
  trend('service', 'Service time, from the actual start to the end of the response: summary.load.serviceUs.'),
  trend('connect', 'TCP connect time: summary.load.connectUs. k6: http_req_connecting.', ['http_req_connecting']),
  trend('ttfb', 'Time to first byte, from the request written to the first response byte: summary.load.ttfbUs. k6: http_req_waiting.', ['http_req_waiting']),
  trend('dns', 'Name resolution, timed apart from the connect (only when load.target is a name): summary.load.dnsUs.'),
  trend('scheduler_lag', 'How late each iteration started after its intended start (open model): summary.load.schedulerLagUs.'),
  trend('visibility_lag', 'Time from a data point\'s export to its first visibility in Prometheus (backends.prometheus): readback.visibility.', undefined, 'prometheus'),
  rate('errors', 'Failed requests: no HTTP response (connection error, timeout) or a status outside 2xx/3xx, over requests. k6: http_req_failed.', 'load', ['http_req_failed']),
  ...ERROR_CLASSES.map((c) => rate(`errors{class:${c}}`, `Requests that ended with the ${c} connection error class, over requests.`, 'load')),
  rate('errors{status:4xx}', 'Responses with a 4xx status, over requests.', 'load'),
  rate('errors{status:5xx}', 'Responses with a 5xx status, over requests.', 'load'),
  rate('errors{side:generator}', 'Connection errors that are limits or stalls of the generator host (EADDRNOTAVAIL, EADDRINUSE, EMFILE, generator_stall), over requests.', 'load'),
  rate('errors{side:target}', 'Every other connection error class, over requests.', 'load'),
  rate('late_starts', 'Iterations started later than load.lateStartThreshold after their intended start, over iterations started.', 'load'),
  counter('dropped_iterations', 'Due iterations dropped because maxInFlight was reached (k6\'s name and meaning).', 'load'),
  counter('iterations', 'Iterations completed (k6\'s name and meaning).', 'load'),
  counter('requests', 'Requests settled, with a response or an error: summary.load.requests. k6: http_reqs.', 'load', ['http_reqs']),
  counter('syn_retransmit_signature', 'Connects whose time sits at a SYN-retransmit time of this kernel, as many as the SYN retransmits of the namespace the sockets live in bear out (dropped SYNs): summary.load.synRetransmit.corroborated.', 'load'),
  { name: 'achieved_rate', kind: 'gauge', unit: 'requests per second (value)', description: 'Requests that got a response, per second: summary.load.achievedRatePerSecond.', needs: 'load' },
  { name: 'achieved_rate_ratio', kind: 'gauge', unit: 'ratio (value): achieved ÷ target', description: 'Achieved rate over the planned arrival rate (open-model executors).', needs: 'open-load' },
  rate('otlp_loss', 'OTLP data points sent and never received, over points sent: summary.metrics.lossRatio (a reconciled run: the embedded receiver or backends.prometheus).', 'metrics-reconciled'),
  ...LOSS_STAGES.map((s) => rate(`otlp_loss{stage:${s}}`, `Missing data points the ${s.replaceAll('_', ' ')} stage admits to, over points sent: summary.metrics.missingByExportStage.`, 'metrics-reconciled')),
  rate('otlp_duplicates', 'Data points received more than once, over points sent.', 'metrics-reconciled'),
  rate('otlp_value_mismatches', 'Data points received with a value other than the one sent, over points sent.', 'metrics-reconciled'),
  rate('otlp_unexpected', 'Data points received that the run never sent, over points sent.', 'metrics-reconciled'),
  rate('span_loss', 'Spans sent and never received by the embedded receiver, over spans sent: summary.traces.spanLossRatio.', 'spans-reconciled'),
  rate('trace_loss', 'Traces with no span received, over traces sent (embedded receiver), or the share of the Tempo sample lost (backends.tempo).', 'traces-checked'),
  ...DATAPATH_THRESHOLDS.map((d) => counter(d.name, d.description, 'none')),
  { name: 'generator_saturated', kind: 'gauge', unit: '1 when saturated, else 0 (value)', description: 'Whether the generator, not the target, may have limited the run: generator.saturated.', needs: 'none' },
];

/** Name or alias → the catalog entry. */
const BY_NAME = new Map<string, ThresholdName>(THRESHOLD_NAMES.flatMap((t) => [[t.name, t] as const, ...(t.aliases ?? []).map((a) => [a, t] as const)]));

/** The catalog entry of a name or a k6 alias, or undefined. */
export function thresholdName(name: string): ThresholdName | undefined {
  return BY_NAME.get(name);
}

/** Every name a threshold may use (tally's and the aliases), in catalog order. */
export function allThresholdNames(): string[] {
  return [...BY_NAME.keys()];
}

/** k6 names that look like an alias but measure something else, and what to use instead. */
export const NOT_ALIASES: Readonly<Record<string, string>> = {
  http_req_duration: "k6's http_req_duration excludes connecting; use `service` (from the actual start, connect included) or `latency` (from the intended start)",
  iteration_duration: 'use `service` (from the actual start) or `latency` (from the intended start)',
  http_req_blocked: 'tally has no connection-slot wait; use `scheduler_lag` or `dns`',
};
