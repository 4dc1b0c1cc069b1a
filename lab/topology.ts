/**
 * The lab's topology planner: lab options in, every namespace, interface, address and
 * the Service out. Pure: no I/O, so the same options always give the same lab.
 *
 * Shape (the analogue of one Kubernetes node running kube-proxy in nftables mode):
 *
 * ```
 *  tally-<lab>-client            tally-<lab>-node                        tally-<lab>-be<i>
 *  eth0 10.203.2.2/24 ──veth── client 10.203.2.1/24
 *  default via 10.203.2.1         (routes, ip_forward=1, nftables,
 *                                  nf_conntrack)
 *                                 br0 10.203.0.1/24 ─┬─ be0 ──veth── eth0 10.203.0.10/24
 *                                                    ├─ be1 ──veth── eth0 10.203.0.11/24
 *                                                    └─ …           default via 10.203.0.1
 *  Service VIP 10.203.1.1:<port> (on no interface, like a ClusterIP), DNAT in the node's
 *  nat prerouting chain to <backend>:<targetPort>.
 * ```
 *
 * Why conntrack in the node namespace sees every connection: the client and the backends
 * are on different IP subnets, so neither can reach the other at layer 2. The client's
 * packets (default route) and the backends' replies (their default route; the client's
 * subnet is not on-link for them) are addressed to the node's own MAC and so are routed by
 * the node's IP stack, passing its netfilter hooks and nf_conntrack both ways. The bridge
 * only switches frames between backends, which the lab never sends, so br_netfilter is
 * not needed. The same layout with the client on the bridge's subnet would break: the
 * backend would answer the client directly over the bridge, bypassing un-DNAT.
 *
 * Addresses: 10.203.0.0/24 (backends), 10.203.1.0/24 (Service VIPs), 10.203.2.0/24
 * (client) exist only inside the lab's namespaces, which have no link to the host's
 * network namespace: no route or address is ever added on the host's interfaces.
 */
import { ConfigError } from '../core/errors.ts';
import type { InputProblem } from '../core/errors.ts';

/** The options `tally lab up` accepts, after flag parsing. */
export interface LabOptions {
  /** Lab name, `[a-z0-9]{1,12}`: namespaces are `tally-<lab>-…`, so several labs can coexist. */
  lab: string;
  /** Number of backend namespaces (Service endpoints), 1…200. */
  backends: number;
  /** Service port on the VIP (TCP), 1…65535. */
  servicePort: number;
  /** Port every backend's target listens on (the Service's targetPort), 1…65535. */
  targetPort: number;
  /** Cap on live tracked connections in the node namespace (nft `ct count over`), or null for none. */
  conntrackMaxConnections: number | null;
}

/** One backend: a namespace with one veth into the node's bridge and one target process. */
export interface BackendPlan {
  /** Short name, `be<i>`; also the `x-tally-backend` response header value. */
  name: string;
  /** Index i, also the `numgen random mod N` value that selects it. */
  index: number;
  /** Network namespace, `tally-<lab>-be<i>`. */
  namespace: string;
  /** The veth end inside the backend namespace. */
  ifName: string;
  /** The veth end inside the node namespace, a port of the bridge. */
  nodeIfName: string;
  /** IPv4 address (no prefix length). */
  address: string;
  /** Port the backend's target listens on. */
  port: number;
}

/** The whole lab, as {@link planTopology} derives it. */
export interface LabTopology {
  lab: string;
  /** Prefix of every namespace of this lab, `tally-<lab>-`. */
  namespacePrefix: string;
  node: {
    namespace: string;
    bridgeIfName: string;
    /** Bridge address, the backends' gateway. */
    bridgeAddress: string;
    /** The veth end towards the client. */
    clientIfName: string;
    /** Address on {@link clientIfName}, the client's gateway. */
    clientSideAddress: string;
  };
  client: { namespace: string; ifName: string; address: string; gateway: string };
  backends: BackendPlan[];
  /** Prefix length of both the backend and the client subnet. */
  prefixLength: number;
  service: {
    /** Service name, used in nft chain names. */
    name: string;
    vip: string;
    port: number;
    targetPort: number;
  };
  /** nftables table (family `ip`) in the node namespace. */
  nftTable: string;
  conntrackMaxConnections: number | null;
}

/** Defaults of `tally lab up`. */
export const LAB_DEFAULTS: LabOptions = {
  lab: 'lab',
  backends: 3,
  servicePort: 80,
  targetPort: 8080,
  conntrackMaxConnections: null,
};

/** Most backends one lab holds: 10.203.0.10 … 10.203.0.209. */
export const MAX_BACKENDS = 200;

/** Lab names: short, no hyphen, so `tally-<lab>-` prefixes never overlap between labs. */
const LAB_NAME = /^[a-z0-9]{1,12}$/;

/**
 * Derive every name and address of a lab from its options.
 * @param options {@link LabOptions}; ports are TCP ports, the cap is in connections.
 * @returns the {@link LabTopology}.
 * @throws ConfigError `TALLY_USAGE` listing every invalid option (pointer `/<option>`).
 * @see ip-netns(8); https://kubernetes.io/docs/reference/networking/virtual-ips/#proxy-mode-nftables
 */
export function planTopology(options: LabOptions): LabTopology {
  const problems = checkOptions(options);
  if (problems.length > 0) {
    throw new ConfigError(`invalid lab options: ${problems.map((p) => `${p.pointer} ${p.message}`).join('; ')}`, problems, {
      code: 'TALLY_USAGE',
    });
  }
  const prefix = namespacePrefix(options.lab);
  const backends: BackendPlan[] = [];
  for (let i = 0; i < options.backends; i++) {
    backends.push({
      name: `be${i}`,
      index: i,
      namespace: `${prefix}be${i}`,
      ifName: 'eth0',
      nodeIfName: `be${i}`,
      address: `10.203.0.${10 + i}`,
      port: options.targetPort,
    });
  }
  return {
    lab: options.lab,
    namespacePrefix: prefix,
    node: {
      namespace: `${prefix}node`,
      bridgeIfName: 'br0',
      bridgeAddress: '10.203.0.1',
      clientIfName: 'client',
      clientSideAddress: '10.203.2.1',
    },
    client: { namespace: `${prefix}client`, ifName: 'eth0', address: '10.203.2.2', gateway: '10.203.2.1' },
    backends,
    prefixLength: 24,
    service: { name: 'web', vip: '10.203.1.1', port: options.servicePort, targetPort: options.targetPort },
    nftTable: 'tally',
    conntrackMaxConnections: options.conntrackMaxConnections,
  };
}

/**
 * The namespace prefix of a lab, `tally-<lab>-`.
 * @param lab lab name.
 * @see ip-netns(8)
 * @throws ConfigError `TALLY_USAGE` when the name is not `[a-z0-9]{1,12}`.
 */
export function namespacePrefix(lab: string): string {
  if (!LAB_NAME.test(lab)) {
    throw new ConfigError(`lab name "${lab}" must match [a-z0-9]{1,12}`, [{ pointer: '/lab', message: 'must match [a-z0-9]{1,12}' }], {
      code: 'TALLY_USAGE',
    });
  }
  return `tally-${lab}-`;
}

/**
 * Whether a namespace name is one `up` creates for this lab (`node`, `client`, `be<i>`).
 * Exact, so `down` never touches another lab's or anyone else's namespaces.
 * @param name a name from `ip netns list`.
 * @param prefix from {@link namespacePrefix}.
 * @see ip-netns(8) `ip netns list`
 */
export function isLabNamespace(name: string, prefix: string): boolean {
  if (!name.startsWith(prefix)) return false;
  return /^(node|client|be\d{1,3})$/.test(name.slice(prefix.length));
}

/** Every namespace of a topology, node first. */
export function topologyNamespaces(topology: LabTopology): string[] {
  return [topology.node.namespace, topology.client.namespace, ...topology.backends.map((b) => b.namespace)];
}

function checkOptions(options: LabOptions): InputProblem[] {
  const problems: InputProblem[] = [];
  if (!LAB_NAME.test(options.lab)) problems.push({ pointer: '/lab', message: 'must match [a-z0-9]{1,12}' });
  if (!isIntegerIn(options.backends, 1, MAX_BACKENDS)) problems.push({ pointer: '/backends', message: `must be an integer in 1…${MAX_BACKENDS}` });
  if (!isIntegerIn(options.servicePort, 1, 65535)) problems.push({ pointer: '/port', message: 'must be a TCP port, 1…65535' });
  if (!isIntegerIn(options.targetPort, 1, 65535)) problems.push({ pointer: '/target-port', message: 'must be a TCP port, 1…65535' });
  const cap = options.conntrackMaxConnections;
  if (cap !== null && !isIntegerIn(cap, 1, 1_000_000)) {
    problems.push({ pointer: '/conntrack-max', message: 'must be an integer in 1…1000000 (connections)' });
  }
  return problems;
}

function isIntegerIn(value: number, min: number, max: number): boolean {
  return Number.isInteger(value) && value >= min && value <= max;
}
