/**
 * `tally run`: load → plan → start embedded servers → run shards on a piscina pool →
 * ledger and intervals as the run goes → reconcile → results.json, summary.md, terminal.
 *
 * Results are written as the run goes: intervals.ndjson a line per second, and an
 * incomplete results.json every few seconds, so a killed run still leaves data. SIGTERM
 * and SIGINT stop the shards, keep what was measured and mark results.json incomplete.
 */
import { availableParallelism } from 'node:os';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { reviveError, TallyError } from '../core/errors.ts';
import type { ExportOutcome, WorkerMessage } from '../core/messages.ts';
import { startEmbeddedTarget, type EmbeddedTarget } from '../embedded/target.ts';
import { startEmbeddedEcho } from '../embedded/echo.ts';
import { RunTelemetry } from './telemetry.ts';
import { RunAggregator } from '../reports/aggregate.ts';
import { buildResults, prepareResultsValidator, validateResults, type Results } from '../reports/results.ts';
import { renderMarkdown, renderProgress, renderTerminal } from '../reports/render.ts';
import { loadScenarioFile } from '../scenarios/load.ts';
import { planRun, shardTasks, type Endpoints, type Plan } from '../scenarios/plan.ts';
import type { Scenario } from '../scenarios/types.ts';
import { portBudgetFor, readSynSchedule, type PortBudgetReport } from '../host/preflight.ts';
import type { SynSchedule } from '../reconcile/syn-retransmit.ts';
import { DatapathWatch, netnsSampler, selfSampler } from '../host/datapath-watch.ts';
import type { DatapathDelta } from '../host/datapath-delta.ts';
import { prepareRunReadback, type RunReadback } from './readback.ts';
import type { BackendsResults } from '../reports/results-backends.ts';

/** Options of {@link runCommand}. */
export interface RunOptions {
  scenarioPath: string;
  /** Output directory; default `runs/<run id>`. */
  outDir?: string;
  /** Where progress and the summary go. */
  stdout?: NodeJS.WriteStream | { write(s: string): unknown; isTTY?: boolean };
  /** Lead time between planning and the first intended start (ms). Default 250. */
  leadMs?: number;
  /** Register SIGTERM/SIGINT handlers (the CLI does; tests may not). Default true. */
  handleSignals?: boolean;
  /**
   * Read datapath counters in this named network namespace instead of the generator's own
   * (the lab's node namespace, where DNAT and conntrack happen). `tally lab exec` sets
   * TALLY_LAB_NODE_NETNS, which is the default.
   */
  datapathNetns?: string;
}

/** What a finished (or stopped) run returns. */
export interface RunOutcome {
  outDir: string;
  results: Results;
}

const REPORT_INTERVAL_MS = 1000;
const CHECKPOINT_EVERY_INTERVALS = 5;
import { TALLY_VERSION } from '../core/version.ts';

async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFile(`${path}.tmp`, `${JSON.stringify(value, null, 2)}\n`);
  await rename(`${path}.tmp`, path);
}

/**
 * Run a scenario end to end.
 * @throws ConfigError (exit 2) for a bad scenario — before anything is sent.
 * @throws TallyError (exit 1) for runtime failures; what was measured is still written.
 */
export async function runCommand(options: RunOptions): Promise<RunOutcome> {
  const out = options.stdout ?? process.stdout;
  const { scenario, warnings } = await loadScenarioFile(options.scenarioPath);
  for (const w of warnings) out.write(`warning: ${w.pointer}: ${w.message}\n`);
  const workers = scenario.load?.workers ?? availableParallelism();
  const pool = new Piscina({
    filename: new URL('../workers/shard.ts', import.meta.url).href,
    minThreads: workers,
    maxThreads: workers,
    idleTimeout: 1000,
  });
  // Warm every thread (module loading, WebAssembly) before the clock starts, so that
  // start-up is not counted as late starts.
  let plan: Plan;
  let outDir: string;
  try {
    await Promise.all(Array.from({ length: workers }, () => pool.run({ warmup: true, holdMs: 50 })));
    prepareResultsValidator();
    plan = planRun(scenario, Math.ceil(Date.now()) + (options.leadMs ?? 250), workers);
    outDir = options.outDir ?? join('runs', plan.runId);
    await mkdir(outDir, { recursive: true });
  } catch (err) {
    await pool.destroy();
    throw err;
  }

  // Before any traffic: the port budget, the SYN schedule, and the first datapath sample.
  let portBudget: PortBudgetReport | undefined;
  let synSchedule: SynSchedule | undefined;
  let datapath: DatapathWatch | undefined;
  if (scenario.load && plan.load) {
    try {
      const targetHost = scenario.load.target === undefined ? '127.0.0.1' : new URL(scenario.load.target).hostname;
      portBudget = await portBudgetFor(scenario.load, plan.load, targetHost, scenario.load.target === undefined);
      if (portBudget.computed) for (const w of portBudget.warnings) out.write(`warning: ${w.code}: ${w.message}\n`);
      synSchedule = await readSynSchedule();
      const netns = options.datapathNetns ?? process.env.TALLY_LAB_NODE_NETNS;
      datapath = new DatapathWatch(netns ? await netnsSampler(netns) : selfSampler());
      await datapath.start();
    } catch (err) {
      await datapath?.sampler.close();
      await pool.destroy();
      throw err;
    }
  }

  // Read-back backends and remote write (run-readback.ts): plan.json, Prometheus reachable, first counter readings.
  let readback: RunReadback | undefined;
  let backendsResults: BackendsResults | undefined;
  try {
    readback = await prepareRunReadback(scenario, plan, { outDir, scenarioPath: options.scenarioPath });
  } catch (err) {
    await datapath?.sampler.close();
    await pool.destroy();
    throw err;
  }

  // --- telemetry (metrics, traces): ledgers, embedded receiver, reconciliation: run-telemetry.ts ---
  const telemetry = new RunTelemetry(scenario, plan);
  const ledger = telemetry.ledger;

  let target: EmbeddedTarget | undefined;
  let embeddedServed: (() => object) | undefined;
  const endpoints: Endpoints = {};
  const cleanups: (() => Promise<void>)[] = [];
  const intervals: WriteStream = createWriteStream(join(outDir, 'intervals.ndjson'), { flags: 'w' });
  const aggregator = new RunAggregator(plan.workers, REPORT_INTERVAL_MS);
  const cpuStart = process.cpuUsage();
  let stopReason: string | undefined;
  let failure: TallyError | undefined;
  const ports: MessagePort[] = [];
  const stop = (reason: string): void => {
    if (stopReason !== undefined) return;
    stopReason = reason;
    for (const p of ports) p.postMessage({ type: 'stop' });
  };
  const onSigterm = (): void => stop('SIGTERM');
  const onSigint = (): void => stop('SIGINT');
  if (options.handleSignals !== false) {
    process.on('SIGTERM', onSigterm);
    process.on('SIGINT', onSigint);
  }

  const snapshot = (complete: boolean): Results => {
    const elapsedMs = Math.max(0, Date.now() - plan.startEpochMs);
    const cpu = process.cpuUsage(cpuStart);
    const results = buildResults({
      scenario,
      plan,
      complete,
      incompleteReason: complete ? undefined : (stopReason ?? failure?.code ?? 'running'),
      elapsedMs,
      endedAtMs: complete || stopReason !== undefined || failure !== undefined ? Date.now() : undefined,
      load: aggregator.hasLoad ? aggregator.loadTotals() : undefined,
      telemetry: telemetry.resultsInput(aggregator),
      cpuRatio: elapsedMs > 0 ? (cpu.user + cpu.system) / 1000 / elapsedMs / availableParallelism() : 0,
      eventLoopDelayP99MaxUs: aggregator.eventLoopDelayP99MaxUs,
      workerEventLoopDelayP99MaxUs: [...aggregator.workerEventLoopDelayP99MaxUs],
      workerCpuRatios: elapsedMs > 0 ? Array.from({ length: plan.workers }, (_, i) => (aggregator.workerCpuUs[i] ?? 0) / 1000 / elapsedMs) : [],
      synSchedule,
      portBudget,
      datapath: datapathDelta && datapath ? { source: datapath.sampler.source, delta: datapathDelta } : undefined,
      receiver: telemetry.receiver?.stats(),
      target: embeddedServed?.(),
      backends: backendsResults,
      warnings,
      nodeVersion: process.version,
      tallyVersion: TALLY_VERSION,
    });
    validateResults(results);
    return results;
  };

  const isTTY = Boolean(out.isTTY);
  let lastPlainProgressMs = 0;
  const progress = (line: ReturnType<RunAggregator['flush']>[number]): void => {
    const elapsedMs = line.endMs;
    const text = renderProgress({
      elapsedMs,
      targetRatePerSecond: plan.load?.ratePerSecond,
      lastLine: line,
      errorsTotal: aggregator.errorTotal(),
      p99SoFarUs: aggregator.hasLoad ? aggregator.loadTotals().histograms.latencyUs.p99 : undefined,
      pointsSent: ledger?.totals.pointsSent ?? 0,
      pointsAcknowledged: ledger?.totals.pointsAcknowledged ?? 0,
    });
    if (isTTY) out.write(`\r\x1b[2K${text}`);
    else if (elapsedMs - lastPlainProgressMs >= 10_000) {
      lastPlainProgressMs = elapsedMs;
      out.write(`${text}\n`);
    }
  };

  // Lines are written in order through one chain: each completed line first takes the
  // datapath counters' delta since the previous line (sampled now, on the main thread).
  let datapathDelta: DatapathDelta | undefined;
  let lineChain = Promise.resolve();
  let checkpointing = Promise.resolve();
  const writeLine = async (line: ReturnType<RunAggregator['flush']>[number]): Promise<void> => {
    if (datapath) {
      try {
        line.datapath = await datapath.interval();
      } catch (err) {
        failure ??= reviveError(err);
      }
    }
    intervals.write(`${JSON.stringify(line)}\n`);
    progress(line);
    if ((line.interval + 1) % CHECKPOINT_EVERY_INTERVALS === 0) {
      // A checkpoint that fails must not take the run down with it: the final write reports it.
      checkpointing = checkpointing.then(() => writeJsonAtomic(join(outDir, 'results.json'), snapshot(false))).catch((err: unknown) => {
        failure ??= reviveError(err);
      });
    }
  };
  const writeLines = (lines: ReturnType<RunAggregator['flush']>): void => {
    for (const line of lines) lineChain = lineChain.then(() => writeLine(line));
  };

  try {
    if (scenario.load) {
      const l = scenario.load;
      if (l.target === undefined && l.protocol === 'tcp-crr') {
        const echo = await startEmbeddedEcho({ requestBytes: l.tcpCrr.requestBytes, responseBytes: l.tcpCrr.responseBytes });
        cleanups.push(() => echo.close());
        endpoints.target = { host: echo.host, port: echo.port, path: '/' };
        embeddedServed = () => ({ embedded: true, protocol: 'tcp-crr', requestsServed: echo.requestsServed(), connectionsAccepted: echo.connectionsAccepted() });
      } else if (l.target === undefined) {
        target = await startEmbeddedTarget({ responseBytes: scenario.embedded.target.responseBytes });
        cleanups.push(() => target!.close());
        endpoints.target = { host: target.host, port: target.port, path: '/' };
        embeddedServed = () => ({ embedded: true, requestsServed: target!.requestsServed() });
      } else {
        const u = new URL(l.target);
        endpoints.target = { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 80), path: l.protocol === 'tcp-crr' ? '/' : u.pathname + u.search };
      }
    }
    // --- telemetry: embedded receiver (or the scenario's endpoint); remote write ships from its own shards ---
    cleanups.push(() => telemetry.close());
    await telemetry.start(endpoints);
    const tasks = shardTasks(scenario, plan, endpoints, REPORT_INTERVAL_MS);
    readback?.attach(tasks);
    readback?.startPolling();
    const runs = tasks.map((task) => {
      const channel = new MessageChannel();
      ports.push(channel.port1);
      // The task's result and the port's messages travel separately: the shard's last
      // report may arrive after the task resolves, so the port stays open until 'done'.
      let lastMessage: () => void = () => {};
      const finished = new Promise<void>((resolve) => (lastMessage = resolve));
      channel.port1.on('message', (m: WorkerMessage) => {
        if (m.type === 'interval') {
          const onExport = (o: ExportOutcome): void => {
            telemetry.onExport(o);
            readback?.onOutcome(o);
          };
          writeLines(aggregator.add(m, onExport, telemetry.onTraceExport));
        }
        else if (m.type === 'done') {
          writeLines(aggregator.shardDone(m.shard));
          lastMessage();
        } else if (m.type === 'failed') {
          failure ??= reviveError(m.error);
          writeLines(aggregator.shardDone(m.shard));
          lastMessage();
        }
      });
      const task$ = pool.run({ ...task, port: channel.port2 }, { transferList: [channel.port2] });
      // A worker that dies without a word (crash, OOM) still ends its shard after a grace period.
      const grace = task$.catch(() => {}).then(() => new Promise<void>((r) => setTimeout(r, 2000).unref()));
      return Promise.all([task$, Promise.race([finished, grace])]).finally(() => channel.port1.close());
    });
    const settled = await Promise.allSettled(runs);
    const loadEndMs = Date.now();
    for (const s of settled) if (s.status === 'rejected') failure ??= reviveError(s.reason);
    writeLines(aggregator.flush());
    await lineChain;
    if (datapath) {
      try {
        datapathDelta = await datapath.finish();
      } catch (err) {
        failure ??= reviveError(err);
      }
    }
    if (isTTY) out.write('\n');

    // --- telemetry: reconcile what the embedded receiver saw ---
    if (telemetry.receiver) {
      if (stopReason === undefined) await new Promise((r) => setTimeout(r, scenario.reconcile.settleMs));
      telemetry.reconcile();
    }
    if (readback) {
      try {
        const done = await readback.finish({ ledger, store: telemetry.store, stopped: stopReason !== undefined, loadEndMs, spans: telemetry.spanLedger?.totals });
        if (done.reconciliation) telemetry.setMetricsReconciliation(done.reconciliation);
        backendsResults = done.backends;
      } catch (err) {
        failure ??= reviveError(err);
      }
    }
    const complete = stopReason === undefined && failure === undefined;
    const results = snapshot(complete);
    await checkpointing;
    await writeJsonAtomic(join(outDir, 'results.json'), results);
    await writeFile(join(outDir, 'summary.md'), renderMarkdown(results));
    out.write(renderTerminal(results));
    out.write(`results: ${join(outDir, 'results.json')}\n`);
    if (failure) throw failure;
    return { outDir, results };
  } finally {
    process.off('SIGTERM', onSigterm);
    process.off('SIGINT', onSigint);
    await lineChain.catch(() => {});
    await new Promise<void>((resolve) => intervals.end(resolve));
    await datapath?.sampler.close();
    aggregator.destroy();
    await readback?.close();
    await pool.destroy();
    for (const c of cleanups.reverse()) await c().catch(() => {});
  }
}

export type { Scenario };
