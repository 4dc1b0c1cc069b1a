/**
 * intervals.ndjson as the run goes: merged interval lines are written in order through one
 * chain. Each line first takes the datapath counters' delta since the previous line
 * (sampled as it completes, so no line misses them), then is written, shown as progress,
 * and every {@link CHECKPOINT_EVERY_INTERVALS} lines a checkpoint runs (results.json
 * rewritten, `complete: false`), so a killed run still leaves data.
 *
 * Lines are whole: each is one positioned write at the end of the last whole line, and a
 * write that fails part-way (ENOSPC on a full disk writes what fits, then fails) is cut
 * back to that end. After a failed write the log writes nothing more; the failure, an
 * IoError naming the file, goes to `onError` (never thrown into the run).
 */
import { open, type FileHandle } from 'node:fs/promises';
import type { DatapathWatch } from '../host/datapath-watch.ts';
import { writeFailure } from '../host/files.ts';
import type { IntervalLine } from '../reports/aggregate.ts';

/** Lines between two checkpoints (with 1 s intervals: every 5 s). */
export const CHECKPOINT_EVERY_INTERVALS = 5;

/** Options of {@link IntervalLog}. */
export interface IntervalLogOptions {
  datapath?: DatapathWatch;
  /** The sockets' own namespace's counters, when read apart from the datapath's (sampled, not written). */
  socketCounters?: DatapathWatch;
  /** Called with each line once written (or once it could not be). */
  progress(line: IntervalLine): void;
  /** Write a checkpoint; its failure is reported to `onError`, never thrown into the run. */
  checkpoint(): Promise<void>;
  /** A datapath sample, a line or a checkpoint failed (a failed write is an IoError naming its file). */
  onError(error: unknown): void;
}

/** The ordered writer of intervals.ndjson. */
export class IntervalLog {
  readonly #path: string;
  readonly #file: Promise<FileHandle>;
  readonly #o: IntervalLogOptions;
  #chain = Promise.resolve();
  #checkpointing = Promise.resolve();
  /** Bytes of whole lines written. */
  #length = 0;
  #failed = false;

  /** @param path intervals.ndjson's path; created (or truncated) now. */
  constructor(path: string, options: IntervalLogOptions) {
    this.#path = path;
    this.#o = options;
    this.#file = open(path, 'w');
    // Reported by the first write; never an unhandled rejection.
    this.#file.catch(() => {});
  }

  /** Whether a write failed (nothing more is written). */
  get failed(): boolean {
    return this.#failed;
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
    if (this.#o.socketCounters) {
      // Sampled each interval too (not written: the datapath's are), so live thresholds can
      // corroborate the SYN-retransmit signature with the sockets' own counters so far.
      try {
        await this.#o.socketCounters.interval();
      } catch (error) {
        this.#o.onError(error);
      }
    }
    if (!this.#failed) await this.#append(Buffer.from(`${JSON.stringify(line)}\n`, 'utf8'));
    this.#o.progress(line);
    if (!this.#failed && (line.interval + 1) % CHECKPOINT_EVERY_INTERVALS === 0) {
      this.#checkpointing = this.#checkpointing.then(() => this.#o.checkpoint()).catch((error: unknown) => this.#o.onError(error));
    }
  }

  /** One whole line at the end of the last whole line, or nothing (a partial write is cut back). */
  async #append(bytes: Buffer): Promise<void> {
    let file: FileHandle | undefined;
    try {
      file = await this.#file;
      let written = 0;
      while (written < bytes.length) {
        const { bytesWritten } = await file.write(bytes, written, bytes.length - written, this.#length + written);
        written += bytesWritten;
      }
      this.#length += bytes.length;
    } catch (error) {
      this.#failed = true;
      await file?.truncate(this.#length).catch(() => {});
      this.#o.onError(writeFailure(this.#path, error));
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
    const file = await this.#file.catch(() => undefined);
    await file?.close().catch(() => {});
  }
}
