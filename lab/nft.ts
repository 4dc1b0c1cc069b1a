/**
 * Renders the node namespace's nftables ruleset: a Service VIP DNATed to its endpoints
 * with random endpoint choice, laid out as kube-proxy's nftables mode lays it out (a
 * `service-ips` verdict map keyed by VIP . protocol . port, one chain per service with a
 * `numgen random mod N` vmap, one chain per endpoint doing the DNAT), plus the optional
 * conntrack cap. Pure: topology in, `nft -f` text out.
 *
 * The cap: `nf_conntrack_max` is one table size for the whole host and is read-only in
 * any network namespace but the initial one, so the lab cannot shrink it for its node
 * alone. Instead a filter chain at prerouting, priority mangle (after conntrack has
 * looked the packet up, before DNAT), drops the first packet of every new connection
 * while more than N connections are live: `ct state new ct count over N drop`. `ct count`
 * (nft_connlimit) forgets connections that conntrack has closed (TIME_WAIT, CLOSE) or
 * destroyed, so held-open connections fill the cap and short-lived ones free it. A client
 * sees what a full conntrack table does to it: its SYN vanishes, it retransmits after
 * ~1 s, and its connect times out. The drops are counted by a named counter rather than
 * by `/proc/net/stat/nf_conntrack` `drop`, which only counts the kernel's own table-full
 * drops.
 */
import type { LabTopology } from './topology.ts';

/** Named counter: first packets of new connections dropped by the conntrack cap (packets, bytes). */
export const CAP_DROP_COUNTER = 'conntrack-cap-drop';

/** Chain names of the rendered ruleset (see {@link renderRuleset}). */
export const NFT_CHAINS = {
  cap: 'conntrack-cap',
  natPrerouting: 'nat-prerouting',
  services: 'services',
} as const;

/**
 * Named counter of one endpoint: connections DNATed to it (packets = connections, since
 * a nat chain sees only the first packet of each connection).
 * @param backendName e.g. `be0`.
 */
export function endpointCounterName(backendName: string): string {
  return `endpoint-${backendName}`;
}

/** Chain of one service, `service-<name>-tcp-p<port>`. */
export function serviceChainName(topology: LabTopology): string {
  return `service-${topology.service.name}-tcp-p${topology.service.port}`;
}

/** Chain of one endpoint, `endpoint-<backend>`. */
export function endpointChainName(backendName: string): string {
  return `endpoint-${backendName}`;
}

/**
 * The ruleset text for `nft -f -` in the node namespace.
 * @param topology from planTopology.
 * @returns one `table ip <nftTable> { … }` block. Counters: {@link CAP_DROP_COUNTER} (always
 *   present, so `status` has the same shape with or without a cap) and one
 *   {@link endpointCounterName} per backend.
 * @see https://wiki.nftables.org/wiki-nftables/index.php/Load_balancing
 * @see https://wiki.nftables.org/wiki-nftables/index.php/Connlimits
 * @see https://kubernetes.io/docs/reference/networking/virtual-ips/#proxy-mode-nftables
 */
export function renderRuleset(topology: LabTopology): string {
  const { service, backends } = topology;
  const serviceChain = serviceChainName(topology);
  const vmap = backends.map((b) => `${b.index} : goto ${endpointChainName(b.name)}`).join(', ');
  const lines: string[] = [
    `table ip ${topology.nftTable} {`,
    `  counter ${CAP_DROP_COUNTER} { }`,
    ...backends.map((b) => `  counter ${endpointCounterName(b.name)} { }`),
    '',
    '  map service-ips {',
    '    type ipv4_addr . inet_proto . inet_service : verdict',
    `    elements = { ${service.vip} . tcp . ${service.port} : goto ${serviceChain} }`,
    '  }',
    '',
    `  chain ${NFT_CHAINS.cap} {`,
    '    type filter hook prerouting priority mangle; policy accept;',
    ...(topology.conntrackMaxConnections === null
      ? []
      : [`    ct state new ct count over ${topology.conntrackMaxConnections} counter name "${CAP_DROP_COUNTER}" drop`]),
    '  }',
    '',
    `  chain ${NFT_CHAINS.natPrerouting} {`,
    '    type nat hook prerouting priority dstnat; policy accept;',
    `    jump ${NFT_CHAINS.services}`,
    '  }',
    '',
    `  chain ${NFT_CHAINS.services} {`,
    '    ip daddr . meta l4proto . th dport vmap @service-ips',
    '  }',
    '',
    `  chain ${serviceChain} {`,
    `    numgen random mod ${backends.length} vmap { ${vmap} }`,
    '  }',
  ];
  for (const b of backends) {
    lines.push(
      '',
      `  chain ${endpointChainName(b.name)} {`,
      `    counter name "${endpointCounterName(b.name)}" meta l4proto tcp dnat to ${b.address}:${b.port}`,
      '  }',
    );
  }
  lines.push('}', '');
  return lines.join('\n');
}
