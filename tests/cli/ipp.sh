# SPDX-License-Identifier: MIT
# A real IPP printer for the end-to-end tests: Debian's ippeveprinter on a
# loopback port, spooling what it receives to a folder, and a private D-Bus
# session bus standing in for the system bus (with -r off it registers
# nothing there). No clock anywhere: dbus-daemon prints its address once it
# listens, ippeveprinter its printer-uri-supported line (-v) once its
# sockets listen, both read through FIFOs (../shared/notes/printing.md).
#
# Usage, after lib.sh, with PIDS the script's list of processes to stop:
#     . "$(dirname "$0")/ipp.sh"
#     ipp_bus
#     start_printer NAME COMMAND [FORMATS] && GOOD=$URI
# The caller checks that ippeveprinter, ipptool and dbus-daemon exist first.

# ipp_bus: starts the private session bus; sets BUS_ADDR.
ipp_bus() {
	mkfifo "$T_TMP/bus.addr"
	dbus-daemon --session --address="unix:path=$T_TMP/bus" --nofork --nosyslog \
		--print-address=1 >"$T_TMP/bus.addr" 2>"$T_TMP/dbus.log" &
	PIDS="$PIDS $!"
	read -r BUS_ADDR <"$T_TMP/bus.addr"
}

# start_printer NAME COMMAND [FORMATS]: an ippeveprinter running COMMAND for
# each job and spooling to $T_TMP/spool-NAME, logging to
# $T_TMP/printer-NAME.log; sets URI and pid. There is no port 0: a random
# port is tried, and another if that one is taken (the server exits). A loop
# copying its output to the log answers "up" through a FIFO, or "down" at
# end of output if the server died first. The same loop tells when the
# printer has finished processing a job ("[Job N] Processing time was …"):
# through the FIFO ended-NAME, when the test made one to wait on, or
# "printer gone" if the printer ended first.
start_printer() {
	name=$1 cmd=$2 formats=${3:-application/pdf}
	mkdir -p "$T_TMP/spool-$name"
	tries=0
	while [ "$tries" -lt 20 ]; do
		tries=$((tries + 1))
		port=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 40000))
		out="$T_TMP/out-$name-$tries" ready="$T_TMP/ready-$name-$tries"
		mkfifo "$out" "$ready"
		(
			st=down
			while IFS= read -r line; do
				printf '%s\n' "$line"
				case "$st$line" in
				downprinter-uri-supported=*) st=up; echo up >"$ready" ;;
				up"[Job "*"] Processing time was"*)
					[ -p "$T_TMP/ended-$name" ] && printf '%s\n' "$line" >"$T_TMP/ended-$name" &&
						told=1 ;;
				esac
			done
			[ "$st" = up ] || echo down >"$ready"
			[ "$st" = up ] && [ -z "${told:-}" ] && [ -p "$T_TMP/ended-$name" ] &&
				echo "printer gone" >"$T_TMP/ended-$name"
		) <"$out" >>"$T_TMP/printer-$name.log" &
		PIDS="$PIDS $!"
		DBUS_SYSTEM_BUS_ADDRESS=$BUS_ADDR ippeveprinter -v -r off -n localhost -p "$port" \
			-d "$T_TMP/spool-$name" -k -c "$cmd" -f "$formats" "certpress-$name" \
			>"$out" 2>&1 &
		pid=$!
		PIDS="$PIDS $pid"
		read -r state <"$ready"
		if [ "$state" = up ]; then
			URI="ipp://localhost:$port/ipp/print"
			return 0
		fi
		wait "$pid" 2>/dev/null
	done
	return 1
}
