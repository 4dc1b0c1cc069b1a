/**
 * Plans the `ip` / `nft` commands that build a lab, as data: each step is an argv (never a
 * shell string) and optional stdin. Pure, so the exact commands are testable without
 * root; lab/netns.ts runs them in order.
 *
 * Every veth pair is created from inside the node namespace with its peer placed straight
 * into the other namespace (`ip -n <node> link add … peer name eth0 netns <ns>`), so no
 * interface ever appears in the host's namespace, not even briefly.
 */
import { renderRuleset } from './nft.ts';
import type { LabTopology } from './topology.ts';

/** One command of a plan. */
export interface LabStep {
  /** What the step does, for error messages. */
  what: string;
  /** Program and arguments, e.g. `['ip', '-n', 'tally-lab-node', 'link', 'set', 'br0', 'up']`. */
  argv: string[];
  /** Text written to the command's stdin, if any. */
  input?: string;
}

/**
 * The steps that build a lab's namespaces, links, addresses, routes, forwarding and
 * nftables ruleset (not the backend processes, which lab/lifecycle.ts starts afterwards).
 * @param topology from planTopology.
 * @returns steps in execution order.
 * @see ip-netns(8), ip-link(8) (veth, bridge), ip-address(8), ip-route(8), nft(8)
 */
export function planUpSteps(topology: LabTopology): LabStep[] {
  const { node, client, prefixLength } = topology;
  const n = node.namespace;
  const steps: LabStep[] = [];
  const namespaces = [n, client.namespace, ...topology.backends.map((b) => b.namespace)];
  for (const ns of namespaces) steps.push({ what: `create namespace ${ns}`, argv: ['ip', 'netns', 'add', ns] });
  for (const ns of namespaces) steps.push({ what: `loopback up in ${ns}`, argv: ['ip', '-n', ns, 'link', 'set', 'lo', 'up'] });

  steps.push(
    { what: 'create the node bridge', argv: ['ip', '-n', n, 'link', 'add', node.bridgeIfName, 'type', 'bridge'] },
    { what: 'address the node bridge', argv: ['ip', '-n', n, 'address', 'add', `${node.bridgeAddress}/${prefixLength}`, 'dev', node.bridgeIfName] },
    { what: 'node bridge up', argv: ['ip', '-n', n, 'link', 'set', node.bridgeIfName, 'up'] },
  );
  for (const b of topology.backends) {
    steps.push(
      ...vethSteps(n, b.nodeIfName, b.namespace, b.ifName),
      { what: `attach ${b.nodeIfName} to the bridge`, argv: ['ip', '-n', n, 'link', 'set', b.nodeIfName, 'master', node.bridgeIfName] },
      { what: `${b.nodeIfName} up`, argv: ['ip', '-n', n, 'link', 'set', b.nodeIfName, 'up'] },
      ...endpointAddressSteps(b.namespace, b.ifName, `${b.address}/${prefixLength}`, node.bridgeAddress),
    );
  }
  steps.push(
    ...vethSteps(n, node.clientIfName, client.namespace, client.ifName),
    { what: 'address the node side of the client link', argv: ['ip', '-n', n, 'address', 'add', `${node.clientSideAddress}/${prefixLength}`, 'dev', node.clientIfName] },
    { what: `${node.clientIfName} up`, argv: ['ip', '-n', n, 'link', 'set', node.clientIfName, 'up'] },
    ...endpointAddressSteps(client.namespace, client.ifName, `${client.address}/${prefixLength}`, client.gateway),
    // sysctl(8) is procps, which minimal images lack; tee is coreutils. /proc/sys/net shows the opener's netns.
    { what: 'enable IPv4 forwarding in the node', argv: ['ip', 'netns', 'exec', n, 'tee', '/proc/sys/net/ipv4/ip_forward'], input: '1\n' },
    { what: 'load the nftables ruleset in the node', argv: ['ip', 'netns', 'exec', n, 'nft', '-f', '-'], input: renderRuleset(topology) },
  );
  return steps;
}

/**
 * The steps that delete namespaces; deleting the node namespace also deletes its bridge,
 * veths and nftables table. Stopping processes inside them is done first, separately.
 * @param namespaces names to delete.
 * @see ip-netns(8) `ip netns del`
 */
export function planDownSteps(namespaces: readonly string[]): LabStep[] {
  return namespaces.map((ns) => ({ what: `delete namespace ${ns}`, argv: ['ip', 'netns', 'del', ns] }));
}

function vethSteps(nodeNs: string, nodeIfName: string, peerNs: string, peerIfName: string): LabStep[] {
  return [
    {
      what: `create veth ${nodeIfName} (${nodeNs}) ↔ ${peerIfName} (${peerNs})`,
      argv: ['ip', '-n', nodeNs, 'link', 'add', nodeIfName, 'type', 'veth', 'peer', 'name', peerIfName, 'netns', peerNs],
    },
  ];
}

function endpointAddressSteps(ns: string, ifName: string, addressCidr: string, gateway: string): LabStep[] {
  return [
    { what: `address ${ifName} in ${ns}`, argv: ['ip', '-n', ns, 'address', 'add', addressCidr, 'dev', ifName] },
    { what: `${ifName} up in ${ns}`, argv: ['ip', '-n', ns, 'link', 'set', ifName, 'up'] },
    { what: `default route in ${ns}`, argv: ['ip', '-n', ns, 'route', 'add', 'default', 'via', gateway] },
  ];
}
