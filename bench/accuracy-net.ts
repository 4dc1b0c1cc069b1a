/**
 * The accuracy bench's network: three namespaces made for one run and removed after it.
 *
 * ```
 *  client ns                     middle ns                       server ns
 *  vxlan 10.232.0.1 ─┐                                       ┌─ vxlan 10.232.0.2 (nginx :8080)
 *  veth 10.231.1.1 ══╪══ veth 10.231.1.2 ── delay relay ── veth 10.231.2.2 ══╪══ veth 10.231.2.1
 *                    └─ the capture (tcpdump on the client's veth) ─┘
 * ```
 *
 * The load goes to 10.232.0.2 over VXLAN whose remote end, on both sides, is the relay in
 * the middle: every packet (the handshake too) crosses it, delayed by a fixed time in each
 * direction. Both VXLAN devices have static neighbour entries, so no ARP crosses the delay
 * line during a run. The client and server namespaces reuse TIME_WAIT ports
 * (`tcp_tw_reuse=1`) over the whole port range: the bench measures timing, not the port
 * budget. Everything is created with `ip` (iproute2) and removed by the names it created.
 *
 * @see ip-netns(8), ip-link(8) (veth, vxlan)
 */
import { runTool } from '../lab/netns.ts';

/** Names and addresses of one bench run's network. */
export interface AccuracyTopology {
  client: string;
  middle: string;
  server: string;
  /** The client's veth: the capture's interface. */
  clientVeth: string;
  clientIp: string;
  serverIp: string;
  serverPort: number;
  relay: { clientSide: string; clientPeer: string; serverSide: string; serverPeer: string; port: number };
}

/** The topology of run `tag` (a short number: names must fit 15 characters). */
export function accuracyTopology(tag: number): AccuracyTopology {
  const t = String(tag % 100_000);
  return {
    client: `tally-acc-${t}-cli`,
    middle: `tally-acc-${t}-mid`,
    server: `tally-acc-${t}-srv`,
    clientVeth: `ta${t}c0`,
    clientIp: '10.232.0.1',
    serverIp: '10.232.0.2',
    serverPort: 8080,
    relay: { clientSide: '10.231.1.2', clientPeer: '10.231.1.1', serverSide: '10.231.2.2', serverPeer: '10.231.2.1', port: 4789 },
  };
}

/** The `ip` commands that build the topology, in order (pure). */
export function accuracyUpSteps(n: AccuracyTopology): string[][] {
  const t = n.clientVeth.slice(2, -2);
  const [cv, mc, ms, sv] = [n.clientVeth, `ta${t}c1`, `ta${t}s1`, `ta${t}s0`];
  const r = n.relay;
  const steps: string[][] = [];
  for (const ns of [n.client, n.middle, n.server]) steps.push(['ip', 'netns', 'add', ns], ['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  steps.push(
    ['ip', 'link', 'add', cv, 'netns', n.client, 'type', 'veth', 'peer', 'name', mc, 'netns', n.middle],
    ['ip', 'link', 'add', sv, 'netns', n.server, 'type', 'veth', 'peer', 'name', ms, 'netns', n.middle],
    ['ip', '-n', n.client, 'addr', 'add', `${r.clientPeer}/30`, 'dev', cv],
    ['ip', '-n', n.middle, 'addr', 'add', `${r.clientSide}/30`, 'dev', mc],
    ['ip', '-n', n.middle, 'addr', 'add', `${r.serverSide}/30`, 'dev', ms],
    ['ip', '-n', n.server, 'addr', 'add', `${r.serverPeer}/30`, 'dev', sv],
    ['ip', '-n', n.client, 'link', 'set', cv, 'up'],
    ['ip', '-n', n.middle, 'link', 'set', mc, 'up'],
    ['ip', '-n', n.middle, 'link', 'set', ms, 'up'],
    ['ip', '-n', n.server, 'link', 'set', sv, 'up'],
  );
  for (const [ns, local, remote, ip] of [[n.client, r.clientPeer, r.clientSide, n.clientIp], [n.server, r.serverPeer, r.serverSide, n.serverIp]]) {
    steps.push(
      ['ip', '-n', ns, 'link', 'add', 'accvx', 'type', 'vxlan', 'id', '232', 'local', local, 'remote', remote, 'dstport', String(r.port), 'nolearning'],
      ['ip', '-n', ns, 'link', 'set', 'accvx', 'mtu', '1400'],
      ['ip', '-n', ns, 'addr', 'add', `${ip}/24`, 'dev', 'accvx'],
      ['ip', '-n', ns, 'link', 'set', 'accvx', 'up'],
      ['ip', 'netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv4.tcp_tw_reuse=1', 'net.ipv4.ip_local_port_range=1024 65000', 'net.core.somaxconn=8192', 'net.ipv4.tcp_max_syn_backlog=8192'],
    );
  }
  return steps;
}

async function macOf(ns: string, dev: string): Promise<string> {
  const { stdout } = await runTool(['ip', '-n', ns, '-j', 'link', 'show', dev], { what: `read ${dev}'s address in ${ns}` });
  return (JSON.parse(stdout) as { address: string }[])[0].address;
}

/**
 * Build the topology. On failure, what was built is removed before the error is thrown.
 * @throws CollectorError `TALLY_COLLECTOR_FAILED` naming the `ip` command that failed (not root, no vxlan).
 */
export async function accuracyUp(n: AccuracyTopology): Promise<void> {
  try {
    for (const argv of accuracyUpSteps(n)) await runTool(argv, { what: 'accuracy bench network' });
    const [clientMac, serverMac] = await Promise.all([macOf(n.client, 'accvx'), macOf(n.server, 'accvx')]);
    await runTool(['ip', '-n', n.client, 'neigh', 'replace', n.serverIp, 'lladdr', serverMac, 'dev', 'accvx', 'nud', 'permanent']);
    await runTool(['ip', '-n', n.server, 'neigh', 'replace', n.clientIp, 'lladdr', clientMac, 'dev', 'accvx', 'nud', 'permanent']);
  } catch (error) {
    await accuracyDown(n);
    throw error;
  }
}

/** Remove the namespaces (their veths and VXLAN devices go with them); ones already gone are fine. */
export async function accuracyDown(n: AccuracyTopology): Promise<void> {
  for (const ns of [n.client, n.middle, n.server]) await runTool(['ip', 'netns', 'del', ns], { what: `remove ${ns}` }).catch(() => {});
}
