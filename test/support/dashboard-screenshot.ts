/**
 * `npm run docs:dashboard`: docs/grafana-tally.png, the run dashboard drawn from the same
 * checked queries test/e2e/dashboard-queries.test.ts runs. A real tally run (ramping load
 * on the embedded target, OTLP telemetry read back from one Prometheus 3) pushes its own
 * figures to another Prometheus 3; each panel's PromQL, with Grafana's variables
 * substituted, is run through the HTTP API and drawn with Apache ECharts (server-side SVG),
 * laid out on the dashboard's own grid, and rasterised with resvg. Grafana itself is not
 * involved.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import * as echarts from 'echarts';
import { Resvg } from '@resvg/resvg-js';
import { PrometheusApi } from '../../readback/prometheus/api.ts';
import { panelQueries, rateIntervalSeconds, substitute, type PanelQuery } from '../../reports/grafana/queries.ts';
import { tallyDashboard } from '../../reports/grafana/tally-dashboard.ts';
import { startPrometheus3 } from '../peers/prometheus3.ts';
import { liveScenario, runLive } from '../e2e/measurement-output-helpers.ts';

const CELL_W = 60;
const CELL_H = 34;
const BG = '#111217';
const FG = '#ccccdc';

interface Drawn {
  svg: string;
}

function legendOf(q: PanelQuery, metric: Record<string, string>): string {
  return (q.legend ?? Object.entries(metric).map(([k, v]) => `${k}=${v}`).join(' ')).replace(/\{\{\s*(\w+)\s*\}\}/g, (_, k: string) => metric[k] ?? '');
}

function chartSvg(option: echarts.EChartsOption, w: number, h: number): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width: w, height: h });
  chart.setOption({ backgroundColor: BG, animation: false, textStyle: { color: FG, fontFamily: 'DejaVu Sans' }, ...option });
  const svg = chart.renderToSVGString();
  chart.dispose();
  return svg;
}

async function drawPanel(api: PrometheusApi, title: string, type: string, queries: PanelQuery[], vars: Record<string, string>, startMs: number, endMs: number, w: number, h: number): Promise<Drawn> {
  const titleOpt = { text: title, left: 8, top: 4, textStyle: { color: FG, fontSize: 13, fontWeight: 'bold' as const } };
  if (type === 'stat') {
    const lines: string[] = [];
    for (const q of queries) {
      const r = await api.query(substitute(q.expr, vars), endMs);
      for (const s of (r.data as unknown as { result: { metric: Record<string, string>; value: [number, string] }[] }).result) {
        const v = Number(s.value[1]);
        const text = Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(3);
        lines.push(`${q.legend !== undefined ? `${legendOf(q, s.metric)} ` : ''}${text}`);
      }
    }
    return { svg: chartSvg({ title: [titleOpt, { text: lines.join('\n'), left: 'center', top: 'middle', textStyle: { color: '#73bf69', fontSize: lines.length > 1 ? 22 : 34 } }] }, w, h) };
  }
  if (type === 'heatmap') {
    const r = await api.queryRange(substitute(queries[0].expr, vars), startMs, endMs, 1000);
    const series = (r.data as unknown as { result: { histograms?: [number, { buckets?: [number, string, string, string][] }][] }[] }).result[0];
    const uppers = new Set<number>();
    for (const [, h] of series?.histograms ?? []) for (const b of h.buckets ?? []) uppers.add(Number(b[2]));
    const ys = [...uppers].sort((a, b) => a - b);
    const data: [number, number, number][] = [];
    (series?.histograms ?? []).forEach(([, h], x) => { for (const b of h.buckets ?? []) data.push([x, ys.indexOf(Number(b[2])), Number(b[3])]); });
    const max = Math.max(1, ...data.map((d) => d[2]));
    return { svg: chartSvg({
      title: titleOpt, grid: { left: 70, right: 16, top: 34, bottom: 28 },
      xAxis: { type: 'category', data: (series?.histograms ?? []).map((_, i) => `${i}s`), axisLabel: { color: FG } },
      yAxis: { type: 'category', data: ys.map((y) => (y >= 1 ? `${y.toFixed(2)} s` : `${(y * 1000).toPrecision(3)} ms`)), axisLabel: { color: FG, interval: Math.max(0, Math.floor(ys.length / 6)) } },
      visualMap: { show: false, min: 0, max, inRange: { color: ['#1f1f2f', '#3d71d9', '#f2cc0c', '#f2495c'] } },
      series: [{ type: 'heatmap', data }],
    }, w, h) };
  }
  const lines: echarts.SeriesOption[] = [];
  for (const q of queries) {
    const r = await api.queryRange(substitute(q.expr, vars), startMs, endMs, 1000);
    for (const s of (r.data as unknown as { result: { metric: Record<string, string>; values?: [number, string][] }[] }).result) {
      lines.push({ type: 'line', name: legendOf(q, s.metric), showSymbol: false, data: (s.values ?? []).map(([t, v]) => [t * 1000, Number(v)]) });
    }
  }
  return { svg: chartSvg({
    title: titleOpt, grid: { left: 56, right: 16, top: 34, bottom: 46 },
    legend: { bottom: 2, textStyle: { color: FG, fontSize: 10 }, type: 'plain' },
    xAxis: { type: 'time', axisLabel: { color: FG, fontSize: 10 } }, yAxis: { type: 'value', axisLabel: { color: FG, fontSize: 10 }, splitLine: { lineStyle: { color: '#2c2f3a' } } },
    series: lines,
  }, w, h) };
}

async function main(): Promise<void> {
  const [sut, watch] = await Promise.all([startPrometheus3({ otlp: { promote_resource_attributes: ['tally.run.id'] } }), startPrometheus3()]);
  const api = new PrometheusApi({ url: watch.url });
  try {
    const results = await runLive(liveScenario({ name: 'dashboard', otlpUrl: sut.otlpUrl, prometheusUrl: sut.url, seconds: 20, rate: 600, outputs: `  - { type: prometheus-remote-write, url: ${watch.remoteWriteUrl} }` }));
    const startMs = Date.parse(results.run.startedAt) - 1000;
    const endMs = Date.now() + 1000;
    const rangeS = Math.ceil((endMs - startMs) / 1000);
    const vars = { run_id: results.run.id, scenario: results.run.scenario, __range: `${rangeS}s`, __range_s: String(rangeS), __interval: '1s', __rate_interval: `${rateIntervalSeconds(1)}s` };
    const dashboard = tallyDashboard();
    const queries = panelQueries(dashboard);
    const parts: string[] = [];
    let bottom = 0;
    for (const p of (dashboard.panels ?? []) as { id: number; type: string; title: string; gridPos: { x: number; y: number; w: number; h: number } }[]) {
      const { x, y, w, h } = p.gridPos;
      bottom = Math.max(bottom, (y + h) * CELL_H);
      if (p.type === 'row') {
        parts.push(`<text x="${x * CELL_W + 8}" y="${y * CELL_H + 24}" fill="${FG}" font-family="DejaVu Sans" font-size="16" font-weight="bold">${p.title}</text>`);
        continue;
      }
      const drawn = await drawPanel(api, p.title, p.type, queries.filter((q) => q.panelId === p.id), vars, startMs, endMs, w * CELL_W - 8, h * CELL_H - 8);
      parts.push(`<svg x="${x * CELL_W + 4}" y="${y * CELL_H + 4}" width="${w * CELL_W - 8}" height="${h * CELL_H - 8}">${drawn.svg.replace(/^<svg[^>]*>/, '').replace(/<\/svg>\s*$/, '')}</svg>`);
    }
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${24 * CELL_W}" height="${bottom}"><rect width="100%" height="100%" fill="#0b0c0e"/>${parts.join('')}</svg>`;
    const png = new Resvg(svg, { font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' }, fitTo: { mode: 'original' } }).render().asPng();
    mkdirSync(new URL('../../docs/', import.meta.url), { recursive: true });
    const file = new URL('../../docs/grafana-tally.png', import.meta.url);
    writeFileSync(file, png);
    process.stdout.write(`wrote ${file.pathname} (run ${results.run.id}, ${queries.length} queries)\n`);
  } finally {
    await api.close();
    await Promise.all([sut.stop(), watch.stop()]);
  }
}

if (import.meta.main) await main();
