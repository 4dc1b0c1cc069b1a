/**
 * Whether run directories are the shards of one run, before `tally merge` adds anything
 * up. Pure: it looks at what the directories hold, already read.
 *
 * Refused, each with its code (core/errors.ts ShardError, exit 2):
 * - `TALLY_MERGE_PLAN_MISMATCH`: shards of different plans (run id, scenario hash, start
 *   instant or shard count differ, or plan.json does not match shard.json);
 * - `TALLY_MERGE_DUPLICATE_SHARD`: one index given twice;
 * - `TALLY_MERGE_MISSING_SHARD`: an index of 0..N−1 not given;
 * - `TALLY_MERGE_INCOMPLETE_SHARD`: a shard that did not finish (stopped, failed, or
 *   still `running`).
 * With `allowIncomplete`, missing and unfinished shards are merged as they are and listed
 * in `incompleteShards`; the merged results are then incomplete.
 */
import { ShardError } from '../core/errors.ts';
import type { MergeSummary } from './results.ts';
import type { ShardRecord } from './shard-record.ts';

/** What the check needs of one shard directory. */
export interface LoadedShard {
  runDir: string;
  record: ShardRecord;
  /** plan.json (its run id, start instant, shard and scenario hash are checked). */
  saved: { runId: string; startEpochMs: number; shard?: { index?: number; count: number }; scenarioHash?: string; scenario: Record<string, unknown>; scenarioPath: string };
}

/** A checked set of shards, in index order. */
export interface ShardSet<T extends LoadedShard> {
  shards: T[];
  runId: string;
  scenarioHash: string;
  startEpochMs: number;
  count: number;
  summary: MergeSummary;
}

const IDENTITY_FIELDS = ['runId', 'scenarioHash', 'startEpochMs', 'count'] as const;

/**
 * Check that `shards` are the shards of one run.
 * @throws ShardError with a `TALLY_MERGE_*` code naming the directories at fault.
 */
export function checkShardSet<T extends LoadedShard>(shards: readonly T[], options: { allowIncomplete: boolean }): ShardSet<T> {
  if (shards.length === 0) throw new ShardError('TALLY_MERGE_MISSING_SHARD', 'no shard directory given');
  const [first] = shards;
  const base = first.record.identity;
  for (const s of shards) {
    const id = s.record.identity;
    for (const field of IDENTITY_FIELDS) {
      if (id[field] !== base[field]) {
        throw new ShardError('TALLY_MERGE_PLAN_MISMATCH', `${s.runDir} and ${first.runDir} are shards of different plans: ${field} ${JSON.stringify(id[field])} ≠ ${JSON.stringify(base[field])}`, {
          details: { field, dirs: [first.runDir, s.runDir], values: [base[field], id[field]] },
        });
      }
    }
    const p = s.saved;
    if (p.runId !== id.runId || p.startEpochMs !== id.startEpochMs || p.shard?.index !== id.index || p.shard?.count !== id.count || p.scenarioHash !== id.scenarioHash) {
      throw new ShardError('TALLY_MERGE_PLAN_MISMATCH', `${s.runDir}: plan.json and shard.json name different runs or shards`, { details: { runDir: s.runDir } });
    }
  }
  const byIndex = new Map<number, T>();
  for (const s of shards) {
    const other = byIndex.get(s.record.identity.index);
    if (other !== undefined) {
      throw new ShardError('TALLY_MERGE_DUPLICATE_SHARD', `shard ${s.record.identity.index} is given twice: ${other.runDir} and ${s.runDir}`, { details: { index: s.record.identity.index, dirs: [other.runDir, s.runDir] } });
    }
    byIndex.set(s.record.identity.index, s);
  }
  const missing = Array.from({ length: base.count }, (_, i) => i).filter((i) => !byIndex.has(i));
  const unfinished = [...byIndex.values()].filter((s) => !s.record.input.complete).map((s) => s.record.identity.index);
  if (!options.allowIncomplete && missing.length > 0) {
    throw new ShardError('TALLY_MERGE_MISSING_SHARD', `shard${missing.length > 1 ? 's' : ''} ${missing.join(', ')} of ${base.count} not given (--allow-incomplete merges without them)`, { details: { missing, count: base.count } });
  }
  if (!options.allowIncomplete && unfinished.length > 0) {
    const reasons = unfinished.map((i) => `${i} (${byIndex.get(i)!.record.input.incompleteReason ?? 'incomplete'})`);
    throw new ShardError('TALLY_MERGE_INCOMPLETE_SHARD', `shard${unfinished.length > 1 ? 's' : ''} ${reasons.join(', ')} did not finish (--allow-incomplete merges them, marked incomplete)`, { details: { unfinished } });
  }
  const ordered = [...byIndex.keys()].sort((a, b) => a - b).map((i) => byIndex.get(i)!);
  const summary: MergeSummary = {
    count: base.count,
    scenarioHash: base.scenarioHash,
    startEpochMs: base.startEpochMs,
    incompleteShards: [...missing, ...unfinished].sort((a, b) => a - b),
    shards: ordered.map((s) => ({
      index: s.record.identity.index,
      runDir: s.runDir,
      complete: s.record.input.complete,
      ...(s.record.input.incompleteReason === undefined ? {} : { incompleteReason: s.record.input.incompleteReason }),
      threads: s.record.identity.threads,
      elapsedMs: s.record.input.elapsedMs,
    })),
  };
  return { shards: ordered, runId: base.runId, scenarioHash: base.scenarioHash, startEpochMs: base.startEpochMs, count: base.count, summary };
}
