/**
 * The run, as named stages: load and plan → preflight → read-back set-up → start the
 * embedded stand-ins → run the shards and route their messages (intervals and checkpoints
 * as they come) → end of load → settle and reconcile what the embedded receiver saw →
 * read back → write the results. Each stage is a function of its inputs; the clock and the
 * output are injected, so a sweep or a test calls {@link runScenario} as the CLI does.
 *
 * Results are written as the run goes: intervals.ndjson a line per second, and an
 * incomplete results.json every few seconds, so a killed run still leaves data. A stop
 * (SIGTERM, SIGINT, or a breached abortOnFail threshold: pipeline/thresholds.ts) ends the
 * shards, keeps what was measured and marks results.json incomplete; a runtime failure
 * does the same, then is thrown.
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { Piscina } from 'piscina';
import { systemClock, type Clock } from '../core/clock.ts';
import { IoError, type InputProblem } from '../core/errors.ts';
import type { MeasurementOutputConfig } from '../core/measurement-output.ts';
import type { ExportOutcome, IntervalMessage } from '../core/messages.ts';
import type { TextOut } from '../core/text-out.ts';
import { claimRunDir, type RunDirLock } from '../host/run-dir.ts';
import { RunAggregator } from '../reports/aggregate.ts';
import { prepareResultsValidator, type Results } from '../reports/results.ts';
import { loadScenarioFile } from '../scenarios/load.ts';
import { planRun, shardTasks, type Endpoints, type Plan } from '../scenarios/plan.ts';
import { plannedArrivalsPerInterval } from '../scenarios/planned-arrivals.ts';
import type { Scenario } from '../scenarios/types.ts';
import { checkRunBudget } from './budget.ts';
import { IntervalLog } from './interval-log.ts';
import { finishMeasurementOutput, startMeasurementOutput, type MeasurementOutputStage } from './measurement-output.ts';
import { preflight, type Preflight } from './preflight.ts';
import { progressPrinter } from './progress.ts';
import { prepareRunReadback, type RunReadback } from './readback.ts';
import { writeFinalResults, writeResultsJson, writeResultsJsonSync } from './results-files.ts';
import { RunRecord } from './run-record.ts';
import { runShards } from './shards.ts';
import { startLoadStandIn, type LoadStandIn } from './stand-ins.ts';
import { raceStop, StopControl, waitUnlessStopped } from './stop.ts';
import { thresholdWatch } from './thresholds.ts';
import { RunTelemetry } from './telemetry.ts';
import { startWorkerPool } from './worker-pool.ts';
import { shareOfStages, type ShardSpec } from '../scenarios/shard-plan.ts';
import { shardStart, shardRunDir, type ShardBarrierOptions, type ShardStart } from './shard-run.ts';
import { writeShardRecord, writeShardRecordSync } from './shard-files.ts';
import { savePlan } from './run-files.ts';

/** Options of {@link runScenario}. */
export interface RunOptions {
  scenarioPath: string;
  /** Output directory; default `runs/<run id>`. It must be empty (or new) unless `overwrite`. */
  outDir?: string;
  /** Accept an output directory that holds files; tally's own files of an earlier run are removed first. */
  overwrite?: boolean;
  /** Where progress and the summary go; default process.stdout. */
  stdout?: TextOut;
  /** Lead time between planning and the first intended start (ms). Default {@link DEFAULT_LEAD_MS}. */
  leadMs?: number;
  /** Register SIGTERM/SIGINT handlers (the CLI does; tests may not). Default true. */
  handleSignals?: boolean;
  /**
   * Read datapath counters in this named network namespace instead of the generator's own
   * (the lab's node namespace, where DNAT and conntrack happen). `tally lab exec` sets
   * TALLY_LAB_NODE_NETNS, which is the default.
   */
  datapathNetns?: string;
  /** Wall and monotonic time; default the process clock. */
  clock?: Clock;
  /** Stop switch; default a new one (with the process's signals when `handleSignals`). */
  stop?: StopControl;
  /** Measurement outputs besides the scenario's `outputs:` (`tally run --output`). */
  outputs?: MeasurementOutputConfig[];
  /** Told where the load and the telemetry go once the stand-ins listen (tests, sweeps). */
  onEndpoints?: (endpoints: Endpoints) => void;
  /** Run one shard of a sharded run (`--shard i/N`); see pipeline/shard-run.ts for the start instant. */
  shard?: ShardSpec;
  /** The start instant every shard shares (epoch ms, `--start-at`). */
  startAtMs?: number;
  /** Reach the start instant through shard 0's barrier (`--barrier URL`). */
  barrier?: ShardBarrierOptions;
  /** Hand every shard's run directory to shard 0 and merge there (`--collect DIR`): the barrier stays open after the run. */
  collect?: string;
}

/** What a finished (or stopped) run returns. */
export interface RunOutcome {
  outDir: string;
  results: Results;
  /** A sharded run's start (with `collect`, shard 0's barrier still open: pipeline/shard-collect.ts closes it). */
  sharded?: ShardStart;
}

/** Length of one interval line (ms). */
export const REPORT_INTERVAL_MS = 1000;
/** After a stop, how long a phase may still take before it is given up (ms). */
export const STOP_GRACE_MS = 1000;

/** A run between its set-up and its end. */
interface LiveRun {
  out: TextOut;
  outDir: string;
  dirLock: RunDirLock;
  pool: Piscina;
  record: RunRecord;
  readback: RunReadback | undefined;
  log: IntervalLog;
  standIn?: LoadStandIn;
  /** tally's own figures pushed while the run goes (pipeline/measurement-output.ts). */
  output?: MeasurementOutputStage;
  /** Remove the process signal handlers (a no-op when none were installed). */
  removeSignalHandlers: () => void;
  /** Epoch ms when the last shard ended. */
  loadEndMs?: number;
  /** A sharded run's start: its identity, and the barrier to close when the run ends. */
  sharded?: ShardStart;
  onEndpoints?: (endpoints: Endpoints) => void;
}

/**
 * Run a scenario end to end.
 * @throws ConfigError (exit 2) for a bad scenario, before anything is sent.
 * @throws TallyError (exit 1) for runtime failures; what was measured is still written first.
 */
export async function runScenario(options: RunOptions): Promise<RunOutcome> {
  const run = await setUp(options);
  try {
    await firstCheckpoint(run);
    await loadPhase(run);
    await endLoad(run);
    await settleAndReconcile(run);
    await readBack(run);
    const results = await writeResults(run);
    if (run.record.failure) throw run.record.failure;
    return { outDir: run.outDir, results, ...(run.sharded === undefined ? {} : { sharded: run.sharded }) };
  } finally {
    await closeRun(run, options.collect !== undefined);
  }
}

/**
 * The lead between planning and the first intended start (ms): the run's set-up (preflight,
 * the stand-in threads, the telemetry endpoint, the first checkpoint) happens in it. With
 * 250 ms, set-up ran past the start in 3 of 6 runs on a quiet 2-core machine, and the first
 * arrivals started up to 280 ms late: late starts that marked the run saturated.
 */
export const DEFAULT_LEAD_MS = 1000;

/** Load and plan: the scenario, the run directory (claimed first when named), a warm worker pool, the plan (its clock starts after warm-up). */
async function loadAndPlan(options: RunOptions, out: TextOut, clock: Clock): Promise<{ scenario: Scenario; warnings: InputProblem[]; plan: Plan; pool: Piscina; dirLock: RunDirLock; sharded?: ShardStart }> {
  const { scenario, warnings } = await loadScenarioFile(options.scenarioPath);
  for (const w of warnings) out.write(`warning: ${w.pointer}: ${w.message}\n`);
  const overwrite = options.overwrite ?? false;
  let dirLock = options.outDir === undefined ? undefined : await claimRunDir(options.outDir, { overwrite });
  let pool: Piscina | undefined;
  let sharded: ShardStart | undefined;
  try {
    const threads = scenario.load?.workers ?? availableParallelism();
    // The cardinality budget, before anything is sent (its byte count does not depend on the start instant): refused with enforce, else warnings.
    for (const w of await checkRunBudget(scenario, planRun(scenario, Math.ceil(clock.nowMs()), threads))) {
      out.write(`warning: ${w.pointer}: ${w.message}\n`);
      warnings.push(w);
    }
    pool = await startWorkerPool(threads);
    // Compiled before the clock starts: lazily, it stalled the main thread at the first checkpoint.
    prepareResultsValidator();
    // A shard waits for the instant every shard shares (given, or agreed at shard 0's barrier).
    sharded = options.shard === undefined ? undefined : await shardStart({ ...options, shard: options.shard, threads, clock });
    const plan = planRun(scenario, sharded?.identity.startEpochMs ?? Math.ceil(clock.nowMs()) + (options.leadMs ?? DEFAULT_LEAD_MS), threads, options.shard);
    if (sharded !== undefined) sharded.identity.runId = plan.runId;
    dirLock ??= await claimRunDir(options.shard === undefined ? join('runs', plan.runId) : shardRunDir(plan.runId, options.shard), { overwrite });
    return { scenario, warnings, plan, pool, dirLock, sharded };
  } catch (error) {
    await sharded?.close();
    await pool?.destroy();
    await dirLock?.release();
    throw error;
  }
}

/** Everything before the first shard starts: plan, preflight, read-back, bookkeeping. */
async function setUp(options: RunOptions): Promise<LiveRun> {
  const out = options.stdout ?? process.stdout;
  const clock = options.clock ?? systemClock;
  const { scenario, warnings, plan, pool, dirLock, sharded } = await loadAndPlan(options, out, clock);
  const outDir = dirLock.dir;
  let pre: Preflight | undefined;
  let readback: RunReadback | undefined;
  try {
    pre = await preflight(scenario, plan, out, options.datapathNetns ?? process.env.TALLY_LAB_NODE_NETNS);
    // A shard does not read the backends back: each holds a part of the run, and `tally merge` reads back once for all.
    if (sharded !== undefined) await savePlan(outDir, options.scenarioPath, plan, sharded.document);
    readback = await prepareRunReadback(sharded === undefined ? scenario : { ...scenario, backends: undefined }, plan, { outDir, scenarioPath: options.scenarioPath, out });
  } catch (error) {
    await pre?.close();
    await sharded?.close();
    await pool.destroy();
    await dirLock.release();
    throw error;
  }
  const stop = options.stop ?? new StopControl();
  let lastWords: (() => void) | undefined;
  const removeSignalHandlers = options.handleSignals !== false ? stop.handleProcessSignals({ lastWords: () => lastWords?.() }) : () => {};
  const plannedArrivals = scenario.load && plannedArrivalsPerInterval(scenario.load.executor, scenario.durationMs, REPORT_INTERVAL_MS);
  const aggregator = new RunAggregator(plan.workers, REPORT_INTERVAL_MS, {
    encodeIntervalHistograms: sharded !== undefined,
    // A shard's lines carry its share (arrivals j ≡ i mod N), so tally merge's sum is the whole schedule's.
    ...(plannedArrivals === undefined ? {} : { plannedArrivals: sharded === undefined ? plannedArrivals : shareOfStages(plannedArrivals, sharded.identity) }),
  });
  const telemetry = new RunTelemetry(scenario, plan);
  const record = new RunRecord({ scenario, plan, warnings, clock, aggregator, telemetry, preflight: pre, stop, ...(sharded === undefined ? {} : { shard: sharded.identity }) });
  const output = startMeasurementOutput({ scenario, plan, extra: options.outputs, aggregator, datapath: pre.datapath !== undefined, clock, ...(sharded === undefined ? {} : { shard: String(sharded.identity.index) }) });
  const printProgress = progressPrinter(out, plan, aggregator, telemetry.ledger, telemetry.spanLedger);
  const checkThresholds = thresholdWatch(record);
  const log = new IntervalLog(join(outDir, 'intervals.ndjson'), {
    datapath: pre.datapath,
    ...(pre.socketCounters === undefined ? {} : { socketCounters: pre.socketCounters }),
    progress: (line) => {
      record.connectCliff.observe(line);
      printProgress(line);
      output?.line(line);
      checkThresholds?.(line);
    },
    checkpoint: async () => {
      await writeResultsJson(outDir, record.snapshot(false));
      await writeShardRecord(outDir, record.shardRecord(false));
    },
    onError: (error) => {
      record.fail(error);
      // A file of the run cannot be written (a full disk): stop, keep the figures for the terminal.
      if (error instanceof IoError) stop.stop('TALLY_IO_FAILED');
    },
  });
  // A second signal exits at once: what was measured goes to results.json synchronously first.
  lastWords = () => {
    writeResultsJsonSync(outDir, record.snapshot(false));
    writeShardRecordSync(outDir, record.shardRecord(false));
  };
  return { out, outDir, dirLock, pool, record, readback, log, output, removeSignalHandlers, onEndpoints: options.onEndpoints, sharded };
}

/** results.json before the load starts (`complete: false`, `running`), so a run killed in its first seconds still leaves one. */
async function firstCheckpoint(run: LiveRun): Promise<void> {
  await writeResultsJson(run.outDir, run.record.snapshot(false));
  await writeShardRecord(run.outDir, run.record.shardRecord(false));
}

/** Start the stand-ins and the telemetry endpoint, then run the shards, routing their reports, until they end. */
async function loadPhase(run: LiveRun): Promise<void> {
  const { record, readback, log } = run;
  const { scenario, plan, aggregator, telemetry, stop } = record.parts;
  const standInFailed = (error: unknown): void => record.fail(error);
  run.standIn = await startLoadStandIn(scenario, standInFailed);
  record.served = run.standIn.served;
  const endpoints: Endpoints = run.standIn.target ? { target: run.standIn.target } : {};
  await telemetry.start(endpoints, standInFailed);
  run.onEndpoints?.(endpoints);
  const tasks = shardTasks(scenario, plan, endpoints, REPORT_INTERVAL_MS);
  readback?.attach(tasks);
  readback?.startPolling();
  const onExport = (o: ExportOutcome): void => {
    telemetry.onExport(o);
    readback?.onOutcome(o);
  };
  // Set-up that ran past the planned start makes the first arrivals late: say why, beside the late starts.
  const setupOverrunMs = Math.round(record.parts.clock.nowMs() - plan.startEpochMs);
  if (setupOverrunMs > 0 && run.sharded === undefined) {
    const w = { pointer: '/load', message: `the run's set-up ended ${setupOverrunMs} ms after the planned start: the first arrivals start late (tally's own set-up, not the system under test)` };
    record.parts.warnings.push(w);
    run.out.write(`warning: ${w.pointer}: ${w.message}\n`);
  }
  record.stalls.start();
  const failures = await runShards(run.pool, tasks, {
    interval: (m: IntervalMessage) => log.write(aggregator.add(m, onExport, telemetry.onTraceExport)),
    ended: (shard, error) => {
      if (error) record.fail(error);
      log.write(aggregator.shardDone(shard));
    },
  }, stop);
  record.stalls.stop();
  run.loadEndMs = record.parts.clock.nowMs();
  for (const failure of failures) record.fail(failure);
}

/** The load has ended: the last lines, the whole run's datapath delta. */
async function endLoad(run: LiveRun): Promise<void> {
  const { record, log } = run;
  log.write(record.parts.aggregator.flush());
  await log.drained();
  await run.standIn?.refresh();
  const datapath = record.parts.preflight.datapath;
  if (datapath) {
    try {
      record.datapathDelta = await datapath.finish();
      record.socketCountersDelta = await record.parts.preflight.socketCounters?.finish();
    } catch (error) {
      record.fail(error);
    }
  }
  if (run.out.isTTY) run.out.write('\n');
}

/** Let the embedded receiver settle (not after a stop), then reconcile what it saw. */
async function settleAndReconcile(run: LiveRun): Promise<void> {
  const { telemetry, scenario, stop } = run.record.parts;
  if (!telemetry.receiver) return;
  await waitUnlessStopped(scenario.reconcile.settleMs, stop);
  try {
    await telemetry.reconcile(stop, STOP_GRACE_MS);
  } catch (error) {
    run.record.fail(error);
  }
}

/** Read the backends back (Prometheus, the waterfall's counters, Tempo) and take their reconciliation. */
async function readBack(run: LiveRun): Promise<void> {
  const { record, readback } = run;
  if (!readback) return;
  const { telemetry, stop } = record.parts;
  try {
    const finish = readback.finish({ ledger: telemetry.ledger, store: telemetry.store, stop: stop.signal, loadEndMs: run.loadEndMs ?? record.parts.clock.nowMs(), spans: telemetry.spanLedger?.totals });
    // A stop gives the read-back a second, whatever its backends do.
    const read = await raceStop(finish, stop, STOP_GRACE_MS);
    if (!read.done) return;
    if (read.value.reconciliation) telemetry.setMetricsReconciliation(read.value.reconciliation);
    record.backends = read.value.backends;
  } catch (error) {
    record.fail(error);
  }
}

/** The final results.json, summary.md and terminal summary, after the last checkpoint. */
async function writeResults(run: LiveRun): Promise<Results> {
  const results = run.record.snapshot(run.record.complete);
  await run.log.checkpointsDone();
  try {
    if (run.output) await finishMeasurementOutput(run.output, results, run.record.parts.clock.nowMs(), run.out);
    await writeFinalResults(run.outDir, results, run.out);
    await writeShardRecord(run.outDir, run.record.shardRecord(run.record.complete));
  } catch (error) {
    run.record.fail(error);
  }
  return results;
}

/** Release everything the run holds, whatever happened (shard 0's barrier stays open for collection when the run succeeded). */
async function closeRun(run: LiveRun, collecting: boolean): Promise<void> {
  run.removeSignalHandlers();
  await run.log.close();
  await run.output?.close();
  await run.record.parts.preflight.close();
  run.record.parts.aggregator.destroy();
  await run.readback?.close();
  await run.pool.destroy();
  await run.record.parts.telemetry.close().catch(() => {});
  await run.standIn?.close().catch(() => {});
  if (!collecting || run.record.failure !== undefined) await run.sharded?.close();
  await run.dirLock.release();
}
