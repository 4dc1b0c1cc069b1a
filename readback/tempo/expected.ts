/**
 * Expected traces: what the verifier compares Tempo's answers against. For a tally run the
 * expectation is core/trace-model.ts's regeneration of each trace from its sequence number
 * ({@link modelExpectation}); the recorded Tempo 2.0.1 fixture run predates that model and
 * keeps its own layout ({@link fixtureRunExpectation}).
 *
 * Pure: values in, values out. Nothing that was sent is stored.
 */
import { InternalError } from '../../core/errors.ts';
import { expectedTrace, shardOfSeq, type ExpectedTrace, type SpanKindName, type TraceModel } from '../../core/trace-model.ts';
import { traceIdFor } from './ids.ts';
import type { Attributes } from './types.ts';

export type { ExpectedSpan, ExpectedTrace } from '../../core/trace-model.ts';

/** seq → the trace that was sent with that sequence number. */
export type TraceExpectation = (seq: number) => ExpectedTrace;

/**
 * The expectation of a tally run: sequence j → trace j of shard `j mod shardCount`, span by
 * span, as core/trace-model.ts derives it.
 * @throws InternalError `TALLY_INTERNAL` (from the call) for a sequence outside the trace-id range.
 */
export function modelExpectation(model: TraceModel): TraceExpectation {
  return (seq) => expectedTrace(model, shardOfSeq(model, seq), seq);
}

/** Layout of the recorded fixture run (fixtures README "What was sent"). */
export interface FixtureRunLayout {
  /** 16 hex characters: trace id bytes 0–7. */
  runIdHex: string;
  /** Trace id bytes 8–9. */
  shard: number;
  /** Span id bytes 0–3, 8 hex characters. */
  spanIdPrefixHex: string;
  /** Start of trace seq 1, unix epoch nanoseconds. */
  baseUnixNano: bigint;
  /** Start-to-start spacing of consecutive traces, nanoseconds. */
  spacingNano: bigint;
  serviceName: string;
}

/** The recorded run: `7a117a1100000001` · shard 0, base 1795280351 s, 100 ms apart, service `tally-fixture`. */
export const FIXTURE_RUN: FixtureRunLayout = {
  runIdHex: '7a117a1100000001',
  shard: 0,
  spanIdPrefixHex: '7a110000',
  baseUnixNano: 1_795_280_351_000_000_000n,
  spacingNano: 100_000_000n,
  serviceName: 'tally-fixture',
};

const MS = 1_000_000n;
/** The three-span chain every fixture trace has: name, kind, start offset and duration. */
const FIXTURE_SPANS: { name: string; kind: SpanKindName; offsetNano: bigint; durationNano: bigint }[] = [
  { name: 'tally-root', kind: 'server', offsetNano: 0n, durationNano: 50n * MS },
  { name: 'tally-child', kind: 'internal', offsetNano: 5n * MS, durationNano: 30n * MS },
  { name: 'tally-leaf', kind: 'internal', offsetNano: 10n * MS, durationNano: 10n * MS },
];

/**
 * Span id of the fixture layout: prefix (4 bytes) · seq (2 bytes) · index + 1 (2 bytes).
 * @returns 16 lowercase hex characters.
 * @throws InternalError `TALLY_INTERNAL` when seq or index does not fit 2 bytes (a caller bug).
 */
export function fixtureSpanIdHex(layout: FixtureRunLayout, seq: number, index: number): string {
  if (!Number.isInteger(seq) || seq < 0 || seq > 0xffff || !Number.isInteger(index) || index < 0 || index >= 0xffff) {
    throw new InternalError(`fixture span ids hold seq and index in 2 bytes each; got seq ${seq}, index ${index}`, { details: { seq, index } });
  }
  return layout.spanIdPrefixHex + seq.toString(16).padStart(4, '0') + (index + 1).toString(16).padStart(4, '0');
}

/**
 * The expectation for the fixture run: seq → 3 spans `tally-root` (SERVER, +0, 50 ms) →
 * `tally-child` (INTERNAL, +5 ms, 30 ms) → `tally-leaf` (INTERNAL, +10 ms, 10 ms), each with
 * `tally.seq=<seq>` (int) and `http.route="/r/<seq mod 4>"`, status UNSET, resource
 * `service.name`, `tally.run.id`, `tally.shard` (int).
 * @param layout defaults to {@link FIXTURE_RUN}.
 * @see test/fixtures/tempo-2.0.1/README.md "What was sent"
 */
export function fixtureRunExpectation(layout: FixtureRunLayout = FIXTURE_RUN): TraceExpectation {
  const resourceAttributes: Attributes = {
    'service.name': layout.serviceName,
    'tally.run.id': layout.runIdHex,
    'tally.shard': BigInt(layout.shard),
  };
  return (seq) => {
    const traceStart = layout.baseUnixNano + BigInt(seq - 1) * layout.spacingNano;
    const attributes: Attributes = { 'tally.seq': BigInt(seq), 'http.route': `/r/${seq % 4}` };
    return {
      seq,
      traceId: traceIdFor({ runIdHex: layout.runIdHex, shard: layout.shard, seq }),
      spans: FIXTURE_SPANS.map((span, index) => ({
        index,
        spanId: fixtureSpanIdHex(layout, seq, index),
        parentSpanId: index === 0 ? null : fixtureSpanIdHex(layout, seq, index - 1),
        name: span.name,
        kind: span.kind,
        startTimeUnixNano: traceStart + span.offsetNano,
        endTimeUnixNano: traceStart + span.offsetNano + span.durationNano,
        attributes,
        resourceAttributes,
        status: 'unset',
      })),
    };
  };
}
