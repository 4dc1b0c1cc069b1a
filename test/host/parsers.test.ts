/**
 * Parsers against fixtures recorded from a real /proc (see fixtures/README.md), plus one
 * hand-written fixture in the documented legacy conntrack format.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseConntrackStats } from '../../host/conntrack.ts';
import { parseSysctlInteger } from '../../host/proc-text.ts';
import { parseNetstat, parseSnmp } from '../../host/snmp.ts';
import { parseSockstat } from '../../host/sockstat.ts';

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

test('parseSnmp reads every group of a recorded /proc/net/snmp, Tcp fields by name', () => {
  const snmp = parseSnmp(fixture('snmp.txt'));
  assert.deepEqual(Object.keys(snmp), ['Ip', 'Icmp', 'IcmpMsg', 'Tcp', 'Udp', 'UdpLite']);
  assert.deepEqual(snmp.Tcp, {
    RtoAlgorithm: 1, RtoMin: 200, RtoMax: 120000, MaxConn: -1, ActiveOpens: 58, PassiveOpens: 2,
    AttemptFails: 0, EstabResets: 0, CurrEstab: 0, InSegs: 4299, OutSegs: 2463, RetransSegs: 0,
    InErrs: 0, OutRsts: 94, InCsumErrors: 0,
  });
  assert.equal(snmp.Udp.InDatagrams, 75);
  assert.equal(snmp.Udp.MemErrors, 0);
  assert.equal(snmp.IcmpMsg.InType3, 1);
});

test('parseNetstat keeps all TcpExt, IpExt and MPTcpExt fields generically', () => {
  const netstat = parseNetstat(fixture('netstat.txt'));
  assert.deepEqual(Object.keys(netstat), ['TcpExt', 'IpExt', 'MPTcpExt']);
  assert.equal(Object.keys(netstat.TcpExt).length, 135);
  assert.equal(Object.keys(netstat.MPTcpExt).length, 76);
  const { TW, TWRecycled, TWKilled, ListenOverflows, ListenDrops, TCPSynRetrans, TCPTimeouts, TCPAbortOnTimeout } = netstat.TcpExt;
  assert.deepEqual(
    { TW, TWRecycled, TWKilled, ListenOverflows, ListenDrops, TCPSynRetrans, TCPTimeouts, TCPAbortOnTimeout },
    { TW: 10, TWRecycled: 0, TWKilled: 0, ListenOverflows: 0, ListenDrops: 0, TCPSynRetrans: 0, TCPTimeouts: 2, TCPAbortOnTimeout: 0 },
  );
  assert.equal(netstat.IpExt.InOctets > 0, true);
});

test('parseSockstat reads TCP gauges and every other protocol line', () => {
  const sockstat = parseSockstat(fixture('sockstat.txt'));
  assert.deepEqual(sockstat.TCP, { inuse: 1, orphan: 0, tw: 0, alloc: 1, mem: 178 });
  assert.deepEqual(sockstat.sockets, { used: 13 });
  assert.deepEqual(sockstat.FRAG, { inuse: 0, memory: 0 });
  assert.deepEqual(parseSockstat(fixture('sockstat6.txt'), '/proc/net/sockstat6').TCP6, { inuse: 0 });
});

test('parseConntrackStats reads the modern header from a recorded file (2 CPUs, all zero)', () => {
  const ct = parseConntrackStats(fixture('nf_conntrack-stat.txt'));
  assert.equal(ct.columns.length, 17);
  assert.equal(ct.columns[1], 'clashres');
  assert.equal(ct.columns[7], 'chainlength');
  assert.equal(ct.entries, 0);
  assert.equal(ct.perCpu.length, 2);
  assert.equal('entries' in ct.totals, false);
  assert.equal(ct.totals.insert_failed, 0);
});

test('parseConntrackStats sums per-CPU hex counters but not the namespace-wide entries (legacy header, documented format)', () => {
  const ct = parseConntrackStats(fixture('nf_conntrack-stat-4cpu-legacy.txt'));
  assert.equal(ct.columns[1], 'searched');
  assert.equal(ct.columns[7], 'delete_list');
  assert.equal(ct.perCpu.length, 4);
  // 0xa1f3 on every row: the count, once, not four times.
  assert.equal(ct.entries, 0xa1f3);
  assert.deepEqual(ct.totals, {
    searched: 0,
    found: 0x1e240 + 0xfde8 + 0xffffff00,
    new: 0x3039 + 0x1f40 + 0x2710,
    invalid: 0x11 + 0x3,
    ignore: 0x2a3c5 + 0x1f8e1 + 0x11170,
    delete: 0x3001 + 0x1e00 + 0x26f0,
    delete_list: 0,
    insert: 0x3039 + 0x1f40 + 0x2710,
    insert_failed: 3,
    drop: 3,
    early_drop: 0,
    icmp_error: 1,
    expect_new: 0,
    expect_create: 0,
    expect_delete: 0,
    search_restart: 7,
  });
  assert.equal(ct.perCpu[2].found, 0xffffff00);
});

test('parseSysctlInteger reads the recorded nf_conntrack_count and nf_conntrack_max', () => {
  assert.equal(parseSysctlInteger(fixture('nf_conntrack_count.txt'), '/proc/sys/net/netfilter/nf_conntrack_count'), 0);
  assert.equal(parseSysctlInteger(fixture('nf_conntrack_max.txt'), '/proc/sys/net/netfilter/nf_conntrack_max'), 262144);
});

test('parsers accept a missing trailing newline and skip blank lines', () => {
  assert.deepEqual(parseSnmp('Tcp: ActiveOpens CurrEstab\nTcp: 5 1').Tcp, { ActiveOpens: 5, CurrEstab: 1 });
  assert.deepEqual(parseSockstat('\nTCP: inuse 2 tw 7\n\n').TCP, { inuse: 2, tw: 7 });
});
