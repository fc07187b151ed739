#!/usr/bin/env bash
# Installs, upgrades or removes the CityFlow edge agent on a Raspberry Pi (Raspberry Pi OS bookworm,
# arm64) or any systemd Linux (x64). Run as root from the unpacked release folder:
#
#   sudo ./install.sh install --config agent.yaml     first install (or upgrade) and start
#   sudo ./install.sh upgrade --binary ./cityflow-agent-linux-arm64
#   sudo ./install.sh uninstall [--purge]              --purge also deletes config, buffer and user
#   sudo ./install.sh status
#
# Idempotent: running `install` again with the same files changes nothing and restarts nothing.
# Upgrade: the running executable is kept as cityflow-agent.previous; if the new one is not healthy
# (the service does not come up, or /health does not answer) within --health-timeout seconds, the
# previous one is put back and restarted, the failed one is kept as cityflow-agent.failed, exit 1.
#
# Options: --binary FILE (default: cityflow-agent-linux-<arch> beside this script, else in dist/),
#   --config FILE (installed as /etc/cityflow/agent.yaml; an existing one is kept when omitted),
#   --health-url URL (default http://127.0.0.1:9464/health), --health-timeout S (default 90),
#   --root DIR (install under DIR instead of /, for images and tests),
#   --no-system (do not create the user, chown, or call systemctl: for building an image offline).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SERVICE=cityflow-agent.service
USER_NAME=cityflow
ROOT=""
BINARY=""
CONFIG=""
HEALTH_URL=http://127.0.0.1:9464/health
HEALTH_TIMEOUT=90
SYSTEM=1
PURGE=0

say() { printf 'cityflow install: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

CMD=${1:-}
[ -n "$CMD" ] || die "usage: install.sh install|upgrade|uninstall|status [options] (see the top of this file)"
shift
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) BINARY=$2; shift 2 ;;
    --config) CONFIG=$2; shift 2 ;;
    --health-url) HEALTH_URL=$2; shift 2 ;;
    --health-timeout) HEALTH_TIMEOUT=$2; shift 2 ;;
    --root) ROOT=${2%/}; shift 2 ;;
    --no-system) SYSTEM=0; shift ;;
    --purge) PURGE=1; shift ;;
    *) die "unknown option $1" ;;
  esac
done

LIB=$ROOT/usr/local/lib/cityflow
BIN_LINK=$ROOT/usr/local/bin/cityflow-agent
CURRENT=$LIB/cityflow-agent
PREVIOUS=$LIB/cityflow-agent.previous
FAILED=$LIB/cityflow-agent.failed
ETC=$ROOT/etc/cityflow
UNIT=$ROOT/etc/systemd/system/$SERVICE
DOC=$ROOT/usr/local/share/doc/cityflow-agent
STATE=$ROOT/var/lib/cityflow
CACHE=$ROOT/var/cache/cityflow

# System changes (user, ownership, systemctl) only when not --no-system.
sys() { if [ "$SYSTEM" = 1 ]; then "$@"; fi; }

# Beside this script in a release folder; in dist/ in the repository.
default_binary() {
  local name
  case "$(uname -m)" in
    aarch64 | arm64) name=cityflow-agent-linux-arm64 ;;
    x86_64 | amd64) name=cityflow-agent-linux-x64 ;;
    *) die "no CityFlow build for $(uname -m) (arm64 and x64 only; a 32-bit Raspberry Pi OS needs the 64-bit image)" ;;
  esac
  if [ -f "$HERE/$name" ]; then echo "$HERE/$name"; else echo "$HERE/dist/$name"; fi
}

# A file that does not run here (wrong architecture, truncated copy, glibc too old) is refused before
# anything is touched.
check_binary() {
  [ -f "$1" ] || die "$1: no such executable"
  local version
  version=$("$1" --version 2>&1) || die "$1 does not run on this machine: $version"
  echo "$version"
}

# Installs a file only when its content differs; says whether it changed (exit 0 = changed).
put() { # src dest mode
  if [ -f "$2" ] && cmp -s "$1" "$2"; then return 1; fi
  mkdir -p "$(dirname "$2")"
  install -m "$3" "$1" "$2.tmp" && mv -f "$2.tmp" "$2"
}

healthy() {
  local deadline=$((SECONDS + HEALTH_TIMEOUT))
  while [ $SECONDS -lt $deadline ]; do
    if systemctl is-active --quiet "$SERVICE"; then
      if curl -fsS --max-time 3 -o /dev/null "$HEALTH_URL" 2>/dev/null ||
        wget -q -T 3 -O /dev/null "$HEALTH_URL" 2>/dev/null; then
        return 0
      fi
    fi
    sleep 1
  done
  return 1
}

ensure_user() {
  if ! getent passwd "$USER_NAME" >/dev/null; then
    say "creating system user $USER_NAME"
    useradd --system --user-group --home-dir /var/lib/cityflow --no-create-home \
      --shell /usr/sbin/nologin --comment "CityFlow edge agent" "$USER_NAME"
  fi
}

do_install() {
  local mode=$1 new version changed=0 replaced=0
  new=${BINARY:-$(default_binary)}
  version=$(check_binary "$new")
  [ "$mode" = upgrade ] && [ ! -f "$CURRENT" ] && die "not installed yet: use install"
  if [ -n "$CONFIG" ]; then
    [ -f "$CONFIG" ] || die "$CONFIG: no such config file"
    "$new" config check "$CONFIG" >&2 || die "$CONFIG is not a valid agent config (see above)"
  elif [ ! -f "$ETC/agent.yaml" ] && [ "$SYSTEM" = 1 ]; then
    die "no /etc/cityflow/agent.yaml yet: pass --config FILE (see agent.example.yaml)"
  fi

  sys ensure_user
  mkdir -p "$LIB" "$ETC" "$STATE" "$CACHE" "$(dirname "$BIN_LINK")"
  if [ -n "$CONFIG" ] && put "$CONFIG" "$ETC/agent.yaml" 0640; then changed=1; say "config installed"; fi
  # root owns the config, the agent's group reads it (agent.yaml, agent.env, tls/ from the first boot)
  sys chown -R root:"$USER_NAME" "$ETC"
  chmod 0750 "$ETC"
  sys chown "$USER_NAME:$USER_NAME" "$STATE" "$CACHE"
  chmod 0750 "$STATE"
  chmod 0700 "$CACHE"

  if [ ! -f "$CURRENT" ] || ! cmp -s "$new" "$CURRENT"; then
    install -m 0755 "$new" "$CURRENT.new"
    if [ -f "$CURRENT" ]; then mv -f "$CURRENT" "$PREVIOUS"; replaced=1; fi
    mv -f "$CURRENT.new" "$CURRENT" # rename: a running agent keeps its old inode
    changed=1
    say "executable $version installed"
  fi
  ln -sfn ../lib/cityflow/cityflow-agent "$BIN_LINK"
  put "$HERE/README.md" "$DOC/README.md" 0644 || true
  if put "$HERE/$SERVICE" "$UNIT" 0644; then
    changed=1
    sys systemctl daemon-reload
    say "unit $SERVICE installed"
  fi
  [ "$SYSTEM" = 1 ] || { say "files installed under ${ROOT:-/} (--no-system: not started)"; return 0; }

  systemctl enable --quiet "$SERVICE"
  if [ "$changed" = 1 ]; then systemctl restart "$SERVICE" || true; else systemctl start "$SERVICE" || true; fi
  if healthy; then
    rm -f "$FAILED"
    say "running and healthy ($version)"
    return 0
  fi
  if [ "$replaced" = 1 ]; then
    say "$version failed its health check ($HEALTH_URL): rolling back"
    mv -f "$CURRENT" "$FAILED"
    mv -f "$PREVIOUS" "$CURRENT"
    # the failing one may have used up StartLimitBurst: systemd would refuse to start the good one
    systemctl reset-failed "$SERVICE" || true
    systemctl restart "$SERVICE" || true
    # the previous one is known to work: give it at least the default time, whatever --health-timeout was
    HEALTH_TIMEOUT=$((HEALTH_TIMEOUT > 90 ? HEALTH_TIMEOUT : 90))
    if healthy; then
      die "rolled back to $("$CURRENT" --version 2>&1); the failed executable is $FAILED (journalctl -u $SERVICE)"
    fi
    die "rolled back, but the previous executable is not healthy either (journalctl -u $SERVICE)"
  fi
  die "$version is installed but not healthy ($HEALTH_URL); see journalctl -u $SERVICE"
}

do_uninstall() {
  if [ "$SYSTEM" = 1 ]; then
    systemctl disable --now --quiet "$SERVICE" 2>/dev/null || true
  fi
  rm -f "$UNIT" "$BIN_LINK" "$CURRENT" "$CURRENT.new" "$PREVIOUS" "$FAILED"
  rm -rf "$DOC"
  rmdir "$LIB" 2>/dev/null || true
  sys systemctl daemon-reload
  if [ "$PURGE" = 1 ]; then
    rm -rf "$ETC" "$STATE" "$CACHE"
    if [ "$SYSTEM" = 1 ] && getent passwd "$USER_NAME" >/dev/null; then userdel "$USER_NAME"; fi
    say "removed, with config, buffer and user"
  else
    say "removed (kept /etc/cityflow and the buffer in /var/lib/cityflow: --purge deletes them)"
  fi
}

case "$CMD" in
  install | upgrade) do_install "$CMD" ;;
  uninstall) do_uninstall ;;
  status)
    sys systemctl status --no-pager "$SERVICE" || true
    "$CURRENT" status --data-dir "$STATE" ;;
  *) die "unknown command $CMD (install, upgrade, uninstall, status)" ;;
esac
