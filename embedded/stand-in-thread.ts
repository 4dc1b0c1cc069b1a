/**
 * Worker-thread entry of an embedded stand-in (the HTTP target, the echo target or the OTLP
 * receiver), so that it runs on a thread of its own: hostile traffic at the receiver (it
 * decodes every body) cannot stall the target or tally's bookkeeping on the main thread,
 * and the target closes its side of each connection as soon as the client does.
 *
 * Started with `workerData: { request: StandInRequest, sync: Int32Array }`; answers with
 * stand-in-messages.ts's messages: `ready` once listening, a `report` every
 * {@link REPORT_EVERY_MS} and when asked, and `finished` after a `finish` command: it has
 * stopped listening, dropped its connections, and (the receiver) stored 1 in `sync[0]`
 * after its last write to the shared observation counts.
 *
 * @see https://nodejs.org/api/worker_threads.html
 */
import { parentPort, workerData } from 'node:worker_threads';
import { asTallyError } from '../core/errors.ts';
import { ObservationStore } from '../reconcile/observations.ts';
import { observeTraceRequest, SpanObservationStore } from '../reconcile/span-observations.ts';
import { startEmbeddedEcho } from './echo.ts';
import { startOtlpReceiver, type OtlpReceiver } from './otlp-receiver.ts';
import type { ReceiverThreadOptions, ServedCounts, StandInCommand, StandInMessage, StandInRequest } from './stand-in-messages.ts';
import { startEmbeddedTarget } from './target.ts';
import { targetDelays } from './target-latency.ts';

/** How often the stand-in reports its counters unasked (ms). */
export const REPORT_EVERY_MS = 200;

interface Running {
  ready: Extract<StandInMessage, { type: 'ready' }>;
  report(): Extract<StandInMessage, { type: 'report' }>;
  /** Stop listening and drop connections; then the last words. */
  finish(): Promise<Extract<StandInMessage, { type: 'finished' }>>;
}

async function startReceiver(o: ReceiverThreadOptions, sync: Int32Array): Promise<Running> {
  const store = new ObservationStore(o.space.metrics.map((m) => m.layout.seriesCount), o.space.ticks, o.pointCounts);
  if (o.exemplars !== undefined) store.trackExemplarTraces(o.exemplars.runIdHex, o.exemplars.traceCount, o.exemplars.shardCount, o.exemplars.marks);
  const traces = o.traces;
  const spanStore = traces === undefined ? undefined : new SpanObservationStore(traces.model, traces.traceCount, traces.spanCounts);
  const receiver: OtlpReceiver = await startOtlpReceiver({
    space: o.space,
    store,
    faults: o.faults,
    ...(o.limits === undefined ? {} : { limits: o.limits }),
    grpc: o.grpc,
    tls: o.tls,
    onTraces:
      traces !== undefined && spanStore !== undefined
        ? (request) => {
            const { rejectedSpans } = observeTraceRequest(request, { model: traces.model, traceCount: traces.traceCount, faults: { rejectSpanRatio: traces.rejectSpanRatio } }, spanStore);
            return rejectedSpans > 0 ? { rejectedSpans, errorMessage: `tally fault injection: rejected ${rejectedSpans} spans` } : undefined;
          }
        : undefined,
  });
  const url = new URL(receiver.url);
  return {
    ready: { type: 'ready', host: url.hostname, port: Number(url.port), url: receiver.url, ...(receiver.grpcUrl !== undefined ? { grpcUrl: receiver.grpcUrl } : {}) },
    report: () => ({ type: 'report', receiver: receiver.stats() }),
    finish: async () => {
      await receiver.close();
      // Every write to the shared counts happened before this store; the main thread loads it first.
      Atomics.store(sync, 0, 1);
      return { type: 'finished', receiver: receiver.stats(), totals: store.totals(), ...(spanStore !== undefined ? { spanTotals: spanStore.totals() } : {}) };
    },
  };
}

async function startLoadTarget(request: Extract<StandInRequest, { kind: 'target' | 'echo' }>): Promise<Running> {
  const target = request.kind === 'echo'
    ? await startEmbeddedEcho({ requestBytes: request.requestBytes, responseBytes: request.responseBytes })
    : await startEmbeddedTarget({
      responseBytes: request.responseBytes,
      ...(request.latency === undefined ? {} : { delayMs: targetDelays(request.seed ?? 0, request.latency) }),
      ...(request.capacity === undefined ? {} : { capacity: request.capacity }),
    });
  const served = (): ServedCounts => ({ requestsServed: target.requestsServed(), connectionsAccepted: target.connectionsAccepted() });
  return {
    ready: { type: 'ready', host: target.host, port: target.port },
    report: () => ({ type: 'report', served: served() }),
    finish: async () => {
      await target.close();
      return { type: 'finished', served: served() };
    },
  };
}

async function main(port: NonNullable<typeof parentPort>): Promise<void> {
  const { request, sync } = workerData as { request: StandInRequest; sync: Int32Array };
  const post = (m: StandInMessage): void => port.postMessage(m);
  let running: Running;
  try {
    running = request.kind === 'receiver' ? await startReceiver(request.receiver, sync) : await startLoadTarget(request);
  } catch (error) {
    post({ type: 'failed', error: asTallyError(error, `embedded ${request.kind}`).toJSON() });
    return;
  }
  post(running.ready);
  const timer = setInterval(() => post(running.report()), REPORT_EVERY_MS);
  let finishing = false;
  port.on('message', (command: StandInCommand) => {
    if (command.type === 'report' && !finishing) post(running.report());
    if (command.type === 'finish' && !finishing) {
      finishing = true;
      clearInterval(timer);
      running.finish().then(
        (last) => {
          post(last);
          port.close();
        },
        (error: unknown) => post({ type: 'failed', error: asTallyError(error, `embedded ${request.kind}`).toJSON() }),
      );
    }
  });
}

if (parentPort !== null) void main(parentPort);
