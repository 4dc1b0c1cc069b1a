/**
 * The telemetry side of `tally run`, kept apart from run.ts: the metric and span ledgers
 * and observation stores, the embedded OTLP receiver (HTTP, gRPC when the protocol is
 * grpc, TLS when `embedded.receiver.tls`, the scenario's faults, traces placed span by
 * span), the OTLP endpoint the shards export to, and the reconciliations and summaries
 * that go into results.json.
 */
import type { ExportOutcome, TraceExportSettlement } from '../core/messages.ts';
import { startOtlpReceiver, type OtlpReceiver, type ReceiverTls } from '../embedded/otlp-receiver.ts';
import { finalStateOf, MetricsLedger } from '../ledger/ledger.ts';
import { RefusalTally } from '../ledger/refusals.ts';
import { ObservationStore } from '../reconcile/observations.ts';
import { reconcile, type Reconciliation } from '../reconcile/points.ts';
import { deltaOffsets } from '../reconcile/delta-offsets.ts';
import { SpanLedger, spanFinalStateOf } from '../ledger/span-ledger.ts';
import { observeTraceRequest, SpanObservationStore } from '../reconcile/span-observations.ts';
import { reconcileTraces } from '../reconcile/spans.ts';
import { exemplarTraceLinks } from '../reconcile/exemplar-links.ts';
import type { RunAggregator } from '../reports/aggregate.ts';
import type { TelemetryResultsInput } from '../reports/telemetry-results.ts';
import type { Endpoints, Plan } from '../scenarios/plan.ts';
import type { Scenario } from '../scenarios/types.ts';
import { readTlsFiles } from '../host/tls-files.ts';
import { ConfigError } from '../core/errors.ts';

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
  receiver: OtlpReceiver | undefined;
  #results: Pick<TelemetryResultsInput, 'metrics' | 'traces'> = {};

  constructor(scenario: Scenario, plan: Plan) {
    this.scenario = scenario;
    this.plan = plan;
    const t = plan.telemetry;
    if (t && t.metrics.length > 0) {
      const seriesCounts = t.metrics.map((m) => m.layout.seriesCount);
      this.ledger = new MetricsLedger(seriesCounts, t.ticks);
      this.store = new ObservationStore(seriesCounts, t.ticks);
    }
    if (plan.traces) {
      this.spanLedger = new SpanLedger(plan.traces.model, plan.traces.traceCount);
      this.spanStore = new SpanObservationStore(plan.traces.model, plan.traces.traceCount);
      if (this.store && t?.metrics.some((m) => m.model.exemplarTraces !== undefined)) {
        this.store.trackExemplarTraces(plan.traces.model.runIdHex, plan.traces.traceCount, plan.traces.model.shardCount);
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
   * @throws ConfigError `TALLY_CONFIG_INVALID` for unreadable TLS files (exit 2).
   * @throws CollectorError when the receiver cannot listen.
   */
  async start(endpoints: Endpoints): Promise<void> {
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
    const spanStore = this.spanStore;
    const faults = this.scenario.embedded.receiver.faults;
    this.receiver = await startOtlpReceiver({
      space: {
        runId: plan.runId,
        seed: plan.seed,
        startUnixNano: BigInt(plan.startUnixNano),
        exportIntervalNs: BigInt(Math.round((plan.telemetry?.exportIntervalMs ?? 1000) * 1e6)),
        ticks: plan.telemetry?.ticks ?? 0,
        metrics: plan.telemetry?.metrics ?? [],
      },
      store: this.store ?? new ObservationStore([], 0),
      faults,
      grpc: t.protocol === 'grpc',
      tls: receiverTls(this.scenario),
      onTraces:
        traces && spanStore
          ? (request) => {
              const { rejectedSpans } = observeTraceRequest(request, { model: traces.model, traceCount: traces.traceCount, faults: { rejectSpanRatio: faults.rejectSpanRatio ?? 0 } }, spanStore);
              return rejectedSpans > 0 ? { rejectedSpans, errorMessage: `tally fault injection: rejected ${rejectedSpans} spans` } : undefined;
            }
          : undefined,
    });
    endpoints.otlpEndpoint = t.protocol === 'grpc' ? this.receiver.grpcUrl : this.receiver.url;
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

  /** Reconcile what the embedded receiver saw against the ledgers (nothing to read back from an external endpoint). */
  reconcile(): void {
    if (!this.receiver) return;
    if (this.ledger && this.store && this.plan.telemetry) {
      const metrics = this.#results.metrics ?? this.#metricsBase();
      metrics.reconciliation = reconcile(this.ledger, this.store);
      metrics.deltaOffsets = deltaOffsets(this.plan.telemetry.metrics.map((m) => m.model), this.store, this.plan.telemetry.ticks);
      this.#results.metrics = metrics;
    }
    if (this.spanLedger && this.spanStore) {
      this.#results.traces = { ...(this.#results.traces ?? this.#tracesBase()), reconciliation: reconcileTraces(this.spanLedger, this.spanStore) };
      if (this.#results.metrics && this.store && this.plan.traces && this.plan.telemetry?.metrics.some((m) => m.model.exemplarTraces !== undefined)) {
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
    await this.receiver?.close();
  }

  #metricsBase(): NonNullable<TelemetryResultsInput['metrics']> {
    return { pointsPlanned: this.plan.telemetry?.pointsPlanned ?? 0, ledger: this.ledger!.totals };
  }

  #tracesBase(): NonNullable<TelemetryResultsInput['traces']> {
    return { tracesPlanned: this.plan.traces?.traceCount ?? 0, ledger: this.spanLedger!.totals };
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
