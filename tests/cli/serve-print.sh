#!/bin/sh
# SPDX-License-Identifier: MIT
# Printing from the web console (TAP): POST /api/print runs `certpress
# render … --print DEST` in-process as a job; GET /api/job/N?wait=1 waits
# for its end (a long poll: no sleeping). Against a real IPP printer, Debian's
# ippeveprinter on loopback with a private D-Bus bus (as tests/cli/print.sh
# starts it): the job completes, the printer spools the batch's PDF, the
# ledger records the certificates and the job; a second print of the same
# rows is refused by the ledger with the command's own message; bad
# destinations, modes and rows are refused before anything runs.
. "$(dirname "$0")/lib.sh"

ORG="$T_TOP/templates/org.conf"
export XDG_DATA_HOME="$T_TMP/xdg"
IN="$T_TMP/in"
mkdir -p "$IN" "$T_TMP/tmp"
cp -r "$T_TOP/templates/sample/photos" "$IN/photos"
head -n 4 "$T_TOP/templates/sample/batch.csv" >"$IN/small.csv" # header + 3 records
L="$T_TMP/ledger.sqlite"

stop_at_exit

if ! have curl || ! have python3 || ! have ippeveprinter || ! have dbus-daemon; then
	skip "curl, python3, ippeveprinter or dbus-daemon missing (scripts/deps.sh installs them)"
	done_testing
	exit $?
fi

# --- the printer (as tests/cli/print.sh) --------------------------------------
. "$(dirname "$0")/ipp.sh"
ipp_bus
if ! start_printer good /bin/true; then
	skip "ippeveprinter does not start here: $(tail -3 "$T_TMP/printer-good.log" 2>/dev/null)"
	done_testing
	exit $?
fi
GOOD=$URI
ok "an IPP printer on loopback"

# --- the console --------------------------------------------------------------
. "$(dirname "$0")/serve-lib.sh"
must_serve "serve --ledger starts" --org "$ORG" --ledger "$L" "$IN/small.csv"
CSRF=$(csrf_token)
P() { http -H "$H" -H "X-CSRF-Token: $CSRF" "$@" "$BASE/api/print"; }

# --- refused before anything runs ------------------------------------------------
http -H "$H" -F "dest=$GOOD" "$BASE/api/print"
code_is 403 "a print without the CSRF token is refused"
P -F "dest=-o/tmp/x"
code_is 400 "a destination that looks like an option is refused"
P -F "dest=ipp://localhost:1/ipp/print x"
code_is 400 "a destination with a space is refused"
P -F "dest=$GOOD" -F "mode=electronic"
code_is 400 "electronic is not a print mode"
P -F "dest=$GOOD" -F "rows=1-3"
code_is 400 "rows from 1 are refused (row 1 is the header)"
P -F "dest=$GOOD" -F "printer=../x"
code_is 400 "a printer profile name with a path is refused"
is "$(ls "$T_TMP/spool-good" | wc -l)" 0 "nothing reached the printer"

# --- a print ------------------------------------------------------------------------
P -F "dest=$GOOD" -F "rows=2-3" -F "mode=full"
code_is 202 "POST /api/print starts a job"
JOB=$(json 'j["job"]')
is "$JOB" 1 "job 1"
http -H "$H" "$BASE/api/job/$JOB?wait=1"
code_is 200 "GET /api/job/1?wait=1 answers when the job is done"
is "$(json 'j["state"], j["status"]')" "('done', 0)" "the job is done with status 0"
LOG=$(json 'j["log"]')
contains "$LOG" "wrote 2 certificates" "its log has render's own lines"
contains "$LOG" "on $GOOD (job 1" "and print's: the printer's job"
KEPT=$(ls "$T_TMP/out"/print-*.pdf 2>/dev/null)
is "$(printf '%s\n' "$KEPT" | grep -c .)" 1 "the printed PDF is kept in --output-dir"
spooled=$(ls "$T_TMP/spool-good"/*.pdf 2>/dev/null | head -1)
if [ -n "$spooled" ] && have pdfinfo; then
	is "$(pdfinfo "$spooled" | sed -n 's/^Pages: *//p')" 2 "the printer spooled a PDF of the 2 rows"
else
	not_ok "the printer spooled a PDF" "spool: $(ls "$T_TMP/spool-good")"
fi
CERT=$(sed -n 2p "$IN/small.csv" | cut -d, -f7)
"$CERTPRESS" ledger show --ledger "$L" "$CERT" >"$T_TMP/show" 2>&1
SHOW=$(cat "$T_TMP/show")
contains "$SHOW" "sent to printer $GOOD  job 1" "the ledger has the certificate and the printer's job"
contains "$SHOW" "printed (job completed)" "and how the job ended"
contains "$SHOW" "$KEPT page 1" "the ledger points at the kept PDF, not into the console's temporary folder"
CERT4=$(sed -n 4p "$IN/small.csv" | cut -d, -f7)
"$CERTPRESS" ledger show --ledger "$L" "$CERT4" >"$T_TMP/show4" 2>&1
lacks "$(cat "$T_TMP/show4")" "sent to printer" "row 4, not asked for, was not printed"

# --- the ledger refuses a second issue -----------------------------------------------
P -F "dest=$GOOD" -F "rows=2"
code_is 202 "a second job for row 2"
http -H "$H" "$BASE/api/job/2?wait=1"
is "$(json 'j["state"], j["status"]')" "('done', 1)" "it ends with status 1"
contains "$(json 'j["log"]')" "already issued" "the ledger's refusal is in its log"
is "$(ls "$T_TMP/spool-good"/*.pdf | wc -l)" 1 "nothing more reached the printer"
# --- the ledger: history, balance, a spoiled sheet printed again ------------------
http -H "$H" "$BASE/api/ledger?cert=$CERT"
code_is 200 "GET /api/ledger?cert= the certificate's history"
is "$(json 'j["history"].rstrip()')" "$(sed -e :a -e '/^\n*$/{$d;N;ba' -e '}' "$T_TMP/show")" "the history is ledger show's text"
"$CERTPRESS" ledger report --ledger "$L" --json >"$T_TMP/report.json"
http -H "$H" "$BASE/api/ledger"
same=$(python3 -c '
import json,sys
a=json.load(open(sys.argv[1]))["balance"]; b=json.load(open(sys.argv[2]))["balance"]; b.pop("at",None)
print("same" if a==b else "%r != %r" % (a,b))' "$T_TMP/body" "$T_TMP/report.json")
is "$same" same "the balance is ledger report's"
http -H "$H" "$BASE/api/ledger?cert=S0000440001232/../x"
code_is 400 "a certificate number with a path is refused"
http -H "$H" "$BASE/api/ledger?cert=S000044000123269999999"
code_is 404 "an unknown number: 404"
contains "$BODY" "S000044000123269999999" "naming it"
http -H "$H" -F "cert_no=$CERT" -F "reason=paper jam" "$BASE/api/ledger/spoil"
code_is 403 "a spoil without the CSRF token is refused"
http -H "$H" -H "X-CSRF-Token: $CSRF" -F "cert_no=$CERT" -F "reason=paper jam" "$BASE/api/ledger/spoil"
code_is 200 "POST /api/ledger/spoil records the spoiled sheet"
is "$(json 'j["recorded"]')" "recorded spoiled sheet $CERT" "with ledger spoil's own line"
http -H "$H" -H "X-CSRF-Token: $CSRF" -F "cert_no=$CERT" "$BASE/api/ledger/spoil"
code_is 400 "a spoil without a reason is refused"
"$CERTPRESS" ledger show --ledger "$L" "$CERT" >"$T_TMP/show2" 2>&1
contains "$(cat "$T_TMP/show2")" "paper jam" "ledger show has the spoiled sheet and its reason"
# Destroyed sheets (销毁): blank stock received, two destroyed as a range
# from the page's form, a sheet not received refused with nothing recorded.
"$CERTPRESS" ledger stock add --ledger "$L" --from GD2026000001 --to GD2026000010 >/dev/null 2>&1
http -H "$H" -F "serial=GD2026000009" -F "serial_to=GD2026000010" -F "reason=damp" "$BASE/api/ledger/destroy"
code_is 403 "a destruction without the CSRF token is refused"
D() { http -H "$H" -H "X-CSRF-Token: $CSRF" "$@" "$BASE/api/ledger/destroy"; }
D -F "serial=GD2026000009" -F "serial_to=GD2026000010"
code_is 400 "a destruction without a reason is refused"
D -F "serial=GD2026/../1" -F "reason=damp"
code_is 400 "a serial with a path is refused"
D -F "serial=GD2026000009" -F "serial_to=GD2026000010" -F "reason=damp"
code_is 200 "POST /api/ledger/destroy records two blank sheets destroyed"
is "$(json 'j["count"]')" 2 "it counts them"
is "$(json 'j["recorded"]')" "recorded destruction of 2 sheets" "with ledger destroy's own line"
D -F "serial=GD2026000099" -F "reason=damp"
code_is 409 "a sheet never received cannot be destroyed (409)"
"$CERTPRESS" ledger report --ledger "$L" --json >"$T_TMP/report-d.json"
is "$(python3 -c 'import json,sys; b=json.load(open(sys.argv[1]))["balance"]; print(b["received"], b["destroyed"], b["remaining"])' "$T_TMP/report-d.json")" \
	"10 2 8" "ledger report: 10 received, 2 destroyed, 8 remaining"

P -F "dest=$GOOD" -F "rows=2"
http -H "$H" "$BASE/api/job/3?wait=1"
is "$(json 'j["state"], j["status"]')" "('done', 0)" "the spoiled certificate prints again (job 3, status 0)"
is "$(ls "$T_TMP/spool-good"/*.pdf | wc -l)" 2 "the printer received it"

# --- an uploaded batch: its copy is kept with the PDF, for reprint and audit --------
# Rows 5-6 of the sample, uploaded with their photos as a zip: the upload
# lives in the console's private folder, which goes when it stops; the
# ledger must point at a copy in --output-dir that stays.
{ head -n 1 "$T_TOP/templates/sample/batch.csv"; sed -n 5,6p "$T_TOP/templates/sample/batch.csv"; } >"$IN/up.csv"
(cd "$IN" && python3 -c 'import zipfile,os
with zipfile.ZipFile("up-photos.zip","w") as z:
    for n in sorted(os.listdir("photos")): z.write("photos/"+n)')
http -H "$H" -H "X-CSRF-Token: $CSRF" -F "file=@$IN/up.csv" -F "photos=@$IN/up-photos.zip" "$BASE/api/load"
code_is 200 "an uploaded batch with its photos loads"
P -F "dest=$GOOD" -F "rows=2-3" -F "mode=full"
code_is 202 "a print of the uploaded batch starts"
UJOB=$(json 'j["job"]')
http -H "$H" "$BASE/api/job/$UJOB?wait=1"
is "$(json 'j["state"], j["status"]')" "('done', 0)" "the uploaded batch prints (status 0)"
UP=$(ls -d "$T_TMP/out"/input-*/ 2>/dev/null | head -1)
if [ -n "$UP" ] && cmp -s "$UP/up.csv" "$IN/up.csv"; then
	ok "the uploaded CSV is kept in --output-dir, byte for byte"
else
	not_ok "the uploaded CSV is kept in --output-dir" "$(ls -R "$T_TMP/out")"
fi
is "$(ls "$UP/photos" 2>/dev/null | wc -l)" "$(ls "$IN/photos" | wc -l)" "with its photos"
"$CERTPRESS" ledger report --json --ledger "$L" >"$T_TMP/inputs.json" 2>&1
is "$?" 0 "ledger report --json"
INPUTS=$(python3 -c 'import json,sys; print("\n".join(b["input"] or "" for b in json.load(open(sys.argv[1]))["batches"]))' "$T_TMP/inputs.json")
contains "$INPUTS" "${UP}up.csv" "the ledger's batch records the kept copy, under its uploaded name, as its input"
lacks "$INPUTS" "$T_TMP/tmp/" "no batch's input points into the console's temporary folder"
"$CERTPRESS" ledger export --csv --ledger "$L" >"$T_TMP/export.csv" 2>&1
is "$?" 0 "ledger export --csv"
contains "$(cat "$T_TMP/export.csv")" ",up-" "the uploaded batch is named after the uploaded file"
lacks "$(cat "$T_TMP/export.csv")" "$T_TMP/tmp/" "no output in the ledger points into the console's temporary folder"
http -H "$H" -H "X-CSRF-Token: $CSRF" -F "path=$IN/small.csv" "$BASE/api/load"
code_is 200 "small.csv loaded again by its path"

# The page's ledger part in a real browser: the balance line and, from the
# address's #cert=, that certificate's history (as tests/cli/console.sh).
CHROME=
for c in chromium chromium-browser; do have "$c" && CHROME=$c && break; done
if [ -n "$CHROME" ]; then
	root=
	[ "$(id -u)" = 0 ] && root=--no-sandbox
	SHOTS=${CONSOLE_SHOTS:-$T_TMP}
	case "$SHOTS" in /*) ;; *) SHOTS="$T_TOP/$SHOTS" ;; esac
	for what in --dump-dom "--screenshot=$SHOTS/console-ledger.png"; do
		# shellcheck disable=SC2086
		HOME="$T_TMP/home" timeout 120 "$CHROME" --headless $root --disable-gpu --disable-dev-shm-usage --no-first-run \
			--disable-background-networking --disable-component-update --disable-sync \
			--host-resolver-rules="MAP * ~NOTFOUND , EXCLUDE 127.0.0.1" \
			--user-data-dir="$T_TMP/chrome" --accept-lang=zh-CN --window-size=1500,1000 \
			--hide-scrollbars --virtual-time-budget=20000 "$what" "$URL#cert=$CERT" \
			>"$T_TMP/dom.html" 2>"$T_TMP/chrome.log"
		[ "$what" = --dump-dom ] && cp "$T_TMP/dom.html" "$T_TMP/dom-ledger.html"
	done
	DOM=$(cat "$T_TMP/dom-ledger.html")
	contains "$DOM" "台账 ledger.sqlite：" "the page shows the ledger's balance line"
	"$CERTPRESS" ledger report --ledger "$L" --json >"$T_TMP/report2.json"
	want=$(python3 -c 'import json,sys; b=json.load(open(sys.argv[1]))["balance"]; print("入库 %d，已发 %d，收回 %d，作废 %d，销毁 %d，余存 %d" % (b["received"],b["issued"],b["returned"],b["spoiled"],b["destroyed"],b["remaining"]))' "$T_TMP/report2.json")
	contains "$DOM" "$want" "with ledger report's balance ($want)"
	hist=$(python3 -c 'import re,sys,html; m=re.search(r"<pre id=\"history\">(.*?)</pre>", open(sys.argv[1]).read(), re.S); print(html.unescape(m.group(1)) if m else "")' "$T_TMP/dom-ledger.html")
	contains "$hist" "paper jam" "and #cert= shows the certificate's history with the spoiled sheet"
	is "$(file -b "$SHOTS/console-ledger.png" | cut -d, -f1-2)" "PNG image data, 1500 x 1000" "a screenshot of the ledger view"
else
	skip "chromium missing: the page's ledger view is not looked at"
fi

http -H "$H" "$BASE/api/job/9"
code_is 404 "no job 9"
http -H "$H" "$BASE/api/job/..%2f1"
code_is 400 "a job number that is not a number"

# --- stopped while a job prints -----------------------------------------------------
# A printer whose command tells the test it has the job, then waits for the
# test's go (FIFOs, as tests/cli/print.sh): the console is stopped meanwhile.
mkfifo "$T_TMP/started" "$T_TMP/gate"
printf '#!/bin/sh\necho started >"%s"\nread -r x <"%s"\n' "$T_TMP/started" "$T_TMP/gate" >"$T_TMP/hold.sh"
chmod +x "$T_TMP/hold.sh"
if start_printer held "$T_TMP/hold.sh"; then
	HELD=$URI
	# The test holds "started" open itself: a line written there stays
	# until read. Two things write one: the printer, once it has the job,
	# and, so that a job failing before it reaches the printer cannot leave
	# the test waiting for ever, a watcher that long-polls the job until it
	# is done or the console is gone.
	exec 4<>"$T_TMP/started"
	P -F "dest=$HELD" -F "rows=4"
	code_is 202 "a job for the held printer"
	HJOB=$(json 'j["job"]')
	(
		while curl -s -o "$T_TMP/held-job" -H "$H" "$BASE/api/job/$HJOB?wait=1" &&
			grep -q '"state":"running"' "$T_TMP/held-job"; do :; done
		echo ended
	) >&4 &
	WATCH=$!
	read -r x <&4
	if [ "$x" = started ]; then
		ok "the held printer has the job"
		kill -TERM "$PID"
		wait "$PID"
		is "$?" 0 "SIGTERM during a job stops the console cleanly"
		exec 3<>"$T_TMP/gate"; echo go >&3; exec 3>&-
		CERT4=$(sed -n 4p "$IN/small.csv" | cut -d, -f7)
		"$CERTPRESS" ledger show --ledger "$L" "$CERT4" >"$T_TMP/show4b" 2>&1
		contains "$(cat "$T_TMP/show4b")" "sent to printer $HELD" "the interrupted job is in the ledger"
	else
		not_ok "the held printer has the job" "the job ended first: $(head -c 600 "$T_TMP/held-job")"
		kill -TERM "$PID"
		wait "$PID"
	fi
	wait "$WATCH"
	exec 4>&-
else
	skip "the held printer does not start: the stop during a job is not tried"
	kill -TERM "$PID"
	wait "$PID"
	is "$?" 0 "the console stops cleanly"
fi
is "$(find "$T_TMP/tmp" -mindepth 1 | head -3)" "" "its temporary folder, with the uploads, is gone"
[ -f "$KEPT" ] && [ -f "$UP/up.csv" ] && ok "the kept PDF and input stay after it stops" ||
	not_ok "the kept PDF and input stay after it stops" "$(ls -R "$T_TMP/out")"

done_testing
