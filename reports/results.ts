/**
 * results.json: built from the run's parts (pure), validated against
 * `results.schema.json` before it is written.
 */
import { createRequire } from 'node:module';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { ReconcileError, type InputProblem } from '../core/errors.ts';
import type { PercentilesUs } from '../core/histogram.ts';
import { buildTelemetryResults, type TelemetryResultsInput } from './telemetry-results.ts';
import type { Plan } from '../scenarios/plan.ts';
import type { Scenario } from '../scenarios/types.ts';
import type { LoadTotals } from './aggregate.ts';
import { buildLoadSummary, type Finding, type LoadOverrun } from './load-results.ts';
import { CLASSIC_SYN_SCHEDULE, type SocketRetransmitCounters, type SynSchedule } from '../reconcile/syn-retransmit.ts';
import type { PortBudgetReport } from '../host/preflight.ts';
import type { DatapathDelta } from '../host/datapath-delta.ts';
import { backendsSection, type BackendsResults } from './results-backends.ts';
import { connectCliffFinding, type ConnectCliff } from './connect-cliff.ts';
import type { ShardIdentity } from './shard-record.ts';

/** results.json `merge`: the shards a merged run was made of. */
export interface MergeSummary {
  count: number;
  scenarioHash: string;
  startEpochMs: number;
  /** Shards that did not finish (merged with --allow-incomplete) or were missing. */
  incompleteShards: number[];
  shards: { index: number; runDir: string; complete: boolean; incompleteReason?: string; threads: number; elapsedMs?: number }[];
}

const require = createRequire(import.meta.url);
/** The results JSON Schema (draft 2020-12). */
export const resultsSchema = require('./results.schema.json') as Record<string, unknown>;

export type { Finding };

/** Datapath counters that become findings when they rise during the run. */
const DATAPATH_FINDINGS: [string, string, string][] = [
  ['conntrack.insert_failed', 'conntrack_insert_failed', 'conntrack could not insert new entries'],
  ['conntrack.drop', 'conntrack_drop', 'packets dropped by conntrack (table full)'],
  ['conntrack.early_drop', 'conntrack_early_drop', 'conntrack evicted entries to make room'],
  ['netstat.TcpExt.ListenOverflows', 'listen_overflows', 'the accept queue overflowed'],
  ['netstat.TcpExt.ListenDrops', 'listen_drops', 'SYNs dropped at a listener'],
  ['netstat.TcpExt.TCPSynRetrans', 'syn_retransmits', 'SYNs retransmitted'],
];

/** Everything results.json is built from. */
export interface ResultsInput {
  scenario: Scenario;
  plan: Plan;
  complete: boolean;
  incompleteReason?: string;
  elapsedMs: number;
  endedAtMs?: number;
  load?: LoadTotals;
  /** Metrics and traces: ledgers, reconciliations, exporters (see reports/telemetry-results.ts). */
  telemetry?: TelemetryResultsInput;
  cpuRatio: number;
  eventLoopDelayP99MaxUs: number;
  /** CPU of each worker thread over the run, as a share of one core. */
  workerCpuRatios?: number[];
  /** Worst interval's event-loop delay p99 of each worker thread (µs). */
  workerEventLoopDelayP99MaxUs?: number[];
  /** Stalls of the main thread's event loop during the load (it merges reports and writes the log). */
  mainThreadStalls?: { count: number; maxMs: number; totalMs: number; thresholdMs: number };
  /** The client kernel's SYN schedule (for the SYN-retransmit signature). */
  synSchedule?: SynSchedule;
  /** Port budget computed before the run. */
  portBudget?: PortBudgetReport;
  /** The TIME_WAIT connect cliff, when the run met it (reports/connect-cliff.ts). */
  connectCliff?: ConnectCliff;
  /** Datapath counters: whole-run delta of each sampled namespace. */
  datapath?: { source: string; delta: DatapathDelta };
  /**
   * Counters of the namespace the load's sockets live in (`self`), when `datapath` was read
   * in another one (the lab's node namespace): they corroborate the SYN-retransmit signature.
   */
  socketCounters?: { source: string; delta: DatapathDelta };
  receiver?: object;
  target?: object;
  /** Read-back backends: Prometheus, remote write, waterfalls, datapath metrics, Tempo (reports/results-backends.ts). */
  backends?: BackendsResults;
  /** The load's merged HDR histograms, encoded (RunAggregator.encodedTotals), by results.json field name. */
  histograms?: Record<string, string>;
  /** A sharded run's shard: which part of which plan these results are (results.json `shard`). */
  shard?: ShardIdentity;
  /** A run merged from its shards (results.json `merge`). */
  merge?: MergeSummary;
  warnings: InputProblem[];
  nodeVersion: string;
  tallyVersion: string;
}

/** The results document (see results.schema.json). */
export type Results = Record<string, any>;

/** Late starts above this share of started iterations mean the generator was saturated. */
export const SATURATED_LATE_START_RATIO = 0.01;
/** CPU above this share of all cores means the generator was saturated. */
export const SATURATED_CPU_RATIO = 0.9;

/** Build results.json's content. Pure. */
export function buildResults(input: ResultsInput): Results {
  const { scenario, plan } = input;
  // A stopped run is rated over the time it ran, not the time it was planned to.
  const elapsedS = (input.complete ? plan.durationMs : Math.max(1, Math.min(input.elapsedMs, plan.durationMs))) / 1000;
  const summary: Results = {};
  const findings: Finding[] = [];
  let lateStartRatio = 0;
  let overrun: LoadOverrun | undefined;
  if (input.load && plan.load && scenario.load) {
    const l = scenario.load;
    const ex = l.executor;
    const built = buildLoadSummary({
      plan: plan.load,
      totals: input.load,
      elapsedS: input.complete ? plan.load.loadDurationMs / 1000 : elapsedS,
      plannedEndEpochMs: plan.startEpochMs + plan.load.loadDurationMs,
      protocol: l.protocol,
      reuse: l.connection.reuse,
      synSchedule: input.synSchedule ?? CLASSIC_SYN_SCHEDULE,
      ...socketRetransmits(input),
      ...('stages' in ex ? { stageDurationsMs: ex.stages.map((st) => st.durationMs) } : ex.executor === 'constant-arrival-rate' ? { stageDurationsMs: [plan.load.loadDurationMs] } : {}),
      ...(ex.executor === 'burst' ? { burst: { connections: ex.connections, windowMs: ex.windowMs } } : {}),
    });
    summary.load = built.summary;
    findings.push(...built.findings);
    lateStartRatio = built.lateStartRatio;
    overrun = built.overrun;
  }
  if (input.connectCliff) findings.push(connectCliffFinding(input.connectCliff));
  if (input.datapath) {
    for (const [key, kind, detail] of DATAPATH_FINDINGS) {
      const c = input.datapath.delta.counters[key];
      if (c?.delta) findings.push({ kind, count: c.delta, detail: `${detail} (${input.datapath.source} ${key})` });
    }
  }
  if (input.telemetry) {
    const telemetry = buildTelemetryResults(input.telemetry);
    if (telemetry.metrics) summary.metrics = telemetry.metrics;
    if (telemetry.traces) summary.traces = telemetry.traces;
    findings.push(...telemetry.findings);
  }
  const reasons: string[] = [];
  if (lateStartRatio > SATURATED_LATE_START_RATIO) reasons.push(`late starts ${(lateStartRatio * 100).toFixed(2)}% > ${SATURATED_LATE_START_RATIO * 100}%`);
  if (input.cpuRatio > SATURATED_CPU_RATIO) reasons.push(`CPU ${(input.cpuRatio * 100).toFixed(0)}% > ${SATURATED_CPU_RATIO * 100}%`);
  const busiest = Math.max(0, ...(input.workerCpuRatios ?? []));
  if (busiest > SATURATED_CPU_RATIO) reasons.push(`a worker thread used ${(busiest * 100).toFixed(0)}% of a core > ${SATURATED_CPU_RATIO * 100}%`);
  if (input.connectCliff) reasons.push(`connect() slowed to ${Math.round(input.connectCliff.firstMeanUs)} µs a call from ${(input.connectCliff.firstEndMs / 1000).toFixed(0)} s (the TIME_WAIT connect cliff of the generator host)`);
  if (overrun !== undefined) reasons.push(`${overrun.iterationsStarted} iterations started after the planned end, the last ${overrun.overSeconds} s after it (schedule overrun)`);
  const stalls = input.mainThreadStalls;
  if (stalls !== undefined && stalls.count > 0) reasons.push(`the main thread stalled ${stalls.count} time(s), the longest ${stalls.maxMs} ms (≥ ${stalls.thresholdMs} ms)`);
  const results: Results = {
    schemaVersion: 1,
    complete: input.complete,
    run: {
      id: plan.runId,
      scenario: scenario.name,
      seed: scenario.seed,
      startedAt: new Date(plan.startEpochMs).toISOString(),
      plannedDurationMs: plan.durationMs,
      elapsedMs: round(input.elapsedMs, 1),
      workers: plan.workers,
      nodeVersion: input.nodeVersion,
      tallyVersion: input.tallyVersion,
    },
    summary,
    generator: {
      saturated: reasons.length > 0,
      reasons,
      lateStartRatio: round(lateStartRatio, 6),
      cpuRatio: round(input.cpuRatio, 4),
      eventLoopDelayP99MaxUs: input.eventLoopDelayP99MaxUs,
      workerCpuRatios: (input.workerCpuRatios ?? []).map((r) => round(r, 4)),
      workerEventLoopDelayP99MaxUs: input.workerEventLoopDelayP99MaxUs ?? [],
      ...(stalls !== undefined ? { mainThreadStalls: stalls } : {}),
    },
    findings,
    warnings: input.warnings,
  };
  if (input.endedAtMs !== undefined) results.run.endedAt = new Date(input.endedAtMs).toISOString();
  if (input.incompleteReason !== undefined) results.incompleteReason = input.incompleteReason;
  if (input.histograms) results.histograms = input.histograms;
  if (input.shard) results.shard = { ...input.shard };
  if (input.merge) results.merge = structuredClone(input.merge);
  if (input.receiver) results.receiver = input.receiver;
  if (input.target) results.target = input.target;
  if (input.portBudget) results.portBudget = input.portBudget;
  if (input.datapath) {
    const d = input.datapath.delta;
    results.datapath = {
      source: input.datapath.source,
      intervalMs: round(d.intervalMs, 1),
      counters: Object.fromEntries(Object.entries(d.counters).filter(([, c]) => c.delta !== 0)),
      gauges: d.gauges,
      flags: d.flags,
    };
  }
  const metricsReconciliation = input.telemetry?.metrics?.reconciliation;
  const traceReconciliation = input.telemetry?.traces?.reconciliation;
  const deltaOffsets = input.telemetry?.metrics?.deltaOffsets;
  if (metricsReconciliation || traceReconciliation) {
    results.reconciliation = {};
    if (metricsReconciliation) Object.assign(results.reconciliation, { samples: metricsReconciliation.samples, metrics: metricsReconciliation.metrics });
    if (deltaOffsets) results.reconciliation.deltaOffsets = deltaOffsets.samples;
    if (traceReconciliation) results.reconciliation.traces = traceReconciliation.samples;
  }
  if (input.backends) {
    const section = backendsSection(input.backends);
    Object.assign(results, section.fields);
    findings.push(...section.findings);
  }
  return results;
}

/** The sockets' namespace's retransmit counters: `socketCounters`, or `datapath` when it was read in the sockets' own namespace. */
function socketRetransmits(input: ResultsInput): { socketRetransmits?: SocketRetransmitCounters & { source: string } } {
  const own = input.socketCounters ?? (input.datapath?.source === 'self' ? input.datapath : undefined);
  if (own === undefined) return {};
  const delta = (key: string): number | null => own.delta.counters[key]?.delta ?? null;
  return { socketRetransmits: { source: own.source, tcpSynRetrans: delta('netstat.TcpExt.TCPSynRetrans'), retransSegs: delta('snmp.Tcp.RetransSegs') } };
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function nonZero(counts: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0));
}

let validator: ReturnType<Ajv2020['compile']> | undefined;

/**
 * Compile the results schema now (about 0.3 s of main-thread CPU). A run calls this before
 * its clock starts: compiled lazily at the first checkpoint, it stalled the main thread,
 * and with it the embedded target, in the middle of the load.
 */
export function prepareResultsValidator(): NonNullable<typeof validator> {
  validator ??= new Ajv2020({ allErrors: true, strict: true }).compile(resultsSchema);
  return validator;
}
/**
 * Validate results against results.schema.json.
 * @throws ReconcileError `TALLY_RESULTS_INVALID` listing each problem's JSON pointer (a bug in tally).
 */
export function validateResults(results: Results): void {
  const validator = prepareResultsValidator();
  if (!validator(results)) {
    const problems = (validator.errors ?? []).map((e) => ({ pointer: e.instancePath, message: e.message ?? e.keyword }));
    throw new ReconcileError(`results.json fails its schema: ${problems.map((p) => `${p.pointer} ${p.message}`).join('; ')}`, {
      code: 'TALLY_RESULTS_INVALID',
      details: { problems },
    });
  }
}
