/**
 * Tempo's protobuf envelopes, on bytes written field by field here (not by the decoder's
 * own types): the v1 `tempopb.Trace` with a pre-1.0 `instrumentation_library_spans`
 * (field 1000) batch, and the v2 `TraceByIDResponse` with its PARTIAL status.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import protobuf from 'protobufjs';
import { decodeTraceProtobuf } from '../../../readback/tempo/trace-proto.ts';

const TRACE_ID = Buffer.from('0102030405060708090a0b0c0d0e0f10', 'hex');
const SPAN_ID = Buffer.from('1112131415161718', 'hex');

/** Span { trace_id = 1, span_id = 2, name = 5, start = 7 }. */
function span(): Uint8Array {
  return protobuf.Writer.create().uint32(0x0a).bytes(TRACE_ID).uint32(0x12).bytes(SPAN_ID).uint32(0x2a).string('legacy')
    .uint32(0x39).fixed64('1700000000000000000' as unknown as number).finish();
}

test('v1 Trace: a pre-1.0 instrumentation_library_spans batch decodes with its spans', () => {
  const library = protobuf.Writer.create().uint32(0x0a).bytes(protobuf.Writer.create().uint32(0x0a).string('lib').finish()).uint32(0x12).bytes(span()).finish();
  const resourceSpans = protobuf.Writer.create().uint32((1000 << 3) | 2).bytes(library).finish();
  const body = protobuf.Writer.create().uint32(0x0a).bytes(resourceSpans).finish();
  const { batches, completeness } = decodeTraceProtobuf(body, 'trace', 'test');
  assert.equal(completeness, 'complete');
  const ils = (batches[0] as { instrumentationLibrarySpans: { instrumentationLibrary: { name: string }; spans: { name: string; traceId: Uint8Array; startTimeUnixNano: string }[] }[] }).instrumentationLibrarySpans[0];
  assert.equal(ils.instrumentationLibrary.name, 'lib');
  assert.equal(ils.spans[0].name, 'legacy');
  assert.equal(Buffer.from(ils.spans[0].traceId).toString('hex'), TRACE_ID.toString('hex'));
  assert.equal(ils.spans[0].startTimeUnixNano, '1700000000000000000');
});

test('v2 TraceByIDResponse: resource_spans inside trace, status PARTIAL', () => {
  const scopeSpans = protobuf.Writer.create().uint32(0x12).bytes(span()).finish();
  const resourceSpans = protobuf.Writer.create().uint32(0x12).bytes(scopeSpans).finish();
  const trace = protobuf.Writer.create().uint32(0x0a).bytes(resourceSpans).finish();
  const body = protobuf.Writer.create().uint32(0x0a).bytes(trace).uint32(0x18).int32(1).finish();
  const { batches, completeness } = decodeTraceProtobuf(body, 'trace_by_id_response', 'test');
  assert.equal(completeness, 'partial');
  assert.equal((batches[0] as { scopeSpans: { spans: { name: string }[] }[] }).scopeSpans[0].spans[0].name, 'legacy');
  assert.throws(() => decodeTraceProtobuf(Buffer.from([0x0a, 0xff]), 'trace', 'test'), { code: 'TALLY_COLLECTOR_BAD_REPLY' });
});
