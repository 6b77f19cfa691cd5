#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests: Unix socket only, no TCP, trust auth, fsync off.
#
#   eval "$(deploy/ci/postgres-throwaway.sh start /tmp/pg)"   # prints the one `export ...` line
#   psql -v ON_ERROR_STOP=1 -c 'select 1'
#   deploy/ci/postgres-throwaway.sh stop /tmp/pg             # idempotent; rm -rf /tmp/pg after
#
# `start DIR` creates DIR if needed, puts the cluster in DIR/data, the socket in DIR and the
# server log in DIR/postgres.log, starts the server (pg_ctl -w), and prints on stdout only
#   export PGHOST=DIR PGPORT=55432 PGUSER=postgres PGDATABASE=postgres
# Everything else goes to stderr. Starting a DIR whose cluster exists reuses it (and does
# nothing if it is running). The port number only names the socket file (DIR/.s.PGSQL.55432):
# nothing listens on TCP, so clusters in different DIRs never clash.
#
# PostgreSQL refuses to run as root. As root the server runs as the `postgres` system user
# (the Debian package creates it; override with PG_THROWAWAY_USER) and DIR is chown'ed to it;
# every parent directory of DIR must be searchable by that user (/tmp is; /root is not).
# As any other user the server runs as that user. The database superuser is `postgres` either
# way (initdb -U postgres), so the printed line is the same.
#
# Environment: PG_THROWAWAY_PORT (55432), PG_THROWAWAY_USER (postgres, root only),
# PG_BINDIR (default: the newest /usr/lib/postgresql/*/bin, else initdb on the PATH).
set -euo pipefail

usage() { echo "usage: $0 start|stop DIR" >&2; exit 2; }
die() { echo "postgres-throwaway: $*" >&2; exit 1; }

[[ $# == 2 ]] || usage
cmd=$1
[[ -n $2 ]] || usage
port=${PG_THROWAWAY_PORT:-55432}
[[ $port =~ ^[0-9]+$ ]] || die "PG_THROWAWAY_PORT must be a number: $port"

# Absolute path without requiring it to exist (realpath -m); the printed line and the config
# must not need quoting, so keep to a safe character set.
dir=$(realpath -m -- "$2")
[[ $dir =~ ^[A-Za-z0-9._/+@-]+$ ]] || die "DIR must match [A-Za-z0-9._/+@-]: $dir"
# sun_path holds 107 bytes plus NUL.
sock="$dir/.s.PGSQL.$port"
(( ${#sock} <= 107 )) || die "socket path too long (${#sock} > 107 bytes): $sock"
data="$dir/data"

# shellcheck disable=SC2012 # ls -d of /usr/lib/postgresql/NN/bin: plain names
if [[ -n ${PG_BINDIR:-} ]]; then
    bindir=$PG_BINDIR
elif bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1) && [[ -n $bindir ]]; then
    :
elif command -v initdb >/dev/null; then
    bindir=$(dirname "$(command -v initdb)")
else
    die "no PostgreSQL server binaries (apt-get install postgresql, or set PG_BINDIR)"
fi
[[ -x $bindir/initdb && -x $bindir/pg_ctl ]] || die "no initdb/pg_ctl in $bindir"

# Run a server-side command as the server's user, from DIR (a root cwd such as /root would
# make them warn "could not change directory"), without the caller's PG* variables.
if [[ $(id -u) == 0 ]]; then
    user=${PG_THROWAWAY_USER:-postgres}
    id -u "$user" >/dev/null 2>&1 || die "no user '$user' to run the server as (apt-get install postgresql creates 'postgres', or set PG_THROWAWAY_USER)"
    [[ $(id -u "$user") != 0 ]] || die "PG_THROWAWAY_USER must not be root"
    as_server() { (cd / && runuser -u "$user" -- env -u PGDATA -u PGHOST -u PGPORT -u PGUSER -u PGDATABASE "$@"); }
else
    user=$(id -un)
    as_server() { (cd / && env -u PGDATA -u PGHOST -u PGPORT -u PGUSER -u PGDATABASE "$@"); }
fi

running() { [[ -f $data/postmaster.pid ]] && as_server "$bindir/pg_ctl" status -D "$data" >/dev/null 2>&1; }

case $cmd in
start)
    # Refuse a DIR that holds anything but this script's files: `start /tmp` must not chown /tmp.
    if [[ -e $dir ]]; then
        [[ -d $dir ]] || die "$dir exists and is not a directory"
        for f in "$dir"/* "$dir"/.[!.]*; do
            [[ -e $f ]] || continue
            case ${f##*/} in
            data | initdb.log | postgres.log | .s.PGSQL.*) ;;
            *) die "$dir holds other files ($f): give a new or empty directory" ;;
            esac
        done
    fi
    created=""
    [[ -e $dir ]] || created=1
    mkdir -p -- "$dir"
    if [[ $(id -u) == 0 ]]; then
        chown "$user:" "$dir"
        as_server test -x "$dir" -a -w "$dir" || { [[ -z $created ]] || rmdir -- "$dir"; die "user '$user' cannot reach $dir: a parent directory is not searchable by it (use a DIR under /tmp)"; }
    fi
    if [[ ! -f $data/PG_VERSION ]]; then
        # --locale=C: no dependency on generated locales; -E UTF8 so text is UTF-8 anyway.
        if ! as_server "$bindir/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C \
                --no-instructions >"$dir/initdb.log" 2>&1; then
            cat "$dir/initdb.log" >&2
            die "initdb failed (log above, $dir/initdb.log)"
        fi
        cat >>"$data/postgresql.conf" <<EOF

# postgres-throwaway.sh: socket only, no durability.
listen_addresses = ''
unix_socket_directories = '$dir'
port = $port
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
    fi
    if running; then
        echo "postgres-throwaway: already running in $data" >&2
    elif ! as_server "$bindir/pg_ctl" start -w -t 60 -D "$data" -l "$dir/postgres.log" >&2; then
        tail -n 30 "$dir/postgres.log" >&2 || true
        die "pg_ctl start failed (log above, $dir/postgres.log)"
    fi
    echo "export PGHOST=$dir PGPORT=$port PGUSER=postgres PGDATABASE=postgres"
    ;;
stop)
    if running; then
        as_server "$bindir/pg_ctl" stop -w -m fast -D "$data" >&2
    else
        echo "postgres-throwaway: not running in $data" >&2
    fi
    ;;
*)
    usage
    ;;
esac
