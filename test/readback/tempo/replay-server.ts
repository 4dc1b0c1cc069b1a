/**
 * Test helper: serve the recorded Tempo 2.0.1 responses over a real HTTP socket on
 * 127.0.0.1, so the adapter is exercised through undici end to end.
 *
 * Matching: method, path, decoded query parameters (order-insensitive, so `%20` and `+`
 * are equal as they are to Tempo), and whether `Accept` asks for protobuf (the only
 * request header the recordings vary). Status, `content-type` and the body bytes come
 * from `index.json` and the saved files. Entries the recorder served gzip-encoded are
 * gzip-encoded again when the client accepts gzip: the compressed bytes are this
 * server's, the decoded body is the recorded one.
 *
 * Phases (`startup`, `A`, `B`, `C`) hold different answers for the same request; the
 * server answers from the first listed phase that has one. A request nothing matches
 * gets `501` with `x-tally-replay: unrecorded` and is listed in `unmatched`.
 */
import { fileURLToPath } from 'node:url';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';

/** The recorded fixture directory. */
export const FIXTURES_DIR = fileURLToPath(new URL('../../fixtures/tempo-2.0.1/', import.meta.url));

/** Recording phases, as in the fixtures README timeline. */
export type ReplayPhase = 'startup' | 'A' | 'B' | 'C';

/** A request as the replay server saw it. */
export interface ReplayRequest {
  method: string;
  pathname: string;
  /** Decoded query parameters, sorted. */
  query: [string, string][];
  headers: IncomingHttpHeaders;
}

/** An answer to serve. */
export interface ReplayReply {
  status: number;
  contentType: string;
  body: Buffer;
  /** Gzip the body when the request accepts gzip (as Tempo did for large bodies). */
  gzip?: boolean;
}

/** A recording from `index.json`. */
export interface Recording extends ReplayReply {
  file: string;
  phase: ReplayPhase;
  key: string;
}

/** A running replay server. */
export interface ReplayServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** Every request received, in order. */
  requests: ReplayRequest[];
  /** `METHOD path?query` of requests no recording or extra route answered. */
  unmatched: string[];
  close(): Promise<void>;
}

interface IndexEntry {
  file: string;
  phase: string;
  method: string;
  path: string;
  status: number | null;
  contentType: string;
  requestHeadersExplicit?: Record<string, string>;
  responseHeaders?: Record<string, string>;
}

function phaseOf(label: string): ReplayPhase | null {
  if (label === 'startup') return 'startup';
  const first = label[0];
  return first === 'A' || first === 'B' || first === 'C' ? first : null;
}

function keyOf(method: string, pathWithQuery: string, acceptProtobuf: boolean): string {
  const url = new URL(pathWithQuery, 'http://replay.invalid');
  const query = [...url.searchParams.entries()].sort(([a, x], [b, y]) => (a + '\0' + x < b + '\0' + y ? -1 : 1));
  return `${method} ${decodeURIComponent(url.pathname)} ${JSON.stringify(query)} ${acceptProtobuf ? 'pb' : 'any'}`;
}

function acceptsProtobuf(accept: string | undefined): boolean {
  return accept !== undefined && /application\/(x-)?protobuf/i.test(accept);
}

/**
 * Load the GET recordings that are raw bodies.
 * @throws Error when two recordings of one phase answer the same request (the fixture would be ambiguous).
 */
export function loadRecordings(dir = FIXTURES_DIR): Recording[] {
  const entries = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as IndexEntry[];
  const seen = new Set<string>();
  const out: Recording[] = [];
  for (const entry of entries) {
    const phase = phaseOf(entry.phase);
    if (entry.method !== 'GET' || entry.status === null || phase === null) continue;
    const explicitAccept = Object.entries(entry.requestHeadersExplicit ?? {}).find(([k]) => k.toLowerCase() === 'accept')?.[1];
    const key = keyOf(entry.method, entry.path, acceptsProtobuf(explicitAccept));
    if (seen.has(`${phase} ${key}`)) throw new Error(`ambiguous recordings for ${key} in phase ${phase}`);
    seen.add(`${phase} ${key}`);
    out.push({
      file: entry.file,
      phase,
      key,
      status: entry.status,
      contentType: entry.contentType,
      body: readFileSync(join(dir, entry.file)),
      gzip: entry.responseHeaders?.['content-encoding'] === 'gzip',
    });
  }
  return out;
}

/**
 * Start a replay server on 127.0.0.1 (ephemeral port).
 * @param options.phases phases to answer from, first match wins.
 * @param options.extraRoutes consulted when no recording matches; for clearly labelled synthetic answers.
 */
export async function startReplayServer(options: {
  phases: ReplayPhase[];
  extraRoutes?: (request: ReplayRequest) => ReplayReply | undefined;
  dir?: string;
}): Promise<ReplayServer> {
  const recordings = loadRecordings(options.dir);
  const byKey = new Map<string, Recording>();
  for (const phase of [...options.phases].reverse()) {
    for (const rec of recordings) if (rec.phase === phase) byKey.set(rec.key, rec);
  }
  const requests: ReplayRequest[] = [];
  const unmatched: string[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://replay.invalid');
    const request: ReplayRequest = {
      method: req.method ?? 'GET',
      pathname: decodeURIComponent(url.pathname),
      query: [...url.searchParams.entries()].sort(),
      headers: req.headers,
    };
    requests.push(request);
    const reply = byKey.get(keyOf(request.method, req.url ?? '/', acceptsProtobuf(req.headers.accept))) ?? options.extraRoutes?.(request);
    req.resume();
    if (reply === undefined) {
      unmatched.push(`${request.method} ${req.url}`);
      res.writeHead(501, { 'content-type': 'text/plain; charset=utf-8', 'x-tally-replay': 'unrecorded' });
      res.end(`replay: no recording for ${request.method} ${req.url}`);
      return;
    }
    const gzip = reply.gzip === true && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    const body = gzip ? gzipSync(reply.body) : reply.body;
    const headers: Record<string, string | number> = { 'content-type': reply.contentType, 'content-length': body.length };
    if (gzip) Object.assign(headers, { 'content-encoding': 'gzip', vary: 'Accept-Encoding' });
    res.writeHead(reply.status, headers);
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    unmatched,
    close: () => new Promise<void>((resolve, reject) => {
      server.closeAllConnections();
      server.close((error) => (error ? reject(error) : resolve()));
    }),
  };
}

/** Read a fixture file as bytes. */
export function fixture(file: string, dir = FIXTURES_DIR): Buffer {
  return readFileSync(join(dir, file));
}

/** Search window the recorder used (fixtures README): unix epoch seconds. */
export const FIXTURE_WINDOW = { startUnixS: 1795280291, endUnixS: 1795280417 } as const;

/** `detect()` probes matching the recorded requests, so every probe has a genuine answer. */
export const FIXTURE_PROBES = {
  traceIdHex: '7a117a11000000010000000000000001',
  invalidTraceQL: '{ span.tally.seq = }',
  searchLimit: 50,
  tagName: 'service.name',
  scopedTagName: 'resource.service.name',
  metrics: { query: '{ resource.service.name = "tally-fixture" } | rate()', ...FIXTURE_WINDOW, stepMs: 15_000 },
};
