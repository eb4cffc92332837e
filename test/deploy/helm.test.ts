// Tests the Helm chart in helm/authgate with a real helm binary: lint, render, schema refusals,
// and what the rendered gateway/sidecar manifests contain.
//
// Manifest validation: kubectl's client-side validation does NOT work offline (`kubectl apply
// --dry-run=client --validate=strict` downloads /openapi/v2 from an API server and fails without one),
// so every rendered object is validated with the `kubernetes-models` package's `.validate()`
// (Kubernetes OpenAPI schemas: types, required fields, enums, formats; it does not reject unknown fields)
// and `@kubernetes-models/prometheus-operator` for the ServiceMonitor.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import {
  chartDir,
  repoRoot,
  fetchHelm,
  findAll,
  findOne,
  helmTemplate,
  parseManifests,
  runHelm,
  validateObject,
  type K8sObject,
} from './helm-harness.js';

const fetched = fetchHelm();
if (!fetched.helm) {
  // No helm means nothing below could be checked: that is a failure, never a pass or a skip.
  t.fail(`helm could not be fetched: ${fetched.error ?? 'unknown error'}`);
  throw new Error(`helm could not be fetched: ${fetched.error ?? 'unknown error'}`);
}
const helm = fetched.helm;
const ciDir = join(chartDir, 'ci');
const ci = (name: string) => join(ciDir, `${name}-values.yaml`);

function render(values: string[], set: string[] = []): K8sObject[] {
  const r = helmTemplate(helm, { values, set });
  if (r.status !== 0) throw new Error(`helm template failed: ${r.stderr}`);
  return parseManifests(r.stdout);
}

type Json = any;
const container = (d: K8sObject, name = 'authgate'): Json => d.spec.template.spec.containers.find((c: Json) => c.name === name);
const envOf = (c: Json): Record<string, string> => Object.fromEntries((c.env ?? []).map((e: Json) => [e.name, e.value]));

/** Which kinds each ci/ scenario must render, with their counts. */
const scenarios: Record<string, Record<string, number>> = {
  'gateway-minimal': { ConfigMap: 2, Deployment: 1, Service: 1, ServiceAccount: 1, PodDisruptionBudget: 1 },
  'gateway-redis-hpa': {
    ConfigMap: 2, Deployment: 1, Service: 1, ServiceAccount: 1, PodDisruptionBudget: 1, Secret: 2,
    Job: 1, HorizontalPodAutoscaler: 1, NetworkPolicy: 1, ServiceMonitor: 1,
  },
  sidecar: { ConfigMap: 2 },
  'existing-secret': { ConfigMap: 2, Deployment: 1, Service: 1, PodDisruptionBudget: 1, Job: 1 },
};

t.test('the ci/ scenario files are the ones this suite knows, each with a leading comment', async (t) => {
  const files = readdirSync(ciDir).filter((f) => f.endsWith('-values.yaml')).sort();
  t.same(files, Object.keys(scenarios).map((s) => `${s}-values.yaml`).sort());
  for (const f of files) t.match(readFileSync(join(ciDir, f), 'utf8'), /^# Exercises /, `${f} says what it exercises`);
});

t.test('the validator is not a rubber stamp', async (t) => {
  const bad = {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' },
    spec: { replicas: 'three', selector: {}, template: { spec: { containers: [{ name: 'c', livenessProbe: { httpGet: { path: '/healthz' } } }] } } },
  };
  t.throws(() => validateObject(bad as K8sObject), 'a Deployment with a string replica count and a port-less probe is refused');
  t.throws(() => validateObject({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x' } }), 'an unexpected kind is refused');
});

for (const [name, kinds] of Object.entries(scenarios)) {
  t.test(`ci/${name}: helm lint --strict, helm template, Kubernetes schema validation`, async (t) => {
    const lint = runHelm(helm, ['lint', '--strict', chartDir, '-f', ci(name)]);
    t.equal(lint.status, 0, `helm lint --strict passes\n${lint.stdout}${lint.stderr}`);
    t.match(lint.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);

    const objs = render([ci(name)]);
    const counts: Record<string, number> = {};
    for (const o of objs) counts[o.kind] = (counts[o.kind] ?? 0) + 1;
    t.same(counts, kinds, 'renders exactly the expected kinds');
    for (const o of objs) {
      t.doesNotThrow(() => validateObject(o), `${o.kind}/${o.metadata.name} is a valid Kubernetes object`);
      t.equal(o.metadata.namespace ?? 'auth', 'auth', `${o.kind}/${o.metadata.name} is namespaced to the release`);
    }
  });
}

t.test('values.schema.json refuses bad values (helm template fails)', async (t) => {
  const cases: [string, RegExp][] = [
    ['replicaCount=three', /replicaCount/],
    ['replicaCount=0', /replicaCount/],
    ['mode=proxy', /mode/],
    ['notAValue=1', /notAValue/],
    ['image.pullPolicy=Sometimes', /pullPolicy/],
    ['service.type=ExternalName', /type/],
    ['security.bcryptCost=40', /bcryptCost/],
    ['security.passwordMinLength=4', /passwordMinLength/],
    ['logLevel=verbose', /logLevel/],
    ['tokens.accessTokenTtl=soon', /accessTokenTtl/],
    ['secret.redisUrl=http://redis:6379', /redisUrl/],
    ['secret.databaseUrl=mysql://db/authgate', /databaseUrl/],
    ['containerPort=80', /containerPort/],
    ['autoscaling.targetCPUUtilizationPercentage=150', /targetCPUUtilizationPercentage/],
    ['probes.readiness.periodSeconds=0', /periodSeconds/],
    ['config.nosection.key=1', /nosection/],
  ];
  for (const [set, where] of cases) {
    const r = helmTemplate(helm, { values: [ci('gateway-minimal')], set: [set] });
    t.not(r.status, 0, `--set ${set} is refused`);
    t.match(r.stderr, /schema/, `--set ${set}: refused by the values schema`);
    t.match(r.stderr, where, `--set ${set}: the error names the value`);
  }
});

t.test('template guards refuse combinations the schema cannot express', async (t) => {
  const cases: [string[], string[], RegExp][] = [
    [[ci('gateway-minimal')], ['replicaCount=2'], /SQLite/],
    [[ci('gateway-minimal')], ['autoscaling.enabled=true'], /SQLite/],
    [[], ['replicaCount=1'], /gateway\.upstreamUrl/],
    [[ci('sidecar')], ['sidecar.appPort=8080'], /appPort/],
    [[ci('gateway-redis-hpa')], ['pdb.maxUnavailable=1'], /minAvailable/],
    [[ci('gateway-redis-hpa')], ['autoscaling.minReplicas=20'], /minReplicas/],
    [[ci('gateway-minimal')], ['terminationGracePeriodSeconds=5'], /terminationGracePeriodSeconds/],
  ];
  for (const [values, set, message] of cases) {
    const r = helmTemplate(helm, { values, set });
    t.not(r.status, 0, `${set.join(' ')} is refused`);
    t.match(r.stderr, message, `${set.join(' ')}: the error explains why`);
  }
});

t.test('gateway Deployment: probes, securityContext, checksums, mounts, env', async (t) => {
  const objs = render([ci('gateway-redis-hpa')]);
  const d = findOne(objs, 'Deployment');
  const pod = d.spec.template.spec;
  const c = container(d);
  t.ok(c, 'has the authgate container');

  t.equal(d.spec.replicas, undefined, 'replicas left to the HPA');
  t.equal(c.livenessProbe.httpGet.path, '/healthz');
  t.equal(c.readinessProbe.httpGet.path, '/readyz');
  t.equal(c.startupProbe.httpGet.path, '/healthz');
  t.equal(c.livenessProbe.httpGet.port, 'http');
  t.same(c.ports, [{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
  t.ok(c.resources.requests.cpu && c.resources.requests.memory && c.resources.limits.memory, 'resource requests and a memory limit');

  t.match(pod.securityContext, { runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: 'RuntimeDefault' } });
  t.match(c.securityContext, {
    runAsNonRoot: true, runAsUser: 10001, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' },
  });
  t.equal(pod.automountServiceAccountToken, false);
  t.equal(pod.enableServiceLinks, false, 'no service-link env (AUTHGATE_SERVICE_HOST would be an unknown config key)');
  t.equal(pod.terminationGracePeriodSeconds, 30);
  t.match(c.lifecycle.preStop.exec.command, ['sleep', '5']);
  t.same(pod.topologySpreadConstraints.map((x: Json) => x.topologyKey), ['topology.kubernetes.io/zone', 'kubernetes.io/hostname']);
  t.same(pod.topologySpreadConstraints[0].labelSelector.matchLabels, d.spec.selector.matchLabels);

  const ann = d.spec.template.metadata.annotations;
  for (const k of ['checksum/config', 'checksum/policies', 'checksum/secret']) t.match(ann[k], /^[0-9a-f]{64}$/, `${k} annotation`);

  t.same(c.args, ['serve', '--no-migrate'], 'the migration Job migrates, so the server does not');
  const env = envOf(c);
  t.equal(env.POLICIES_FILE, '/etc/authgate/policies/policies.yaml');
  t.equal(env.AUTHGATE_CONFIG, '/etc/authgate/config/authgate.yaml');
  t.equal(env.AUTHGATE_MAIL_OUTBOX_DIR, '/data/outbox');
  t.equal(env.PUBLIC_URL, 'https://auth.example.com');
  t.equal(env.TRUSTED_PROXIES, '10.0.0.0/8');
  t.equal(env.BCRYPT_COST, '13');
  t.equal(env.REQUIRE_VERIFIED_EMAIL, 'true');
  t.equal(env.DATABASE_URL, undefined, 'DATABASE_URL comes from the Secret, not inline');
  const known = new Set(['PORT', 'HOST', 'DATABASE_URL', 'REDIS_URL', 'SMTP_URL', 'MAIL_FROM', 'PUBLIC_URL', 'POLICIES_FILE', 'JWT_ISSUER',
    'JWT_AUDIENCE', 'ACCESS_TOKEN_TTL', 'REFRESH_IDLE_TTL', 'SESSION_MAX_AGE', 'BCRYPT_COST', 'LOGIN_MAX_FAILURES', 'LOCKOUT_DURATION',
    'PASSWORD_MIN_LENGTH', 'REQUIRE_VERIFIED_EMAIL', 'TRUSTED_PROXIES', 'DEFAULT_ROLE', 'LOG_LEVEL', 'AUTHGATE_CONFIG']);
  for (const name of Object.keys(env)) t.ok(known.has(name) || /^AUTHGATE_[A-Z]+_[A-Z_]+$/.test(name), `${name} is a SPEC §2 name or AUTHGATE_<SECTION>_<KEY>`);
  t.same(c.envFrom, [{ secretRef: { name: 'rel-authgate' } }]);

  const mount = c.volumeMounts.find((m: Json) => m.mountPath === '/etc/authgate/policies');
  t.ok(mount, 'policies mounted at /etc/authgate/policies');
  t.equal(mount.subPath, undefined, 'as a directory, not a subPath (subPath mounts never see ConfigMap updates)');
  const vol = pod.volumes.find((v: Json) => v.name === mount.name);
  t.equal(vol.configMap.name, 'rel-authgate-policies');
  t.equal(vol.configMap.items, undefined);
  for (const path of ['/data', '/tmp']) {
    const m = c.volumeMounts.find((x: Json) => x.mountPath === path);
    t.ok(pod.volumes.find((v: Json) => v.name === m?.name)?.emptyDir, `${path} is an emptyDir (read-only root filesystem)`);
  }
  for (const m of c.volumeMounts) t.equal(m.subPath, undefined, `${m.mountPath} is not a subPath mount`);

  const policies = parseYaml(findOne(objs, 'ConfigMap', '-policies').data['policies.yaml']);
  t.equal(policies.upstreams.app, 'http://orders.shop.svc.cluster.local:8080', 'gateway.upstreamUrl fills the upstream');
  t.equal(policies.version, 1);

  const secret = findOne(objs, 'Secret', 'rel-authgate');
  t.same(Object.keys(secret.data).sort(), ['DATABASE_URL', 'REDIS_URL', 'SMTP_URL']);
  t.equal(Buffer.from(secret.data.REDIS_URL, 'base64').toString(), 'redis://redis-master.cache.svc.cluster.local:6379/0');

  const svc = findOne(objs, 'Service');
  t.same(svc.spec.selector, d.spec.selector.matchLabels);
  t.equal(svc.spec.ports[0].targetPort, 'http');
  const hpa = findOne(objs, 'HorizontalPodAutoscaler');
  t.match(hpa.spec, { scaleTargetRef: { kind: 'Deployment', name: d.metadata.name }, minReplicas: 3, maxReplicas: 12 });
  t.same(hpa.spec.metrics.map((m: Json) => m.resource.name), ['cpu', 'memory']);
  t.same(findOne(objs, 'PodDisruptionBudget').spec.minAvailable, 2);
  const sm = findOne(objs, 'ServiceMonitor');
  t.match(sm.spec.endpoints[0], { port: 'http', path: '/metrics' });
  const np = findOne(objs, 'NetworkPolicy');
  t.same(np.spec.policyTypes, ['Ingress', 'Egress']);
  t.equal(np.spec.ingress[0].ports[0].port, 8080);
});

t.test('migration Job: pre-install/pre-upgrade hook running authctl migrate', async (t) => {
  const objs = render([ci('gateway-redis-hpa')]);
  const job = findOne(objs, 'Job');
  const a = job.metadata.annotations;
  t.equal(a['helm.sh/hook'], 'pre-install,pre-upgrade');
  t.equal(a['helm.sh/hook-delete-policy'], 'before-hook-creation,hook-succeeded');
  const c = job.spec.template.spec.containers[0];
  t.same([...c.command, ...c.args], ['node', 'bin/authctl.js', 'migrate']);
  t.equal(job.spec.template.spec.restartPolicy, 'Never');
  t.match(c.securityContext, { readOnlyRootFilesystem: true, runAsNonRoot: true, allowPrivilegeEscalation: false });
  t.equal(job.spec.template.spec.enableServiceLinks, false);

  // The regular Secret does not exist yet at pre-install, so the Job reads a hook Secret created before it.
  const hookSecret = findOne(objs, 'Secret', '-migration');
  t.same(c.envFrom, [{ secretRef: { name: hookSecret.metadata.name } }]);
  t.equal(hookSecret.metadata.annotations['helm.sh/hook'], 'pre-install,pre-upgrade');
  t.ok(Number(hookSecret.metadata.annotations['helm.sh/hook-weight']) < Number(a['helm.sh/hook-weight']), 'hook Secret is created before the Job');
  t.equal(job.spec.template.spec.serviceAccountName, undefined, 'the chart ServiceAccount does not exist yet at pre-install');
});

t.test('gateway-minimal: SQLite on the emptyDir, the server migrates itself, no Job', async (t) => {
  const objs = render([ci('gateway-minimal')]);
  const d = findOne(objs, 'Deployment');
  const c = container(d);
  t.equal(d.spec.replicas, 1);
  t.same(c.args, ['serve']);
  t.equal(envOf(c).DATABASE_URL, 'sqlite:/data/authgate.sqlite');
  t.equal(c.envFrom, undefined, 'no Secret to read');
  t.equal(findAll(objs, 'Job').length, 0);
  t.equal(d.spec.template.metadata.annotations['checksum/secret']?.length, 64, 'checksum/secret still present (of an empty Secret)');
});

t.test('existing-secret: no chart Secret; Deployment and Job read the operator Secret', async (t) => {
  const objs = render([ci('existing-secret')]);
  t.equal(findAll(objs, 'Secret').length, 0);
  const d = findOne(objs, 'Deployment');
  const c = container(d);
  t.same(c.envFrom, [{ secretRef: { name: 'authgate-prod-env' } }]);
  t.equal(envOf(c).DATABASE_URL, undefined);
  t.equal(envOf(c).AUTHGATE_SERVER_ACCESS_LOG, 'true');
  const ann = d.spec.template.metadata.annotations;
  t.equal(ann['checksum/secret'], undefined);
  t.equal(ann['checksum/policies'], undefined, 'policies.rollOnChange: false relies on hot reload only');
  t.match(ann['checksum/config'], /^[0-9a-f]{64}$/);
  t.equal(d.spec.template.spec.serviceAccountName, 'authgate-workload-identity');
  t.equal(d.spec.template.spec.topologySpreadConstraints[0].whenUnsatisfiable, 'DoNotSchedule');
  const job = findOne(objs, 'Job');
  t.same(job.spec.template.spec.containers[0].envFrom, [{ secretRef: { name: 'authgate-prod-env' } }]);
  t.equal(job.spec.template.spec.serviceAccountName, 'authgate-workload-identity');
  const policies = parseYaml(findOne(objs, 'ConfigMap', '-policies').data['policies.yaml']);
  t.same(policies.upstreams, { app: 'http://billing.billing.svc.cluster.local:8080' });
  t.equal(findOne(objs, 'Service').spec.type, 'LoadBalancer');
  t.equal(d.metadata.labels.team, 'identity');
});

t.test('a policy change changes only checksum/policies; a config change only checksum/config', async (t) => {
  const annotations = (set: string[]) => findOne(render([ci('gateway-minimal')], set), 'Deployment').spec.template.metadata.annotations;
  const base = annotations([]);
  const policy = annotations(['policies.document.default=public']);
  const config = annotations(['config.log.level=debug']);
  t.not(policy['checksum/policies'], base['checksum/policies']);
  t.equal(policy['checksum/config'], base['checksum/config']);
  t.not(config['checksum/config'], base['checksum/config']);
  t.equal(config['checksum/policies'], base['checksum/policies']);
});

t.test('sidecar mode renders no workload, only ConfigMaps, and NOTES with the container snippet', async (t) => {
  const objs = render([ci('sidecar')]);
  for (const kind of ['Deployment', 'Service', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'Job', 'ServiceAccount']) {
    t.equal(findAll(objs, kind).length, 0, `no ${kind}`);
  }
  const policies = parseYaml(findOne(objs, 'ConfigMap', '-policies').data['policies.yaml']);
  t.same(policies.upstreams, { app: 'http://127.0.0.1:3000' }, 'upstream is the app on localhost');
  t.equal(policies.routes[0].name, 'orders-read');

  const dry = runHelm(helm, ['install', 'shop', chartDir, '-f', ci('sidecar'), '--dry-run=client', '--namespace', 'auth']);
  t.equal(dry.status, 0, dry.stderr);
  const notes = dry.stdout.slice(dry.stdout.indexOf('NOTES:'));
  t.match(notes, /sidecar mode/);
  t.match(notes, /- name: authgate\n/);
  t.match(notes, /127\.0\.0\.1:3000/);
  t.match(notes, /authctl user create --email \S+ --username \S+ --role admin --password-stdin/);
  // The snippet in NOTES is YAML an operator can paste: parse it back.
  const snippet = notes.slice(notes.indexOf('  spec:'), notes.indexOf('From a parent chart'));
  const podSpec = parseYaml(snippet).spec;
  const sidecar = podSpec.containers.find((c: Json) => c.name === 'authgate');
  t.same(sidecar.ports, [{ name: 'authgate-http', containerPort: 8080, protocol: 'TCP' }]);
  t.equal(sidecar.readinessProbe.httpGet.path, '/readyz');
  t.same(podSpec.volumes.map((v: Json) => v.name), ['authgate-policies', 'authgate-config', 'authgate-data', 'authgate-tmp']);
});

t.test('gateway NOTES tell the operator how to create the first admin', async (t) => {
  const dry = runHelm(helm, ['install', 'gw', chartDir, '-f', ci('gateway-redis-hpa'), '--dry-run=client', '--namespace', 'auth']);
  t.equal(dry.status, 0, dry.stderr);
  t.match(dry.stdout, /kubectl -n auth exec -i deploy\/gw-authgate -c authgate -- \\\n\s+authctl user create --email \S+ --username \S+ --role admin --password-stdin/);
});

t.test('authgate.sidecarContainer works from a parent chart (.Subcharts.authgate)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'authgate-parent-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'templates'));
  cpSync(chartDir, join(dir, 'charts', 'authgate'), { recursive: true });
  writeFileSync(join(dir, 'Chart.yaml'), 'apiVersion: v2\nname: shop\nversion: 1.0.0\nappVersion: "1.0.0"\ndependencies:\n  - name: authgate\n    version: 0.1.0\n');
  writeFileSync(join(dir, 'values.yaml'), 'authgate:\n  mode: sidecar\n  sidecar:\n    appPort: 3000\n');
  writeFileSync(join(dir, 'templates', 'deployment.yaml'), [
    'apiVersion: apps/v1',
    'kind: Deployment',
    'metadata:',
    '  name: shop',
    'spec:',
    '  selector:',
    '    matchLabels: {app: shop}',
    '  template:',
    '    metadata:',
    '      labels: {app: shop}',
    '    spec:',
    '      enableServiceLinks: false',
    '      containers:',
    '        - name: app',
    '          image: shop:1.0.0',
    '        {{- include "authgate.sidecarContainer" .Subcharts.authgate | nindent 8 }}',
    '      volumes:',
    '        {{- include "authgate.sidecarVolumes" .Subcharts.authgate | nindent 8 }}',
    '',
  ].join('\n'));
  const lint = runHelm(helm, ['lint', '--strict', dir]);
  t.equal(lint.status, 0, `${lint.stdout}${lint.stderr}`);
  const r = helmTemplate(helm, { chart: dir, release: 'shop' });
  t.equal(r.status, 0, r.stderr);
  const objs = parseManifests(r.stdout);
  for (const o of objs) t.doesNotThrow(() => validateObject(o), `${o.kind}/${o.metadata.name} validates`);
  const d = findOne(objs, 'Deployment');
  t.same(d.spec.template.spec.containers.map((c: Json) => c.name), ['app', 'authgate']);
  const policiesVolume = d.spec.template.spec.volumes.find((v: Json) => v.name === 'authgate-policies');
  const cm = findOne(objs, 'ConfigMap', '-policies');
  t.equal(policiesVolume.configMap.name, cm.metadata.name, 'the snippet mounts the ConfigMap the subchart rendered');
  t.equal(parseYaml(cm.data['policies.yaml']).upstreams.app, 'http://127.0.0.1:3000');
});

t.test('every value in values.yaml is documented with ## @param and known to the schema', async (t) => {
  const text = readFileSync(join(chartDir, 'values.yaml'), 'utf8');
  const documented = new Set([...text.matchAll(/^\s*## @param (\S+) \S/gm)].map((m) => m[1]!));
  const values = parseYaml(text);
  const schema = JSON.parse(readFileSync(join(chartDir, 'values.schema.json'), 'utf8'));
  const leaves: string[] = [];
  const walk = (v: Json, path: string[]) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0) {
      for (const [k, child] of Object.entries(v)) walk(child, [...path, k]);
    } else leaves.push(path.join('.'));
  };
  walk(values, []);
  for (const leaf of leaves) {
    const parts = leaf.split('.');
    const covered = parts.some((_, i) => documented.has(parts.slice(0, i + 1).join('.')));
    t.ok(covered, `${leaf} is documented by a @param for itself or an enclosing object`);
  }
  for (const p of documented) {
    let node: Json = values;
    let schemaNode: Json = schema;
    for (const part of p.split('.')) {
      node = node?.[part];
      schemaNode = schemaNode?.properties?.[part];
    }
    t.not(node, undefined, `@param ${p} names an existing value`);
    t.ok(schemaNode, `@param ${p} is described in values.schema.json`);
  }
});

/** Renders a scenario and returns its policies.yaml, authgate.yaml and the gateway/sidecar container env. */
function renderedRuntimeFiles(scenario: string): { policies: string; config: string; env: Record<string, string> } {
  const objs = render([ci(scenario)]);
  const policies = findOne(objs, 'ConfigMap', '-policies').data['policies.yaml'] as string;
  const config = findOne(objs, 'ConfigMap', '-config').data['authgate.yaml'] as string;
  let env: Record<string, string> = {};
  const deployments = findAll(objs, 'Deployment');
  if (deployments.length === 1) env = envOf(container(deployments[0]!));
  return { policies, config, env };
}

const cliBuilt = existsSync(join(repoRoot, 'dist', 'cli', 'main.js'));
t.test('rendered policies.yaml passes `authctl policies check`', { skip: cliBuilt ? false : 'dist/cli/main.js is missing: run `npm run build`' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'authgate-policies-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const scenario of Object.keys(scenarios)) {
    const file = join(dir, `${scenario}.yaml`);
    writeFileSync(file, renderedRuntimeFiles(scenario).policies);
    // A clean environment: the runner's own variables (e.g. AUTHGATE_* or DATABASE_URL) must not change the verdict.
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: `sqlite:${join(dir, 'authctl.sqlite')}` };
    const r = spawnSync(process.execPath, ['bin/authctl.js', 'policies', 'check', file], { cwd: repoRoot, env, encoding: 'utf8', timeout: 60_000 });
    t.equal(r.status, 0, `ci/${scenario}: ${r.stdout}${r.stderr}`);
  }
});

const configBuilt = existsSync(join(repoRoot, 'dist', 'config', 'load-config.js'));
t.test('authgate accepts the configuration the chart renders (config file + env)', { skip: configBuilt ? false : 'dist/config/load-config.js is missing: run `npm run build`' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'authgate-config-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const scenario of ['gateway-minimal', 'gateway-redis-hpa', 'existing-secret']) {
    const { config, env } = renderedRuntimeFiles(scenario);
    const file = join(dir, `${scenario}.yaml`);
    writeFileSync(file, config);
    // The Secret's keys as the pod would see them; the in-pod paths do not need to exist to be valid.
    const podEnv = { DATABASE_URL: 'postgres://u:p@db:5432/authgate', REDIS_URL: 'redis://redis:6379', ...env, AUTHGATE_CONFIG: file };
    const script = `import(${JSON.stringify(join(repoRoot, 'dist', 'config', 'load-config.js'))})
      .then((m) => { m.loadConfig({ env: JSON.parse(process.argv[1]) }); console.log('config ok'); })
      .catch((e) => { console.error(e.problems ?? e.message); process.exit(1); });`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(podEnv)], { encoding: 'utf8', timeout: 60_000 });
    t.equal(r.status, 0, `ci/${scenario}: ${r.stdout}${r.stderr}`);
    t.match(r.stdout, /config ok/);
  }
});
