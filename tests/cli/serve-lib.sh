# SPDX-License-Identifier: MIT
# Sourced by the console's tests (serve.sh, serve-print.sh, serve-sign.sh)
# after lib.sh and stop_at_exit: starts `certpress serve` and talks to it
# with curl. Not a test of its own (the runner skips it, as lib.sh).

# start_serve ARGS...: starts certpress serve (--output-dir $T_TMP/out, a
# private TMPDIR: TMPDIR_SERVE, default $T_TMP/tmp, and the environment
# assignments in SERVE_ENV). Once its address line has been read from a FIFO
# it sets PID, PORT, URL (with the token), TOKEN, BASE and H (the token
# header); it returns 1 when the server stopped before listening (the line
# read is in LINE, its standard error in the file $SERVE_ERR).
N_SERVE=0
SERVE_ENV=
TMPDIR_SERVE=${TMPDIR_SERVE:-$T_TMP/tmp}
start_serve() {
	N_SERVE=$((N_SERVE + 1))
	fifo="$T_TMP/serve-$N_SERVE.out"
	SERVE_ERR="$T_TMP/serve-$N_SERVE.err"
	mkdir -p "$TMPDIR_SERVE"
	mkfifo "$fifo"
	env $SERVE_ENV TMPDIR="$TMPDIR_SERVE" "$CERTPRESS" serve --output-dir "$T_TMP/out" "$@" \
		>"$fifo" 2>"$SERVE_ERR" &
	PID=$!
	PIDS="$PIDS $PID"
	LINE=
	read -r LINE <"$fifo" || true
	PORT=$(printf '%s\n' "$LINE" | sed -n 's|^certpress serve: open http://127\.0\.0\.1:\([0-9]*\)/?token=[0-9a-f]\{64\}$|\1|p')
	URL=${LINE#certpress serve: open }
	TOKEN=${LINE##*token=}
	BASE="http://127.0.0.1:$PORT"
	H="X-Certpress-Token: $TOKEN"
	[ -n "$PORT" ]
}
# must_serve DESC ARGS...: start_serve ARGS as the test DESC; when the server
# does not start, the script's tests end there.
must_serve() {
	_desc=$1
	shift
	if start_serve "$@"; then
		ok "$_desc"
		return 0
	fi
	not_ok "$_desc" "line: $LINE" "$(cat "$SERVE_ERR")"
	done_testing
	exit $?
}
# stop_serve: SIGTERM, and its exit status in STOP_STATUS.
stop_serve() {
	kill -TERM "$PID"
	wait "$PID"
	STOP_STATUS=$?
}
# csrf_token: the page's CSRF token (64 hex digits), read with the token.
csrf_token() {
	curl -s -H "$H" "$BASE/" | sed -n 's/.*name="csrf-token" content="\([0-9a-f]\{64\}\)".*/\1/p'
}
# http CURL-ARGS...: the status code in CODE, the body in $T_TMP/body (and
# BODY), the headers in $T_TMP/headers.
http() {
	CODE=$(curl -s -o "$T_TMP/body" -D "$T_TMP/headers" -w '%{http_code}' "$@")
	BODY=$(cat "$T_TMP/body")
}
# code_is WANT DESC
code_is() {
	if [ "$CODE" = "$1" ]; then ok "$2 ($1)"
	else not_ok "$2: expected HTTP $1, got $CODE" "body: $(head -c 400 "$T_TMP/body")"; fi
}
# json EXPR: evaluates a Python expression over the body's JSON (as j).
json() {
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$T_TMP/body" "$1"
}
