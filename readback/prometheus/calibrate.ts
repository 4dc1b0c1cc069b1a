/**
 * Storage cost measured, not guessed (`tally plan --calibrate <prometheus-url>`): send a
 * known set of series to a Prometheus tally may write to (remote write, the scenario's own
 * metric names and label shapes under a calibration run label), and read Prometheus's own
 * gauges before and after from its `/metrics`: head series (`prometheus_tsdb_head_series`),
 * Go heap in use (`go_memstats_heap_inuse_bytes`) and resident memory
 * (`process_resident_memory_bytes`). Bytes per series = the heap's growth ÷ the head series
 * added. The heap is read several times after the series arrived and its smallest reading
 * kept (the garbage of decoding the requests is collected in between), so the figure is the
 * live memory of the series, with the noise of one Go heap: say so, and calibrate with
 * enough series (default 20,000) for the growth to stand out.
 *
 * The series stay in that Prometheus (until its retention drops them).
 *
 * @see https://prometheus.io/docs/prometheus/latest/storage/#operational-aspects
 * @see https://pkg.go.dev/runtime#MemStats (HeapInuse)
 */
import { setTimeout as delay } from 'node:timers/promises';
import { CollectorError } from '../../core/errors.ts';
import { seriesAttributes } from '../../core/series.ts';
import { encodeRemoteWriteBody, REMOTE_WRITE_HEADERS, type RemoteWriteSeries } from '../../wire/remote-write.ts';
import type { MetricNaming } from '../../scenarios/prometheus-naming.ts';
import { parseExposition } from '../otelcol/exposition.ts';
import { scrapeText } from '../otelcol/scrape.ts';

/** Prometheus's own gauges at one reading. */
export interface PrometheusMemoryReading {
  headSeries: number;
  heapInuseBytes: number;
  residentBytes: number;
}

/** A calibration's figures. */
export interface StorageCalibration {
  calibrated: true;
  /** The Prometheus (API base URL). */
  url: string;
  seriesSent: number;
  samplesPerSeries: number;
  before: PrometheusMemoryReading;
  after: PrometheusMemoryReading;
  /** Head series the calibration added (after − before). */
  headSeriesAdded: number;
  /** Go heap in use per added series (bytes). */
  bytesPerSeries: number;
  /** Resident memory per added series (bytes; includes what the Go runtime has not returned to the OS). */
  residentBytesPerSeries: number;
  /** How long Prometheus took to show the series in its head (s). */
  waitedS: number;
}

/** Options of {@link calibrateStorage}. */
export interface CalibrateOptions {
  /** Series to send (default 20,000). */
  series?: number;
  /** Samples per series (default 3, 1 s apart). */
  samplesPerSeries?: number;
  /** Longest wait for the head series to show the calibration (ms, default 60,000). */
  maxWaitMs?: number;
  /** Heap readings after arrival; the smallest is kept (default 5, 1 s apart). */
  heapReadings?: number;
  /** Request headers (e.g. authorization). */
  headers?: Record<string, string>;
}

const GAUGES = { headSeries: 'prometheus_tsdb_head_series', heapInuseBytes: 'go_memstats_heap_inuse_bytes', residentBytes: 'process_resident_memory_bytes' } as const;

/**
 * Read Prometheus's head series and memory gauges from its `/metrics`.
 * @throws CollectorError when it cannot be scraped or lacks a gauge.
 */
export async function readPrometheusMemory(url: string, headers: Record<string, string> = {}): Promise<PrometheusMemoryReading> {
  const text = await scrapeText(`${url.replace(/\/+$/, '')}/metrics`, { what: 'prometheus', headers });
  const names = new Set<string>(Object.values(GAUGES));
  const samples = parseExposition(text, (name) => names.has(name), 'prometheus /metrics').samples;
  const value = (name: string): number => {
    const s = samples.find((x) => x.name === name);
    if (s === undefined) throw new CollectorError(`prometheus /metrics has no ${name}: is ${url} a Prometheus?`, { code: 'TALLY_COLLECTOR_BAD_REPLY' });
    return s.value;
  };
  return { headSeries: value(GAUGES.headSeries), heapInuseBytes: value(GAUGES.heapInuseBytes), residentBytes: value(GAUGES.residentBytes) };
}

/**
 * The calibration series: the scenario's metrics in order (their names, label names and
 * common labels, the run label set to `runLabel`), `count` series in all, `samples` samples each.
 */
export function calibrationSeries(naming: readonly MetricNaming[], count: number, samples: number, nowMs: number): RemoteWriteSeries[] {
  const out: RemoteWriteSeries[] = [];
  const sendable = naming.filter((n) => n.type === 'counter' || n.type === 'gauge');
  for (const n of sendable.length > 0 ? sendable : naming) {
    for (let i = 0; i < n.layout.seriesCount && out.length < count; i++) {
      const attributes = seriesAttributes(n.layout, i);
      const labels: Record<string, string> = { ...n.commonLabels };
      n.layout.keys.forEach((k, j) => (labels[n.labelNames[j]] = attributes[k]));
      out.push({ name: n.name, labels, samples: Array.from({ length: samples }, (_, k) => ({ value: k + 1, timestampMs: nowMs - (samples - k) * 1000 })) });
    }
    if (out.length >= count) break;
  }
  // Fewer series in the scenario than asked: more of the same shapes, told apart by a label.
  for (let copy = 1; out.length < count && out.length > 0; copy++) {
    const base = out.length;
    for (let i = 0; i < base && out.length < count; i++) out.push({ ...out[i], labels: { ...out[i].labels, tally_calibration_copy: String(copy) } });
  }
  return out;
}

async function post(url: string, series: RemoteWriteSeries[], headers: Record<string, string>): Promise<void> {
  const body = encodeRemoteWriteBody(series).body;
  let reply: Response;
  try {
    reply = await fetch(`${url.replace(/\/+$/, '')}/api/v1/write`, { method: 'POST', body, headers: { ...REMOTE_WRITE_HEADERS, 'user-agent': 'tally-calibrate', ...headers }, signal: AbortSignal.timeout(60_000) });
  } catch (cause) {
    throw new CollectorError(`remote write to ${url} failed: ${(cause as Error).message}`, { cause });
  }
  const text = await reply.text();
  if (reply.status >= 300) throw new CollectorError(`remote write to ${url} answered ${reply.status}: ${text.slice(0, 300)} (does it run with --web.enable-remote-write-receiver?)`, { details: { status: reply.status } });
}

/**
 * Calibrate: read, send the series (5,000 per request), wait until the head has them, read again.
 * @param naming the scenario's metrics as Prometheus names them, with the calibration's run label.
 * @throws CollectorError when Prometheus cannot be read or written, when not all the series show
 *   in its head, or when its heap in use did not grow (nothing measured).
 */
export async function calibrateStorage(url: string, naming: readonly MetricNaming[], options: CalibrateOptions = {}): Promise<StorageCalibration> {
  const count = options.series ?? 20_000;
  const samplesPerSeries = options.samplesPerSeries ?? 3;
  const headers = options.headers ?? {};
  const readings = options.heapReadings ?? 5;
  // Both sides are the smallest of several heap readings (GC moves the heap in use between
  // readings): a single reading before against the smallest after would bias the growth down.
  let before = await readPrometheusMemory(url, headers);
  for (let r = 1; r < readings; r++) {
    await delay(1000);
    const next = await readPrometheusMemory(url, headers);
    if (next.heapInuseBytes < before.heapInuseBytes) before = { ...next, headSeries: before.headSeries };
  }
  const series = calibrationSeries(naming, count, samplesPerSeries, Date.now());
  for (let i = 0; i < series.length; i += 5000) await post(url, series.slice(i, i + 5000), headers);
  const started = performance.now();
  let reading = await readPrometheusMemory(url, headers);
  while (reading.headSeries < before.headSeries + series.length && performance.now() - started < (options.maxWaitMs ?? 60_000)) {
    await delay(500);
    reading = await readPrometheusMemory(url, headers);
  }
  const added = reading.headSeries - before.headSeries;
  if (added <= 0) throw new CollectorError(`the ${series.length} calibration series did not show in ${url}'s head series`, { details: { before: before.headSeries, after: reading.headSeries } });
  const waitedS = (performance.now() - started) / 1000;
  let after = reading;
  for (let r = 1; r < readings; r++) {
    await delay(1000);
    const next = await readPrometheusMemory(url, headers);
    if (next.heapInuseBytes < after.heapInuseBytes) after = { ...next, headSeries: Math.max(next.headSeries, after.headSeries) };
  }
  const grownBytes = after.heapInuseBytes - before.heapInuseBytes;
  // No growth, or fewer series than sent (a timeout, another writer's churn), measures nothing.
  if (grownBytes <= 0 || added < series.length) {
    throw new CollectorError(`no storage cost measured at ${url}: ${added} of ${series.length} calibration series showed in its head, and its heap in use grew by ${grownBytes} bytes (is another writer changing it, or is it still compacting?)`, { details: { before, after, added } });
  }
  return {
    calibrated: true,
    url,
    seriesSent: series.length,
    samplesPerSeries,
    before,
    after,
    headSeriesAdded: added,
    bytesPerSeries: Math.round(grownBytes / added),
    residentBytesPerSeries: Math.max(0, Math.round((after.residentBytes - before.residentBytes) / added)),
    waitedS: Number(waitedS.toFixed(1)),
  };
}
