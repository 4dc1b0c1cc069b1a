import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COMMON_LABELS, MEASUREMENT_METRICS, OTLP_NAMESPACE, PROMETHEUS_NAMESPACE } from '../../core/measurement-metrics.ts';
import { prometheusMetricName, type NamingType } from '../../wire/prometheus-translate.ts';
import { readFileSync } from 'node:fs';

const TYPE: Record<string, NamingType> = { counter: 'monotonic_counter', gauge: 'gauge', histogram: 'exponential_histogram' };

test('each Prometheus name is what Prometheus makes of the OTLP name and unit (so both forms land on one series)', () => {
  for (const m of MEASUREMENT_METRICS) assert.equal(prometheusMetricName(m.otlpName, m.unit, TYPE[m.kind]), m.prometheusName, m.key);
});

test('names: the reserved namespace, unit suffixes, _total exactly on counters, unique keys and names', () => {
  assert.equal(new Set(MEASUREMENT_METRICS.map((m) => m.key)).size, MEASUREMENT_METRICS.length);
  assert.equal(new Set(MEASUREMENT_METRICS.map((m) => m.prometheusName)).size, MEASUREMENT_METRICS.length);
  for (const m of MEASUREMENT_METRICS) {
    assert.ok(m.otlpName.startsWith(OTLP_NAMESPACE) && m.prometheusName.startsWith(PROMETHEUS_NAMESPACE), m.key);
    assert.equal(m.prometheusName.endsWith('_total'), m.kind === 'counter', m.key);
    if (m.unit === 's') assert.match(m.prometheusName, /_seconds(_total)?$/, m.key);
    assert.ok(m.description.length > 0 && m.resultsField.length > 0, m.key);
    for (const l of m.labels) assert.ok(!(COMMON_LABELS as readonly string[]).includes(l) && /^[a-z_]+$/.test(l), `${m.key}: ${l}`);
  }
});

test("the README's table maps every metric to its results.json field", () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('## Watching a run live'), readme.indexOf('### Grafana dashboards'));
  for (const m of MEASUREMENT_METRICS) {
    assert.ok(section.includes(`\`${m.prometheusName}\``), m.prometheusName);
    if (!m.key.startsWith('datapath:')) assert.ok(section.includes(`\`${m.resultsField}\``), `${m.prometheusName} → ${m.resultsField}`);
  }
});
