{{/*
Named templates shared by the authgate chart: names, labels, image, value guards, the container
(env, probes, mounts) used by the gateway Deployment, and the sidecar snippets
`authgate.sidecarContainer` / `authgate.sidecarVolumes` for an application's own pod.
*/}}

{{/*
Chart name. Works with the chart's own context and with a plain dict ({Values, Release}) passed
from a parent chart, which has no .Chart.
*/}}
{{- define "authgate.chartName" -}}
{{- if hasKey . "Chart" -}}{{ .Chart.Name }}{{- else -}}authgate{{- end -}}
{{- end -}}

{{- define "authgate.name" -}}
{{- default (include "authgate.chartName" .) .Values.nameOverride | trunc 40 | trimSuffix "-" -}}
{{- end -}}

{{/* Resource name prefix; at most 52 characters so suffixes such as "-migration" stay within 63. */}}
{{- define "authgate.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- $name := include "authgate.name" . -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "authgate.selectorLabels" -}}
app.kubernetes.io/name: {{ include "authgate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "authgate.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "authgate.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: authgate
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "authgate.image" -}}
{{- $appVersion := "" -}}
{{- if hasKey . "Chart" }}{{ $appVersion = .Chart.AppVersion }}{{ end -}}
{{- $repo := .Values.image.repository -}}
{{- if .Values.image.registry }}{{ $repo = printf "%s/%s" .Values.image.registry $repo }}{{ end -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" $repo .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" $repo (required "image.tag is required when the chart's appVersion is not known" (default $appVersion .Values.image.tag | toString)) -}}
{{- end -}}
{{- end -}}

{{- define "authgate.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "authgate.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "authgate.policiesConfigMapName" -}}
{{- default (printf "%s-policies" (include "authgate.fullname" .)) .Values.policies.existingConfigMap -}}
{{- end -}}

{{- define "authgate.configConfigMapName" -}}
{{- printf "%s-config" (include "authgate.fullname" .) -}}
{{- end -}}

{{/* "true" when the database is outside the pod (PostgreSQL, or whatever an existing Secret names). */}}
{{- define "authgate.externalDatabase" -}}
{{- if or .Values.secret.existingSecret (regexMatch "^postgres(ql)?://" .Values.secret.databaseUrl) -}}true{{- end -}}
{{- end -}}

{{/* "true" when the pre-install/pre-upgrade `authctl migrate` Job runs (and the server starts with --no-migrate). */}}
{{- define "authgate.migrationJobEnabled" -}}
{{- if and (eq .Values.mode "gateway") .Values.migration.enabled (include "authgate.externalDatabase" .) -}}true{{- end -}}
{{- end -}}

{{/* Key/value pairs of the chart-managed Secret; only non-empty values, so an unset REDIS_URL stays unset. */}}
{{- define "authgate.secretData" -}}
{{- $data := dict -}}
{{- with .Values.secret.databaseUrl }}{{ $_ := set $data "DATABASE_URL" . }}{{ end -}}
{{- with .Values.secret.redisUrl }}{{ $_ := set $data "REDIS_URL" . }}{{ end -}}
{{- with .Values.secret.smtpUrl }}{{ $_ := set $data "SMTP_URL" . }}{{ end -}}
{{- range $k, $v := .Values.secret.extraEnv }}{{ $_ := set $data $k $v }}{{ end -}}
{{- range $k, $v := $data }}
{{ $k }}: {{ $v | toString | b64enc | quote }}
{{- end }}
{{- end -}}

{{/* Name of the Secret the pods read their environment from; empty when there is none. */}}
{{- define "authgate.secretName" -}}
{{- if .Values.secret.existingSecret -}}
{{- .Values.secret.existingSecret -}}
{{- else if (include "authgate.secretData" . | trim) -}}
{{- include "authgate.fullname" . -}}
{{- end -}}
{{- end -}}

{{/* policies.yaml: the values document with the chart-managed upstream filled in. */}}
{{- define "authgate.policiesYaml" -}}
{{- $doc := deepCopy .Values.policies.document -}}
{{- $upstreams := deepCopy (dig "upstreams" dict $doc) -}}
{{- $name := .Values.policies.upstreamName -}}
{{- if eq .Values.mode "sidecar" -}}
{{- $_ := set $upstreams $name (printf "http://127.0.0.1:%d" (int .Values.sidecar.appPort)) -}}
{{- else if .Values.gateway.upstreamUrl -}}
{{- $_ := set $upstreams $name .Values.gateway.upstreamUrl -}}
{{- end -}}
version: {{ $doc.version }}
upstreams:
  {{- toYaml $upstreams | nindent 2 }}
{{ toYaml (omit $doc "version" "upstreams") }}
{{- end -}}

{{/* Refuses value combinations the schema cannot express. Renders nothing. */}}
{{- define "authgate.validate" -}}
{{- $external := include "authgate.externalDatabase" . -}}
{{- if eq .Values.mode "gateway" -}}
{{- if and (not $external) (or (gt (int .Values.replicaCount) 1) .Values.autoscaling.enabled) -}}
{{- fail "authgate: with SQLite (no secret.databaseUrl / secret.existingSecret) every pod would have its own database; set replicaCount: 1 and autoscaling.enabled: false, or use PostgreSQL" -}}
{{- end -}}
{{- if and (not .Values.gateway.upstreamUrl) (not .Values.policies.existingConfigMap) (not (dig "upstreams" dict .Values.policies.document)) -}}
{{- fail "authgate: gateway mode needs gateway.upstreamUrl (or upstreams in policies.document, or policies.existingConfigMap)" -}}
{{- end -}}
{{- end -}}
{{- if and (eq .Values.mode "sidecar") (eq (int .Values.sidecar.appPort) (int .Values.containerPort)) -}}
{{- fail "authgate: sidecar.appPort must differ from containerPort (both containers share the pod's network namespace)" -}}
{{- end -}}
{{- if and .Values.autoscaling.enabled (gt (int .Values.autoscaling.minReplicas) (int .Values.autoscaling.maxReplicas)) -}}
{{- fail "authgate: autoscaling.minReplicas must not exceed autoscaling.maxReplicas" -}}
{{- end -}}
{{- if and .Values.autoscaling.enabled (not .Values.autoscaling.targetCPUUtilizationPercentage) (not .Values.autoscaling.targetMemoryUtilizationPercentage) -}}
{{- fail "authgate: autoscaling needs targetCPUUtilizationPercentage or targetMemoryUtilizationPercentage" -}}
{{- end -}}
{{- if and .Values.pdb.enabled (not (kindIs "invalid" .Values.pdb.minAvailable)) (not (kindIs "invalid" .Values.pdb.maxUnavailable)) -}}
{{- fail "authgate: set only one of pdb.minAvailable and pdb.maxUnavailable (the other to null)" -}}
{{- end -}}
{{- if le (int .Values.terminationGracePeriodSeconds) (int .Values.lifecycle.preStopSleepSeconds) -}}
{{- fail "authgate: terminationGracePeriodSeconds must exceed lifecycle.preStopSleepSeconds" -}}
{{- end -}}
{{- end -}}

{{/* Environment of the authgate container: SPEC §2 names from values, fixed in-pod paths. */}}
{{- define "authgate.env" -}}
- name: HOST
  value: "0.0.0.0"
- name: PORT
  value: {{ .Values.containerPort | quote }}
- name: AUTHGATE_CONFIG
  value: /etc/authgate/config/authgate.yaml
- name: POLICIES_FILE
  value: /etc/authgate/policies/policies.yaml
- name: AUTHGATE_MAIL_OUTBOX_DIR
  value: /data/outbox
{{- if not (or .Values.secret.existingSecret .Values.secret.databaseUrl) }}
- name: DATABASE_URL
  value: sqlite:/data/authgate.sqlite
{{- end }}
- name: LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
{{- with .Values.publicUrl }}
- name: PUBLIC_URL
  value: {{ . | quote }}
{{- end }}
{{- with .Values.trustedProxies }}
- name: TRUSTED_PROXIES
  value: {{ join "," . | quote }}
{{- end }}
{{- with .Values.mail.from }}
- name: MAIL_FROM
  value: {{ . | quote }}
{{- end }}
{{- with .Values.tokens.issuer }}
- name: JWT_ISSUER
  value: {{ . | quote }}
{{- end }}
- name: JWT_AUDIENCE
  value: {{ .Values.tokens.audience | quote }}
- name: ACCESS_TOKEN_TTL
  value: {{ .Values.tokens.accessTokenTtl | toString | quote }}
- name: REFRESH_IDLE_TTL
  value: {{ .Values.tokens.refreshIdleTtl | toString | quote }}
- name: SESSION_MAX_AGE
  value: {{ .Values.tokens.sessionMaxAge | toString | quote }}
- name: BCRYPT_COST
  value: {{ .Values.security.bcryptCost | toString | quote }}
- name: LOGIN_MAX_FAILURES
  value: {{ .Values.security.loginMaxFailures | toString | quote }}
- name: LOCKOUT_DURATION
  value: {{ .Values.security.lockoutDuration | toString | quote }}
- name: PASSWORD_MIN_LENGTH
  value: {{ .Values.security.passwordMinLength | toString | quote }}
- name: REQUIRE_VERIFIED_EMAIL
  value: {{ .Values.security.requireVerifiedEmail | toString | quote }}
- name: DEFAULT_ROLE
  value: {{ .Values.security.defaultRole | quote }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "authgate.envFrom" -}}
{{- $secret := include "authgate.secretName" . -}}
{{- if $secret }}
- secretRef:
    name: {{ $secret }}
{{- end }}
{{- with .Values.extraEnvFrom }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "authgate.volumeMounts" -}}
# A directory mount (not subPath), so kubelet's ConfigMap updates reach the file and authgate hot-reloads it.
- name: authgate-policies
  mountPath: /etc/authgate/policies
  readOnly: true
- name: authgate-config
  mountPath: /etc/authgate/config
  readOnly: true
- name: authgate-data
  mountPath: /data
- name: authgate-tmp
  mountPath: /tmp
{{- with .Values.extraVolumeMounts }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "authgate.volumes" -}}
- name: authgate-policies
  configMap:
    name: {{ include "authgate.policiesConfigMapName" . }}
- name: authgate-config
  configMap:
    name: {{ include "authgate.configConfigMapName" . }}
- name: authgate-data
  emptyDir:
    sizeLimit: {{ .Values.dataVolume.sizeLimit }}
- name: authgate-tmp
  emptyDir:
    sizeLimit: {{ .Values.tmpVolume.sizeLimit }}
{{- with .Values.extraVolumes }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
One authgate container as a list item. Called with (dict "ctx" <chart context> "name" <container name>
"portName" <port name> "noMigrate" <bool>).
*/}}
{{- define "authgate.container" -}}
{{- $ctx := .ctx -}}
{{- $v := $ctx.Values -}}
- name: {{ .name }}
  image: {{ include "authgate.image" $ctx | quote }}
  imagePullPolicy: {{ $v.image.pullPolicy }}
  args:
    - serve
    {{- if .noMigrate }}
    - --no-migrate
    {{- end }}
  ports:
    - name: {{ .portName }}
      containerPort: {{ $v.containerPort }}
      protocol: TCP
  env:
    {{- include "authgate.env" $ctx | nindent 4 }}
  {{- $envFrom := include "authgate.envFrom" $ctx | trim }}
  {{- if $envFrom }}
  envFrom:
    {{- $envFrom | nindent 4 }}
  {{- end }}
  {{- with $v.probes.startup }}
  {{- if .enabled }}
  startupProbe:
    httpGet:
      path: /healthz
      port: {{ $.portName }}
    periodSeconds: {{ .periodSeconds }}
    timeoutSeconds: {{ .timeoutSeconds }}
    failureThreshold: {{ .failureThreshold }}
  {{- end }}
  {{- end }}
  {{- with $v.probes.liveness }}
  {{- if .enabled }}
  livenessProbe:
    httpGet:
      path: /healthz
      port: {{ $.portName }}
    initialDelaySeconds: {{ .initialDelaySeconds }}
    periodSeconds: {{ .periodSeconds }}
    timeoutSeconds: {{ .timeoutSeconds }}
    failureThreshold: {{ .failureThreshold }}
  {{- end }}
  {{- end }}
  {{- with $v.probes.readiness }}
  {{- if .enabled }}
  readinessProbe:
    httpGet:
      path: /readyz
      port: {{ $.portName }}
    initialDelaySeconds: {{ .initialDelaySeconds }}
    periodSeconds: {{ .periodSeconds }}
    timeoutSeconds: {{ .timeoutSeconds }}
    failureThreshold: {{ .failureThreshold }}
  {{- end }}
  {{- end }}
  {{- if gt (int $v.lifecycle.preStopSleepSeconds) 0 }}
  lifecycle:
    # Keep serving while endpoints controllers and load balancers drop the pod; SIGTERM then drains.
    preStop:
      exec:
        command: ["sleep", {{ $v.lifecycle.preStopSleepSeconds | toString | quote }}]
  {{- end }}
  {{- with $v.resources }}
  resources:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  securityContext:
    {{- toYaml $v.containerSecurityContext | nindent 4 }}
  volumeMounts:
    {{- include "authgate.volumeMounts" $ctx | nindent 4 }}
{{- end -}}

{{/*
Sidecar mode: the authgate container for an application's pod. From this chart pass `.`; from a
parent chart that depends on authgate pass `.Subcharts.authgate` (or the alias you gave it).
The app must listen on 127.0.0.1:<sidecar.appPort>; point the app's Service at port `authgate-http`.
*/}}
{{- define "authgate.sidecarContainer" -}}
{{- include "authgate.container" (dict "ctx" . "name" .Values.sidecar.containerName "portName" "authgate-http" "noMigrate" (not .Values.sidecar.migrateAtStart)) -}}
{{- end -}}

{{/* Sidecar mode: the volumes the sidecar container mounts, as list items for the pod's `volumes:`. */}}
{{- define "authgate.sidecarVolumes" -}}
{{- include "authgate.volumes" . -}}
{{- end -}}
