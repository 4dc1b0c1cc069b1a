/**
 * Adding up totals records: objects whose leaves are counts (numbers) or maps of counts,
 * such as a ledger's totals (`requests`, `statuses: { "200": n }`, …). What a merge of a
 * sharded run's shards does with every counter. Pure.
 */

/** A record of counts: numbers, or nested records of them. */
export type Counts = { [key: string]: number | Counts };

/**
 * Sum records of counts leaf by leaf (a key missing from one counts 0 there).
 * @returns a new record; the inputs are not changed.
 */
export function sumCounts<T extends object>(records: readonly T[]): T {
  const out: Counts = {};
  for (const r of records) addInto(out, r as unknown as Counts);
  return out as unknown as T;
}

function addInto(into: Counts, r: Counts): void {
  for (const [key, value] of Object.entries(r)) {
    if (typeof value === 'number') into[key] = ((into[key] as number | undefined) ?? 0) + value;
    else if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const next = (into[key] ??= {}) as Counts;
      addInto(next, value);
    }
  }
}
