/**
 * The `summary.load` part of results.json, and the load findings: per-stage achieved
 * rates, burst release spreads, endpoint spread over backends, generator-side errors and
 * the SYN-retransmit signature. Pure.
 */
import type { BurstRelease } from '../core/messages.ts';
import { corroborateSynSignature, findSynRetransmitSignature, type SocketRetransmitCounters, type SynSchedule } from '../reconcile/syn-retransmit.ts';
import type { LoadPlan } from '../scenarios/plan.ts';
import type { LoadTotals } from './aggregate.ts';

/** Error classes that are limits or stalls of the generator host, not faults of the target. */
export const GENERATOR_SIDE_ERRORS = ['EADDRNOTAVAIL', 'EADDRINUSE', 'EMFILE', 'generator_stall'] as const;

/** A finding about the system under test: data, never an exception. */
export interface Finding {
  kind: string;
  count: number;
  detail?: string;
}

/** Inputs of {@link buildLoadSummary}. */
export interface LoadSummaryInput {
  plan: LoadPlan;
  totals: LoadTotals;
  /** Seconds the rates are computed over. */
  elapsedS: number;
  /** Epoch ms of the load's planned end (the run start plus the executor's length): the overrun is measured from it. */
  plannedEndEpochMs: number;
  protocol: 'http1' | 'tcp-crr';
  reuse: unknown;
  /** The client kernel's SYN schedule, for the SYN-retransmit signature. */
  synSchedule: SynSchedule;
  /** Retransmit counters of the namespace the load's sockets live in, which must corroborate the signature; undefined when not read. */
  socketRetransmits?: SocketRetransmitCounters & { source: string };
  /** Stage lengths (ms) of a ramping executor, to rate each stage over its own length. */
  stageDurationsMs?: number[];
  burst?: { connections: number; windowMs: number };
}

const round = (x: number, digits: number): number => Math.round(x * 10 ** digits) / 10 ** digits;
const nonZero = (counts: Record<string, number>): Record<string, number> => Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0));

/** Merge the per-shard, per-interval release records of each burst. */
export function mergeBursts(releases: readonly BurstRelease[]): BurstRelease[] {
  const byBurst = new Map<number, BurstRelease>();
  for (const r of releases) {
    const b = byBurst.get(r.burst);
    if (b === undefined) byBurst.set(r.burst, { ...r });
    else {
      b.firstStartMs = Math.min(b.firstStartMs, r.firstStartMs);
      b.lastStartMs = Math.max(b.lastStartMs, r.lastStartMs);
      b.started += r.started;
    }
  }
  return [...byBurst.values()].sort((a, b) => a.burst - b.burst);
}

/**
 * Endpoint spread: requests per backend and the largest deviation from a uniform share.
 * @returns undefined when no backend named itself.
 */
export function endpointSpread(backends: Record<string, number>): { backends: Record<string, number>; maxDeviationRatio: number } | undefined {
  const entries = Object.entries(backends);
  if (entries.length === 0) return undefined;
  const total = entries.reduce((a, [, n]) => a + n, 0);
  const uniform = total / entries.length;
  const maxDeviationRatio = Math.max(...entries.map(([, n]) => Math.abs(n - uniform) / uniform));
  return { backends: Object.fromEntries(entries.sort(([a], [b]) => a.localeCompare(b))), maxDeviationRatio: round(maxDeviationRatio, 4) };
}

/**
 * Build `summary.load` and its findings.
 * @returns the summary object (see results.schema.json `loadSummary`) and findings.
 */
export function buildLoadSummary(input: LoadSummaryInput): { summary: Record<string, unknown>; findings: Finding[]; lateStartRatio: number; overrun?: LoadOverrun } {
  const { plan, totals: l, elapsedS } = input;
  const findings: Finding[] = [];
  let errors = 0;
  for (const v of Object.values(l.errors)) errors += v;
  const generatorSide = GENERATOR_SIDE_ERRORS.reduce((a, k) => a + l.errors[k], 0);
  const lateStartRatio = l.started === 0 ? 0 : l.lateStarts / l.started;
  const summary: Record<string, unknown> = {
    executor: plan.executor,
    model: plan.model,
    protocol: input.protocol,
    reuse: typeof input.reuse === 'string' ? input.reuse : JSON.stringify(input.reuse),
    targetRatePerSecond: plan.ratePerSecond ?? 0,
    // Only arrivals started in the window: responses to iterations started after the planned end are the overrun's.
    achievedRatePerSecond: round((l.completed - errors - l.overrunResponses) / elapsedS, 1),
    connectionsPerSecond: round(l.newConnections / elapsedS, 1),
    requests: l.completed,
    iterationsStarted: l.started,
    iterationsCompleted: l.iterationsCompleted,
    newConnections: l.newConnections,
    completed: l.completed,
    ok: l.ok,
    lateStarts: l.lateStarts,
    droppedIterations: l.droppedIterations,
    maxInFlight: l.maxInFlight,
    errors: { total: errors, byClass: nonZero(l.errors), generatorSide, targetSide: errors - generatorSide },
    statusClasses: nonZero(l.statusClasses),
    latencyUs: l.histograms.latencyUs,
    serviceUs: l.histograms.serviceUs,
    connectUs: l.histograms.connectUs,
    ttfbUs: l.histograms.ttfbUs,
    schedulerLagUs: l.histograms.schedulerLagUs,
  };
  if (l.connectCalls > 0) summary.connectCallUs = { calls: l.connectCalls, mean: round(l.connectCallUsTotal / l.connectCalls, 1), max: Math.round(l.connectCallUsMax) };
  if (l.histograms.dnsUs.count > 0) summary.dnsUs = l.histograms.dnsUs;
  if (plan.peakRatePerSecond !== undefined) summary.peakRatePerSecond = plan.peakRatePerSecond;
  if (plan.iterationsPlanned !== undefined) summary.iterationsPlanned = plan.iterationsPlanned;
  if (plan.maxVUs !== undefined) {
    summary.maxVUs = plan.maxVUs;
    summary.vusActiveMax = l.vusActiveMax;
  }
  if (plan.model === 'open' && plan.plannedPerStage !== undefined && input.stageDurationsMs !== undefined) {
    summary.stages = plan.plannedPerStage.map((planned, i) => {
      const started = l.stageStarted[i] ?? 0;
      const seconds = input.stageDurationsMs![i] / 1000;
      return {
        stage: i,
        iterationsPlanned: planned,
        iterationsStarted: started,
        plannedRatePerSecond: round(planned / seconds, 2),
        achievedRatePerSecond: round(started / seconds, 2),
        ratio: planned === 0 ? (started === 0 ? 1 : 0) : round(started / planned, 4),
      };
    });
  }
  if (input.burst !== undefined) {
    const bursts = mergeBursts(l.bursts);
    const spreads = bursts.map((b) => b.lastStartMs - b.firstStartMs);
    summary.bursts = {
      count: bursts.length,
      connectionsPerBurst: input.burst.connections,
      windowMs: input.burst.windowMs,
      releaseSpreadMaxMs: spreads.length > 0 ? round(Math.max(...spreads), 3) : 0,
      startedMin: bursts.length > 0 ? Math.min(...bursts.map((b) => b.started)) : 0,
      releases: bursts.slice(0, 100).map((b) => ({ burst: b.burst, started: b.started, releaseSpreadMs: round(b.lastStartMs - b.firstStartMs, 3) })),
    };
  }
  const overrun = overrunOf(l, input.plannedEndEpochMs);
  if (overrun !== undefined) {
    summary.overrun = overrun;
    findings.push({ kind: 'schedule_overrun', count: overrun.iterationsStarted, detail: `iterations planned inside the run started after its planned end, the last ${overrun.overSeconds} s after it: the generator fell behind its schedule (not counted in the achieved rate or any stage)` });
  }
  const spread = endpointSpread(l.backends);
  if (spread !== undefined) summary.endpointSpread = spread;

  for (const [cls, n] of Object.entries(l.errors)) if (n > 0) findings.push({ kind: `connection_error_${cls}`, count: n, detail: (GENERATOR_SIDE_ERRORS as readonly string[]).includes(cls) ? 'generator side' : 'target side' });
  if (l.droppedIterations > 0) findings.push({ kind: 'dropped_iterations', count: l.droppedIterations, detail: 'maxInFlight reached' });
  const connects = l.histograms.connectUs.count;
  if (connects > 0) findings.push(...synFindings(l, input, connects, summary));
  return { summary, findings, lateStartRatio, ...(overrun !== undefined ? { overrun } : {}) };
}

/** The SYN-retransmit signature, corroborated by the sockets' own retransmit counters; the rest are slow connects. */
function synFindings(l: LoadTotals, input: LoadSummaryInput, connects: number, summary: Record<string, unknown>): Finding[] {
  const syn = findSynRetransmitSignature(l.slowConnectsUs, input.synSchedule);
  const c = corroborateSynSignature(syn, input.socketRetransmits);
  summary.synRetransmit = {
    connections: syn.total,
    ofConnects: connects,
    counts: syn.counts,
    slowConnectsNotKept: l.slowConnectsOverflow,
    corroborated: c.corroborated,
    corroboratedBy: c.counter === null ? null : { source: input.socketRetransmits!.source, counter: c.counter, delta: c.counterDelta },
  };
  const findings: Finding[] = [];
  if (syn.total === 0) return findings;
  const windows = syn.windows.filter((w) => w.count > 0).map((w) => `${w.retransmits}×: ${w.count} near ${w.lowUs / 1e6} s`).join(', ');
  const counted = c.counter === null ? 'no retransmit counter of the sockets\' namespace could be read' : `the sockets' namespace (${input.socketRetransmits!.source}) counted ${c.counterDelta} ${c.counter}`;
  if (c.corroborated > 0) {
    findings.push({ kind: 'syn_retransmit_signature', count: c.corroborated, detail: `connect times cluster at SYN retransmit times (${windows}) and ${counted}: SYNs were dropped (conntrack insert failure, a full table, or a listen overflow)` });
  }
  if (c.uncorroborated > 0) {
    findings.push({ kind: 'slow_connects', count: c.uncorroborated, detail: `connect times at SYN retransmit times (${windows}), but ${counted}, too few for these: slow connects, not dropped SYNs (most often the generator saw the completed connect late: its event loop stalled)` });
  }
  return findings;
}

/** Iterations planned inside the run that started after its planned end. */
export interface LoadOverrun {
  iterationsStarted: number;
  /** Their requests that got a response. */
  responses: number;
  /** From the planned end to the latest such start (s). */
  overSeconds: number;
}

function overrunOf(l: LoadTotals, plannedEndEpochMs: number): LoadOverrun | undefined {
  if (l.overrunStarted === 0) return undefined;
  return { iterationsStarted: l.overrunStarted, responses: l.overrunResponses, overSeconds: round(Math.max(0, l.lastOverrunStartMs - plannedEndEpochMs) / 1000, 1) };
}
