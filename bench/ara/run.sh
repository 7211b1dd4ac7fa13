#!/usr/bin/env bash
# One measured run of a playbook with or without ARA.
#   bench/ara/run.sh LABEL PLAYBOOK TARGET [extra env assignments...]
# e.g. bench/ara/run.sh offline-default bench/ara/debug.yml 'all[0:199]' ARA=1
# ARA=1 enables ara's callback; SERVER_PID=PID (repeatable) adds a server process whose CPU
# is measured; every other NAME=VALUE goes to the environment (ARA_API_CLIENT, ...).
# Each ARA run gets a fresh ARA_BASE_DIR (offline database) under $WORK/db/LABEL-N unless
# ARA_BASE_DIR is given. Needs the lab's inventory at $WORK/inv.yml (bench/ara-cost.md).
# One JSON line per run goes to $WORK/results.jsonl, the playbook's output to $WORK/logs/.
set -euo pipefail
cd "$(dirname "$0")/../.."
WORK=${WORK:-bench/work/ara}
label=$1 playbook=$2 target=$3; shift 3
env_args=(ANSIBLE_CONFIG="$PWD/ansible.cfg" ANSIBLE_FORKS=50)
ara=0 server_pids=()
for kv in "$@"; do
  case $kv in
    ARA=1) ara=1 ;;
    SERVER_PID=*) server_pids+=(--server-pid "${kv#SERVER_PID=}") ;;
    *) env_args+=("$kv") ;;
  esac
done
if [ $ara = 1 ]; then
  env_args+=(ANSIBLE_CALLBACK_PLUGINS="$(.venv/bin/python -m ara.setup.callback_plugins)")
  if ! printf '%s\n' "$@" | grep -q '^ARA_BASE_DIR='; then
    n=0; while [ -e "$WORK/db/$label-$n" ]; do n=$((n+1)); done
    mkdir -p "$WORK/db/$label-$n"
    env_args+=(ARA_BASE_DIR="$PWD/$WORK/db/$label-$n")
  fi
fi
extra=()
case $playbook in *monitor.yml) extra=(-e johann_report_dir="$WORK/report") ;; esac
mkdir -p "$WORK/logs"; n=0; while [ -e "$WORK/logs/$label-$n.log" ]; do n=$((n+1)); done
env "${env_args[@]}" .venv/bin/python -m bench.ara.measure --label "$label" --json "$WORK/results.jsonl" --log "$WORK/logs/$label-$n.log" \
  "${server_pids[@]}" -- .venv/bin/ansible-playbook -i "$WORK/inv.yml" -e "target=$target" "${extra[@]}" "$playbook"
