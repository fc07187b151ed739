{{/* Names: <release>-cityflow, or fullnameOverride. */}}
{{- define "cityflow.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "cityflow.labels" -}}
app.kubernetes.io/name: {{ default .Chart.Name .Values.nameOverride }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Selector labels of one component: include "cityflow.selector" (list . "hub") */}}
{{- define "cityflow.selector" -}}
{{- $ctx := index . 0 -}}
app.kubernetes.io/name: {{ default $ctx.Chart.Name $ctx.Values.nameOverride }}
app.kubernetes.io/instance: {{ $ctx.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{- define "cityflow.componentLabels" -}}
{{ include "cityflow.labels" (index . 0) }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{- define "cityflow.secretName" -}}
{{- default (printf "%s-secrets" (include "cityflow.fullname" .)) .Values.secrets.existingSecret -}}
{{- end -}}

{{- define "cityflow.hubImage" -}}
{{- $img := .Values.hub.image -}}
{{- if $img.digest -}}
{{- printf "%s@%s" $img.repository $img.digest -}}
{{- else -}}
{{- printf "%s:%s" $img.repository (default .Chart.AppVersion $img.tag) -}}
{{- end -}}
{{- end -}}

{{/* image: "repo:tag" of a third-party component's values */}}
{{- define "cityflow.image" -}}
{{- printf "%s:%s" .repository .tag -}}
{{- end -}}

{{/* Pod-level security every component shares: non-root, default seccomp. */}}
{{- define "cityflow.podSecurity" -}}
runAsNonRoot: true
runAsUser: {{ . }}
runAsGroup: {{ . }}
fsGroup: {{ . }}
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Container-level security: read-only root filesystem, no privilege escalation, no capabilities. */}}
{{- define "cityflow.containerSecurity" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: [ALL]
{{- end -}}

{{- define "cityflow.secretRef" -}}
valueFrom:
  secretKeyRef:
    name: {{ include "cityflow.secretName" (index . 0) }}
    key: {{ index . 1 }}
{{- end -}}

{{/*
The hub's connection settings, shared by the hub, its migrate init container and Mosquitto's auth
sidecar. Passwords come from the Secret; URLs are composed with Kubernetes' $(VAR) expansion, so the
generated passwords are alphanumeric (no URL escaping needed).
*/}}
{{- define "cityflow.hubConnectionEnv" -}}
{{- $fullname := include "cityflow.fullname" . -}}
{{- if .Values.timescaledb.enabled }}
- name: POSTGRES_PASSWORD
  {{- include "cityflow.secretRef" (list . "postgres-password") | nindent 2 }}
- name: DATABASE_URL
  value: {{ printf "postgres://%s:$(POSTGRES_PASSWORD)@%s-timescaledb:5432/%s" .Values.timescaledb.username $fullname .Values.timescaledb.database | quote }}
{{- else }}
- name: DATABASE_URL
  {{- include "cityflow.secretRef" (list . "database-url") | nindent 2 }}
{{- end }}
{{- if .Values.mosquitto.enabled }}
- name: CITYFLOW_MQTT_HUB_PASSWORD
  {{- include "cityflow.secretRef" (list . "mqtt-hub-password") | nindent 2 }}
{{- end }}
{{- end -}}
