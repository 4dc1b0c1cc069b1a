/**
 * What a sharded run's shard writes beside the usual run files: shard.json
 * (reports/shard-record.ts), rewritten with every results.json checkpoint so a shard
 * killed mid-run still says how far it got, and plan.json with the shard and the
 * scenario hash (even for a run without telemetry: `tally merge` re-derives the plan from it).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ShardError } from '../core/errors.ts';
import { writeFileAtomicSync, writeJsonAtomic } from '../host/files.ts';
import { checkShardRecord, type ShardRecord } from '../reports/shard-record.ts';

/** shard.json's name in a run directory. */
export const SHARD_FILE = 'shard.json';

/** Write shard.json (a checkpoint or the final one). */
export async function writeShardRecord(outDir: string, record: ShardRecord | undefined): Promise<void> {
  if (record !== undefined) await writeJsonAtomic(join(outDir, SHARD_FILE), record);
}

/** Write shard.json synchronously (the last words before a forced exit). */
export function writeShardRecordSync(outDir: string, record: ShardRecord | undefined): void {
  if (record !== undefined) writeFileAtomicSync(join(outDir, SHARD_FILE), `${JSON.stringify(record)}\n`);
}

/**
 * Read a shard's shard.json.
 * @throws ShardError `TALLY_MERGE_NOT_A_SHARD` when the directory holds none (not a shard of
 * a sharded run), or one that is not shard.json's shape.
 */
export async function readShardRecord(runDir: string): Promise<ShardRecord> {
  const path = join(runDir, SHARD_FILE);
  let value: unknown;
  try {
    value = JSON.parse(await readFile(path, 'utf8')) as unknown;
  } catch (cause) {
    throw new ShardError('TALLY_MERGE_NOT_A_SHARD', `${runDir} holds no readable ${SHARD_FILE}: not a shard of a sharded run (tally run --shard i/N)`, { cause, details: { runDir } });
  }
  checkShardRecord(value, path);
  return value;
}
