/**
 * `tally run`'s shard flags: `--shard i/N` with `--start-at TIME` or `--barrier URL`
 * (`--barrier-bind HOST`: where shard 0 listens). Parsed here, checked together by the
 * pipeline (pipeline/shard-run.ts).
 */
import { ConfigError } from '../../core/errors.ts';
import { parseShardFlag, parseStartAt } from '../../scenarios/shard-plan.ts';
import type { RunOptions } from '../../pipeline/run.ts';

/** The raw flag values. */
export interface ShardFlags {
  shard?: string;
  'start-at'?: string;
  barrier?: string;
  'barrier-bind'?: string;
  collect?: string;
}

/**
 * The run options the shard flags give.
 * @throws ConfigError `TALLY_USAGE` for a malformed flag, `--start-at`/`--barrier` without
 * `--shard`, or a barrier URL that is not `http://host:port`.
 */
export function runShardOptions(flags: ShardFlags): Pick<RunOptions, 'shard' | 'startAtMs' | 'barrier' | 'collect'> {
  const usage = (message: string): ConfigError => new ConfigError(message, [{ pointer: '', message }], { code: 'TALLY_USAGE' });
  if (flags.shard === undefined) {
    if (flags['start-at'] !== undefined || flags.barrier !== undefined || flags['barrier-bind'] !== undefined || flags.collect !== undefined) throw usage('--start-at, --barrier, --barrier-bind and --collect go with --shard i/N');
    return {};
  }
  const out: Pick<RunOptions, 'shard' | 'startAtMs' | 'barrier' | 'collect'> = { shard: parseShardFlag(flags.shard) };
  if (flags.collect !== undefined) out.collect = flags.collect;
  if (flags['start-at'] !== undefined) out.startAtMs = parseStartAt(flags['start-at']);
  if (flags.barrier !== undefined) {
    let url: URL;
    try {
      url = new URL(flags.barrier);
    } catch {
      throw usage(`--barrier ${JSON.stringify(flags.barrier)}: expected http://host:port`);
    }
    if (url.protocol !== 'http:' || url.port === '' || url.username !== '' || url.password !== '') throw usage(`--barrier ${JSON.stringify(flags.barrier)}: expected http://host:port (plain HTTP, an explicit port, no credentials)`);
    out.barrier = { url: url.origin, ...(flags['barrier-bind'] === undefined ? {} : { bindHost: flags['barrier-bind'] }) };
  } else if (flags['barrier-bind'] !== undefined) throw usage('--barrier-bind goes with --barrier');
  return out;
}
