/**
 * The accuracy bench's packet reader: a classic pcap file (what `tcpdump -w` writes) read
 * into the TCP segments it holds, each with its capture time. Ethernet frames carrying
 * IPv4, directly or inside VXLAN (UDP port 4789), as the bench's veth carries them. Pure:
 * bytes in, segments out.
 *
 * @see https://www.ietf.org/archive/id/draft-ietf-opsawg-pcap-03.html (file and record headers)
 * @see https://www.rfc-editor.org/rfc/rfc7348 (VXLAN header)
 * @see https://www.rfc-editor.org/rfc/rfc9293#section-3.1 (TCP header)
 */
import { CollectorError } from '../core/errors.ts';

/** One TCP segment as captured. */
export interface TcpSegment {
  /** Capture time, µs since the epoch. */
  tsUs: number;
  srcIp: string;
  dstIp: string;
  srcPort: number;
  dstPort: number;
  seq: number;
  /** TCP flags byte (FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10). */
  flags: number;
  /** Payload bytes (from the IP total length, so a short snapshot length still counts them). */
  payloadBytes: number;
}

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_ACK = 0x10;

/** The VXLAN UDP port (IANA). */
export const VXLAN_PORT = 4789;

const LINKTYPE_ETHERNET = 1;
const ETHERTYPE_IPV4 = 0x0800;
const PROTO_TCP = 6;
const PROTO_UDP = 17;

function ipv4(b: Buffer, at: number): string {
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
}

/** An Ethernet frame at `at` (length `len`): its TCP segment, looking inside VXLAN; undefined for anything else. */
function segmentOf(b: Buffer, at: number, len: number, tsUs: number, depth: number): TcpSegment | undefined {
  if (len < 14 + 20 || b.readUInt16BE(at + 12) !== ETHERTYPE_IPV4) return undefined;
  const ip = at + 14;
  const ihl = (b[ip] & 0x0f) * 4;
  const totalLength = b.readUInt16BE(ip + 2);
  const proto = b[ip + 9];
  const l4 = ip + ihl;
  if (proto === PROTO_UDP && depth === 0 && l4 + 8 + 8 <= at + len) {
    const dstPort = b.readUInt16BE(l4 + 2);
    const srcPort = b.readUInt16BE(l4);
    if (dstPort !== VXLAN_PORT && srcPort !== VXLAN_PORT) return undefined;
    const inner = l4 + 8 + 8;
    return segmentOf(b, inner, at + len - inner, tsUs, depth + 1);
  }
  if (proto !== PROTO_TCP || l4 + 20 > at + len) return undefined;
  const dataOffset = (b[l4 + 12] >> 4) * 4;
  return {
    tsUs,
    srcIp: ipv4(b, ip + 12),
    dstIp: ipv4(b, ip + 16),
    srcPort: b.readUInt16BE(l4),
    dstPort: b.readUInt16BE(l4 + 2),
    seq: b.readUInt32BE(l4 + 4),
    flags: b[l4 + 13],
    payloadBytes: Math.max(0, totalLength - ihl - dataOffset),
  };
}

/**
 * Read the TCP segments of a pcap file (microsecond or nanosecond timestamps, either byte
 * order, Ethernet link type).
 * @returns segments in capture order; frames that are not IPv4 TCP (or TCP in VXLAN) are skipped.
 * @throws CollectorError `TALLY_COLLECTOR_BAD_REPLY` when the file is not a pcap of Ethernet frames.
 */
export function readPcapTcp(file: Buffer): TcpSegment[] {
  if (file.length < 24) throw new CollectorError('pcap: shorter than its file header', { code: 'TALLY_COLLECTOR_BAD_REPLY' });
  const magicLe = file.readUInt32LE(0);
  let le: boolean;
  let nanos: boolean;
  if (magicLe === 0xa1b2c3d4 || magicLe === 0xa1b23c4d) {
    le = true;
    nanos = magicLe === 0xa1b23c4d;
  } else {
    const magicBe = file.readUInt32BE(0);
    if (magicBe !== 0xa1b2c3d4 && magicBe !== 0xa1b23c4d) throw new CollectorError('pcap: unknown magic number (pcapng is not read; use tcpdump -w)', { code: 'TALLY_COLLECTOR_BAD_REPLY' });
    le = false;
    nanos = magicBe === 0xa1b23c4d;
  }
  const u32 = (at: number): number => (le ? file.readUInt32LE(at) : file.readUInt32BE(at));
  const linkType = u32(20) & 0x0fffffff;
  if (linkType !== LINKTYPE_ETHERNET) throw new CollectorError(`pcap: link type ${linkType}, expected Ethernet (1)`, { code: 'TALLY_COLLECTOR_BAD_REPLY' });
  const out: TcpSegment[] = [];
  let at = 24;
  while (at + 16 <= file.length) {
    const tsUs = u32(at) * 1e6 + (nanos ? u32(at + 4) / 1000 : u32(at + 4));
    const captured = u32(at + 8);
    const start = at + 16;
    if (start + captured > file.length) break; // a record cut short when the capture was stopped
    const s = segmentOf(file, start, captured, tsUs, 0);
    if (s !== undefined) out.push(s);
    at = start + captured;
  }
  return out;
}
