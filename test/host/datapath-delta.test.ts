/**
 * deltaCounters: counters become deltas, gauges stay before/after, resets and wraps are
 * flagged instead of going negative, unavailable sources are reported once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRng } from '../../core/rng.ts';
import { TallyError } from '../../core/errors.ts';
import { parseConntrackStats } from '../../host/conntrack.ts';
import { counterKind, deltaCounters } from '../../host/datapath-delta.ts';
import type { DatapathSample, ProcSource } from '../../host/datapath-sample.ts';
import { parseNetstat, parseSnmp } from '../../host/snmp.ts';
import { parseSockstat } from '../../host/sockstat.ts';

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

function ok<T>(file: string, value: T): ProcSource<T> {
  return { status: 'ok', file, value };
}
function absent(file: string): ProcSource<never> {
  return { status: 'unavailable', file, errno: 'ENOENT', reason: `${file} is absent (ENOENT)` };
}

interface Texts {
  snmp?: string;
  netstat?: string;
  sockstat?: string;
  conntrack?: string;
  count?: number;
  max?: number;
}

/** A sample built from /proc text through the real parsers; missing texts are unavailable. */
function sample(monotonicMs: number, t: Texts, root = '/proc'): DatapathSample {
  return {
    root,
    monotonicMs,
    readSpanMs: 0.1,
    wallMs: 1_700_000_000_000 + monotonicMs,
    conntrackStats: t.conntrack === undefined ? absent('/proc/net/stat/nf_conntrack') : ok('/proc/net/stat/nf_conntrack', parseConntrackStats(t.conntrack)),
    conntrackCount: t.count === undefined ? absent('/proc/sys/net/netfilter/nf_conntrack_count') : ok('/proc/sys/net/netfilter/nf_conntrack_count', t.count),
    conntrackMax: t.max === undefined ? absent('/proc/sys/net/netfilter/nf_conntrack_max') : ok('/proc/sys/net/netfilter/nf_conntrack_max', t.max),
    snmp: t.snmp === undefined ? absent('/proc/net/snmp') : ok('/proc/net/snmp', parseSnmp(t.snmp)),
    netstat: t.netstat === undefined ? absent('/proc/net/netstat') : ok('/proc/net/netstat', parseNetstat(t.netstat)),
    sockstat: t.sockstat === undefined ? absent('/proc/net/sockstat') : ok('/proc/net/sockstat', parseSockstat(t.sockstat)),
    sockstat6: absent('/proc/net/sockstat6'),
  };
}

const tcp = (activeOpens: number, currEstab: number, retrans: number): string =>
  `Tcp: RtoMin ActiveOpens CurrEstab RetransSegs\nTcp: 200 ${activeOpens} ${currEstab} ${retrans}\n`;
const ct = (entries: number, ...insertFailedPerCpu: number[]): string =>
  `entries  clashres insert_failed\n${insertFailedPerCpu.map((v) => `${entries.toString(16).padStart(8, '0')}  00000000 ${v.toString(16).padStart(8, '0')}`).join('\n')}\n`;

test('counters become deltas; gauges are before/after pairs, not deltas', () => {
  const before = sample(1000, { snmp: tcp(100, 5, 7), sockstat: 'TCP: inuse 5 tw 10\n', conntrack: ct(50, 1, 2), count: 50, max: 262144 });
  const after = sample(3500, { snmp: tcp(350, 9, 7), sockstat: 'TCP: inuse 9 tw 260\n', conntrack: ct(80, 4, 2), count: 80, max: 262144 });
  const d = deltaCounters(before, after);
  assert.equal(d.intervalMs, 2500);
  assert.deepEqual(d.counters['snmp.Tcp.ActiveOpens'], { before: 100, after: 350, delta: 250, reset: false });
  assert.equal(d.counters['snmp.Tcp.RetransSegs'].delta, 0);
  assert.deepEqual(d.counters['conntrack.insert_failed'], { before: 3, after: 6, delta: 3, reset: false });
  assert.deepEqual(d.gauges['snmp.Tcp.CurrEstab'], { before: 5, after: 9 });
  assert.deepEqual(d.gauges['snmp.Tcp.RtoMin'], { before: 200, after: 200 });
  assert.deepEqual(d.gauges['sockstat.TCP.tw'], { before: 10, after: 260 });
  assert.deepEqual(d.gauges['sockstat.TCP.inuse'], { before: 5, after: 9 });
  assert.deepEqual(d.gauges['conntrack.entries'], { before: 50, after: 80 });
  assert.deepEqual(d.gauges['conntrack.count'], { before: 50, after: 80 });
  assert.deepEqual(d.gauges['conntrack.max'], { before: 262144, after: 262144 });
  assert.equal('snmp.Tcp.CurrEstab' in d.counters, false);
  assert.equal('conntrack.entries' in d.counters, false);
});

test('a counter that went down is flagged reset with a null delta, never negative', () => {
  const d = deltaCounters(sample(0, { snmp: tcp(1000, 0, 50) }), sample(10, { snmp: tcp(12, 0, 60) }));
  assert.deepEqual(d.counters['snmp.Tcp.ActiveOpens'], { before: 1000, after: 12, delta: null, reset: true });
  assert.equal(d.counters['snmp.Tcp.RetransSegs'].delta, 10);
  assert.deepEqual(d.flags.filter((f) => f.kind === 'reset').map((f) => f.key), ['snmp.Tcp.ActiveOpens']);
});

test('one CPU wrapping its 32-bit conntrack counter is flagged even when the sum grows', () => {
  // CPU0 wraps 0xfffffff0 → 0x10; CPU1 gains more than CPU0 appears to lose.
  const before = sample(0, { conntrack: ct(1, 0xfffffff0, 0) });
  const after = sample(1000, { conntrack: ct(1, 0x10, 0xffffffff) });
  assert.ok(0x10 + 0xffffffff > 0xfffffff0);
  const d = deltaCounters(before, after);
  assert.equal(d.counters['conntrack.insert_failed'].reset, true);
  assert.equal(d.counters['conntrack.insert_failed'].delta, null);
});

test('nf_conntrack absent in both samples: one unavailable flag per source, no error, other counters still delta', () => {
  const d = deltaCounters(sample(0, { snmp: tcp(1, 0, 0) }), sample(5, { snmp: tcp(4, 0, 0) }));
  const unavailable = d.flags.filter((f) => f.kind === 'unavailable').map((f) => f.key);
  assert.deepEqual(unavailable, ['conntrackStats', 'conntrackCount', 'conntrackMax', 'netstat', 'sockstat', 'sockstat6']);
  assert.equal(d.counters['snmp.Tcp.ActiveOpens'].delta, 3);
  assert.equal(Object.keys(d.counters).some((k) => k.startsWith('conntrack.')), false);
});

test('nf_conntrack loaded between samples: the source is flagged once, not every column', () => {
  const d = deltaCounters(sample(0, {}), sample(5, { conntrack: ct(3, 1), count: 3 }));
  const conntrackFlags = d.flags.filter((f) => f.key.startsWith('conntrack'));
  assert.deepEqual(conntrackFlags.map((f) => [f.key, f.kind]), [
    ['conntrackStats', 'unavailable'],
    ['conntrackCount', 'unavailable'],
    ['conntrackMax', 'unavailable'],
  ]);
});

test('a field that appears only in the later sample is flagged appeared', () => {
  const d = deltaCounters(sample(0, { netstat: 'TcpExt: TW\nTcpExt: 1\n' }), sample(5, { netstat: 'TcpExt: TW TCPNew\nTcpExt: 2 9\n' }));
  assert.deepEqual(d.flags.filter((f) => f.kind === 'appeared').map((f) => f.key), ['netstat.TcpExt.TCPNew']);
  assert.equal(d.counters['netstat.TcpExt.TW'].delta, 1);
});

test('samples from different roots or out of order are a bug: TALLY_INTERNAL', () => {
  const isInternal = (e: unknown): boolean => e instanceof TallyError && e.code === 'TALLY_INTERNAL';
  assert.throws(() => deltaCounters(sample(0, {}, '/proc'), sample(1, {}, '/proc/42')), isInternal);
  assert.throws(() => deltaCounters(sample(10, {}), sample(1, {})), isInternal);
});

test('counterKind: sockstat and the fixed gauges are gauges; TcpExt and conntrack events are counters', () => {
  assert.equal(counterKind('sockstat.TCP.orphan'), 'gauge');
  assert.equal(counterKind('sockstat6.TCP6.inuse'), 'gauge');
  assert.equal(counterKind('snmp.Tcp.MaxConn'), 'gauge');
  assert.equal(counterKind('netstat.TcpExt.TW'), 'counter');
  assert.equal(counterKind('conntrack.insert_failed'), 'counter');
  assert.equal(counterKind('conntrack.count'), 'gauge');
});

test('property: a real recorded sample against itself has every counter delta 0 and no flags but unavailable', () => {
  const texts = { snmp: fixture('snmp.txt'), netstat: fixture('netstat.txt'), sockstat: fixture('sockstat.txt'), conntrack: fixture('nf_conntrack-stat-4cpu-legacy.txt'), count: 0, max: 262144 };
  const d = deltaCounters(sample(0, texts), sample(0, texts));
  assert.ok(Object.keys(d.counters).length > 200);
  assert.ok(Object.values(d.counters).every((c) => c.delta === 0 && !c.reset));
  assert.deepEqual(d.flags.map((f) => f.kind), ['unavailable']);
});

test('property: deltas over consecutive intervals add up to the delta over the whole (seeded)', () => {
  const rng = createRng(7);
  for (let round = 0; round < 50; round++) {
    const a = rng.int(1e6);
    const b = a + rng.int(1e6);
    const c = b + rng.int(1e6);
    const [sa, sb, sc] = [a, b, c].map((v, i) => sample(i * 100, { snmp: tcp(v, rng.int(100), 0) }));
    const ab = deltaCounters(sa, sb).counters['snmp.Tcp.ActiveOpens'].delta ?? Number.NaN;
    const bc = deltaCounters(sb, sc).counters['snmp.Tcp.ActiveOpens'].delta ?? Number.NaN;
    assert.equal(ab + bc, deltaCounters(sa, sc).counters['snmp.Tcp.ActiveOpens'].delta);
  }
});
