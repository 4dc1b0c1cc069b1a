/**
 * The telemetry side of `tally run`, kept apart from run.ts: the metric and span ledgers
 * and observation stores, the embedded OTLP receiver (HTTP, gRPC when the protocol is
 * grpc, TLS when `embedded.receiver.tls`, the scenario's faults, traces placed span by
 * span), the OTLP endpoint the shards export to, and the reconciliations and summaries
 * that go into results.json.
 *
 * The embedded receiver runs on a thread of its own (pipeline/stand-in-threads.ts): it
 * decodes every body it is sent, hostile ones included, and must not stall the main
 * thread. It fills the observation stores' counts in shared memory; its totals come back
 * when it finishes, before the reconciliation.
 */
import type { ExportOutcome, TraceExportSettlement } from '../core/messages.ts';
import type { ReceiverStats, ReceiverTls } from '../embedded/otlp-receiver.ts';
import type { ReceiverThreadOptions } from '../embedded/stand-in-messages.ts';
import { finalStateOf, MetricsLedger } from '../ledger/ledger.ts';
import { RefusalTally } from '../ledger/refusals.ts';
import { ObservationStore, sharedPointCounts } from '../reconcile/observations.ts';
import { reconcileSteps, type Reconciliation } from '../reconcile/points.ts';
import { deltaOffsets } from '../reconcile/delta-offsets.ts';
import { SpanLedger, spanFinalStateOf } from '../ledger/span-ledger.ts';
import { SpanObservationStore } from '../reconcile/span-observations.ts';
import { reconcileTraces } from '../reconcile/spans.ts';
import { exemplarTraceLinks } from '../reconcile/exemplar-links.ts';
import type { RunAggregator } from '../reports/aggregate.ts';
import type { TelemetryResultsInput } from '../reports/telemetry-results.ts';
import { seriesSlice, type Endpoints, type Plan } from '../scenarios/plan.ts';
import type { Scenario } from '../scenarios/types.ts';
import { readTlsFiles } from '../host/tls-files.ts';
import { CollectorError, ConfigError, type TallyError } from '../core/errors.ts';
import { StandInThread } from './stand-in-threads.ts';
import { stepUnlessStopped, type StopControl } from './stop.ts';

/** The embedded receiver as the run sees it: its counters as of its latest report. */
export interface RunReceiver {
  stats(): ReceiverStats;
}

const NO_STATS: ReceiverStats = {
  requests: 0, grpcRequests: 0, requestsCompressed: 0, requestsFailedByFault: 0, requestsThrottledByFault: 0, requestsThrottledByLimit: 0, pointsThrottledByLimit: 0, requestsDroppedByFault: 0,
  pointsRejectedByFault: 0, pointsDroppedByFault: 0, requestsRefusedDelta: 0, requestsRefused: 0, traceRequests: 0, spansReceived: 0,
  spansRejected: 0, bytesReceived: 0,
};

/** The run's telemetry bookkeeping; build with {@link RunTelemetry.create}. */
export class RunTelemetry {
  readonly scenario: Scenario;
  readonly plan: Plan;
  readonly ledger: MetricsLedger | undefined;
  readonly store: ObservationStore | undefined;
  readonly spanLedger: SpanLedger | undefined;
  readonly spanStore: SpanObservationStore | undefined;
  /** Why export requests were refused, by signal (status and the receiver's message). */
  readonly refusals = { metrics: new RefusalTally(), traces: new RefusalTally() };
  receiver: RunReceiver | undefined;
  #receiverThread: StandInThread | undefined;
  #results: Pick<TelemetryResultsInput, 'metrics' | 'traces'> = {};

  constructor(scenario: Scenario, plan: Plan) {
    this.scenario = scenario;
    this.plan = plan;
    const t = plan.telemetry;
    if (t && t.metrics.length > 0) {
      const seriesCounts = t.metrics.map((m) => m.layout.seriesCount);
      this.ledger = new MetricsLedger(seriesCounts, t.ticks);
      // Shared memory: the embedded receiver's thread fills the counts the reconciler reads here.
      this.store = new ObservationStore(seriesCounts, t.ticks, sharedPointCounts(seriesCounts, t.ticks));
    }
    if (plan.traces) {
      const { model, traceCount } = plan.traces;
      this.spanLedger = new SpanLedger(model, traceCount);
      this.spanStore = new SpanObservationStore(model, traceCount, new Uint8Array(new SharedArrayBuffer(traceCount * model.spansMax)));
      // A shard's receiver sees only its own spans, while its exemplars may name any shard's traces: the join needs one receiver.
      if (this.store && plan.shard === undefined && t?.metrics.some((m) => m.model.exemplarTraces !== undefined)) {
        this.store.trackExemplarTraces(model.runIdHex, traceCount, model.shardCount, new Uint8Array(new SharedArrayBuffer(traceCount)));
      }
    }
  }

  /** True when the run sends any telemetry. */
  get active(): boolean {
    return this.ledger !== undefined || this.spanLedger !== undefined;
  }

  /**
   * Start the embedded receiver when the scenario names no endpoint, and set
   * `endpoints.otlpEndpoint`. Reads the TLS files first, so a bad path fails before any
   * traffic.
   * @param onFailure told when the receiver's thread fails after it started.
   * @throws ConfigError `TALLY_CONFIG_INVALID` for unreadable TLS files (exit 2).
   * @throws CollectorError when the receiver cannot listen.
   */
  async start(endpoints: Endpoints, onFailure?: (error: TallyError) => void): Promise<void> {
    const t = this.scenario.telemetry;
    if (!t || !this.active) return;
    // Remote write ships to telemetry.endpoint from its own shards (run-readback.ts).
    if (t.remoteWrite) return;
    readTlsFiles(t.tls);
    if (t.endpoint !== undefined) {
      endpoints.otlpEndpoint = t.endpoint;
      return;
    }
    const plan = this.plan;
    const traces = plan.traces;
    const store = this.store ?? new ObservationStore([], 0);
    const exemplarMarks = store.exemplarTraceMarks;
    const options: ReceiverThreadOptions = {
      space: {
        runId: plan.runId,
        seed: plan.seed,
        startUnixNano: BigInt(plan.startUnixNano),
        exportIntervalNs: BigInt(Math.round((plan.telemetry?.exportIntervalMs ?? 1000) * 1e6)),
        ticks: plan.telemetry?.ticks ?? 0,
        metrics: plan.telemetry?.metrics ?? [],
      },
      pointCounts: [...store.pointCounts],
      faults: this.scenario.embedded.receiver.faults,
      grpc: t.protocol === 'grpc',
      ...(this.scenario.embedded.receiver.limits === undefined ? {} : { limits: this.scenario.embedded.receiver.limits }),
      tls: receiverTls(this.scenario),
    };
    if (traces && exemplarMarks !== undefined) options.exemplars = { runIdHex: traces.model.runIdHex, traceCount: traces.traceCount, shardCount: traces.model.shardCount, marks: exemplarMarks };
    if (traces && this.spanStore) {
      options.traces = { model: traces.model, traceCount: traces.traceCount, rejectSpanRatio: this.scenario.embedded.receiver.faults.rejectSpanRatio ?? 0, spanCounts: this.spanStore.spanCounts };
    }
    const thread = await StandInThread.start({ kind: 'receiver', receiver: options }, onFailure);
    this.#receiverThread = thread;
    this.receiver = { stats: () => thread.latest?.receiver ?? NO_STATS };
    endpoints.otlpEndpoint = t.protocol === 'grpc' ? thread.ready.grpcUrl : thread.ready.url;
  }

  /** Record one settled metrics export. */
  onExport = (o: ExportOutcome): void => {
    this.ledger?.record(o);
    this.refusals.metrics.record({ finalState: finalStateOf(o), status: o.status, grpcCode: o.grpcCode, message: o.answerMessage ?? o.message, items: o.dataPoints });
  };

  /** Record one settled trace export. */
  onTraceExport = (o: TraceExportSettlement): void => {
    this.spanLedger?.record(o);
    this.refusals.traces.record({ finalState: spanFinalStateOf(o), status: o.status, grpcCode: o.grpcCode, message: o.answerMessage ?? o.message, items: o.spans });
  };

  /**
   * Finish the embedded receiver (it stops listening and hands over its totals), then
   * reconcile what it saw against the ledgers (nothing to read back from an external endpoint).
   * The point reconciliation runs in steps, yielding to the event loop between them (a run
   * with a billion points takes seconds): a stop gives it `graceMs` more, then it is given
   * up and results.json has no reconciliation.
   * @throws CollectorError when the receiver's thread did not hand over its observations.
   */
  async reconcile(stop: StopControl, graceMs: number): Promise<void> {
    if (!this.receiver || !this.#receiverThread) return;
    const last = await this.#receiverThread.finish();
    if (last === undefined) throw this.#receiverThread.failure ?? new CollectorError('the embedded receiver did not hand over its observations');
    if (last.totals) this.store?.adoptTotals(last.totals);
    if (last.spanTotals) this.spanStore?.adoptTotals(last.spanTotals);
    if (this.ledger && this.store && this.plan.telemetry) {
      const metrics = this.#results.metrics ?? this.#metricsBase();
      const reconciliation = await stepUnlessStopped(reconcileSteps(this.ledger, this.store), stop, graceMs);
      if (reconciliation === undefined) return;
      metrics.reconciliation = reconciliation;
      const shard = this.plan.shard;
      const owned = shard?.index === undefined ? undefined : (m: number) => seriesSlice(this.plan.telemetry!.metrics[m].layout.seriesCount, shard.index!, shard.count);
      metrics.deltaOffsets = deltaOffsets(this.plan.telemetry.metrics.map((m) => m.model), this.store, this.plan.telemetry.ticks, owned);
      this.#results.metrics = metrics;
    }
    if (this.spanLedger && this.spanStore) {
      this.#results.traces = { ...(this.#results.traces ?? this.#tracesBase()), reconciliation: reconcileTraces(this.spanLedger, this.spanStore) };
      if (this.#results.metrics && this.store?.exemplarTraceMarks !== undefined && this.plan.traces && this.plan.telemetry?.metrics.some((m) => m.model.exemplarTraces !== undefined)) {
        this.#results.metrics.exemplarTraces = exemplarTraceLinks(this.store, this.spanStore, this.plan.traces.model);
      }
    }
  }

  /**
   * Take the metrics reconciliation made elsewhere (the Prometheus read-back of a
   * remote-write or OTLP run) as this run's.
   */
  setMetricsReconciliation(reconciliation: Reconciliation): void {
    if (!this.ledger || !this.store || !this.plan.telemetry) return;
    const metrics = this.#results.metrics ?? this.#metricsBase();
    metrics.reconciliation = reconciliation;
    this.#results.metrics = metrics;
  }

  /** The telemetry input of results.json, as of now. */
  resultsInput(aggregator: RunAggregator): TelemetryResultsInput | undefined {
    if (!this.active) return undefined;
    const t = this.scenario.telemetry;
    const input: TelemetryResultsInput = { protocol: t?.remoteWrite ? 'prometheus/remote-write' : t?.protocol, compression: t?.compression };
    if (this.ledger) {
      input.metrics = { ...(this.#results.metrics ?? this.#metricsBase()), exportLatencyUs: aggregator.exportLatency(), refusals: this.refusals.metrics.summary() };
      const exporter = aggregator.exporters.totals('metrics');
      if (exporter) input.metrics.exporter = exporter;
    }
    if (this.spanLedger) {
      input.traces = { ...(this.#results.traces ?? this.#tracesBase()), refusals: this.refusals.traces.summary() };
      const exporter = aggregator.exporters.totals('traces');
      if (exporter) input.traces.exporter = exporter;
    }
    if (this.receiver) input.requestsRefusedDelta = this.receiver.stats().requestsRefusedDelta;
    return input;
  }

  async close(): Promise<void> {
    await this.#receiverThread?.close();
  }

  #metricsBase(): NonNullable<TelemetryResultsInput['metrics']> {
    return { pointsPlanned: this.plan.telemetry?.pointsPlanned ?? 0, ledger: this.ledger!.totals };
  }

  #tracesBase(): NonNullable<TelemetryResultsInput['traces']> {
    return { tracesPlanned: this.plan.traces?.tracesPlanned ?? 0, ledger: this.spanLedger!.totals };
  }
}

/**
 * The embedded receiver's TLS from `embedded.receiver.tls` (PEM files).
 * @throws ConfigError `TALLY_CONFIG_INVALID` naming the unreadable file.
 */
function receiverTls(scenario: Scenario): ReceiverTls | undefined {
  const tls = scenario.embedded.receiver.tls;
  if (tls === undefined) return undefined;
  const files = readTlsFiles(tls, '/embedded/receiver/tls');
  const out: ReceiverTls = { cert: files.cert!, key: files.key!, requireClientCert: tls.requireClientCert };
  if (files.ca !== undefined) out.ca = files.ca;
  return out;
}
