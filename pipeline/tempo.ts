/**
 * Tempo read-back of a run (`backends.tempo`): a stratified random sample of the run's
 * trace sequence numbers (reconcile/traces-sample.ts, seeded, so `tally reconcile` checks the
 * same ones) read by id and compared span by span with the trace model, trace loss as a
 * Wilson interval, cross-checked with Tempo's own count (TraceQL metrics where the server
 * has them, else a tag search on `tally.run.id`).
 *
 * Tested against the genuine Tempo 2.0.1 responses recorded in
 * test/fixtures/tempo-2.0.1 only; not against a live Tempo.
 */
import { createTempoClient, type TempoClient } from '../readback/tempo/client.ts';
import { modelExpectation, type TraceExpectation } from '../readback/tempo/expected.ts';
import { verifyTraceSample, type CrossCheckOptions, type TraceSampleVerification } from '../readback/tempo/verify.ts';
import { parseTraceIdHex, runIdHexOf, type TraceModel } from '../core/trace-model.ts';
import { sampleTraceSeqs } from '../reconcile/traces-sample.ts';

/** Strata of the sample: at most this many equal-width sequence ranges. */
const MAX_STRATA = 20;
/** Findings kept in results.json (counts stay complete). */
const FINDINGS_KEPT = 100;

/** What results.json carries under `tempo`. */
export interface TempoReadback extends TraceSampleVerification {
  url: string;
  version: string | null;
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

/**
 * Verify a sample against a detected client (the part tested against the recorded fixtures).
 * @returns the verification; a Tempo that cannot be reached at all throws (see verifyTraceSample).
 */
export async function verifySample(client: TempoClient, expected: TraceExpectation, spec: TraceSampleSpec, crossCheck?: CrossCheckOptions): Promise<TraceSampleVerification> {
  const seqs = sampleTraceSeqs({ ...spec, strata: Math.max(1, Math.min(MAX_STRATA, spec.sampleSize)) });
  return verifyTraceSample(client, expected, { seqs, maxFindings: FINDINGS_KEPT, ...(crossCheck ? { crossCheck } : {}) });
}

/**
 * Verify a run's traces in Tempo.
 * @param window the run's span window, unix epoch ms (start of the run to after its last trace).
 * @throws CollectorError `TALLY_COLLECTOR_FAILED` when Tempo cannot be reached at all.
 */
export async function verifyRunTraces(url: string, model: TraceModel, traceCount: number, sampleSize: number, window: { startMs: number; endMs: number }): Promise<TempoReadback> {
  const client = createTempoClient({ baseUrl: url });
  try {
    const capabilities = await client.detect();
    const runHex = runIdHexOf(model.runId);
    const startUnixS = Math.floor(window.startMs / 1000);
    const endUnixS = Math.ceil(window.endMs / 1000) + 1;
    const crossCheck: CrossCheckOptions = {
      expectedTraces: traceCount,
      isRunTrace: (hex) => parseTraceIdHex(hex)?.runIdHex === runHex,
      // Every trace has exactly one root span, named `tally-root` (core/trace-model.ts spanName).
      count: { traceql: `{ resource.tally.run.id = "${model.runId}" && name = "tally-root" }`, startUnixS, endUnixS, stepMs: Math.max(1000, (endUnixS - startUnixS) * 1000) },
      search: { tags: { 'tally.run.id': model.runId }, startUnixS, endUnixS, limit: traceCount + 1 },
    };
    const verification = traceCount === 0
      ? await verifyTraceSample(client, modelExpectation(model), { seqs: [], maxFindings: FINDINGS_KEPT })
      : await verifySample(client, modelExpectation(model), { seed: model.seed, firstSeq: 0, lastSeq: traceCount - 1, sampleSize }, crossCheck);
    return { url, version: capabilities.buildInfo?.version ?? null, generation: capabilities.generation, tracesPlanned: traceCount, ...verification };
  } finally {
    await client.close();
  }
}
