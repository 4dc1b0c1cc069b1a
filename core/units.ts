/**
 * Duration strings with units, parsed once at load time.
 *
 * Accepted units: `ns`, `us` (or `µs`), `ms`, `s`, `m`, `h`; decimals allowed (`1.5s`),
 * and compound forms as in Go's `time.ParseDuration` (`1m30s`).
 */
import { ConfigError } from './errors.ts';

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const PART = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;

/** The pattern a duration string must match (used by the JSON Schema too). */
export const DURATION_PATTERN = '^(\\d+(\\.\\d+)?(ns|us|µs|ms|s|m|h))+$';

/**
 * Parse a duration string into milliseconds.
 * @param text e.g. `"30s"`, `"250ms"`, `"1m30s"`.
 * @param pointer JSON pointer of the field, for the error.
 * @returns the duration in milliseconds (may be fractional below 1 ms).
 * @throws ConfigError `TALLY_CONFIG_INVALID` naming `pointer` when the text is not a duration.
 */
export function parseDurationMs(text: string, pointer = ''): number {
  if (typeof text !== 'string' || text.length === 0) {
    throw new ConfigError(`${pointer || 'duration'}: expected a duration string such as "30s" or "250ms"`, [
      { pointer, message: 'expected a duration string such as "30s" or "250ms"' },
    ]);
  }
  PART.lastIndex = 0;
  let totalMs = 0;
  let consumed = 0;
  for (let m = PART.exec(text); m !== null; m = PART.exec(text)) {
    totalMs += Number(m[1]) * UNIT_MS[m[2]];
    consumed = PART.lastIndex;
  }
  if (consumed !== text.length) {
    throw new ConfigError(`${pointer || 'duration'}: "${text}" is not a duration; expected e.g. "30s", "250ms", "1m30s"`, [
      { pointer, message: `"${text}" is not a duration; expected e.g. "30s", "250ms", "1m30s"` },
    ]);
  }
  return totalMs;
}

/** Format milliseconds as a short human string (`1.23s`, `850ms`, `42µs`). */
export function formatDurationMs(durationMs: number): string {
  if (durationMs >= 1000) return `${(durationMs / 1000).toFixed(2)}s`;
  if (durationMs >= 1) return `${durationMs.toFixed(durationMs >= 100 ? 0 : 1)}ms`;
  return `${Math.round(durationMs * 1000)}µs`;
}
