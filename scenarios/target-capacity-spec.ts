/**
 * `embedded.target.capacity`: the cross-field rules the schema cannot say, and normalisation
 * to {@link TargetCapacity} (durations in ms). Pure.
 *
 * @see scenarios/scenario.schema.json `$defs.embedded.properties.target.properties.capacity`
 */
import type { InputProblem } from '../core/errors.ts';
import { parseDurationMs } from '../core/units.ts';
import type { TallyScenario } from './scenario-document.ts';
import type { TargetCapacity } from './types.ts';

type CapacityDocument = NonNullable<NonNullable<NonNullable<TallyScenario['embedded']>['target']>['capacity']>;

/** Normalise a schema-valid `embedded.target.capacity`. */
export function normaliseTargetCapacity(c: CapacityDocument): TargetCapacity {
  return { serviceTimeMs: parseDurationMs(c.serviceTime, '/embedded/target/capacity/serviceTime'), servers: c.servers ?? 1, queueLimit: c.queueLimit ?? 10_000 };
}

/** Errors: a capacity model beside `latency` (one decides when an answer is due). */
export function targetCapacityProblems(doc: TallyScenario): InputProblem[] {
  const target = doc.embedded?.target;
  if (target?.capacity !== undefined && target.latency !== undefined) {
    return [{ pointer: '/embedded/target/capacity', message: 'cannot be combined with /embedded/target/latency: give one of them' }];
  }
  return [];
}

/** Warnings: a capacity model that no request will meet (an external target, or the tcp-crr echo target). */
export function targetCapacityWarnings(doc: TallyScenario): InputProblem[] {
  if (doc.embedded?.target?.capacity === undefined) return [];
  if (doc.load === undefined || doc.load.target !== undefined) return [{ pointer: '/embedded/target/capacity', message: 'is ignored: the load does not go to the embedded HTTP target' }];
  if (doc.load.protocol === 'tcp-crr') return [{ pointer: '/embedded/target/capacity', message: 'is ignored: tcp-crr runs against the embedded echo target' }];
  return [];
}
