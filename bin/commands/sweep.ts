/**
 * `tally sweep <scenario> --vary <field> --from A --to B [--slo <thresholds>] …`: parse the
 * flags, call the pipeline (pipeline/sweep.ts), and return the exit code.
 */
import { parseArgs } from 'node:util';
import { ConfigError } from '../../core/errors.ts';
import type { TextOut } from '../../core/text-out.ts';
import { DEFAULT_DRAIN_BELOW, DEFAULT_DRAIN_MAX_MS, runSweep } from '../../pipeline/sweep.ts';
import { SIGNAL_EXIT_CODES } from '../../pipeline/stop.ts';
import { DEFAULT_COARSE_STEPS, DEFAULT_RESOLUTION } from '../../scenarios/sweep-plan.ts';

/** Usage text of `tally sweep`. */
export const SWEEP_USAGE = `usage: tally sweep <scenario> --vary <field> --from A --to B [--slo <thresholds>]
         [--steps N] [--resolution R] [--scale linear|log] [--warmup D] [--out DIR] [--overwrite]
         [--drain-below N] [--drain-max D] [--cooldown D] [--retry-limited N] [--json]
  --vary      a number, integer or duration field of the scenario: load.rate, telemetry.metrics.0.attributes.pod,
              telemetry.exportInterval, telemetry.traces.ratePerSecond (or a JSON pointer, /load/rate)
  --from/--to the end expected to meet the SLO, and the end expected to break it (durations take units: 500ms)
  --slo       thresholds in the scenario's syntax, as YAML or JSON: "{ latency: ['p(99)<50ms'], errors: ['rate<0.01'] }"
              (default: the scenario's own thresholds)
  --steps     coarse values from A to B, both included (default ${DEFAULT_COARSE_STEPS}); then bisection
  --resolution  the widest bracket that counts as found: N% of the knee, or a value in the field's unit (default ${DEFAULT_RESOLUTION})
  --warmup    an unjudged run of each step's scenario before the measured one (default 0s: none)
  --drain-below/--drain-max  start a step once TIME_WAIT sockets are fewer than N above their count when the sweep
              started (default ${DEFAULT_DRAIN_BELOW}), waiting at most D (default ${DEFAULT_DRAIN_MAX_MS / 1000}s, at most 10m); with
              backends.collector, also until the collector's exporter queues are empty (as long at most)
  --cooldown  a pause before every step after the first (default 0s, at most 60m)
  --retry-limited  runs more of a step whose generator saturated before it counts as generator-limited (default 1, at most 5)
  writes DIR/sweep.json, DIR/sweep.svg and DIR/steps/NN-<value>/ (each step's run); --json prints sweep.json instead of the table
  exit codes: 0 the search ended (whatever the knee), 1 a step failed to run, 2 bad input, 130/143 stopped by a signal`;

function usage(message: string): ConfigError {
  return new ConfigError(`${message}\n${SWEEP_USAGE}`, [], { code: 'TALLY_USAGE' });
}

function integer(flag: string, text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  const rule = `must be an integer in ${min}…${max}`;
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`--${flag} ${rule}\n${SWEEP_USAGE}`, [{ pointer: `/${flag}`, message: rule }], { code: 'TALLY_USAGE' });
  return n;
}

/** A duration flag (ms, s or m), at most `maxMs`. */
function seconds(flag: string, text: string | undefined, maxMs: number): number | undefined {
  if (text === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  const rule = `must be a duration such as 75s, at most ${maxMs / 60_000}m`;
  const ms = m === null ? Number.NaN : Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 'm' ? 60_000 : 1000);
  if (!(ms <= maxMs)) throw new ConfigError(`--${flag} ${rule}\n${SWEEP_USAGE}`, [{ pointer: `/${flag}`, message: rule }], { code: 'TALLY_USAGE' });
  return ms;
}

/** Upper bounds of the flags: every wait and retry of a sweep is bounded. */
const MAX_RETRY_LIMITED = 5;
const MAX_DRAIN_BELOW = 1_000_000;
const MAX_DRAIN_MS = 10 * 60_000;
const MAX_COOLDOWN_MS = 60 * 60_000;

/**
 * Run `tally sweep …`.
 * @returns 0 when the search ended, 1 when a step failed to run, 130/143 when stopped by a signal.
 * @throws ConfigError `TALLY_USAGE` / `TALLY_CONFIG_INVALID` (exit 2) before anything is sent.
 */
export async function sweepCommand(argv: string[], out: TextOut): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        vary: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, slo: { type: 'string' },
        steps: { type: 'string' }, resolution: { type: 'string' }, scale: { type: 'string' }, warmup: { type: 'string' },
        out: { type: 'string' }, overwrite: { type: 'boolean' }, 'drain-below': { type: 'string' }, 'drain-max': { type: 'string' },
        'retry-limited': { type: 'string' }, cooldown: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw usage((err as Error).message);
  }
  const v = parsed.values;
  if (v.help) {
    out.write(`${SWEEP_USAGE}\n`);
    return 0;
  }
  if (parsed.positionals.length !== 1) throw usage('tally sweep takes exactly one scenario file');
  for (const flag of ['vary', 'from', 'to'] as const) {
    if (v[flag] === undefined) throw new ConfigError(`--${flag} is required\n${SWEEP_USAGE}`, [{ pointer: `/${flag}`, message: 'is required' }], { code: 'TALLY_USAGE' });
  }
  const quiet = { write: () => true, isTTY: false };
  const { report } = await runSweep({
    scenarioPath: parsed.positionals[0],
    vary: v.vary!, from: v.from!, to: v.to!,
    ...(v.slo === undefined ? {} : { slo: v.slo }),
    ...(v.steps === undefined ? {} : { steps: v.steps }),
    ...(v.resolution === undefined ? {} : { resolution: v.resolution }),
    ...(v.scale === undefined ? {} : { scale: v.scale }),
    ...(v.warmup === undefined ? {} : { warmup: v.warmup }),
    ...(v.out === undefined ? {} : { outDir: v.out }),
    overwrite: v.overwrite ?? false,
    drainBelow: integer('drain-below', v['drain-below'], 1, MAX_DRAIN_BELOW),
    drainMaxMs: seconds('drain-max', v['drain-max'], MAX_DRAIN_MS),
    cooldownMs: seconds('cooldown', v.cooldown, MAX_COOLDOWN_MS),
    retryLimited: integer('retry-limited', v['retry-limited'], 0, MAX_RETRY_LIMITED),
    stdout: v.json ? quiet : out,
  });
  if (v.json) out.write(`${JSON.stringify(report, null, 2)}\n`);
  if (report.incompleteReason === 'SIGTERM' || report.incompleteReason === 'SIGINT') return SIGNAL_EXIT_CODES[report.incompleteReason];
  return report.knee.status === 'error' ? 1 : 0;
}
