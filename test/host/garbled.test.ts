/**
 * Garbled /proc text must fail with a CollectorError that names the file and the line,
 * never parse into wrong numbers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CollectorError } from '../../core/errors.ts';
import { parseConntrackStats } from '../../host/conntrack.ts';
import { parseSysctlInteger } from '../../host/proc-text.ts';
import { parseNetstat, parseSnmp } from '../../host/snmp.ts';
import { parseSockstat } from '../../host/sockstat.ts';

/** Assert `fn` throws TALLY_COLLECTOR_BAD_REPLY whose details name `file` and `line`. */
function assertGarbled(fn: () => unknown, file: string, line: number): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof CollectorError);
    assert.equal(error.code, 'TALLY_COLLECTOR_BAD_REPLY');
    assert.deepEqual({ file: (error.details as { file: string }).file, line: (error.details as { line: number }).line }, { file, line });
    return true;
  });
}

const SNMP = '/proc/net/snmp';
const table: { name: string; fn: () => unknown; file: string; line: number }[] = [
  { name: 'snmp: empty', fn: () => parseSnmp(''), file: SNMP, line: 0 },
  { name: 'snmp: header without values', fn: () => parseSnmp('Tcp: A B\nTcp: 1 2\nUdp: X\n'), file: SNMP, line: 3 },
  { name: 'snmp: value line for another group', fn: () => parseSnmp('Tcp: A B\nUdp: 1 2\n'), file: SNMP, line: 2 },
  { name: 'snmp: fewer values than fields', fn: () => parseSnmp('Ip: F T\nIp: 1 64\nTcp: A B C\nTcp: 1 2\n'), file: SNMP, line: 4 },
  { name: 'snmp: non-integer value', fn: () => parseSnmp('Tcp: A B\nTcp: 1 0x2\n'), file: SNMP, line: 2 },
  { name: 'snmp: no "Group:" prefix', fn: () => parseSnmp('garbage here\nTcp: 1\n'), file: SNMP, line: 1 },
  { name: 'snmp: group twice', fn: () => parseSnmp('Tcp: A\nTcp: 1\nTcp: A\nTcp: 2\n'), file: SNMP, line: 3 },
  { name: 'snmp: truncated read (blank line kept in numbering)', fn: () => parseSnmp('Tcp: A B\n\nTcp: 1 2\nUdp: X Y\nUdp: 1 2 3'), file: SNMP, line: 5 },
  { name: 'netstat: custom path is named', fn: () => parseNetstat('TcpExt: TW\nTcpExt: -\n', '/proc/4242/net/netstat'), file: '/proc/4242/net/netstat', line: 2 },
  { name: 'sockstat: odd tokens', fn: () => parseSockstat('sockets: used 3\nTCP: inuse 1 orphan\n'), file: '/proc/net/sockstat', line: 2 },
  { name: 'sockstat: non-integer', fn: () => parseSockstat('TCP: inuse one\n'), file: '/proc/net/sockstat', line: 1 },
  { name: 'sockstat: no colon', fn: () => parseSockstat('TCP inuse 1\n'), file: '/proc/net/sockstat', line: 1 },
  { name: 'conntrack: empty', fn: () => parseConntrackStats(''), file: '/proc/net/stat/nf_conntrack', line: 0 },
  { name: 'conntrack: header only', fn: () => parseConntrackStats('entries found\n'), file: '/proc/net/stat/nf_conntrack', line: 1 },
  { name: 'conntrack: short row', fn: () => parseConntrackStats('entries found drop\n00000001 00000002 00000003\n00000001 00000002\n'), file: '/proc/net/stat/nf_conntrack', line: 3 },
  { name: 'conntrack: non-hex value', fn: () => parseConntrackStats('entries found\n00000001 0000zz02\n'), file: '/proc/net/stat/nf_conntrack', line: 2 },
  { name: 'conntrack: header is numbers (header row lost)', fn: () => parseConntrackStats('00000001 00000002\n00000001 00000002\n'), file: '/proc/net/stat/nf_conntrack', line: 1 },
  { name: 'conntrack: header repeats a column', fn: () => parseConntrackStats('entries found found\n1 2 3\n'), file: '/proc/net/stat/nf_conntrack', line: 1 },
  { name: 'sysctl: two values', fn: () => parseSysctlInteger('1 2\n', '/proc/sys/net/netfilter/nf_conntrack_max'), file: '/proc/sys/net/netfilter/nf_conntrack_max', line: 1 },
  { name: 'sysctl: word', fn: () => parseSysctlInteger('lots\n', '/proc/sys/net/netfilter/nf_conntrack_count'), file: '/proc/sys/net/netfilter/nf_conntrack_count', line: 1 },
  { name: 'sysctl: a second line', fn: () => parseSysctlInteger('1\n\n2\n', '/proc/sys/net/netfilter/nf_conntrack_max'), file: '/proc/sys/net/netfilter/nf_conntrack_max', line: 3 },
  { name: 'sysctl: empty', fn: () => parseSysctlInteger('', '/proc/sys/net/netfilter/nf_conntrack_count'), file: '/proc/sys/net/netfilter/nf_conntrack_count', line: 0 },
];

for (const { name, fn, file, line } of table) {
  test(`garbled ${name} → CollectorError naming ${file}:${line}`, () => assertGarbled(fn, file, line));
}
