#!/bin/sh
# SPDX-License-Identifier: MIT
# make bench-peers: certpress against Typst on the same 1,000 certificates
# (bench/README.md). Installs what it needs on first use: Typst's Node
# binding from npm into bench/cache/node_modules (never globally) and
# Debian's qrencode (apt-get, when missing).
#   BENCH_RUNS=N    runs of each (default 3; the median is reported)
. bench/lib.sh

TYPST_PKG=@myriaddreamin/typst-ts-node-compiler
TYPST_VERSION=0.7.0
N=1000
RUNS=${BENCH_RUNS:-3}
case $RUNS in '' | *[!0-9]* | 0) die "BENCH_RUNS must be a positive number" ;; esac

# --------------------------------------------------------------- tools
command -v node > /dev/null 2>&1 || die "node (Node.js) is needed: apt-get install nodejs npm"
if [ ! -f "$CACHE/node_modules/$TYPST_PKG/package.json" ] ||
	! grep -q "\"version\": \"$TYPST_VERSION\"" "$CACHE/node_modules/$TYPST_PKG/package.json"; then
	command -v npm > /dev/null 2>&1 || die "npm is needed: apt-get install npm"
	echo "bench: installing $TYPST_PKG@$TYPST_VERSION into $CACHE/node_modules" >&2
	[ -f "$CACHE/package.json" ] || echo '{ "private": true }' > "$CACHE/package.json"
	npm install --prefix "$CACHE" --no-audit --no-fund --silent \
		"$TYPST_PKG@$TYPST_VERSION" || die "npm install $TYPST_PKG failed"
fi
if ! command -v qrencode > /dev/null 2>&1; then
	[ "$(id -u)" = 0 ] || die "qrencode is needed: apt-get install qrencode (as root)"
	echo "bench: installing qrencode" >&2
	{ apt-get install -y -qq qrencode || { apt-get update -qq && apt-get install -y -qq qrencode; }; } \
		> "$OUT/apt.log" 2>&1 || die "apt-get install qrencode failed (see $OUT/apt.log)"
fi

# ---------------------------------------------------------------- data
ensure_batch "$N" tsv
# QR images for Typst, outside the timing: the profile's QR content, the
# symbol at error-correction level M as certpress's default.
if [ ! -f "$CACHE/qr/done-$N" ]; then
	echo "bench: encoding $N QR images" >&2
	mkdir -p "$CACHE/qr"
	tail -n +2 "$CACHE/batch-$N.tsv" | cut -f 7,12 |
	while IFS="$(printf '\t')" read -r cert qr; do
		qrencode -l M -s 1 -m 0 -o "$CACHE/qr/$cert.png" "$qr" || exit 1
	done || die "qrencode failed"
	: > "$CACHE/qr/done-$N"
fi
# Typst gets the fonts certpress loads: those of fonts/fonts.manifest.
rm -rf "$CACHE/typst-fonts"
mkdir -p "$CACHE/typst-fonts"
grep -v '^#' fonts/fonts.manifest | awk 'NF { print $1 }' | while read -r f; do
	case $f in /*) ;; *) f=$(pwd)/fonts/$f ;; esac
	[ -f "$f" ] || die "font $f (fonts/fonts.manifest) is missing: make deps"
	ln -s "$f" "$CACHE/typst-fonts/"
done

# --------------------------------------------------------------- timing
# Alternating runs, so that both see the same machine state.
rm -f "$OUT"/peer-*.runs "$OUT/results.tsv" "$OUT/typst-split.txt"
: > "$OUT/results.tsv"
TOP=$(pwd)
_i=0
while [ $_i -lt "$RUNS" ]; do
	echo "bench: run $((_i + 1)) of $RUNS: certpress, then Typst ($N certificates)" >&2
	run_once peer-certpress "rm -f '$OUT/peer-certpress.pdf' '$OUT/peer-certpress.ledger'*" \
		"$CERTPRESS" render --org "$ORG" --ledger "$OUT/peer-certpress.ledger" \
		-o "$OUT/peer-certpress.pdf" "$CACHE/batch-$N.csv"
	run_once peer-typst "rm -f '$OUT/peer-typst.pdf'" \
		node bench/typst-compile.mjs "$TOP/$CACHE" "$TOP/bench" "$TOP/bench/certificate.typ" \
		"/cache/batch-$N.tsv" "$OUT/peer-typst.pdf" "$TOP/$CACHE/typst-fonts"
	tail -n 1 "$OUT/peer-typst.log" >> "$OUT/typst-split.txt"
	_i=$((_i + 1))
done
record peer-certpress pdf "$N" $(pdf_bytes "$OUT/peer-certpress.pdf" "$N")
record peer-typst pdf "$N" $(pdf_bytes "$OUT/peer-typst.pdf" "$N")

# Typst's own split (median of compile + pdf): its render step without Node's
# start-up and font loading.
STEP=$(awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
	      print v["compile_ms"] + v["pdf_ms"], v["setup_ms"] }' "$OUT/typst-split.txt" |
	sort -n | awk '{ s[NR] = $0 } END { print s[int((NR + 1) / 2)] }')

awk -v step="$STEP" -v n="$N" -v cpus="$(getconf _NPROCESSORS_ONLN)" \
	-v load="$BENCH_LOAD" -v runs="$RUNS" '
BEGIN { FS = "\t"; split(step, st, " ") }
{ name[NR] = $1; wall[NR] = $4; cpu[NR] = $5 + $6; rss[NR] = $7; bytes[NR] = $9; other[NR] = $10 }
END {
	cp = n / wall[1]; ty = n / wall[2]; tystep = n / (st[1] / 1000)
	printf "certpress vs Typst: %d certificates, %d CPUs, load %s at start, median of %d run(s)\n",
	       n, cpus, load, runs
	printf "%-26s %9s %9s %8s %8s %10s %10s\n", "", "wall s", "certs/s", "cpu ms", "RSS MB",
	       "bytes/cert", "w/o photo"
	printf "%-26s %9.3f %9.1f %8.3f %8.1f %10d %10d\n", "certpress render (PDF)", wall[1], cp,
	       cpu[1] * 1000 / n, rss[1] / 1024, bytes[1], other[1]
	printf "%-26s %9.3f %9.1f %8.3f %8.1f %10d %10d\n", "Typst (whole process)", wall[2], ty,
	       cpu[2] * 1000 / n, rss[2] / 1024, bytes[2], other[2]
	printf "%-26s %9.3f %9.1f %8s %8s %10s %10s\n", "Typst (compile + pdf only)", st[1] / 1000,
	       tystep, "-", "-", "-", "-"
	printf "\nratio certpress/Typst in certificates/s: %.2f (whole process), %.2f (against " \
	       "Typst'\''s render step; target >= 3)\n", cp / ty, cp / tystep
	printf "{\n  \"certificates\": %d, \"runs\": %d, \"cpus\": %d, \"loadavg_at_start\": \"%s\",\n",
	       n, runs, cpus, load > "bench/results-peers.json.tmp"
	printf "  \"certpress\": {\"wall_s\": %.4f, \"certificates_per_s\": %.1f, \"peak_rss_kb\": %d, " \
	       "\"bytes_per_certificate\": %d, \"non_photo_bytes_per_certificate\": %d},\n",
	       wall[1], cp, rss[1], bytes[1], other[1] > "bench/results-peers.json.tmp"
	printf "  \"typst\": {\"version\": \"typst.ts node compiler '"$TYPST_VERSION"'\", " \
	       "\"wall_s\": %.4f, \"certificates_per_s\": %.1f, \"render_step_s\": %.4f, " \
	       "\"setup_s\": %.4f, \"render_step_certificates_per_s\": %.1f, \"peak_rss_kb\": %d, " \
	       "\"bytes_per_certificate\": %d, \"non_photo_bytes_per_certificate\": %d},\n",
	       wall[2], ty, st[1] / 1000, st[2] / 1000, tystep, rss[2], bytes[2], other[2] \
	       > "bench/results-peers.json.tmp"
	printf "  \"ratio_whole_process\": %.3f, \"ratio_render_step\": %.3f, " \
	       "\"target_ratio\": 3, \"met\": %s\n}\n", cp / ty, cp / tystep,
	       (cp / tystep >= 3 ? "true" : "false") > "bench/results-peers.json.tmp"
}' "$OUT/results.tsv"
mv bench/results-peers.json.tmp bench/results-peers.json
echo "(written to bench/results-peers.json)"
