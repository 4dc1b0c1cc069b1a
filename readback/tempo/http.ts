/**
 * HTTP transport for the Tempo adapter: one undici `Pool` per client, authentication,
 * timeouts, body size cap, content decoding, and classification of transport failures.
 *
 * Credentials (bearer token, basic password, secret-looking custom headers, userinfo in
 * the base URL) are kept in this module only. Every string that leaves it (error
 * messages, details, body text) goes through {@link HttpTransport.redact}.
 */
import { isSecretHeader } from '../../core/header-secrets.ts';
import { readFile } from 'node:fs/promises';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import { Pool } from 'undici';
import { CollectorError, ConfigError } from '../../core/errors.ts';
import { classifyTransportError } from '../../core/transport-errors.ts';

/** How to authenticate to Tempo (or the gateway in front of it). */
export type TempoAuth =
  | { kind: 'none' }
  /** `Authorization: Bearer <token>`, the token read from a file (re-read once after a 401, for rotated tokens). */
  | { kind: 'bearer_file'; tokenPath: string }
  /** `Authorization: Basic base64(username:password)`. */
  | { kind: 'basic'; username: string; password: string };

/** Transport options. */
export interface HttpTransportOptions {
  /** Tempo's HTTP base, e.g. `http://127.0.0.1:3200` or `https://gw.example/tempo`. Userinfo becomes basic auth. */
  baseUrl: string;
  auth?: TempoAuth;
  /** Extra request headers, e.g. `X-Scope-OrgID`. Values of names that look secret are redacted from output. */
  headers?: Record<string, string>;
  /** TCP (and TLS) connect timeout, milliseconds. Default 2000. */
  connectTimeoutMs?: number;
  /** Whole-request deadline, headers and body, milliseconds. Default 30000. */
  requestTimeoutMs?: number;
  /** Largest body accepted after decoding, bytes. Default 64 MiB. */
  maxBodyBytes?: number;
  /** Concurrent connections to Tempo. Default 8. */
  connections?: number;
  /** The backend's name in error messages. Default `Tempo` (the Jaeger adapter shares this transport). */
  backendName?: string;
}

/** A complete HTTP answer. */
export interface HttpReply {
  status: number;
  /** `content-type` header, `''` when absent. */
  contentType: string;
  /** Decoded body. */
  body: Buffer;
  /** `GET /path?query`, for results and errors. */
  endpoint: string;
}

/** Why a request got no HTTP answer, in `CollectorError.details.reason`. */
export type { TransportFailureReason } from '../../core/transport-errors.ts';

/** The transport a `TempoClient` sends through. */
export interface HttpTransport {
  /**
   * GET a path below the base URL.
   * @param pathAndQuery e.g. `/api/search?q=...`; already percent-encoded.
   * @param accept the `Accept` header value.
   * @throws CollectorError `TALLY_COLLECTOR_FAILED` (details.reason a {@link TransportFailureReason}) when no answer came;
   *   `TALLY_COLLECTOR_BAD_REPLY` when the body is too large or cannot be decoded.
   */
  get(pathAndQuery: string, accept: string): Promise<HttpReply>;
  /** Replace every known credential in `text` with `[redacted]`. */
  redact(text: string): string;
  /** Close the pool's connections. */
  close(): Promise<void>;
}

const DEFAULTS = { connectTimeoutMs: 2000, requestTimeoutMs: 30_000, maxBodyBytes: 64 * 1024 * 1024, connections: 8 };

/**
 * Create the transport.
 * @throws ConfigError `TALLY_CONFIG_INVALID` when the base URL is not http(s).
 */
export function createHttpTransport(options: HttpTransportOptions): HttpTransport {
  const { origin, prefix, urlAuth } = parseBaseUrl(options.baseUrl);
  const auth = options.auth ?? urlAuth ?? { kind: 'none' };
  const settings = { ...DEFAULTS, ...definedOnly(options) };
  const label = options.backendName ?? 'Tempo';
  const { staticHeaders, secrets } = headersAndSecrets(options.headers ?? {}, auth);
  const pool = new Pool(origin, {
    connections: settings.connections,
    connect: { timeout: settings.connectTimeoutMs },
    headersTimeout: settings.requestTimeoutMs,
    bodyTimeout: settings.requestTimeoutMs,
  });
  let token: string | undefined;
  const redact = (text: string): string => redactSecrets(text, secrets);

  const authorization = async (reload: boolean): Promise<string | undefined> => {
    if (auth.kind === 'basic') return `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
    if (auth.kind !== 'bearer_file') return undefined;
    if (token === undefined || reload) {
      token = await readToken(auth.tokenPath);
      addSecret(secrets, token);
    }
    return `Bearer ${token}`;
  };

  const send = async (pathAndQuery: string, accept: string, reloadToken: boolean): Promise<HttpReply> => {
    const endpoint = `GET ${pathAndQuery}`;
    const headers: Record<string, string> = { ...staticHeaders, accept, 'accept-encoding': 'gzip, deflate, br', 'user-agent': 'tally' };
    const authHeader = await authorization(reloadToken);
    if (authHeader !== undefined) headers.authorization = authHeader;
    try {
      const res = await pool.request({
        method: 'GET',
        path: prefix + pathAndQuery,
        headers,
        signal: AbortSignal.timeout(settings.requestTimeoutMs),
      });
      const raw = await readCapped(res.body, settings.maxBodyBytes, endpoint, label);
      const body = decodeBody(raw, header(res.headers['content-encoding']), settings.maxBodyBytes, endpoint, label);
      return { status: res.statusCode, contentType: header(res.headers['content-type']), body, endpoint };
    } catch (error) {
      if (error instanceof CollectorError) throw error;
      throw transportError(error, endpoint, origin, redact, label);
    }
  };

  return {
    async get(pathAndQuery, accept) {
      const reply = await send(pathAndQuery, accept, false);
      // A rotated token shows as one 401; re-read the file once before reporting it.
      if (reply.status === 401 && auth.kind === 'bearer_file') return send(pathAndQuery, accept, true);
      return reply;
    },
    redact,
    close: () => pool.close(),
  };
}

function parseBaseUrl(baseUrl: string): { origin: string; prefix: string; urlAuth?: TempoAuth } {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new ConfigError('Tempo base URL is not a URL', [{ pointer: '/baseUrl', message: 'expected e.g. http://127.0.0.1:3200' }]);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`Tempo base URL must be http or https, got ${url.protocol}`, [
      { pointer: '/baseUrl', message: 'expected an http:// or https:// URL' },
    ]);
  }
  const urlAuth: TempoAuth | undefined = url.username === ''
    ? undefined
    : { kind: 'basic', username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
  return { origin: url.origin, prefix: url.pathname.replace(/\/+$/, ''), urlAuth };
}

function definedOnly(options: HttpTransportOptions): Partial<typeof DEFAULTS> {
  const out: Partial<typeof DEFAULTS> = {};
  for (const key of Object.keys(DEFAULTS) as (keyof typeof DEFAULTS)[]) {
    const value = options[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}

function headersAndSecrets(headers: Record<string, string>, auth: TempoAuth): { staticHeaders: Record<string, string>; secrets: Set<string> } {
  const secrets = new Set<string>();
  const staticHeaders: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    staticHeaders[name.toLowerCase()] = value;
    if (isSecretHeader(name)) addSecret(secrets, value);
  }
  if (auth.kind === 'basic') {
    addSecret(secrets, auth.password);
    addSecret(secrets, Buffer.from(`${auth.username}:${auth.password}`).toString('base64'));
  }
  return { staticHeaders, secrets };
}

function addSecret(secrets: Set<string>, value: string): void {
  // Very short values would redact ordinary words; they are not meaningful secrets either.
  if (value.length >= 4) secrets.add(value);
}

function redactSecrets(text: string, secrets: Set<string>): string {
  let out = text;
  for (const secret of secrets) out = out.split(secret).join('[redacted]');
  return out;
}

async function readToken(tokenPath: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(tokenPath, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown';
    throw new ConfigError(`cannot read the Tempo bearer token file ${tokenPath} (${code})`, [
      { pointer: '/auth/tokenPath', message: `unreadable: ${code}` },
    ], { code: 'TALLY_CONFIG_UNREADABLE' });
  }
  const token = text.trim();
  if (token.length === 0) {
    throw new ConfigError(`the Tempo bearer token file ${tokenPath} is empty`, [
      { pointer: '/auth/tokenPath', message: 'empty token file' },
    ], { code: 'TALLY_CONFIG_UNREADABLE' });
  }
  return token;
}

function header(value: string | string[] | undefined): string {
  return Array.isArray(value) ? value.join(', ') : value ?? '';
}

async function readCapped(body: AsyncIterable<Buffer> & { destroy(): unknown }, maxBytes: number, endpoint: string, label: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += chunk.length;
    if (total > maxBytes) {
      body.destroy();
      throw badReply(label, endpoint, `a body of at most ${maxBytes} bytes`, `body exceeds ${maxBytes} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}

function decodeBody(raw: Buffer, encoding: string, maxBytes: number, endpoint: string, label: string): Buffer {
  const kind = encoding.trim().toLowerCase();
  if (kind === '' || kind === 'identity') return raw;
  try {
    if (kind === 'gzip' || kind === 'x-gzip') return gunzipSync(raw, { maxOutputLength: maxBytes });
    if (kind === 'deflate') return inflateSync(raw, { maxOutputLength: maxBytes });
    if (kind === 'br') return brotliDecompressSync(raw, { maxOutputLength: maxBytes });
  } catch (error) {
    throw badReply(label, endpoint, `a ${kind} body that decompresses to at most ${maxBytes} bytes`, (error as Error).message, error);
  }
  throw badReply(label, endpoint, 'content-encoding gzip, deflate, br or none', `content-encoding ${kind}`);
}

function badReply(label: string, endpoint: string, expected: string, problem: string, cause?: unknown): CollectorError {
  return new CollectorError(`${label} ${endpoint}: unusable reply body: expected ${expected}; ${problem}`, {
    code: 'TALLY_COLLECTOR_BAD_REPLY',
    details: { endpoint, expected, problem },
    cause,
  });
}

function transportError(error: unknown, endpoint: string, origin: string, redact: (text: string) => string, label: string): CollectorError {
  const { reason, code } = classifyTransportError(error);
  const what = redact(String((error as { message?: string } | null)?.message ?? error));
  // The undici error is not attached as `cause`: it can hold request state, and this error may be logged whole.
  return new CollectorError(`${label} ${endpoint} at ${origin}: ${reason.replace('_', ' ')} (${code || 'error'}: ${what})`, {
    details: { reason, endpoint, origin, errorCode: code || null },
  });
}
