#!/usr/bin/env bash
# Start an ARA API server in the background for the HTTP-client measurements.
#   bench/ara/server.sh runserver|gunicorn PORT BASE_DIR [gunicorn args...]
# Prints the server's pid; stop it with: kill PID.
# gunicorn is not in the project's requirements: it is looked for in .venv, else in
# $GUNICORN_PATH (a `pip install --target` directory).
set -euo pipefail
cd "$(dirname "$0")/../.."
kind=$1 port=$2 base=$3; shift 3
mkdir -p "$base"
export ARA_BASE_DIR=$(realpath "$base")
.venv/bin/ara-manage migrate >"$base/migrate.log" 2>&1
case $kind in
  runserver) setsid .venv/bin/ara-manage runserver --noreload "127.0.0.1:$port" >"$base/server.log" 2>&1 & ;;
  gunicorn) PYTHONPATH=${GUNICORN_PATH:-} setsid .venv/bin/python -m gunicorn --no-control-socket --bind "127.0.0.1:$port" \
              "$@" ara.server.wsgi >"$base/server.log" 2>&1 & ;;
  *) echo "unknown server $kind" >&2; exit 2 ;;
esac
pid=$!
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$port/api/v1/" >/dev/null 2>&1 && { echo "$pid"; exit 0; }
  sleep 0.1
done
echo "server did not answer; see $base/server.log" >&2; kill "$pid"; exit 1
