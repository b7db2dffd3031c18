#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the test suite: on 127.0.0.1, a free port, trust auth on
# loopback only, data in a temp dir, fsync off. Nothing is installed or left behind.
#
#   eval "$(scripts/postgres.sh start)"   # exports DATABASE_URL and PG_TEMP_DIR
#   scripts/postgres.sh stop              # stops it and deletes PG_TEMP_DIR (or the dir given)
#
# The role `inspector` owns the database and may CREATEDB (pytest-django makes test_inspector).
# As root, the server runs as the `postgres` user (initdb refuses root). PG_BIN overrides
# where the binaries are (default: the newest /usr/lib/postgresql/*/bin, e.g. 15).
set -euo pipefail

pg_bin() {
    if [ -n "${PG_BIN:-}" ]; then echo "$PG_BIN"; return; fi
    local dir
    dir="$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)"
    if [ -z "$dir" ] && command -v pg_ctl >/dev/null 2>&1; then
        dir="$(dirname "$(command -v pg_ctl)")"
    fi
    if [ -z "$dir" ] || [ ! -x "$dir/pg_ctl" ]; then
        echo "No PostgreSQL server binaries found (apt-get install postgresql, or set PG_BIN)." >&2
        exit 1
    fi
    echo "$dir"
}

# Run a command as the cluster's owner: `postgres` when we are root, else ourselves.
as_owner() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

free_port() {
    local python
    for python in python3 /usr/bin/python3 .venv/bin/python; do
        if "$python" -c 'import socket' >/dev/null 2>&1; then
            "$python" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
            return
        fi
    done
    echo "No python3 to find a free port with." >&2
    exit 1
}

start() {
    local bin dir port
    bin="$(pg_bin)"
    dir="$(mktemp -d "${TMPDIR:-/tmp}/inspector-pg.XXXXXX")"
    chmod 755 "$dir"
    if [ "$(id -u)" = 0 ]; then chown postgres: "$dir"; fi
    port="$(free_port)"
    as_owner "$bin/initdb" -D "$dir/data" -U postgres -E UTF8 --locale=C.UTF-8 \
        --auth-local=trust --auth-host=trust >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    # The server listens on loopback only; the socket lives in the temp dir, not /run.
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off \
            -c synchronous_commit=off -c full_page_writes=off -c max_connections=50" \
        >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    as_owner "$bin/psql" -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d postgres \
        -c "CREATE ROLE inspector LOGIN CREATEDB" \
        -c "CREATE DATABASE inspector OWNER inspector" >/dev/null
    echo "export DATABASE_URL=postgres://inspector@127.0.0.1:$port/inspector"
    echo "export PG_TEMP_DIR=$dir"
}

stop() {
    local dir="${1:-${PG_TEMP_DIR:-}}"
    if [ -z "$dir" ] || [ ! -d "$dir/data" ]; then
        echo "usage: $0 stop DIR (or set PG_TEMP_DIR): no cluster at '${dir}'" >&2
        exit 1
    fi
    as_owner "$(pg_bin)/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
}

case "${1:-}" in
    start) start ;;
    stop) stop "${2:-}" ;;
    *) echo "usage: $0 start | stop [DIR]" >&2; exit 2 ;;
esac
