/**
 * The cardinality part of `tally plan`: its shapes (what `--json` prints) and its text — a
 * table per metric (series, Prometheus series, data points/s, OTLP and remote-write bytes of
 * one export), each attribute's cost and what dropping or bucketing it saves, bytes per
 * second, storage (measured, or said not to be), and the budget's checks. Pure.
 */
import type { ExportBytesResult } from '../core/export-bytes-messages.ts';
import type { StorageCalibration } from '../readback/prometheus/calibrate.ts';
import type { BudgetCheck } from '../scenarios/budget.ts';
import type { Cardinality } from '../scenarios/cardinality.ts';

/** The cardinality and the bytes of one export, per metric and in total. */
export type PlanCardinality = Cardinality & {
  /** The scenario's transport (its bytes are the budget's). */
  transport: 'otlp' | 'prometheus/remote-write';
  bytesPerExport: ExportBytesResult;
  /** Bytes per second: OTLP bodies as encoded, as sent (gzip, gRPC prefix), remote-write bodies, and the scenario's transport's. */
  bytesPerSecond: { otlp?: number; otlpWire?: number; remoteWrite?: number; transport?: number };
};

/** Storage per series: measured on a Prometheus, or not measured (and then no figure). */
export type PlanStorage = (StorageCalibration & { estimatedBytes: number }) | { calibrated: false; note: string };

/** The budget's checks. */
export interface PlanBudget {
  enforce: boolean;
  checks: BudgetCheck[];
}

const int = (n: number | undefined): string => (n === undefined ? '—' : Math.round(n).toLocaleString('en-US'));

function bytesText(n: number | undefined): string {
  if (n === undefined) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(u === 0 ? 0 : 1)} ${units[u]}`;
}

function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => `  ${r.map((v, c) => (c === 0 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join('  ')}`);
}

/** The cardinality section's lines. */
export function renderCardinality(c: PlanCardinality, storage: PlanStorage | undefined, budget: PlanBudget | undefined): string[] {
  const bytes = new Map(c.bytesPerExport.metrics.map((m) => [m.metricIndex, m]));
  const lines = [`cardinality (one export every ${c.exportIntervalMs / 1000} s; bytes of one export, counted by the encoders that send them):`];
  const rows = [['metric', 'series', 'Prometheus series', 'data points/s', 'OTLP bytes', 'remote-write bytes (protobuf / snappy)']];
  const rw = (protobuf: number | undefined, snappy: number | undefined): string => (protobuf === undefined ? 'n/a' : `${int(protobuf)} / ${int(snappy)}`);
  for (const m of c.metrics) {
    const b = bytes.get(m.metricIndex);
    rows.push([m.name, int(m.series), int(m.prometheusSeries), int(m.dataPointsPerSecond), int(b?.otlpBytes), rw(b?.remoteWriteProtobufBytes, b?.remoteWriteBytes)]);
  }
  rows.push(['total', int(c.series), int(c.prometheusSeries), int(c.dataPointsPerSecond), int(c.bytesPerExport.otlp?.bytes), rw(c.bytesPerExport.remoteWrite?.protobufBytes, c.bytesPerExport.remoteWrite?.bytes)]);
  lines.push(...table(rows));
  for (const m of c.metrics) {
    if (m.attributes.length === 0) continue;
    const parts = m.attributes.map((a) => `${a.key} ×${int(a.values)} (drop: −${int(a.seriesSavedByDropping)} series, −${int(a.dataPointsPerSecondSavedByDropping)}/s${a.bucketTo === undefined ? '' : `; in ${a.bucketTo} buckets: −${int(a.seriesSavedByBucketing)}`})`);
    lines.push(`  ${m.name}: ${parts.join(', ')}`);
  }
  const o = c.bytesPerExport.otlp;
  const per = c.bytesPerSecond;
  lines.push(`bytes per second: OTLP ${bytesText(per.otlp)}/s${o && o.wireBytes !== o.bytes ? ` (as sent, ${o.protocol}${o.compression === 'gzip' ? ' gzip' : ''}: ${bytesText(per.otlpWire)}/s)` : ''} in ${int(o?.requests)} requests per export; remote write ${per.remoteWrite === undefined ? 'n/a' : `${bytesText(per.remoteWrite)}/s (snappy) in ${int(c.bytesPerExport.remoteWrite?.requests)} requests`}; this scenario sends ${c.transport}`);
  if (storage !== undefined) {
    lines.push(storage.calibrated
      ? `storage: ${int(storage.bytesPerSeries)} bytes per series (Go heap; ${int(storage.residentBytesPerSeries)} resident) measured at ${storage.url} with ${int(storage.headSeriesAdded)} series → ${bytesText(storage.estimatedBytes)} for ${int(c.prometheusSeries)} series`
      : `storage: ${storage.note}`);
  }
  if (budget !== undefined) {
    for (const k of budget.checks) {
      const status = k.status === 'ok' ? 'ok' : k.status === 'exceeded' ? (budget.enforce ? 'EXCEEDED (refused)' : 'EXCEEDED') : 'not checked';
      lines.push(`budget ${k.limit} ${int(k.max)} ${k.unit}: ${status}${k.value === null ? '' : ` (${int(k.value)})`}${k.note !== undefined && k.status === 'not_checked' ? `: ${k.note}` : ''}`);
    }
  }
  return lines;
}
