/**
 * Protobuf decoding of Tempo trace-by-id bodies (`Accept: application/protobuf`).
 *
 * Isolated on purpose: this module holds a minimal, reflection-defined subset of
 * opentelemetry-proto plus the two Tempo envelopes. When the shared definitions under
 * `collectors/otlp/proto/` exist, only this file changes; it must keep returning plain
 * OTLP-shaped objects for `spansFromResourceSpans`.
 *
 * Field numbers follow opentelemetry-proto `trace/v1/trace.proto`, `common/v1/common.proto`,
 * `resource/v1/resource.proto`, and Tempo's `pkg/tempopb/tempo.proto`
 * (`Trace { repeated ResourceSpans batches = 1; }`). `instrumentation_library_spans = 1000`
 * is the pre-1.0 OTLP field that old Tempo bodies may still carry.
 */
import protobuf from 'protobufjs';
import { bad } from './trace-normalize.ts';

const SCHEMA = `
syntax = "proto3";
package tally.tempo;

message AnyValue {
  oneof value {
    string string_value = 1;
    bool bool_value = 2;
    int64 int_value = 3;
    double double_value = 4;
    ArrayValue array_value = 5;
    KeyValueList kvlist_value = 6;
    bytes bytes_value = 7;
  }
}
message ArrayValue { repeated AnyValue values = 1; }
message KeyValueList { repeated KeyValue values = 1; }
message KeyValue { string key = 1; AnyValue value = 2; }
message InstrumentationScope { string name = 1; string version = 2; repeated KeyValue attributes = 3; uint32 dropped_attributes_count = 4; }
message Resource { repeated KeyValue attributes = 1; uint32 dropped_attributes_count = 2; }

message Status { string message = 2; int32 code = 3; }
message Event { fixed64 time_unix_nano = 1; string name = 2; repeated KeyValue attributes = 3; uint32 dropped_attributes_count = 4; }
message Link { bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; repeated KeyValue attributes = 4; uint32 dropped_attributes_count = 5; fixed32 flags = 6; }
message Span {
  bytes trace_id = 1;
  bytes span_id = 2;
  string trace_state = 3;
  bytes parent_span_id = 4;
  string name = 5;
  int32 kind = 6;
  fixed64 start_time_unix_nano = 7;
  fixed64 end_time_unix_nano = 8;
  repeated KeyValue attributes = 9;
  uint32 dropped_attributes_count = 10;
  repeated Event events = 11;
  uint32 dropped_events_count = 12;
  repeated Link links = 13;
  uint32 dropped_links_count = 14;
  Status status = 15;
  fixed32 flags = 16;
}
message ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; string schema_url = 3; }
message InstrumentationLibrarySpans { InstrumentationScope instrumentation_library = 1; repeated Span spans = 2; string schema_url = 3; }
message ResourceSpans {
  Resource resource = 1;
  repeated ScopeSpans scope_spans = 2;
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

const root = protobuf.parse(SCHEMA, { keepCase: false }).root;
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
