/**
 * The script of the HTML report's page: reads the plot specs (reports/html-plot-spec.ts)
 * from the page's JSON element and draws each with uPlot (inlined beside it): axes
 * labelled with their units, legends naming every series with its value under the cursor
 * in its unit, log axes, bars for categories, and the time plots' cursors kept in step.
 * Plots follow the page's width, and are redrawn at print width before printing. When
 * every plot is drawn it sets `window.tallyReport` (`{ plots, failed, drawMs, readyAtMs }`,
 * ms) for whoever measures the page.
 *
 * Plain browser JavaScript in a string (the page carries it inline): it is exercised in a
 * real browser by test/e2e/html-report-browser.test.ts, no console error allowed.
 *
 * @see https://github.com/leeoniya/uPlot/tree/master/docs
 */
export const CLIENT_SCRIPT = String.raw`(function () {
  'use strict';
  var t0 = performance.now();
  var specs = JSON.parse(document.getElementById('tally-plots').textContent);
  var HEIGHT = 280;
  var PRINT_WIDTH = 680;
  var groupFmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 3 });

  function num(v) {
    if (v == null || !isFinite(v)) return '–';
    var a = Math.abs(v);
    if (a !== 0 && a < 0.01) return v.toPrecision(2);
    return groupFmt.format(a >= 100 ? Math.round(v * 10) / 10 : v);
  }
  function pct(inverse) {
    var p = 100 * (1 - 1 / inverse);
    var digits = Math.max(0, Math.round(Math.log10(inverse)) - 2);
    return (p <= 0 ? 0 : p).toFixed(digits) + '%';
  }
  function withUnit(v, unit) {
    return v == null ? '–' : num(v) + (unit ? ' ' + unit : '');
  }
  function axisValues(axis) {
    if (axis.format === 'percentile') return function (u, splits) { return splits.map(pct); };
    if (axis.format === 'category') return function (u, splits) { return splits.map(function (i) { return axis.categories[i] || ''; }); };
    return function (u, splits) { return splits.map(num); };
  }
  function pow10Splits(u, axisIdx, min, max) {
    var out = [];
    for (var e = Math.floor(Math.log10(min)); Math.pow(10, e) <= max * 1.0001; e++) if (Math.pow(10, e) >= min * 0.9999) out.push(Math.pow(10, e));
    return out;
  }
  // Counts and rates are read against zero: a linear y axis always includes it.
  function fromZero(u, min, max) {
    var lo = Math.min(0, min), hi = Math.max(0, max);
    return hi === lo ? [lo, lo + 1] : [lo, hi + (hi - lo) * 0.05];
  }
  function scaleOf(axis, isY) {
    var s = { time: false };
    if (axis.log) { s.distr = 3; s.log = 10; }
    else if (isY) s.range = fromZero;
    if (axis.format === 'category') {
      var n = axis.categories.length;
      s.range = function () { return [-0.5, n - 0.5]; };
    }
    return s;
  }
  function barsPadding(xs) {
    var w = xs.length > 1 ? xs[1] - xs[0] : 1;
    return function (u, min, max) { return [min - w / 2, max + w / 2]; };
  }
  function xLegend(axis) {
    if (axis.format === 'percentile') return function (u, v) { return v == null ? '–' : pct(v); };
    if (axis.format === 'category') return function (u, v) { return v == null ? '–' : (axis.categories[v] || ''); };
    return function (u, v) { return withUnit(v, axis.unit); };
  }
  // Whole seconds on time axes, up to hours.
  var SECOND_INCRS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 43200, 86400];
  function yAxis(axis, scale, side) {
    var a = { label: axis.label, scale: scale, side: side, values: axisValues(axis), stroke: '#333', grid: side === 3 ? { stroke: '#e3e3e3' } : { show: false }, size: 64 };
    // Log axes: a line and a label per power of ten only (the 2…9 lines crowd the plot).
    if (axis.log) a.splits = pow10Splits;
    return a;
  }
  function options(spec, width) {
    var hasBars = spec.series.some(function (s) { return s.style === 'bars'; });
    var scales = { x: scaleOf(spec.x, false), y: scaleOf(spec.y, true) };
    if (hasBars && spec.x.format !== 'category') scales.x.range = barsPadding(spec.data[0]);
    if (spec.y2) scales.y2 = scaleOf(spec.y2, true);
    var xAxis = { label: spec.x.label, values: axisValues(spec.x), stroke: '#333', grid: { stroke: '#e3e3e3' } };
    if (spec.x.log) xAxis.splits = pow10Splits;
    if (spec.x.format === 'seconds') xAxis.incrs = SECOND_INCRS;
    if (spec.x.format === 'category') {
      xAxis.splits = function () { return spec.x.categories.map(function (c, i) { return i; }); };
      xAxis.grid = { show: false };
    }
    var axes = [xAxis, yAxis(spec.y, 'y', 3)];
    if (spec.y2) axes.push(yAxis(spec.y2, 'y2', 1));
    var series = [{ label: spec.x.label, value: xLegend(spec.x) }];
    spec.series.forEach(function (s) {
      var unit = s.axis === 1 ? spec.y2.unit : spec.y.unit;
      var one = { label: s.label, stroke: s.color, width: s.width || 1.5, scale: s.axis === 1 ? 'y2' : 'y', spanGaps: spec.x.format === 'percentile', value: function (u, v) { return withUnit(v, unit); }, points: { show: !!s.points } };
      if (s.dash) one.dash = s.dash;
      if (s.style === 'bars') {
        one.paths = uPlot.paths.bars({ size: [s.barAlign ? 0.4 : 0.8, 80], align: s.barAlign || 0 });
        one.fill = s.color + 'aa';
        one.points = { show: false };
      } else if (s.style === 'step') {
        one.paths = uPlot.paths.stepped({ align: 1 });
      }
      series.push(one);
    });
    var o = { title: spec.title, width: width, height: HEIGHT, scales: scales, axes: axes, series: series, legend: { live: true } };
    if (spec.syncKey) o.cursor = { sync: { key: spec.syncKey } };
    return o;
  }
  function widthOf(el) {
    return Math.max(320, Math.floor(el.getBoundingClientRect().width));
  }

  var plots = [];
  var failed = 0;
  specs.forEach(function (spec) {
    var el = document.getElementById(spec.id);
    try {
      plots.push({ el: el, u: new uPlot(options(spec, widthOf(el)), spec.data, el) });
    } catch (error) {
      failed++;
      el.textContent = 'This plot could not be drawn: ' + error;
      console.error('tally report: plot ' + spec.id + ' failed', error);
    }
  });

  function fit(width) {
    plots.forEach(function (p) { p.u.setSize({ width: width === undefined ? widthOf(p.el) : width, height: HEIGHT }); });
  }
  var pending = 0;
  window.addEventListener('resize', function () {
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(function () { fit(); });
  });
  window.addEventListener('beforeprint', function () { fit(PRINT_WIDTH); });
  window.addEventListener('afterprint', function () { fit(); });

  var drawMs = performance.now() - t0;
  requestAnimationFrame(function () {
    window.tallyReport = { plots: plots.length, failed: failed, drawMs: drawMs, readyAtMs: performance.now() };
    document.documentElement.setAttribute('data-plots-ready', String(plots.length));
  });
})();
`;
