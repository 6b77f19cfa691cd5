#!/usr/bin/env bash
# A throwaway single-node Slurm cluster on localhost, for CI and local tests of
# deploy/slurm-array.sh. Everything (config, munge key and socket, state, spool, logs, pid
# files) lives under DIR; /etc/slurm, /etc/munge and the system munge socket are not used.
#
#   eval "$(deploy/ci/slurm-cluster.sh start /tmp/slurm)"   # prints: export SLURM_CONF=...
#   sbatch --wait --wrap 'hostname'
#   deploy/ci/slurm-cluster.sh stop /tmp/slurm             # idempotent
#
# Needs root (daemons run as root, jobs run as the submitting user) and the Debian packages
# munge, slurmctld, slurmd, slurm-client. No cgroups, no accounting database.
#
# Environment:
#   SLURM_CLUSTER_PORT     slurmctld port; slurmd uses PORT+1. Default: the first free pair
#                          from 16817 (16817/16818, 16819/16820, ...). If set, it must be free.
#   SLURM_CLUSTER_TIMEOUT  seconds to wait for the node to become idle (default 60).
set -euo pipefail

usage() {
    echo "usage: $0 start|stop DIR" >&2
    exit 2
}

log() { echo "slurm-cluster: $*" >&2; }
die() {
    log "error: $*"
    exit 1
}

# Is this pid a live (non-zombie) process named $2? Zombies matter: in containers PID 1 often
# does not reap orphans, so a killed daemon can linger as <defunct> and still pass `kill -0`.
alive() {
    local pid=$1 name=$2 stat
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
    [[ $(cat "/proc/$pid/comm" 2>/dev/null) == "$name" ]] || return 1
    # Field 3 of /proc/PID/stat (after the parenthesised comm) is the state.
    stat=${stat##*) }
    [[ ${stat%% *} != Z ]]
}

# pid recorded in pid file $1 if that process is alive and named $2; fails otherwise.
running_pid() {
    local pid
    [[ -f $1 ]] || return 1
    pid=$(tr -dc 0-9 <"$1")
    alive "$pid" "$2" && echo "$pid"
}

# Is something listening on TCP port $1 (any address)?
port_in_use() {
    if command -v ss >/dev/null; then
        [[ -n $(ss -Hltn "sport = :$1" 2>/dev/null) ]]
    else
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
    fi
}

# Who is listening on port $1 (for error messages).
port_owner() {
    command -v ss >/dev/null && ss -Hltnp "sport = :$1" 2>/dev/null | sed 's/^/    /' || true
}

# Poll "$@" every 0.5 s until it succeeds or the deadline (epoch seconds) in $deadline passes.
wait_until() {
    until "$@" >/dev/null 2>&1; do
        ((SECONDS < deadline)) || return 1
        sleep 0.5
    done
}

# Print the last lines of every log under DIR, to explain a failed start.
dump_logs() {
    local f
    for f in "$DIR"/log/*.log; do
        [[ -f $f ]] || continue
        echo "----- tail -n 40 $f -----" >&2
        tail -n 40 "$f" >&2
    done
}

# Stop the daemon whose pid file is $1 and comm is $2: SIGTERM, then SIGKILL after 30 s.
stop_daemon() {
    local pidfile=$1 name=$2 pid i
    if pid=$(running_pid "$pidfile" "$name"); then
        log "stopping $name (pid $pid)"
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 60; i++)); do
            alive "$pid" "$name" || break
            sleep 0.5
        done
        if alive "$pid" "$name"; then
            log "$name (pid $pid) ignored SIGTERM; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            for ((i = 0; i < 20; i++)); do
                alive "$pid" "$name" || break
                sleep 0.5
            done
            alive "$pid" "$name" && die "$name (pid $pid) is still running"
        fi
    fi
    rm -f "$pidfile"
}

cmd_stop() {
    export SLURM_CONF=$DIR/slurm.conf
    # Cancel leftover jobs first: slurmstepd and job processes outlive slurmd otherwise.
    if running_pid "$DIR/run/slurmctld.pid" slurmctld >/dev/null && [[ -f $SLURM_CONF ]]; then
        local jobs
        jobs=$(timeout 10 squeue -h -o %A 2>/dev/null | sort -u | tr '\n' ' ') || true
        if [[ -n ${jobs// /} ]]; then
            log "cancelling jobs: $jobs"
            # shellcheck disable=SC2086
            timeout 10 scancel $jobs 2>/dev/null || true
            local deadline=$((SECONDS + 20))
            no_jobs_running() { [[ -z $(squeue -h -t R,CG -o %A) ]]; }
            wait_until no_jobs_running ||
                log "warning: jobs still running/completing after 20 s"
        fi
    fi
    stop_daemon "$DIR/run/slurmd.pid" slurmd
    stop_daemon "$DIR/run/slurmctld.pid" slurmctld
    stop_daemon "$DIR/munge/munged.pid" munged
    rm -f "$DIR/munge/munged.sock" "$DIR/munge/munged.sock.lock"
    log "stopped (DIR=$DIR)"
}

# Pick SlurmctldPort (and SlurmdPort = +1): the given one, or the first free pair from 16817.
pick_ports() {
    local p
    if [[ -n ${SLURM_CLUSTER_PORT:-} ]]; then
        [[ $SLURM_CLUSTER_PORT =~ ^[0-9]+$ ]] || die "SLURM_CLUSTER_PORT must be a number"
        for p in "$SLURM_CLUSTER_PORT" $((SLURM_CLUSTER_PORT + 1)); do
            if port_in_use "$p"; then
                log "error: port $p (SLURM_CLUSTER_PORT=$SLURM_CLUSTER_PORT) is in use:"
                port_owner "$p" >&2
                die "stop the other cluster (slurm-cluster.sh stop ITS_DIR) or pick another port"
            fi
        done
        CTLD_PORT=$SLURM_CLUSTER_PORT
    else
        for ((p = 16817; p < 16857; p += 2)); do
            if ! port_in_use "$p" && ! port_in_use $((p + 1)); then
                CTLD_PORT=$p
                break
            fi
            log "ports $p/$((p + 1)) are in use (another cluster still running?):"
            port_owner "$p" >&2
            port_owner $((p + 1)) >&2
        done
        [[ -n ${CTLD_PORT:-} ]] || die "no free port pair in 16817-16856; set SLURM_CLUSTER_PORT"
    fi
    SLURMD_PORT=$((CTLD_PORT + 1))
}

write_config() {
    local cpus mem_mb
    cpus=$(nproc)
    # The node's real memory in MiB, as slurmd measures it: jobs asking for more (--mem=2G)
    # are rejected, and configuring more than slurmd finds would drain the node.
    mem_mb=$(awk '/^MemTotal:/ { printf "%d", $2 / 1024 }' /proc/meminfo)

    # No SPANK plugins (otherwise slurm reads /etc/slurm/plugstack.conf).
    : >"$DIR/plugstack.conf"

    cat >"$DIR/slurm.conf" <<EOF
# Generated by deploy/ci/slurm-cluster.sh; single node, everything under $DIR.
ClusterName=ci
SlurmctldHost=$NODE(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root

# Authenticate through our own munged, not the system one. cred_expire (default 120 s) is
# also how long a requeued job waits before it may start again.
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$DIR/munge/munged.sock,cred_expire=10

StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/run/slurmctld.pid
SlurmdPidFile=$DIR/run/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
PlugStackConfig=$DIR/plugstack.conf

# No cgroups, no accounting, no mail.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SwitchType=switch/none
MpiDefault=none
MailProg=/bin/true

SchedulerType=sched/backfill
# Cancel jobs whose dependency can never be met (afterok on a failed job) instead of leaving
# them pending forever, so sbatch --wait on them returns (with exit code 0: check JobState).
DependencyParameters=kill_invalid_depend
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MaxArraySize=100001
MaxJobCount=200000
KillWait=5
InactiveLimit=0

NodeName=$NODE NodeHostname=$NODE NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=ci Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
}

start_munged() {
    local m=$DIR/munge
    # A fresh random key each start (munge needs at least 32 bytes; 1 KiB like mungekey).
    rm -f "$m/munged.key"
    dd if=/dev/urandom of="$m/munged.key" bs=1024 count=1 status=none
    chmod 0400 "$m/munged.key"
    # --force: tolerate a stale socket and the permissions of DIR's ancestors.
    munged --force --num-threads=2 \
        --socket="$m/munged.sock" --key-file="$m/munged.key" --pid-file="$m/munged.pid" \
        --log-file="$DIR/log/munged.log" --seed-file="$m/munged.seed" ||
        {
            dump_logs
            die "munged failed to start"
        }
    munge --socket="$m/munged.sock" --no-input | unmunge --socket="$m/munged.sock" >/dev/null ||
        {
            dump_logs
            die "munged does not answer on $m/munged.sock"
        }
}

cmd_start() {
    local name
    for name in munged munge unmunge slurmctld slurmd sinfo scontrol ss; do
        command -v "$name" >/dev/null || die "$name not found (apt-get install munge slurmctld slurmd slurm-client iproute2)"
    done
    ((EUID == 0)) || die "must run as root (the daemons run as root)"

    # Refuse to start twice in the same DIR.
    for name in slurmd:run/slurmd.pid slurmctld:run/slurmctld.pid munged:munge/munged.pid; do
        if running_pid "$DIR/${name#*:}" "${name%%:*}" >/dev/null; then
            die "${name%%:*} is already running from $DIR; run: $0 stop $DIR"
        fi
    done

    # Unix socket paths are limited to 107 bytes (munged also adds ".lock").
    local sock=$DIR/munge/munged.sock.lock
    ((${#sock} <= 107)) || die "DIR is too long for a unix socket path ($sock); use a shorter DIR"

    NODE=$(hostname -s)
    [[ -n $NODE ]] || die "hostname -s is empty"
    pick_ports

    # Fresh state each start (old jobs and node state would confuse tests); keep other files.
    rm -rf "$DIR/state" "$DIR/spool" "$DIR/run" "$DIR/log" "$DIR/munge"
    mkdir -p "$DIR/state" "$DIR/spool" "$DIR/run" "$DIR/log" "$DIR/munge"
    # Non-root users must reach the socket; the key itself is 0400 root.
    chmod 0755 "$DIR/munge" "$DIR/log"

    write_config
    export SLURM_CONF=$DIR/slurm.conf
    log "starting on $NODE, ports $CTLD_PORT/$SLURMD_PORT, $(nproc) CPUs (DIR=$DIR)"

    # From here on, a failure stops whatever was started (the logs stay in DIR/log).
    trap 'rc=$?; if ((rc)); then log "start failed; stopping"; cmd_stop || true; fi' EXIT

    local t0=$SECONDS deadline=$((SECONDS + ${SLURM_CLUSTER_TIMEOUT:-60}))
    start_munged

    slurmctld -f "$SLURM_CONF" || {
        dump_logs
        die "slurmctld failed to start"
    }
    wait_until scontrol ping || {
        dump_logs
        die "slurmctld does not answer scontrol ping"
    }

    # -N: the node name does not depend on how slurmd resolves the hostname.
    slurmd -f "$SLURM_CONF" -N "$NODE" || {
        dump_logs
        die "slurmd failed to start"
    }
    node_idle() { [[ $(sinfo -h -n "$NODE" -o %T 2>/dev/null) == idle ]]; }
    wait_until node_idle || {
        log "node $NODE not idle after ${SLURM_CLUSTER_TIMEOUT:-60} s:"
        sinfo -N -l >&2 || true
        scontrol show node "$NODE" >&2 || true
        dump_logs
        die "cluster did not come up"
    }

    trap - EXIT
    log "up in $((SECONDS - t0)) s"
    echo "export SLURM_CONF=$SLURM_CONF"
}

(($# == 2)) || usage
case $1 in
start)
    mkdir -p "$2"
    DIR=$(cd "$2" && pwd -P)
    cmd_start
    ;;
stop)
    [[ -d $2 ]] || exit 0 # nothing was ever started there
    DIR=$(cd "$2" && pwd -P)
    cmd_stop
    ;;
*) usage ;;
esac
