/**
 * The embedded receiver's OTLP/gRPC listener (@grpc/grpc-js server): unary
 * `MetricsService/Export` and `TraceService/Export` with raw-bytes handlers (identity
 * (de)serialisers), decoded by codec.ts through {@link ReceiverCore}. grpc-js inflates
 * gzip messages (`grpc-encoding: gzip`) itself. Verdicts map to OTLP/gRPC answers: OK
 * with an Export*ServiceResponse (partial_success), INVALID_ARGUMENT, UNAVAILABLE and
 * RESOURCE_EXHAUSTED, the last two with a google.rpc.RetryInfo in
 * `grpc-status-details-bin` unless fault hints are off.
 *
 * @see https://opentelemetry.io/docs/specs/otlp/#otlpgrpc-response
 * @see https://grpc.github.io/grpc/node/grpc.Server.html#addService
 */
import * as grpc from '@grpc/grpc-js';
import { encodeRichStatus, GRPC_STATUS_DETAILS_KEY } from '../wire/grpc-status-details.ts';
import { encodeMetricsResponse, encodeTraceResponse, OTLP_GRPC_METRICS_EXPORT_PATH, OTLP_GRPC_TRACE_EXPORT_PATH } from '../wire/otlp/codec.ts';
import type { ReceiverCore, ReceiverTls, Verdict } from './otlp-receiver.ts';

const identity = (b: Buffer): Buffer => b;

function method(path: string): grpc.MethodDefinition<Buffer, Buffer> {
  return { path, requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity };
}

/** A gRPC error carrying a google.rpc.Status (with RetryInfo when `retryDelayMs` is set) in its trailers. */
function richError(code: grpc.status, message: string, retryDelayMs: number | undefined): Partial<grpc.StatusObject> {
  const metadata = new grpc.Metadata();
  metadata.set(GRPC_STATUS_DETAILS_KEY, encodeRichStatus({ code, message, retryDelayMs }));
  return { code, details: message, metadata };
}

/**
 * Start the gRPC listener on a free port of `host`.
 * @throws Error from grpc-js when it cannot bind (the caller wraps it in a CollectorError).
 */
export async function startGrpcReceiver(core: ReceiverCore, host: string, tls: ReceiverTls | undefined): Promise<{ url: string; close(): Promise<void> }> {
  const server = new grpc.Server({
    'grpc.max_receive_message_length': core.maxBodyBytes,
  });
  const handler =
    (signal: 'metrics' | 'traces'): grpc.handleUnaryCall<Buffer, Buffer> =>
    (call, callback) => {
      core.stats.requests++;
      core.stats.grpcRequests++;
      core.stats.bytesReceived += call.request.byteLength;
      const work = signal === 'metrics' ? core.metrics(call.request, 'protobuf', 'grpc') : core.traces(call.request, 'protobuf', 'grpc');
      work.then(
        (verdict: Verdict) => {
          switch (verdict.kind) {
            case 'ok': {
              const partial = verdict.rejected > 0 || verdict.message !== '' ? verdict : undefined;
              const body =
                signal === 'metrics'
                  ? encodeMetricsResponse(partial && { rejectedDataPoints: partial.rejected, errorMessage: partial.message }, 'protobuf')
                  : encodeTraceResponse(partial && { rejectedSpans: partial.rejected, errorMessage: partial.message }, 'protobuf');
              return callback(null, Buffer.from(body.buffer, body.byteOffset, body.byteLength));
            }
            case 'invalid':
              return callback({ code: grpc.status.INVALID_ARGUMENT, details: verdict.message });
            case 'unavailable':
              return callback(richError(grpc.status.UNAVAILABLE, 'tally fault injection: unavailable', core.plan.retryInfoMs()));
            case 'throttled':
              return callback(richError(grpc.status.RESOURCE_EXHAUSTED, verdict.message ?? 'tally fault injection: throttled', core.plan.retryInfoMs()));
          }
        },
        (err: unknown) => callback({ code: grpc.status.INTERNAL, details: `internal error: ${(err as Error).message}` }),
      );
    };
  server.addService({ Export: method(OTLP_GRPC_METRICS_EXPORT_PATH) }, { Export: handler('metrics') });
  server.addService({ Export: method(OTLP_GRPC_TRACE_EXPORT_PATH) }, { Export: handler('traces') });
  const credentials = tls
    ? grpc.ServerCredentials.createSsl(tls.ca === undefined ? null : Buffer.from(tls.ca), [{ cert_chain: Buffer.from(tls.cert), private_key: Buffer.from(tls.key) }], tls.requireClientCert ?? false)
    : grpc.ServerCredentials.createInsecure();
  const port = await new Promise<number>((resolve, reject) => server.bindAsync(`${host}:0`, credentials, (err, p) => (err ? reject(err) : resolve(p))));
  return {
    url: `${tls ? 'https' : 'http'}://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.forceShutdown();
        resolve();
      }),
  };
}
