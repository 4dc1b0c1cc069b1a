/**
 * The trace sample of a run, whatever the backend: a seeded, stratified random sample of
 * the run's trace sequence numbers (reconcile/traces-sample.ts, so `tally reconcile` checks
 * the same ones), verified by id and cross-checked with the backend's count
 * (readback/traces/verify.ts).
 */
import type { TraceModel } from '../core/trace-model.ts';
import { sampleTraceSeqs } from '../reconcile/traces-sample.ts';
import type { TraceBackend } from '../readback/traces/backend.ts';
import { verifyTraceSample, type CrossCheckOptions, type TraceSampleVerification } from '../readback/traces/verify.ts';
import { modelExpectation, type TraceExpectation } from '../readback/tempo/expected.ts';

/** Strata of the sample: at most this many equal-width sequence ranges. */
const MAX_STRATA = 20;
/** Findings kept in results.json (counts stay complete). */
const FINDINGS_KEPT = 100;

/** What results.json carries under `tempo` or `jaeger`. */
export interface TraceBackendReadback extends TraceSampleVerification {
  url: string;
  version: string | null;
  /** Tempo's API generation, or `jaeger-v2`. */
  generation: string;
  /** Traces the run planned, the sample's population: sequences 0..traceCount−1. */
  tracesPlanned: number;
}

/** A sample request over a sequence range. */
export interface TraceSampleSpec {
  seed: number;
  firstSeq: number;
  lastSeq: number;
  sampleSize: number;
}

/** One run's traces to verify. */
export interface RunTracesRequest {
  model: TraceModel;
  traceCount: number;
  sampleSize: number;
  /** The run's span window, unix epoch ms (start of the run to after its last trace). */
  window: { startMs: number; endMs: number };
  /** Longest wait for the backend's count to agree or settle, ms (the scenario's `reconcile.maxWait`). */
  maxWaitMs: number;
}

/**
 * Verify a sample against a backend (the part tested against the recorded Tempo fixtures).
 * @returns the verification; a backend that cannot be reached at all throws (see verifyTraceSample).
 */
export async function verifySample(backend: TraceBackend, expected: TraceExpectation, spec: TraceSampleSpec, crossCheck?: CrossCheckOptions): Promise<TraceSampleVerification> {
  const seqs = sampleTraceSeqs({ ...spec, strata: Math.max(1, Math.min(MAX_STRATA, spec.sampleSize)) });
  return verifyTraceSample(backend, expected, { seqs, maxFindings: FINDINGS_KEPT, ...(crossCheck ? { crossCheck } : {}) });
}

/**
 * Verify a run's sample in a backend, with the count cross-check polled for up to `maxWaitMs`.
 * @throws CollectorError `TALLY_COLLECTOR_FAILED` when the backend cannot be reached at all.
 */
export async function sampleRunTraces(backend: TraceBackend, request: RunTracesRequest): Promise<TraceSampleVerification> {
  const { model, traceCount, sampleSize } = request;
  if (traceCount === 0) return verifyTraceSample(backend, modelExpectation(model), { seqs: [], maxFindings: FINDINGS_KEPT });
  return verifySample(backend, modelExpectation(model), { seed: model.seed, firstSeq: 0, lastSeq: traceCount - 1, sampleSize }, { expectedTraces: traceCount, maxWaitMs: request.maxWaitMs });
}
