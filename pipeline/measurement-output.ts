/**
 * The measurement output stage: tally's own figures pushed while the run goes, to each
 * output the scenario (`outputs:`) or `tally run --output` names. On the main thread it only
 * builds snapshots (reports/measurement-snapshot.ts) and posts them to the output thread
 * (workers/measurement-output.ts), which holds the queues, encodes, sends and retries; the
 * main thread never waits on the network for it.
 *
 * Fed by the run: {@link MeasurementOutputStage.observe} as the aggregator makes each
 * interval line (the load's histograms as of that line, copied as HDR V2 bytes),
 * {@link MeasurementOutputStage.line} once the line is complete (datapath deltas attached),
 * and {@link MeasurementOutputStage.finish} with the final results, whose snapshot carries
 * every counter's results.json value. `finish` waits at most the outputs' drain timeout
 * (plus a margin) after the run's results are built: the load is over by then.
 */
import { Worker } from 'node:worker_threads';
import { CollectorError } from '../core/errors.ts';
import { LOAD_HISTOGRAMS, type LoadHistogramName } from '../core/messages.ts';
import type { MeasurementIdentity, MeasurementOutputConfig, MeasurementOutputStats, MeasurementSnapshot, MeasurementThreadCommand, MeasurementThreadData, MeasurementThreadReport } from '../core/measurement-output.ts';
import { encodeHdrV2 } from '../core/native-histogram.ts';
import type { Histogram } from '../core/histogram.ts';
import type { Clock } from '../core/clock.ts';
import type { TextOut } from '../core/text-out.ts';
import type { IntervalLine, RunAggregator } from '../reports/aggregate.ts';
import { HISTOGRAM_KEYS, MeasurementSnapshots, type LoadHistogramBytes, type SnapshotRun } from '../reports/measurement-snapshot.ts';
import { validateResults, type Results } from '../reports/results.ts';
import type { Plan } from '../scenarios/plan.ts';
import type { Scenario } from '../scenarios/types.ts';

/** Margin on top of the longest drain timeout before the stage stops waiting for the thread. */
const FINISH_MARGIN_MS = 5000;

/** The running output stage of one run. */
export class MeasurementOutputStage {
  readonly #worker: Worker;
  readonly #snapshots: MeasurementSnapshots;
  readonly #drainMs: number;
  readonly #clock: Clock;
  /** Histograms observed for lines not yet complete, by interval. */
  readonly #pending = new Map<number, LoadHistogramBytes>();
  #latest: LoadHistogramBytes = {};
  #failure: Error | undefined;

  private constructor(worker: Worker, snapshots: MeasurementSnapshots, drainMs: number, clock: Clock) {
    this.#clock = clock;
    this.#worker = worker;
    this.#snapshots = snapshots;
    this.#drainMs = drainMs;
    worker.on('error', (error) => {
      this.#failure = error;
    });
  }

  /**
   * Start the output thread for `outputs` (none: no stage).
   * @returns the stage, or undefined when there is nothing to push to.
   */
  static start(outputs: readonly MeasurementOutputConfig[], identity: MeasurementIdentity, run: SnapshotRun, clock: Clock): MeasurementOutputStage | undefined {
    if (outputs.length === 0) return undefined;
    const data: MeasurementThreadData = { outputs: [...outputs], identity };
    const worker = new Worker(new URL('../workers/measurement-output.ts', import.meta.url), { workerData: data });
    worker.unref();
    return new MeasurementOutputStage(worker, new MeasurementSnapshots(run), Math.max(...outputs.map((o) => o.drainTimeoutMs)), clock);
  }

  /** The aggregator's line observer: copy the run totals' histograms as of this line. */
  observe(line: IntervalLine, totals: Readonly<Record<LoadHistogramName, Histogram>>): void {
    if (line.load === undefined) return;
    const bytes: LoadHistogramBytes = {};
    for (const name of LOAD_HISTOGRAMS) if (HISTOGRAM_KEYS[name] !== undefined) bytes[name] = encodeHdrV2(totals[name]);
    this.#pending.set(line.interval, bytes);
    this.#latest = bytes;
  }

  /** A complete interval line (after its datapath sample): push its snapshot. */
  line(line: IntervalLine): void {
    const bytes = this.#pending.get(line.interval);
    this.#pending.delete(line.interval);
    this.#post(this.#snapshots.interval(line, bytes, this.#clock.nowMs()));
  }

  #post(snapshot: MeasurementSnapshot): void {
    // Copied, not transferred: the last line's bytes are sent again in the final snapshot.
    this.#worker.postMessage({ type: 'snapshot', snapshot } satisfies MeasurementThreadCommand);
  }

  /**
   * Push the final snapshot (every counter = its results.json field) and wait until every
   * output has settled it or its drain timeout passed.
   * @returns each output's stats.
   * @throws CollectorError `TALLY_COLLECTOR_FAILED` when the output thread failed or did not answer in time.
   */
  async finish(results: Results, nowMs: number): Promise<MeasurementOutputStats[]> {
    this.#post(this.#snapshots.final(results, this.#latest, nowMs));
    const report = new Promise<MeasurementThreadReport>((resolve, reject) => {
      const timer = setTimeout(() => reject(new CollectorError(`measurement output did not finish within ${this.#drainMs + FINISH_MARGIN_MS} ms`)), this.#drainMs + FINISH_MARGIN_MS);
      this.#worker.once('message', (m: MeasurementThreadReport) => {
        clearTimeout(timer);
        resolve(m);
      });
      this.#worker.once('error', (e) => {
        clearTimeout(timer);
        reject(new CollectorError(`measurement output thread failed: ${e.message}`, { cause: e }));
      });
    });
    if (this.#failure) throw new CollectorError(`measurement output thread failed: ${this.#failure.message}`, { cause: this.#failure });
    this.#worker.postMessage({ type: 'finish', timeoutMs: this.#drainMs } satisfies MeasurementThreadCommand);
    const m = await report;
    if (m.type === 'failed') throw new CollectorError(`measurement output failed: ${m.error.message}`, { details: { code: m.error.code } });
    return m.stats;
  }

  /** Stop the output thread. */
  async close(): Promise<void> {
    await this.#worker.terminate();
  }
}

/** What {@link startMeasurementOutput} needs from the run. */
export interface MeasurementOutputRun {
  scenario: Scenario;
  plan: Plan;
  /** Outputs beyond the scenario's (`tally run --output`). */
  extra?: readonly MeasurementOutputConfig[];
  aggregator: RunAggregator;
  /** Whether interval lines carry /proc datapath deltas. */
  datapath: boolean;
  /** This process's shard of the run; default `0`. */
  shard?: string;
  clock: Clock;
}

/**
 * Start the stage for the scenario's outputs and the extra ones, and have the aggregator
 * feed it each line's histograms.
 * @returns undefined when the run has no output.
 */
export function startMeasurementOutput(run: MeasurementOutputRun): MeasurementOutputStage | undefined {
  const outputs = [...(run.scenario.outputs ?? []), ...(run.extra ?? [])];
  const identity: MeasurementIdentity = { runId: run.plan.runId, scenario: run.scenario.name, shard: run.shard ?? '0', startEpochMs: run.plan.startEpochMs };
  const stage = MeasurementOutputStage.start(outputs, identity, { plan: run.plan, scenario: run.scenario, datapath: run.datapath }, run.clock);
  if (stage !== undefined) run.aggregator.lineObserver = (line, totals) => stage.observe(line, totals);
  return stage;
}

/**
 * Push the final snapshot and add what each output did to the results (`measurementOutputs`),
 * validated again. An output that fails is reported on `out`, never fails the run.
 * @throws ReconcileError `TALLY_RESULTS_INVALID` when the results no longer validate (a bug).
 */
export async function finishMeasurementOutput(stage: MeasurementOutputStage, results: Results, nowMs: number, out: TextOut): Promise<void> {
  try {
    results.measurementOutputs = await stage.finish(results, nowMs);
  } catch (error) {
    out.write(`warning: measurement output: ${error instanceof Error ? error.message : String(error)}\n`);
    return;
  }
  validateResults(results);
  for (const o of results.measurementOutputs as MeasurementOutputStats[]) {
    if (!o.finalDelivered) out.write(`warning: measurement output ${o.kind} ${o.url}: the final snapshot was not delivered (${o.lastError?.errno ?? o.lastError?.status ?? 'drain timeout'})\n`);
  }
}
