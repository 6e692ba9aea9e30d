#!/bin/sh
# Installs Debian's PostgreSQL server (`postgresql`: initdb and postgres under
# /usr/lib/postgresql/<version>/bin) when no server binaries are found. Idempotent and quiet: does
# nothing when they are present. Needs root and apt-get. Used by findPostgres() (tests, demo) and
# CI; run by hand with: sudo sh scripts/install-postgres.sh
set -eu

found() {
  for dir in /usr/lib/postgresql/*/bin; do
    [ -x "$dir/initdb" ] && [ -x "$dir/postgres" ] && return 0
  done
  command -v initdb >/dev/null 2>&1 && command -v postgres >/dev/null 2>&1
}

if found; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-postgres.sh: must run as root to install postgresql (try: sudo sh $0)" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-postgres.sh: apt-get not found; install PostgreSQL 13+ by other means," >&2
  echo "  or point zkshard at a running server with ZKSHARD_PG_URL=postgres://user:password@host/db" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
echo "install-postgres.sh: installing postgresql" >&2
apt-get update -qq
apt-get install -y -qq --no-install-recommends -o Dpkg::Use-Pty=0 postgresql >/dev/null
if ! found; then
  echo "install-postgres.sh: initdb/postgres still missing after installing postgresql" >&2
  exit 1
fi
echo "install-postgres.sh: done" >&2
