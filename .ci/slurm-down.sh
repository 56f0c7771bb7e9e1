#!/usr/bin/env bash
# Stops the cluster .ci/slurm-up.sh DIR started: slurmctld and slurmd by
# their pid files, and munged only if slurm-up started it.
set -uo pipefail
D=$1
export SLURM_CONF=$D/slurm.conf
scontrol shutdown >/dev/null 2>&1 || true
for p in slurmd slurmctld; do
  if [ -s "$D/$p.pid" ]; then
    pid=$(cat "$D/$p.pid")
    for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill "$pid" 2>/dev/null || true
  fi
done
if [ -e "$D/munged.ours" ]; then
  pid=$(cat /run/munge/munged.pid 2>/dev/null)
  [ -n "$pid" ] && kill "$pid"
fi
exit 0
