/**
 * Before any traffic: the port and descriptor budget of the load on this host (its
 * warnings printed), the client kernel's SYN retransmit schedule, and the first datapath
 * counter sample, in this network namespace or in the lab's node namespace.
 */
import type { TextOut } from '../core/text-out.ts';
import type { SynSchedule } from '../core/syn-schedule.ts';
import { DatapathWatch, netnsSampler, selfSampler } from '../host/datapath-watch.ts';
import { portBudgetFor, readSynSchedule, type PortBudgetReport } from '../host/preflight.ts';
import type { Plan } from '../scenarios/plan.ts';
import type { Scenario } from '../scenarios/types.ts';

/** What preflight found and started. */
export interface Preflight {
  portBudget?: PortBudgetReport;
  synSchedule?: SynSchedule;
  /** Datapath counters, sampled from now until the run ends. */
  datapath?: DatapathWatch;
  /**
   * The counters of this process's own namespace, where the load's sockets live, when
   * `datapath` reads another one: their retransmit counters corroborate the SYN signature.
   */
  socketCounters?: DatapathWatch;
  /** Stop the datapath sampler. */
  close(): Promise<void>;
}

/**
 * Run the preflight of a run with load (nothing to do without).
 * @param netns read datapath counters in this named network namespace (the lab's node
 * namespace, where DNAT and conntrack happen); default the generator's own.
 * @throws CollectorError when /proc cannot be read or the namespace's sampler cannot start.
 */
export async function preflight(scenario: Scenario, plan: Plan, out: TextOut, netns: string | undefined): Promise<Preflight> {
  const result: Preflight = { close: async () => {} };
  if (!scenario.load || !plan.load) return result;
  try {
    const targetHost = scenario.load.target === undefined ? '127.0.0.1' : new URL(scenario.load.target).hostname;
    result.portBudget = await portBudgetFor(scenario.load, plan.load, targetHost, scenario.load.target === undefined);
    if (result.portBudget.computed) for (const w of result.portBudget.warnings) out.write(`warning: ${w.code}: ${w.message}\n`);
    result.synSchedule = await readSynSchedule();
    result.datapath = new DatapathWatch(netns ? await netnsSampler(netns) : selfSampler());
    result.close = () => result.datapath!.sampler.close();
    await result.datapath.start();
    if (netns) {
      result.socketCounters = new DatapathWatch(selfSampler());
      await result.socketCounters.start();
    }
  } catch (error) {
    await result.close();
    throw error;
  }
  return result;
}
