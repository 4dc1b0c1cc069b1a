/**
 * Everything a run has measured so far, in one place, and results.json built from it at
 * any moment: while the run goes (checkpoints, `complete: false`), after a stop or a
 * failure (kept, with the reason), and at the end.
 */
import { availableParallelism } from 'node:os';
import type { Clock } from '../core/clock.ts';
import { reviveError, type InputProblem, type TallyError } from '../core/errors.ts';
import { TALLY_VERSION } from '../core/version.ts';
import type { DatapathDelta } from '../host/datapath-delta.ts';
import type { DatapathWatch } from '../host/datapath-watch.ts';
import type { RunAggregator } from '../reports/aggregate.ts';
import { buildResults, validateResults, type Results, type ResultsInput } from '../reports/results.ts';
import { buildShardRecord, type ShardIdentity, type ShardRecord } from '../reports/shard-record.ts';
import { resultsFigures, thresholdsSection, withResultsHistograms } from '../reports/threshold-figures.ts';
import type { BackendsResults } from '../reports/results-backends.ts';
import type { Plan } from '../scenarios/plan.ts';
import type { Scenario } from '../scenarios/types.ts';
import type { Preflight } from './preflight.ts';
import type { StopControl } from './stop.ts';
import { abortingThreshold } from './thresholds.ts';
import { StallWatch } from './stall-watch.ts';
import { ConnectCliffWatch } from '../reports/connect-cliff.ts';
import type { RunTelemetry } from './telemetry.ts';

/** The parts a run's results are built from. */
export interface RunParts {
  scenario: Scenario;
  plan: Plan;
  warnings: InputProblem[];
  clock: Clock;
  aggregator: RunAggregator;
  telemetry: RunTelemetry;
  preflight: Preflight;
  stop: StopControl;
  /** A sharded run's identity (`tally run --shard`): its results say which shard of which plan they are. */
  shard?: ShardIdentity;
}

/** One run's record. */
export class RunRecord {
  readonly parts: RunParts;
  readonly #cpuStart = process.cpuUsage();
  /** The first runtime failure; the run goes on to keep what was measured, then throws it. */
  failure: TallyError | undefined;
  /** The whole run's datapath delta, once the load has ended. */
  datapathDelta: DatapathDelta | undefined;
  /** The whole run's delta of the sockets' own namespace, when the datapath was read in another. */
  socketCountersDelta: DatapathDelta | undefined;
  /** What the embedded stand-in served. */
  served: (() => object) | undefined;
  backends: BackendsResults | undefined;
  /** Main-thread stalls during the load (generator health). */
  readonly stalls = new StallWatch();
  /** The TIME_WAIT connect cliff, watched on each interval line (fed by the interval log). */
  readonly connectCliff: ConnectCliffWatch;

  constructor(parts: RunParts) {
    this.parts = parts;
    // TIME_WAIT per interval counts the sockets' namespace only when the datapath is read there.
    this.connectCliff = new ConnectCliffWatch(parts.preflight.datapath?.sampler.source === 'self');
  }

  /** Keep the first failure (revived, so it has its code). */
  fail(error: unknown): void {
    this.failure ??= reviveError(error);
  }

  /** Whether the run ended as planned. */
  get complete(): boolean {
    return this.parts.stop.reason === undefined && this.failure === undefined;
  }

  /**
   * What results.json is built from, as of now.
   * @param options.live for a live threshold check: no encoded histograms.
   */
  resultsInput(complete: boolean, options: { live?: boolean } = {}): ResultsInput {
    const { scenario, plan, clock, aggregator, telemetry, preflight, stop, warnings } = this.parts;
    const nowMs = clock.nowMs();
    const elapsedMs = Math.max(0, nowMs - plan.startEpochMs);
    const cpu = process.cpuUsage(this.#cpuStart);
    const ended = complete || stop.reason !== undefined || this.failure !== undefined;
    return {
      scenario,
      plan,
      complete,
      incompleteReason: complete ? undefined : (stop.reason ?? this.failure?.code ?? 'running'),
      elapsedMs,
      endedAtMs: ended ? nowMs : undefined,
      load: aggregator.hasLoad ? aggregator.loadTotals() : undefined,
      telemetry: telemetry.resultsInput(aggregator),
      cpuRatio: elapsedMs > 0 ? (cpu.user + cpu.system) / 1000 / elapsedMs / availableParallelism() : 0,
      eventLoopDelayP99MaxUs: aggregator.eventLoopDelayP99MaxUs,
      mainThreadStalls: this.stalls.summary(),
      workerEventLoopDelayP99MaxUs: [...aggregator.workerEventLoopDelayP99MaxUs],
      workerCpuRatios: elapsedMs > 0 ? Array.from({ length: plan.workers }, (_, i) => (aggregator.workerCpuUs[i] ?? 0) / 1000 / elapsedMs) : [],
      synSchedule: preflight.synSchedule,
      portBudget: preflight.portBudget,
      connectCliff: this.connectCliff.cliff,
      // While the run goes (live thresholds), the deltas so far, from the interval samples.
      datapath: withDelta(preflight.datapath, this.datapathDelta ?? (options.live ? preflight.datapath?.sinceStart() : undefined)),
      socketCounters: withDelta(preflight.socketCounters, this.socketCountersDelta ?? (options.live ? preflight.socketCounters?.sinceStart() : undefined)),
      receiver: telemetry.receiver?.stats(),
      target: this.served?.(),
      backends: this.backends,
      histograms: !options.live && aggregator.hasLoad ? aggregator.encodedTotals() : undefined,
      ...(this.parts.shard === undefined ? {} : { shard: this.parts.shard }),
      warnings,
      nodeVersion: process.version,
      tallyVersion: TALLY_VERSION,
    };
  }

  /**
   * results.json as of now, validated, with its thresholds evaluated (not in a sharded
   * run's shard: each shard sees a part of the run; `tally merge` judges the whole).
   * @param options.live for a live threshold check: no encoded histograms, no validation (nothing is written).
   * @throws ReconcileError `TALLY_RESULTS_INVALID` when it breaks the results schema (a bug).
   */
  snapshot(complete: boolean, options: { live?: boolean } = {}): Results {
    const { scenario, aggregator, stop } = this.parts;
    const results = buildResults(this.resultsInput(complete, options));
    if (scenario.thresholds.length > 0 && this.parts.shard === undefined) {
      // Percentiles of any rank from the live histograms (the read-back's visibility lag is decoded).
      results.thresholds = withResultsHistograms(results, (decoded) =>
        thresholdsSection(scenario.thresholds, resultsFigures(results, (name, p) => aggregator.percentileUs(name, p) ?? decoded(name, p)), abortingThreshold(stop.reason)),
      );
    }
    if (!options.live) validateResults(results);
    return results;
  }

  /**
   * A sharded run's shard.json as of now: what `tally merge` adds up exactly (the
   * results input with every histogram encoded).
   * @returns undefined for an unsharded run.
   */
  shardRecord(complete: boolean): ShardRecord | undefined {
    if (this.parts.shard === undefined) return undefined;
    const { aggregator } = this.parts;
    return buildShardRecord(this.parts.shard, this.resultsInput(complete), {
      exportLatencyUs: aggregator.encodedExportLatency(),
      exporters: { metrics: aggregator.exporters.encodedTotals('metrics'), traces: aggregator.exporters.encodedTotals('traces') },
      maxInFlight: aggregator.maxInFlight,
    });
  }
}

/** A watch's source with a delta, or undefined without either. */
function withDelta(watch: DatapathWatch | undefined, delta: DatapathDelta | undefined): { source: string; delta: DatapathDelta } | undefined {
  return watch !== undefined && delta !== undefined ? { source: watch.sampler.source, delta } : undefined;
}
