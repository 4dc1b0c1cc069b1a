/**
 * One run split across processes (`tally run --shard i/N`): which arrivals, VUs, series
 * and traces process shard i of N takes, and how its worker threads split them again.
 * Pure.
 *
 * - **Arrivals** (open model): shard i takes arrivals j ≡ i (mod N), as worker threads do
 *   within one process; its thread t of T takes j ≡ i + N·t (mod N·T). Every arrival is
 *   taken exactly once whatever each process's thread count, and consecutive arrivals go
 *   to different shards, so N shards never release a burst N times the planned rate.
 * - **VUs** (closed model): shard i runs VUs v ≡ i (mod N), its thread t VUs v ≡ i + N·t (mod N·T).
 * - **Series**: each metric's series are cut into N contiguous slices
 *   ({@link seriesSlice}), and each shard's slice into T thread slices.
 * - **Traces**: trace `seq` belongs to shard `seq mod N`, which is also the shard in its
 *   trace id (the trace model's `shardCount` is N), so the trace ids of a run never depend
 *   on how many threads a shard has; thread t sends seq ≡ i + N·t (mod N·T).
 *
 * An unsharded run is the special case where the threads are the shards: thread t takes
 * arrivals j ≡ t (mod T) and its trace ids carry t.
 */
import { ConfigError } from '../core/errors.ts';

/** Process shard `index` of `count` (`tally run --shard index/count`). */
export interface ShardSpec {
  index: number;
  count: number;
}

/**
 * Most shards a run may be split into. A trace id has 2 bytes for the shard; a
 * Kubernetes Indexed Job allows far more pods than a benchmark needs.
 */
export const MAX_SHARDS = 1000;

/**
 * Parse `--shard i/N`.
 * @returns `{ index: i, count: N }` with 0 ≤ i < N ≤ {@link MAX_SHARDS}.
 * @throws ConfigError `TALLY_USAGE` for anything else.
 */
export function parseShardFlag(text: string): ShardSpec {
  const m = /^(\d{1,4})\/(\d{1,4})$/.exec(text.trim());
  const index = m === null ? Number.NaN : Number(m[1]);
  const count = m === null ? Number.NaN : Number(m[2]);
  if (!(count >= 1 && count <= MAX_SHARDS && index >= 0 && index < count)) {
    throw new ConfigError(`--shard ${JSON.stringify(text)}: expected i/N with 0 ≤ i < N ≤ ${MAX_SHARDS}`, [{ pointer: '', message: `--shard i/N, e.g. 0/4 (at most ${MAX_SHARDS} shards)` }], { code: 'TALLY_USAGE' });
  }
  return { index, count };
}

/**
 * Shard `shard` of `shardCount`'s contiguous slice of `count` series: `[seriesStart, seriesEnd)`.
 * Slices are as even as integers allow and cover every series exactly once.
 */
export function seriesSlice(count: number, shard: number, shardCount: number): { seriesStart: number; seriesEnd: number } {
  return { seriesStart: Math.floor((count * shard) / shardCount), seriesEnd: Math.floor((count * (shard + 1)) / shardCount) };
}

/** How a worker thread of a (possibly sharded) run is placed: its arrivals, VUs and trace sequences. */
export interface ThreadLane {
  /** The first arrival (and VU, and trace sequence) the thread takes. */
  first: number;
  /** The step between two of them: N·T (sharded) or T. */
  stride: number;
}

/**
 * Worker thread `thread` of `threads` in process shard `shard` (none: an unsharded run).
 * @returns the thread's first arrival and its stride.
 */
export function threadLane(shard: ShardSpec | undefined, thread: number, threads: number): ThreadLane {
  if (shard === undefined) return { first: thread, stride: threads };
  return { first: shard.index + shard.count * thread, stride: shard.count * threads };
}

/**
 * The series a worker thread exports: its slice of its process shard's slice.
 * @returns `[seriesStart, seriesEnd)`, possibly empty.
 */
export function threadSeriesSlice(count: number, shard: ShardSpec | undefined, thread: number, threads: number): { seriesStart: number; seriesEnd: number } {
  if (shard === undefined) return seriesSlice(count, thread, threads);
  const outer = seriesSlice(count, shard.index, shard.count);
  const inner = seriesSlice(outer.seriesEnd - outer.seriesStart, thread, threads);
  return { seriesStart: outer.seriesStart + inner.seriesStart, seriesEnd: outer.seriesStart + inner.seriesEnd };
}

/** How many of the integers in [0, end) are ≡ index (mod count). */
export function residuesBelow(end: number, index: number, count: number): number {
  return Math.max(0, Math.ceil((end - index) / count));
}

/**
 * A shard's part of per-stage counts that partition [0, Σ counts) in order (arrivals per
 * stage or burst): the integers ≡ index (mod count) in each stage's range.
 */
export function shareOfStages(perStage: readonly number[], shard: ShardSpec): number[] {
  let start = 0;
  return perStage.map((n) => {
    const share = residuesBelow(start + n, shard.index, shard.count) - residuesBelow(start, shard.index, shard.count);
    start += n;
    return share;
  });
}

/** Latest `--start-at` accepted, ahead of now (ms): a shard waits for it, and every wait is bounded. */
export const MAX_START_AHEAD_MS = 24 * 3600_000;

/**
 * Parse `--start-at`: an RFC 3339 date-time with a time zone (`2026-11-21T18:00:00Z`,
 * `…+01:00`, fractional seconds allowed) or epoch milliseconds.
 * @returns the instant in whole epoch ms (fractions rounded up, so it is never earlier than asked).
 * @throws ConfigError `TALLY_USAGE` for anything else.
 * @see https://www.rfc-editor.org/rfc/rfc3339#section-5.6
 */
export function parseStartAt(text: string): number {
  const t = text.trim();
  let ms = Number.NaN;
  if (/^\d{10,16}$/.test(t)) ms = Number(t);
  else if (/^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/.test(t)) ms = Date.parse(t.replace(' ', 'T'));
  if (!Number.isFinite(ms)) {
    throw new ConfigError(`--start-at ${JSON.stringify(text)}: expected an RFC 3339 date-time with a zone (2026-11-21T18:00:00Z) or epoch milliseconds`, [{ pointer: '', message: '--start-at <RFC 3339 | epoch ms>' }], { code: 'TALLY_USAGE' });
  }
  return Math.ceil(ms);
}
