/**
 * `tally lab` operations: up, down, status, exec. Each reads (namespaces, state file),
 * calls the pure planners (topology.ts, steps.ts, nft.ts, state.ts), then acts through
 * the thin edge (netns.ts).
 *
 * `up` on a lab that is already up (state file present, or any of its namespaces exists)
 * refuses with `TALLY_USAGE` rather than guessing whether different options mean
 * "rebuild". `down` is idempotent: it removes whatever exists of the lab, by exact
 * namespace name, with or without a state file.
 */
import { readdir, rm, rmdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CollectorError, ConfigError } from '../core/errors.ts';
import { CAP_DROP_COUNTER, endpointCounterName } from './nft.ts';
import type { NftCounter, NodeConntrack } from './observe.ts';
import { readNftCounters, readNodeConntrack } from './observe.ts';
import {
  deleteNamespaces,
  execInNamespace,
  listNamespaces,
  namespacePids,
  runSteps,
  spawnDetachedInNamespace,
  stopProcesses,
} from './netns.ts';
import { probeFromNamespace } from './probe.ts';
import { planDownSteps, planUpSteps } from './steps.ts';
import { backendLogPath, buildState, DEFAULT_STATE_ROOT, defaultStatePath, ensureStateDir, readState, writeState } from './state.ts';
import type { LabState } from './state.ts';
import { isLabNamespace, namespacePrefix, planTopology, topologyNamespaces } from './topology.ts';
import type { BackendPlan, LabOptions, LabTopology } from './topology.ts';

/** The backend entry point: `node embedded/target-process.ts --host … --port … --name …`. */
const TARGET_ENTRY = fileURLToPath(new URL('../embedded/target-process.ts', import.meta.url));

/** Where a lab's state lives: a lab name, and optionally a state file path (default `/run/tally-lab/<lab>/state.json`). */
export interface LabRef {
  lab: string;
  statePath?: string;
}

/** Options of {@link labUp}. */
export interface LabUpOptions extends LabOptions {
  statePath?: string;
  /** Node binary for backends and probes; default this process's. */
  nodePath?: string;
  /** How long to wait for every backend and the VIP to answer, ms. Default 10,000. */
  readyTimeoutMs?: number;
}

/** What {@link labDown} did. */
export interface LabDownReport {
  lab: string;
  /** Namespaces deleted (empty when nothing was up). */
  namespacesDeleted: string[];
  /** Pids stopped inside them (backends, and anything started with `lab exec`). */
  processesStopped: number[];
  /** Pids that survived SIGKILL (normally none). */
  processesSurviving: number[];
  stateFileRemoved: boolean;
  /** e.g. a garbled state file, ignored. */
  warnings: string[];
}

/** What {@link labStatus} reports. */
export interface LabStatus {
  state: LabState;
  /** Per backend: is its target pid still running inside its namespace. */
  backends: { name: string; pid: number; alive: boolean }[];
  conntrack: NodeConntrack & { labCapConnections: number | null };
  counters: {
    /** First packets of new connections dropped by the cap (packets, bytes). */
    capDrop: NftCounter;
    /** Connections DNATed to each backend (packets = connections). */
    endpoints: Record<string, NftCounter>;
  };
}

/**
 * Refuse unless running as root (effective uid 0): the lab creates network namespaces,
 * links and nftables rules.
 * @param euid effective uid (`process.geteuid()`), undefined where there is none.
 * @param action e.g. `up`, for the message.
 * @throws ConfigError `TALLY_USAGE` (exit 2) naming root when euid is not 0.
 */
export function assertRoot(euid: number | undefined, action: string): void {
  if (euid === 0) return;
  throw new ConfigError(
    `tally lab ${action} needs root (effective uid 0, have ${euid ?? 'none'}): it creates network namespaces, veth links and nftables rules; run it as root, e.g. with sudo`,
    [],
    { code: 'TALLY_USAGE' },
  );
}

/**
 * Build a lab: namespaces, links, routes, nftables, one target per backend; wait until
 * each backend and the VIP answer from the client namespace; write the state file.
 * On any failure, everything built so far is removed before the error is rethrown.
 * @param options topology options, state path, node binary, readiness timeout (ms).
 * @returns the {@link LabState} written.
 * @throws ConfigError `TALLY_USAGE` for bad options or when the lab is already up;
 *   CollectorError `TALLY_COLLECTOR_FAILED` when a command fails or a backend never answers.
 * @see ip-netns(8); https://kubernetes.io/docs/reference/networking/virtual-ips/#proxy-mode-nftables
 */
export async function labUp(options: LabUpOptions): Promise<LabState> {
  assertRoot(process.geteuid?.(), 'up');
  const topology = planTopology(options);
  const statePath = options.statePath ?? defaultStatePath(topology.lab);
  await refuseIfUp(topology, statePath, options.statePath !== undefined);
  const nodePath = options.nodePath ?? process.execPath;
  try {
    await runSteps(planUpSteps(topology));
    const pids = new Map<string, number>();
    await ensureStateDir(statePath);
    for (const b of topology.backends) {
      pids.set(b.name, await spawnDetachedInNamespace(b.namespace, targetArgv(nodePath, b), backendLogPath(statePath, b.namespace)));
    }
    await waitReady(topology, nodePath, options.readyTimeoutMs ?? 10_000, statePath);
    const state = buildState(topology, pids, statePath, Date.now());
    await writeState(state);
    return state;
  } catch (error) {
    // Keep the backend logs: the error names them.
    await teardown(topologyNamespaces(topology)).catch(() => undefined);
    throw error;
  }
}

/**
 * Remove a lab: stop every process in its namespaces (SIGTERM, then SIGKILL after 3 s),
 * delete the namespaces (which removes links and the nftables table), remove the state
 * file and backend logs. Nothing up is fine.
 * @param ref lab name and state path; a readable state file's lab name wins.
 * @returns what was removed.
 * @throws ConfigError `TALLY_USAGE` when not root or the lab name is invalid;
 *   CollectorError `TALLY_COLLECTOR_FAILED` when `ip` fails.
 */
export async function labDown(ref: LabRef): Promise<LabDownReport> {
  assertRoot(process.geteuid?.(), 'down');
  const statePath = ref.statePath ?? defaultStatePath(ref.lab);
  const warnings: string[] = [];
  let state: LabState | null = null;
  try {
    state = await readState(statePath);
  } catch (error) {
    warnings.push(`ignored unreadable state file: ${(error as Error).message}`);
  }
  const lab = state?.lab ?? ref.lab;
  const prefix = namespacePrefix(lab);
  const namespaces = (await listNamespaces()).filter((name) => isLabNamespace(name, prefix));
  const { stopped, surviving } = await teardown(namespaces);
  await removeBackendLogs(dirname(statePath), prefix);
  // A --state path that is not a state file may be anything: only ours (parsed, or at the default path) is removed.
  const unreadable = warnings.length > 0;
  const stateFileRemoved = state !== null || (unreadable && ref.statePath === undefined);
  if (stateFileRemoved) await rm(statePath, { force: true });
  else if (unreadable) warnings.push(`left ${statePath} in place; remove it by hand if it is a stale lab state`);
  if (ref.statePath === undefined) await removeDefaultDirs(statePath);
  return { lab, namespacesDeleted: namespaces, processesStopped: stopped, processesSurviving: surviving, stateFileRemoved, warnings };
}

/**
 * Read a lab's state, backend liveness, node conntrack and nftables counters.
 * @throws ConfigError `TALLY_USAGE` when not root or the lab is not up;
 *   CollectorError `TALLY_COLLECTOR_FAILED` / `TALLY_COLLECTOR_BAD_REPLY` when a read fails.
 * @see nft(8) `list counters`; Documentation/networking/nf_conntrack-sysctl.rst
 */
export async function labStatus(ref: LabRef): Promise<LabStatus> {
  assertRoot(process.geteuid?.(), 'status');
  const state = await requireState(ref);
  const [conntrack, counters, backends] = await Promise.all([
    readNodeConntrack(state.nodeNamespace),
    readNftCounters(state.nodeNamespace, state.nftTable),
    Promise.all(state.backends.map(async (b) => ({ name: b.name, pid: b.pid, alive: (await namespacePids(b.namespace)).includes(b.pid) }))),
  ]);
  const endpoints: Record<string, NftCounter> = {};
  for (const b of state.backends) endpoints[b.name] = counters[endpointCounterName(b.name)] ?? { packets: 0, bytes: 0 };
  return {
    state,
    backends,
    conntrack: { ...conntrack, labCapConnections: state.conntrackMaxConnections },
    counters: { capDrop: counters[CAP_DROP_COUNTER] ?? { packets: 0, bytes: 0 }, endpoints },
  };
}

/**
 * Run a command inside the lab's client namespace with this process's stdio. The command
 * gets `TALLY_LAB_VIP`, `TALLY_LAB_PORT`, `TALLY_LAB_URL` and `TALLY_LAB_NODE_NETNS` in its environment.
 * @param ref the lab.
 * @param command program and arguments (non-empty).
 * @returns the command's exit code (128 + signal number when a signal ended it).
 * @throws ConfigError `TALLY_USAGE` when not root, the command is empty, or the lab is not up;
 *   CollectorError `TALLY_COLLECTOR_FAILED` when `ip` cannot start.
 * @see ip-netns(8) `ip netns exec`
 */
export async function labExec(ref: LabRef, command: readonly string[]): Promise<number> {
  assertRoot(process.geteuid?.(), 'exec');
  if (command.length === 0) {
    throw new ConfigError('tally lab exec needs a command after --', [{ pointer: '/command', message: 'is required' }], { code: 'TALLY_USAGE' });
  }
  const state = await requireState(ref);
  return execInNamespace(state.clientNamespace, command, {
    TALLY_LAB_VIP: state.service.vip,
    TALLY_LAB_PORT: String(state.service.port),
    TALLY_LAB_URL: state.service.url,
    // `tally run` reads datapath counters (conntrack, TCP) where the Service's DNAT happens.
    TALLY_LAB_NODE_NETNS: state.nodeNamespace,
  });
}

async function requireState(ref: LabRef): Promise<LabState> {
  namespacePrefix(ref.lab);
  const statePath = ref.statePath ?? defaultStatePath(ref.lab);
  const state = await readState(statePath);
  if (state === null) {
    throw new ConfigError(`lab "${ref.lab}" is not up (no state file ${statePath}); run \`tally lab up\` first`, [], { code: 'TALLY_USAGE' });
  }
  return state;
}

async function refuseIfUp(topology: LabTopology, statePath: string, customStatePath: boolean): Promise<void> {
  const existing = (await listNamespaces()).filter((name) => isLabNamespace(name, topology.namespacePrefix));
  const state = await readState(statePath).catch(() => 'unreadable' as const);
  if (existing.length === 0 && state === null) return;
  throw new ConfigError(
    `lab "${topology.lab}" is already up (${state === null ? 'no state file, but namespaces exist' : `state file ${statePath}`}: ${existing.join(', ') || 'no namespaces'}); run \`tally lab down --lab ${topology.lab}${customStatePath ? ` --state ${statePath}` : ''}\` first`,
    [],
    { code: 'TALLY_USAGE' },
  );
}

async function teardown(namespaces: readonly string[]): Promise<{ stopped: number[]; surviving: number[] }> {
  const pids = (await Promise.all(namespaces.map(namespacePids))).flat();
  const surviving = await stopProcesses(pids);
  await deleteNamespaces(planDownSteps(namespaces));
  return { stopped: pids, surviving };
}

function targetArgv(nodePath: string, backend: BackendPlan): string[] {
  return [nodePath, TARGET_ENTRY, '--host', backend.address, '--port', String(backend.port), '--name', backend.name];
}

async function waitReady(topology: LabTopology, nodePath: string, timeoutMs: number, statePath: string): Promise<void> {
  const { service } = topology;
  const targets = [
    ...topology.backends.map((b) => ({ url: `http://${b.address}:${b.port}/`, expectBackend: b.name })),
    { url: `http://${service.vip}:${service.port}/`, expectBackend: '*' },
  ];
  const results = await probeFromNamespace(topology.client.namespace, targets, nodePath, timeoutMs);
  const failed = results.filter((r) => !r.ok);
  if (failed.length === 0) return;
  const logs = topology.backends.map((b) => backendLogPath(statePath, b.namespace));
  throw new CollectorError(`lab backends not ready after ${timeoutMs} ms: ${failed.map((r) => `${r.url} (${r.error ?? `status ${r.status}, backend ${r.backend}`})`).join(', ')}; backend logs: ${logs.join(', ')}`, {
    details: { probes: results, logs },
  });
}

async function removeBackendLogs(dir: string, prefix: string): Promise<void> {
  // By exact name pattern: logs of a failed `up` (no state file) are removed too, nothing else is.
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    if (name.endsWith('.log') && isLabNamespace(name.slice(0, -'.log'.length), prefix)) await rm(join(dir, name), { force: true });
  }
}

async function removeDefaultDirs(statePath: string): Promise<void> {
  // Only the default directories are ours to remove; a --state directory may hold other files.
  for (const dir of [dirname(statePath), DEFAULT_STATE_ROOT]) {
    await rmdir(dir).catch(() => undefined);
  }
}
