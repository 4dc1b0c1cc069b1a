/**
 * Test helper: trace-by-id JSON bodies for fixture traces that were not recorded by id.
 *
 * The recordings hold trace-by-id bodies for seq 1 and 15 only. To verify all 20, the
 * other bodies are DERIVED (not recorded) from the genuine `api/trace-01.json` by changing
 * exactly the fields the README's layout says vary with seq: ids, times, `tally.seq` and
 * `http.route`. The derivation is trusted only because a test proves it reproduces the
 * recorded `api/trace-15.json` (ingested by a different transport, OTLP/JSON) byte for byte.
 *
 * The layout arithmetic here is written independently of `readback/tempo/` so the
 * verifier is not checked against itself.
 */
import { fixture, type ReplayReply, type ReplayRequest } from './replay-server.ts';

const RUN_HEX = '7a117a1100000001';
const SPACING_NANO = 100_000_000n;

function traceIdHex(seq: number): string {
  return RUN_HEX + '0000' + seq.toString(16).padStart(12, '0');
}

function spanIdB64(seq: number, index: number): string {
  return Buffer.from('7a110000' + seq.toString(16).padStart(4, '0') + (index + 1).toString(16).padStart(4, '0'), 'hex').toString('base64');
}

interface JsonSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: { key: string; value: Record<string, string> }[];
}

/** Derive the v1 JSON body of fixture trace `seq` from the recorded trace 1. */
export function deriveTraceJson(seq: number): Buffer {
  const body = JSON.parse(fixture('api/trace-01.json').toString('utf8')) as {
    batches: { scopeSpans: { spans: JsonSpan[] }[] }[];
  };
  const shift = BigInt(seq - 1) * SPACING_NANO;
  const spans = body.batches[0].scopeSpans[0].spans;
  spans.forEach((span, index) => {
    span.traceId = Buffer.from(traceIdHex(seq), 'hex').toString('base64');
    span.spanId = spanIdB64(seq, index);
    if (span.parentSpanId !== undefined) span.parentSpanId = spanIdB64(seq, index - 1);
    span.startTimeUnixNano = String(BigInt(span.startTimeUnixNano) + shift);
    span.endTimeUnixNano = String(BigInt(span.endTimeUnixNano) + shift);
    for (const attr of span.attributes) {
      if (attr.key === 'tally.seq') attr.value = { intValue: String(seq) };
      if (attr.key === 'http.route') attr.value = { stringValue: `/r/${seq % 4}` };
    }
  });
  return Buffer.from(JSON.stringify(body));
}

/**
 * Extra replay routes: derived JSON bodies for fixture seq 1–20 (JSON `Accept` only), and
 * the recorded `trace not found` answer (recorded for seq 999) for any other 32-hex id.
 */
export function derivedTraceRoutes(): (request: ReplayRequest) => ReplayReply | undefined {
  const notFound = fixture('api/trace-not-found.txt');
  return (request) => {
    const match = /^\/api\/traces\/([0-9a-f]{32})$/.exec(request.pathname);
    if (request.method !== 'GET' || match === null || request.query.length > 0) return undefined;
    const id = match[1];
    const seq = id.startsWith(RUN_HEX + '0000') ? Number.parseInt(id.slice(20), 16) : 0;
    if (seq >= 1 && seq <= 20 && !/protobuf/.test(String(request.headers.accept))) {
      return { status: 200, contentType: 'application/json', body: deriveTraceJson(seq), gzip: true };
    }
    if (seq >= 1 && seq <= 20) return undefined;
    return { status: 404, contentType: 'text/plain; charset=utf-8', body: notFound };
  };
}
