/**
 * The pod templates of a rendered sharded run: the shard pods of the Indexed Job and the
 * target pods of `--with-target`. Pure.
 *
 * Every pod: non-root (UID/GID 10001, as k8s/Dockerfile), RuntimeDefault seccomp, no
 * privilege escalation, every capability dropped, a read-only root filesystem (tally
 * writes only to /results and /tmp, both volumes), no service-account token (tally
 * calls no Kubernetes API). Shard pods also set the namespaced safe sysctl
 * `net.ipv4.ip_local_port_range` so the churn's port budget has room, and are spread one
 * per node by a required pod anti-affinity (as k6-operator's `separate`).
 *
 * @see https://kubernetes.io/docs/concepts/workloads/controllers/job/#completion-mode
 * @see https://kubernetes.io/docs/tasks/administer-cluster/sysctl-cluster/#safe-and-unsafe-sysctls
 * @see https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
 */
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSecurityContext } from 'kubernetes-models/v1/PodSecurityContext';
import type { IPodTemplateSpec } from 'kubernetes-models/v1/PodTemplateSpec';
import type { ISecurityContext } from 'kubernetes-models/v1/SecurityContext';

/** The UID and GID tally runs as (k8s/Dockerfile's `USER`). */
export const TALLY_UID = 10001;
/** Port of shard 0's start barrier and result collection (pipeline/barrier.ts). */
export const BARRIER_PORT = 7070;
/** Port the target pods listen on. */
export const TARGET_PORT = 8080;
/** Where the scenario ConfigMap is mounted, and its key. */
export const SCENARIO_DIR = '/etc/tally';
export const SCENARIO_KEY = 'scenario.yaml';
/** Where shard pods write their run directories (and shard 0 collects them). */
export const RESULTS_DIR = '/results';

/** Names and settings the pod templates are built from. */
export interface PodSettings {
  /** Labels of every object of the render (`app.kubernetes.io/name`, `…/instance`). */
  labels: Record<string, string>;
  serviceAccountName: string;
  image: string;
  /** Container resources: requests (and the memory limit). */
  cpu: string;
  memory: string;
}

/** What a shard pod runs. */
export interface ShardPodSettings extends PodSettings {
  shards: number;
  /** The headless Service the shard pods are a subdomain of. */
  serviceName: string;
  configMapName: string;
  /** `net.ipv4.ip_local_port_range`, inclusive. */
  portRange: { low: number; high: number };
  /** A PersistentVolumeClaim for /results (each Job in its own sub-directory); default an emptyDir. */
  pvcName?: string;
}

function podSecurity(sysctls?: { name: string; value: string }[]): IPodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: TALLY_UID,
    runAsGroup: TALLY_UID,
    fsGroup: TALLY_UID,
    seccompProfile: { type: 'RuntimeDefault' },
    ...(sysctls === undefined ? {} : { sysctls }),
  };
}

const CONTAINER_SECURITY: ISecurityContext = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ['ALL'] },
};

function resources(s: PodSettings): IContainer['resources'] {
  // No CPU limit: CFS throttling would show up as latency the system under test did not cause.
  return { requests: { cpu: s.cpu, memory: s.memory }, limits: { memory: s.memory } };
}

/**
 * The Indexed Job's pod template: `tally run --shard $(JOB_COMPLETION_INDEX)/N`, the start
 * agreed at shard 0's barrier over the headless Service, every shard's run directory
 * collected and merged by shard 0.
 */
export function shardPodTemplate(s: ShardPodSettings): IPodTemplateSpec {
  const labels = { ...s.labels, 'app.kubernetes.io/component': 'shard' };
  const results = s.pvcName === undefined
    ? { volume: { name: 'results', emptyDir: {} }, mount: { name: 'results', mountPath: RESULTS_DIR } }
    : { volume: { name: 'results', persistentVolumeClaim: { claimName: s.pvcName } }, mount: { name: 'results', mountPath: RESULTS_DIR, subPathExpr: '$(JOB_NAME)' } };
  return {
    metadata: { labels },
    spec: {
      serviceAccountName: s.serviceAccountName,
      automountServiceAccountToken: false,
      restartPolicy: 'Never',
      subdomain: s.serviceName,
      securityContext: podSecurity([{ name: 'net.ipv4.ip_local_port_range', value: `${s.portRange.low} ${s.portRange.high}` }]),
      affinity: {
        podAntiAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: labels }, topologyKey: 'kubernetes.io/hostname' }],
        },
      },
      containers: [{
        name: 'tally',
        image: s.image,
        args: [
          'run', `${SCENARIO_DIR}/${SCENARIO_KEY}`,
          '--shard', `$(JOB_COMPLETION_INDEX)/${s.shards}`,
          '--barrier', `http://$(JOB_NAME)-0.${s.serviceName}:${BARRIER_PORT}`,
          '--out', `${RESULTS_DIR}/shard-$(JOB_COMPLETION_INDEX)`,
          '--collect', RESULTS_DIR,
        ],
        env: [
          { name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" } } },
          { name: 'JOB_NAME', valueFrom: { fieldRef: { fieldPath: "metadata.labels['batch.kubernetes.io/job-name']" } } },
        ],
        ports: [{ name: 'barrier', containerPort: BARRIER_PORT }],
        resources: resources(s),
        securityContext: CONTAINER_SECURITY,
        volumeMounts: [
          { name: 'scenario', mountPath: SCENARIO_DIR, readOnly: true },
          results.mount,
          { name: 'tmp', mountPath: '/tmp' },
        ],
      }],
      volumes: [
        { name: 'scenario', configMap: { name: s.configMapName } },
        results.volume,
        { name: 'tmp', emptyDir: {} },
      ],
    },
  };
}

/** The target Deployment's pod template: `tally target`, naming itself by its pod IP in every answer. */
export function targetPodTemplate(s: PodSettings): IPodTemplateSpec {
  return {
    metadata: { labels: { ...s.labels, 'app.kubernetes.io/component': 'target' } },
    spec: {
      serviceAccountName: s.serviceAccountName,
      automountServiceAccountToken: false,
      securityContext: podSecurity(),
      containers: [{
        name: 'target',
        image: s.image,
        args: ['target', '--host', '0.0.0.0', '--port', String(TARGET_PORT), '--name', '$(POD_NAME)'],
        env: [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
        ports: [{ name: 'http', containerPort: TARGET_PORT }],
        readinessProbe: { tcpSocket: { port: 'http' } },
        resources: resources(s),
        securityContext: CONTAINER_SECURITY,
        volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
      }],
      volumes: [{ name: 'tmp', emptyDir: {} }],
    },
  };
}
