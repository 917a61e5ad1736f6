#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests: `start DIR` initialises one in DIR (as the postgres user: initdb
# refuses root), listening on 127.0.0.1 on a free port, with password authentication over TCP, and prints the
# variables the tests read; `stop DIR` stops it and removes DIR. Debian's postgresql 15 package.
set -euo pipefail
action=${1:?usage: test-postgres.sh start|stop DIR}
dir=${2:?usage: test-postgres.sh start|stop DIR}
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

case "$action" in
  start)
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
    password=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
    pwfile=$(mktemp); echo "$password" > "$pwfile"; chmod 644 "$pwfile"
    as_postgres "$bin/initdb" -D "$dir/data" -U postgres --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 >/dev/null
    rm -f "$pwfile"
    # In the configuration file, so that a restart (the tests stop and start the server) keeps them.
    cat >> "$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir/data'
max_connections = 200
fsync = off
# Statement times for the distributed bench (npm run bench -- distributed).
shared_preload_libraries = 'pg_stat_statements'
CONF
    as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/data/log" -w start >/dev/null
    echo "export REGSWEEP_TEST_PG_URL=postgres://postgres:$password@127.0.0.1:$port/postgres"
    echo "export REGSWEEP_TEST_PG_CTL='$(readlink -f "$0") ctl $dir'"
    ;;
  ctl)
    # ctl DIR ARGS…: pg_ctl on this cluster (the tests stop and restart it under a running sweep).
    shift 2
    as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/data/log" -w "$@"
    ;;
  stop)
    if [ -d "$dir/data" ]; then as_postgres "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true; fi
    rm -rf "$dir"
    ;;
  *) echo "usage: test-postgres.sh start|stop|ctl DIR" >&2; exit 2 ;;
esac
