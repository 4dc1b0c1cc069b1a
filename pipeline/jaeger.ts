/**
 * Jaeger read-back of a run (`backends.jaeger`): the same seeded, stratified sample of the
 * run's traces as for Tempo, read by id from Jaeger's v3 API and compared span by span with
 * the trace model; trace loss as a Wilson interval, cross-checked with a search on the run's
 * service and `tally.run.id` tag, polled until it agrees or settles.
 *
 * Verified live against Jaeger v2 (1.75, in-memory storage) in test/e2e/jaeger-*.test.ts.
 */
import { createJaegerClient } from '../readback/jaeger/client.ts';
import { jaegerTraceBackend } from '../readback/jaeger/backend.ts';
import { parseTraceIdHex, runIdHexOf, traceResourceAttributes } from '../core/trace-model.ts';
import { sampleRunTraces, type RunTracesRequest, type TraceBackendReadback } from './trace-sample.ts';

/** Slack around the run's window in the count's search, ms: span start times are the model's, not the send times. */
const WINDOW_SLACK_MS = 60_000;

/**
 * Verify a run's traces in Jaeger.
 * @throws CollectorError `TALLY_COLLECTOR_FAILED` when Jaeger cannot be reached at all.
 */
export async function verifyRunTracesJaeger(url: string, request: RunTracesRequest): Promise<TraceBackendReadback> {
  const client = createJaegerClient({ baseUrl: url, backendName: 'Jaeger' });
  try {
    const { model, traceCount, window } = request;
    const runHex = runIdHexOf(model.runId);
    const backend = jaegerTraceBackend(client, {
      isRunTrace: (hex) => parseTraceIdHex(hex)?.runIdHex === runHex,
      search: {
        service: traceResourceAttributes(model, 0)['service.name'],
        tags: { 'tally.run.id': model.runId },
        startUs: (window.startMs - WINDOW_SLACK_MS) * 1000,
        endUs: (window.endMs + WINDOW_SLACK_MS) * 1000,
        limit: traceCount + 1,
      },
    });
    const verification = await sampleRunTraces(backend, request);
    return { url, version: null, generation: 'jaeger-v2', tracesPlanned: traceCount, ...verification };
  } finally {
    await client.close();
  }
}
