/**
 * The ledger's file form (`<run-dir>/ledger.bin`), so `tally reconcile` can read the
 * backends again later against what the run sent and had acknowledged. Pure: bytes in,
 * bytes out.
 *
 * Layout: the 8 ASCII bytes `TALLYLG1`, a uint32 LE length n, n bytes of UTF-8 JSON
 * `{ version, seriesCounts, ticks, totals, partialBatches, stateBytes }`, then each
 * metric's packed states (MetricsLedger.stateBytes) back to back, `stateBytes[m]` bytes each.
 */
import { ReconcileError } from '../core/errors.ts';
import { MetricsLedger, type LedgerTotals, type PartialBatch } from './ledger.ts';

const MAGIC = 'TALLYLG1';
const VERSION = 1;

interface Header {
  version: number;
  seriesCounts: number[];
  ticks: number;
  totals: LedgerTotals;
  partialBatches: PartialBatch[];
  stateBytes: number[];
}

/**
 * Serialise a ledger.
 * @returns the file's bytes: about series × ticks / 2 bytes plus a small JSON header.
 */
export function encodeLedger(ledger: MetricsLedger): Uint8Array {
  const stateBytes = ledger.seriesCounts.map((_, m) => ledger.stateBytes(m).byteLength);
  const header: Header = { version: VERSION, seriesCounts: ledger.seriesCounts, ticks: ledger.ticks, totals: ledger.totals, partialBatches: ledger.partialBatches, stateBytes };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const out = new Uint8Array(MAGIC.length + 4 + json.byteLength + stateBytes.reduce((a, b) => a + b, 0));
  out.set(Buffer.from(MAGIC, 'latin1'), 0);
  new DataView(out.buffer).setUint32(MAGIC.length, json.byteLength, true);
  out.set(json, MAGIC.length + 4);
  let at = MAGIC.length + 4 + json.byteLength;
  for (let m = 0; m < stateBytes.length; m++) {
    out.set(ledger.stateBytes(m), at);
    at += stateBytes[m];
  }
  return out;
}

function corrupt(why: string): ReconcileError {
  return new ReconcileError(`ledger file is not usable: ${why}`, { code: 'TALLY_RECONCILE_FAILED', details: { why } });
}

/**
 * Rebuild a ledger from {@link encodeLedger}'s bytes.
 * @throws ReconcileError `TALLY_RECONCILE_FAILED` for a file that is not a ledger, of
 * another version, truncated, or whose sizes disagree with its series space.
 */
export function decodeLedger(bytes: Uint8Array): MetricsLedger {
  if (bytes.byteLength < MAGIC.length + 4 || Buffer.from(bytes.subarray(0, MAGIC.length)).toString('latin1') !== MAGIC) throw corrupt('no TALLYLG1 header');
  const jsonLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(MAGIC.length, true);
  const bodyAt = MAGIC.length + 4 + jsonLength;
  if (bodyAt > bytes.byteLength) throw corrupt('truncated header');
  let header: Header;
  try {
    header = JSON.parse(Buffer.from(bytes.subarray(MAGIC.length + 4, bodyAt)).toString('utf8')) as Header;
  } catch {
    throw corrupt('header is not JSON');
  }
  if (header.version !== VERSION) throw corrupt(`version ${header.version}, expected ${VERSION}`);
  const ledger = new MetricsLedger(header.seriesCounts, header.ticks);
  let at = bodyAt;
  for (let m = 0; m < header.seriesCounts.length; m++) {
    const target = ledger.stateBytes(m);
    if (header.stateBytes[m] !== target.byteLength || at + target.byteLength > bytes.byteLength) throw corrupt(`metric ${m} states do not match its series × ticks`);
    target.set(bytes.subarray(at, at + target.byteLength));
    at += target.byteLength;
  }
  if (at !== bytes.byteLength) throw corrupt('trailing bytes');
  Object.assign(ledger.totals, header.totals);
  ledger.partialBatches.push(...header.partialBatches);
  return ledger;
}
