/**
 * The accuracy bench's parts: the pcap reader (synthetic files, plain and in VXLAN, µs and
 * ns timestamps), the wire truth per connection and its percentiles, the relay's checksum
 * repair and its delay on loopback, wrk's latency table, the flags, /proc parsing of the
 * noise gauge, and the topology's commands. The whole bench (`npm run bench -- accuracy`)
 * needs root and minutes; it is not run here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { parseAccuracyFlags, parseWrkLatency } from '../../bench/accuracy.ts';
import { accuracyTopology, accuracyUpSteps } from '../../bench/accuracy-net.ts';
import { fixInnerChecksum, startDelayRelay } from '../../bench/delay-relay.ts';
import { machineBusySeconds, parsePidStat } from '../../bench/host-noise.ts';
import { readPcapTcp, TCP_ACK, TCP_FIN, TCP_SYN, VXLAN_PORT } from '../../bench/pcap.ts';
import { compare, nearestRank, phaseUs, truthPercentiles, wireConnections } from '../../bench/wire-truth.ts';
import { BENCHES } from '../../bench/run.ts';

const CLIENT = '10.232.0.1';
const SERVER = '10.232.0.2';

/** An Ethernet frame with an IPv4 TCP segment. */
function tcpFrame(src: string, dst: string, sport: number, dport: number, seq: number, flags: number, payload: number): Buffer {
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + 20 + payload, 2);
  ip[8] = 64;
  ip[9] = 6;
  src.split('.').forEach((o, i) => (ip[12 + i] = Number(o)));
  dst.split('.').forEach((o, i) => (ip[16 + i] = Number(o)));
  const tcp = Buffer.alloc(20);
  tcp.writeUInt16BE(sport, 0);
  tcp.writeUInt16BE(dport, 2);
  tcp.writeUInt32BE(seq, 4);
  tcp[12] = 5 << 4;
  tcp[13] = flags;
  const eth = Buffer.alloc(14);
  eth.writeUInt16BE(0x0800, 12);
  return Buffer.concat([eth, ip, tcp, Buffer.alloc(payload, 0x61)]);
}

/** The frame inside VXLAN over UDP over IPv4 over Ethernet, as the bench's veth carries it. */
function inVxlan(inner: Buffer): Buffer {
  const vx = Buffer.alloc(8);
  vx[0] = 0x08;
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(40000, 0);
  udp.writeUInt16BE(VXLAN_PORT, 2);
  udp.writeUInt16BE(8 + 8 + inner.length, 4);
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + 8 + 8 + inner.length, 2);
  ip[9] = 17;
  const eth = Buffer.alloc(14);
  eth.writeUInt16BE(0x0800, 12);
  return Buffer.concat([eth, ip, udp, vx, inner]);
}

function pcap(frames: { tsUs: number; frame: Buffer }[], nanos = false, snapLen = 65535): Buffer {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(nanos ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(snapLen, 16);
  header.writeUInt32LE(1, 20);
  const records = frames.map(({ tsUs, frame }) => {
    const kept = frame.subarray(0, Math.min(snapLen, frame.length));
    const r = Buffer.alloc(16);
    r.writeUInt32LE(Math.floor(tsUs / 1e6), 0);
    r.writeUInt32LE(nanos ? Math.round((tsUs % 1e6) * 1000) : Math.round(tsUs % 1e6), 4);
    r.writeUInt32LE(kept.length, 8);
    r.writeUInt32LE(frame.length, 12);
    return Buffer.concat([r, kept]);
  });
  return Buffer.concat([header, ...records]);
}

/** One connection through a 5 ms each-way delay: SYN at 0, SYN-ACK at 10.2 ms, request at 10.3, response 20.5–20.6 ms. */
function oneConnection(base: number, port: number, isn: number): { tsUs: number; frame: Buffer }[] {
  return [
    { tsUs: base, frame: tcpFrame(CLIENT, SERVER, port, 8080, isn, TCP_SYN, 0) },
    { tsUs: base + 10_200, frame: tcpFrame(SERVER, CLIENT, 8080, port, 7, TCP_SYN | TCP_ACK, 0) },
    { tsUs: base + 10_250, frame: tcpFrame(CLIENT, SERVER, port, 8080, isn + 1, TCP_ACK, 0) },
    { tsUs: base + 10_300, frame: tcpFrame(CLIENT, SERVER, port, 8080, isn + 1, TCP_ACK, 40) },
    { tsUs: base + 20_500, frame: tcpFrame(SERVER, CLIENT, 8080, port, 8, TCP_ACK, 1000) },
    { tsUs: base + 20_600, frame: tcpFrame(SERVER, CLIENT, 8080, port, 1008, TCP_ACK | TCP_FIN, 100) },
  ];
}

test('the pcap reader finds TCP in VXLAN and plain, with µs and ns timestamps, payload sizes past a short snapshot', () => {
  const frames = oneConnection(1_700_000_000_000_000, 40001, 1000);
  for (const nanos of [false, true]) {
    const vx = readPcapTcp(pcap(frames.map((f) => ({ tsUs: f.tsUs, frame: inVxlan(f.frame) })), nanos, 120));
    assert.equal(vx.length, 6);
    assert.deepEqual([vx[0].srcIp, vx[0].dstIp, vx[0].srcPort, vx[0].dstPort, vx[0].flags], [CLIENT, SERVER, 40001, 8080, TCP_SYN]);
    assert.equal(vx[4].payloadBytes, 1000, 'from the IP length, not the bytes kept');
    assert.equal(vx[1].tsUs - vx[0].tsUs, 10_200);
  }
  assert.equal(readPcapTcp(pcap(frames)).length, 6);
  assert.throws(() => readPcapTcp(Buffer.from('0a0d0d0a00000000000000000000000000000000000000000000', 'hex')), (e: { code: string }) => e.code === 'TALLY_COLLECTOR_BAD_REPLY');
});

test('the wire truth per connection: phases from the first SYN, a SYN retransmit counted, a reused port a new connection', () => {
  const base = 1_700_000_000_000_000;
  const frames = [
    ...oneConnection(base, 40001, 1000),
    // Port 40002: its first SYN is lost; the retransmit (same ISN) 1 s later.
    { tsUs: base + 50, frame: tcpFrame(CLIENT, SERVER, 40002, 8080, 5000, TCP_SYN, 0) },
    ...oneConnection(base + 1_000_050, 40002, 5000),
    // Port 40001 again, later, with a new ISN: a second connection.
    ...oneConnection(base + 2_000_000, 40001, 9000),
    // Noise: another destination.
    { tsUs: base + 5, frame: tcpFrame(CLIENT, '10.0.0.9', 40003, 8080, 1, TCP_SYN, 0) },
  ].sort((a, b) => a.tsUs - b.tsUs);
  const conns = wireConnections(readPcapTcp(pcap(frames)), CLIENT, SERVER, 8080);
  assert.equal(conns.length, 3);
  const [first, slow, again] = conns;
  assert.deepEqual([phaseUs(first, 'connect'), phaseUs(first, 'ttfb'), phaseUs(first, 'total'), phaseUs(first, 'request')], [10_200, 10_200, 20_600, 10_300]);
  assert.equal(slow.synRetransmits, 1);
  assert.equal(phaseUs(slow, 'connect'), 1_010_200, 'connect runs from the first SYN');
  assert.equal(again.clientPort, 40001);
  assert.equal(again.synUs, base + 2_000_000);
  const truth = truthPercentiles(conns, 'connect', [50, 99]);
  assert.deepEqual(truth, { count: 3, byPercentile: { p50: 10_200, p99: 1_010_200 } });
});

test('nearest rank as HDR reports it, and the error relative to the truth', () => {
  const values = Array.from({ length: 200 }, (_, i) => i + 1);
  assert.equal(nearestRank(values, 50), 100);
  assert.equal(nearestRank(values, 99), 198);
  assert.equal(nearestRank(values, 100), 200);
  assert.equal(nearestRank([], 50), undefined);
  assert.deepEqual(compare(10_000, 10_390), { truthUs: 10_000, tallyUs: 10_390, errorPct: 3.9 });
  assert.deepEqual(compare(undefined, 5), { truthUs: null, tallyUs: 5, errorPct: null });
});

test('the relay repairs the inner TCP checksum left to the hardware, and delays each direction', async () => {
  const frame = tcpFrame(CLIENT, SERVER, 40001, 8080, 1, TCP_ACK, 33);
  const vx = inVxlan(frame).subarray(14 + 20 + 8); // the UDP payload the relay reads
  const good = Buffer.from(vx);
  assert.equal(fixInnerChecksum(good), true);
  const partial = Buffer.from(good);
  partial.writeUInt16BE(0x1234, 8 + 14 + 20 + 16);
  fixInnerChecksum(partial);
  assert.deepEqual(partial, good);
  // Verify: the one's-complement sum over the pseudo-header and segment, checksum included, is 0xffff.
  const seg = good.subarray(8 + 14 + 20);
  const ips = Buffer.from([...CLIENT.split('.'), ...SERVER.split('.')].map(Number));
  let sum = 6 + seg.length;
  for (let i = 0; i < ips.length; i += 2) sum += ips.readUInt16BE(i);
  for (let i = 0; i < seg.length; i += 2) sum += (seg[i] << 8) | (seg[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  assert.equal(sum, 0xffff);

  // Loopback: two "endpoints" on 127.0.0.2/3, the relay between 127.0.0.4 (a side) and 127.0.0.5 (b side).
  const [a, b] = [createSocket('udp4'), createSocket('udp4')];
  a.bind(47890, '127.0.0.2');
  b.bind(47890, '127.0.0.3');
  await Promise.all([once(a, 'listening'), once(b, 'listening')]);
  const relay = await startDelayRelay({ delayMs: 30, port: 47890, a: { bind: '127.0.0.4', peer: '127.0.0.2' }, b: { bind: '127.0.0.5', peer: '127.0.0.3' } });
  try {
    const sentAt = performance.now();
    a.send(Buffer.from(vx), 47890, '127.0.0.4');
    const [msg] = (await once(b, 'message')) as [Buffer];
    assert.ok(performance.now() - sentAt >= 29, 'held for the delay');
    assert.deepEqual(msg, good, 'arrives with the checksum repaired');
    b.send(Buffer.from('x'), 47890, '127.0.0.5');
    await once(a, 'message');
    assert.deepEqual(relay.counts(), { aToB: 1, bToA: 1 });
  } finally {
    await relay.close();
    a.close();
    b.close();
  }
});

test('wrk\'s latency distribution, the flags, the noise gauge\'s /proc parsing, the topology, the registry', () => {
  const wrk = '  Latency Distribution\n     50%   10.95ms\n     75%   11.20ms\n     90%  900.00us\n     99%    1.02s\n';
  assert.deepEqual(parseWrkLatency(wrk), { p50: 10_950, p75: 11_200, p90: 900, p99: 1_020_000 });
  assert.deepEqual(parseAccuracyFlags([]), { ratesPerSecond: [200, 2000], durationS: 10, delayMs: 5, wrkCycleMs: 21 });
  assert.throws(() => parseAccuracyFlags(['--rates', '0']), (e: { code: string }) => e.code === 'TALLY_USAGE');
  assert.throws(() => parseAccuracyFlags(['--duration', '1']), (e: { code: string }) => e.code === 'TALLY_USAGE');
  assert.equal(machineBusySeconds('cpu  100 50 250 9000 10 0 5 0 0 0\ncpu0 1 2 3 4\n'), 4);
  assert.deepEqual(parsePidStat('42 (a (weird) name) S 7 42 42 0 -1 0 0 0 0 0 150 50 20 10 20 0 1 0 0 0'), { ppid: 7, cpuSeconds: 2, childrenCpuSeconds: 0.3 });
  const n = accuracyTopology(1234567);
  assert.ok(n.clientVeth.length <= 15);
  const steps = accuracyUpSteps(n);
  assert.ok(steps.every((s) => s[0] === 'ip'));
  assert.deepEqual(steps[0], ['ip', 'netns', 'add', n.client]);
  assert.ok(steps.some((s) => s.includes('vxlan') && s.includes(n.relay.clientSide)));
  assert.ok(Object.hasOwn(BENCHES, 'accuracy'));
});
