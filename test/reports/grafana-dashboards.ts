/**
 * Generates the Grafana dashboards under k8s/grafana/ from reports/grafana/ (Grafana
 * Foundation SDK): `npm run gen:dashboards`. grafana-dashboards.test.ts fails when the
 * committed JSON and the code disagree.
 */
import { writeFileSync } from 'node:fs';
import { datapathDashboard } from '../../reports/grafana/datapath-dashboard.ts';
import { tallyDashboard } from '../../reports/grafana/tally-dashboard.ts';

/** Each dashboard file and its text. */
export function dashboardFiles(): { file: URL; text: string }[] {
  return [
    { file: new URL('../../k8s/grafana/tally.json', import.meta.url), text: `${JSON.stringify(tallyDashboard(), null, 2)}\n` },
    { file: new URL('../../k8s/grafana/tally-datapath.json', import.meta.url), text: `${JSON.stringify(datapathDashboard(), null, 2)}\n` },
  ];
}

if (import.meta.main) {
  for (const { file, text } of dashboardFiles()) {
    writeFileSync(file, text);
    process.stdout.write(`wrote ${file.pathname}\n`);
  }
}
