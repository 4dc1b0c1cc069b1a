/**
 * The measurement output's thread entry (started by pipeline/measurement-output.ts with
 * `new Worker`): one {@link MeasurementSink} per configured output, fed by the snapshots the
 * main thread posts. Encoding (native histograms, protobuf, snappy), HTTP and retries all
 * happen here, so a slow or failing endpoint never holds the main thread (which merges the
 * intervals and may serve the embedded target) or the load's worker threads.
 *
 * Messages: core/measurement-output.ts `MeasurementThreadCommand` in,
 * `MeasurementThreadReport` out (one `finished` with every output's stats after `finish`).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { asTallyError } from '../core/errors.ts';
import type { MeasurementThreadCommand, MeasurementThreadData, MeasurementThreadReport } from '../core/measurement-output.ts';
import { MeasurementSink } from './measurement-sink.ts';

const data = workerData as MeasurementThreadData;
const sinks = data.outputs.map((o) => new MeasurementSink(o, data.identity));
const port = parentPort!;

port.on('message', (command: MeasurementThreadCommand) => {
  if (command.type === 'snapshot') {
    for (const sink of sinks) sink.enqueue(command.snapshot);
    return;
  }
  Promise.all(sinks.map((s) => s.finish())).then(
    (stats) => port.postMessage({ type: 'finished', stats } satisfies MeasurementThreadReport),
    (error: unknown) => {
      const e = asTallyError(error);
      port.postMessage({ type: 'failed', error: { code: e.code, message: e.message } } satisfies MeasurementThreadReport);
    },
  );
});
