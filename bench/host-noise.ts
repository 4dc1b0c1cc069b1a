/**
 * How quiet the machine was while a bench measured: the CPU time spent by processes that
 * are not the bench's own (the bench, its children and their descendants), from
 * /proc/stat and /proc/<pid>/stat, and the load average. A figure taken while others used
 * the cores is flagged, so that it is not read as the generator's own.
 *
 * Kernel time spent in softirq (packet processing of the bench's own traffic) is not in any
 * process's time, so it is left out of both sides: `busy` counts user, nice and system.
 *
 * @see https://man7.org/linux/man-pages/man5/proc_stat.5.html
 * @see https://man7.org/linux/man-pages/man5/proc_pid_stat.5.html
 */
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** Clock ticks per second of /proc's CPU times (USER_HZ, 100 on Linux). */
export const USER_HZ = 100;

/** Foreign CPU above this share of one core flags a measurement as taken under load. */
export const NOISY_FOREIGN_CORES = 0.15;

/** CPU seconds of user + nice + system over all CPUs, from /proc/stat's `cpu` line. */
export function machineBusySeconds(procStat: string): number {
  const line = procStat.split('\n').find((l) => l.startsWith('cpu '));
  if (line === undefined) return 0;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  return (f[0] + f[1] + f[2]) / USER_HZ;
}

/** `{ ppid, cpuSeconds (utime + stime), childrenCpuSeconds (cutime + cstime) }` of one /proc/<pid>/stat. */
export function parsePidStat(text: string): { ppid: number; cpuSeconds: number; childrenCpuSeconds: number } {
  // The command name (field 2) may hold spaces; the fields after it start past its ')'.
  const f = text.slice(text.lastIndexOf(')') + 2).trim().split(/\s+/);
  return { ppid: Number(f[1]), cpuSeconds: (Number(f[11]) + Number(f[12])) / USER_HZ, childrenCpuSeconds: (Number(f[13]) + Number(f[14])) / USER_HZ };
}

/** CPU seconds of this process, its reaped children, and every living descendant. */
export function ownCpuSeconds(): number {
  const self = process.pid;
  const stats = new Map<number, ReturnType<typeof parsePidStat>>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      stats.set(Number(name), parsePidStat(readFileSync(`/proc/${name}/stat`, 'utf8')));
    } catch {
      // gone meanwhile
    }
  }
  const children = new Map<number, number[]>();
  for (const [pid, s] of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), pid]);
  const own = stats.get(self);
  let total = own === undefined ? 0 : own.cpuSeconds + own.childrenCpuSeconds;
  const stack = [...(children.get(self) ?? [])];
  while (stack.length > 0) {
    const pid = stack.pop() as number;
    const s = stats.get(pid);
    // A living descendant's reaped children (nginx's workers) are in its cutime; nothing is counted twice.
    if (s !== undefined) total += s.cpuSeconds + s.childrenCpuSeconds;
    stack.push(...(children.get(pid) ?? []));
  }
  return total;
}

/** A mark to measure from. */
export interface NoiseMark {
  atMs: number;
  busySeconds: number;
  ownSeconds: number;
}

/** Take a mark now. */
export function noiseMark(): NoiseMark {
  return { atMs: performance.now(), busySeconds: machineBusySeconds(readFileSync('/proc/stat', 'utf8')), ownSeconds: ownCpuSeconds() };
}

/** The machine's quiet since a mark. */
export interface HostNoise {
  /** CPU used by other processes, in cores (1 = one core busy the whole time). */
  foreignCores: number;
  /** The bench's own processes, in cores. */
  ownCores: number;
  cpuCount: number;
  /** /proc/loadavg's 1, 5 and 15 minute averages at the end. */
  loadAverage: [number, number, number];
  /** True when other processes used more than {@link NOISY_FOREIGN_CORES} of a core: the figure is not the generator's alone. */
  noisy: boolean;
}

/** Compare with a mark: how much CPU others used meanwhile. Call it while the bench's processes still run (a process that exited counts once reaped). */
export function noiseSince(mark: NoiseMark): HostNoise {
  const now = noiseMark();
  const seconds = Math.max(1e-3, (now.atMs - mark.atMs) / 1000);
  const own = (now.ownSeconds - mark.ownSeconds) / seconds;
  const busy = (now.busySeconds - mark.busySeconds) / seconds;
  const foreign = Math.max(0, busy - own);
  const load = readFileSync('/proc/loadavg', 'utf8').trim().split(/\s+/).slice(0, 3).map(Number) as [number, number, number];
  return { foreignCores: Math.round(foreign * 100) / 100, ownCores: Math.round(own * 100) / 100, cpuCount: availableParallelism(), loadAverage: load, noisy: foreign > NOISY_FOREIGN_CORES };
}
