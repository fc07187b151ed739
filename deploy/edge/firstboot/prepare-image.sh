#!/usr/bin/env bash
# Makes a golden image for flashing many cards: run once on a workstation with the Raspberry Pi OS
# image's root filesystem mounted (e.g. at /mnt/pi). Copies the release (executable, unit,
# install.sh, firstboot.sh) into it and enables cityflow-firstboot.service, which configures each
# card from its own boot partition (cityflow/node.env) on its first boot.
#
#   sudo deploy/edge/firstboot/prepare-image.sh /mnt/pi [--binary dist/cityflow-agent-linux-arm64]
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
EDGE=$(cd "$HERE/.." && pwd)
ROOT=${1:?usage: prepare-image.sh IMAGE_ROOT [--binary FILE]}
ROOT=${ROOT%/}
shift
BINARY=$EDGE/cityflow-agent-linux-arm64 # in a release folder; in the repository, dist/
[ -f "$BINARY" ] || BINARY=$EDGE/dist/cityflow-agent-linux-arm64
[ "${1:-}" = --binary ] && BINARY=$2
[ -d "$ROOT/etc" ] || { echo "prepare-image: $ROOT does not look like a root filesystem (no etc/)" >&2; exit 1; }
[ -f "$BINARY" ] || { echo "prepare-image: $BINARY missing (npm run package:edge)" >&2; exit 1; }

REL=$ROOT/usr/local/lib/cityflow/release
mkdir -p "$REL" "$ROOT/etc/systemd/system/multi-user.target.wants"
install -m 0755 "$BINARY" "$REL/cityflow-agent"
install -m 0755 "$EDGE/install.sh" "$HERE/firstboot.sh" "$REL/"
install -m 0644 "$EDGE/cityflow-agent.service" "$EDGE/README.md" "$EDGE/agent.example.yaml" "$REL/"
install -m 0644 "$HERE/cityflow-firstboot.service" "$ROOT/etc/systemd/system/"
ln -sfn ../cityflow-firstboot.service "$ROOT/etc/systemd/system/multi-user.target.wants/cityflow-firstboot.service"
# Nothing else is installed now: on its first boot each card runs install.sh itself (user, unit,
# executable, its own config), so the image stays the same for every node.
echo "prepare-image: $ROOT is ready; per card, put cityflow/node.env (+ ca.pem) on the boot partition" >&2
