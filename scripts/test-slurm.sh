#!/usr/bin/env bash
# A throwaway one-node Slurm cluster for the tests (Debian's slurm-wlm and munge; as root): `start DIR` makes a munge
# key, starts munged (as the munge user), slurmctld and slurmd with a slurm.conf in DIR, waits until the node takes
# jobs and prints the variable the tests read (SLURM_CONF); `stop DIR` stops them and removes DIR.
set -euo pipefail
action=${1:?usage: test-slurm.sh start|stop DIR}
dir=${2:?usage: test-slurm.sh start|stop DIR}
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }

case "$action" in
  start)
    [ "$(id -u)" = 0 ] || { echo "test-slurm.sh: slurmd runs as root; run this as root" >&2; exit 2; }
    mkdir -p "$dir/munge" "$dir/state" "$dir/spool"
    # munged runs as the munge user: it must reach its files (every folder above them traversable).
    chmod 755 "$dir"
    dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
    chown -R munge:munge "$dir/munge"
    chmod 755 "$dir/munge"
    chmod 400 "$dir/munge/munge.key"
    runuser -u munge -- /usr/sbin/munged --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
      --pid-file="$dir/munge/munged.pid" --log-file="$dir/munge/munged.log" --seed-file="$dir/munge/munged.seed"
    host=$(hostname -s)
    cat > "$dir/slurm.conf" <<CONF
ClusterName=regsweep-test
SlurmctldHost=$host
SlurmUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.socket
CredType=cred/munge
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
KillWait=10
# The node may claim more CPUs than it has (see NodeName).
SlurmdParameters=config_overrides
# Four CPUs on a machine of two: room for the run and three workers (the tests ask one CPU a task).
NodeName=$host CPUs=4 State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
    export SLURM_CONF="$dir/slurm.conf"
    /usr/sbin/slurmctld -f "$SLURM_CONF"
    /usr/sbin/slurmd -f "$SLURM_CONF"
    for _ in $(seq 1 100); do
      if sinfo -h -o '%t' 2>/dev/null | grep -Eq '^(idle|mix|alloc)'; then
        echo "export SLURM_CONF='$SLURM_CONF'"
        exit 0
      fi
      sleep 0.2
    done
    echo "test-slurm.sh: the node did not come up: $(tail -n 5 "$dir/slurmctld.log" "$dir/slurmd.log" 2>/dev/null)" >&2
    exit 1
    ;;
  stop)
    for pid in "$dir/slurmd.pid" "$dir/slurmctld.pid" "$dir/munge/munged.pid"; do
      [ -f "$pid" ] && kill "$(cat "$pid")" 2>/dev/null || true
    done
    sleep 0.5
    rm -rf "$dir"
    ;;
  *) echo "usage: test-slurm.sh start|stop DIR" >&2; exit 2 ;;
esac
