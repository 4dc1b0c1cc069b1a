/**
 * A hand-rolled protobuf writer for tests. It knows nothing of the codec's .proto files:
 * field numbers are spelled out at each call site from the OTLP spec, so the tests that
 * use it check the .proto files independently, and can build malformed wire data on purpose.
 */

/** Encode an unsigned varint (a negative bigint is written as its 64-bit two's complement). */
export function varintBytes(value: number | bigint): Uint8Array {
  let v = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  while (v > 0x7fn) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Uint8Array.from(out);
}

/** Concatenate parts. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(parts.flatMap((p) => [...p]));
}

/** A field tag: `(field << 3) | wireType`. */
export function tag(field: number, wireType: number): Uint8Array {
  return varintBytes(field * 8 + wireType);
}

/** Wire type 0 (int32/int64/uint32/uint64/bool/enum). */
export function varint(field: number, value: number | bigint | boolean): Uint8Array {
  return concat(tag(field, 0), varintBytes(typeof value === 'boolean' ? Number(value) : value));
}

/** Wire type 0, zigzag (sint32/sint64). */
export function sint(field: number, value: number): Uint8Array {
  return concat(tag(field, 0), varintBytes(value >= 0 ? value * 2 : -value * 2 - 1));
}

/** Wire type 1 (fixed64/sfixed64). */
export function fixed64(field: number, value: bigint): Uint8Array {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, BigInt.asUintN(64, value), true);
  return concat(tag(field, 1), bytes);
}

/** Wire type 1 (double). */
export function double(field: number, value: number): Uint8Array {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setFloat64(0, value, true);
  return concat(tag(field, 1), bytes);
}

/** Wire type 5 (fixed32). */
export function fixed32(field: number, value: number): Uint8Array {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, value, true);
  return concat(tag(field, 5), bytes);
}

/** Wire type 2 around raw bytes (bytes, or an embedded message given as its parts). */
export function len(field: number, ...parts: Uint8Array[]): Uint8Array {
  const body = concat(...parts);
  return concat(tag(field, 2), varintBytes(body.length), body);
}

/** Wire type 2 around a UTF-8 string. */
export function str(field: number, value: string): Uint8Array {
  return len(field, new TextEncoder().encode(value));
}

/** Bytes from a hex string. */
export function hexBytes(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

/** `KeyValue { key = 1; value = 2 }` with a string AnyValue (`string_value = 1`). */
export function stringAttribute(field: number, key: string, value: string): Uint8Array {
  return len(field, str(1, key), len(2, str(1, value)));
}
