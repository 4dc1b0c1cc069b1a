/**
 * Collecting a sharded run's results in shard 0 (`tally run --shard i/N --barrier URL
 * --collect DIR`), with nothing but the pods' DNS names: after its run, every other shard
 * hands its run directory to shard 0 over the barrier's HTTP server
 * (`PUT /v1/shards/<i>/files/<name>`, then `POST /v1/shards/<i>/done`); shard 0 keeps its
 * own directory in `DIR/shard-0`, writes each other shard's to `DIR/shard-<i>`, waits
 * (bounded) for every shard, and merges them into `DIR/merged` (pipeline/merge.ts), so
 * the run's verdict is shard 0's exit code, as `tally merge` gives it.
 *
 * Only the run files are accepted (results.json, shard.json, plan.json, ledger.bin,
 * intervals.ndjson, summary.md), each at most {@link MAX_UPLOAD_BYTES}, written to a
 * temporary name and renamed whole; an upload names the scenario hash, and one for
 * another plan is refused (409).
 */
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { ShardError } from '../core/errors.ts';
import type { ShardSpec } from '../scenarios/shard-plan.ts';
import type { TextOut } from '../core/text-out.ts';
import type { Results } from '../reports/results.ts';
import { mergeRuns } from './merge.ts';
import type { RunOutcome } from './run.ts';

/** The files a shard hands over. */
export const RUN_FILES = ['results.json', 'shard.json', 'plan.json', 'ledger.bin', 'intervals.ndjson', 'summary.md'] as const;
/** Largest file accepted (bytes): the ledger's own bound (scenarios/memory-budget.ts refuses larger runs). */
export const MAX_UPLOAD_BYTES = 4 * 1024 ** 3;
/** Default longest wait for the other shards' results (ms). */
export const DEFAULT_COLLECT_TIMEOUT_MS = 600_000;
/** Attempts of each upload request (the pause between them doubles from 500 ms). */
const UPLOAD_ATTEMPTS = 6;

/** The directory of shard `index` under the collection directory. */
export function collectedShardDir(collectDir: string, index: number): string {
  return join(collectDir, `shard-${index}`);
}

/** Shard 0's receiving side: routes for the barrier's server and a wait for every shard. */
export class ShardCollector {
  readonly #dir: string;
  readonly #shard: ShardSpec;
  readonly #hash: string;
  readonly #done = new Set<number>();
  #wake: (() => void) | undefined;

  constructor(collectDir: string, shard: ShardSpec, scenarioHash: string) {
    this.#dir = collectDir;
    this.#shard = shard;
    this.#hash = scenarioHash;
  }

  /** Answer `PUT /v1/shards/<i>/files/<name>` and `POST /v1/shards/<i>/done`; false for any other request. */
  routes = (req: IncomingMessage, res: ServerResponse): boolean => {
    const m = /^\/v1\/shards\/(\d{1,4})\/(?:files\/([a-z.]+)|(done))$/.exec(new URL(req.url ?? '/', 'http://collect').pathname);
    if (m === null) return false;
    const reply = (status: number, body: object): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(`${JSON.stringify(body)}\n`);
    };
    const index = Number(m[1]);
    if (index < 1 || index >= this.#shard.count) return (reply(400, { error: 'bad_shard' }), true);
    if (req.headers['x-tally-scenario-hash'] !== this.#hash) return (reply(409, { error: 'plan_mismatch' }), true);
    if (m[3] !== undefined) {
      if (req.method !== 'POST') return (reply(405, { error: 'method' }), true);
      this.#done.add(index);
      this.#wake?.();
      return (reply(200, { ok: true }), true);
    }
    const name = m[2];
    if (req.method !== 'PUT' || !(RUN_FILES as readonly string[]).includes(name)) return (reply(400, { error: 'bad_file' }), true);
    const length = Number(req.headers['content-length'] ?? Number.NaN);
    if (!(length >= 0 && length <= MAX_UPLOAD_BYTES)) return (reply(413, { error: 'too_large_or_unsized' }), true);
    void this.#store(req, collectedShardDir(this.#dir, index), name, length).then(() => reply(200, { ok: true }), () => reply(500, { error: 'write_failed' }));
    return true;
  };

  async #store(req: IncomingMessage, dir: string, name: string, length: number): Promise<void> {
    await mkdir(dir, { recursive: true });
    const temp = join(dir, `${name}.tmp-upload`);
    let received = 0;
    req.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > length) req.destroy();
    });
    try {
      await pipeline(req, createWriteStream(temp));
      if (received !== length) throw new Error('short body');
      await rename(temp, join(dir, name));
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  /**
   * Wait until every other shard said `done`, or `timeoutMs` passed.
   * @returns the indexes that never did.
   */
  async waitForShards(timeoutMs: number): Promise<number[]> {
    const deadline = Date.now() + timeoutMs;
    const missing = (): number[] => Array.from({ length: this.#shard.count - 1 }, (_, i) => i + 1).filter((i) => !this.#done.has(i));
    while (missing().length > 0 && Date.now() < deadline) {
      await Promise.race([new Promise<void>((resolve) => (this.#wake = resolve)), delay(Math.min(1000, Math.max(0, deadline - Date.now())))]);
    }
    return missing();
  }
}

async function attempt(url: string, init: RequestInit & { duplex?: 'half' }, what: string): Promise<void> {
  let last = '';
  for (let i = 0; i < UPLOAD_ATTEMPTS; i++) {
    try {
      const res = await fetch(url, init);
      await res.arrayBuffer();
      if (res.ok) return;
      if (res.status === 409) throw new ShardError('TALLY_SHARD_BARRIER_FAILED', `shard 0 refused ${what}: it collects another plan`, { details: { url } });
      last = `HTTP ${res.status}`;
    } catch (error) {
      if (error instanceof ShardError) throw error;
      last = (error as Error).message;
    }
    await delay(500 * 2 ** i);
  }
  throw new ShardError('TALLY_SHARD_BARRIER_FAILED', `could not hand ${what} to shard 0 (last: ${last})`, { details: { url, last } });
}

/**
 * Hand a shard's run directory to shard 0 (files it does not have are skipped: a stopped
 * run may lack its ledger), then say it is done.
 * @throws ShardError `TALLY_SHARD_BARRIER_FAILED` when shard 0 cannot be reached or refuses.
 */
export async function handOverRunDir(barrierUrl: string, shard: ShardSpec, scenarioHash: string, runDir: string): Promise<void> {
  const headers = { 'x-tally-scenario-hash': scenarioHash };
  for (const name of RUN_FILES) {
    const body = await readFile(join(runDir, name)).catch(() => undefined);
    if (body === undefined) continue;
    await attempt(new URL(`/v1/shards/${shard.index}/files/${name}`, barrierUrl).href, { method: 'PUT', headers, body }, `${name} of shard ${shard.index}`);
  }
  await attempt(new URL(`/v1/shards/${shard.index}/done`, barrierUrl).href, { method: 'POST', headers }, `the end of shard ${shard.index}`);
}

/**
 * After a shard's run with `--collect DIR`: hand the run directory to shard 0, or (shard 0)
 * wait for every other shard's and merge them all into `DIR/merged`.
 * @returns the merged results (shard 0), undefined elsewhere.
 * @throws ShardError `TALLY_SHARD_BARRIER_FAILED` when the hand-over fails;
 * `TALLY_MERGE_INCOMPLETE_SHARD` (exit 2) from shard 0 when a shard never handed its results
 * over or did not finish: the merged results are written first, marked incomplete.
 */
export async function finishCollection(outcome: RunOutcome, o: { collect: string; timeoutMs?: number; stdout?: TextOut }): Promise<Results | undefined> {
  const sharded = outcome.sharded;
  if (sharded === undefined || sharded.barrierUrl === undefined) return undefined;
  const shard = { index: sharded.identity.index, count: sharded.identity.count };
  // Stopped by a signal (a pod being deleted): no time to wait for the others.
  if (outcome.results.incompleteReason === 'SIGTERM' || outcome.results.incompleteReason === 'SIGINT') {
    await sharded.close();
    return undefined;
  }
  if (sharded.collector === undefined) {
    await handOverRunDir(sharded.barrierUrl, shard, sharded.identity.scenarioHash, outcome.outDir);
    return undefined;
  }
  let missing: number[];
  try {
    missing = await sharded.collector.waitForShards(o.timeoutMs ?? DEFAULT_COLLECT_TIMEOUT_MS);
  } finally {
    await sharded.close();
  }
  const dirs = [outcome.outDir, ...Array.from({ length: shard.count - 1 }, (_, i) => collectedShardDir(o.collect, i + 1)).filter((_, i) => !missing.includes(i + 1))];
  const { results } = await mergeRuns({ runDirs: dirs, outDir: join(o.collect, 'merged'), allowIncomplete: true, overwrite: true, ...(o.stdout === undefined ? {} : { stdout: o.stdout }) });
  const incomplete = (results.merge?.incompleteShards ?? []) as number[];
  if (incomplete.length > 0) {
    throw new ShardError('TALLY_MERGE_INCOMPLETE_SHARD', `the merged run is incomplete: shard${incomplete.length > 1 ? 's' : ''} ${incomplete.join(', ')} missing or unfinished (results in ${join(o.collect, 'merged')})`, { details: { incomplete } });
  }
  return results;
}
