/**
 * The exact union of the point ledgers of a sharded run's shards (`tally merge`). Every
 * shard's ledger spans the whole run's series space and holds a state only for the points
 * it sent (its own series; the rest stay `unsent`), so the union takes, point by point,
 * the one state that is set: the merged ledger is the ledger one process sending every
 * series would have kept. Totals add up; partial_success batches are all kept. Pure.
 */
import { ShardError } from '../core/errors.ts';
import { sumCounts } from '../core/counts.ts';
import { MetricsLedger } from './ledger.ts';

/**
 * Union of ledgers of one series space.
 * @throws ShardError `TALLY_MERGE_PLAN_MISMATCH` when the ledgers have different series
 * spaces, or two of them hold a state for the same point (shards of different plans, or
 * one shard's directory given twice under two indexes).
 */
export function unionLedgers(ledgers: readonly MetricsLedger[]): MetricsLedger {
  const [first] = ledgers;
  if (first === undefined) throw new ShardError('TALLY_MERGE_PLAN_MISMATCH', 'no ledger to merge');
  const out = new MetricsLedger([...first.seriesCounts], first.ticks);
  for (const ledger of ledgers) {
    if (ledger.ticks !== first.ticks || ledger.seriesCounts.join() !== first.seriesCounts.join()) {
      throw new ShardError('TALLY_MERGE_PLAN_MISMATCH', 'the shards\' ledgers have different series spaces', { details: { ticks: [first.ticks, ledger.ticks], seriesCounts: [first.seriesCounts, ledger.seriesCounts] } });
    }
    for (let m = 0; m < first.seriesCounts.length; m++) {
      const into = out.stateBytes(m);
      const from = ledger.stateBytes(m);
      for (let i = 0; i < from.length; i++) {
        const b = from[i];
        if (b === 0) continue;
        const a = into[i];
        // Each nibble is one point: both set means two shards sent it.
        if (((a & 0x0f) !== 0 && (b & 0x0f) !== 0) || ((a & 0xf0) !== 0 && (b & 0xf0) !== 0)) {
          throw new ShardError('TALLY_MERGE_PLAN_MISMATCH', `two shards sent the same data point (metric ${m}): they are not shards of one plan`, { details: { metricIndex: m, byte: i } });
        }
        into[i] = a | b;
      }
    }
    out.partialBatches.push(...ledger.partialBatches);
  }
  Object.assign(out.totals, sumCounts(ledgers.map((l) => l.totals)));
  return out;
}
