/**
 * Export responses and error replies, read back with the official response deserializers,
 * and the exported protobuf types used by a real @grpc/grpc-js server and client on loopback.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { ValueType } from '@opentelemetry/api';
import {
  JsonMetricsSerializer, JsonTraceSerializer, ProtobufMetricsSerializer, ProtobufTraceSerializer,
} from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationTemporality, DataPointType, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import {
  decodeMetricsRequest, encodeMetricsResponse, encodeStatus, encodeTraceResponse, type MetricsRequest,
  OTLP_GRPC_METRICS_EXPORT_PATH, OTLP_GRPC_TRACE_EXPORT_PATH, otlpRoot, otlpTypes,
} from '../../../wire/otlp/codec.ts';
import { TallyError } from '../../../core/errors.ts';

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

describe('metrics export responses', () => {
  test('full success is an empty protobuf body and {} in JSON (partial_success omitted)', () => {
    for (const partial of [undefined, { rejectedDataPoints: 0, errorMessage: '' }]) {
      const protobuf = encodeMetricsResponse(partial, 'protobuf');
      assert.equal(protobuf.length, 0);
      assert.deepStrictEqual(ProtobufMetricsSerializer.deserializeResponse(protobuf), {});
      assert.equal(text(encodeMetricsResponse(partial, 'json')), '{}');
    }
  });

  test('partial_success round trips through the official deserializers', () => {
    const partial = { rejectedDataPoints: 2 ** 40 + 1, errorMessage: '5 points over the cardinality limit' };
    assert.deepStrictEqual(ProtobufMetricsSerializer.deserializeResponse(encodeMetricsResponse(partial, 'protobuf')), { partialSuccess: partial });
    const json = JsonMetricsSerializer.deserializeResponse(encodeMetricsResponse(partial, 'json'));
    // proto3 JSON spells int64 as a decimal string.
    assert.deepStrictEqual(json, { partialSuccess: { rejectedDataPoints: String(2 ** 40 + 1), errorMessage: partial.errorMessage } });
  });

  test('a warning without rejections keeps only error_message', () => {
    const partial = { rejectedDataPoints: 0, errorMessage: 'slow down' };
    assert.deepStrictEqual(ProtobufMetricsSerializer.deserializeResponse(encodeMetricsResponse(partial, 'protobuf')), { partialSuccess: { errorMessage: 'slow down' } });
    assert.deepStrictEqual(JSON.parse(text(encodeMetricsResponse(partial, 'json'))), { partialSuccess: { errorMessage: 'slow down' } });
  });

  test('a count that is not a non-negative safe integer is a bug in the caller', () => {
    for (const rejectedDataPoints of [-1, 1.5, Number.NaN, 2 ** 60]) {
      assert.throws(() => encodeMetricsResponse({ rejectedDataPoints, errorMessage: '' }, 'protobuf'), (e: unknown) => e instanceof TallyError && e.code === 'TALLY_INTERNAL');
    }
  });
});

describe('trace export responses', () => {
  test('partial_success round trips; full success is empty', () => {
    const partial = { rejectedSpans: 7, errorMessage: 'trace ids must not be zero' };
    assert.deepStrictEqual(ProtobufTraceSerializer.deserializeResponse(encodeTraceResponse(partial, 'protobuf')), { partialSuccess: partial });
    assert.deepStrictEqual(JsonTraceSerializer.deserializeResponse(encodeTraceResponse(partial, 'json')), { partialSuccess: { rejectedSpans: '7', errorMessage: partial.errorMessage } });
    assert.equal(encodeTraceResponse(undefined, 'protobuf').length, 0);
    assert.equal(text(encodeTraceResponse(undefined, 'json')), '{}');
  });
});

test('google.rpc.Status: code = 1 (varint), message = 2 (string), in protobuf and JSON', () => {
  const status = encodeStatus({ code: 3, message: 'bad' }, 'protobuf');
  assert.deepStrictEqual([...status], [0x08, 0x03, 0x12, 0x03, 0x62, 0x61, 0x64]);
  assert.deepStrictEqual(JSON.parse(text(encodeStatus({ code: 8, message: 'queue full' }, 'json'))), { code: 8, message: 'queue full' });
});

describe('gRPC', () => {
  test('method paths match the services in the loaded root', () => {
    for (const [service, path] of [['metrics', OTLP_GRPC_METRICS_EXPORT_PATH], ['trace', OTLP_GRPC_TRACE_EXPORT_PATH]] as const) {
      const name = `opentelemetry.proto.collector.${service}.v1.${service === 'metrics' ? 'Metrics' : 'Trace'}Service`;
      const method = otlpRoot.lookupService(name).methods.Export;
      assert.equal(path, `/${name}/Export`);
      assert.equal(method.resolvedRequestType, service === 'metrics' ? otlpTypes.ExportMetricsServiceRequest : otlpTypes.ExportTraceServiceRequest);
      assert.equal(method.resolvedResponseType, service === 'metrics' ? otlpTypes.ExportMetricsServiceResponse : otlpTypes.ExportTraceServiceResponse);
    }
  });

  test('a grpc-js server built on the exported types answers an official export on loopback', async () => {
    const request: ResourceMetrics = {
      resource: resourceFromAttributes({ 'service.name': 'grpc-test' }),
      scopeMetrics: [{
        scope: { name: 's' },
        metrics: [{
          descriptor: { name: 'c', description: '', unit: '1', valueType: ValueType.INT }, aggregationTemporality: AggregationTemporality.DELTA,
          dataPointType: DataPointType.SUM, isMonotonic: true, dataPoints: [{ startTime: [1, 0], endTime: [2, 0], attributes: {}, value: 3 }],
        }],
      }],
    };
    const received: MetricsRequest[] = [];
    const server = new grpc.Server();
    server.addService(
      {
        export: {
          path: OTLP_GRPC_METRICS_EXPORT_PATH, requestStream: false, responseStream: false,
          requestSerialize: (value: Uint8Array) => Buffer.from(value),
          // Raw bytes in, so a bad request can be answered with INVALID_ARGUMENT and a pointer.
          requestDeserialize: (bytes: Buffer) => bytes,
          responseSerialize: (value: Uint8Array) => Buffer.from(value),
          responseDeserialize: (bytes: Buffer) => bytes,
        },
      },
      {
        export: (call: grpc.ServerUnaryCall<Buffer, Uint8Array>, callback: grpc.sendUnaryData<Uint8Array>) => {
          received.push(decodeMetricsRequest(call.request, 'protobuf'));
          callback(null, encodeMetricsResponse({ rejectedDataPoints: 1, errorMessage: 'one too many' }, 'protobuf'));
        },
      },
    );
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))));
    const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    try {
      const reply = await new Promise<Buffer>((resolve, reject) =>
        client.makeUnaryRequest(OTLP_GRPC_METRICS_EXPORT_PATH, (v: Uint8Array) => Buffer.from(v), (b: Buffer) => b,
          ProtobufMetricsSerializer.serializeRequest(request)!, (error, value) => (error ? reject(error) : resolve(value!))));
      assert.deepStrictEqual(ProtobufMetricsSerializer.deserializeResponse(reply), { partialSuccess: { rejectedDataPoints: 1, errorMessage: 'one too many' } });
      const decoded = otlpTypes.ExportMetricsServiceResponse.toObject(otlpTypes.ExportMetricsServiceResponse.decode(reply), { longs: Number });
      assert.deepStrictEqual(decoded, { partialSuccess: { rejectedDataPoints: 1, errorMessage: 'one too many' } });
      assert.equal(received.length, 1);
      const metric = received[0].resourceMetrics[0].scopeMetrics[0].metrics[0];
      assert.equal(metric.kind === 'sum' && metric.dataPoints[0].value, 3);
    } finally {
      client.close();
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    }
  });

  test('the exported request type re-encodes what it decodes', () => {
    const body = ProtobufMetricsSerializer.serializeRequest({
      resource: resourceFromAttributes({ a: 1, b: ['x', 'y'] }),
      scopeMetrics: [{
        scope: { name: 's' },
        metrics: [{
          descriptor: { name: 'g', description: '', unit: '', valueType: ValueType.DOUBLE }, aggregationTemporality: AggregationTemporality.CUMULATIVE,
          dataPointType: DataPointType.GAUGE, dataPoints: [{ startTime: [1, 5], endTime: [2, 6], attributes: { k: 'v' }, value: 0.5 }],
        }],
      }],
    })!;
    const type = otlpTypes.ExportMetricsServiceRequest;
    const reencoded = type.encode(type.decode(body)).finish();
    assert.deepStrictEqual(decodeMetricsRequest(reencoded, 'protobuf'), decodeMetricsRequest(body, 'protobuf'));
  });
});
