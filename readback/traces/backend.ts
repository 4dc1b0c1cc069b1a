/**
 * What the trace-sample verification needs of a trace backend: a trace by id, and the
 * backend's own count of the run's traces. Tempo (readback/tempo/backend.ts) and Jaeger
 * (readback/jaeger/backend.ts) are one each.
 *
 * Both adapters normalise what they read into the same values (readback/tempo/types.ts:
 * spans with hex ids, OTLP kinds and attributes), and both answer a query about the system
 * under test as a value: not found, refused, not ready. Only failing to reach or read the
 * backend at all is thrown (a `CollectorError`).
 */
import type { TempoFailure, TempoResult, TempoTrace } from '../tempo/types.ts';

/** The backends tally reads traces back from. */
export type TraceBackendName = 'tempo' | 'jaeger';

/** How a backend counted the run's traces. */
export type TraceCountMethod = 'count_over_time' | 'search';

/** Why a count was not obtained (the backend's answer, or `unsupported` without a request). */
export type TraceCountFailure = Pick<TempoFailure, 'reason' | 'status' | 'bodyText'>;

/** One reading of the backend's count of the run's traces. */
export type TraceCountReading =
  | {
    ok: true;
    method: TraceCountMethod;
    /** Distinct run traces the backend counted. */
    observedTraces: number;
    /** True when a search hit its limit: `observedTraces` is then a lower bound. */
    lowerBound: boolean;
    /** `GET /path?query` that answered. */
    endpoint: string;
  }
  | { ok: false; failure: TraceCountFailure; endpoint: string | null };

/** A trace backend, as the sample verification uses it. */
export interface TraceBackend {
  readonly name: TraceBackendName;
  /**
   * Read a trace by id. `not_found` when the backend does not have it.
   * @param traceIdHex 32 lowercase hex characters.
   * @throws CollectorError `TALLY_COLLECTOR_FAILED` when the backend cannot be reached (details.reason
   *   `connection_refused`, `timeout`, …), `TALLY_COLLECTOR_BAD_REPLY` for an undecodable body.
   */
  traceById(traceIdHex: string): Promise<TempoResult<TempoTrace>>;
  /**
   * Count the run's traces once, as the backend sees them now. Absent when the backend was
   * given nothing to count with.
   * @throws CollectorError as {@link traceById}.
   */
  countRunTraces?(): Promise<TraceCountReading>;
}
