#!/bin/sh
# Installs what zkshard's network-partition tests need on Debian/Ubuntu: `ip` (iproute2: network
# namespaces, veth pairs, a bridge) and `iptables` (packets dropped inside a namespace).
# Idempotent and quiet: does nothing when both are present. Needs root and apt-get.
# Used by the partition tests (src/testing/network-namespace.ts) and CI; run by hand with:
#   sudo sh scripts/install-netns-tools.sh
set -eu

packages=""
command -v ip >/dev/null 2>&1 || [ -x /usr/sbin/ip ] || [ -x /sbin/ip ] || packages="iproute2"
command -v iptables >/dev/null 2>&1 || [ -x /usr/sbin/iptables ] || [ -x /sbin/iptables ] || packages="$packages iptables"

if [ -z "$packages" ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-netns-tools.sh: must run as root to install:$packages (try: sudo sh $0)" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-netns-tools.sh: apt-get not found; install iproute2 and iptables by other means" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
echo "install-netns-tools.sh: installing$packages" >&2
apt-get update -qq
# shellcheck disable=SC2086 # word splitting of $packages is intended
apt-get install -y -qq --no-install-recommends -o Dpkg::Use-Pty=0 $packages >/dev/null
echo "install-netns-tools.sh: done" >&2
