/**
 * OTLP/gRPC transport on @grpc/grpc-js: unary `MetricsService/Export` and
 * `TraceService/Export` calls whose request is the pre-encoded protobuf body, passed
 * through identity (de)serialisers (`Client#makeUnaryRequest`), so nothing is encoded
 * twice. gzip is grpc-js's message compression (`grpc-encoding: gzip`); headers become
 * call metadata; TLS is chosen by the endpoint scheme (`https:`), as the OTLP exporter
 * spec says; each call has a deadline of `timeoutMs`. Answers are classified by the
 * OTLP/gRPC failure table, with RetryInfo read from `grpc-status-details-bin`.
 *
 * @see https://opentelemetry.io/docs/specs/otlp/#otlpgrpc
 * @see https://grpc.github.io/grpc/node/grpc.Client.html#makeUnaryRequest
 */
import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import { ConfigError } from '../core/errors.ts';
import { decodeRichStatus, GRPC_STATUS_DETAILS_KEY } from '../wire/grpc-status-details.ts';
import { readTlsFiles } from '../host/tls-files.ts';
import { classifyGrpcStatus, GRPC } from './otlp-exporter-retry.ts';
import { readPartialSuccess } from './otlp-exporter-response.ts';
import type { AttemptResult, ExporterConfig, ExportTransport, OtlpSignal } from './otlp-exporter-types.ts';

/** gRPC method paths of the OTLP collector services. @see opentelemetry/proto/collector/{metrics,trace}/v1/*_service.proto */
export const OTLP_GRPC_PATHS: Record<OtlpSignal, string> = {
  metrics: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
  traces: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
};

const identity = (b: Buffer): Buffer => b;
/** grpc-js compression algorithm number of gzip. @see grpc-js compression-algorithms.ts */
const GRPC_GZIP = 2;

/** The OTLP/gRPC transport. */
export class GrpcTransport implements ExportTransport {
  readonly #client: grpc.Client;
  readonly #metadata: grpc.Metadata;
  readonly #timeoutMs: number;

  /** @throws ConfigError for an endpoint that is not an http(s) URL with a port, or unreadable TLS files. */
  constructor(config: ExporterConfig) {
    let url: URL | undefined;
    try {
      url = new URL(config.endpoint);
    } catch {
      url = undefined;
    }
    if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      throw new ConfigError(`telemetry.endpoint for grpc must be http(s)://host:port, got ${config.endpoint}`, [{ pointer: '/telemetry/endpoint', message: 'expected http://host:port (plaintext) or https://host:port (TLS)' }]);
    }
    const port = url.port || (url.protocol === 'https:' ? '443' : '80');
    let credentials: grpc.ChannelCredentials;
    if (url.protocol === 'https:') {
      const files = readTlsFiles(config.tls);
      credentials = grpc.credentials.createSsl(files.ca ?? null, files.key ?? null, files.cert ?? null, {
        rejectUnauthorized: !(config.tls?.insecureSkipVerify ?? false),
        ...(config.tls?.insecureSkipVerify ? { checkServerIdentity: () => undefined } : {}),
      });
    } else {
      credentials = grpc.credentials.createInsecure();
    }
    const options: grpc.ChannelOptions = {
      'grpc.max_send_message_length': -1,
      'grpc.max_receive_message_length': 4 * 1024 * 1024,
      // Calls fail fast when the channel is down (transport errors are attempts, retried by policy).
      'grpc.enable_retries': 0,
    };
    if (config.compression === 'gzip') options['grpc.default_compression_algorithm'] = GRPC_GZIP;
    if (config.tls?.serverName !== undefined) options['grpc.ssl_target_name_override'] = config.tls.serverName;
    this.#client = new grpc.Client(`${url.hostname}:${port}`, credentials, options);
    this.#metadata = new grpc.Metadata();
    for (const [k, v] of Object.entries(config.headers)) this.#metadata.set(k.toLowerCase(), v);
    this.#timeoutMs = config.timeoutMs;
  }

  prepare(body: Uint8Array): Uint8Array {
    return body;
  }

  send(signal: OtlpSignal, payload: Uint8Array, abort: AbortSignal): Promise<AttemptResult> {
    const t0 = performance.now();
    const elapsedUs = (): number => Math.round((performance.now() - t0) * 1000);
    const argument = Buffer.isBuffer(payload) ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    return new Promise((resolve) => {
      const call = this.#client.makeUnaryRequest<Buffer, Buffer>(
        OTLP_GRPC_PATHS[signal],
        identity,
        identity,
        argument,
        this.#metadata.clone(),
        { deadline: Date.now() + this.#timeoutMs },
        (err, reply) => {
          abort.removeEventListener('abort', onAbort);
          if (err === null || err === undefined) {
            const read = readPartialSuccess(signal, false, reply ?? Buffer.alloc(0));
            if ('error' in read) {
              resolve({ class: 'bad_response', retryable: false, httpStatus: 0, grpcCode: GRPC.OK, rejectedItems: 0, message: read.error, errorCode: 'BAD_RESPONSE', durationUs: elapsedUs() });
              return;
            }
            resolve({ class: read.rejectedItems > 0 ? 'partial_success' : 'success', retryable: false, httpStatus: 0, grpcCode: GRPC.OK, rejectedItems: read.rejectedItems, message: read.message, durationUs: elapsedUs() });
            return;
          }
          const details = err.metadata?.get(GRPC_STATUS_DETAILS_KEY)[0];
          const rich = Buffer.isBuffer(details) ? decodeRichStatus(details) : undefined;
          const c = classifyGrpcStatus(err.code, rich?.retryDelayMs !== undefined);
          resolve({
            class: c.class,
            retryable: c.retryable,
            httpStatus: 0,
            grpcCode: err.code,
            rejectedItems: 0,
            message: rich?.message || err.details,
            errorCode: abort.aborted ? 'ABORTED' : grpc.status[err.code],
            retryAfterMs: rich?.retryDelayMs,
            durationUs: elapsedUs(),
          });
        },
      );
      const onAbort = (): void => call.cancel();
      abort.addEventListener('abort', onAbort, { once: true });
    });
  }

  close(): Promise<void> {
    this.#client.close();
    return Promise.resolve();
  }
}
