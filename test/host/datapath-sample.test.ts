/**
 * The /proc edge end to end: real /proc with real loopback sockets, a temporary root
 * built from fixtures (absent and garbled files), and another network namespace through
 * /proc/<pid> when the machine lets us create one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { manualClock } from '../../core/clock.ts';
import { CollectorError } from '../../core/errors.ts';
import { deltaCounters } from '../../host/datapath-delta.ts';
import { sampleDatapathCounters } from '../../host/datapath-sample.ts';

const fixturePath = (name: string): string => new URL(`./fixtures/${name}`, import.meta.url).pathname;

/** Open and close `n` TCP connections to a loopback server, `parallel` at a time. */
async function churn(n: number, parallel = 20): Promise<void> {
  const server = createServer((socket) => socket.end());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const one = async (): Promise<void> => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.on('data', () => {});
    socket.once('connect', () => socket.end());
    await once(socket, 'close');
  };
  try {
    for (let done = 0; done < n; done += parallel) {
      await Promise.all(Array.from({ length: Math.min(parallel, n - done) }, one));
    }
  } finally {
    server.close();
    await once(server, 'close');
  }
}

test('real /proc: 200 loopback connections between two samples → Tcp.ActiveOpens delta ≥ 200', async () => {
  const before = await sampleDatapathCounters();
  await churn(200);
  const after = await sampleDatapathCounters();
  assert.equal(before.snmp.status, 'ok');
  assert.equal(before.netstat.status, 'ok');
  assert.equal(before.sockstat.status, 'ok');
  const d = deltaCounters(before, after);
  assert.ok(d.intervalMs > 0);
  const activeOpens = d.counters['snmp.Tcp.ActiveOpens'];
  assert.ok(activeOpens.delta !== null && activeOpens.delta >= 200, `ActiveOpens delta ${activeOpens.delta}`);
  const passiveOpens = d.counters['snmp.Tcp.PassiveOpens'];
  assert.ok(passiveOpens.delta !== null && passiveOpens.delta >= 200, `PassiveOpens delta ${passiveOpens.delta}`);
  assert.ok('sockstat.TCP.tw' in d.gauges);
  // Whether nf_conntrack is loaded depends on the machine; either way it is data, not an error.
  for (const source of [after.conntrackStats, after.conntrackCount, after.conntrackMax]) {
    assert.ok(source.status === 'ok' || (source.status === 'unavailable' && source.reason.length > 0));
  }
});

test('temporary root: absent nf_conntrack files are unavailable with errno and reason; the clock is injected', async () => {
  const root = mkdtempSync(join(tmpdir(), 'tally-proc-'));
  try {
    mkdirSync(join(root, 'net'));
    copyFileSync(fixturePath('snmp.txt'), join(root, 'net/snmp'));
    copyFileSync(fixturePath('netstat.txt'), join(root, 'net/netstat'));
    copyFileSync(fixturePath('sockstat.txt'), join(root, 'net/sockstat'));
    const clock = manualClock(5000);
    const s = await sampleDatapathCounters(root, { clock });
    assert.equal(s.root, root);
    assert.equal(s.monotonicMs, 5000);
    assert.equal(s.readSpanMs, 0);
    assert.equal(s.snmp.status === 'ok' && s.snmp.value.Tcp.ActiveOpens, 58);
    for (const source of [s.conntrackStats, s.conntrackCount, s.conntrackMax, s.sockstat6]) {
      assert.equal(source.status, 'unavailable');
      assert.equal(source.status === 'unavailable' && source.errno, 'ENOENT');
    }
    assert.equal(s.conntrackStats.file, join(root, 'net/stat/nf_conntrack'));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('temporary root: a garbled file fails the sample with TALLY_COLLECTOR_BAD_REPLY naming that file and line', async () => {
  const root = mkdtempSync(join(tmpdir(), 'tally-proc-'));
  try {
    mkdirSync(join(root, 'net'));
    const snmp = readFileSync(fixturePath('snmp.txt'), 'utf8').replace('Tcp: 1 200 120000 -1 58', 'Tcp: 1 200 120000 -1 5?');
    writeFileSync(join(root, 'net/snmp'), snmp);
    await assert.rejects(sampleDatapathCounters(root), (error: unknown) => {
      assert.ok(error instanceof CollectorError);
      assert.equal(error.code, 'TALLY_COLLECTOR_BAD_REPLY');
      assert.deepEqual(
        { file: (error.details as { file: string }).file, line: (error.details as { line: number }).line },
        { file: join(root, 'net/snmp'), line: 8 },
      );
      return true;
    });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('another network namespace via /proc/<pid>: its own counters, sysctls unavailable', async () => {
  const child = spawn('unshare', ['--net', 'sleep', '30'], { stdio: 'ignore' });
  const exited = new Promise((resolve) => child.once('close', resolve));
  try {
    try {
      await once(child, 'spawn');
    } catch {
      assert.fail('unshare is not installed: install util-linux (CI runs as root with it)');
    }
    // unshare execs sleep in the same pid once the namespace exists; wait until it has.
    const root = `/proc/${child.pid}`;
    const ownNetns = readlinkSync('/proc/self/ns/net');
    for (let i = 0; i < 50 && child.exitCode === null && readlinkSync(`${root}/ns/net`) === ownNetns; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.ok(
      child.exitCode === null && readlinkSync(`${root}/ns/net`) !== ownNetns,
      'cannot create a network namespace here (unshare --net needs CAP_SYS_ADMIN; tests run as root)',
    );
    await churn(20);
    const s = await sampleDatapathCounters(root);
    assert.equal(s.snmp.status, 'ok');
    // A fresh namespace has opened no connections, whatever this one just did.
    assert.equal(s.snmp.status === 'ok' && s.snmp.value.Tcp.ActiveOpens, 0);
    assert.equal(s.conntrackCount.status, 'unavailable');
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill();
    if (child.pid !== undefined) await exited;
  }
});
