/**
 * The lab's state file: what `up` built (VIP, namespaces, backend addresses and pids),
 * written once `up` has finished, read by `down`, `exec` and `status`. Its presence means
 * "this lab is up". The build/parse functions are pure; readState/writeState are the
 * thin fs edge.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../host/files.ts';
import { dirname, join } from 'node:path';
import { CollectorError, ConfigError, InternalError } from '../core/errors.ts';
import type { LabTopology } from './topology.ts';

/** Root of the default state directories; `/run` is a tmpfs, so a reboot (which removes every namespace) also forgets the lab. */
export const DEFAULT_STATE_ROOT = '/run/tally-lab';

/** One backend as started. */
export interface LabBackendState {
  name: string;
  namespace: string;
  address: string;
  /** TCP port the target listens on. */
  port: number;
  /** Pid of the target process (`ip netns exec` execs it in place, so this is node's pid). */
  pid: number;
  /** Its stdout/stderr. */
  logFile: string;
}

/** Contents of `state.json` (version 1). */
export interface LabState {
  version: 1;
  lab: string;
  /** Wall-clock ms since the Unix epoch when `up` finished. */
  createdAtMs: number;
  /** This file's path. */
  statePath: string;
  service: { vip: string; port: number; targetPort: number; url: string };
  nodeNamespace: string;
  clientNamespace: string;
  clientAddress: string;
  /** The nftables table (family ip) in the node namespace. */
  nftTable: string;
  /** Cap on live tracked connections in the node namespace, or null. */
  conntrackMaxConnections: number | null;
  backends: LabBackendState[];
}

/**
 * The default state file of a lab, `/run/tally-lab/<lab>/state.json`.
 * @param lab a valid lab name.
 */
export function defaultStatePath(lab: string): string {
  return join(DEFAULT_STATE_ROOT, lab, 'state.json');
}

/**
 * Where a backend's log goes: beside the state file, named after its namespace.
 * @param statePath the state file.
 * @param namespace e.g. `tally-lab-be0`.
 */
export function backendLogPath(statePath: string, namespace: string): string {
  return join(dirname(statePath), `${namespace}.log`);
}

/**
 * Build the state of a lab that is up.
 * @param topology from planTopology.
 * @param pids target pid per backend name.
 * @param statePath where it will be written.
 * @param createdAtMs wall-clock ms since the epoch.
 * @throws InternalError `TALLY_INTERNAL` when a backend has no pid (a caller bug).
 */
export function buildState(topology: LabTopology, pids: ReadonlyMap<string, number>, statePath: string, createdAtMs: number): LabState {
  const { service } = topology;
  return {
    version: 1,
    lab: topology.lab,
    createdAtMs,
    statePath,
    service: { vip: service.vip, port: service.port, targetPort: service.targetPort, url: `http://${service.vip}:${service.port}/` },
    nodeNamespace: topology.node.namespace,
    clientNamespace: topology.client.namespace,
    clientAddress: topology.client.address,
    nftTable: topology.nftTable,
    conntrackMaxConnections: topology.conntrackMaxConnections,
    backends: topology.backends.map((b) => {
      const pid = pids.get(b.name);
      if (pid === undefined) throw new InternalError(`no pid for backend ${b.name}`);
      return { name: b.name, namespace: b.namespace, address: b.address, port: b.port, pid, logFile: backendLogPath(statePath, b.namespace) };
    }),
  };
}

/**
 * Parse and check a state file's text.
 * @param text JSON text.
 * @param file path, for messages.
 * @returns the {@link LabState}.
 * @throws ConfigError `TALLY_CONFIG_INVALID` with JSON pointers when the text is not a version-1 state.
 */
export function parseState(text: string, file: string): LabState {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new ConfigError(`${file}: not JSON`, [{ pointer: '', message: (cause as Error).message }], { cause });
  }
  const problems: { pointer: string; message: string }[] = [];
  const v = value as Partial<LabState> | null;
  const need = (ok: boolean, pointer: string, message: string): void => {
    if (!ok) problems.push({ pointer, message });
  };
  need(typeof v === 'object' && v !== null, '', 'must be an object');
  if (problems.length === 0 && v !== null) {
    need(v.version === 1, '/version', 'must be 1');
    need(typeof v.lab === 'string', '/lab', 'must be a string');
    need(typeof v.nodeNamespace === 'string', '/nodeNamespace', 'must be a string');
    need(typeof v.clientNamespace === 'string', '/clientNamespace', 'must be a string');
    need(typeof v.service?.vip === 'string' && Number.isInteger(v.service?.port), '/service', 'must have vip and port');
    need(Array.isArray(v.backends), '/backends', 'must be an array');
    (Array.isArray(v.backends) ? v.backends : []).forEach((b, i) => {
      need(typeof b?.namespace === 'string' && Number.isInteger(b?.pid), `/backends/${i}`, 'must have namespace and pid');
    });
  }
  if (problems.length > 0) throw new ConfigError(`${file}: not a tally lab state file`, problems);
  return value as LabState;
}

/**
 * Read a state file.
 * @returns the state, or null when the file does not exist (the lab is not up).
 * @throws ConfigError `TALLY_CONFIG_UNREADABLE` when it exists but cannot be read;
 *   `TALLY_CONFIG_INVALID` when it is not a state file.
 */
export async function readState(file: string): Promise<LabState | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new ConfigError(`cannot read lab state ${file}: ${(cause as Error).message}`, [], { code: 'TALLY_CONFIG_UNREADABLE', cause });
  }
  return parseState(text, file);
}

/**
 * Create the directory of a state file (and of the backend logs beside it).
 * @throws CollectorError `TALLY_COLLECTOR_FAILED` with `details.file` when it cannot be created.
 */
export async function ensureStateDir(statePath: string): Promise<void> {
  try {
    await mkdir(dirname(statePath), { recursive: true });
  } catch (cause) {
    throw new CollectorError(`cannot create ${dirname(statePath)}: ${(cause as Error).message}`, { details: { file: dirname(statePath) }, cause });
  }
}

/**
 * Write a state file atomically (temp file + rename), creating its directory.
 * @throws CollectorError `TALLY_COLLECTOR_FAILED` with `details.file` when it cannot be
 *   written (EACCES, ENOSPC, …).
 */
export async function writeState(state: LabState): Promise<void> {
  try {
    await mkdir(dirname(state.statePath), { recursive: true });
    await writeFileAtomic(state.statePath, `${JSON.stringify(state, null, 2)}\n`, 0o644);
  } catch (cause) {
    throw new CollectorError(`cannot write lab state ${state.statePath}: ${(cause as Error).message}`, { details: { file: state.statePath }, cause });
  }
}
