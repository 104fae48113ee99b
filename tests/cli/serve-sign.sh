#!/bin/sh
# SPDX-License-Identifier: MIT
# Electronic certificates from the web console (TAP): POST /api/electronic
# runs `certpress render --mode electronic --format pdf` in-process as a
# job with a test seal (`keys new --org` into a scratch copy of
# templates/org-signed.conf, as tests/cli/sign.sh does); GET
# /api/job/N?wait=1 waits for its end; GET /api/job/N/zip downloads the
# zip, whose per-holder PDFs all pass `certpress verify`. A row refused by
# the rules makes no zip.
. "$(dirname "$0")/lib.sh"

export XDG_DATA_HOME="$T_TMP/xdg"
W="$T_TMP/w"
mkdir -p "$W" "$T_TMP/tmp"
cp "$T_TOP/templates/org-signed.conf" "$T_TOP/templates/seal.png" "$W/"
cp -r "$T_TOP/templates/sample/photos" "$W/photos"
head -n 4 "$T_TOP/templates/sample/batch.csv" >"$W/small.csv"
ORG="$W/org-signed.conf"
L="$T_TMP/ledger.sqlite"

stop_at_exit

if ! have curl || ! have python3; then
	skip "curl or python3 missing (scripts/deps.sh installs them)"
	done_testing
	exit $?
fi
run keys new --org "$ORG"
expect_status 0 "keys new --org makes the test seal the profile names"

. "$(dirname "$0")/serve-lib.sh"
must_serve "serve starts with the signing profile" --org "$ORG" --ledger "$L" "$W/small.csv"
CSRF=$(csrf_token)
E() { http -H "$H" -H "X-CSRF-Token: $CSRF" "$@" "$BASE/api/electronic"; }

http -H "$H" -F "rows=2-4" "$BASE/api/electronic"
code_is 403 "without the CSRF token: refused"
E -F "rows=2-4" -F "dest=ipp://localhost:1/ipp/print"
code_is 400 "electronic certificates take no printer"
E -F "rows=2-4"
code_is 202 "POST /api/electronic starts a job"
JOB=$(json 'j["job"]')
http -H "$H" "$BASE/api/job/$JOB?wait=1"
is "$(json 'j["state"], j["status"], j["zip"]')" "('done', 0, True)" "the job is done, status 0, with a zip"
contains "$(json 'j["log"]')" "wrote 3 certificates" "its log has render's own line"
http -H "$H" "$BASE/api/job/$JOB/zip"
code_is 200 "GET /api/job/$JOB/zip"
contains "$(cat "$T_TMP/headers")" "Content-Type: application/zip" "served as a zip"
contains "$(cat "$T_TMP/headers")" "Content-Disposition: attachment; filename=\"certificates-$JOB.zip\"" "as a download"
mkdir -p "$T_TMP/unzipped"
names=$(python3 - "$T_TMP/body" "$T_TMP/unzipped" <<'EOF'
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
bad = z.testzip()
if bad: print("bad member", bad); sys.exit()
z.extractall(sys.argv[2])
print(" ".join(sorted(z.namelist())))
EOF
)
want=$(tail -n +2 "$W/small.csv" | cut -d, -f7 | sed 's/$/.pdf/' | sort | tr '\n' ' ' | sed 's/ $//')
is "$names" "$want" "the zip holds one PDF per holder, named by certificate number"
run verify --org "$ORG" "$T_TMP"/unzipped/*.pdf
expect_status 0 "certpress verify passes every PDF of the zip"
kept=$(ls -d "$T_TMP/out"/electronic-*/ 2>/dev/null | head -1)
is "$(cd "${kept:-/nonexistent}" 2>/dev/null && ls *.pdf | sort | tr '\n' ' ')" "$(cd "$T_TMP/unzipped" && ls *.pdf | sort | tr '\n' ' ')" \
	"the signed files are kept in --output-dir, the ledger's record of them"
http --path-as-is -H "$H" "$BASE/api/job/$JOB/zip/../../1"
code_is 400 "a job path with .. after it is refused"
http -H "$H" "$BASE/api/job/7/zip"
code_is 404 "no zip for a job that does not exist"

# A refused row: no zip.
sed '3s/S000044000123264000001/S000099000123264000001/' "$W/small.csv" >"$W/bad.csv"
http -H "$H" -H "X-CSRF-Token: $CSRF" -F "path=$W/bad.csv" "$BASE/api/load"
code_is 200 "a batch with a refused row loads"
E -F "rows=3"
JOB=$(json 'j["job"]')
http -H "$H" "$BASE/api/job/$JOB?wait=1"
is "$(json 'j["status"], j["zip"]')" "(1, False)" "a refused row ends with status 1 and no zip"
contains "$(json 'j["log"]')" "cert_no.prefix" "the log names the rule"
http -H "$H" "$BASE/api/job/$JOB/zip"
code_is 404 "and there is nothing to download"

kill -TERM "$PID"
wait "$PID"
is "$?" 0 "the console stops cleanly"
is "$(find "$T_TMP/tmp" -mindepth 1 | head -3)" "" "the signed files and the zip are gone with it"
done_testing
