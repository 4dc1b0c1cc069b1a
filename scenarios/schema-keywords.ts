/**
 * The scenario schema's own keywords, for Ajv: `unit` (documentation only) and
 * `minDuration` / `maxDuration`, bounds of a duration string (`"maxDuration": "10m"`),
 * so that every duration has a bound a timer can hold and the error names it with its unit.
 *
 * @see https://ajv.js.org/keywords.html#define-keyword-with-code-generation-function (user-defined keywords)
 */
import type { Ajv2020 } from 'ajv/dist/2020.js';
import { DURATION_PATTERN, parseDurationMs } from '../core/units.ts';

const DURATION = new RegExp(DURATION_PATTERN);

/** Add `unit`, `minDuration` and `maxDuration` to an Ajv instance. */
export function addScenarioKeywords(ajv: Ajv2020): void {
  // `unit` documents each field's unit; Ajv's strict mode needs to know the keyword.
  ajv.addKeyword({ keyword: 'unit', schemaType: 'string' });
  const bound = (keyword: string, holds: (valueMs: number, boundMs: number) => boolean): void => {
    ajv.addKeyword({
      keyword,
      // No `type`: the keyword sits beside a `$ref` to the duration definition, which has it.
      schemaType: 'string',
      compile: (limit: string) => {
        const limitMs = parseDurationMs(limit, keyword);
        // A string that is not a duration fails `pattern`, which says so; this keyword only bounds durations.
        return (data: unknown) => typeof data !== 'string' || !DURATION.test(data) || holds(parseDurationMs(data), limitMs);
      },
    });
  };
  bound('minDuration', (v, b) => v >= b);
  bound('maxDuration', (v, b) => v <= b);
}
