#!/bin/sh
# Installs what zkshard's local ZooKeeper needs on Debian/Ubuntu: the `zookeeper` package
# (server jar /usr/share/java/zookeeper.jar) and, only when no `java` is on PATH, a headless JRE.
# Idempotent and quiet: does nothing when both are present. Needs root and apt-get.
# Used by findZooKeeper() (tests, demo) and CI; run by hand with: sudo sh scripts/install-zookeeper.sh
set -eu

JAR=/usr/share/java/zookeeper.jar

packages=""
[ -f "$JAR" ] || packages="zookeeper"
command -v java >/dev/null 2>&1 || packages="$packages default-jre-headless"

if [ -z "$packages" ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-zookeeper.sh: must run as root to install:$packages (try: sudo sh $0)" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-zookeeper.sh: apt-get not found; install ZooKeeper 3.8+ and Java 11+ by other means," >&2
  echo "  or point zkshard at a running server with ZKSHARD_ZK=host:2181" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
echo "install-zookeeper.sh: installing$packages" >&2
apt-get update -qq
# shellcheck disable=SC2086 # word splitting of $packages is intended
apt-get install -y -qq --no-install-recommends -o Dpkg::Use-Pty=0 $packages >/dev/null

if [ ! -f "$JAR" ]; then
  echo "install-zookeeper.sh: $JAR still missing after installing the zookeeper package" >&2
  exit 1
fi
if ! command -v java >/dev/null 2>&1; then
  echo "install-zookeeper.sh: java still not on PATH after installing default-jre-headless" >&2
  exit 1
fi
echo "install-zookeeper.sh: done" >&2
