/**
 * Shared set-up of the exporter tests: the embedded receiver on real loopback sockets,
 * a small series space, encoded batches, and a ledger fed with the settlements.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonMetricsSerializer, ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { seriesLayout } from '../../core/series.ts';
import { startOtlpReceiver, type OtlpReceiver, type ReceiverOptions } from '../../embedded/otlp-receiver.ts';
import type { ReceiverFaults } from '../../embedded/receiver-faults.ts';
import { MetricsLedger } from '../../ledger/ledger.ts';
import { ObservationStore } from '../../reconcile/observations.ts';
import { buildBatch } from '../../workers/otlp-metrics.ts';
import { metricsOutcome, OtlpExporter, type ExporterConfig, type ExportSettlement, type MetricsBatchKey, type OtlpProtocol } from '../../workers/otlp-exporter.ts';

export const START_NS = 1_795_280_351_000_000_000n;
export const SERIES = 100;
export const TICKS = 5;
export const layout = seriesLayout({ a: 10, b: 10 });
export const space = { runId: 'run-x', seed: 11, startUnixNano: START_NS, exportIntervalNs: 1_000_000_000n, ticks: TICKS, metrics: [{ metricIndex: 0, name: 'm', layout }] };
export const metricTask = { metricIndex: 0, name: 'm', unit: '1', temporality: 'cumulative' as const, keys: layout.keys, counts: layout.counts, seriesStart: 0, seriesEnd: SERIES };
export const NO_FAULTS: ReceiverFaults = { rejectDataPointRatio: 0, failRequestRatio: 0, retryAfterMs: 1000 };

/** Encoded ExportMetricsServiceRequest of series [s0, s1) at `tick`. */
export function metricsBody(s0: number, s1: number, tick: number, json = false): Uint8Array {
  const request = buildBatch({ runId: space.runId, shard: 0, seed: space.seed, startUnixNano: String(START_NS) }, metricTask, s0, s1, tick, 1000);
  return (json ? JsonMetricsSerializer : ProtobufMetricsSerializer).serializeRequest(request)!;
}

/** The batches of one tick, `perBatch` series each. */
export function tickBatches(tick: number, perBatch: number, json = false): { signal: 'metrics'; body: Uint8Array; items: number; key: MetricsBatchKey }[] {
  const out = [];
  for (let s = 0; s < SERIES; s += perBatch) {
    const e = Math.min(SERIES, s + perBatch);
    out.push({ signal: 'metrics' as const, body: metricsBody(s, e, tick, json), items: e - s, key: { metricIndex: 0, seriesStart: s, seriesEnd: e, tick } });
  }
  return out;
}

/** A receiver with its observation store; closed by `close()`. */
export async function receiver(faults: Partial<ReceiverFaults> = {}, extra: Partial<ReceiverOptions> = {}): Promise<{ r: OtlpReceiver; store: ObservationStore }> {
  const store = new ObservationStore([SERIES], TICKS);
  const r = await startOtlpReceiver({ space, store, faults: { ...NO_FAULTS, ...faults }, grpc: true, ...extra });
  return { r, store };
}

/** An exporter config: no retries, a deep queue, 5 s timeout, unless overridden. */
export function config(protocol: OtlpProtocol, r: OtlpReceiver, overrides: Partial<ExporterConfig> = {}): ExporterConfig {
  return {
    protocol,
    endpoint: protocol === 'grpc' ? r.grpcUrl! : r.url,
    compression: 'none',
    headers: {},
    timeoutMs: 5000,
    retry: { enabled: false, initialIntervalMs: 50, maxIntervalMs: 500, multiplier: 1.5, randomizationFactor: 0.5, maxElapsedTimeMs: 10_000 },
    queue: { queueSize: 100, numConsumers: 4, whenFull: 'block' },
    seed: 5,
    ...overrides,
  };
}

/** Submit every batch, drain (up to `graceMs`), and record the settlements in a fresh ledger. */
export async function ship(
  exporter: OtlpExporter<MetricsBatchKey>,
  batches: ReturnType<typeof tickBatches>,
  graceMs = 20_000,
): Promise<{ ledger: MetricsLedger; settlements: ExportSettlement<MetricsBatchKey>[] }> {
  await Promise.all(batches.map((b) => exporter.submit(b)));
  await exporter.shutdown(graceMs);
  const settlements = exporter.takeSettlements();
  const ledger = new MetricsLedger([SERIES], TICKS);
  for (const s of settlements) ledger.record(metricsOutcome(s));
  return { ledger, settlements };
}

/** True when `openssl` can be run. */
export function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * A throw-away CA and a server certificate for 127.0.0.1 signed by it, plus a client
 * certificate, made with the `openssl` CLI in a temporary directory.
 */
export function makeCertificates(): { dir: string; caFile: string; serverCert: Buffer; serverKey: Buffer; ca: Buffer; clientCertFile: string; clientKeyFile: string; otherCaFile: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'tally-tls-'));
  const ssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  const ca = (name: string): void => ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '1', '-subj', `/CN=${name}`);
  const leaf = (name: string, ext: string): void => {
    ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
    writeFileSync(join(dir, `${name}.ext`), ext);
    ssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '1', '-extfile', `${name}.ext`);
  };
  ca('ca');
  ca('other-ca');
  leaf('server', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  leaf('client', 'extendedKeyUsage=clientAuth\n');
  return {
    dir,
    caFile: join(dir, 'ca.crt'),
    ca: readFileSync(join(dir, 'ca.crt')),
    serverCert: readFileSync(join(dir, 'server.crt')),
    serverKey: readFileSync(join(dir, 'server.key')),
    clientCertFile: join(dir, 'client.crt'),
    clientKeyFile: join(dir, 'client.key'),
    otherCaFile: join(dir, 'other-ca.crt'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
