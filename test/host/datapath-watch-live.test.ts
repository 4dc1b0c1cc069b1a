/**
 * DatapathWatch.sinceStart: the delta from the before-run sample to the latest interval
 * sample, which live thresholds judge by while the run goes (the SYN-retransmit
 * signature's corroboration among them). Real /proc counters of this network namespace.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo } from 'node:net';
import { DatapathWatch, selfSampler } from '../../host/datapath-watch.ts';

async function openConnections(n: number): Promise<void> {
  const server = createServer((s) => s.resume().on('end', () => s.end()));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  for (let i = 0; i < n; i++) {
    const c = connect(port, '127.0.0.1');
    await once(c, 'connect');
    c.end();
    await once(c, 'close');
  }
  await new Promise((r) => server.close(r));
}

test('sinceStart is the delta up to the latest interval sample, and moves only when sampled', async () => {
  const watch = new DatapathWatch(selfSampler());
  assert.equal(watch.sinceStart(), undefined, 'nothing before the first sample');
  await watch.start();
  await openConnections(20);
  const atStart = watch.sinceStart()!;
  assert.equal(atStart.counters['snmp.Tcp.ActiveOpens']?.delta, 0, 'not sampled since the start yet');
  await watch.interval();
  const opened = watch.sinceStart()!.counters['snmp.Tcp.ActiveOpens']?.delta ?? 0;
  assert.ok(opened >= 20, `ActiveOpens delta ${opened} after 20 connections`);
  const whole = await watch.finish();
  assert.ok((whole.counters['snmp.Tcp.ActiveOpens']?.delta ?? 0) >= opened);
  await watch.sampler.close();
});
