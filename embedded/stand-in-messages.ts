/**
 * Messages between the main thread and a stand-in's own thread (embedded/stand-in-thread.ts):
 * what to start, and what the stand-in reports back. Structured-clone safe; the receiver's
 * observation counts travel as SharedArrayBuffer-backed arrays (filled by the stand-in's
 * thread, read by the reconciler on the main thread, never copied), and its totals
 * (counters and bounded samples) as plain data once it has stopped.
 */
import type { SerializedTallyError } from '../core/errors.ts';
import type { TraceModel } from '../core/trace-model.ts';
import type { ObservationTotals } from '../reconcile/observations.ts';
import type { SpanObservationTotals } from '../reconcile/span-observations.ts';
import type { ReceiverFaults } from './receiver-faults.ts';
import type { LatencyFault, ReceiverLimits, TargetCapacity } from '../scenarios/types.ts';
import type { ReceiverSpace, ReceiverStats, ReceiverTls } from './otlp-receiver.ts';

/** The embedded OTLP receiver, run on its own thread. */
export interface ReceiverThreadOptions {
  space: ReceiverSpace;
  /** Per-metric point counts (SharedArrayBuffer-backed), as `sharedPointCounts` makes them. */
  pointCounts: Uint8Array[];
  /** Exemplar → trace marks (SharedArrayBuffer-backed), when exemplars name traces. */
  exemplars?: { runIdHex: string; traceCount: number; shardCount: number; marks: Uint8Array };
  /** Traces: their space and the per-span counts (SharedArrayBuffer-backed). */
  traces?: { model: TraceModel; traceCount: number; rejectSpanRatio: number; spanCounts: Uint8Array };
  faults: ReceiverFaults;
  /** The throughput limit on data points, when the scenario sets one. */
  limits?: ReceiverLimits;
  grpc: boolean;
  tls?: ReceiverTls;
}

/** What a stand-in thread runs. */
export type StandInRequest =
  | { kind: 'target'; responseBytes: number; latency?: LatencyFault; seed?: number; capacity?: TargetCapacity }
  | { kind: 'echo'; requestBytes: number; responseBytes: number }
  | { kind: 'receiver'; receiver: ReceiverThreadOptions };

/** Counters of the load stand-ins (target or echo). */
export interface ServedCounts {
  requestsServed: number;
  connectionsAccepted: number;
}

/** main → stand-in: report now, or stop and report for the last time. */
export type StandInCommand = { type: 'report' } | { type: 'finish' };

/** stand-in → main. */
export type StandInMessage =
  | { type: 'ready'; host: string; port: number; url?: string; grpcUrl?: string }
  | { type: 'report'; served?: ServedCounts; receiver?: ReceiverStats }
  /**
   * The stand-in stopped listening; this is its last word. Its writes to the shared counts
   * happened before it stored 1 in `Atomics` slot 0 of the sync array it was given (read it
   * with Atomics.load before reading the counts).
   */
  | { type: 'finished'; served?: ServedCounts; receiver?: ReceiverStats; totals?: ObservationTotals; spanTotals?: SpanObservationTotals }
  | { type: 'failed'; error: SerializedTallyError };
