/**
 * Reading a peer's reply body within a cap. tally reads what its peers answer (an OTLP
 * endpoint, a remote-write receiver), and a peer may answer with a body of any size: an
 * endpoint answering 200 with 1 GB took a 10-series run to 2.3 GB of memory. Beyond the
 * cap the body is not read further (the stream is destroyed) and the caller classifies the
 * request as failed, with the reason.
 *
 * @see https://undici.nodejs.org/#/docs/api/Dispatcher?id=parameter-responsedata (body is a Readable)
 */

/** Largest OTLP export reply read (bytes): a response is a partial_success or a google.rpc.Status, a few hundred bytes. */
export const MAX_OTLP_REPLY_BYTES = 1024 * 1024;

/** What {@link readCappedBody} read. */
export type CappedBody = { bytes: Uint8Array; tooLarge: false } | { bytes: undefined; tooLarge: true; readBytes: number };

/**
 * Read a body to its end, or stop past `maxBytes`.
 * @param body the reply body (an async iterable of chunks that can be destroyed).
 * @returns the bytes, or `tooLarge` with how many were read before giving up.
 */
export async function readCappedBody(body: AsyncIterable<Uint8Array> & { destroy(error?: Error): unknown }, maxBytes: number): Promise<CappedBody> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += chunk.byteLength;
    if (total > maxBytes) {
      body.destroy();
      return { bytes: undefined, tooLarge: true, readBytes: total };
    }
    chunks.push(chunk);
  }
  return { bytes: Buffer.concat(chunks, total), tooLarge: false };
}
