/**
 * The exact bytes one export of a planned run takes, counted on a thread of its own by the
 * encoders that send them (workers/export-bytes.ts, started as a thread entry point: the
 * pipeline does not import workers/): the shard tasks the run would get are built as
 * `tally run` builds them, with a placeholder endpoint (nothing is sent anywhere).
 */
import { Worker } from 'node:worker_threads';
import { InternalError, reviveError, type SerializedTallyError } from '../core/errors.ts';
import type { ExportBytesResult, ExportBytesTask } from '../core/export-bytes-messages.ts';
import { remoteWriteShardTasks, shardTasks, type Plan } from '../scenarios/plan.ts';
import { runMetricNaming } from '../scenarios/prometheus-naming.ts';
import type { Scenario } from '../scenarios/types.ts';

/** Where the counted shards pretend to send (never contacted). */
const NOWHERE = 'http://127.0.0.1:9';

/** The byte counter's task for a plan: its OTLP shards, and the remote-write shards of the metrics remote write carries. */
export function exportBytesTask(scenario: Scenario, plan: Plan): ExportBytesTask {
  const t = scenario.telemetry;
  const task: ExportBytesTask = { runId: plan.runId, seed: plan.seed, startUnixNano: plan.startUnixNano, startEpochMs: plan.startEpochMs };
  if (t === undefined || plan.telemetry === undefined || plan.telemetry.metrics.length === 0) return task;
  const otlpScenario: Scenario = { ...scenario, telemetry: { ...t, endpoint: NOWHERE }, load: undefined };
  const shards = shardTasks(otlpScenario, { ...plan, traces: undefined }, { otlpEndpoint: NOWHERE }, 1000).map((s) => s.telemetry);
  task.otlp = { protocol: t.protocol, compression: t.compression, shards };
  try {
    const p = scenario.backends?.prometheus;
    const naming = runMetricNaming(plan, { translationStrategy: p?.translationStrategy, convertHistogramsToNhcb: p?.convertHistogramsToNhcb, resource: t.resource });
    task.remoteWrite = remoteWriteShardTasks({ ...scenario, telemetry: { ...t, remoteWrite: undefined } }, plan, naming, `${NOWHERE}/api/v1/write`);
  } catch {
    // A metric Prometheus cannot name (or a churning one) leaves remote write out of the count.
  }
  return task;
}

/**
 * Count the bytes of one export of a plan, on a worker thread.
 * @throws InternalError `TALLY_INTERNAL` when the counter's thread fails; its own TallyErrors as they were.
 */
export async function measureExportBytes(scenario: Scenario, plan: Plan): Promise<ExportBytesResult> {
  const task = exportBytesTask(scenario, plan);
  const worker = new Worker(new URL('../workers/export-bytes.ts', import.meta.url), { workerData: task });
  try {
    const reply = await new Promise<ExportBytesResult | { error: SerializedTallyError }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new InternalError(`the byte counter's thread exited (${code}) without an answer`)));
    });
    if ('error' in reply) throw reviveError(reply.error);
    return reply;
  } finally {
    await worker.terminate();
  }
}
