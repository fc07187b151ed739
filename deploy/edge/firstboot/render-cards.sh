#!/usr/bin/env bash
# Per-card files for a batch of nodes, from a CSV with the header
#   agent_id,hub_url,hub_username,hub_password
# (credentials from `cityflow-hub agents add <id> --json`; no commas or quotes inside fields).
# Writes OUT/<agent_id>/cityflow/node.env (+ ca.pem) to copy onto each card's boot partition
# (golden image, cityflow-firstboot.service), and OUT/<agent_id>/user-data for cloud-init images.
#
#   deploy/edge/firstboot/render-cards.sh nodes.csv out/ [--ca ca.pem]
# OUT holds hub passwords: keep it on an encrypted disk and delete it once the cards are flashed.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CSV=${1:?usage: render-cards.sh nodes.csv OUT [--ca ca.pem]}
OUT=${2:?usage: render-cards.sh nodes.csv OUT [--ca ca.pem]}
CA=""
[ "${3:-}" = --ca ] && CA=$4
die() { echo "render-cards: $*" >&2; exit 1; }
[ -z "$CA" ] || [ -f "$CA" ] || die "$CA: no such CA file"
ID_RE='^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$' # protocol's ID_PATTERN
umask 077
n=0
line_no=0
while IFS= read -r line || [ -n "$line" ]; do
  line_no=$((line_no + 1))
  line=${line%$'\r'}
  [ "$line_no" = 1 ] && { [ "$line" = "agent_id,hub_url,hub_username,hub_password" ] || die "line 1: expected the header agent_id,hub_url,hub_username,hub_password"; continue; }
  [ -z "$line" ] && continue
  IFS=, read -r id url user pass extra <<<"$line"
  [ -z "${extra:-}" ] && [ -n "${pass:-}" ] || die "line $line_no: expected 4 fields"
  [[ "$id" =~ $ID_RE ]] || die "line $line_no: agent id '$id' is not a valid id"
  [[ "$url" =~ ^(mqtts?|wss?):// ]] || die "line $line_no: hub url '$url' is not mqtt(s):// or ws(s)://"
  [[ "$line" =~ [\"\'\\[:cntrl:]] ]] && die "line $line_no: quotes, backslashes and control characters are not allowed"
  [[ "$line" == *['|&']* ]] && die "line $line_no: '|' and '&' are not allowed"
  dir=$OUT/$id
  mkdir -p "$dir/cityflow"
  printf 'CITYFLOW_AGENT_ID=%s\nCITYFLOW_HUB_URL=%s\nCITYFLOW_HUB_USERNAME=%s\nCITYFLOW_HUB_PASSWORD=%s\n' \
    "$id" "$url" "$user" "$pass" >"$dir/cityflow/node.env"
  ca_b64=""
  if [ -n "$CA" ]; then
    cp "$CA" "$dir/cityflow/ca.pem"
    ca_b64=$(base64 -w0 "$CA")
  fi
  host=cityflow-$(printf '%s' "$id" | tr 'A-Z_.:' 'a-z---')
  # user-data: fields substituted literally (sed with | delimiters; & and | refused above)
  sed -e "s|\${HOSTNAME}|$host|" -e "s|\${AGENT_ID}|$id|" -e "s|\${HUB_URL}|$url|" \
    -e "s|\${HUB_USERNAME}|$user|" -e "s|\${HUB_PASSWORD}|$pass|" -e "s|\${CA_PEM_B64}|$ca_b64|" \
    "$HERE/user-data.yaml" >"$dir/user-data"
  n=$((n + 1))
done <"$CSV"
echo "render-cards: $n card(s) in $OUT" >&2
