# SPDX-License-Identifier: MIT
# A throwaway PostgreSQL 15 server for one test script (sourced): initdb and
# pg_ctl in a temporary folder, Unix socket only (listen_addresses=''), trust
# authentication for the one role `cp`, stopped and deleted on exit (trap).
# As root it runs as the `postgres` user (initdb refuses root). No server
# outside the test is used or touched.
#
#   . tests/common/pg.sh
#   pg_start || { skip "…: $PG_WHY"; …; }   # PG_WHY says why it could not start
#   "$bin" … --ledger "$PG_CONNINFO"         # host=DIR user=cp dbname=ledger
#   pg_createdb NAME                         # another empty database
#   pg_stop                                  # stops it now (also on exit)
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
PG_DIR= PG_CONNINFO= PG_WHY= PG_RUN=

pg_stop() {
	[ -n "$PG_DIR" ] || return 0
	if [ -f "$PG_DIR/data/postmaster.pid" ]; then
		$PG_RUN "$PGBIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1
	fi
	rm -rf "$PG_DIR"
	PG_DIR=
}

pg_start() {
	if [ ! -x "$PGBIN/initdb" ] || [ ! -x "$PGBIN/pg_ctl" ]; then
		PG_WHY="no PostgreSQL 15 in $PGBIN (scripts/deps.sh installs postgresql-15)"
		return 1
	fi
	# short: a Unix socket path holds at most about 107 bytes
	PG_DIR=$(mktemp -d /tmp/cppg.XXXXXX) || { PG_WHY="mktemp failed"; return 1; }
	chmod 755 "$PG_DIR"
	PG_RUN=
	if [ "$(id -u)" = 0 ]; then
		chown postgres:postgres "$PG_DIR"
		PG_RUN="runuser -u postgres --"
	fi
	# PG_AT_EXIT: what the sourcing script's own EXIT trap did
	trap 'pg_stop; eval "${PG_AT_EXIT:-}"' EXIT
	trap 'exit 130' INT TERM
	if ! $PG_RUN "$PGBIN/initdb" -D "$PG_DIR/data" -U cp --auth=trust --no-sync \
		--encoding=UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1; then
		PG_WHY="initdb failed: $(tail -n 3 "$PG_DIR/initdb.log" | tr '\n' ' ')"
		pg_stop
		return 1
	fi
	if ! $PG_RUN "$PGBIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
		-o "-c listen_addresses='' -c unix_socket_directories='$PG_DIR' -c fsync=off" \
		start >/dev/null 2>&1; then
		PG_WHY="the server did not start: $(tail -n 3 "$PG_DIR/server.log" 2>/dev/null | tr '\n' ' ')"
		pg_stop
		return 1
	fi
	pg_createdb ledger || { PG_WHY="createdb failed"; pg_stop; return 1; }
	PG_CONNINFO="host=$PG_DIR user=cp dbname=ledger"
	export PG_CONNINFO
	return 0
}

pg_createdb() {
	"$PGBIN/psql" -h "$PG_DIR" -U cp -d postgres -X -q -v ON_ERROR_STOP=1 \
		-c "CREATE DATABASE \"$1\"" >/dev/null
}

# psql on the test server: pg_sql DB SQL
pg_sql() {
	"$PGBIN/psql" -h "$PG_DIR" -U cp -d "$1" -X -q -At -v ON_ERROR_STOP=1 -c "$2"
}
