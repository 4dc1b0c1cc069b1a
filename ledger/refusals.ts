/**
 * Why export requests were refused: each failed request that got an answer (an HTTP status
 * of 400 or more, or a gRPC status other than OK), kept by its status and the receiver's
 * own words (the `google.rpc.Status` message of an OTLP error body), with the requests and
 * items it cost. Status counts alone say that 60 requests got a 400; this says why
 * (`unknown field "flags" in v1.Span`). Pure.
 *
 * @see https://opentelemetry.io/docs/specs/otlp/#failures-1
 */

/** One reason for refusals, as the receiver worded it. */
export interface RefusalReason {
  /** HTTP status of the answer; 0 for gRPC (see `grpcCode`). */
  status: number;
  /** gRPC status code, for gRPC answers. */
  grpcCode?: number;
  /** The receiver's message (at most {@link REFUSAL_MESSAGE_CHARS} characters); `''` when the body had none. */
  message: string;
  /** Requests refused for this reason (each counted once, whatever its retries). */
  requests: number;
  /** Data points or spans in those requests. */
  items: number;
}

/** The refusals of one signal. */
export interface RefusalSummary {
  /** The most frequent reasons, by requests (then status, then message); at most the tally's limit. */
  reasons: RefusalReason[];
  /** Refusals whose reason did not fit in the list. */
  otherRequests: number;
  otherItems: number;
}

/** What {@link RefusalTally.record} needs of a settled request. */
export interface RefusalInput {
  /** How the request ended: only `failed` requests can be refusals. */
  finalState: 'acknowledged' | 'failed' | 'dropped' | 'unsettled';
  status: number;
  grpcCode?: number;
  message?: string;
  /** Data points or spans in the request. */
  items: number;
}

/** Longest message kept per reason, in characters. */
export const REFUSAL_MESSAGE_CHARS = 300;
/** Distinct reasons kept by default. */
export const DEFAULT_MAX_REASONS = 20;

/** Counts refusals by (status, gRPC code, message). */
export class RefusalTally {
  readonly #maxReasons: number;
  readonly #byKey = new Map<string, RefusalReason>();
  #otherRequests = 0;
  #otherItems = 0;

  /** @param maxReasons distinct reasons kept; later new reasons are counted under `other`. */
  constructor(maxReasons = DEFAULT_MAX_REASONS) {
    this.#maxReasons = maxReasons;
  }

  /** Count a settled request when it is a refusal (failed with an answer); otherwise do nothing. */
  record(o: RefusalInput): void {
    if (o.finalState !== 'failed') return;
    const answered = o.status >= 400 || (o.status === 0 && o.grpcCode !== undefined && o.grpcCode !== 0);
    if (!answered) return;
    const message = (o.message ?? '').slice(0, REFUSAL_MESSAGE_CHARS);
    const key = `${o.status}\u0000${o.grpcCode ?? ''}\u0000${message}`;
    let reason = this.#byKey.get(key);
    if (reason === undefined) {
      if (this.#byKey.size >= this.#maxReasons) {
        this.#otherRequests++;
        this.#otherItems += o.items;
        return;
      }
      reason = { status: o.status, ...(o.grpcCode !== undefined && o.status === 0 ? { grpcCode: o.grpcCode } : {}), message, requests: 0, items: 0 };
      this.#byKey.set(key, reason);
    }
    reason.requests++;
    reason.items += o.items;
  }

  /** Whether any refusal was counted. */
  get empty(): boolean {
    return this.#byKey.size === 0 && this.#otherRequests === 0;
  }

  /** The reasons, most requests first (a copy). */
  summary(): RefusalSummary {
    const reasons = [...this.#byKey.values()].map((r) => ({ ...r }));
    reasons.sort((a, b) => b.requests - a.requests || a.status - b.status || (a.message < b.message ? -1 : a.message > b.message ? 1 : 0));
    return { reasons, otherRequests: this.#otherRequests, otherItems: this.#otherItems };
  }
}

/**
 * How one reason reads in a finding: `HTTP 400: unknown field "flags" in v1.Span` or
 * `gRPC 3: …`.
 */
export function refusalLabel(r: Pick<RefusalReason, 'status' | 'grpcCode' | 'message'>): string {
  const head = r.status === 0 && r.grpcCode !== undefined ? `gRPC ${r.grpcCode}` : `HTTP ${r.status}`;
  return r.message === '' ? `${head} (no message)` : `${head}: ${r.message}`;
}

/**
 * Refusals counted apart (a sharded run's shards), as one summary: the same reason adds
 * up across parts; at most `maxReasons` reasons are listed (by requests, as
 * {@link RefusalTally.summary} orders them), the rest counted as other.
 * @returns undefined for no parts.
 */
export function mergeRefusals(parts: readonly RefusalSummary[], maxReasons = DEFAULT_MAX_REASONS): RefusalSummary | undefined {
  if (parts.length === 0) return undefined;
  const byKey = new Map<string, RefusalReason>();
  let otherRequests = 0;
  let otherItems = 0;
  for (const p of parts) {
    otherRequests += p.otherRequests;
    otherItems += p.otherItems;
    for (const r of p.reasons) {
      const key = `${r.status}\u0000${r.grpcCode ?? ''}\u0000${r.message}`;
      const into = byKey.get(key);
      if (into === undefined) byKey.set(key, { ...r });
      else {
        into.requests += r.requests;
        into.items += r.items;
      }
    }
  }
  const reasons = [...byKey.values()].sort((a, b) => b.requests - a.requests || a.status - b.status || (a.message < b.message ? -1 : a.message > b.message ? 1 : 0));
  for (const r of reasons.slice(maxReasons)) {
    otherRequests += r.requests;
    otherItems += r.items;
  }
  return { reasons: reasons.slice(0, maxReasons), otherRequests, otherItems };
}
