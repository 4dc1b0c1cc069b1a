/**
 * Run the shard tasks on the pool and route what they report: one MessageChannel per
 * shard, interval reports and the shard's end to the caller's router. A stop is posted to
 * every shard at once.
 *
 * The task's result and the port's messages travel separately: the shard's last report may
 * arrive after the task resolves, so the port stays open until the shard says `done` (or
 * `failed`). A worker that dies without a word (crash, OOM) still ends its shard after a
 * grace period.
 */
import { MessageChannel } from 'node:worker_threads';
import type { Piscina } from 'piscina';
import { reviveError, type TallyError } from '../core/errors.ts';
import type { IntervalMessage, ShardTask, WorkerMessage } from '../core/messages.ts';
import { raceStop, type StopControl } from './stop.ts';

/** Grace for the last report of a shard whose task already settled (ms). */
const LAST_REPORT_GRACE_MS = 2000;
/**
 * After a stop, how long the shards may take to end (ms): their exporters get 1 s to
 * settle and a bounded grace beyond (workers/otlp-exporter-deadline.ts); a shard still
 * running after this is given up (the pool is destroyed when the run closes).
 */
export const SHARD_STOP_GRACE_MS = 4000;

/** Where shard reports go. */
export interface ShardRouter {
  interval(message: IntervalMessage): void;
  /** The shard ended: `error` when it failed. */
  ended(shard: number, error?: TallyError): void;
}

/**
 * Run every task to its end (or the run's stop) and route its reports.
 * @returns the errors of tasks that rejected (revived, with their codes).
 */
export async function runShards(pool: Piscina, tasks: readonly Omit<ShardTask, 'port'>[], router: ShardRouter, stop: StopControl): Promise<TallyError[]> {
  const runs = tasks.map((task) => {
    const channel = new MessageChannel();
    const removeStop = stop.onStop(() => channel.port1.postMessage({ type: 'stop' }));
    let lastMessage: () => void = () => {};
    const finished = new Promise<void>((resolve) => (lastMessage = resolve));
    channel.port1.on('message', (m: WorkerMessage) => {
      if (m.type === 'interval') router.interval(m);
      else if (m.type === 'done' || m.type === 'failed') {
        router.ended(m.shard, m.type === 'failed' ? reviveError(m.error) : undefined);
        lastMessage();
      }
    });
    const task$ = pool.run({ ...task, port: channel.port2 }, { transferList: [channel.port2] });
    const grace = task$.catch(() => {}).then(() => new Promise<void>((r) => setTimeout(r, LAST_REPORT_GRACE_MS).unref()));
    return Promise.all([task$, Promise.race([finished, grace])]).finally(() => {
      removeStop();
      channel.port1.close();
    });
  });
  const all = Promise.allSettled(runs);
  const ended = await raceStop(all, stop, SHARD_STOP_GRACE_MS);
  if (!ended.done) return [];
  return ended.value.filter((s) => s.status === 'rejected').map((s) => reviveError((s as PromiseRejectedResult).reason));
}
