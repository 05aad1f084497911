#!/bin/sh
# Installs what tincan needs to build and test, and nothing that is already
# there: Debian packages (as root or with sudo) and the npm packages of the
# browser and integration tests (npm ci, only when package-lock.json changed).
set -eu
cd "$(dirname "$0")/.."

PACKAGES="build-essential pkg-config clang python3 libssl-dev libjansson-dev libcmocka-dev
  openssl ca-certificates curl chromium coturn libsqlite3-dev sqlite3 pebble libsrtp2-dev libargon2-dev"
# Packaging tests (tests/integration/{install,deploy,docs-deploy}.test.mjs):
# systemd-analyze, strace for the unit's syscall filter, setcap/getcap, the
# firewall tools run in dry-run/check mode, YAML for the compose file, and the
# Dockerfile's build dependencies.
PACKAGES="$PACKAGES systemd strace libcap2-bin nftables ufw python3-yaml"
# The sources of the lobby-name tables (scripts/gen_uname_tables.py; the
# generated src/signal/uname_tables.h is checked in, so building needs
# neither): Unicode's data files and UTS #39 confusable pairs.
PACKAGES="$PACKAGES unicode-data python3-confusable-homoglyphs"
# The SFU's other peers: a second browser engine (Firefox, driven by
# puppeteer-core over WebDriver BiDi), a WebRTC stack nobody here wrote
# (aiortc, run with /usr/bin/python3) and Janus's videoroom for bench/sfu.
PACKAGES="$PACKAGES firefox-esr python3-aiortc python3-websockets janus"
# Network namespaces, veth pairs and tc bottlenecks (the multi-homed TURN
# test, the SFU bandwidth test, bench/sfu): ip and tc.
PACKAGES="$PACKAGES iproute2"
# Node.js may come from elsewhere than Debian (with its own npm): only ask
# Debian for it when there is no node at all.
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || PACKAGES="$PACKAGES nodejs npm"

missing=""
for p in $PACKAGES; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done

if [ -n "$missing" ]; then
  echo "deps: installing$missing"
  SUDO=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "deps: need root or sudo to install:$missing" >&2; exit 1; }
    SUDO=sudo
  fi
  $SUDO apt-get update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# npm packages for the tests; skipped when node_modules matches the lock file.
if [ ! -f node_modules/.package-lock.json ] || ! cmp -s package-lock.json node_modules/.deps-lock; then
  if command -v npm >/dev/null 2>&1; then
    npm ci --no-audit --no-fund --loglevel=error
    cp package-lock.json node_modules/.deps-lock
  fi
fi
