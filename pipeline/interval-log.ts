/**
 * intervals.ndjson as the run goes: merged interval lines are written in order through one
 * chain. Each line first takes the datapath counters' delta since the previous line
 * (sampled as it completes, so no line misses them), then is written, shown as progress,
 * and every {@link CHECKPOINT_EVERY_INTERVALS} lines a checkpoint runs (results.json
 * rewritten, `complete: false`), so a killed run still leaves data.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import type { DatapathWatch } from '../host/datapath-watch.ts';
import type { IntervalLine } from '../reports/aggregate.ts';

/** Lines between two checkpoints (with 1 s intervals: every 5 s). */
export const CHECKPOINT_EVERY_INTERVALS = 5;

/** Options of {@link IntervalLog}. */
export interface IntervalLogOptions {
  datapath?: DatapathWatch;
  /** Called with each line once written. */
  progress(line: IntervalLine): void;
  /** Write a checkpoint; its failure is reported to `onError`, never thrown into the run. */
  checkpoint(): Promise<void>;
  /** A datapath sample or a checkpoint failed. */
  onError(error: unknown): void;
}

/** The ordered writer of intervals.ndjson. */
export class IntervalLog {
  readonly #stream: WriteStream;
  readonly #o: IntervalLogOptions;
  #chain = Promise.resolve();
  #checkpointing = Promise.resolve();

  /** @param path intervals.ndjson's path; created (or truncated) now. */
  constructor(path: string, options: IntervalLogOptions) {
    this.#stream = createWriteStream(path, { flags: 'w' });
    this.#o = options;
  }

  /** Queue lines for writing, in order. */
  write(lines: readonly IntervalLine[]): void {
    for (const line of lines) this.#chain = this.#chain.then(() => this.#writeLine(line));
  }

  async #writeLine(line: IntervalLine): Promise<void> {
    if (this.#o.datapath) {
      try {
        line.datapath = await this.#o.datapath.interval();
      } catch (error) {
        this.#o.onError(error);
      }
    }
    this.#stream.write(`${JSON.stringify(line)}\n`);
    this.#o.progress(line);
    if ((line.interval + 1) % CHECKPOINT_EVERY_INTERVALS === 0) {
      this.#checkpointing = this.#checkpointing.then(() => this.#o.checkpoint()).catch((error: unknown) => this.#o.onError(error));
    }
  }

  /** Every queued line written (and its checkpoint, if any, started). */
  async drained(): Promise<void> {
    await this.#chain;
  }

  /** Every checkpoint started so far finished. */
  async checkpointsDone(): Promise<void> {
    await this.#checkpointing;
  }

  /** Finish queued lines and close the file. */
  async close(): Promise<void> {
    await this.#chain.catch(() => {});
    await new Promise<void>((resolve) => this.#stream.end(resolve));
  }
}
