/**
 * sweep.json: what `tally sweep` writes (validated against `sweep.schema.json`): the varied
 * field and its range, the SLO, every step's figures and verdict with its run directory, and
 * the knee with its bracket. A step's figures are read from its results.json (pure): the
 * throughput, the latency and the loss the plot draws, and the SLO's threshold results.
 */
import { createRequire } from 'node:module';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { InternalError } from '../core/errors.ts';
import type { ThresholdResult } from '../reconcile/thresholds.ts';
import type { KneeResult, StepVerdict, SweepScale } from '../scenarios/sweep-search.ts';
import type { VaryKind } from '../scenarios/sweep-vary.ts';
import type { Results } from './results.ts';

const require = createRequire(import.meta.url);
/** The sweep.json JSON Schema (draft 2020-12). */
export const sweepSchema = require('./sweep.schema.json') as Record<string, unknown>;

/** The figures of one step the table and the plot show (absent when the run did not measure them). */
export interface StepFigures {
  /** What went through: requests answered per second (load), data points acknowledged per second (metrics) or spans (traces). */
  throughputPerSecond?: number;
  throughputUnit: 'requests/s' | 'data points/s' | 'spans/s';
  /** Latency p50 and p99 in ms: of requests from their intended start (load); else visibility lag (read-back) or export latency. */
  latencyP50Ms?: number;
  latencyP99Ms?: number;
  latencyFigure: 'latency' | 'visibility lag' | 'export latency';
  /** Loss as a share: failed requests (load), data points lost (reconciled metrics) or not acknowledged. */
  lossRatio?: number;
  lossFigure: 'errors' | 'otlp_loss' | 'not acknowledged' | 'span_loss';
}

/** One step of a sweep. */
export interface SweepStep {
  /** 1-based, in the order the steps ran. */
  index: number;
  phase: 'coarse' | 'bisect';
  /** The field's value, in its unit (durations in ms). */
  value: number;
  /** As the step's scenario says it (`250ms`, `1200`). */
  valueText: string;
  verdict: StepVerdict;
  /** The run directory, relative to the sweep's. */
  runDir: string;
  /** Runs of this step: a step whose generator saturated is run again when asked. */
  attempts: number;
  /** The unjudged warm-up run before it, relative to the sweep's directory. */
  warmupRunDir?: string;
  figures?: StepFigures;
  thresholds?: ThresholdResult[];
  generator?: { saturated: boolean; reasons: string[] };
  complete?: boolean;
  incompleteReason?: string;
  /** TIME_WAIT sockets when the step started, how long it waited for them to drain, and whether they did. */
  timeWait?: { atStart: number; waitedS: number; drained: boolean };
  /** The collector's exporter queues when the step started (backends.collector): queued batches, how long it waited for them to empty, and whether they did. */
  collectorQueue?: { atStart: number | null; waitedS: number; drained: boolean };
  error?: { code: string; message: string };
}

/** sweep.json. */
export interface SweepReport {
  schemaVersion: 1;
  scenario: string;
  vary: { field: string; pointer: string; kind: VaryKind; unit: string };
  from: number;
  to: number;
  coarseSteps: number;
  scale: SweepScale;
  /** The resolution asked for: absolute in the field's unit, or relative to the bracket's upper end. */
  resolution: { value: number; relative: boolean };
  /** The SLO, as thresholds in the scenario's syntax, and where it came from. */
  slo: { source: 'flag' | 'scenario'; thresholds: Record<string, unknown> };
  warmupMs: number;
  steps: SweepStep[];
  knee: KneeResult & {
    /** The knee and bracket as the document writes them. */
    kneeText?: string;
    bracketText?: [string, string];
    /** One line saying what was found. */
    summary: string;
    /** What to do when the generator, not the system, was the limit. */
    suggestion?: string;
  };
  startedAt: string;
  endedAt: string;
  /** False when the sweep was stopped (a signal) before the search ended. */
  complete: boolean;
  incompleteReason?: string;
  /** The plot, relative to the sweep's directory. */
  plot?: string;
}

function ms(us: number | undefined): number | undefined {
  return us === undefined ? undefined : us / 1000;
}

/** Seconds the run's rates are taken over: what ran of the planned duration. */
function seconds(r: Results): number {
  return Math.max(0.001, Math.min(r.run.elapsedMs, r.run.plannedDurationMs) / 1000);
}

/**
 * The figures of a step from its results.json: the load's if it has one, else the metrics',
 * else the traces'.
 */
export function stepFigures(r: Results): StepFigures {
  const load = r.summary?.load;
  if (load !== undefined) {
    return {
      throughputPerSecond: load.achievedRatePerSecond,
      throughputUnit: 'requests/s',
      latencyP50Ms: ms(load.latencyUs?.p50),
      latencyP99Ms: ms(load.latencyUs?.p99),
      latencyFigure: 'latency',
      lossRatio: load.requests > 0 ? (load.requests - load.ok) / load.requests : undefined,
      lossFigure: 'errors',
    };
  }
  const m = r.summary?.metrics;
  if (m !== undefined) {
    const visibility = r.readback?.visibility?.lagUs;
    const lag = visibility !== undefined && visibility.count > 0 ? visibility : undefined;
    const reconciled = m.reconciled !== false && typeof m.lossRatio === 'number';
    return {
      throughputPerSecond: m.pointsAcknowledged / seconds(r),
      throughputUnit: 'data points/s',
      latencyP50Ms: ms(lag ? lag.p50 : m.exportLatencyUs?.p50),
      latencyP99Ms: ms(lag ? lag.p99 : m.exportLatencyUs?.p99),
      latencyFigure: lag ? 'visibility lag' : 'export latency',
      lossRatio: reconciled ? m.lossRatio : m.pointsSent > 0 ? (m.pointsSent - m.pointsAcknowledged) / m.pointsSent : undefined,
      lossFigure: reconciled ? 'otlp_loss' : 'not acknowledged',
    };
  }
  const t = r.summary?.traces;
  return {
    throughputPerSecond: t === undefined ? undefined : (t.spansAcknowledged ?? 0) / seconds(r),
    throughputUnit: 'spans/s',
    latencyFigure: 'export latency',
    lossRatio: t?.reconciled ? t.spanLossRatio : undefined,
    lossFigure: 'span_loss',
  };
}

/**
 * A step's verdict from its results: a saturated generator first; then a run cut short by
 * anything but a threshold or a signal (a failed backend, an I/O error) is `error`, since it
 * says nothing of the SLO and must not close the bracket; then the SLO's thresholds.
 */
export function stepVerdict(r: Results): StepVerdict {
  if (r.generator?.saturated === true) return 'generator-limited';
  const stoppedByThreshold = r.thresholds?.abortedBy !== undefined;
  const stoppedBySignal = r.incompleteReason === 'SIGTERM' || r.incompleteReason === 'SIGINT';
  if (r.complete === false && !stoppedByThreshold && !stoppedBySignal) return 'error';
  return r.thresholds?.ok === true ? 'pass' : 'fail';
}

let validator: ReturnType<Ajv2020['compile']> | undefined;

/**
 * Check a sweep report against sweep.schema.json.
 * @throws InternalError `TALLY_INTERNAL` listing the violations: tally built a report its own schema refuses.
 */
export function validateSweepReport(report: SweepReport): void {
  validator ??= new Ajv2020({ allErrors: true, strict: false }).compile(sweepSchema);
  if (!validator(JSON.parse(JSON.stringify(report)))) {
    throw new InternalError(`sweep.json does not match its schema: ${JSON.stringify(validator.errors?.slice(0, 5))}`, { details: { errors: validator.errors?.slice(0, 20) } });
  }
}
