/**
 * The embedded receiver's OTLP/HTTP listener (node:http, or node:https with TLS):
 * `POST /v1/metrics` and `/v1/traces`, protobuf or JSON, gzip bodies. It maps the
 * protocol-neutral {@link Verdict} of {@link ReceiverCore} onto the OTLP/HTTP answers:
 * 200 with an Export*ServiceResponse, 400 with a google.rpc.Status (INVALID_ARGUMENT),
 * 503 (UNAVAILABLE) and 429 (RESOURCE_EXHAUSTED) with Retry-After; and 404, 405, 413,
 * 415 for what never reaches the core.
 *
 * @see https://opentelemetry.io/docs/specs/otlp/#otlphttp-response
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { CollectorError } from '../core/errors.ts';
import { encodeMetricsResponse, encodeStatus, encodeTraceResponse, type OtlpFormat } from '../wire/otlp/codec.ts';
import type { ReceiverCore, ReceiverTls, Verdict } from './otlp-receiver.ts';

/** google.rpc.Code numbers used in replies. */
const CODE = { INVALID_ARGUMENT: 3, RESOURCE_EXHAUSTED: 8, UNAVAILABLE: 14 } as const;

function formatOf(contentType: string | undefined): OtlpFormat | undefined {
  const type = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (type === 'application/x-protobuf' || type === 'application/protobuf') return 'protobuf';
  if (type === 'application/json') return 'json';
  return undefined;
}

function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | 'too_large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > maxBytes) {
        // Stop buffering; the caller answers 413 and closes the connection after the reply.
        req.removeAllListeners('data');
        req.resume();
        resolve('too_large');
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks, size)));
    req.on('error', reject);
  });
}

/**
 * Start the HTTP(S) listener on a free port of `host`.
 * @throws CollectorError `TALLY_COLLECTOR_FAILED` when it cannot listen.
 */
export async function startHttpListener(core: ReceiverCore, host: string, tls: ReceiverTls | undefined): Promise<{ url: string; close(): Promise<void> }> {
  const stats = core.stats;
  const reply = (res: ServerResponse, status: number, format: OtlpFormat, body: Uint8Array, extra: Record<string, string> = {}): void => {
    res.writeHead(status, { 'content-type': format === 'json' ? 'application/json' : 'application/x-protobuf', 'content-length': String(body.byteLength), ...extra });
    res.end(body);
  };
  const refuse = (res: ServerResponse, status: number, format: OtlpFormat, code: number, message: string): void => {
    stats.requestsRefused++;
    reply(res, status, format, encodeStatus({ code, message }, format));
  };
  const answer = (res: ServerResponse, verdict: Verdict, format: OtlpFormat, signal: 'metrics' | 'traces'): void => {
    const retryAfter = core.plan.retryAfterHeader(Date.now());
    const hint: Record<string, string> = retryAfter === undefined ? {} : { 'retry-after': retryAfter };
    switch (verdict.kind) {
      case 'ok': {
        const partial = verdict.rejected > 0 || verdict.message !== '' ? verdict : undefined;
        const body =
          signal === 'metrics'
            ? encodeMetricsResponse(partial && { rejectedDataPoints: partial.rejected, errorMessage: partial.message }, format)
            : encodeTraceResponse(partial && { rejectedSpans: partial.rejected, errorMessage: partial.message }, format);
        return reply(res, 200, format, body);
      }
      case 'invalid':
        return reply(res, 400, format, encodeStatus({ code: CODE.INVALID_ARGUMENT, message: verdict.message }, format));
      case 'unavailable':
        return reply(res, 503, format, encodeStatus({ code: CODE.UNAVAILABLE, message: 'tally fault injection: unavailable' }, format), hint);
      case 'throttled':
        return reply(res, 429, format, encodeStatus({ code: CODE.RESOURCE_EXHAUSTED, message: verdict.message ?? 'tally fault injection: throttled' }, format), hint);
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    stats.requests++;
    const path = (req.url ?? '').split('?')[0];
    const signal = path === '/v1/metrics' ? 'metrics' : path === '/v1/traces' ? 'traces' : undefined;
    if (signal === undefined) {
      res.writeHead(404).end();
      return;
    }
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST' }).end();
      return;
    }
    const format = formatOf(req.headers['content-type']);
    if (format === undefined) {
      refuse(res, 415, 'protobuf', CODE.INVALID_ARGUMENT, `unsupported content-type ${JSON.stringify(req.headers['content-type'] ?? '')}; expected application/x-protobuf or application/json`);
      return;
    }
    let body = await readBody(req, core.maxBodyBytes);
    if (body === 'too_large') {
      res.setHeader('connection', 'close');
      res.on('finish', () => req.socket.destroy());
      refuse(res, 413, format, CODE.RESOURCE_EXHAUSTED, `body larger than ${core.maxBodyBytes} bytes`);
      return;
    }
    stats.bytesReceived += body.length;
    if ((req.headers['content-encoding'] ?? '').toLowerCase() === 'gzip') {
      stats.requestsCompressed++;
      try {
        body = gunzipSync(body, { maxOutputLength: core.maxBodyBytes });
      } catch (err) {
        refuse(res, 400, format, CODE.INVALID_ARGUMENT, `gzip body cannot be inflated: ${(err as Error).message}`);
        return;
      }
    }
    const verdict = signal === 'metrics' ? await core.metrics(body, format, 'http') : await core.traces(body, format, 'http');
    answer(res, verdict, format, signal);
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`internal error: ${(err as Error).message}`);
    });
  };
  const server: Server = tls
    ? createHttpsServer({ cert: tls.cert, key: tls.key, ca: tls.ca, requestCert: tls.requireClientCert ?? false, rejectUnauthorized: tls.requireClientCert ?? false }, onRequest)
    : createHttpServer(onRequest);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (cause) => reject(new CollectorError(`embedded OTLP receiver cannot listen on ${host}: ${cause.message}`, { cause })));
    server.listen({ host, port: 0 }, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `${tls ? 'https' : 'http'}://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
