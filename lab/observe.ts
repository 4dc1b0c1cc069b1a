/**
 * What `tally lab status` reads from the node namespace: nf_conntrack's count, the host's
 * table size and per-CPU statistics, and the nftables named counters (DNATs per endpoint,
 * cap drops). Parsers are pure; the readers run `cat` / `nft` through `ip netns exec`,
 * because no process lives in the node namespace whose `/proc/<pid>/net` could be read.
 */
import { CollectorError } from '../core/errors.ts';
import { parseConntrackStats } from '../host/conntrack.ts';
import { parseSysctlInteger } from '../host/proc-text.ts';
import { runTool } from './netns.ts';

/** One nftables named counter. */
export interface NftCounter {
  packets: number;
  bytes: number;
}

/** nf_conntrack as the node namespace sees it. */
export interface NodeConntrack {
  /** Entries tracked in the node namespace now (gauge, `nf_conntrack_count`). */
  count: number;
  /** Host-wide table size in entries (`nf_conntrack_max`; read-only outside the initial namespace). */
  max: number;
  /** `/proc/net/stat/nf_conntrack` columns summed across CPUs (cumulative events; `entries` excluded). */
  stats: Readonly<Record<string, number>>;
}

/**
 * Parse `nft -j list counters …` output into counters by name.
 * @param text nft's JSON (libnftables JSON schema 1).
 * @param table keep only counters of this table.
 * @returns `{ [name]: { packets, bytes } }`.
 * @throws CollectorError `TALLY_COLLECTOR_BAD_REPLY` when the text is not nft JSON.
 * @see libnftables-json(5)
 */
export function parseNftCounters(text: string, table: string): Record<string, NftCounter> {
  let doc: { nftables?: unknown };
  try {
    doc = JSON.parse(text) as { nftables?: unknown };
  } catch (cause) {
    throw new CollectorError('nft printed something other than JSON', { code: 'TALLY_COLLECTOR_BAD_REPLY', details: { text }, cause });
  }
  if (!Array.isArray(doc.nftables)) {
    throw new CollectorError('nft JSON has no "nftables" array', { code: 'TALLY_COLLECTOR_BAD_REPLY', details: { text } });
  }
  const counters: Record<string, NftCounter> = {};
  for (const item of doc.nftables as { counter?: { name: string; table: string; packets: number; bytes: number } }[]) {
    const c = item.counter;
    if (c !== undefined && c.table === table) counters[c.name] = { packets: c.packets, bytes: c.bytes };
  }
  return counters;
}

/**
 * Read the named counters of a table (family ip) in a namespace.
 * @throws CollectorError `TALLY_COLLECTOR_FAILED` when nft fails; `TALLY_COLLECTOR_BAD_REPLY` on bad JSON.
 * @see nft(8) `list counters`
 */
export async function readNftCounters(namespace: string, table: string): Promise<Record<string, NftCounter>> {
  const { stdout } = await runTool(['ip', 'netns', 'exec', namespace, 'nft', '-j', 'list', 'counters', 'table', 'ip', table], {
    what: `read nftables counters in ${namespace}`,
  });
  return parseNftCounters(stdout, table);
}

/**
 * Read nf_conntrack's count, max and statistics inside a namespace.
 * @throws CollectorError `TALLY_COLLECTOR_FAILED` when a file cannot be read (nf_conntrack
 *   not loaded); `TALLY_COLLECTOR_BAD_REPLY` when one is garbled.
 * @see Documentation/networking/nf_conntrack-sysctl.rst
 */
export async function readNodeConntrack(namespace: string): Promise<NodeConntrack> {
  const cat = (file: string) => runTool(['ip', 'netns', 'exec', namespace, 'cat', file], { what: `read ${file} in ${namespace}` });
  const countFile = '/proc/sys/net/netfilter/nf_conntrack_count';
  const maxFile = '/proc/sys/net/netfilter/nf_conntrack_max';
  const statFile = '/proc/net/stat/nf_conntrack';
  const [count, max, stat] = await Promise.all([cat(countFile), cat(maxFile), cat(statFile)]);
  return {
    count: parseSysctlInteger(count.stdout, countFile),
    max: parseSysctlInteger(max.stdout, maxFile),
    stats: parseConntrackStats(stat.stdout, statFile).totals,
  };
}
