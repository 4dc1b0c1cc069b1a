/**
 * Tempo read-back of a run (`backends.tempo`): a stratified random sample of the run's
 * trace sequence numbers (reconcile/traces-sample.ts, seeded, so `tally reconcile` checks the
 * same ones) read by id and compared span by span with the trace model, trace loss as a
 * Wilson interval, cross-checked with Tempo's own count (TraceQL metrics where the server
 * has them, else a tag search on `tally.run.id`), polled until it agrees or settles.
 *
 * Tested against the genuine Tempo 2.0.1 responses recorded in
 * test/fixtures/tempo-2.0.1 only; not against a live Tempo (AGPL: not built here).
 */
import { createTempoClient } from '../readback/tempo/client.ts';
import { tempoTraceBackend, type TempoCountOptions } from '../readback/tempo/backend.ts';
import { parseTraceIdHex, runIdHexOf, type TraceModel } from '../core/trace-model.ts';
import { sampleRunTraces, type RunTracesRequest, type TraceBackendReadback } from './trace-sample.ts';

/**
 * Verify a run's traces in Tempo.
 * @throws CollectorError `TALLY_COLLECTOR_FAILED` when Tempo cannot be reached at all.
 */
export async function verifyRunTraces(url: string, request: RunTracesRequest): Promise<TraceBackendReadback> {
  const client = createTempoClient({ baseUrl: url });
  try {
    const capabilities = await client.detect();
    const backend = tempoTraceBackend(client, { count: tempoRunCount(request.model, request.traceCount, request.window) });
    const verification = await sampleRunTraces(backend, request);
    return { url, version: capabilities.buildInfo?.version ?? null, generation: capabilities.generation, tracesPlanned: request.traceCount, ...verification };
  } finally {
    await client.close();
  }
}

/** Tempo's count of a run: its root spans by TraceQL metrics, else a tag search on `tally.run.id`. */
function tempoRunCount(model: TraceModel, traceCount: number, window: { startMs: number; endMs: number }): TempoCountOptions {
  const runHex = runIdHexOf(model.runId);
  const startUnixS = Math.floor(window.startMs / 1000);
  const endUnixS = Math.ceil(window.endMs / 1000) + 1;
  return {
    isRunTrace: (hex) => parseTraceIdHex(hex)?.runIdHex === runHex,
    // Every trace has exactly one root span, named `tally-root` (core/trace-model.ts spanName).
    count: { traceql: `{ resource.tally.run.id = "${model.runId}" && name = "tally-root" }`, startUnixS, endUnixS, stepMs: Math.max(1000, (endUnixS - startUnixS) * 1000) },
    search: { tags: { 'tally.run.id': model.runId }, startUnixS, endUnixS, limit: traceCount + 1 },
  };
}
