/**
 * The sweep's plot: throughput against latency (p99, left axis) and loss (right axis), one
 * point per step labelled with the step's value and coloured by its verdict, and the knee
 * marked. Drawn as SVG by Apache ECharts' server-side renderer (no browser, no DOM). Pure:
 * the report in, SVG text out.
 *
 * @see https://echarts.apache.org/handbook/en/how-to/cross-platform/server/
 */
import * as echarts from 'echarts';
import type { SweepReport, SweepStep } from './sweep-report.ts';

const COLOURS: Record<SweepStep['verdict'], string> = { pass: '#2e7d32', fail: '#c62828', 'generator-limited': '#757575', error: '#6a1b9a' };

/** The plot's size in px. */
export const SWEEP_PLOT_SIZE = { width: 960, height: 540 } as const;

/** The sweep's plot as an SVG document. The lines join the steps in the order of the varied value (past the knee, throughput may fall back). */
export function sweepPlotSvg(report: SweepReport): string {
  const upward = report.to >= report.from;
  const steps = report.steps.filter((s) => s.figures?.throughputPerSecond !== undefined).sort((a, b) => (upward ? a.value - b.value : b.value - a.value));
  const f = steps[0]?.figures;
  const kneeStep = report.knee.knee === undefined ? undefined : steps.find((s) => s.value === report.knee.knee);
  const point = (s: SweepStep, y: number | undefined): { value: [number, number | null]; name: string; itemStyle: { color: string } } => ({
    value: [s.figures!.throughputPerSecond!, y ?? null],
    name: s.valueText,
    itemStyle: { color: COLOURS[s.verdict] },
  });
  const option: echarts.EChartsOption = {
    backgroundColor: '#ffffff',
    animation: false,
    textStyle: { fontFamily: 'DejaVu Sans' },
    title: { text: `${report.scenario}: ${report.vary.field} from ${report.from} to ${report.to}`, subtext: report.knee.summary, left: 'center', textStyle: { fontSize: 15 }, subtextStyle: { fontSize: 12 } },
    legend: { bottom: 4, itemGap: 40, data: [`${f?.latencyFigure ?? 'latency'} p99 (ms)`, `loss (${f?.lossFigure ?? 'share'})`] },
    grid: { left: 70, right: 80, top: 80, bottom: 70 },
    xAxis: { type: 'value', name: `throughput (${f?.throughputUnit ?? '/s'})`, nameLocation: 'middle', nameGap: 30, scale: true },
    yAxis: [
      { type: 'value', name: 'p99 (ms)', position: 'left' },
      { type: 'value', name: 'loss', position: 'right', min: 0, max: (value: { max: number }) => Math.max(0.01, value.max), splitLine: { show: false } },
    ],
    series: [
      {
        type: 'line',
        name: `${f?.latencyFigure ?? 'latency'} p99 (ms)`,
        yAxisIndex: 0,
        symbolSize: 9,
        data: steps.map((s) => point(s, s.figures?.latencyP99Ms)),
        label: { show: true, position: 'top', formatter: (p: { name: string }) => p.name, fontSize: 10 },
        lineStyle: { color: '#1565c0' },
        ...(kneeStep === undefined
          ? {}
          : { markLine: { symbol: 'none', lineStyle: { color: '#ef6c00', type: 'dashed', width: 2 }, label: { formatter: `knee: ${report.knee.kneeText ?? report.knee.knee}`, color: '#ef6c00' }, data: [{ xAxis: kneeStep.figures!.throughputPerSecond! }] } }),
      },
      {
        type: 'line',
        name: `loss (${f?.lossFigure ?? 'share'})`,
        yAxisIndex: 1,
        symbol: 'diamond',
        symbolSize: 8,
        data: steps.map((s) => point(s, s.figures?.lossRatio)),
        lineStyle: { color: '#8e24aa', type: 'dotted' },
      },
    ],
  };
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width: SWEEP_PLOT_SIZE.width, height: SWEEP_PLOT_SIZE.height });
  try {
    chart.setOption(option);
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}
