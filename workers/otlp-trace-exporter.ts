/**
 * A {@link TraceSender} over the {@link OtlpExporter}: trace export requests get the same
 * transports as metrics (OTLP/gRPC, OTLP/HTTP protobuf or JSON, gzip, TLS, headers,
 * timeouts), the same sending queue (`drop` / `block`) and the same retries. `send`
 * resolves when its batch settles, exactly once, in its final state (acknowledged with
 * its partial_success count, failed, dropped by the queue, or unsettled at shutdown).
 *
 * @see ./otlp-exporter.ts
 */
import type { TallyErrorCode } from '../core/errors.ts';
import type { ExportFinalState } from '../core/messages.ts';
import { answerMessageOf, OtlpExporter, type ExporterConfig, type ExportSettlement, type ExportTransport } from './otlp-exporter.ts';
import type { ExporterInterval } from './otlp-exporter-metrics.ts';
import type { TraceSender, TraceSendOutcome } from './otlp-trace-sender.ts';

/** What an exporter-backed send resolves to: the plain outcome plus the exporter's verdict. */
export interface ExporterTraceSendOutcome extends TraceSendOutcome {
  finalState: ExportFinalState;
  attempts: number;
  grpcCode?: number;
}

/** A trace sender backed by an exporter; also reports the exporter's interval measurements. */
export interface ExporterTraceSender extends TraceSender {
  send(body: Uint8Array, spanCount: number): Promise<ExporterTraceSendOutcome>;
  /** Begin shutting down now with `graceMs` to settle (a run stop); `close` then waits for it. */
  stop(graceMs: number): void;
  /** The exporter's queue policy when full. */
  readonly whenFull: 'drop' | 'block';
  /** Count time the trace generator waited for queue space (`block`), in µs. */
  noteBlocked(us: number): void;
  takeInterval(): ExporterInterval;
  /** Free the histograms (after the last `takeInterval`). */
  destroy(): void;
}

/** Map an exporter settlement to a send outcome. */
export function traceSendOutcome(s: ExportSettlement<number>): ExporterTraceSendOutcome {
  const o: ExporterTraceSendOutcome = {
    status: s.last?.httpStatus ?? 0,
    rejectedSpans: s.rejectedItems,
    finalState: s.finalState,
    attempts: s.attempts,
  };
  const message = s.finalState === 'acknowledged' ? s.last?.message : (s.reason ?? s.last?.message);
  if (message) o.message = message;
  const answer = answerMessageOf(s);
  if (answer !== undefined) o.answerMessage = answer;
  if (s.last?.grpcCode !== undefined) o.grpcCode = s.last.grpcCode;
  if (s.finalState === 'dropped') o.errorCode = 'TALLY_QUEUE_FULL' satisfies TallyErrorCode;
  else if (s.finalState === 'unsettled') o.errorCode = 'TALLY_UNSETTLED' satisfies TallyErrorCode;
  else if (s.last?.errorCode !== undefined && s.finalState !== 'acknowledged') o.errorCode = s.last.errorCode;
  else if (s.finalState === 'failed' && s.last?.grpcCode !== undefined) o.errorCode = `GRPC_${s.last.grpcCode}`;
  if (s.last?.retryAfterMs !== undefined) o.retryAfterMs = s.last.retryAfterMs;
  return o;
}

/**
 * Build a trace sender over a new exporter.
 * @param drainMs on `close`, how long queued and retrying batches may take to settle.
 * @param transport injected for tests; default from `config.protocol`.
 * @throws ConfigError as the exporter's transport (bad endpoint, unreadable TLS files).
 */
export function createExporterTraceSender(config: ExporterConfig, drainMs: number, transport?: ExportTransport): ExporterTraceSender {
  const exporter = new OtlpExporter<number>(config, transport);
  const waiting = new Map<number, (o: ExporterTraceSendOutcome) => void>();
  let next = 0;
  let shutdown: Promise<void> | undefined;
  exporter.onSettle = (s) => {
    const resolve = waiting.get(s.key);
    waiting.delete(s.key);
    resolve?.(traceSendOutcome(s));
  };
  return {
    send(body, spanCount) {
      const key = next++;
      const settled = new Promise<ExporterTraceSendOutcome>((resolve) => waiting.set(key, resolve));
      void exporter.submit({ signal: 'traces', body, items: spanCount, key });
      return settled;
    },
    stop(graceMs) {
      // During the end-of-run drain too: a shorter grace brings the drain's end forward.
      shutdown = exporter.shutdown(graceMs);
    },
    whenFull: config.queue.whenFull,
    noteBlocked: (us) => exporter.noteProducerBlocked(us),
    async close() {
      shutdown ??= exporter.shutdown(drainMs);
      await shutdown;
    },
    takeInterval: () => exporter.takeInterval(),
    destroy: () => exporter.destroy(),
  };
}
