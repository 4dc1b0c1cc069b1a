/**
 * The wire truth of the accuracy bench: each TCP connection's phases as the client's edge
 * of the wire saw them (a capture on the client's veth), and the comparison of a load
 * generator's percentiles with the truth's. Pure.
 *
 * Per connection (keyed by the client's port; a new initial sequence number on a port is a
 * new connection, the same one a SYN retransmit):
 * - connect: the first SYN out → the SYN-ACK in (what connect(2) waits for);
 * - ttfb: the first request byte out → the first response byte in;
 * - total: the first SYN out → the last response byte in (tally's total runs from just
 *   before its connect call to the response read in full);
 * - request: the first request byte out → the last response byte in (wrk's latency: from
 *   its request write to the response complete; wrk does not time the connect).
 */
import { TCP_ACK, TCP_SYN, type TcpSegment } from './pcap.ts';

/** One connection's times on the wire (µs since the epoch; undefined when not seen). */
export interface WireConnection {
  clientPort: number;
  synUs: number;
  synAckUs?: number;
  firstRequestUs?: number;
  firstResponseUs?: number;
  lastResponseUs?: number;
  /** SYNs sent again with the same initial sequence number. */
  synRetransmits: number;
}

/** The phases the bench compares, µs. */
export const WIRE_PHASES = ['connect', 'ttfb', 'total', 'request'] as const;
export type WirePhase = (typeof WIRE_PHASES)[number];

/**
 * Group segments into connections between `clientIp` and `serverIp:serverPort`.
 * @param segments in capture order (readPcapTcp).
 */
export function wireConnections(segments: readonly TcpSegment[], clientIp: string, serverIp: string, serverPort: number): WireConnection[] {
  const open = new Map<number, WireConnection & { isn: number }>();
  const all: (WireConnection & { isn: number })[] = [];
  for (const s of segments) {
    const fromClient = s.srcIp === clientIp && s.dstIp === serverIp && s.dstPort === serverPort;
    const fromServer = s.srcIp === serverIp && s.dstIp === clientIp && s.srcPort === serverPort;
    if (!fromClient && !fromServer) continue;
    const port = fromClient ? s.srcPort : s.dstPort;
    if (fromClient && (s.flags & (TCP_SYN | TCP_ACK)) === TCP_SYN) {
      const c = open.get(port);
      if (c !== undefined && c.isn === s.seq) c.synRetransmits++;
      else {
        const fresh = { clientPort: port, synUs: s.tsUs, synRetransmits: 0, isn: s.seq };
        open.set(port, fresh);
        all.push(fresh);
      }
      continue;
    }
    const c = open.get(port);
    if (c === undefined) continue; // began before the capture
    if (fromServer && (s.flags & (TCP_SYN | TCP_ACK)) === (TCP_SYN | TCP_ACK)) c.synAckUs ??= s.tsUs;
    if (s.payloadBytes === 0) continue;
    if (fromClient) c.firstRequestUs ??= s.tsUs;
    else {
      c.firstResponseUs ??= s.tsUs;
      c.lastResponseUs = s.tsUs;
    }
  }
  return all.map(({ isn: _isn, ...c }) => c);
}

/** A connection's phase durations (µs), or undefined for a phase it did not complete. */
export function phaseUs(c: WireConnection, phase: WirePhase): number | undefined {
  switch (phase) {
    case 'connect':
      return c.synAckUs === undefined ? undefined : c.synAckUs - c.synUs;
    case 'ttfb':
      return c.firstResponseUs === undefined || c.firstRequestUs === undefined ? undefined : c.firstResponseUs - c.firstRequestUs;
    case 'total':
      return c.lastResponseUs === undefined ? undefined : c.lastResponseUs - c.synUs;
    case 'request':
      return c.lastResponseUs === undefined || c.firstRequestUs === undefined ? undefined : c.lastResponseUs - c.firstRequestUs;
  }
}

/** The value at a percentile (0–100) by nearest rank, as HDR histograms report it; undefined for no values. */
export function nearestRank(sortedAscending: readonly number[], percentile: number): number | undefined {
  if (sortedAscending.length === 0) return undefined;
  const rank = Math.max(1, Math.ceil((percentile / 100) * sortedAscending.length));
  return sortedAscending[Math.min(rank, sortedAscending.length) - 1];
}

/** The truth's percentiles of one phase over every connection that completed it. */
export function truthPercentiles(connections: readonly WireConnection[], phase: WirePhase, percentiles: readonly number[]): { count: number; byPercentile: Record<string, number | undefined> } {
  const values = connections.map((c) => phaseUs(c, phase)).filter((v): v is number => v !== undefined).sort((a, b) => a - b);
  return { count: values.length, byPercentile: Object.fromEntries(percentiles.map((p) => [`p${p}`, nearestRank(values, p)])) };
}

/** One percentile compared: the truth, the generator's figure, and its error relative to the truth (%). */
export interface Compared {
  truthUs: number | null;
  tallyUs: number | null;
  errorPct: number | null;
}

/** Compare a generator's figure with the truth's (errorPct rounded to 0.01). */
export function compare(truthUs: number | undefined, measuredUs: number | undefined): Compared {
  const t = truthUs === undefined ? null : Math.round(truthUs);
  const m = measuredUs === undefined ? null : Math.round(measuredUs);
  return { truthUs: t, tallyUs: m, errorPct: t === null || m === null || t === 0 ? null : Math.round(((m - t) / t) * 10_000) / 100 };
}
