/**
 * The main thread's handle on a stand-in running on its own worker thread
 * (embedded/stand-in-thread.ts): start it and learn its address, read its latest counters
 * at any moment (it reports every 200 ms), ask for fresh ones, and finish it: it stops
 * listening and sends its last words, after which the observation counts it shares with
 * the main thread are final. Every wait is bounded; a thread that does not answer is
 * terminated.
 *
 * @see https://nodejs.org/api/worker_threads.html#new-workerfilename-options
 */
import { Worker } from 'node:worker_threads';
import { CollectorError, reviveError, type TallyError } from '../core/errors.ts';
import type { StandInCommand, StandInMessage, StandInRequest } from '../embedded/stand-in-messages.ts';

type Ready = Extract<StandInMessage, { type: 'ready' }>;
type Report = Extract<StandInMessage, { type: 'report' }>;
type Finished = Extract<StandInMessage, { type: 'finished' }>;

/** How long a stand-in may take to start listening, to answer a report request, or to finish (ms). */
export const STAND_IN_START_MS = 10_000;
export const STAND_IN_ANSWER_MS = 2000;
export const STAND_IN_FINISH_MS = 3000;

/** A stand-in on its own thread. */
export class StandInThread {
  readonly ready: Ready;
  readonly #worker: Worker;
  readonly #sync: Int32Array;
  #latest: Report | undefined;
  #finished: Finished | undefined;
  #listeners = new Set<(m: StandInMessage) => void>();
  #failure: TallyError | undefined;

  private constructor(worker: Worker, sync: Int32Array, ready: Ready) {
    this.#worker = worker;
    this.#sync = sync;
    this.ready = ready;
    worker.on('message', (m: StandInMessage) => {
      if (m.type === 'report') this.#latest = m;
      if (m.type === 'finished') this.#finished = m;
      if (m.type === 'failed') this.#failure ??= reviveError(m.error);
      for (const l of this.#listeners) l(m);
    });
  }

  /**
   * Start a stand-in thread and wait until it listens.
   * @param onFailure told when the thread fails later (an uncaught error, an exit), once.
   * @throws the stand-in's own error (CollectorError when it cannot listen), or CollectorError when it does not start in time.
   */
  static async start(request: StandInRequest, onFailure: (error: TallyError) => void = () => {}): Promise<StandInThread> {
    const sync = new Int32Array(new SharedArrayBuffer(4));
    // As the load threads (pipeline/worker-pool.ts): fewer young-generation pauses, which the target would add to every latency it serves.
    const worker = new Worker(new URL('../embedded/stand-in-thread.ts', import.meta.url), { workerData: { request, sync }, resourceLimits: { maxYoungGenerationSizeMb: 64 } });
    let onMessage: (m: StandInMessage) => void = () => {};
    let onError: (e: Error) => void = () => {};
    let onExit: (code: number) => void = () => {};
    let timer: NodeJS.Timeout | undefined;
    try {
      const ready = await new Promise<Ready>((resolve, reject) => {
        timer = setTimeout(() => reject(new CollectorError(`embedded ${request.kind} did not start within ${STAND_IN_START_MS} ms`)), STAND_IN_START_MS);
        onMessage = (m) => {
          if (m.type === 'ready') resolve(m);
          if (m.type === 'failed') reject(reviveError(m.error));
        };
        onError = (e) => reject(reviveError(e));
        onExit = (code) => reject(new CollectorError(`embedded ${request.kind} exited (${code}) before it listened`));
        worker.on('message', onMessage);
        worker.once('error', onError);
        worker.once('exit', onExit);
      });
      const thread = new StandInThread(worker, sync, ready);
      worker.on('error', (e) => onFailure(reviveError(e)));
      return thread;
    } catch (error) {
      await worker.terminate();
      throw error;
    } finally {
      clearTimeout(timer);
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    }
  }

  /** The latest report (at most 200 ms old), or the last words once finished. */
  get latest(): Report | Finished | undefined {
    return this.#finished ?? this.#latest;
  }

  /** A failure the thread reported after it started. */
  get failure(): TallyError | undefined {
    return this.#failure;
  }

  /** Ask for a report now and wait for it (bounded). */
  async refresh(): Promise<void> {
    if (this.#finished !== undefined) return;
    await this.#next((m) => m.type === 'report' || m.type === 'finished', { type: 'report' }, STAND_IN_ANSWER_MS);
  }

  /**
   * Stop the stand-in: it stops listening, drops its connections and sends its last words;
   * then the shared observation counts are final (read after an Atomics load of the sync
   * slot the thread stored into). The thread is terminated either way.
   * @returns the last words, or undefined when the thread did not answer in time.
   */
  async finish(): Promise<Finished | undefined> {
    if (this.#finished === undefined) {
      await this.#next((m) => m.type === 'finished' || m.type === 'failed', { type: 'finish' }, STAND_IN_FINISH_MS);
    }
    // Synchronizes with the thread's Atomics.store after its last write to the shared counts.
    const synced = Atomics.load(this.#sync, 0) === 1;
    await this.#worker.terminate();
    return this.#finished !== undefined && (synced || this.#finished.totals === undefined) ? this.#finished : undefined;
  }

  /** Terminate the thread (after {@link finish}, or when the run failed). */
  async close(): Promise<void> {
    await this.#worker.terminate();
  }

  #next(match: (m: StandInMessage) => boolean, command: StandInCommand, timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#listeners.delete(listener);
        this.#worker.off('exit', done);
        resolve();
      };
      const listener = (m: StandInMessage): void => {
        if (match(m)) done();
      };
      const timer = setTimeout(done, timeoutMs);
      this.#listeners.add(listener);
      this.#worker.once('exit', done);
      this.#worker.postMessage(command);
    });
  }
}
