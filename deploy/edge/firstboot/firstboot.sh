#!/usr/bin/env bash
# First boot of a flashed card: turns the per-node files on the boot partition (cityflow/node.env,
# optional ca.pem, client.crt, client.key) into /etc/cityflow, installs and starts the agent with
# install.sh, then deletes the secrets from the boot partition (FAT: anyone holding the card reads it).
# Run by cityflow-firstboot.service (only while node.env exists), or by cloud-init (user-data.yaml).
#
#   firstboot.sh [--boot DIR] [--root DIR] [--release DIR] [install.sh options...]
#   --boot DIR     where node.env is (default: /boot/firmware/cityflow, else /boot/cityflow)
#   --release DIR  the folder with install.sh, the unit and the executable (default:
#                  /usr/local/lib/cityflow/release from prepare-image.sh, else BOOT/release)
set -euo pipefail

ROOT=""
BOOT=""
RELEASE=""
PASS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --boot) BOOT=$2; shift 2 ;;
    --root) ROOT=${2%/}; PASS+=(--root "$ROOT"); shift 2 ;;
    --release) RELEASE=$2; shift 2 ;;
    *) PASS+=("$1"); shift ;;
  esac
done
if [ -z "$BOOT" ]; then
  for d in /boot/firmware/cityflow /boot/cityflow; do [ -f "$d/node.env" ] && BOOT=$d && break; done
fi
# The image's copy of the release, else one copied to the boot partition beside node.env.
if [ -z "$RELEASE" ]; then
  RELEASE=/usr/local/lib/cityflow/release
  [ -f "$RELEASE/install.sh" ] || RELEASE=${BOOT:-/boot/firmware/cityflow}/release
fi
say() { printf 'cityflow firstboot: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }
[ -n "$BOOT" ] && [ -f "$BOOT/node.env" ] || die "no node.env (looked in ${BOOT:-/boot/firmware/cityflow /boot/cityflow})"

# KEY=VALUE lines, parsed, never sourced (a value like $(reboot) stays text).
declare -A V=()
while IFS= read -r line || [ -n "$line" ]; do
  line=${line%$'\r'} # written on Windows
  case "$line" in '' | '#'*) continue ;; esac
  [[ "$line" =~ ^(CITYFLOW_[A-Z_]+)=(.*)$ ]] || die "node.env: cannot read line: $line"
  V[${BASH_REMATCH[1]}]=${BASH_REMATCH[2]}
done <"$BOOT/node.env"
for k in CITYFLOW_AGENT_ID CITYFLOW_HUB_URL CITYFLOW_HUB_PASSWORD; do
  [ -n "${V[$k]:-}" ] || die "node.env: $k is missing"
done
AGENT=${V[CITYFLOW_AGENT_ID]}
USERNAME=${V[CITYFLOW_HUB_USERNAME]:-$AGENT}

# A YAML double-quoted scalar (JSON's escaping is valid YAML); control characters are refused.
yq() {
  [[ "$1" =~ [[:cntrl:]] ]] && die "node.env: a value contains a control character"
  local s=${1//\\/\\\\}
  printf '"%s"' "${s//\"/\\\"}"
}

umask 027
ETC=$ROOT/etc/cityflow
mkdir -p "$ETC/tls"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
{
  echo "# written by firstboot.sh from the card's node.env on $(date -u +%FT%TZ)"
  echo "agentId: $(yq "$AGENT")"
  echo "hubUrl: $(yq "${V[CITYFLOW_HUB_URL]}")"
  echo "hubUsername: $(yq "$USERNAME")"
  echo "hubPassword: $(yq "${V[CITYFLOW_HUB_PASSWORD]}")"
  # optional: another port when the cabinet already runs something on 1883 / 9464
  for p in MQTT HTTP; do
    v=${V[CITYFLOW_${p}_PORT]:-}
    [ -z "$v" ] && continue
    [[ "$v" =~ ^[0-9]{1,5}$ ]] || die "node.env: CITYFLOW_${p}_PORT must be a port number"
    echo "$(tr 'A-Z' 'a-z' <<<"$p")Port: $v"
  done
} >"$work/agent.yaml"

# TLS material: the city's CA is pinned (hubCa: only a hub certificate it signed is accepted) and a
# client certificate, when the card has one, gives mutual TLS (hubCert/hubKey).
: >"$work/agent.env"
for f in ca.pem client.crt client.key; do
  if [ -s "$BOOT/$f" ]; then install -m 0640 "$BOOT/$f" "$ETC/tls/$f"; fi
done
if [ -f "$ETC/tls/ca.pem" ]; then echo "hubCa: $(yq "$ETC/tls/ca.pem")" >>"$work/agent.yaml"; fi
if [ -f "$ETC/tls/client.crt" ] && [ -f "$ETC/tls/client.key" ]; then
  echo "hubCert: $(yq "$ETC/tls/client.crt")" >>"$work/agent.yaml"
  echo "hubKey: $(yq "$ETC/tls/client.key")" >>"$work/agent.yaml"
fi
install -m 0640 "$work/agent.env" "$ETC/agent.env"

bash "$RELEASE/install.sh" install --binary "${CITYFLOW_BINARY:-$RELEASE/cityflow-agent}" \
  --config "$work/agent.yaml" "${PASS[@]}"

# Installed and healthy: the secrets leave the card (install.sh exits non-zero otherwise, and the
# next boot tries again with the same files).
rm -f "$BOOT/node.env" "$BOOT/client.key"
echo "agent $AGENT installed $(date -u +%FT%TZ)" >"$BOOT/node.done"
HOST=${V[CITYFLOW_HOSTNAME]:-cityflow-$(printf '%s' "$AGENT" | tr 'A-Z_.:' 'a-z---')}
if [ -z "$ROOT" ] && command -v hostnamectl >/dev/null; then hostnamectl set-hostname "$HOST" || true; fi
say "agent $AGENT configured and running"
