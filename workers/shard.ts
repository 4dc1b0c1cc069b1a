/**
 * piscina worker entry: one task is one shard's whole run (a long loop), never one
 * request. The shard reports every `reportIntervalMs` over the MessagePort it was given
 * and stops early when the main thread posts `{ type: 'stop' }`.
 *
 * @see https://github.com/piscinajs/piscina#method-runtask-options
 */
import { createServer, type AddressInfo } from 'node:net';
import { createLoadClient } from './load-client.ts';
import { arrivalClock } from './arrival-clock.ts';
import { raiseThreadPriority } from './thread-priority.ts';
import { loopDelayUs, startLoopDelay } from './loop-delay.ts';
import { asTallyError } from '../core/errors.ts';
import { initHistograms } from '../core/histogram.ts';
import type { IntervalMessage, ShardTask, StopMessage, WorkerMessage } from '../core/messages.ts';
import { epochNowMs, LoadShard } from './load-shard.ts';
import { TelemetryShard } from './otlp-metrics.ts';
import { TraceShard } from './otlp-traces.ts';
import { RemoteWriteShard } from './remote-write-shard.ts';

/** A warm-up task: loads this module (and its imports) and the WebAssembly histograms in the thread, then returns. */
export interface WarmupTask {
  warmup: true;
  /** How long to hold the thread, so that concurrent warm-ups land on different threads (ms). */
  holdMs: number;
}

/** Iterations run against a throwaway in-thread server, so the first burst is not run by cold code. */
const WARMUP_ITERATIONS = 300;

/**
 * Warm the churn hot path (the client, node:net, the HTTP parsing) in this thread before
 * the clock starts: a cold first second otherwise shows as a slow first burst and late starts.
 */
async function warmChurnPath(): Promise<void> {
  const server = createServer((socket) => {
    socket.once('data', () => socket.end('HTTP/1.1 204 No Content\r\n\r\n'));
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const client = createLoadClient({
    protocol: 'http1',
    host: '127.0.0.1',
    port,
    request: Buffer.from(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`, 'latin1'),
    isHead: false,
    reuse: 'never',
    close: 'rst', // no TIME_WAIT left behind
    requestsPerIteration: 1,
    connectTimeoutMs: 1000,
    requestTimeoutMs: 1000,
  });
  let left = WARMUP_ITERATIONS;
  await new Promise<void>((resolve) => {
    const lane = (): void => {
      if (left <= 0) return resolve();
      left--;
      client.iterate(() => {}, lane);
    };
    for (let i = 0; i < 10; i++) lane();
  });
  await client.close();
  await new Promise((r) => server.close(r));
}

/**
 * Run one shard to completion (or warm the thread up). Resolves with the number of
 * intervals reported.
 */
export default async function runShard(task: ShardTask | WarmupTask): Promise<number> {
  if ('warmup' in task) {
    initHistograms();
    raiseThreadPriority();
    // The arrival clock's thread starts here too, so the first arrivals are woken on time.
    await Promise.all([warmChurnPath(), arrivalClock().ready, new Promise((r) => setTimeout(r, task.holdMs))]);
    return 0;
  }
  const port = task.port;
  const post = (m: WorkerMessage): void => port.postMessage(m);
  initHistograms();
  const delay = startLoopDelay();
  // A sharded run's thread takes its own lane of arrivals; the resource and trace ids name the process shard.
  const load = task.load ? new LoadShard(task.load, task.load.lane?.first ?? task.shard, task.load.lane?.stride ?? task.shardCount, task.startEpochMs, task.durationMs) : undefined;
  const telemetry = task.telemetry
    ? new TelemetryShard(task.telemetry, { runId: task.runId, shard: task.telemetry.resourceShard ?? task.shard, seed: task.seed, startUnixNano: task.startUnixNano }, task.startEpochMs)
    : undefined;
  const traces = task.traces ? new TraceShard(task.traces, task.traces.idShard ?? task.shard, task.startEpochMs) : undefined;
  // Remote write (telemetry.protocol: prometheus/remote-write) replaces the OTLP metrics exporter.
  const remoteWrite = task.remoteWrite ? new RemoteWriteShard(task.remoteWrite, task.startEpochMs) : undefined;
  let interval = 0;
  // CPU of this thread alone (Node ≥ 23.9): tells a busy generator thread from a busy process.
  let cpuMark = process.threadCpuUsage();
  const report = (): void => {
    const cpu = process.threadCpuUsage(cpuMark);
    cpuMark = process.threadCpuUsage();
    const msg: IntervalMessage = {
      type: 'interval',
      shard: task.shard,
      interval,
      exports: remoteWrite?.takeOutcomes() ?? telemetry?.takeOutcomes() ?? [],
      traceExports: traces?.takeOutcomes() ?? [],
      eventLoopDelayP99Us: loopDelayUs(delay, 99),
      cpuUs: cpu.user + cpu.system,
    };
    if (load) msg.load = load.takeInterval();
    const metricsExporter = telemetry?.takeInterval();
    const tracesExporter = traces?.takeExporterInterval();
    if (metricsExporter !== undefined || tracesExporter !== undefined) {
      msg.exporters = {};
      if (metricsExporter !== undefined) msg.exporters.metrics = metricsExporter;
      if (tracesExporter !== undefined) msg.exporters.traces = tracesExporter;
    }
    delay.reset();
    post(msg);
    interval++;
  };
  let reportTimer: NodeJS.Timeout | undefined;
  const scheduleReport = (): void => {
    const dueMs = task.startEpochMs + (interval + 1) * task.reportIntervalMs;
    reportTimer = setTimeout(() => {
      report();
      scheduleReport();
    }, Math.max(0, dueMs - epochNowMs()));
  };
  const onStop = (m: StopMessage): void => {
    if (m?.type !== 'stop') return;
    load?.stop();
    telemetry?.stop();
    traces?.stop();
    remoteWrite?.stop();
  };
  port.on('message', onStop);
  try {
    scheduleReport();
    await Promise.all([load?.run(), telemetry?.run(), traces?.run(), remoteWrite?.run()]);
    clearTimeout(reportTimer);
    report(); // the final, possibly partial, interval
    post({ type: 'done', shard: task.shard });
    return interval;
  } catch (err) {
    clearTimeout(reportTimer);
    const e = asTallyError(err, `shard ${task.shard} failed`);
    post({ type: 'failed', shard: task.shard, error: e.toJSON() });
    throw e;
  } finally {
    port.off('message', onStop);
    delay.disable();
    load?.destroy();
    telemetry?.destroy();
    traces?.destroy();
    port.close();
  }
}
