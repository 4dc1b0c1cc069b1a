/**
 * Executor schedules, in k6's vocabulary and semantics: when each arrival of an open
 * model is due, and how many virtual users a closed model runs at a given time.
 * Pure: offsets are milliseconds from the run start; nothing reads a clock.
 *
 * - `constant-arrival-rate`: arrival j is due at `j / rate`, paced evenly, never bunched
 *   into per-second buckets.
 * - `ramping-arrival-rate`: the rate moves linearly from stage to stage; arrival j is due
 *   when the integral of the rate reaches j (the exact inverse of a piecewise-quadratic).
 * - `burst` (tally's churn-storm profile): `connections` arrivals released evenly within
 *   `windowMs`, every `everyMs`, starting at 0.
 * - `constant-vus` / `ramping-vus`: a VU count over time (linear between stages, rounded
 *   down); each VU runs iterations back to back.
 *
 * @see https://grafana.com/docs/k6/latest/using-k6/scenarios/executors/
 */

/** One ramping stage: move linearly from the previous target to `target` over `durationMs`. */
export interface Stage {
  durationMs: number;
  /** Iterations per second (arrival-rate executors) or VUs (ramping-vus). */
  target: number;
}

/** The executor of a run, normalised: rates in iterations per second, times in ms. */
export type ExecutorSpec =
  | { executor: 'constant-arrival-rate'; ratePerSecond: number }
  | { executor: 'ramping-arrival-rate'; startRatePerSecond: number; stages: Stage[] }
  | { executor: 'burst'; connections: number; windowMs: number; everyMs: number }
  | { executor: 'constant-vus'; vus: number }
  | { executor: 'ramping-vus'; startVUs: number; stages: Stage[] };

/** Open-model executors (arrivals at planned times, whatever the target does). */
export type OpenExecutorSpec = Extract<ExecutorSpec, { executor: 'constant-arrival-rate' | 'ramping-arrival-rate' | 'burst' }>;
/** Closed-model executors (a number of VUs, each looping). */
export type ClosedExecutorSpec = Extract<ExecutorSpec, { executor: 'constant-vus' | 'ramping-vus' }>;

/** Whether an executor is an open model. */
export function isOpenModel(spec: ExecutorSpec): spec is OpenExecutorSpec {
  return spec.executor === 'constant-arrival-rate' || spec.executor === 'ramping-arrival-rate' || spec.executor === 'burst';
}

/** A linear rate segment `[startMs, startMs + durationMs)` from `fromPerMs` to `toPerMs`, starting at arrival `firstArrival` (fractional). */
interface Segment {
  startMs: number;
  durationMs: number;
  fromPerMs: number;
  toPerMs: number;
  firstArrival: number;
  arrivals: number;
}

/**
 * An open-model schedule. `offsetMs(j)` is monotone non-decreasing in j.
 */
export interface OpenSchedule {
  /** Arrivals due within the run (those with `offsetMs(j) < durationMs`). */
  readonly arrivals: number;
  /** When arrival j (0-based) is due, ms from the run start. */
  offsetMs(j: number): number;
  /** The stage (or burst) an offset falls in; -1 after the last. */
  stageAt(offsetMs: number): number;
  /** Number of stages (ramping), bursts (burst), or 1. */
  readonly stageCount: number;
  /** Arrivals planned per stage (or burst), for reports. */
  readonly plannedPerStage: readonly number[];
  /** The highest arrival rate anywhere in the schedule (per second), for the port budget. */
  readonly peakRatePerSecond: number;
}

function segmentsOf(startRatePerSecond: number, stages: readonly Stage[]): Segment[] {
  const out: Segment[] = [];
  let startMs = 0;
  let from = startRatePerSecond / 1000;
  let firstArrival = 0;
  for (const s of stages) {
    const to = s.target / 1000;
    const arrivals = ((from + to) / 2) * s.durationMs;
    out.push({ startMs, durationMs: s.durationMs, fromPerMs: from, toPerMs: to, firstArrival, arrivals });
    startMs += s.durationMs;
    firstArrival += arrivals;
    from = to;
  }
  return out;
}

/** Time into a segment at which `n` arrivals (0 ≤ n ≤ arrivals) have accumulated. */
function invert(seg: Segment, n: number): number {
  if (n <= 0) return 0;
  // n = a·τ² + b·τ with a = (to − from) / (2·d), b = from. Written as 2n / (b + √(b² + 4an))
  // it has no cancellation when a is tiny or negative.
  const a = (seg.toPerMs - seg.fromPerMs) / (2 * seg.durationMs);
  const b = seg.fromPerMs;
  const disc = Math.max(0, b * b + 4 * a * n);
  const denominator = b + Math.sqrt(disc);
  if (denominator <= 0) return seg.durationMs;
  return Math.min(seg.durationMs, (2 * n) / denominator);
}

/**
 * Build the schedule of an open-model executor.
 * @param spec an open executor.
 * @param durationMs run length; arrivals due at or after it are not part of the run.
 */
export function openSchedule(spec: OpenExecutorSpec, durationMs: number): OpenSchedule {
  if (spec.executor === 'constant-arrival-rate') {
    const perMs = spec.ratePerSecond / 1000;
    const arrivals = Math.ceil(durationMs * perMs - 1e-9);
    return {
      arrivals,
      offsetMs: (j) => j / perMs,
      stageAt: (t) => (t < durationMs ? 0 : -1),
      stageCount: 1,
      plannedPerStage: [arrivals],
      peakRatePerSecond: spec.ratePerSecond,
    };
  }
  if (spec.executor === 'burst') {
    const { connections, windowMs, everyMs } = spec;
    const bursts = Math.ceil(durationMs / everyMs - 1e-9);
    const stepMs = windowMs / connections;
    return {
      arrivals: bursts * connections,
      offsetMs: (j) => Math.floor(j / connections) * everyMs + (j % connections) * stepMs,
      stageAt: (t) => (t < durationMs ? Math.floor(t / everyMs) : -1),
      stageCount: bursts,
      plannedPerStage: Array.from({ length: bursts }, () => connections),
      peakRatePerSecond: windowMs > 0 ? (connections * 1000) / windowMs : Number.POSITIVE_INFINITY,
    };
  }
  const segments = segmentsOf(spec.startRatePerSecond, spec.stages);
  const endMs = Math.min(durationMs, segments.reduce((a, s) => a + s.durationMs, 0));
  // Arrivals due before the end: whole arrivals j with N(offset) = j < N(endMs).
  let total = 0;
  for (const s of segments) {
    if (s.startMs >= endMs) break;
    const tau = Math.min(s.durationMs, endMs - s.startMs);
    total = s.firstArrival + s.fromPerMs * tau + ((s.toPerMs - s.fromPerMs) / (2 * s.durationMs)) * tau * tau;
  }
  const arrivals = Math.ceil(total - 1e-9);
  let cursor = 0;
  const offsetMs = (j: number): number => {
    if (j < segments[cursor].firstArrival) cursor = 0;
    while (cursor < segments.length - 1 && j >= segments[cursor].firstArrival + segments[cursor].arrivals) cursor++;
    const s = segments[cursor];
    return s.startMs + invert(s, j - s.firstArrival);
  };
  const stageAt = (t: number): number => {
    if (t >= endMs) return -1;
    for (let i = 0; i < segments.length; i++) if (t < segments[i].startMs + segments[i].durationMs) return i;
    return -1;
  };
  const plannedPerStage = segments.map((s) => {
    let n = 0;
    // Count whole arrivals j with firstArrival ≤ j < firstArrival + arrivals (clipped at the end).
    const lo = Math.ceil(s.firstArrival - 1e-9);
    const hi = Math.min(arrivals, Math.ceil(s.firstArrival + s.arrivals - 1e-9));
    if (hi > lo) n = hi - lo;
    return n;
  });
  const peak = Math.max(spec.startRatePerSecond, ...spec.stages.map((s) => s.target));
  return { arrivals, offsetMs, stageAt, stageCount: segments.length, plannedPerStage, peakRatePerSecond: peak };
}

/**
 * VUs a closed-model executor runs at `offsetMs` into the run: linear between stages,
 * rounded down; 0 after the last ramping stage.
 */
export function vusAt(spec: ClosedExecutorSpec, offsetMs: number): number {
  if (spec.executor === 'constant-vus') return spec.vus;
  let from = spec.startVUs;
  let startMs = 0;
  for (const s of spec.stages) {
    if (offsetMs < startMs + s.durationMs) return Math.floor(from + ((s.target - from) * (offsetMs - startMs)) / s.durationMs);
    startMs += s.durationMs;
    from = s.target;
  }
  return 0;
}

/** The most VUs a closed-model executor ever runs. */
export function maxVUs(spec: ClosedExecutorSpec): number {
  return spec.executor === 'constant-vus' ? spec.vus : Math.max(spec.startVUs, ...spec.stages.map((s) => s.target));
}

/** Total length of an executor's stages (ms), or undefined when it has none. */
export function stagesDurationMs(spec: ExecutorSpec): number | undefined {
  return 'stages' in spec ? spec.stages.reduce((a, s) => a + s.durationMs, 0) : undefined;
}
