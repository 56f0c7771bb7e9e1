#!/usr/bin/env bash
# Starts a one-node Slurm cluster on this machine for the Slurm test:
# munged (unless one runs), slurmctld and slurmd as root, with a config
# in DIR (default: a new temporary folder) and no cgroups. Prints the
# SLURM_CONF to export. .ci/slurm-down.sh DIR stops what this started.
#   .ci/slurm-up.sh [DIR]    (SLURM_PORT=6817 by default: slurmctld there, slurmd one above)
set -euo pipefail
D=${1:-$(mktemp -d)}
D=$(cd "$D" && pwd)
port=${SLURM_PORT:-6817}
mkdir -p "$D/state" "$D/spool" "$D/log"
host=$(hostname -s)
cpus=$(nproc)
mem=$(awk '/MemTotal/ {print int($2 / 1024 * 0.8)}' /proc/meminfo)

if ! pgrep -x munged >/dev/null; then
  if [ ! -s /etc/munge/munge.key ]; then
    mkdir -p /etc/munge
    if command -v mungekey >/dev/null; then
      mungekey --create --keyfile=/etc/munge/munge.key
    else
      dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 2>/dev/null
    fi
  fi
  chown munge:munge /etc/munge/munge.key 2>/dev/null || true
  chmod 400 /etc/munge/munge.key
  mkdir -p /run/munge /var/lib/munge /var/log/munge
  chown munge:munge /run/munge /var/lib/munge /var/log/munge 2>/dev/null || true
  runuser -u munge -- /usr/sbin/munged --force
  touch "$D/munged.ours"
fi

# sched_interval and bf_interval at their shortest: a job whose afterok
# dependency was just met starts within a second or two, not at the next
# 60-second pass of the scheduler.
cat > "$D/slurm.conf" <<CONF
ClusterName=chimed
SlurmctldHost=$host
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=$D/state
SlurmdSpoolDir=$D/spool
SlurmctldPidFile=$D/slurmctld.pid
SlurmdPidFile=$D/slurmd.pid
SlurmctldLogFile=$D/log/slurmctld.log
SlurmdLogFile=$D/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1,bf_interval=1,sched_min_interval=0
ReturnToService=2
MinJobAge=600
JobCompType=jobcomp/none
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$D/slurm.conf
/usr/sbin/slurmctld -f "$SLURM_CONF"
/usr/sbin/slurmd -f "$SLURM_CONF"
for _ in $(seq 1 60); do
  if sinfo -h -o %T 2>/dev/null | grep -Eq 'idle|mix'; then
    echo "SLURM_CONF=$SLURM_CONF"
    exit 0
  fi
  sleep 1
done
echo "slurm-up: no idle node after 60 s; see $D/log" >&2
exit 1
