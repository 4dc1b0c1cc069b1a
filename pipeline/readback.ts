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
 *   the ledger; second readings and the waterfall; cluster datapath metrics; the trace
 *   backends (Tempo, Jaeger); save ledger.bin.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { ExportOutcome, ShardTask } from '../core/messages.ts';
import { ConfigError } from '../core/errors.ts';
import { POINT_ACKNOWLEDGED, type MetricsLedger } from '../ledger/ledger.ts';
import type { TextOut } from '../core/text-out.ts';
import { formatDurationMs } from '../core/units.ts';
import type { ObservationStore } from '../reconcile/observations.ts';
import type { Reconciliation } from '../reconcile/points.ts';
import { PrometheusApi } from '../readback/prometheus/api.ts';
import { Credentials } from '../readback/prometheus/api-auth.ts';
import { prometheusInstantQuery } from '../readback/prometheus/instant-query.ts';
import { readAndReconcile } from '../readback/prometheus/read-and-reconcile.ts';
import type { ReadbackStore } from '../readback/prometheus/store.ts';
import { deltaFate, type DeltaFate } from '../reconcile/delta-fate.ts';
import { readExemplars } from '../readback/prometheus/exemplars.ts';
import { joinExemplarTraces } from './exemplar-traces.ts';
import { parseTraceIdHex, runIdHexOf } from '../core/trace-model.ts';
import type { ExemplarResults } from '../reports/results-backends.ts';
import { countTargetInfoSamples } from '../readback/prometheus/read-samples.ts';
import { promqlString } from '../readback/prometheus/space.ts';
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
import { visibilitySample } from '../readback/prometheus/visibility-sample.ts';
import { WaterfallProbe, type SpanTotals } from './waterfall.ts';
import { hasTraceBackend, verifyTraceBackends } from './trace-backends.ts';

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

/** Bound of one visibility poll query's reply, in samples (chunks of this / ticks series). */
const VISIBILITY_CHUNK_SAMPLES = 20_000;

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
  /** Remote write: the largest send lag after a tick's time (ms), and requests later than one export interval. */
  #sendLagMaxMs = 0;
  #requestsSentLate = 0;

  constructor(scenario: Scenario, plan: Plan, outDir: string) {
    this.#scenario = scenario;
    this.#plan = plan;
    this.#outDir = outDir;
    const p = scenario.backends?.prometheus;
    const naming = plan.telemetry && (p !== undefined || scenario.telemetry?.remoteWrite !== undefined) ? runMetricNaming(plan, { translationStrategy: p?.translationStrategy, convertHistogramsToNhcb: p?.convertHistogramsToNhcb, resource: scenario.telemetry?.resource }) : [];
    this.#remoteWriteUrl = scenario.telemetry?.remoteWrite !== undefined ? scenario.telemetry.endpoint : undefined;
    this.#naming = naming;
    let credentials: Credentials | undefined;
    if (p !== undefined) {
      this.#api = new PrometheusApi({ url: p.url, auth: p.auth, timeoutMs: p.timeoutMs });
      credentials = new Credentials(p.auth);
      if (plan.telemetry && naming.length > 0) {
        this.#space = runReadbackSpace(plan, naming, p.maxSamplesPerQuery, { deltaIngestion: p.deltaIngestion });
        const settleMs = scenario.reconcile.settleMs;
        const maxWaitMs = Math.max(settleMs, scenario.reconcile.maxWaitMs ?? 30_000);
        // Polls read a sample of whole, small chunks: what the main thread parses per poll stays bounded at any cardinality.
        const sample = visibilitySample(runReadbackSpace(plan, naming, Math.min(p.maxSamplesPerQuery, VISIBILITY_CHUNK_SAMPLES), { deltaIngestion: p.deltaIngestion }), p.visibilitySeries);
        this.#visibility = new RunVisibilityTracker(
          sample.trackedCounts,
          plan.telemetry.ticks,
          (tick) => plan.startEpochMs + tick * plan.telemetry!.exportIntervalMs,
          prometheusVisibilitySource(this.#api, sample.space),
          { settleMs, maxWaitMs, pollIntervalMs: p.pollIntervalMs },
          sample,
        );
      }
    }
    const api = this.#api;
    this.#probe = new WaterfallProbe({
      collector: scenario.backends?.collector,
      prometheus: p === undefined || api === undefined || credentials === undefined ? undefined : { url: p.url, headers: () => credentials.headers(), redact: (t) => api.redact(t) },
      ...(scenario.backends?.tempo !== undefined && plan.traces ? { tempo: { url: scenario.backends.tempo.url } } : {}),
      ...(scenario.backends?.jaeger?.metricsUrl !== undefined && plan.traces ? { jaeger: { metricsUrl: scenario.backends.jaeger.metricsUrl } } : {}),
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

  /** Start polling visibility, and reading the waterfall's counters, while the run goes. */
  startPolling(): void {
    this.#visibility?.start();
    this.#probe.startPolling();
  }

  /** A settled request (also recorded in the ledger). */
  onOutcome(o: ExportOutcome): void {
    if (this.#remoteWriteUrl !== undefined) {
      this.#remoteWriteRequests++;
      if (o.rejection !== undefined) this.#rejections[o.rejection] = (this.#rejections[o.rejection] ?? 0) + 1;
      const intervalMs = this.#plan.telemetry?.exportIntervalMs ?? 0;
      if (o.sentAtMs !== undefined && o.finalState !== 'unsettled') {
        const lagMs = o.sentAtMs - (this.#plan.startEpochMs + o.tick * intervalMs);
        if (lagMs > this.#sendLagMaxMs) this.#sendLagMaxMs = lagMs;
        if (lagMs > intervalMs) this.#requestsSentLate++;
      }
    }
    if (this.#visibility === undefined) return;
    const sentAtMs = o.sentAtMs ?? this.#plan.startEpochMs + o.tick * (this.#plan.telemetry?.exportIntervalMs ?? 0);
    this.#visibility.markSent(o.metricIndex, o.tick, sentAtMs);
  }

  /**
   * After the load: visibility until the deadlines, read-back and reconciliation, the
   * waterfall, datapath metrics, the trace backends; ledger.bin.
   * @param input.reconciliation the embedded receiver's reconciliation, when there was one.
   * @param input.stop the run's stop: visibility polls end at it (one poll when already stopped).
   * @throws CollectorError when Prometheus or a trace backend cannot be read at all.
   */
  async finish(input: { ledger?: MetricsLedger; store?: ObservationStore; stop: AbortSignal; loadEndMs: number; reconciliation?: Reconciliation; spans?: SpanTotals }): Promise<ReadbackFinish> {
    const backends: BackendsResults = {};
    const { ledger, store } = input;
    // Without visibility polling (spans; points with no Prometheus read-back), the pipeline gets
    // `reconcile.settle` after the last export before the last counter reading and the trace reads.
    const unpolled = (input.spans !== undefined && input.spans.spansSent > 0) || (ledger !== undefined && this.#visibility === undefined && this.#scenario.backends?.collector !== undefined);
    const settleLeftMs = input.loadEndMs + this.#scenario.reconcile.settleMs - Date.now();
    // A stop ends the wait at once (signals are honoured in every phase).
    if (unpolled && settleLeftMs > 0 && !input.stop.aborted) await delay(settleLeftMs, undefined, { signal: input.stop }).catch(() => {});
    if (ledger) await saveLedger(this.#outDir, ledger);
    let reconciliation = input.reconciliation;
    let histogramPartSamples: number | undefined;
    const p = this.#scenario.backends?.prometheus;
    if (this.#remoteWriteUrl !== undefined) {
      backends.remoteWrite = {
        url: this.#remoteWriteUrl,
        requests: this.#remoteWriteRequests,
        rejections: { ...this.#rejections },
        statuses: { ...(ledger?.totals.statuses ?? {}) },
        sendLag: { maxMs: Math.round(this.#sendLagMaxMs), requestsLate: this.#requestsSentLate, lateAfterMs: this.#plan.telemetry?.exportIntervalMs ?? 0 },
      };
    }
    if (p !== undefined && this.#api !== undefined && this.#space !== undefined && this.#visibility !== undefined && ledger && store) {
      const visibility = await this.#visibility.finish(ledger, input.stop);
      const startedMs = Date.now();
      let read = await readAndReconcile(this.#api, this.#space, ledger, store);
      // Polls that tracked a sample may end before the untracked points are visible: a point is lost only
      // when it is still missing at the hard deadline, so a read that began before it and missed points is
      // taken again once it has passed (a run that loses nothing reads once).
      const deadlineMs = this.#visibility.hardDeadlineMs;
      if (this.#visibility.sampled && read.report.pointsMissing > 0 && startedMs < deadlineMs && !input.stop.aborted) {
        await delay(Math.max(0, deadlineMs - Date.now()), undefined, { signal: input.stop }).catch(() => {});
        if (!input.stop.aborted) {
          store.clear();
          read = await readAndReconcile(this.#api, this.#space, ledger, store);
        }
      }
      reconciliation = read.reconciliation;
      histogramPartSamples = read.extraPartSamples;
      backends.readback = {
        backend: 'prometheus',
        url: p.url,
        version: this.#version,
        transport: this.#remoteWriteUrl !== undefined ? 'prometheus/remote-write' : 'otlp',
        runLabel: { name: RUN_LABEL, value: this.#plan.runId },
        metricNames: this.#space.metrics.map((m) => m.name),
        pathLabels: read.pathLabels,
        ...this.#deltaFate(ledger, read.view),
        ...(await this.#exemplars(ledger, input.loadEndMs)),
        seconds: (Date.now() - startedMs) / 1000,
        queriesTotal: this.#api.requests,
        report: read.report,
        visibility,
      };
    }
    const queryable = reconciliation === undefined ? undefined : reconciliation.pointsSent - reconciliation.pointsMissing;
    const spans = input.spans;
    const b = this.#scenario.backends;
    if ((ledger || spans) && (b?.collector !== undefined || p !== undefined || b?.tempo !== undefined || b?.jaeger?.metricsUrl !== undefined)) {
      const reading = await this.#probe.after(ledger?.totals, queryable, spans, { targetInfoSamples: await this.#targetInfoSamples(), histogramPartSamples });
      if (reading.waterfalls.length > 0) backends.waterfalls = reading.waterfalls;
      if (reading.prometheusIngest) backends.prometheusIngest = reading.prometheusIngest;
    }
    if (p?.datapathMetrics && this.#api !== undefined) {
      const endMs = Math.max(input.loadEndMs, this.#plan.startEpochMs + 1000);
      backends.datapathMetrics = await readDatapathMetrics(prometheusInstantQuery(this.#api), this.#plan.startEpochMs / 1000, endMs / 1000);
    }
    if (hasTraceBackend(this.#scenario, this.#plan)) {
      const { tempo, jaeger } = await verifyTraceBackends(this.#scenario, this.#plan, { startMs: this.#plan.startEpochMs, endMs: input.loadEndMs });
      if (tempo) backends.tempo = tempo;
      if (jaeger) backends.jaeger = jaeger;
    }
    if (this.#probe.problems.length > 0) backends.problems = [...this.#probe.problems];
    return { ...(reconciliation ? { reconciliation } : {}), backends };
  }

  /** The run's exemplars read back and checked, when any metric carries them (needs Prometheus's exemplar storage). */
  async #exemplars(ledger: MetricsLedger, loadEndMs: number): Promise<{ exemplars?: ExemplarResults }> {
    const space = this.#space;
    const metrics = (this.#plan.telemetry?.metrics ?? []).map((m, spaceIndex) => ({ spaceIndex, model: m.model })).filter((m) => m.model.exemplarRatio > 0);
    if (this.#api === undefined || space === undefined || metrics.length === 0) return {};
    const runIdHex = runIdHexOf(this.#plan.runId);
    const read = await readExemplars(
      this.#api, space, metrics, `${RUN_LABEL}=${promqlString(this.#plan.runId)}`, runIdHex,
      (hex) => { const p = parseTraceIdHex(hex); return p !== null && p.runIdHex === runIdHex ? p.seq : null; },
      (m, s, k) => ledger.state(m, s, k) === POINT_ACKNOWLEDGED,
      { startMs: this.#plan.startEpochMs - (this.#plan.telemetry?.exportIntervalMs ?? 0), endMs: Math.max(loadEndMs, Date.now()) },
    );
    const { traceSequences, ...counts } = read;
    const traces = this.#plan.traces;
    const join = traces === undefined ? undefined : await joinExemplarTraces(this.#scenario, traces.model, traceSequences);
    return { exemplars: { ...counts, tracesNamed: traceSequences.length, ...(join === undefined ? {} : { traceBackend: join }) } };
  }

  /** The fate of the run's delta points, when it has delta metrics. */
  #deltaFate(ledger: MetricsLedger, view: ReadbackStore): { deltaFate?: DeltaFate } {
    const models = this.#plan.telemetry?.metrics.map((m) => m.model) ?? [];
    const fate = deltaFate(models, ledger, view, this.#scenario.backends?.prometheus?.deltaIngestion ?? 'converted');
    return fate === undefined ? {} : { deltaFate: fate };
  }

  /** The run's target_info samples in Prometheus (not data points), or undefined when there is no Prometheus to ask. */
  async #targetInfoSamples(): Promise<number | undefined> {
    if (this.#api === undefined) return undefined;
    const startMs = this.#plan.startEpochMs - (this.#plan.telemetry?.exportIntervalMs ?? 1000);
    try {
      return await countTargetInfoSamples(this.#api, `${RUN_LABEL}=${promqlString(this.#plan.runId)}`, startMs, Date.now());
    } catch {
      // Uncounted, the stored stage keeps them and the waterfall says so (an inconsistency), which is honest.
      return undefined;
    }
  }

  /** Stop polling and close connections (requests still in flight are dropped after a grace). */
  async close(): Promise<void> {
    this.#probe.close();
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
