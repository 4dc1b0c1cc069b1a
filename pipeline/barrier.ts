/**
 * The start barrier of a sharded run (`tally run --shard i/N --barrier URL`): the shards
 * agree on one start instant over plain HTTP, with no coordinator of their own beyond
 * shard 0. In Kubernetes the URL names shard 0's pod through the headless Service of the
 * Indexed Job (`http://<job>-0.<service>:7070`); on one machine it is a loopback port.
 *
 * - Shard 0 listens on the URL's port. Every shard (shard 0 included) checks in with its
 *   index, the shard count and its scenario hash.
 * - The others poll `GET /v1/start?shard=i&count=N&hash=H` every {@link POLL_INTERVAL_MS}:
 *   `202` while shards are missing (the body lists them), `409` when the count or the
 *   scenario hash differs from shard 0's (another plan: the shard fails), and `200`
 *   `{ startEpochMs }` once all N have checked in. Shard 0 then fixes the instant, once:
 *   now + `leadMs`, long enough for every poller to hear it before it comes.
 * - Shard 0 keeps answering until its run ends, so a shard that checked in but missed
 *   the answer still gets it; the instant never changes.
 * - Every wait is bounded by `timeoutMs`; each poll by {@link POLL_TIMEOUT_MS}.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { ShardError } from '../core/errors.ts';
import type { ShardSpec } from '../scenarios/shard-plan.ts';

/** How often a shard asks shard 0 (ms). */
export const POLL_INTERVAL_MS = 200;
/** One poll's deadline (ms). */
export const POLL_TIMEOUT_MS = 2000;
/** Default lead between the last check-in and the start instant (ms). */
export const DEFAULT_BARRIER_LEAD_MS = 3000;
/** Default longest wait at the barrier (ms): pods of one Job may be scheduled minutes apart. */
export const DEFAULT_BARRIER_TIMEOUT_MS = 600_000;
/** Largest reply body a poller reads (bytes). */
const MAX_REPLY_BYTES = 16_384;

/** Options of {@link startBarrier}. */
export interface BarrierOptions {
  /** Shard 0's barrier URL, `http://host:port`. */
  url: string;
  shard: ShardSpec;
  scenarioHash: string;
  /** Shard 0: the address it listens on (default all interfaces, `0.0.0.0`). */
  bindHost?: string;
  /** Lead between the last check-in and the start (ms). */
  leadMs?: number;
  /** Longest wait (ms). */
  timeoutMs?: number;
  /** Epoch-ms clock (tests). */
  nowMs?: () => number;
  /** Ends the wait (a signal). */
  signal?: AbortSignal;
  /** Shard 0: more routes on the same server (pipeline/shard-collect.ts); returns true when it answered. */
  routes?: (req: IncomingMessage, res: ServerResponse) => boolean;
}

/** A reached barrier: the start instant, and (shard 0) the server to close when the run ends. */
export interface ReachedBarrier {
  startEpochMs: number;
  close(): Promise<void>;
}

/** What a poller asks: its shard, the count, its scenario hash. */
interface CheckIn {
  shard: number;
  count: number;
  hash: string;
}

function parseCheckIn(url: URL): CheckIn | undefined {
  const shard = Number(url.searchParams.get('shard'));
  const count = Number(url.searchParams.get('count'));
  const hash = url.searchParams.get('hash') ?? '';
  if (!Number.isInteger(shard) || !Number.isInteger(count) || shard < 0 || shard >= count || hash === '') return undefined;
  return { shard, count, hash };
}

/** Shard 0's side: the barrier server. */
class Coordinator {
  readonly #options: BarrierOptions;
  readonly #seen = new Set<number>();
  readonly #now: () => number;
  #startEpochMs: number | undefined;
  #resolve: ((startEpochMs: number) => void) | undefined;
  readonly started: Promise<number>;
  server: Server | undefined;

  constructor(options: BarrierOptions) {
    this.#options = options;
    this.#now = options.nowMs ?? Date.now;
    this.started = new Promise((resolve) => (this.#resolve = resolve));
    this.#checkIn(0);
  }

  #checkIn(shard: number): void {
    this.#seen.add(shard);
    if (this.#startEpochMs === undefined && this.#seen.size === this.#options.shard.count) {
      this.#startEpochMs = Math.ceil(this.#now()) + (this.#options.leadMs ?? DEFAULT_BARRIER_LEAD_MS);
      this.#resolve?.(this.#startEpochMs);
    }
  }

  handle = (req: IncomingMessage, res: ServerResponse): void => {
    const reply = (status: number, body: object): void => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(`${JSON.stringify(body)}\n`);
    };
    const url = new URL(req.url ?? '/', 'http://barrier');
    if (this.#options.routes?.(req, res)) return;
    if (req.method !== 'GET' || url.pathname !== '/v1/start') return reply(404, { error: 'not_found' });
    const asked = parseCheckIn(url);
    if (asked === undefined) return reply(400, { error: 'bad_request', expected: '/v1/start?shard=i&count=N&hash=H' });
    if (asked.count !== this.#options.shard.count || asked.hash !== this.#options.scenarioHash) {
      return reply(409, { error: 'plan_mismatch', count: this.#options.shard.count, scenarioHash: this.#options.scenarioHash });
    }
    this.#checkIn(asked.shard);
    if (this.#startEpochMs !== undefined) return reply(200, { startEpochMs: this.#startEpochMs });
    const missing = Array.from({ length: this.#options.shard.count }, (_, i) => i).filter((i) => !this.#seen.has(i));
    reply(202, { waiting: missing });
  };
}

/**
 * Shard 0: serve the barrier and wait for every shard. Others: poll shard 0 until it
 * answers with the start instant.
 * @returns the start instant (epoch ms) and a close for shard 0's server.
 * @throws ShardError `TALLY_SHARD_BARRIER_FAILED` when the wait times out, shard 0
 * answers for another plan (shard count or scenario hash), or shard 0 cannot listen.
 */
export async function startBarrier(options: BarrierOptions): Promise<ReachedBarrier> {
  const url = new URL(options.url);
  const timeoutMs = options.timeoutMs ?? DEFAULT_BARRIER_TIMEOUT_MS;
  if (options.shard.index === 0) return coordinate(options, url, timeoutMs);
  const startEpochMs = await poll(options, url, timeoutMs);
  return { startEpochMs, close: async () => {} };
}

async function coordinate(options: BarrierOptions, url: URL, timeoutMs: number): Promise<ReachedBarrier> {
  const coordinator = new Coordinator(options);
  const server = createServer(coordinator.handle);
  server.keepAliveTimeout = 1000;
  const close = (): Promise<void> => new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(Number(url.port || 80), options.bindHost ?? '0.0.0.0', () => resolve());
    });
  } catch (cause) {
    throw new ShardError('TALLY_SHARD_BARRIER_FAILED', `shard 0 cannot listen for the start barrier on port ${url.port || 80}`, { cause, details: { url: options.url } });
  }
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = options.signal === undefined ? timeout : AbortSignal.any([timeout, options.signal]);
  const aborted = new Promise<never>((_, reject) => {
    const fail = (): void => reject(new ShardError('TALLY_SHARD_BARRIER_FAILED', `not every shard reached the start barrier within ${timeoutMs} ms`, { details: { url: options.url, shardCount: options.shard.count } }));
    if (signal.aborted) fail();
    else signal.addEventListener('abort', fail, { once: true });
  });
  try {
    const startEpochMs = await Promise.race([coordinator.started, aborted]);
    return { startEpochMs, close };
  } catch (error) {
    await close();
    throw error;
  }
}

async function poll(options: BarrierOptions, url: URL, timeoutMs: number): Promise<number> {
  const now = options.nowMs ?? Date.now;
  const deadline = now() + timeoutMs;
  const ask = new URL('/v1/start', url);
  ask.search = new URLSearchParams({ shard: String(options.shard.index), count: String(options.shard.count), hash: options.scenarioHash }).toString();
  let last = 'no answer yet';
  while (now() < deadline) {
    if (options.signal?.aborted) break;
    try {
      const res = await fetch(ask, { signal: AbortSignal.timeout(POLL_TIMEOUT_MS), headers: { accept: 'application/json' } });
      const text = (await res.text()).slice(0, MAX_REPLY_BYTES);
      if (res.status === 200) {
        const startEpochMs = (JSON.parse(text) as { startEpochMs?: unknown }).startEpochMs;
        if (typeof startEpochMs === 'number' && Number.isFinite(startEpochMs)) return startEpochMs;
        last = 'a 200 without startEpochMs';
      } else if (res.status === 409) {
        throw new ShardError('TALLY_SHARD_BARRIER_FAILED', `shard 0 at ${options.url} runs another plan (shard count or scenario hash differ)`, { details: { url: options.url, answer: text.trim() } });
      } else last = `HTTP ${res.status}`;
    } catch (error) {
      if (error instanceof ShardError) throw error;
      last = (error as Error).message;
    }
    await delay(POLL_INTERVAL_MS, undefined, options.signal === undefined ? {} : { signal: options.signal }).catch(() => {});
  }
  throw new ShardError('TALLY_SHARD_BARRIER_FAILED', `shard 0 at ${options.url} gave no start instant within ${timeoutMs} ms (last: ${last})`, { details: { url: options.url, last } });
}
