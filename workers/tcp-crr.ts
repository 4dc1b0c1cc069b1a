/**
 * tcp-crr: netperf/neper's TCP_CRR (connect, request, response, close) over raw TCP. Each
 * transaction connects, writes `requestBytes`, reads exactly `responseBytes` back and
 * closes — no HTTP parsing, so it measures the datapath's connection setup rate rather
 * than an HTTP stack.
 *
 * Backend naming: an echo target started with a name (embedded/echo.ts,
 * `tally target --protocol tcp-crr`) begins its response with `NAME\n` when the response
 * is long enough; the client takes that first line as {@link RequestResult.backend}, so
 * tcp-crr through a Service VIP still records which endpoint answered. A response without
 * such a line (unnamed target, or too short) records no backend.
 *
 * @see https://github.com/google/neper (tcp_crr)
 * @see https://hewlettpackard.github.io/netperf/doc/netperf.html#TCP_005fCRR
 */

/** Longest backend name (bytes), as embedded/tagged-target.ts allows. */
const MAX_NAME_BYTES = 32;
/** Filler byte of request payloads and untagged responses ('x'). */
export const CRR_FILLER = 0x78;

/** The request payload: `requestBytes` filler bytes (at least 1: an empty write sends nothing). */
export function crrRequestPayload(requestBytes: number): Buffer {
  return Buffer.alloc(Math.max(1, requestBytes), CRR_FILLER);
}

function isNameByte(b: number): boolean {
  return (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b === 46 || b === 95 || b === 45;
}

/**
 * The backend name at the start of a tcp-crr response's first read, or undefined.
 * @param buf read buffer; @param n bytes in it.
 */
export function crrBackend(buf: Uint8Array, n: number): string | undefined {
  const limit = Math.min(n, MAX_NAME_BYTES + 1);
  for (let i = 0; i < limit; i++) {
    const b = buf[i];
    if (b === 10) return i === 0 ? undefined : Buffer.from(buf.buffer, buf.byteOffset, i).toString('latin1');
    if (!isNameByte(b)) return undefined;
  }
  return undefined;
}
