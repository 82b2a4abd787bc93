#!/usr/bin/env bash
# Several instances, one database: nginx on 127.0.0.1 in front of two gunicorn instances of
# the app sharing PostgreSQL and Redis; a draft handed from one to the other, rate limits
# counted across both, and a locust run through nginx with one instance stopped mid-run.
# The work is bench/cluster.py (see its docstring and docs/clinic-it.md, "Several instances, one
# database"); this script makes the run's prefix and, on any exit, stops whatever is still
# running by the pids written there, drops the schema, and removes the prefix.
#
#   bench/cluster.sh [--users N] [--seconds S] [--stop-after S] ...   (or: make cluster)
#
# Exit status 1 when a check fails. Needs nginx (apt-get install -y nginx), PostgreSQL
# (BENCH_DATABASE_URL, else TEST_DATABASE_URL, else postgres@127.0.0.1:5432/test) and
# Redis on 127.0.0.1:6379.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
command -v nginx >/dev/null || { echo "cluster: nginx not found (apt-get install -y nginx)" >&2; exit 2; }
[ -x "$PY" ] || { echo "cluster: no .venv (make .venv/.installed-stamp)" >&2; exit 2; }

PREFIX=$(mktemp -d "${TMPDIR:-/tmp}/intake-cluster.XXXXXX")
finish() {
  local status=$?
  trap - EXIT INT TERM
  "$PY" bench/cluster.py --cleanup "$PREFIX" || status=1
  rm -rf "$PREFIX"
  exit "$status"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Bounded: the whole run takes about 2 minutes; 4 is the most it may.
timeout --signal=TERM --kill-after=20 240 "$PY" bench/cluster.py --prefix "$PREFIX" "$@"
