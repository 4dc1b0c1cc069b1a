/**
 * `tally k8s render`: a sharded run as Kubernetes objects, deterministic and SSA-clean.
 * Pure: the scenario's text and validated form in, objects (and their YAML) out.
 *
 * Objects (namespaced in `--namespace`):
 * - ServiceAccount `<base>`: no token mounted, no Role bound (tally calls no Kubernetes API);
 * - ConfigMap `<base>-scenario-<sha256 of the text, 10 hex>` (immutable): the scenario;
 * - Service `<base>-shards`, headless: the shard pods' DNS names (`<job>-<i>.<service>`),
 *   through which the shards reach shard 0's start barrier and hand it their results;
 * - Job `<base>` (Indexed, completions = parallelism = N, no retries), or with `--schedule`
 *   a CronJob `<base>` whose job template is that Job's spec;
 * - with `--with-target`: Deployment and ClusterIP Service `<base>-target` running
 *   `tally target`, and the scenario's `load.target` set to that Service.
 *
 * Deterministic: the same input gives the same bytes (keys sorted, no timestamps, no
 * random names). SSA-clean: no `status`, no server-set metadata, no Job `selector` or
 * controller labels, no fields written only to their defaults.
 *
 * @see https://kubernetes.io/docs/reference/using-api/server-side-apply/
 * @see https://kubernetes.io/docs/concepts/workloads/controllers/job/#completion-mode
 */
import { createHash } from 'node:crypto';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { ICronJob } from 'kubernetes-models/batch/v1/CronJob';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IJob } from 'kubernetes-models/batch/v1/Job';
import type { IJobSpec } from 'kubernetes-models/batch/v1/JobSpec';
import type { IService } from 'kubernetes-models/v1/Service';
import type { IServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { parseDocument, stringify } from 'yaml';
import { ConfigError } from '../core/errors.ts';
import type { Scenario } from '../scenarios/types.ts';
import { BARRIER_PORT, SCENARIO_KEY, shardPodTemplate, targetPodTemplate, type PodSettings } from './pod.ts';
import { forecastPodPortBudget, type PodPortBudget } from './port-budget.ts';

/** One rendered object. */
export type K8sObject = IServiceAccount | IConfigMap | IService | IJob | ICronJob | IDeployment;

/** What a render takes (flags already parsed). */
export interface RenderInput {
  /** The scenario file's text, as the ConfigMap will hold it. */
  scenarioText: string;
  /** The same, validated. */
  scenario: Scenario;
  shards: number;
  namespace: string;
  /** `registry/name:tag` or `registry/name@sha256:…`. */
  image: string;
  /** A cron schedule: render a CronJob instead of a Job. */
  schedule?: string;
  /** Render a target Deployment and Service, and point `load.target` at it. */
  withTarget?: boolean;
  /** Target pods (default 2). */
  targetReplicas?: number;
  /** `net.ipv4.ip_local_port_range` of the shard pods (default 1024–65535). */
  portRange?: { low: number; high: number };
  /** A PersistentVolumeClaim for the shards' results (default an emptyDir per pod). */
  pvcName?: string;
  /** Container requests (default `2` CPUs, `2Gi`). */
  cpu?: string;
  memory?: string;
}

/** A render: the objects, one YAML text per object, and the port budget forecast. */
export interface Rendered {
  objects: K8sObject[];
  /** `{ file, text }` per object, in apply order (`NN-kind-name.yaml`). */
  files: { file: string; text: string }[];
  portBudget: PodPortBudget;
}

/** Default `net.ipv4.ip_local_port_range` of the shard pods: every unprivileged port. */
export const DEFAULT_POD_PORT_RANGE = { low: 1024, high: 65535 };

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const IMAGE = /^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*(:[\w][\w.-]{0,127})?(@sha256:[0-9a-f]{64})?$/;

/** `tally-<scenario name>` as a DNS label of at most 40 characters (room for `-<job suffix>-<index>`). */
export function baseName(scenarioName: string): string {
  const cleaned = scenarioName.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '');
  return `tally-${cleaned}`.slice(0, 40).replace(/-+$/, '');
}

function check(input: RenderInput): void {
  const problems: { pointer: string; message: string }[] = [];
  if (!Number.isInteger(input.shards) || input.shards < 1 || input.shards > 1000) problems.push({ pointer: '--shards', message: 'an integer from 1 to 1000' });
  if (!DNS_LABEL.test(input.namespace) || input.namespace.length > 63) problems.push({ pointer: '--namespace', message: 'a DNS label (lower-case letters, digits, -)' });
  if (!IMAGE.test(input.image)) problems.push({ pointer: '--image', message: 'an image reference, registry/name[:tag][@sha256:<64 hex>]' });
  if (input.schedule !== undefined && !/^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|(\S+\s+){4}\S+)$/.test(input.schedule.trim())) problems.push({ pointer: '--schedule', message: 'a cron schedule (five fields) or @daily, @hourly, …' });
  if (input.pvcName !== undefined && !DNS_LABEL.test(input.pvcName)) problems.push({ pointer: '--pvc', message: 'a PersistentVolumeClaim name' });
  const r = input.portRange ?? DEFAULT_POD_PORT_RANGE;
  if (!(Number.isInteger(r.low) && Number.isInteger(r.high) && r.low >= 1024 && r.high <= 65535 && r.low < r.high)) problems.push({ pointer: '--port-range', message: 'LOW-HIGH with 1024 ≤ LOW < HIGH ≤ 65535' });
  if (problems.length > 0) throw new ConfigError(`tally k8s render: ${problems.map((p) => `${p.pointer}: ${p.message}`).join('; ')}`, problems, { code: 'TALLY_USAGE' });
}

/** The scenario text the ConfigMap holds: as given, or with `load.target` pointed at the rendered target Service (comments kept). */
function configMapText(input: RenderInput, targetUrl: string | undefined): string {
  if (targetUrl === undefined || input.scenario.load === undefined) return input.scenarioText;
  const doc = parseDocument(input.scenarioText);
  doc.setIn(['load', 'target'], targetUrl);
  return doc.toString();
}

/**
 * Render the objects of a sharded run.
 * @throws ConfigError `TALLY_USAGE` naming every bad flag.
 */
export function renderK8s(input: RenderInput): Rendered {
  check(input);
  const base = baseName(input.scenario.name);
  const ns = input.namespace;
  const labels = { 'app.kubernetes.io/name': 'tally', 'app.kubernetes.io/instance': base };
  const meta = (name: string, extra: Record<string, string> = {}): { name: string; namespace: string; labels: Record<string, string> } => ({ name, namespace: ns, labels: { ...labels, ...extra } });
  const targetUrl = input.withTarget ? `http://${base}-target.${ns}.svc:80/` : undefined;
  const text = configMapText(input, targetUrl);
  const configMapName = `${base}-scenario-${createHash('sha256').update(text).digest('hex').slice(0, 10)}`;
  const serviceName = `${base}-shards`;
  const pod: PodSettings = { labels, serviceAccountName: base, image: input.image, cpu: input.cpu ?? '2', memory: input.memory ?? '2Gi' };
  const portRange = input.portRange ?? DEFAULT_POD_PORT_RANGE;
  const portBudget = forecastPodPortBudget(input.scenario, input.shards, portRange);
  const jobSpec: IJobSpec = {
    completionMode: 'Indexed',
    completions: input.shards,
    parallelism: input.shards,
    // A shard that fails is not retried: its start instant has passed, and the run's verdict is shard 0's merge.
    backoffLimit: 0,
    template: shardPodTemplate({ ...pod, shards: input.shards, serviceName, configMapName, portRange, ...(input.pvcName === undefined ? {} : { pvcName: input.pvcName }) }),
  };
  const annotations = { 'tally.dev/shards': String(input.shards), 'tally.dev/port-budget': portBudget.summary };
  const objects: K8sObject[] = [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(base), automountServiceAccountToken: false },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(configMapName), immutable: true, data: { [SCENARIO_KEY]: text } },
    {
      apiVersion: 'v1', kind: 'Service', metadata: meta(serviceName, { 'app.kubernetes.io/component': 'shard' }),
      spec: { clusterIP: 'None', publishNotReadyAddresses: true, selector: { ...labels, 'app.kubernetes.io/component': 'shard' }, ports: [{ name: 'barrier', port: BARRIER_PORT, targetPort: 'barrier' }] },
    },
  ];
  if (input.withTarget) {
    const targetLabels = { ...labels, 'app.kubernetes.io/component': 'target' };
    objects.push(
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: meta(`${base}-target`, { 'app.kubernetes.io/component': 'target' }), spec: { replicas: input.targetReplicas ?? 2, selector: { matchLabels: targetLabels }, template: targetPodTemplate(pod) } },
      { apiVersion: 'v1', kind: 'Service', metadata: meta(`${base}-target`, { 'app.kubernetes.io/component': 'target' }), spec: { selector: targetLabels, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } },
    );
  }
  if (input.schedule === undefined) objects.push({ apiVersion: 'batch/v1', kind: 'Job', metadata: { ...meta(base, { 'app.kubernetes.io/component': 'shard' }), annotations }, spec: jobSpec });
  else {
    objects.push({
      apiVersion: 'batch/v1', kind: 'CronJob', metadata: { ...meta(base, { 'app.kubernetes.io/component': 'shard' }), annotations },
      // A run never overlaps the previous one: both would load the same target.
      spec: { schedule: input.schedule.trim(), concurrencyPolicy: 'Forbid', jobTemplate: { metadata: { labels: { ...labels, 'app.kubernetes.io/component': 'shard' }, annotations }, spec: jobSpec } },
    });
  }
  return { objects, files: objects.map((o, i) => ({ file: `${String(i).padStart(2, '0')}-${o.kind!.toLowerCase()}-${o.metadata!.name}.yaml`, text: manifestYaml(o) })), portBudget };
}

/** One object as YAML: keys sorted at every level, block style, no document marker. */
export function manifestYaml(object: object): string {
  return stringify(object, { sortMapEntries: true, lineWidth: 0, aliasDuplicateObjects: false });
}

/** Every object of a render as one multi-document YAML stream (for stdout). */
export function manifestStream(rendered: Rendered): string {
  return rendered.files.map((f) => `---\n${f.text}`).join('');
}
