/**
 * The start of one shard of a sharded run (`tally run --shard i/N`): its identity (the
 * scenario hash of the redacted document, the shard, its threads) and the one start
 * instant every shard shares: `--start-at`, or the instant agreed at shard 0's barrier
 * (pipeline/barrier.ts). The shard's worker threads are warm before it asks, so the wait
 * is all that stands between it and its first arrival.
 */
import { join } from 'node:path';
import type { Clock } from '../core/clock.ts';
import { ConfigError, ShardError } from '../core/errors.ts';
import type { ShardIdentity } from '../reports/shard-record.ts';
import { scenarioHash } from '../scenarios/scenario-hash.ts';
import { MAX_START_AHEAD_MS, type ShardSpec } from '../scenarios/shard-plan.ts';
import { startBarrier } from './barrier.ts';
import { readRedactedScenario } from './run-files.ts';
import { ShardCollector } from './shard-collect.ts';

/** The least time between planning a shard and its start instant (ms): set-up (stand-ins, preflight) comes first. */
export const MIN_START_LEAD_MS = 100;

/** `--barrier URL` and its settings. */
export interface ShardBarrierOptions {
  url: string;
  /** Shard 0's listening address (default all interfaces). */
  bindHost?: string;
  timeoutMs?: number;
  leadMs?: number;
}

/** A shard's start, agreed. */
export interface ShardStart {
  identity: ShardIdentity;
  /** The redacted scenario document (plan.json's, and what the hash is of). */
  document: Record<string, any>;
  /** Close shard 0's barrier server (no-op elsewhere). */
  close(): Promise<void>;
  /** The barrier's URL, when the start was agreed there. */
  barrierUrl?: string;
  /** Shard 0 with `--collect`: receives the other shards' run directories on the barrier's server. */
  collector?: ShardCollector;
}

/** The default run directory of a shard: `runs/<run id>.shard-<i>-of-<N>`. */
export function shardRunDir(runId: string, shard: ShardSpec): string {
  return join('runs', `${runId}.shard-${shard.index}-of-${shard.count}`);
}

/**
 * Agree on the start instant of one shard.
 * @throws ConfigError `TALLY_USAGE` for neither or both of `startAtMs` and `barrier`, or a
 * start more than a day ahead; ShardError `TALLY_SHARD_START_MISSED` when the instant has
 * passed (or is under {@link MIN_START_LEAD_MS} away) once the shard is ready,
 * `TALLY_SHARD_BARRIER_FAILED` from the barrier.
 */
export async function shardStart(o: { scenarioPath: string; shard: ShardSpec; threads: number; clock: Clock; startAtMs?: number; barrier?: ShardBarrierOptions; collect?: string }): Promise<ShardStart> {
  if ((o.startAtMs === undefined) === (o.barrier === undefined)) {
    throw new ConfigError('a shard needs the start instant every shard shares: --start-at <time> or --barrier <url>, exactly one', [{ pointer: '', message: '--start-at or --barrier with --shard' }], { code: 'TALLY_USAGE' });
  }
  if (o.collect !== undefined && o.barrier === undefined) {
    throw new ConfigError('--collect hands the shards\' results to shard 0 over the barrier: it needs --barrier', [{ pointer: '', message: '--collect with --barrier' }], { code: 'TALLY_USAGE' });
  }
  const document = await readRedactedScenario(o.scenarioPath);
  const hash = scenarioHash(document);
  let startEpochMs: number;
  let close = async (): Promise<void> => {};
  const collector = o.collect !== undefined && o.shard.index === 0 ? new ShardCollector(o.collect, o.shard, hash) : undefined;
  if (o.barrier !== undefined) {
    const reached = await startBarrier({ ...o.barrier, shard: o.shard, scenarioHash: hash, nowMs: () => o.clock.nowMs(), ...(collector === undefined ? {} : { routes: collector.routes }) });
    startEpochMs = reached.startEpochMs;
    close = reached.close;
  } else startEpochMs = o.startAtMs!;
  const aheadMs = startEpochMs - o.clock.nowMs();
  if (aheadMs > MAX_START_AHEAD_MS) {
    await close();
    throw new ConfigError(`--start-at is ${Math.round(aheadMs / 1000)} s ahead, more than a day`, [{ pointer: '', message: 'a start instant within 24 h' }], { code: 'TALLY_USAGE' });
  }
  if (aheadMs < MIN_START_LEAD_MS) {
    await close();
    throw new ShardError('TALLY_SHARD_START_MISSED', `shard ${o.shard.index}/${o.shard.count} was ready ${Math.round(-aheadMs)} ms after the shared start instant ${new Date(startEpochMs).toISOString()}: its arrivals would all be late`, { details: { startEpochMs, aheadMs } });
  }
  const identity: ShardIdentity = { index: o.shard.index, count: o.shard.count, runId: '', scenarioHash: hash, startEpochMs, threads: o.threads };
  return { identity, document, close, ...(o.barrier === undefined ? {} : { barrierUrl: o.barrier.url }), ...(collector === undefined ? {} : { collector }) };
}
