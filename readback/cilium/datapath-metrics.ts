/**
 * Datapath metrics for a run window, read from a Prometheus that scrapes Cilium agents
 * and node-exporter: eBPF map pressure, Cilium drops by reason, Cilium's conntrack GC,
 * and the kernel conntrack table (node-exporter's `conntrack` collector). They sit beside
 * the /proc counters in results.json (`datapathMetrics` in reports/results.schema.json).
 *
 * Every query is evaluated once, at `endSec`, over the range `[endSec − startSec]s`:
 * `increase()` for counters (extrapolated to the window's edges by Prometheus, so not
 * always an integer; resets handled), `max_over_time()` for gauges. A metric nobody
 * scrapes yields an empty vector: that query is listed in `missing`, and when all of them
 * are missing the result is `available: false`, never an error.
 *
 * Metric names:
 * - `cilium_bpf_map_pressure{map_name}`: fill ratio 0..1 of CT, NAT, LB… maps;
 * - `cilium_drop_count_total{reason,direction}`: packets dropped by the datapath;
 * - `cilium_datapath_conntrack_gc_runs_total{family,protocol,status}`,
 *   `cilium_datapath_conntrack_gc_entries{family,protocol,status}` (alive/deleted per GC run);
 * - `node_nf_conntrack_entries`, `node_nf_conntrack_entries_limit`, and
 *   `node_nf_conntrack_stat_{found,invalid,ignore,insert,insert_failed,drop,early_drop,search_restart}`
 *   (kernel counters summed over CPUs, exposed as gauges; `increase()` still applies).
 *
 * @see https://docs.cilium.io/en/stable/observability/metrics/
 * @see https://github.com/prometheus/node_exporter (collector/conntrack_linux.go)
 */
import { ConfigError } from '../../core/errors.ts';
import type { InstantQuery, InstantSample } from '../otelcol/instant-query.ts';

/** node-exporter's conntrack statistics, by their metric-name suffix. */
export const NODE_CONNTRACK_STATS = ['found', 'invalid', 'ignore', 'insert', 'insert_failed', 'drop', 'early_drop', 'search_restart'] as const;
export type NodeConntrackStat = (typeof NODE_CONNTRACK_STATS)[number];

/** One query of the set: a stable id (used in `missing`) and its PromQL. */
export interface DatapathQuery {
  readonly id: string;
  readonly promql: string;
}

/** A labelled value. */
export interface LabelledValue {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** The datapath metrics of one run window. */
export interface DatapathMetrics {
  /** False when no query returned anything (no Cilium, no node-exporter scraped). */
  readonly available: boolean;
  readonly startSec: number;
  readonly endSec: number;
  /** The range every query covered, seconds. */
  readonly windowSec: number;
  /** Max fill ratio (0..1) of each eBPF map over the window, by map name. */
  readonly bpfMapPressureMaxRatio: readonly { mapName: string; maxRatio: number }[];
  /** Packets Cilium dropped in the window, by reason and direction. */
  readonly drops: readonly { reason: string; direction: string; packets: number }[];
  readonly conntrackGc: {
    /** GC runs in the window by family, protocol, status. */
    readonly runs: readonly LabelledValue[];
    /** Largest alive/deleted entry count reported at the end of a GC run, by family, protocol, status. */
    readonly entriesMax: readonly LabelledValue[];
  };
  readonly nodeConntrack: {
    /** Max conntrack table entries over the window, by instance. */
    readonly entriesMax: readonly LabelledValue[];
    /** Table size limit (nf_conntrack_max) at the end, by instance. */
    readonly entriesLimit: readonly LabelledValue[];
    /** Increase of each conntrack statistic in the window, by instance; absent stats left out. */
    readonly stats: Partial<Record<NodeConntrackStat, readonly LabelledValue[]>>;
  };
  /** Ids of the queries that returned nothing. */
  readonly missing: readonly string[];
}

/**
 * The PromQL of every datapath query for a window (pure; exported for inspection and tests).
 * @param windowSec whole seconds, ≥ 1.
 */
export function datapathQueries(windowSec: number): DatapathQuery[] {
  const w = `[${windowSec}s]`;
  const queries: DatapathQuery[] = [
    { id: 'cilium_bpf_map_pressure', promql: `max by (map_name) (max_over_time(cilium_bpf_map_pressure${w}))` },
    { id: 'cilium_drop_count_total', promql: `sum by (reason, direction) (increase(cilium_drop_count_total${w}))` },
    { id: 'cilium_datapath_conntrack_gc_runs_total', promql: `sum by (family, protocol, status) (increase(cilium_datapath_conntrack_gc_runs_total${w}))` },
    { id: 'cilium_datapath_conntrack_gc_entries', promql: `max by (family, protocol, status) (max_over_time(cilium_datapath_conntrack_gc_entries${w}))` },
    { id: 'node_nf_conntrack_entries', promql: `max by (instance) (max_over_time(node_nf_conntrack_entries${w}))` },
    { id: 'node_nf_conntrack_entries_limit', promql: 'max by (instance) (node_nf_conntrack_entries_limit)' },
  ];
  for (const stat of NODE_CONNTRACK_STATS) {
    queries.push({ id: `node_nf_conntrack_stat_${stat}`, promql: `sum by (instance) (increase(node_nf_conntrack_stat_${stat}${w}))` });
  }
  return queries;
}

/**
 * Run the datapath queries for a run window and shape the results.
 * @param query an instant-query function (readback/prometheus/api.ts, or a test client).
 * @param startSec window start, seconds since the epoch.
 * @param endSec window end, seconds since the epoch; the window is rounded up to whole seconds.
 * @throws ConfigError `TALLY_CONFIG_INVALID` when the window is empty or not finite.
 * @throws whatever `query` throws (CollectorError from the Prometheus client): an unreachable
 *   Prometheus is an error, a metric it lacks is not.
 */
export async function readDatapathMetrics(query: InstantQuery, startSec: number, endSec: number): Promise<DatapathMetrics> {
  if (!Number.isFinite(startSec) || !Number.isFinite(endSec) || endSec <= startSec) {
    throw new ConfigError(`datapath metrics window [${startSec}, ${endSec}] is empty`, [{ pointer: '/window', message: 'expected finite startSec < endSec, seconds since the epoch' }]);
  }
  const windowSec = Math.max(1, Math.ceil(endSec - startSec));
  const queries = datapathQueries(windowSec);
  const vectors = await Promise.all(queries.map((q) => query(q.promql, endSec)));
  const byId = new Map<string, InstantSample[]>();
  queries.forEach((q, i) => byId.set(q.id, vectors[i]));
  return shapeDatapathMetrics(byId, startSec, endSec, windowSec);
}

/**
 * Shape query results (by query id) into {@link DatapathMetrics}. Pure.
 * Rows are sorted by their labels; NaN values are left out.
 */
export function shapeDatapathMetrics(byId: ReadonlyMap<string, readonly InstantSample[]>, startSec: number, endSec: number, windowSec: number): DatapathMetrics {
  const rows = (id: string, keep: readonly string[]): LabelledValue[] =>
    (byId.get(id) ?? [])
      .filter((s) => !Number.isNaN(s.value))
      .map((s) => ({ labels: pick(s.labels, keep), value: s.value }))
      .sort((a, b) => compare(labelText(a.labels), labelText(b.labels)));
  const missing = [...byId.entries()].filter(([, v]) => v.length === 0).map(([id]) => id);
  const stats: Partial<Record<NodeConntrackStat, LabelledValue[]>> = {};
  for (const stat of NODE_CONNTRACK_STATS) {
    const r = rows(`node_nf_conntrack_stat_${stat}`, ['instance']);
    if (r.length > 0) stats[stat] = r;
  }
  const gcLabels = ['family', 'protocol', 'status'];
  return {
    available: missing.length < byId.size,
    startSec,
    endSec,
    windowSec,
    bpfMapPressureMaxRatio: rows('cilium_bpf_map_pressure', ['map_name']).map((r) => ({ mapName: r.labels.map_name ?? '', maxRatio: r.value })),
    drops: rows('cilium_drop_count_total', ['reason', 'direction']).map((r) => ({ reason: r.labels.reason ?? '', direction: r.labels.direction ?? '', packets: r.value })),
    conntrackGc: { runs: rows('cilium_datapath_conntrack_gc_runs_total', gcLabels), entriesMax: rows('cilium_datapath_conntrack_gc_entries', gcLabels) },
    nodeConntrack: {
      entriesMax: rows('node_nf_conntrack_entries', ['instance']),
      entriesLimit: rows('node_nf_conntrack_entries_limit', ['instance']),
      stats,
    },
    missing,
  };
}

function pick(labels: Readonly<Record<string, string>>, keep: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of keep) if (labels[k] !== undefined) out[k] = labels[k];
  return out;
}

function labelText(labels: Readonly<Record<string, string>>): string {
  return Object.keys(labels).sort().map((k) => `${k}=${labels[k]}`).join(',');
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
