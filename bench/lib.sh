# SPDX-License-Identifier: MIT
# Shared by bench/run.sh and bench/peers.sh (POSIX sh, sourced from the top of
# the source tree). Expects CERTPRESS (the command under test) in the
# environment and the tools that bench/Makefile.inc builds in bench/cache/bin.

set -eu
LC_ALL=C
export LC_ALL

CACHE=bench/cache
BIN=$CACHE/bin
OUT=$CACHE/out
ORG=templates/org.conf
NPHOTOS=50
: "${CERTPRESS:?set CERTPRESS to the certpress command (make bench does)}"
mkdir -p "$OUT"

die() {
	echo "bench: $*" >&2
	exit 1
}

# The batches and photos are derived from gen-batch.c alone: when it changes,
# everything generated from it is thrown away (data.stamp holds its checksum).
bench_data_fresh() {
	sum=$(cksum < bench/gen-batch.c)
	if [ "$(cat "$CACHE/data.stamp" 2>/dev/null)" != "$sum" ]; then
		rm -rf "$CACHE/photos" "$CACHE/qr" "$CACHE"/batch-*
		mkdir -p "$CACHE/photos"
		"$BIN/gen-batch" photos "$CACHE/photos" "$NPHOTOS"
		echo "$sum" > "$CACHE/data.stamp"
	fi
}

# ensure_batch N [tsv]: bench/cache/batch-N.csv (and batch-N.tsv, the printed
# values for Typst, when asked), generated once and reused.
ensure_batch() {
	bench_data_fresh
	if [ "${2:-}" = tsv ]; then
		[ -f "$CACHE/batch-$1.tsv" ] ||
			"$BIN/gen-batch" csv "$1" "$NPHOTOS" "$CACHE/batch-$1.csv" "$CACHE/batch-$1.tsv"
	fi
	[ -f "$CACHE/batch-$1.csv" ] || "$BIN/gen-batch" csv "$1" "$NPHOTOS" "$CACHE/batch-$1.csv"
}

# ensure_own N: bench/cache/own-N.csv, batch N but with a photo of its own for
# every record, as a real batch has (photos/p01.jpg … pN.jpg, made once; the
# first 50 are the other batches' photos, the same bytes).
ensure_own() {
	bench_data_fresh
	[ -f "$CACHE/photos/p$1.jpg" ] || "$BIN/gen-batch" photos "$CACHE/photos" "$1"
	[ -f "$CACHE/own-$1.csv" ] || "$BIN/gen-batch" csv "$1" "$1" "$CACHE/own-$1.csv"
}

# ensure_xlsx N: bench/cache/batch-N.xlsx, the same batch as a workbook
# (bench/csv2xlsx.py), beside the CSV so that the photo paths resolve alike;
# made again when the CSV or the script is newer.
ensure_xlsx() {
	ensure_batch "$1"
	_x="$CACHE/batch-$1.xlsx"
	if [ ! -f "$_x" ] || [ "$CACHE/batch-$1.csv" -nt "$_x" ] || [ bench/csv2xlsx.py -nt "$_x" ]; then
		/usr/bin/python3 bench/csv2xlsx.py "$CACHE/batch-$1.csv" "$_x" ||
			die "cannot write $_x (bench/csv2xlsx.py needs /usr/bin/python3)"
	fi
}

# run_once NAME PREP CMD…: runs PREP (a shell command, untimed), then CMD under
# bench/rusage, appending one line to $OUT/NAME.runs. Output goes to
# $OUT/NAME.log; a failure prints its end and stops the benchmark.
run_once() {
	_ro_name=$1 _ro_prep=$2
	shift 2
	eval "$_ro_prep"
	if ! "$BIN/rusage" "$OUT/$_ro_name.runs" "$@" > "$OUT/$_ro_name.log" 2>&1; then
		echo "bench: $_ro_name failed: $*" >&2
		tail -n 15 "$OUT/$_ro_name.log" >&2
		exit 1
	fi
}

# set_aside PATH...: moves the previous run's output folders out of the way
# instead of deleting them; bench/run.sh deletes them all when the timing is
# over. On a journal-less ext4 (this machine's) the kernel skips an inode
# freed in the last minute (five, while its table block is dirty) and reads
# its table entry to find out (find_inode_bit, recently_deleted): a run
# creating 1,000 files right after the previous run's 1,000 were deleted
# scanned all of them for each new file, 12 % of signed-1k's samples. An
# operator's batch does not follow its own deletion; the harness's did.
set_aside() {
	for _sa in "$@"; do
		[ -e "$_sa" ] || continue
		mkdir -p "$OUT/old"
		mv "$_sa" "$(mktemp -d "$OUT/old/XXXXXX")/"
	done
}

# median NAME: the run of median wall time, as "wall user sys maxrss_kb";
# maxrss_kb is the largest of all runs (peak memory is a limit, not a typical).
median() {
	awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
	       print v["wall"], v["user"], v["sys"], v["maxrss_kb"] }' "$OUT/$1.runs" |
	sort -n | awk '{ w[NR] = $1; u[NR] = $2; s[NR] = $3; if ($4 > m) m = $4 }
	             END { k = int((NR + 1) / 2); print w[k], u[k], s[k], m, NR }'
}

# record NAME KIND N BYTES OTHER_BYTES: appends a result row (from the median
# run of NAME) to $OUT/results.tsv. BYTES is output per certificate, OTHER the
# same without the embedded photos (PDF), or "" when not measured.
record() {
	set -- "$@" $(median "$1")
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$6" "$7" "$8" "$9" \
		"${10}" "$4" "$5" >> "$OUT/results.tsv"
}

# pdf_bytes FILE N: "bytes_per_page other_bytes_per_page" of a rendered PDF,
# checking that it has N pages.
pdf_bytes() {
	_stat=$("$BIN/pdfstat" "$1")
	echo "$_stat" | awk -v n="$2" -v f="$1" '{
		for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		if (v["pages"] != 0 && v["pages"] != n)
			printf "bench: %s has %d pages, expected %d\n", f, v["pages"], n > "/dev/stderr"
		printf "%.0f %.0f\n", v["bytes"] / n, (v["bytes"] - v["jpeg_bytes"]) / n }'
}

machine_json() {
	_cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
	_rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
	_ver=$("$CERTPRESS" --version 2>/dev/null | head -n 1 || true)
	printf '  "machine": {"cpus": %s, "cores_worth_when_all_busy": %s, "cpu": "%s", "loadavg_at_start": "%s"},\n' \
		"$(getconf _NPROCESSORS_ONLN)" "${BENCH_PARALLEL:-null}" "$_cpu" "$BENCH_LOAD"
	printf '  "certpress": {"version": "%s", "commit": "%s"},\n' "$_ver" "$_rev"
	printf '  "date": "%s",\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
}

# parallel_capacity: how many cores' worth of work the CPUs do at once (see
# bench/run.sh), with two decimals.
parallel_capacity() {
	_cpus=$(getconf _NPROCESSORS_ONLN)
	_t0=$(date +%s%N)
	"$BIN/spin" > /dev/null
	_t1=$(date +%s%N)
	_i=0
	while [ $_i -lt "$_cpus" ]; do
		"$BIN/spin" > /dev/null &
		_i=$((_i + 1))
	done
	wait
	_t2=$(date +%s%N)
	awk -v c="$_cpus" -v a=$((_t1 - _t0)) -v b=$((_t2 - _t1)) \
		'BEGIN { printf "%.2f", (b > 0 ? c * a / b : 0) }'
}

BENCH_LOAD=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
