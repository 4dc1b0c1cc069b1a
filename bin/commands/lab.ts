/**
 * `tally lab up|down|status|exec`: a local datapath lab in network namespaces (see
 * lab/topology.ts for the layout). Parses flags and prints JSON; the work is in
 * lab/lifecycle.ts. Needs root.
 */
import { parseArgs } from 'node:util';
import { ConfigError } from '../../core/errors.ts';
import { labDown, labExec, labStatus, labUp } from '../../lab/lifecycle.ts';
import { LAB_DEFAULTS } from '../../lab/topology.ts';
import type { TextOut } from '../../core/text-out.ts';

/** Usage text of `tally lab`. */
export const LAB_USAGE = `usage:
  tally lab up [--backends N] [--conntrack-max N] [--port P] [--target-port P] [--lab NAME] [--state FILE]
      build the lab (refuses if it is already up); prints the state as JSON
  tally lab down [--lab NAME] [--state FILE]      remove everything up created; nothing up is fine
  tally lab status [--lab NAME] [--state FILE]    state, node conntrack count/max, nftables counters, as JSON
  tally lab exec [--lab NAME] [--state FILE] -- COMMAND [ARG...]
      run COMMAND in the client namespace (env TALLY_LAB_VIP, TALLY_LAB_PORT, TALLY_LAB_URL); exits with its code
defaults: --lab ${LAB_DEFAULTS.lab} (namespaces tally-<lab>-node|client|be<i>), --backends ${LAB_DEFAULTS.backends}, --port ${LAB_DEFAULTS.servicePort}, --target-port ${LAB_DEFAULTS.targetPort},
  no conntrack cap, --state /run/tally-lab/<lab>/state.json. Needs root.`;

const COMMON_OPTIONS = { lab: { type: 'string' }, state: { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const;
const UP_OPTIONS = {
  ...COMMON_OPTIONS,
  backends: { type: 'string' },
  'conntrack-max': { type: 'string' },
  port: { type: 'string' },
  'target-port': { type: 'string' },
} as const;

/**
 * Run `tally lab <subcommand> …`.
 * @param argv arguments after `lab`, e.g. `['up', '--backends', '3']` or `['exec', '--', 'curl', …]`.
 * @param out where JSON results and help go (process.stdout fits).
 * @returns exit code: 0, or for `exec` the command's own exit code.
 * @throws ConfigError `TALLY_USAGE` (exit 2) for bad flags, when not root, when `up` finds the lab
 *   already up, or when `status`/`exec` find it not up; CollectorError `TALLY_COLLECTOR_FAILED`
 *   (exit 1) when an `ip`/`nft` command fails, with the command and its stderr in `details`.
 * @see ip-netns(8); https://wiki.nftables.org/wiki-nftables/index.php/Load_balancing;
 *   https://kubernetes.io/docs/reference/networking/virtual-ips/#proxy-mode-nftables
 */
export async function labCommand(argv: string[], out: TextOut): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined) throw usageError('tally lab needs a subcommand: up, down, status or exec');
  if (sub === 'help' || sub === '--help' || sub === '-h') return help(out);
  const dashDash = rest.indexOf('--');
  const flagArgs = dashDash === -1 ? rest : rest.slice(0, dashDash);
  const command = dashDash === -1 ? [] : rest.slice(dashDash + 1);
  if (sub !== 'exec' && dashDash !== -1) throw usageError(`tally lab ${sub} takes no command after --`);

  if (sub === 'up') {
    const values = parseFlags(flagArgs, UP_OPTIONS);
    if (values.help === true) return help(out);
    const state = await labUp({
      lab: values.lab ?? LAB_DEFAULTS.lab,
      backends: integerFlag(values.backends, 'backends', LAB_DEFAULTS.backends),
      servicePort: integerFlag(values.port, 'port', LAB_DEFAULTS.servicePort),
      targetPort: integerFlag(values['target-port'], 'target-port', LAB_DEFAULTS.targetPort),
      conntrackMaxConnections: values['conntrack-max'] === undefined ? null : integerFlag(values['conntrack-max'], 'conntrack-max', 0),
      statePath: values.state,
    });
    out.write(`${JSON.stringify(state, null, 2)}\n`);
    return 0;
  }
  if (sub !== 'down' && sub !== 'status' && sub !== 'exec') throw usageError(`unknown lab subcommand "${sub}"`);
  const values = parseFlags(flagArgs, COMMON_OPTIONS);
  if (values.help === true) return help(out);
  const ref = { lab: values.lab ?? LAB_DEFAULTS.lab, statePath: values.state };
  switch (sub) {
    case 'down':
      out.write(`${JSON.stringify(await labDown(ref), null, 2)}\n`);
      return 0;
    case 'status':
      out.write(`${JSON.stringify(await labStatus(ref), null, 2)}\n`);
      return 0;
    case 'exec':
      return labExec(ref, command);
  }
}

function parseFlags<O extends typeof COMMON_OPTIONS | typeof UP_OPTIONS>(args: string[], options: O) {
  try {
    return parseArgs({ args, options, allowPositionals: false, strict: true }).values;
  } catch (cause) {
    throw usageError((cause as Error).message, cause);
  }
}

function integerFlag(text: string | undefined, name: string, fallback: number): number {
  if (text === undefined) return fallback;
  if (!/^\d{1,9}$/.test(text)) {
    throw new ConfigError(`--${name} must be a non-negative integer, got "${text}"\n${LAB_USAGE}`, [{ pointer: `/${name}`, message: 'must be a non-negative integer' }], {
      code: 'TALLY_USAGE',
    });
  }
  return Number(text);
}

function help(out: TextOut): number {
  out.write(`${LAB_USAGE}\n`);
  return 0;
}

function usageError(message: string, cause?: unknown): ConfigError {
  return new ConfigError(`${message}\n${LAB_USAGE}`, [], { code: 'TALLY_USAGE', cause });
}
