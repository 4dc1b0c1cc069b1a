/**
 * The HTML report's plots as data: each plot a {@link PlotSpec} (title, axes with their
 * units, series with their legend names and colours, columns of numbers) that the page's
 * script hands to uPlot. The renderers build specs (pure); the page draws them.
 *
 * @see https://github.com/leeoniya/uPlot/tree/master/docs (options: series, axes, scales; data as columns)
 */

/** How an axis prints its tick values. */
export type AxisFormat =
  /** plain numbers, thousands grouped */
  | 'number'
  /** seconds since the run start */
  | 'seconds'
  /** a log axis of 1/(1−p), labelled as percentiles (10 → 90%, 100 → 99%, …) */
  | 'percentile'
  /** x values 0 … n−1 named by `categories` */
  | 'category';

/** One axis: its label carries the unit (`latency (ms)`), `unit` follows legend values. */
export interface PlotAxis {
  label: string;
  unit: string;
  format: AxisFormat;
  /** Logarithmic (base 10): values must be > 0 (0 is left out as a gap). */
  log?: boolean;
  /** For `category`: the name of each x value. */
  categories?: string[];
}

/** One series of a plot. */
export interface PlotSeries {
  /** Its name in the legend. */
  label: string;
  /** Stroke colour (CSS). */
  color: string;
  /** 0: the left y axis (default), 1: the right one. */
  axis?: 0 | 1;
  /** `line` (default), `step` (a value held over its interval), `bars`. */
  style?: 'line' | 'step' | 'bars';
  /** Line dash pattern (px). */
  dash?: number[];
  /** Line width (px); default 1.5. */
  width?: number;
  /** Bars: where the bar sits against its x value (−1 left of it, 0 centred, 1 right of it). */
  barAlign?: -1 | 0 | 1;
  /** Draw a point at each value (for sparse series). */
  points?: boolean;
}

/** One plot: data[0] is x, data[i + 1] is series[i] (null: no value there). */
export interface PlotSpec {
  /** The id of the element it is drawn into (unique in the page). */
  id: string;
  title: string;
  x: PlotAxis;
  y: PlotAxis;
  /** A second y axis on the right, for series with `axis: 1`. */
  y2?: PlotAxis;
  series: PlotSeries[];
  data: (number | null)[][];
  /** Keep the cursor of plots with the same key in step (the time plots). */
  syncKey?: string;
}

/**
 * Colours that stay apart on screen and in print, none of them grey (axes and grid are
 * grey, so a coloured pixel on a plot's canvas is a drawn series): Tableau 10 without its grey.
 * @see https://www.tableau.com/about/blog/2016/7/colors-upgrade-tableau-10-56782
 */
export const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#bcbd22', '#17becf'] as const;

/** The colour of the i-th series (cycling). */
export function colorAt(i: number): string {
  return PALETTE[i % PALETTE.length];
}

/** µs → ms, rounded to the µs (what the plots print). */
export function msOf(us: number): number {
  return Math.round(us) / 1000;
}

/** A value for a log axis: null where it has none (≤ 0 or missing). */
export function positiveOrNull(v: number | undefined | null): number | null {
  return v === undefined || v === null || !(v > 0) ? null : v;
}

/** A section of the report: plots, or why it has none. */
export type PlotSection = { plots: PlotSpec[]; note?: string } | { plots: []; empty: string };

/** A section without data, with the reason. */
export function emptySection(why: string): PlotSection {
  return { plots: [], empty: why };
}
