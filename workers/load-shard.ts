/**
 * The load part of a shard: the executor loop.
 *
 * Open model (`constant-arrival-rate`, `ramping-arrival-rate`, `burst`): arrival j of the
 * run is due at `start + schedule.offsetMs(j)`; shard s of n takes arrivals j ≡ s (mod n),
 * so shards interleave rather than bunch. Latency is recorded from the intended start
 * (coordinated-omission corrected) and service time from the actual start. A due arrival
 * that finds the shard at `maxInFlight` is dropped and counted (k6's dropped_iterations);
 * one that starts later than `lateStartThresholdMs` after its intended start is a late
 * start; the lag of every start is kept as `schedulerLagUs`.
 *
 * Closed model (`constant-vus`, `ramping-vus`): shard s runs VUs v ≡ s (mod n) while
 * `v < vusAt(now)`; each VU runs iterations back to back, so latency is service time.
 * A VU ramped down finishes its current iteration first.
 */
import { performance } from 'node:perf_hooks';
import { emptyLoadCounts, LOAD_HISTOGRAMS, SLOW_CONNECT_US, SLOW_CONNECTS_KEPT, STATUS_CLASSES, type BurstRelease, type LoadHistogramName, type LoadIntervalCounts, type ShardLoadTask } from '../core/messages.ts';
import { createHistogramUs, encodeHistogramBytes, recordUs, type Histogram } from '../core/histogram.ts';
import { isOpenModel, maxVUs, openSchedule, vusAt, type ClosedExecutorSpec, type OpenSchedule } from '../core/schedule.ts';
import { createLoadClient, type LoadClient, type RequestResult } from './load-client.ts';
import { arrivalClock, type ArrivalClock } from './arrival-clock.ts';

/** Epoch milliseconds (fractional) from this thread's monotonic clock. */
export function epochNowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Arrivals launched back to back before yielding to I/O, when the loop has fallen behind. */
const MAX_LAUNCHES_PER_TURN = 64;
/** How often the closed-model controller re-reads the VU target (ms). */
const VU_CONTROL_MS = 10;

/** A closed-model VU of this shard: global VU `shard + k·n`. */
interface Vu {
  k: number;
  running: boolean;
  /** Actual start of its current iteration (epoch ms): its latency is service time. */
  startedAtMs: number;
  next: () => void;
  done: () => void;
}

/** A running load shard. */
export class LoadShard {
  readonly #task: ShardLoadTask;
  readonly #client: LoadClient;
  readonly #startEpochMs: number;
  readonly #endEpochMs: number;
  readonly #shard: number;
  readonly #shardCount: number;
  readonly #schedule: OpenSchedule | undefined;
  #next: number;
  #inFlight = 0;
  #stopped = false;
  #counts = emptyLoadCounts();
  #histograms: Record<LoadHistogramName, Histogram>;
  /** The other set of histograms: reset off the report's turn, swapped in at the next interval. */
  #spare: Record<LoadHistogramName, Histogram>;
  #spareReset: NodeJS.Immediate | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** Open model: wakes the loop when the next arrival is due (sub-millisecond; workers/arrival-clock.ts). */
  readonly #clock: ArrivalClock;
  #yielded: NodeJS.Immediate | undefined;
  #finish: (() => void) | undefined;
  /** Closed model: this shard's VUs, each with its callbacks made once (not per iteration). */
  #vus: (Vu | undefined)[] = [];
  /** Depth of VU iterations started from a finished one's callback (a synchronous finish is deferred, not recursed). */
  #vuDepth = 0;
  #vusActive = 0;
  #burst: BurstRelease | undefined;

  constructor(task: ShardLoadTask, shard: number, shardCount: number, startEpochMs: number, durationMs: number) {
    this.#task = task;
    this.#shard = shard;
    this.#shardCount = shardCount;
    this.#startEpochMs = startEpochMs;
    this.#endEpochMs = startEpochMs + durationMs;
    this.#next = shard;
    this.#schedule = isOpenModel(task.executor) ? openSchedule(task.executor, durationMs) : undefined;
    this.#clock = arrivalClock();
    const c = task.client;
    this.#client = createLoadClient({
      protocol: c.protocol,
      host: c.host,
      port: c.port,
      request: Buffer.from(c.requestText, 'latin1'),
      isHead: c.method === 'HEAD',
      reuse: c.reuse,
      close: c.close,
      requestsPerIteration: c.requestsPerIteration,
      connectTimeoutMs: c.connectTimeoutMs,
      requestTimeoutMs: c.requestTimeoutMs,
      tcpCrr: c.tcpCrr,
      dns: c.dns,
      localAddresses: c.localAddresses,
      maxConnections: c.maxConnections,
    });
    const set = (): Record<LoadHistogramName, Histogram> => Object.fromEntries(LOAD_HISTOGRAMS.map((n) => [n, createHistogramUs()])) as Record<LoadHistogramName, Histogram>;
    this.#histograms = set();
    this.#spare = set();
  }

  /** Intended start (epoch ms) of global arrival j. */
  #intended(j: number): number {
    return this.#startEpochMs + this.#schedule!.offsetMs(j);
  }

  /** Run until the schedule ends (or `stop()`), then until in-flight iterations finish. */
  run(): Promise<void> {
    return new Promise((resolve) => {
      this.#finish = resolve;
      if (this.#schedule) this.#turn();
      else this.#control();
    });
  }

  /** Stop scheduling; in-flight iterations still finish. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#clock.cancel();
    clearImmediate(this.#yielded);
    this.#yielded = undefined;
    this.#maybeFinish();
  }

  #scheduleDone(): boolean {
    if (this.#stopped) return true;
    if (this.#schedule) return this.#next >= this.#schedule.arrivals;
    return epochNowMs() >= this.#endEpochMs;
  }

  #maybeFinish(): void {
    if (this.#inFlight === 0 && this.#finish !== undefined && (this.#schedule ? this.#scheduleDone() : this.#stopped || this.#timer === undefined)) {
      const f = this.#finish;
      this.#finish = undefined;
      this.#client.close().then(f, f);
    }
  }

  // ---- open model ----

  #turn = (): void => {
    this.#yielded = undefined;
    let launched = 0;
    const now = epochNowMs();
    const maxInFlight = this.#task.maxInFlight;
    while (!this.#scheduleDone()) {
      const intendedMs = this.#intended(this.#next);
      if (intendedMs > now) break;
      if (launched === MAX_LAUNCHES_PER_TURN) {
        // Let I/O in, then go on at once (a timer would add a millisecond).
        this.#yielded = setImmediate(this.#turn);
        return;
      }
      const j = this.#next;
      this.#next += this.#shardCount;
      launched++;
      if (this.#inFlight >= maxInFlight) {
        this.#counts.droppedIterations++;
        continue;
      }
      const lagMs = now - intendedMs;
      if (lagMs > this.#task.lateStartThresholdMs) this.#counts.lateStarts++;
      recordUs(this.#histograms.schedulerLagUs, lagMs * 1000);
      this.#launch(intendedMs, this.#noteStart(now, intendedMs, j));
    }
    if (this.#scheduleDone()) {
      this.#maybeFinish();
      return;
    }
    this.#clock.wakeIn(this.#intended(this.#next) - epochNowMs(), this.#turn);
  };

  /**
   * Count a start by the stage its actual start fell in; for bursts, track the release spread.
   * A start after the planned end is the overrun only when it was due before the end and
   * late (more than `lateStartThresholdMs` after its intended time). The last arrivals, due
   * just before the end, start a fraction of a millisecond after it on time, and a burst
   * schedule's last burst may be planned past the end: those count in the stage they were
   * due in (the last one at most).
   * @returns whether the start is the overrun, which no stage counts.
   */
  #noteStart(nowMs: number, intendedMs: number, j: number): boolean {
    const schedule = this.#schedule!;
    let stage = schedule.stageAt(nowMs - this.#startEpochMs);
    if (stage < 0) {
      const intendedStage = schedule.stageAt(intendedMs - this.#startEpochMs);
      if (intendedStage >= 0 && nowMs - intendedMs > this.#task.lateStartThresholdMs) {
        this.#counts.overrunStarted++;
        if (nowMs > this.#counts.lastOverrunStartMs) this.#counts.lastOverrunStartMs = nowMs;
        return true;
      }
      stage = intendedStage >= 0 ? intendedStage : schedule.stageCount - 1;
    }
    this.#counts.stageStarted[stage] = (this.#counts.stageStarted[stage] ?? 0) + 1;
    if (this.#task.executor.executor === 'burst') {
      const burst = Math.floor(j / this.#task.executor.connections);
      let b = this.#burst;
      if (b === undefined || b.burst !== burst) {
        b = { burst, firstStartMs: nowMs, lastStartMs: nowMs, started: 0 };
        this.#burst = b;
        this.#counts.bursts.push(b);
      }
      b.lastStartMs = nowMs;
      b.started++;
    }
    return false;
  }

  // ---- closed model ----

  #control = (): void => {
    this.#timer = undefined;
    if (this.#scheduleDone()) {
      this.#maybeFinish();
      return;
    }
    const spec = this.#task.executor as ClosedExecutorSpec;
    const target = vusAt(spec, epochNowMs() - this.#startEpochMs);
    // This shard's VUs are v = shard, shard + n, …; VU k of the shard is global VU shard + k·n.
    for (let k = 0; this.#shard + k * this.#shardCount < target; k++) {
      const vu = (this.#vus[k] ??= this.#newVu(k));
      if (!vu.running) {
        vu.running = true;
        this.#vusActive++;
        vu.next();
      }
    }
    if (this.#vusActive > this.#counts.vusActiveMax) this.#counts.vusActiveMax = this.#vusActive;
    this.#timer = setTimeout(this.#control, VU_CONTROL_MS);
  };

  #newVu(k: number): Vu {
    const vu: Vu = {
      k,
      running: false,
      startedAtMs: 0,
      next: () => this.#vuIterate(vu),
      done: () => this.#vuIterationDone(vu),
    };
    return vu;
  }

  #vuIterate(vu: Vu): void {
    const now = epochNowMs();
    const offsetMs = now - this.#startEpochMs;
    const spec = this.#task.executor as ClosedExecutorSpec;
    if (this.#stopped || now >= this.#endEpochMs || this.#shard + vu.k * this.#shardCount >= vusAt(spec, offsetMs)) {
      vu.running = false;
      this.#vusActive--;
      this.#maybeFinish();
      return;
    }
    this.#counts.stageStarted[0] = (this.#counts.stageStarted[0] ?? 0) + 1;
    vu.startedAtMs = now;
    this.#counts.started++;
    this.#inFlight++;
    if (this.#inFlight > this.#counts.maxInFlight) this.#counts.maxInFlight = this.#inFlight;
    this.#client.iterate(this.#onRequest, vu.done);
  }

  #vuIterationDone(vu: Vu): void {
    this.#inFlight--;
    this.#counts.iterationsCompleted++;
    recordUs(this.#histograms.latencyUs, (epochNowMs() - vu.startedAtMs) * 1000);
    // The VU's next iteration, at once (from the socket's close callback); an iteration that
    // finished inside the call that started it goes on in a later turn instead of recursing.
    if (this.#vuDepth > 0) {
      setImmediate(vu.next);
      return;
    }
    this.#vuDepth++;
    try {
      vu.next();
    } finally {
      this.#vuDepth--;
    }
  }

  // ---- both ----

  /** Open model: start an arrival's iteration. */
  #launch(intendedMs: number, overrun: boolean): void {
    this.#counts.started++;
    this.#inFlight++;
    if (this.#inFlight > this.#counts.maxInFlight) this.#counts.maxInFlight = this.#inFlight;
    this.#client.iterate(overrun ? this.#onOverrunRequest : this.#onRequest, () => this.#onIterationDone(intendedMs));
  }

  /** A request of an iteration started after the planned end: counted as any, and apart. */
  #onOverrunRequest = (r: RequestResult): void => {
    this.#onRequest(r);
    if (r.errorClass === undefined) this.#counts.overrunResponses++;
  };

  #onRequest = (r: RequestResult): void => {
    const c = this.#counts;
    const h = this.#histograms;
    c.completed++;
    if (r.newConnection) c.newConnections++;
    if (r.errorClass !== undefined) {
      c.errors[r.errorClass]++;
    } else {
      const cls = Math.floor(r.status / 100);
      if (cls >= 1 && cls <= 5) c.statusClasses[STATUS_CLASSES[cls - 1]]++;
      if (cls === 2 || cls === 3) c.ok++;
      recordUs(h.serviceUs, r.totalUs);
      if (r.ttfbUs >= 0) recordUs(h.ttfbUs, r.ttfbUs);
    }
    if (r.connectUs >= 0) {
      recordUs(h.connectUs, r.connectUs);
      if (r.connectUs >= SLOW_CONNECT_US) {
        if (c.slowConnectsUs.length < SLOW_CONNECTS_KEPT) c.slowConnectsUs.push(Math.round(r.connectUs));
        else c.slowConnectsOverflow++;
      }
    }
    if (r.dnsUs >= 0) recordUs(h.dnsUs, r.dnsUs);
    if (r.connectCallUs >= 0) {
      c.connectCalls++;
      c.connectCallUsTotal += r.connectCallUs;
      if (r.connectCallUs > c.connectCallUsMax) c.connectCallUsMax = r.connectCallUs;
    }
    if (r.backend !== undefined) c.backends[r.backend] = (c.backends[r.backend] ?? 0) + 1;
  };

  #onIterationDone(intendedMs: number): void {
    this.#inFlight--;
    this.#counts.iterationsCompleted++;
    // Latency from the intended start, which includes any lag before the actual start.
    recordUs(this.#histograms.latencyUs, (epochNowMs() - intendedMs) * 1000);
    this.#maybeFinish();
  }

  /**
   * Take this interval's counters and encoded histograms, and start a new interval. The
   * load thread measures while this runs, so it is kept short: the spare set of histograms
   * (reset earlier) is swapped in, the taken set is encoded without compression (about
   * 0.25 ms for six), and its reset waits for a later turn.
   */
  takeInterval(): { counts: LoadIntervalCounts; histograms: Record<LoadHistogramName, Uint8Array> } {
    const counts = this.#counts;
    this.#counts = emptyLoadCounts();
    this.#counts.maxInFlight = this.#inFlight;
    this.#counts.vusActiveMax = this.#vusActive;
    this.#burst = undefined;
    if (this.#spareReset !== undefined) this.#resetSpare(); // two reports in one turn (the last one)
    const taken = this.#histograms;
    this.#histograms = this.#spare;
    this.#spare = taken;
    const histograms = {} as Record<LoadHistogramName, Uint8Array>;
    for (const name of LOAD_HISTOGRAMS) histograms[name] = encodeHistogramBytes(taken[name]);
    this.#spareReset = setImmediate(this.#resetSpare);
    return { counts, histograms };
  }

  #resetSpare = (): void => {
    clearImmediate(this.#spareReset);
    this.#spareReset = undefined;
    for (const name of LOAD_HISTOGRAMS) this.#spare[name].reset();
  };

  /** The most VUs this executor runs in all (closed model), for reports. */
  static maxVUs(task: ShardLoadTask): number {
    return isOpenModel(task.executor) ? 0 : maxVUs(task.executor);
  }

  /** Free the WebAssembly histograms. */
  destroy(): void {
    clearImmediate(this.#spareReset);
    this.#spareReset = undefined;
    for (const name of LOAD_HISTOGRAMS) {
      this.#histograms[name].destroy();
      this.#spare[name].destroy();
    }
  }
}
