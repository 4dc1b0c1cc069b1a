/**
 * The run side of read-back, for `tally run`: everything between "the plan exists" and
 * "results.json is built" that concerns the backends.
 *
 * - Before traffic: save plan.json; connect to Prometheus (`backends.prometheus`: build
 *   info, so a wrong URL or credentials fail before anything is sent); first readings of
 *   the collector's and Prometheus's own counters; the remote-write shard tasks
 *   (`telemetry.protocol: prometheus/remote-write`).
 * - During the run: each settled request marks its tick's send time; visibility polls.
 * - After the load: poll until every acknowledged point is visible or `reconcile.maxWait`
 *   passes; read every (series, tick) back into the ObservationStore and reconcile it with
 *   the ledger; second readings and the waterfall; cluster datapath metrics; Tempo; save
 *   ledger.bin.
 */
import type { ExportOutcome, ShardTask } from '../core/messages.ts';
import { ConfigError } from '../core/errors.ts';
import type { TextOut } from '../core/text-out.ts';
import { formatDurationMs } from '../core/units.ts';
import type { MetricsLedger } from '../ledger/ledger.ts';
import type { ObservationStore } from '../reconcile/observations.ts';
import type { Reconciliation } from '../reconcile/points.ts';
import { PrometheusApi } from '../readback/prometheus/api.ts';
import { Credentials } from '../readback/prometheus/api-auth.ts';
import { prometheusInstantQuery } from '../readback/prometheus/instant-query.ts';
import { readAndReconcile } from '../readback/prometheus/read-and-reconcile.ts';
import type { ReadbackSpace } from '../readback/prometheus/space.ts';
import { prometheusVisibilitySource } from '../readback/prometheus/visibility-source.ts';
import { RUN_LABEL, runMetricNaming } from '../scenarios/prometheus-naming.ts';
import { remoteWriteShardTasks } from '../scenarios/plan.ts';
import { runReadbackSpace } from '../readback/prometheus/run-space.ts';
import { readDatapathMetrics } from '../readback/cilium/datapath-metrics.ts';
import type { Plan } from '../scenarios/plan.ts';
import type { Scenario } from '../scenarios/types.ts';
import type { BackendsResults } from '../reports/results-backends.ts';
import { savePlan, saveLedger } from './run-files.ts';
import { RunVisibilityTracker } from './visibility.ts';
import { WaterfallProbe, type SpanTotals } from './waterfall.ts';
import { verifyRunTraces } from './tempo.ts';

/** What {@link RunReadback.finish} returns. */
export interface ReadbackFinish {
  /** The reconciliation against Prometheus, when it was read back. */
  reconciliation?: Reconciliation;
  backends: BackendsResults;
}

/** Options of {@link prepareRunReadback}. */
export interface PrepareReadbackOptions {
  outDir: string;
  scenarioPath: string;
  /** Where progress goes (what the run waits for). */
  out: TextOut;
}

/** Attempts of the build-info check before traffic (each up to `backends.prometheus.timeout`). */
const STARTUP_ATTEMPTS = 2;

/** One run's read-back. */
export class RunReadback {
  readonly #scenario: Scenario;
  readonly #plan: Plan;
  readonly #outDir: string;
  readonly #api: PrometheusApi | undefined;
  readonly #space: ReadbackSpace | undefined;
  readonly #visibility: RunVisibilityTracker | undefined;
  readonly #probe: WaterfallProbe;
  readonly #remoteWriteUrl: string | undefined;
  readonly #naming: ReturnType<typeof runMetricNaming>;
  #version = 'unknown';
  readonly #rejections: Record<string, number> = {};
  #remoteWriteRequests = 0;

  constructor(scenario: Scenario, plan: Plan, outDir: string) {
    this.#scenario = scenario;
    this.#plan = plan;
    this.#outDir = outDir;
    const p = scenario.backends?.prometheus;
    const naming = plan.telemetry && (p !== undefined || scenario.telemetry?.remoteWrite !== undefined) ? runMetricNaming(plan, p?.translationStrategy) : [];
    this.#remoteWriteUrl = scenario.telemetry?.remoteWrite !== undefined ? scenario.telemetry.endpoint : undefined;
    this.#naming = naming;
    let credentials: Credentials | undefined;
    if (p !== undefined) {
      this.#api = new PrometheusApi({ url: p.url, auth: p.auth, timeoutMs: p.timeoutMs });
      credentials = new Credentials(p.auth);
      if (plan.telemetry && naming.length > 0) {
        this.#space = runReadbackSpace(plan, naming, p.maxSamplesPerQuery);
        const settleMs = scenario.reconcile.settleMs;
        const maxWaitMs = Math.max(settleMs, scenario.reconcile.maxWaitMs ?? 30_000);
        this.#visibility = new RunVisibilityTracker(
          naming.map((n) => n.layout.seriesCount),
          plan.telemetry.ticks,
          (tick) => plan.startEpochMs + tick * plan.telemetry!.exportIntervalMs,
          prometheusVisibilitySource(this.#api, this.#space),
          { settleMs, maxWaitMs, pollIntervalMs: p.pollIntervalMs },
        );
      }
    }
    const api = this.#api;
    this.#probe = new WaterfallProbe({
      collector: scenario.backends?.collector,
      prometheus: p === undefined || api === undefined || credentials === undefined ? undefined : { url: p.url, headers: () => credentials.headers(), redact: (t) => api.redact(t) },
      ...(scenario.backends?.tempo !== undefined && plan.traces ? { tempo: { url: scenario.backends.tempo.url } } : {}),
    });
  }

  /**
   * Before traffic: plan.json, Prometheus's build info (fails fast on a wrong URL or
   * credentials), first counter readings.
   * @throws CollectorError when Prometheus cannot be queried; ConfigError for unreadable credentials.
   */
  async start(scenarioPath: string, out: TextOut): Promise<void> {
    if (this.#plan.telemetry) await savePlan(this.#outDir, scenarioPath, this.#plan);
    const p = this.#scenario.backends?.prometheus;
    if (this.#api !== undefined && p !== undefined) {
      // Say what the run waits for: a Prometheus that hangs would otherwise look like a hung tally.
      out.write(`waiting for Prometheus at ${p.url} (build info: up to ${STARTUP_ATTEMPTS} attempts of ${formatDurationMs(p.timeoutMs)}; backends.prometheus.timeout)\n`);
      this.#version = (await this.#api.buildInfo({ maxRetries: STARTUP_ATTEMPTS - 1 })).data.version;
    }
    await this.#probe.before();
  }

  /** Give each shard its remote-write slice (no-op for OTLP). */
  attach(tasks: Omit<ShardTask, 'port'>[]): void {
    if (this.#remoteWriteUrl === undefined) return;
    const rw = remoteWriteShardTasks(this.#scenario, this.#plan, this.#naming, this.#remoteWriteUrl);
    tasks.forEach((task, shard) => {
      const part = rw[shard];
      if (part !== undefined) task.remoteWrite = part;
    });
  }

  /** Start polling visibility while the run goes. */
  startPolling(): void {
    this.#visibility?.start();
  }

  /** A settled request (also recorded in the ledger). */
  onOutcome(o: ExportOutcome): void {
    if (this.#remoteWriteUrl !== undefined) {
      this.#remoteWriteRequests++;
      if (o.rejection !== undefined) this.#rejections[o.rejection] = (this.#rejections[o.rejection] ?? 0) + 1;
    }
    if (this.#visibility === undefined) return;
    const sentAtMs = o.sentAtMs ?? this.#plan.startEpochMs + o.tick * (this.#plan.telemetry?.exportIntervalMs ?? 0);
    this.#visibility.markSent(o.metricIndex, o.tick, sentAtMs);
  }

  /**
   * After the load: visibility until the deadlines, read-back and reconciliation, the
   * waterfall, datapath metrics, Tempo; ledger.bin.
   * @param input.reconciliation the embedded receiver's reconciliation, when there was one.
   * @param input.stop the run's stop: visibility polls end at it (one poll when already stopped).
   * @throws CollectorError when Prometheus or Tempo cannot be read at all.
   */
  async finish(input: { ledger?: MetricsLedger; store?: ObservationStore; stop: AbortSignal; loadEndMs: number; reconciliation?: Reconciliation; spans?: SpanTotals }): Promise<ReadbackFinish> {
    const backends: BackendsResults = {};
    const { ledger, store } = input;
    if (ledger) await saveLedger(this.#outDir, ledger);
    let reconciliation = input.reconciliation;
    const p = this.#scenario.backends?.prometheus;
    if (this.#remoteWriteUrl !== undefined) backends.remoteWrite = { url: this.#remoteWriteUrl, requests: this.#remoteWriteRequests, rejections: { ...this.#rejections }, statuses: { ...(ledger?.totals.statuses ?? {}) } };
    if (p !== undefined && this.#api !== undefined && this.#space !== undefined && this.#visibility !== undefined && ledger && store) {
      const visibility = await this.#visibility.finish(ledger, input.stop);
      const startedMs = Date.now();
      const read = await readAndReconcile(this.#api, this.#space, ledger, store);
      reconciliation = read.reconciliation;
      backends.readback = {
        backend: 'prometheus',
        url: p.url,
        version: this.#version,
        transport: this.#remoteWriteUrl !== undefined ? 'prometheus/remote-write' : 'otlp',
        runLabel: { name: RUN_LABEL, value: this.#plan.runId },
        metricNames: this.#space.metrics.map((m) => m.name),
        seconds: (Date.now() - startedMs) / 1000,
        queriesTotal: this.#api.requests,
        report: read.report,
        visibility,
      };
    }
    const queryable = reconciliation === undefined ? undefined : reconciliation.pointsSent - reconciliation.pointsMissing;
    const spans = input.spans;
    if ((ledger || spans) && (this.#scenario.backends?.collector !== undefined || p !== undefined || this.#scenario.backends?.tempo !== undefined)) {
      const reading = await this.#probe.after(ledger?.totals, queryable, spans);
      if (reading.waterfalls.length > 0) backends.waterfalls = reading.waterfalls;
      if (reading.prometheusIngest) backends.prometheusIngest = reading.prometheusIngest;
    }
    if (p?.datapathMetrics && this.#api !== undefined) {
      const endMs = Math.max(input.loadEndMs, this.#plan.startEpochMs + 1000);
      backends.datapathMetrics = await readDatapathMetrics(prometheusInstantQuery(this.#api), this.#plan.startEpochMs / 1000, endMs / 1000);
    }
    const tempo = this.#scenario.backends?.tempo;
    if (tempo !== undefined && this.#plan.traces) {
      backends.tempo = await verifyRunTraces(tempo.url, this.#plan.traces.model, this.#plan.traces.traceCount, tempo.sampleSize, { startMs: this.#plan.startEpochMs, endMs: input.loadEndMs });
    }
    if (this.#probe.problems.length > 0) backends.problems = [...this.#probe.problems];
    return { ...(reconciliation ? { reconciliation } : {}), backends };
  }

  /** Stop polling and close connections (requests still in flight are dropped after a grace). */
  async close(): Promise<void> {
    await this.#visibility?.close();
    await this.#api?.close();
  }
}

/**
 * The read-back of a run, started: undefined when the run has neither metrics nor backends.
 * @throws ConfigError for a scenario whose metrics Prometheus cannot hold; CollectorError
 * when Prometheus cannot be reached (before anything is sent).
 */
export async function prepareRunReadback(scenario: Scenario, plan: Plan, options: PrepareReadbackOptions): Promise<RunReadback | undefined> {
  if (!plan.telemetry && scenario.backends === undefined) return undefined;
  if (scenario.telemetry?.remoteWrite !== undefined && scenario.telemetry.endpoint === undefined) {
    throw new ConfigError('remote write needs telemetry.endpoint', [{ pointer: '/telemetry/endpoint', message: 'the receiver URL is expected' }]);
  }
  const readback = new RunReadback(scenario, plan, options.outDir);
  try {
    await readback.start(options.scenarioPath, options.out);
  } catch (error) {
    await readback.close();
    throw error;
  }
  return readback;
}
