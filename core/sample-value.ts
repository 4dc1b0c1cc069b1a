/**
 * The value of a cumulative sample as Prometheus stores it, for the instruments that map
 * to one Prometheus series per data point (counter, up-down counter, gauge): what the
 * remote-write shard sends and what Prometheus read-back expects. Generation 0 only (no
 * series churn). Pure.
 *
 * @see ./instruments.ts (the values are the OTLP data model's, cumulative)
 */
import { cumulativeCounterValue } from './series.ts';
import { gaugeValue, upDownCumulative, type MetricModel } from './instruments.ts';

/** Instruments with one Prometheus sample per data point. */
export const SINGLE_SAMPLE_INSTRUMENTS = ['counter', 'up-down-counter', 'gauge'] as const;
export type SingleSampleInstrument = (typeof SINGLE_SAMPLE_INSTRUMENTS)[number];

/** Whether an instrument name is one of {@link SINGLE_SAMPLE_INSTRUMENTS}. */
export function isSingleSampleInstrument(instrument: string): instrument is SingleSampleInstrument {
  return (SINGLE_SAMPLE_INSTRUMENTS as readonly string[]).includes(instrument);
}

/**
 * Value of series `series` of a metric at tick `tick` (1-based), cumulative:
 * counter `tick · inc(series)`; up-down counter `d · tick + w(tick)`; gauge `series · 2^20 + tick`.
 * @param seed the scenario seed.
 * @param metricIndex the metric's index in the scenario.
 * @returns an integer, exact in a double.
 */
export function cumulativeSampleValue(seed: number, metricIndex: number, instrument: SingleSampleInstrument, series: number, tick: number): number {
  switch (instrument) {
    case 'counter':
      return cumulativeCounterValue(seed, metricIndex, series, tick);
    case 'gauge':
      return gaugeValue(series, tick);
    case 'up-down-counter':
      // Drift and wobble read only the seed and the metric index of the model.
      return upDownCumulative({ seed, metricIndex } as MetricModel, series, 0, tick);
  }
}
