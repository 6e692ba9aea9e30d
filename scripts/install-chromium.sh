#!/bin/sh
# Installs Debian's Chromium (`chromium`: /usr/bin/chromium) for the console's browser tests
# (playwright-core drives it; never `npx playwright install`). Idempotent and quiet: does nothing
# when it is present. Needs root and apt-get. Used by CI; run by hand with:
# sudo sh scripts/install-chromium.sh
set -eu

found() {
  [ -x /usr/bin/chromium ]
}

if found; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-chromium.sh: must run as root to install chromium (try: sudo sh $0)" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-chromium.sh: apt-get not found; install Chromium by other means (the tests look for /usr/bin/chromium)" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
echo "install-chromium.sh: installing chromium" >&2
apt-get update -qq
apt-get install -y -qq --no-install-recommends -o Dpkg::Use-Pty=0 chromium >/dev/null
if ! found; then
  echo "install-chromium.sh: /usr/bin/chromium still missing after installing chromium" >&2
  exit 1
fi
echo "install-chromium.sh: done" >&2
