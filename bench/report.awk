# SPDX-License-Identifier: MIT
# Turns bench/cache/out/results.tsv into the table (mode=table) or the
# "results" and "targets" members of bench/results.json (mode=json).
# Columns: name kind n wall user sys maxrss_kb runs bytes other_bytes.
# The targets are those of the issue "Benchmark and speed", raised and
# extended by issue 19 (2,500 PDF certificates/s at 10,000; the rows of
# other issues that must stay inside their targets: the signed QR code).

BEGIN { FS = "\t" }

{
	k = NR
	name[k] = $1; kind[k] = $2; n[k] = $3; wall[k] = $4; user[k] = $5; sys[k] = $6
	rss[k] = $7; runs[k] = $8; bytes[k] = $9; other[k] = $10
	idx[$1] = k
}

function rate(k) { return wall[k] > 0 ? n[k] / wall[k] : 0 }
function msper(k) { return wall[k] * 1000 / n[k] }
function cpuper(k) { return (user[k] + sys[k]) * 1000 / n[k] }
function mb(kb) { return kb / 1024 }

# target(label, value, limit, op, unit): remembers one target line.
function target(label, value, limit, op, unit) {
	nt++
	tl[nt] = label; tv[nt] = value; tlim[nt] = limit; top[nt] = op; tu[nt] = unit
	tmet[nt] = op == ">=" ? value >= limit : value <= limit
}

END {
	# The PDF speed target is judged on the largest batch timed as a median.
	pk = ("pdf-10k" in idx) ? idx["pdf-10k"] : idx["pdf-1k"]
	if (pk) {
		target("PDF certificates/s (" name[pk] ", end to end)", rate(pk), 2500, ">=", "")
		target("PDF bytes per page without photos (" name[pk] ")", other[pk], 5120, "<=",
		       " B")
	}
	if ("png-100" in idx) {
		g = idx["png-100"]
		target("PNG 300 dpi CPU ms per certificate (per core)", cpuper(g), 25, "<=", " ms")
	}
	if ("preview-1k" in idx) {
		v = idx["preview-1k"]
		target("single PNG preview of 1,000 rows, whole process", msper(v), 150, "<=", " ms")
	}
	if (("check-10k-xlsx" in idx) && ("check-10k" in idx))
		target("check of .xlsx / check of CSV, wall (check-10k-xlsx)",
		       wall[idx["check-10k-xlsx"]] / wall[idx["check-10k"]], 2, "<=", "")
	if (("pdf-1k-qr-signed" in idx) && ("pdf-1k" in idx))
		target("signed QR code, CPU ms per certificate over pdf-1k",
		       cpuper(idx["pdf-1k-qr-signed"]) - cpuper(idx["pdf-1k"]), 0.3, "<=", " ms")
	if ("signed-1k" in idx)
		target("signed per-holder PDFs/s (signed-1k, signing included)",
		       rate(idx["signed-1k"]), 500, ">=", "")
	big = ("pdf-100k" in idx) ? idx["pdf-100k"] : idx["pdf-10k"]
	small = idx["pdf-1k"]
	if (big && small) {
		target("peak RSS MB (" name[big] ")", mb(rss[big]), 100, "<=", " MB")
		ratio = rss[big] / rss[small]
		target("RSS(" name[big] ") / RSS(pdf-1k)", ratio, 1.2, "<=", "")
	}

	if (mode == "table") {
		printf "%-16s %7s %4s %9s %9s %8s %8s %8s %10s %10s\n", "test", "certs", "runs",
		       "wall s", "certs/s", "ms/cert", "cpu ms", "RSS MB", "bytes/cert",
		       "w/o photo"
		for (k = 1; k <= NR; k++)
			printf "%-16s %7d %4d %9.3f %9.1f %8.3f %8.3f %8.1f %10s %10s\n", name[k],
			       n[k], runs[k], wall[k], rate(k), msper(k), cpuper(k), mb(rss[k]),
			       bytes[k] == "" ? "-" : bytes[k], other[k] == "" ? "-" : other[k]
		print ""
		print "targets:"
		for (t = 1; t <= nt; t++)
			printf "  %-52s %10.2f%s %s %g%s  %s\n", tl[t], tv[t], tu[t], top[t], tlim[t],
			       tu[t], tmet[t] ? "met" : "NOT MET"
		exit
	}

	print "  \"results\": ["
	for (k = 1; k <= NR; k++) {
		printf "    {\"name\": \"%s\", \"kind\": \"%s\", \"certificates\": %d, \"runs\": %d, ",
		       name[k], kind[k], n[k], runs[k]
		printf "\"wall_s\": %.4f, \"user_s\": %.4f, \"sys_s\": %.4f, ", wall[k], user[k],
		       sys[k]
		printf "\"certificates_per_s\": %.1f, \"ms_per_certificate\": %.4f, ", rate(k),
		       msper(k)
		printf "\"cpu_ms_per_certificate\": %.4f, \"peak_rss_kb\": %d", cpuper(k), rss[k]
		if (bytes[k] != "")
			printf ", \"bytes_per_certificate\": %d", bytes[k]
		if (other[k] != "")
			printf ", \"non_photo_bytes_per_certificate\": %d", other[k]
		printf "}%s\n", k < NR ? "," : ""
	}
	print "  ],"
	if (big && small)
		printf "  \"rss_ratio\": {\"of\": \"%s\", \"to\": \"pdf-1k\", \"value\": %.3f},\n",
		       name[big], ratio
	print "  \"targets\": ["
	for (t = 1; t <= nt; t++)
		printf "    {\"target\": \"%s\", \"value\": %.3f, \"limit\": %g, \"op\": \"%s\", " \
		       "\"met\": %s}%s\n", tl[t], tv[t], tlim[t], top[t], tmet[t] ? "true" : "false",
		       t < nt ? "," : ""
	print "  ]"
}
