/**
 * Arrays of 4-bit states packed two to a byte: the ledgers' per-point and per-span final
 * states (O(items / 2) bytes, never an object per item). Item i lives in byte i >>> 1, low
 * nibble for even i, high nibble for odd i.
 */

/** Bytes that hold `count` 4-bit items, all 0. */
export function nibbleArray(count: number): Uint8Array {
  return new Uint8Array(Math.ceil(count / 2));
}

/** Item `i` (0..15). */
export function readNibble(bytes: Uint8Array, i: number): number {
  return (bytes[i >>> 1] >>> ((i & 1) * 4)) & 0xf;
}

/** Set item `i` to `value` (0..15). */
export function writeNibble(bytes: Uint8Array, i: number, value: number): void {
  const shift = (i & 1) * 4;
  bytes[i >>> 1] = (bytes[i >>> 1] & ~(0xf << shift)) | ((value & 0xf) << shift);
}
