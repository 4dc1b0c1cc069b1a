/**
 * Shipping of encoded trace export bodies, behind one small interface so a fuller exporter
 * (gRPC, retries, a queue) can replace it: `send(body, spanCount) → outcome`.
 *
 * The default is OTLP/HTTP over an undici Pool: POST to the `/v1/traces` URL, read
 * partial_success from a 2xx reply with the official serializer's response decoder.
 *
 * @see https://opentelemetry.io/docs/specs/otlp/#otlphttp-response
 */
import { MAX_OTLP_REPLY_BYTES, readCappedBody } from './reply-body.ts';
import { Pool } from 'undici';
import { JsonTraceSerializer, ProtobufTraceSerializer, type IExportTraceServiceResponse } from '@opentelemetry/otlp-transformer';
import { errorBodyMessage } from './otlp-exporter-response.ts';

/** What became of one export request. */
export interface TraceSendOutcome {
  /** HTTP status, 0 when no response arrived. */
  status: number;
  /** partial_success.rejected_spans of a 2xx reply (0 when absent). */
  rejectedSpans: number;
  /** partial_success.error_message, or the error / body text of a failure. */
  message?: string;
  /** The receiver's own words of an error answer (the `google.rpc.Status` message of its body). */
  answerMessage?: string;
  /** errno-style code of a transport failure; `BAD_RESPONSE` for a 2xx whose body cannot be read. */
  errorCode?: string;
  /** From a `Retry-After` header, ms. */
  retryAfterMs?: number;
}

/** Sends one encoded ExportTraceServiceRequest. `send` never rejects: failures are outcomes. */
export interface TraceSender {
  send(body: Uint8Array, spanCount: number): Promise<TraceSendOutcome>;
  close(): Promise<void>;
}

/** Options of {@link createHttpTraceSender}. */
export interface HttpTraceSenderOptions {
  /** Full URL of the traces endpoint, e.g. `http://127.0.0.1:4318/v1/traces`. */
  url: string;
  protocol: 'http/protobuf' | 'http/json';
  headers?: Record<string, string>;
  /** Headers and body timeout per request, ms. */
  timeoutMs: number;
  /** Pool connections. Default 4. */
  connections?: number;
}

/**
 * An OTLP/HTTP trace sender over undici.
 * @see https://undici.nodejs.org/#/docs/api/Pool
 */
export function createHttpTraceSender(options: HttpTraceSenderOptions): TraceSender {
  const url = new URL(options.url);
  const path = url.pathname + url.search;
  const pool = new Pool(url.origin, { connections: options.connections ?? 4, pipelining: 1 });
  const json = options.protocol === 'http/json';
  const headers = { ...options.headers, 'content-type': json ? 'application/json' : 'application/x-protobuf' };
  return {
    async send(body: Uint8Array): Promise<TraceSendOutcome> {
      try {
        const res = await pool.request({ path, method: 'POST', headers, body, headersTimeout: options.timeoutMs, bodyTimeout: options.timeoutMs });
        const read = await readCappedBody(res.body, MAX_OTLP_REPLY_BYTES);
        if (read.tooLarge) return { status: res.statusCode, rejectedSpans: 0, errorCode: 'RESPONSE_TOO_LARGE', message: `reply body over ${MAX_OTLP_REPLY_BYTES} bytes; not read further` };
        const reply = read.bytes;
        if (res.statusCode >= 200 && res.statusCode < 300) return { status: res.statusCode, ...readPartialSuccess(reply, json) };
        const contentType = res.headers['content-type'];
        const outcome: TraceSendOutcome = {
          status: res.statusCode, rejectedSpans: 0, message: Buffer.from(reply.subarray(0, 512)).toString('utf8'),
          answerMessage: errorBodyMessage(reply, Array.isArray(contentType) ? contentType[0] : contentType),
        };
        const retryAfterMs = parseRetryAfterMs(res.headers['retry-after']);
        if (retryAfterMs !== undefined) outcome.retryAfterMs = retryAfterMs;
        return outcome;
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        return { status: 0, rejectedSpans: 0, errorCode: e.code ?? 'other', message: e.message };
      }
    },
    close: () => pool.close(),
  };
}

function readPartialSuccess(reply: Uint8Array, json: boolean): Omit<TraceSendOutcome, 'status'> {
  if (reply.byteLength === 0) return { rejectedSpans: 0 };
  let decoded: IExportTraceServiceResponse;
  try {
    if (json) JSON.parse(Buffer.from(reply).toString('utf8')); // the official decoder logs and returns {} on bad JSON; tell it apart
    decoded = (json ? JsonTraceSerializer : ProtobufTraceSerializer).deserializeResponse(reply);
  } catch (err) {
    // A 2xx whose body cannot be read: the spans' fate is unknown; say so.
    return { rejectedSpans: 0, errorCode: 'BAD_RESPONSE', message: `undecodable export response: ${(err as Error).message}` };
  }
  const rejected = Number(decoded.partialSuccess?.rejectedSpans ?? 0);
  const out: Omit<TraceSendOutcome, 'status'> = { rejectedSpans: Number.isSafeInteger(rejected) && rejected > 0 ? rejected : 0 };
  if (decoded.partialSuccess?.errorMessage) out.message = decoded.partialSuccess.errorMessage;
  return out;
}

function parseRetryAfterMs(value: string | string[] | undefined): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined) return undefined;
  const seconds = Number(v);
  if (Number.isFinite(seconds)) return seconds * 1000;
  const date = Date.parse(v);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
