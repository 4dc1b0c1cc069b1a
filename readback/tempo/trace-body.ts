/**
 * Decode a trace-by-id reply body (JSON or protobuf, v1 or v2) into a {@link TempoTrace}.
 *
 * Shapes, as recorded from Tempo 2.0.1 (v1) and documented for later versions (v2):
 * - v1 JSON: `{"batches":[ResourceSpans…]}`; ids base64; 64-bit integers as strings; enums as names.
 * - v1 protobuf: `tempopb.Trace`.
 * - v2 JSON: `{"trace":{"resourceSpans":[…]},"status":"PARTIAL"?,"message"?}` (not verified against a server).
 * - v2 protobuf: `tempopb.TraceByIDResponse` (not verified against a server).
 */
import { bad, spansFromResourceSpans } from './trace-normalize.ts';
import { decodeTraceProtobuf } from './trace-proto.ts';
import type { HttpReply } from './http.ts';
import type { TempoTrace } from './types.ts';

/** `Accept` values the adapter sends for trace-by-id. */
export const ACCEPT = { json: 'application/json', protobuf: 'application/protobuf' } as const;

/**
 * Decode a 200 trace-by-id reply.
 * @param reply the HTTP answer; its `content-type` decides the decoder (the `Accept` sent is only a request).
 * @param traceId the 32-hex id that was asked for.
 * @param api which endpoint answered.
 * @returns the trace, spans in body order.
 * @throws CollectorError `TALLY_COLLECTOR_BAD_REPLY` naming what was expected when the body does not decode.
 * @see https://grafana.com/docs/tempo/latest/api_docs/#query
 * @see https://grafana.com/docs/tempo/latest/api_docs/#query-v2
 */
export function decodeTraceReply(reply: HttpReply, traceId: string, api: 'v1' | 'v2'): TempoTrace {
  const type = reply.contentType.split(';')[0].trim().toLowerCase();
  if (type === 'application/protobuf' || type === 'application/x-protobuf') {
    const where = `${reply.endpoint} (protobuf)`;
    const decoded = decodeTraceProtobuf(reply.body, api === 'v1' ? 'trace' : 'trace_by_id_response', where);
    return {
      traceId,
      spans: spansFromResourceSpans(decoded.batches, where),
      completeness: decoded.completeness,
      source: { api, encoding: 'protobuf' },
    };
  }
  if (type === 'application/json') {
    const where = `${reply.endpoint} (JSON)`;
    const body = parseJsonObject(reply.body, where, api === 'v1' ? '{"batches":[…]}' : '{"trace":{"resourceSpans":[…]}}');
    const { batches, completeness } = api === 'v1' ? v1Batches(body) : v2Batches(body, where);
    return { traceId, spans: spansFromResourceSpans(batches, where), completeness, source: { api, encoding: 'json' } };
  }
  throw bad(reply.endpoint, `content-type ${JSON.stringify(reply.contentType)}`, 'application/json or application/protobuf');
}

function v1Batches(body: Record<string, unknown>): { batches: unknown; completeness: 'complete' } {
  // Tempo rewrites the first `resourceSpans` key to `batches`; accept either spelling.
  return { batches: body.batches ?? body.resourceSpans ?? [], completeness: 'complete' };
}

function v2Batches(body: Record<string, unknown>, where: string): { batches: unknown; completeness: 'complete' | 'partial' } {
  const trace = body.trace ?? {};
  if (typeof trace !== 'object' || trace === null) throw bad(where, '"trace" is not an object', '{"trace":{"resourceSpans":[…]}}');
  const inner = trace as Record<string, unknown>;
  return { batches: inner.resourceSpans ?? inner.batches ?? [], completeness: body.status === 'PARTIAL' || body.status === 1 ? 'partial' : 'complete' };
}

/**
 * Parse a JSON object body.
 * @throws CollectorError `TALLY_COLLECTOR_BAD_REPLY` with `expected` when it is not JSON or not an object.
 */
export function parseJsonObject(body: Buffer, where: string, expected: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw bad(where, `body is not JSON (${(error as Error).message}); it starts ${JSON.stringify(body.subarray(0, 60).toString('utf8'))}`, expected);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad(where, 'body is not a JSON object', expected);
  return value as Record<string, unknown>;
}
