/**
 * Reading OTLP export replies: the partial_success of a successful response, and the
 * google.rpc.Status message of an OTLP/HTTP error body. Decoding uses the official
 * @opentelemetry/otlp-transformer serializers (the ones the generator encodes with).
 *
 * @see https://opentelemetry.io/docs/specs/otlp/#partial-success
 * @see https://opentelemetry.io/docs/specs/otlp/#failures-1
 */
import { JsonMetricsSerializer, JsonTraceSerializer, ProtobufMetricsSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { decodeRichStatus } from '../wire/grpc-status-details.ts';
import type { OtlpSignal } from './otlp-exporter-types.ts';

/** A read partial_success, or why the body could not be read. */
export type PartialSuccessRead = { rejectedItems: number; message?: string } | { error: string };

/**
 * Read the partial_success of an Export*ServiceResponse (an empty body is full success).
 * @param json true for an OTLP/HTTP JSON body.
 */
export function readPartialSuccess(signal: OtlpSignal, json: boolean, bytes: Uint8Array): PartialSuccessRead {
  if (bytes.byteLength === 0) return { rejectedItems: 0 };
  try {
    if (signal === 'metrics') {
      const reply = (json ? JsonMetricsSerializer : ProtobufMetricsSerializer).deserializeResponse(bytes);
      const p = reply.partialSuccess;
      return { rejectedItems: Number(p?.rejectedDataPoints ?? 0), message: p?.errorMessage || undefined };
    }
    const reply = (json ? JsonTraceSerializer : ProtobufTraceSerializer).deserializeResponse(bytes);
    const p = reply.partialSuccess;
    return { rejectedItems: Number(p?.rejectedSpans ?? 0), message: p?.errorMessage || undefined };
  } catch (err) {
    return { error: `undecodable export response: ${(err as Error).message}` };
  }
}

const MAX_MESSAGE_CHARS = 512;

/** The message of an OTLP/HTTP error body (a google.rpc.Status), or its first bytes as text. */
export function errorBodyMessage(bytes: Uint8Array, contentType: string | undefined): string {
  if (bytes.byteLength === 0) return '';
  const type = (contentType ?? '').toLowerCase();
  if (type.includes('protobuf')) {
    const status = decodeRichStatus(bytes);
    if (status !== undefined && status.message !== '') return status.message.slice(0, MAX_MESSAGE_CHARS);
  } else if (type.includes('json')) {
    try {
      const status = JSON.parse(Buffer.from(bytes).toString('utf8')) as { message?: unknown };
      if (typeof status.message === 'string') return status.message.slice(0, MAX_MESSAGE_CHARS);
    } catch {
      // fall through to the raw text
    }
  }
  return Buffer.from(bytes.subarray(0, MAX_MESSAGE_CHARS)).toString('utf8');
}
