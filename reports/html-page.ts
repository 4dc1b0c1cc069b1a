/**
 * The HTML report's page: one self-contained file (uPlot's script and stylesheet inlined,
 * the plots' data as one JSON element, a Content-Security-Policy that allows no network
 * at all), laid out for a laptop screen and for print (A4, plots redrawn at print width,
 * no page break inside a plot or a table). Pure: parts in, one string out.
 *
 * @see https://developer.mozilla.org/en-US/docs/Web/HTTP/Headers/Content-Security-Policy
 * @see https://html.spec.whatwg.org/multipage/scripting.html#restrictions-for-contents-of-script-elements
 */
import { CLIENT_SCRIPT } from './html-client.ts';
import type { PlotSection, PlotSpec } from './html-plot-spec.ts';

/** What the page inlines: uPlot's IIFE build and its stylesheet, read from node_modules by the caller. */
export interface HtmlAssets {
  uplotJs: string;
  uplotCss: string;
}

/** Escape text for HTML content and attribute values. */
export function esc(text: string | number): string {
  return String(text).replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;');
}

/** JSON inside a `<script>` element: `<` escaped, so no `</script>` or `<!--` can end it early. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replaceAll('<', '\\u003c').replaceAll('\u2028', '\\u2028').replaceAll('\u2029', '\\u2029');
}

/** One section of the page: its anchor, heading and body (HTML, already escaped). */
export interface PageSection {
  id: string;
  title: string;
  html: string;
}

/** Text for people, escaped, with `backquoted` names set as code. */
export function prose(text: string): string {
  return esc(text).replace(/`([^`]+)`/g, '<code>$1</code>');
}

/** A section's plots as placeholders the page's script draws into, with its note; or why it has none. */
export function plotSectionHtml(section: PlotSection): string {
  if ('empty' in section) return `<p class="empty">${prose(section.empty)}</p>`;
  const plots = section.plots.map((p) => `<figure class="plot" id="${esc(p.id)}" aria-label="${esc(p.title)}"></figure>`).join('\n');
  return `${plots}${section.note ? `\n<p class="note">${prose(section.note)}</p>` : ''}`;
}

const CSS = `
:root { color-scheme: light; --fg: #1d1d1f; --muted: #5f6368; --line: #d9d9de; --ok: #1b7f3b; --bad: #b3261e; --warn: #9a6700; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; color: var(--fg); margin: 0 auto; padding: 16px 24px 48px; max-width: 1280px; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 28px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 16px 0 6px; }
nav { font-size: 13px; margin: 8px 0 0; }
nav a { margin-right: 12px; color: #1a5fb4; text-decoration: none; white-space: nowrap; }
.meta { color: var(--muted); margin: 0; }
.badges { margin: 10px 0 0; display: flex; flex-wrap: wrap; gap: 8px; }
.badge { border-radius: 4px; padding: 2px 8px; font-weight: 600; font-size: 13px; border: 1px solid currentColor; }
.badge.ok { color: var(--ok); } .badge.bad { color: var(--bad); } .badge.warn { color: var(--warn); }
table { border-collapse: collapse; margin: 6px 0 12px; font-size: 13px; }
th, td { text-align: left; padding: 3px 10px 3px 0; border-bottom: 1px solid var(--line); vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.figure { text-align: right; font-variant-numeric: tabular-nums; padding-left: 16px; }
.status-ok { color: var(--ok); font-weight: 600; } .status-breached, .status-no_data { color: var(--bad); font-weight: 600; }
.verdict-regressed { color: var(--bad); font-weight: 600; } .verdict-improved { color: var(--ok); font-weight: 600; } .verdict-inconclusive { color: var(--warn); }
.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(290px, 1fr)); gap: 4px 28px; }
.figures table { width: 100%; }
.summary { columns: 2 520px; column-gap: 32px; } .summary > div { break-inside: avoid; } .summary td { font-variant-numeric: tabular-nums; }
.plot { margin: 10px 0 18px; min-height: 120px; }
.plot .u-title { font-size: 14px; font-weight: 600; }
.plot .u-legend { font-size: 12px; }
.empty, .note { color: var(--muted); font-style: italic; margin: 6px 0; }
code { font-size: 12px; background: #f3f3f5; padding: 0 3px; border-radius: 3px; }
footer { margin-top: 32px; color: var(--muted); font-size: 12px; }
@page { size: A4; margin: 12mm; }
@media print {
  body { font-size: 9.5pt; max-width: none; padding: 0; }
  nav { display: none; }
  h2 { break-after: avoid; margin-top: 14px; }
  .plot, table, .figures > div { break-inside: avoid; }
  .plot .u-legend { font-size: 8pt; }
  .badges, .badge, .plot { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
`;

/**
 * The whole page.
 * @param o.title the document title; o.header the top block (HTML); o.sections in order;
 * o.plots every plot spec the sections placed; o.assets uPlot inlined.
 * @returns the HTML document, UTF-8.
 */
export function renderPage(o: { title: string; header: string; sections: readonly PageSection[]; plots: readonly PlotSpec[]; assets: HtmlAssets; footer: string }): string {
  const nav = o.sections.map((s) => `<a href="#${esc(s.id)}">${esc(s.title)}</a>`).join('');
  const body = o.sections.map((s) => `<section id="${esc(s.id)}">\n<h2>${esc(s.title)}</h2>\n${s.html}\n</section>`).join('\n');
  // The stylesheet and script are inlined: the file opens from disk with no network, and the policy forbids any.
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>${esc(o.title)}</title>
<style>${o.assets.uplotCss.replaceAll('</', '<\\/')}</style>
<style>${CSS}</style>
</head>
<body>
<header>
${o.header}
<nav>${nav}</nav>
</header>
${body}
<footer>${o.footer}</footer>
<script type="application/json" id="tally-plots">${scriptJson(o.plots)}</script>
<script>${o.assets.uplotJs.replaceAll('</script', '<\\/script')}</script>
<script>${CLIENT_SCRIPT}</script>
</body>
</html>
`;
}
