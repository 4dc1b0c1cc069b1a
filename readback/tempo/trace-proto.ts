/**
 * Protobuf decoding of Tempo trace-by-id bodies (`Accept: application/protobuf`).
 *
 * The OTLP messages come from the shared opentelemetry-proto definitions under
 * `wire/otlp/proto/` (loaded into a Root of this module's own); only Tempo's
 * envelopes are declared here: `tempopb.Trace { repeated ResourceSpans batches = 1; }`
 * (Tempo's `pkg/tempopb/tempo.proto`) and the v2 `TraceByIDResponse`. Their
 * `ResourceSpans` also reads `instrumentation_library_spans = 1000`, the pre-1.0 OTLP
 * field that old Tempo bodies may still carry, which current OTLP no longer declares.
 */
import protobuf from 'protobufjs';
import { loadProtoRoot } from '../../wire/otlp/messages.ts';
import { bad } from './trace-normalize.ts';

const TEMPO_ENVELOPES = `
syntax = "proto3";
package tally.tempo;

message InstrumentationLibrarySpans {
  .opentelemetry.proto.common.v1.InstrumentationScope instrumentation_library = 1;
  repeated .opentelemetry.proto.trace.v1.Span spans = 2;
  string schema_url = 3;
}
// OTLP ResourceSpans plus its pre-1.0 field; same wire form otherwise.
message ResourceSpans {
  .opentelemetry.proto.resource.v1.Resource resource = 1;
  repeated .opentelemetry.proto.trace.v1.ScopeSpans scope_spans = 2;
  string schema_url = 3;
  repeated InstrumentationLibrarySpans instrumentation_library_spans = 1000;
}

// tempopb.Trace
message Trace { repeated ResourceSpans batches = 1; }
// tempopb.Trace as later versions name it; same wire form.
message TraceResourceSpans { repeated ResourceSpans resource_spans = 1; }
// tempopb.TraceByIDResponse (v2 trace by id); status: 0 COMPLETE, 1 PARTIAL.
message TraceByIDResponse { TraceResourceSpans trace = 1; int32 status = 3; string message = 4; }
`;

const root = loadProtoRoot(['opentelemetry/proto/trace/v1/trace.proto']);
protobuf.parse(TEMPO_ENVELOPES, root, { keepCase: false });
root.resolveAll();
const TraceType = root.lookupType('tally.tempo.Trace');
const ByIdResponseType = root.lookupType('tally.tempo.TraceByIDResponse');
// int64/fixed64 as decimal strings (BigInt-able, like JSON); bytes stay bytes; enums numeric.
const TO_OBJECT: protobuf.IConversionOptions = { longs: String, enums: Number, defaults: false, arrays: true, oneofs: false };

/** A decoded protobuf trace body, OTLP-shaped, ready for `spansFromResourceSpans`. */
export interface DecodedTraceBody {
  /** The `ResourceSpans` list. */
  batches: unknown[];
  /** `partial` when a v2 envelope says so. */
  completeness: 'complete' | 'partial';
}

/**
 * Decode a protobuf trace-by-id body.
 * @param body the raw body bytes.
 * @param envelope `trace` for v1 (`tempopb.Trace`), `trace_by_id_response` for v2 (`tempopb.TraceByIDResponse`).
 * @param where the request, for errors.
 * @throws CollectorError `TALLY_COLLECTOR_BAD_REPLY` when the bytes are not that message.
 * @see https://grafana.com/docs/tempo/latest/api_docs/#query
 */
export function decodeTraceProtobuf(body: Uint8Array, envelope: 'trace' | 'trace_by_id_response', where: string): DecodedTraceBody {
  const type = envelope === 'trace' ? TraceType : ByIdResponseType;
  let object: Record<string, unknown>;
  try {
    object = type.toObject(type.decode(body), TO_OBJECT) as Record<string, unknown>;
  } catch (error) {
    throw bad(where, `protobuf decode failed (${(error as Error).message})`, `a ${type.name === 'Trace' ? 'tempopb.Trace' : 'tempopb.TraceByIDResponse'} message`);
  }
  if (envelope === 'trace') return { batches: (object.batches as unknown[] | undefined) ?? [], completeness: 'complete' };
  const trace = (object.trace as { resourceSpans?: unknown[] } | undefined) ?? {};
  return { batches: trace.resourceSpans ?? [], completeness: object.status === 1 ? 'partial' : 'complete' };
}
