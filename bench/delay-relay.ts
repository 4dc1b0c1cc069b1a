/**
 * The accuracy bench's delay line: a UDP relay between two VXLAN endpoints that holds every
 * datagram for a fixed time in each direction. The client's and the server's VXLAN devices
 * point at it, so every packet between them (SYNs and SYN-ACKs included, which an L4 TCP
 * relay could not delay) crosses it late by the delay. This kernel has no netem; the
 * capture on the client's veth is the truth whatever adds the delay, so the relay's own
 * timer jitter does not matter.
 *
 * The inner TCP (or UDP) checksum is recomputed on the way: a veth hands locally sent
 * packets over with the checksum left to "hardware" (CHECKSUM_PARTIAL), and the payload
 * a UDP socket reads keeps the inner checksum unfinished, so the far end would drop every
 * segment (TcpInCsumErrors).
 *
 * Run as a process inside the middle namespace:
 * `node bench/delay-relay.ts --delay-ms 5 --port 4789 --a 10.231.1.2 --a-peer 10.231.1.1 --b 10.231.2.2 --b-peer 10.231.2.1`;
 * it prints `ready` once bound and its counts as JSON on SIGTERM.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7348 (VXLAN)
 * @see https://www.rfc-editor.org/rfc/rfc1071 (the Internet checksum)
 */
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { parseArgs } from 'node:util';

/** Offsets in a VXLAN payload: 8-byte VXLAN header, then the inner Ethernet frame. */
const INNER_ETHERNET = 8;
const INNER_IP = INNER_ETHERNET + 14;

/**
 * Recompute the inner IPv4 TCP or UDP checksum of a VXLAN payload in place.
 * @returns whether a checksum was written (false for anything that is not IPv4 TCP/UDP).
 */
export function fixInnerChecksum(b: Buffer): boolean {
  if (b.length < INNER_IP + 20 || b.readUInt16BE(INNER_ETHERNET + 12) !== 0x0800) return false;
  const ihl = (b[INNER_IP] & 0x0f) * 4;
  const total = b.readUInt16BE(INNER_IP + 2);
  const proto = b[INNER_IP + 9];
  const l4 = INNER_IP + ihl;
  const l4Length = total - ihl;
  if (l4 + l4Length > b.length || (proto !== 6 && proto !== 17)) return false;
  const checksumAt = l4 + (proto === 6 ? 16 : 6);
  if (checksumAt + 2 > l4 + l4Length) return false;
  b.writeUInt16BE(0, checksumAt);
  let sum = 0;
  for (let i = INNER_IP + 12; i < INNER_IP + 20; i += 2) sum += b.readUInt16BE(i); // source and destination
  sum += proto + l4Length;
  const end = l4 + l4Length;
  let i = l4;
  for (; i + 1 < end; i += 2) sum += (b[i] << 8) | b[i + 1];
  if (i < end) sum += b[i] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  let checksum = ~sum & 0xffff;
  if (proto === 17 && checksum === 0) checksum = 0xffff;
  b.writeUInt16BE(checksum, checksumAt);
  return true;
}

/** One side of the relay: the address it binds and the VXLAN endpoint it forwards to. */
export interface RelaySide {
  bind: string;
  peer: string;
}

/** Options of {@link startDelayRelay}. */
export interface DelayRelayOptions {
  delayMs: number;
  /** The UDP port on every side (VXLAN: 4789). */
  port: number;
  a: RelaySide;
  b: RelaySide;
}

/** A running relay. */
export interface DelayRelay {
  /** Datagrams forwarded a→b and b→a. */
  counts(): { aToB: number; bToA: number };
  close(): Promise<void>;
}

/** One direction: a FIFO of datagrams with their release times; the delay is fixed, so the head is always due first. */
class DelayLine {
  readonly #queue: { buf: Buffer; dueMs: number }[] = [];
  #head = 0;
  #timer: NodeJS.Timeout | undefined;
  readonly #out: Socket;
  readonly #peer: string;
  readonly #port: number;
  readonly #delayMs: number;
  forwarded = 0;

  constructor(out: Socket, peer: string, port: number, delayMs: number) {
    this.#out = out;
    this.#peer = peer;
    this.#port = port;
    this.#delayMs = delayMs;
  }

  push(buf: Buffer): void {
    fixInnerChecksum(buf);
    this.#queue.push({ buf, dueMs: performance.now() + this.#delayMs });
    if (this.#timer === undefined) this.#arm();
  }

  #arm(): void {
    const waitMs = this.#queue[this.#head].dueMs - performance.now();
    this.#timer = setTimeout(this.#flush, Math.max(0, waitMs));
  }

  #flush = (): void => {
    this.#timer = undefined;
    const now = performance.now();
    while (this.#head < this.#queue.length && this.#queue[this.#head].dueMs <= now) {
      this.#out.send(this.#queue[this.#head].buf, this.#port, this.#peer);
      this.#head++;
      this.forwarded++;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue.splice(0, this.#head);
      this.#head = 0;
    }
    if (this.#head < this.#queue.length) this.#arm();
  };

  stop(): void {
    clearTimeout(this.#timer);
  }
}

/**
 * Start the relay: datagrams arriving on side a go out of side b's socket to b's peer after
 * `delayMs`, and the reverse.
 * @throws the bind error when an address is not local.
 */
export async function startDelayRelay(o: DelayRelayOptions): Promise<DelayRelay> {
  const a = createSocket('udp4');
  const b = createSocket('udp4');
  const aToB = new DelayLine(b, o.b.peer, o.port, o.delayMs);
  const bToA = new DelayLine(a, o.a.peer, o.port, o.delayMs);
  a.on('message', (buf) => aToB.push(buf));
  b.on('message', (buf) => bToA.push(buf));
  a.bind(o.port, o.a.bind);
  b.bind(o.port, o.b.bind);
  await Promise.all([once(a, 'listening'), once(b, 'listening')]);
  for (const s of [a, b]) {
    s.setRecvBufferSize(8 * 1024 * 1024);
    s.setSendBufferSize(8 * 1024 * 1024);
  }
  return {
    counts: () => ({ aToB: aToB.forwarded, bToA: bToA.forwarded }),
    close: async () => {
      aToB.stop();
      bToA.stop();
      await Promise.all([new Promise<void>((r) => a.close(() => r())), new Promise<void>((r) => b.close(() => r()))]);
    },
  };
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { 'delay-ms': { type: 'string' }, port: { type: 'string', default: '4789' }, a: { type: 'string' }, 'a-peer': { type: 'string' }, b: { type: 'string' }, 'b-peer': { type: 'string' } } });
  const relay = await startDelayRelay({
    delayMs: Number(values['delay-ms']),
    port: Number(values.port),
    a: { bind: values.a as string, peer: values['a-peer'] as string },
    b: { bind: values.b as string, peer: values['b-peer'] as string },
  });
  process.stdout.write('ready\n');
  process.once('SIGTERM', () => {
    process.stdout.write(`${JSON.stringify(relay.counts())}\n`);
    void relay.close().then(() => process.exit(0));
  });
}
