/**
 * What every piece of telemetry tally generates says about itself: the OTLP resource
 * (`service.name`, the run id and the shard) and the instrumentation scope. The generator
 * writes these, and the read-back expects them as a storing path names them
 * (scenarios/prometheus-naming.ts).
 *
 * @see https://opentelemetry.io/docs/specs/otel/resource/semantic_conventions/#service
 */
import { TALLY_VERSION } from './version.ts';

/** `service.name` of tally's telemetry (Prometheus's `job`). */
export const SERVICE_NAME = 'tally';
/** The resource attribute holding the run id; promoted to the label `tally_run_id` for read-back. */
export const RUN_ID_ATTRIBUTE = 'tally.run.id';
/** The resource attribute holding the shard (worker) that sent the data. */
export const SHARD_ATTRIBUTE = 'tally.shard';
/** The instrumentation scope of tally's metrics and spans. */
export const SCOPE = { name: 'tally', version: TALLY_VERSION } as const;
