/**
 * The piscina pool the shards run on: one thread per shard, each running one long shard
 * loop (never one task per request), warmed up before the run's clock starts.
 *
 * @see https://github.com/piscinajs/piscina#constructor-new-piscinaoptions
 */
import { Piscina } from 'piscina';

/** Young generation of each load thread (MB); see startWorkerPool. */
export const LOAD_THREAD_YOUNG_GENERATION_MB = 64;

/** How long each thread holds its warm-up task, so every thread gets one (ms). */
const WARMUP_HOLD_MS = 50;

/**
 * Start `threads` worker threads and warm each one (module loading, WebAssembly, 300
 * iterations against an in-thread server), so that start-up is not counted as late starts.
 * @returns the pool; destroy it when the run ends.
 * @throws WorkerError when a thread fails to start (the pool is destroyed first).
 */
export async function startWorkerPool(threads: number): Promise<Piscina> {
  const pool = new Piscina({
    filename: new URL('../workers/shard.ts', import.meta.url).href,
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: 1000,
    // A larger young generation: a load thread at 1,000 new connections/s scavenged every
    // 1–2 s for 2–6 ms (each pause a stall its measurements wear); with 64 MB, about once in 5 s.
    resourceLimits: { maxYoungGenerationSizeMb: LOAD_THREAD_YOUNG_GENERATION_MB },
  });
  try {
    await Promise.all(Array.from({ length: threads }, () => pool.run({ warmup: true, holdMs: WARMUP_HOLD_MS })));
  } catch (error) {
    await pool.destroy();
    throw error;
  }
  return pool;
}
