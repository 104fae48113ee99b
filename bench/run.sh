#!/bin/sh
# SPDX-License-Identifier: MIT
# make bench: times certpress on synthetic batches (bench/README.md).
#   BENCH_QUICK=1   skip the 100,000-certificate PDF
#   BENCH_RUNS=N    runs per cheap test (default 3; the median is reported)
. bench/lib.sh

QUICK=${BENCH_QUICK:-0}
[ "$QUICK" = 0 ] || QUICK=1
RUNS=${BENCH_RUNS:-3}
case $RUNS in '' | *[!0-9]* | 0) die "BENCH_RUNS must be a positive number" ;; esac

rm -f "$OUT"/*.runs "$OUT/results.tsv"
rm -rf "$OUT/old" # an interrupted bench's (set_aside)
: > "$OUT/results.tsv"

# What the processors give when all are busy: on shared or virtual machines
# two "CPUs" may be two threads of one core, which no program can make twice
# as fast. bench/spin.c runs a fixed integer loop; once alone, then once per
# CPU at the same time: cores' worth = CPUs x alone time / together time.
BENCH_PARALLEL=$(parallel_capacity)
echo "bench: the $(getconf _NPROCESSORS_ONLN) CPUs do the work of $BENCH_PARALLEL when all are busy" >&2

ensure_batch 100
ensure_batch 1000
ensure_batch 10000
[ "$QUICK" = 1 ] || ensure_batch 100000

# pdf NAME N RUNS [OPTION...]: every run prints into a fresh ledger, as a
# first print of the batch does (the ledger refuses numbers already issued),
# or into none at all with --no-ledger (a proof). Other options go to render.
pdf() {
	_name=$1 _n=$2 _runs=$3
	shift 3
	case " $* " in
	*" --no-ledger "*) ;;
	*) set -- --ledger "$OUT/$_name.ledger" "$@" ;;
	esac
	_i=0
	while [ $_i -lt "$_runs" ]; do
		run_once "$_name" "rm -f '$OUT/$_name.pdf' '$OUT/$_name.ledger'*" \
			"$CERTPRESS" render --org "$ORG" "$@" -o "$OUT/$_name.pdf" \
			"${PDF_CSV:-$CACHE/batch-$_n.csv}"
		_i=$((_i + 1))
	done
	set -- "$_name" "$_n"
	record "$1" pdf "$2" $(pdf_bytes "$OUT/$1.pdf" "$2")
	# 100k pages are hundreds of MB: keep only what is cheap to keep.
	[ "$2" -lt 100000 ] || rm -f "$OUT/$1.pdf"
}

echo "bench: PDF, 1,000 certificates ($RUNS runs)" >&2
pdf pdf-1k 1000 "$RUNS"
echo "bench: PDF, 1,000 certificates, --no-ledger ($RUNS runs)" >&2
pdf pdf-1k-proof 1000 "$RUNS" --no-ledger
echo "bench: PDF, 10,000 certificates ($RUNS runs)" >&2
pdf pdf-10k 10000 "$RUNS"
echo "bench: PDF, 10,000 certificates, one worker thread ($RUNS runs)" >&2
pdf pdf-10k-1job 10000 "$RUNS" --jobs 1
# The same 10,000 with a photo per holder, as a real batch has (the other
# rows reuse 50): what reading, checking (every byte decoded) and hashing
# each photo costs.
ensure_own 10000
echo "bench: PDF, 10,000 certificates, a photo each ($RUNS runs)" >&2
PDF_CSV=$CACHE/own-10000.csv
pdf pdf-10k-own 10000 "$RUNS"
unset PDF_CSV
# The same 10,000 recorded on a PostgreSQL server instead of the SQLite file
# (a throwaway server on a Unix socket, tests/common/pg.sh; a fresh database
# for each run): against pdf-10k, what the shared ledger costs.
. tests/common/pg.sh
if pg_start; then
	echo "bench: PDF, 10,000 certificates, ledger on PostgreSQL ($RUNS runs)" >&2
	_pg="host=$PG_DIR user=cp dbname=bench"
	_i=0
	while [ $_i -lt "$RUNS" ]; do
		run_once pdf-10k-pg "rm -f '$OUT/pdf-10k-pg.pdf'; PGOPTIONS='-c client_min_messages=warning' pg_sql postgres 'DROP DATABASE IF EXISTS bench' &&
			pg_sql postgres 'CREATE DATABASE bench' &&
			'$CERTPRESS' ledger init --ledger '$_pg' >/dev/null" \
			"$CERTPRESS" render --org "$ORG" --ledger "$_pg" -o "$OUT/pdf-10k-pg.pdf" \
			"$CACHE/batch-10000.csv"
		_i=$((_i + 1))
	done
	record pdf-10k-pg pdf 10000 $(pdf_bytes "$OUT/pdf-10k-pg.pdf" 10000)
	pg_stop
else
	echo "bench: no PostgreSQL row: $PG_WHY" >&2
fi
if [ "$QUICK" = 0 ]; then
	echo "bench: PDF, 100,000 certificates (1 run)" >&2
	pdf pdf-100k 100000 1
fi

# The signed QR code (profile [signing] qr_signed = yes, a fresh test seal):
# against pdf-1k, the token's cost (COSE_Sign1, ES256) and the larger QR.
_d="$OUT/pdf-1k-qr-signed.seal"
rm -rf "$_d" && mkdir -p "$_d"
"$CERTPRESS" keys new --name "benchmark seal" --key "$_d/seal.key" --cert "$_d/seal.pem" \
	2>/dev/null || die "pdf-1k-qr-signed: keys new failed"
sed "s|^seal = .*|seal = $(pwd)/templates/seal.png|" "$ORG" >"$_d/org.conf"
printf '\n[signing]\ncertificate = seal.pem\nkey = seal.key\nqr_signed = yes\n' >>"$_d/org.conf"
echo "bench: PDF, 1,000 certificates with the signed QR code ($RUNS runs)" >&2
ORG_SAVED=$ORG
ORG="$_d/org.conf"
pdf pdf-1k-qr-signed 1000 "$RUNS"
ORG=$ORG_SAVED

echo "bench: check, 10,000 certificates ($RUNS runs)" >&2
_i=0
while [ $_i -lt "$RUNS" ]; do
	run_once check-10k : "$CERTPRESS" check --org "$ORG" "$CACHE/batch-10000.csv"
	_i=$((_i + 1))
done
record check-10k check 10000 "" ""

# The same batch as an .xlsx workbook (bench/csv2xlsx.py: shared strings,
# date cells): against check-10k, what reading the workbook costs (target:
# within 2x). Both must find the same records valid.
ensure_xlsx 10000
echo "bench: check, 10,000 certificates from an .xlsx ($RUNS runs)" >&2
_i=0
while [ $_i -lt "$RUNS" ]; do
	run_once check-10k-xlsx : "$CERTPRESS" check --org "$ORG" "$CACHE/batch-10000.xlsx"
	_i=$((_i + 1))
done
_counts() { tail -n 1 "$OUT/$1.log" | sed -n 's/.*: \([0-9]* records, [0-9]* valid, [0-9]* refused\).*/\1/p'; }
[ -n "$(_counts check-10k)" ] && [ "$(_counts check-10k)" = "$(_counts check-10k-xlsx)" ] ||
	die "check-10k-xlsx: \"$(_counts check-10k-xlsx)\", the CSV \"$(_counts check-10k)\""
record check-10k-xlsx check 10000 "" ""

# png NAME RUNS [OPTION...]: 100 electronic certificates as a PNG folder.
png() {
	_name=$1 _runs=$2
	shift 2
	_i=0
	while [ $_i -lt "$_runs" ]; do
		run_once "$_name" "set_aside '$OUT/$_name'; rm -f '$OUT/$_name.ledger'*" \
			"$CERTPRESS" render --org "$ORG" --ledger "$OUT/$_name.ledger" --dpi 300 "$@" \
			-o "$OUT/$_name" "$CACHE/batch-100.csv"
		_i=$((_i + 1))
	done
	_n=$(find "$OUT/$_name" -name '*.png' | wc -l)
	[ "$_n" -eq 100 ] || die "$_name: $_n PNG files written, expected 100"
	record "$_name" png 100 $(($(cat "$OUT/$_name"/*.png | wc -c) / 100)) ""
}

# The per-core figure with one worker: two threads on two CPUs that are one
# core's two hyperthreads each run slower, and their CPU time would count
# that contention as work. The second row is what the operator waits for.
echo "bench: PNG 300 dpi, 100 certificates, one worker thread ($RUNS runs)" >&2
png png-100 "$RUNS" --jobs 1
echo "bench: PNG 300 dpi, 100 certificates, a worker per CPU ($RUNS runs)" >&2
png png-100-all "$RUNS"

# signed NAME RUNS [OPTION...]: 1,000 electronic certificates as one signed PDF
# per holder (render --format pdf), with a fresh test seal key; bytes per file.
signed() {
	_name=$1 _runs=$2
	shift 2
	_d="$OUT/$_name.seal"
	rm -rf "$_d" && mkdir -p "$_d"
	"$CERTPRESS" keys new --name "benchmark seal" --key "$_d/seal.key" --cert "$_d/seal.pem" \
		2>/dev/null || die "$_name: keys new failed"
	sed "s|^seal = .*|seal = $(pwd)/templates/seal.png|" "$ORG" >"$_d/org.conf"
	printf '\n[signing]\ncertificate = seal.pem\nkey = seal.key\n' >>"$_d/org.conf"
	_i=0
	while [ $_i -lt "$_runs" ]; do
		run_once "$_name" "set_aside '$OUT/$_name'; rm -f '$OUT/$_name.ledger'* && mkdir '$OUT/$_name'" \
			"$CERTPRESS" render --org "$_d/org.conf" --ledger "$OUT/$_name.ledger" \
			--mode electronic --format pdf "$@" -o "$OUT/$_name/" "$CACHE/batch-1000.csv"
		_i=$((_i + 1))
	done
	_n=$(find "$OUT/$_name" -name '*.pdf' | wc -l)
	[ "$_n" -eq 1000 ] || die "$_name: $_n PDF files written, expected 1000"
	record "$_name" signed 1000 $(($(cat "$OUT/$_name"/*.pdf | wc -c) / 1000)) ""
}

echo "bench: signed per-holder PDFs, 1,000 certificates ($RUNS runs)" >&2
signed signed-1k "$RUNS"

# A single preview from a 1,000-row batch, the whole process as the operator
# waits for it: start-up and fonts, reading and checking every row (the
# rules need the others, such as duplicate numbers), laying out and drawing
# one page, writing the PNG.
echo "bench: PNG preview of row 5 of 1,000 records ($RUNS runs)" >&2
_i=0
while [ $_i -lt "$RUNS" ]; do
	run_once preview-1k "rm -f '$OUT/preview-1k.png'" \
		"$CERTPRESS" render --org "$ORG" --row 5 -o "$OUT/preview-1k.png" "$CACHE/batch-1000.csv"
	_i=$((_i + 1))
done
record preview-1k png 1 "$(wc -c < "$OUT/preview-1k.png")" ""

{
	echo "{"
	printf '  "quick": %s,\n' "$([ "$QUICK" = 1 ] && echo true || echo false)"
	machine_json
	awk -f bench/report.awk -v mode=json "$OUT/results.tsv"
	echo "}"
} > bench/results.json.tmp
mv bench/results.json.tmp bench/results.json

rm -rf "$OUT/old"

echo
echo "certpress benchmark: $(getconf _NPROCESSORS_ONLN) CPUs ($BENCH_PARALLEL cores' worth" \
	"when all are busy), load $BENCH_LOAD at start; median of $RUNS run(s) each, 100k: 1 run"
awk -f bench/report.awk -v mode=table "$OUT/results.tsv"
echo "(written to bench/results.json)"
