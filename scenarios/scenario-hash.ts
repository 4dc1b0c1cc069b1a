/**
 * The identity of a scenario document, for the shards of one run (`tally run --shard`):
 * the SHA-256 of its canonical JSON (keys sorted at every level), so the same document
 * hashes the same whatever its YAML layout, comments or key order. Hashed with secrets
 * redacted (pipeline/run-files.ts), so it can be recomputed from plan.json. Pure.
 *
 * @see https://www.rfc-editor.org/rfc/rfc8785 (the idea of a canonical JSON form; numbers
 * are written as JSON.stringify writes them)
 */
import { createHash } from 'node:crypto';

/** JSON text of `value` with object keys sorted at every level, no whitespace. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) out[key] = sortKeys((value as Record<string, unknown>)[key]);
  return out;
}

/**
 * The scenario hash: `sha256:` and 64 hex digits of the canonical JSON of a (redacted)
 * scenario document.
 */
export function scenarioHash(document: unknown): string {
  return `sha256:${createHash('sha256').update(canonicalJson(document)).digest('hex')}`;
}
