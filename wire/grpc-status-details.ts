/**
 * The rich gRPC error model as OTLP/gRPC throttling uses it: a `google.rpc.Status` whose
 * `details` carry a `google.rpc.RetryInfo`, sent binary-encoded in the
 * `grpc-status-details-bin` trailer. The exporter reads the retry delay from it; the
 * embedded receiver writes it when fault injection throttles a request.
 *
 * The four messages are declared here from their .proto definitions (googleapis
 * google/rpc/status.proto and error_details.proto, protobuf's any.proto and
 * duration.proto) rather than loaded from files, so the worker side needs no proto tree.
 *
 * @see https://opentelemetry.io/docs/specs/otlp/#otlpgrpc-throttling
 * @see https://github.com/googleapis/googleapis/blob/master/google/rpc/error_details.proto (RetryInfo)
 * @see https://grpc.io/docs/guides/error/#richer-error-model
 */
import protobuf from 'protobufjs';

/** Trailer key of the binary-encoded google.rpc.Status. */
export const GRPC_STATUS_DETAILS_KEY = 'grpc-status-details-bin';
/** `type_url` of a RetryInfo packed in an Any. */
export const RETRY_INFO_TYPE_URL = 'type.googleapis.com/google.rpc.RetryInfo';

const root = protobuf.Root.fromJSON({
  nested: {
    google: {
      nested: {
        protobuf: {
          nested: {
            Any: { fields: { type_url: { type: 'string', id: 1 }, value: { type: 'bytes', id: 2 } } },
            Duration: { fields: { seconds: { type: 'int64', id: 1 }, nanos: { type: 'int32', id: 2 } } },
          },
        },
        rpc: {
          nested: {
            Status: {
              fields: {
                code: { type: 'int32', id: 1 },
                message: { type: 'string', id: 2 },
                details: { rule: 'repeated', type: 'google.protobuf.Any', id: 3 },
              },
            },
            RetryInfo: { fields: { retry_delay: { type: 'google.protobuf.Duration', id: 1 } } },
          },
        },
      },
    },
  },
});
const StatusType = root.lookupType('google.rpc.Status');
const RetryInfoType = root.lookupType('google.rpc.RetryInfo');

/** A decoded google.rpc.Status with the RetryInfo delay when one was attached. */
export interface RichStatus {
  /** google.rpc.Code number. */
  code: number;
  message: string;
  /** RetryInfo.retry_delay in ms; undefined when no RetryInfo was attached. */
  retryDelayMs?: number;
}

/**
 * Encode a google.rpc.Status, with a RetryInfo in `details` when `retryDelayMs` is given.
 * @param retryDelayMs non-negative ms; split into Duration seconds and nanos.
 */
export function encodeRichStatus(status: RichStatus): Buffer {
  const details: { type_url: string; value: Uint8Array }[] = [];
  if (status.retryDelayMs !== undefined) {
    const ms = Math.max(0, Math.round(status.retryDelayMs));
    const retryInfo = RetryInfoType.encode(
      RetryInfoType.fromObject({ retry_delay: { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 } }),
    ).finish();
    details.push({ type_url: RETRY_INFO_TYPE_URL, value: retryInfo });
  }
  const bytes = StatusType.encode(StatusType.fromObject({ code: status.code, message: status.message, details })).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Decode a `grpc-status-details-bin` value. Unknown detail types are ignored.
 * @returns undefined when the bytes are not a google.rpc.Status (a hostile or foreign
 *   trailer is a finding of the attempt, never an exception).
 */
export function decodeRichStatus(bytes: Uint8Array): RichStatus | undefined {
  let status: { code?: number; message?: string; details?: { type_url?: string; value?: Uint8Array }[] };
  try {
    status = StatusType.toObject(StatusType.decode(bytes), { longs: Number }) as typeof status;
  } catch {
    return undefined;
  }
  const out: RichStatus = { code: status.code ?? 0, message: status.message ?? '' };
  for (const any of status.details ?? []) {
    if (any.type_url !== RETRY_INFO_TYPE_URL || any.value === undefined) continue;
    try {
      const info = RetryInfoType.toObject(RetryInfoType.decode(any.value), { longs: Number }) as {
        retry_delay?: { seconds?: number; nanos?: number };
      };
      const d = info.retry_delay ?? {};
      out.retryDelayMs = (d.seconds ?? 0) * 1000 + (d.nanos ?? 0) / 1_000_000;
    } catch {
      // A malformed RetryInfo is treated as absent.
    }
  }
  return out;
}
