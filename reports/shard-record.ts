/**
 * shard.json: what a sharded run's shard (`tally run --shard i/N`) keeps beside its
 * results.json so that `tally merge` can add the shards up exactly. results.json carries
 * figures derived for one shard (percentiles, ratios, findings); shard.json carries what
 * they were derived from: the results input (raw counters, ledger totals, the
 * reconciliations) with every histogram encoded (HDR, compressed base64), so the merge
 * adds counters, merges histograms bucket by bucket and derives the whole run's figures
 * with the same code a run uses. Pure.
 */
import { ShardError } from '../core/errors.ts';
import type { EncodedExporterTotals, ExporterSignal } from './exporter-aggregate.ts';
import type { ResultsInput } from './results.ts';

/** Which shard of which plan a run directory holds. */
export interface ShardIdentity {
  /** Process shard `index` of `count`. */
  index: number;
  count: number;
  runId: string;
  /** scenarios/scenario-hash.ts of the (redacted) scenario document. */
  scenarioHash: string;
  /** The start instant every shard shares (epoch ms). */
  startEpochMs: number;
  /** Worker threads of this shard. */
  threads: number;
}

/** The results input of a shard, without the scenario and plan (re-derived from plan.json). */
export type ShardResultsInput = Omit<ResultsInput, 'scenario' | 'plan'>;

/** Histograms and totals results.json only carries as percentiles. */
export interface ShardEncoded {
  /** Metrics export latency (µs), encoded. */
  exportLatencyUs?: string;
  exporters?: Partial<Record<ExporterSignal, EncodedExporterTotals>>;
  /** Largest in-flight sum of one interval (the load's `maxInFlight`). */
  maxInFlight?: number;
}

/** shard.json. */
export interface ShardRecord {
  version: 1;
  identity: ShardIdentity;
  input: ShardResultsInput;
  encoded: ShardEncoded;
}

/** Build shard.json's content (drops the scenario and plan, and exporters that reported nothing). */
export function buildShardRecord(identity: ShardIdentity, input: ResultsInput, encoded: ShardEncoded): ShardRecord {
  const { scenario: _scenario, plan: _plan, ...rest } = input;
  const exporters: Partial<Record<ExporterSignal, EncodedExporterTotals>> = {};
  for (const [signal, totals] of Object.entries(encoded.exporters ?? {})) if (totals !== undefined) exporters[signal as ExporterSignal] = totals;
  return { version: 1, identity: { ...identity }, input: rest, encoded: { ...encoded, exporters } };
}

/**
 * Check shard.json's shape before a merge reads it (a truncated or hand-edited file).
 * @throws ShardError `TALLY_MERGE_NOT_A_SHARD` naming the first field that is wrong.
 */
export function checkShardRecord(value: unknown, source: string): asserts value is ShardRecord {
  const bad = (pointer: string, message: string): never => {
    throw new ShardError('TALLY_MERGE_NOT_A_SHARD', `${source} is not a shard record tally wrote: ${pointer || 'the document'} ${message}`, { details: { source, pointer } });
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) bad('', 'must be an object');
  const r = value as Record<string, any>;
  if (r.version !== 1) bad('/version', 'must be 1');
  const id = r.identity;
  if (typeof id !== 'object' || id === null) bad('/identity', 'must be an object');
  if (!Number.isInteger(id.count) || id.count < 1) bad('/identity/count', 'must be an integer ≥ 1');
  if (!Number.isInteger(id.index) || id.index < 0 || id.index >= id.count) bad('/identity/index', 'must be an integer in [0, count)');
  if (typeof id.runId !== 'string') bad('/identity/runId', 'must be a string');
  if (typeof id.scenarioHash !== 'string') bad('/identity/scenarioHash', 'must be a string');
  if (typeof id.startEpochMs !== 'number' || !Number.isFinite(id.startEpochMs)) bad('/identity/startEpochMs', 'must be a number');
  if (!Number.isInteger(id.threads) || id.threads < 1) bad('/identity/threads', 'must be an integer ≥ 1');
  if (typeof r.input !== 'object' || r.input === null || typeof r.input.complete !== 'boolean') bad('/input', 'must be an object with `complete`');
  if (typeof r.encoded !== 'object' || r.encoded === null) bad('/encoded', 'must be an object');
}
