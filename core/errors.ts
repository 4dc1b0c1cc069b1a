/**
 * One error hierarchy for tally. Every error carries a stable `code` that callers
 * match on (never the message text), optional structured `details`, and an optional
 * `cause`.
 *
 * Findings about the system under test (a lost series, a refused batch) are data in
 * the results, never exceptions: these classes are for tally's own failures and for
 * bad input.
 */

/** Every error code tally raises. */
export type TallyErrorCode =
  | 'TALLY_CONFIG_INVALID'
  | 'TALLY_CONFIG_UNREADABLE'
  | 'TALLY_USAGE'
  | 'TALLY_PLAN_INVALID'
  | 'TALLY_WORKER_FAILED'
  | 'TALLY_COLLECTOR_FAILED'
  | 'TALLY_COLLECTOR_BAD_REPLY'
  | 'TALLY_OTLP_DECODE'
  | 'TALLY_RECONCILE_FAILED'
  | 'TALLY_RESULTS_INVALID'
  | 'TALLY_IO_FAILED'
  | 'TALLY_INTERNAL'
  // The shards of a sharded run (tally run --shard, tally merge): see ShardError.
  | 'TALLY_MERGE_NOT_A_SHARD'
  | 'TALLY_MERGE_PLAN_MISMATCH'
  | 'TALLY_MERGE_DUPLICATE_SHARD'
  | 'TALLY_MERGE_MISSING_SHARD'
  | 'TALLY_MERGE_INCOMPLETE_SHARD'
  | 'TALLY_SHARD_START_MISSED'
  | 'TALLY_SHARD_BARRIER_FAILED'
  // Settlement codes: what tally calls an export that never got an answer, carried in an
  // export outcome's `errorCode` (never thrown): refused by the full sending queue, or still
  // queued, retrying or in flight when the run stopped.
  | 'TALLY_QUEUE_FULL'
  | 'TALLY_UNSETTLED';

/** One problem inside bad input: where (`pointer`, RFC 6901 JSON pointer) and what was expected. */
export interface InputProblem {
  /** JSON pointer into the input, `""` for the whole document. */
  pointer: string;
  /** What is wrong and what is expected, in one sentence. */
  message: string;
}

/** Plain, structured-clone-safe form of an error, for crossing worker threads. */
export interface SerializedTallyError {
  code: TallyErrorCode;
  message: string;
  details?: unknown;
}

/** Root of tally's error hierarchy. */
export class TallyError extends Error {
  readonly code: TallyErrorCode;
  readonly details?: unknown;

  constructor(code: TallyErrorCode, message: string, options: { details?: unknown; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    if (options.details !== undefined) this.details = options.details;
  }

  /** Plain form for `postMessage`, which drops class, name and code. */
  toJSON(): SerializedTallyError {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

/** Bad scenario, flags or other user input. The CLI maps it to exit code 2. */
export class ConfigError extends TallyError {
  /** Every problem found, each with its JSON pointer. */
  readonly problems: InputProblem[];
  constructor(
    message: string,
    problems: InputProblem[] = [],
    options: { code?: 'TALLY_CONFIG_INVALID' | 'TALLY_CONFIG_UNREADABLE' | 'TALLY_USAGE'; cause?: unknown } = {},
  ) {
    super(options.code ?? 'TALLY_CONFIG_INVALID', message, { details: { problems }, cause: options.cause });
    this.problems = problems;
  }
}

/** The planner could not turn a valid scenario into a plan. */
export class PlanError extends TallyError {
  constructor(message: string, options: { details?: unknown; cause?: unknown } = {}) {
    super('TALLY_PLAN_INVALID', message, options);
  }
}

/** A worker thread failed; rebuilt on the main thread from a {@link SerializedTallyError}. */
export class WorkerError extends TallyError {
  constructor(message: string, options: { details?: unknown; cause?: unknown } = {}) {
    super('TALLY_WORKER_FAILED', message, options);
  }
}

/**
 * A collector or read-back adapter failed (unreachable backend, bad reply, hostile body).
 * Codes: `TALLY_COLLECTOR_FAILED`, `TALLY_COLLECTOR_BAD_REPLY`, `TALLY_OTLP_DECODE`.
 */
export class CollectorError extends TallyError {
  constructor(
    message: string,
    options: {
      code?: 'TALLY_COLLECTOR_FAILED' | 'TALLY_COLLECTOR_BAD_REPLY' | 'TALLY_OTLP_DECODE';
      details?: unknown;
      cause?: unknown;
    } = {},
  ) {
    super(options.code ?? 'TALLY_COLLECTOR_FAILED', message, options);
  }
}

/** Reconciliation or results could not be produced. */
export class ReconcileError extends TallyError {
  constructor(
    message: string,
    options: { code?: 'TALLY_RECONCILE_FAILED' | 'TALLY_RESULTS_INVALID'; details?: unknown; cause?: unknown } = {},
  ) {
    super(options.code ?? 'TALLY_RECONCILE_FAILED', message, options);
  }
}

/** Codes of {@link ShardError}. */
export type ShardErrorCode = Extract<TallyErrorCode, `TALLY_MERGE_${string}` | `TALLY_SHARD_${string}`>;

/**
 * The shards of a sharded run do not make one run.
 * - `tally merge` refuses (bad input, exit 2): a directory that is not a shard's
 *   (`TALLY_MERGE_NOT_A_SHARD`), shards of different plans (`TALLY_MERGE_PLAN_MISMATCH`:
 *   scenario hash, start instant, run id or shard count), a shard index given twice
 *   (`TALLY_MERGE_DUPLICATE_SHARD`) or not at all (`TALLY_MERGE_MISSING_SHARD`), a shard
 *   that did not finish (`TALLY_MERGE_INCOMPLETE_SHARD`, unless `--allow-incomplete`).
 * - `tally run --shard` fails (exit 1): the shared start instant had passed when the shard
 *   was ready (`TALLY_SHARD_START_MISSED`), or the start barrier could not be reached or
 *   answered for another plan (`TALLY_SHARD_BARRIER_FAILED`).
 */
export class ShardError extends TallyError {
  constructor(code: ShardErrorCode, message: string, options: { details?: unknown; cause?: unknown } = {}) {
    super(code, message, options);
  }

  /** True for a merge's refusal of its input (exit 2). */
  get isBadInput(): boolean {
    return this.code.startsWith('TALLY_MERGE_');
  }
}

/**
 * An operating-system call failed outside any adapter: a file tally writes (ENOSPC, EACCES,
 * EROFS), a socket or a process it runs. A runtime failure (exit 1), not a bug.
 * `details` carries `errno` and, when known, `syscall`, `path`, `address` and `port`.
 */
export class IoError extends TallyError {
  constructor(message: string, options: { details?: unknown; cause?: unknown } = {}) {
    super('TALLY_IO_FAILED', message, options);
  }
}

/** A broken invariant inside tally: a bug. The CLI prints a "this is a bug" banner. */
export class InternalError extends TallyError {
  constructor(message: string, options: { details?: unknown; cause?: unknown } = {}) {
    super('TALLY_INTERNAL', message, options);
  }
}

/** The errno-style code of an error (`ECONNREFUSED`, `ENOSPC`), or undefined. */
export function errnoCodeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) ? code : undefined;
}

/** What an errno error says about itself, structured-clone safe: `{ errno, syscall?, path?, address?, port? }`. */
export function errnoDetails(error: unknown): Record<string, string | number> {
  const e = error as Record<string, unknown>;
  const details: Record<string, string | number> = { errno: errnoCodeOf(error) ?? 'UNKNOWN' };
  for (const key of ['syscall', 'path', 'address', 'port'] as const) {
    const v = e[key];
    if (typeof v === 'string' || typeof v === 'number') details[key] = v;
  }
  return details;
}

/**
 * Any thrown value as a TallyError, on the side where it was thrown: a TallyError as it is,
 * an errno error (`ECONNREFUSED`, `ENOSPC`, …) as an {@link IoError} with its errno details
 * and the original as `cause`, anything else as an {@link InternalError} (a bug).
 * @param context prefixed to the message, e.g. `shard 2`.
 */
export function asTallyError(error: unknown, context?: string): TallyError {
  if (error instanceof TallyError) return error;
  const prefix = context === undefined ? '' : `${context}: `;
  const message = error instanceof Error ? error.message : String(error);
  if (errnoCodeOf(error) !== undefined) return new IoError(`${prefix}${message}`, { details: errnoDetails(error), cause: error });
  return new InternalError(`${prefix}${error instanceof Error ? message : `non-error thrown: ${message}`}`, { cause: error });
}

/**
 * Rebuild an error that crossed a thread boundary as `{ code, message, details }`, or take
 * a local one: a serialized TallyError gets its class back; an errno error (which
 * `postMessage` keeps as a plain Error) becomes an {@link IoError} with its errno details
 * and cause; unknown shapes become an {@link InternalError}.
 */
export function reviveError(value: unknown): TallyError {
  if (value instanceof TallyError) return value;
  if (value instanceof Error) return asTallyError(value);
  if (typeof value === 'object' && value !== null && 'code' in value && 'message' in value) {
    const { code, message, details } = value as SerializedTallyError;
    switch (code) {
      case 'TALLY_CONFIG_INVALID':
      case 'TALLY_CONFIG_UNREADABLE':
      case 'TALLY_USAGE': {
        const problems = (details as { problems?: InputProblem[] } | undefined)?.problems ?? [];
        return new ConfigError(message, problems, { code });
      }
      case 'TALLY_PLAN_INVALID':
        return new PlanError(message, { details });
      case 'TALLY_WORKER_FAILED':
        return new WorkerError(message, { details });
      case 'TALLY_IO_FAILED':
        return new IoError(message, { details, cause: causeFromDetails(details) });
      case 'TALLY_COLLECTOR_FAILED':
      case 'TALLY_COLLECTOR_BAD_REPLY':
      case 'TALLY_OTLP_DECODE':
        return new CollectorError(message, { code, details });
      case 'TALLY_RECONCILE_FAILED':
      case 'TALLY_RESULTS_INVALID':
        return new ReconcileError(message, { code, details });
      case 'TALLY_MERGE_NOT_A_SHARD':
      case 'TALLY_MERGE_PLAN_MISMATCH':
      case 'TALLY_MERGE_DUPLICATE_SHARD':
      case 'TALLY_MERGE_MISSING_SHARD':
      case 'TALLY_MERGE_INCOMPLETE_SHARD':
      case 'TALLY_SHARD_START_MISSED':
      case 'TALLY_SHARD_BARRIER_FAILED':
        return new ShardError(code, message, { details });
      default:
        return new InternalError(String(message), { details });
    }
  }
  return new InternalError(`non-error thrown: ${String(value)}`);
}

/** An errno error rebuilt from {@link errnoDetails}: an Error whose `code` is the errno. */
function causeFromDetails(details: unknown): Error | undefined {
  const errno = (details as { errno?: unknown } | undefined)?.errno;
  if (typeof errno !== 'string') return undefined;
  return Object.assign(new Error(errno), { code: errno, ...(details as object) });
}

/**
 * Map an error to the CLI's exit code: 2 for bad input (a ConfigError, a merge's refusal
 * of its shards), 1 for anything else.
 * (99, a breached threshold, is decided by the caller from results, not from an error.)
 */
export function exitCodeFor(error: unknown): 1 | 2 {
  return error instanceof ConfigError || (error instanceof ShardError && error.isBadInput) ? 2 : 1;
}
