#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests: runs COMMAND with RFL_TEST_DATABASE_URL set to a
# new, empty database, then stops the cluster and removes its folder (also when COMMAND fails or
# the script is interrupted).
#
#   scripts/postgres-cluster.sh COMMAND [ARGUMENT...]
#   scripts/postgres-cluster.sh swift test --skip-build --filter StoreSuite
#
# Installs Debian's postgresql package when initdb is missing (as root; otherwise it stops and
# names the package). The server runs as an unprivileged user (PostgreSQL refuses root): when
# run as root, the system user `rfltest`, made when missing; otherwise the caller. It listens on
# 127.0.0.1 only, on a free port, with its socket in the temporary folder, and asks for the
# password (SCRAM) that the URL carries.
set -euo pipefail

if [ "$#" -eq 0 ]; then
    echo "usage: $0 COMMAND [ARGUMENT...]" >&2
    exit 2
fi

find_bin() {
    local found
    found=$(command -v initdb 2>/dev/null || true)
    # The folder of the real binaries (initdb on the PATH may be a link to them).
    if [ -n "$found" ]; then dirname "$(readlink -f "$found")"; return; fi
    for dir in /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
        if [ -x "$dir/initdb" ]; then echo "$dir"; return; fi
    done
}

BIN=$(find_bin)
if [ -z "$BIN" ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "$0: initdb not found: install Debian's postgresql package (as root: apt-get install postgresql)" >&2
        exit 1
    fi
    echo "installing Debian's postgresql package"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    BIN=$(find_bin)
    if [ -z "$BIN" ]; then
        echo "$0: the postgresql package is installed but initdb is not in /usr/lib/postgresql/*/bin" >&2
        exit 1
    fi
fi
if ! ls /usr/share/postgresql/*/extension/unaccent.control >/dev/null 2>&1; then
    echo "$0: the unaccent extension is missing (Debian's postgresql-contrib, part of the postgresql package)" >&2
    exit 1
fi

# Who runs the server, and how to run a command as them.
if [ "$(id -u)" = 0 ]; then
    RUN_USER=rfltest
    if ! id "$RUN_USER" >/dev/null 2>&1; then
        useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$RUN_USER"
    fi
    as_server() { runuser -u "$RUN_USER" -- "$@"; }
else
    RUN_USER=$(id -un)
    as_server() { "$@"; }
fi

FOLDER=$(mktemp -d "${TMPDIR:-/tmp}/rfl-postgres.XXXXXX")
chmod 700 "$FOLDER"
[ "$(id -u)" = 0 ] && chown "$RUN_USER" "$FOLDER"

stop_cluster() {
    local status=$?
    if [ -f "$FOLDER/data/postmaster.pid" ]; then
        local pid
        pid=$(head -n 1 "$FOLDER/data/postmaster.pid")
        # SIGINT: PostgreSQL's fast shutdown (ends the sessions, no checkpoint wait for clients).
        kill -INT "$pid" 2>/dev/null || true
        for _ in $(seq 1 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -rf "$FOLDER"
    exit "$status"
}
trap stop_cluster EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

PASSWORD=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
printf '%s\n' "$PASSWORD" > "$FOLDER/password"
[ "$(id -u)" = 0 ] && chown "$RUN_USER" "$FOLDER/password"
as_server "$BIN/initdb" --pgdata="$FOLDER/data" --username=rfl --pwfile="$FOLDER/password" --auth=scram-sha-256 \
    --encoding=UTF8 --locale=C.UTF-8 >"$FOLDER/initdb.log" 2>&1 || { cat "$FOLDER/initdb.log" >&2; exit 1; }
rm -f "$FOLDER/password"
mkdir -p "$FOLDER/socket"
[ "$(id -u)" = 0 ] && chown "$RUN_USER" "$FOLDER/socket"

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
# fsync off: a throwaway cluster for tests, never a database that must survive the machine.
as_server "$BIN/pg_ctl" --pgdata="$FOLDER/data" --log="$FOLDER/server.log" --wait --silent \
    -o "-c listen_addresses=127.0.0.1 -c port=$PORT -c unix_socket_directories=$FOLDER/socket -c fsync=off -c max_connections=500" \
    start || { cat "$FOLDER/server.log" >&2; exit 1; }

PGPASSWORD=$PASSWORD "$BIN/psql" --quiet --no-psqlrc --host=127.0.0.1 --port="$PORT" --username=rfl --dbname=postgres \
    --command="CREATE DATABASE rfl" >/dev/null

export RFL_TEST_DATABASE_URL="postgres://rfl:$PASSWORD@127.0.0.1:$PORT/rfl"
# The cluster's own client tools first (the tests make databases with psql).
export PATH="$BIN:$PATH"
echo "PostgreSQL $("$BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT (folder $FOLDER, server user $RUN_USER)"
echo "RFL_TEST_DATABASE_URL=$RFL_TEST_DATABASE_URL"
# The command runs in the background, waited for, so that a signal to this script is handled at
# once (bash runs traps only between commands): it is passed on to the command (as SIGTERM, since
# a background command ignores SIGINT), then the cluster is stopped and removed.
"$@" &
COMMAND_PID=$!
trap 'kill -TERM "$COMMAND_PID" 2>/dev/null; wait "$COMMAND_PID"; exit 130' INT
trap 'kill -TERM "$COMMAND_PID" 2>/dev/null; wait "$COMMAND_PID"; exit 143' TERM
wait "$COMMAND_PID"
