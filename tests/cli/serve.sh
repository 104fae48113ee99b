#!/bin/sh
# SPDX-License-Identifier: MIT
# End-to-end tests of `certpress serve`, the web console, over HTTP with curl
# (TAP): the address line, the security model (token, cookie, Host, CSRF,
# methods), loading a batch by path and by upload with the same report as
# `certpress check --json`, bounded uploads and paths, previews as PNG, ID
# numbers masked, and a clean stop that removes the private upload folder.
# The server is waited for through a FIFO (its one address line), never by
# sleeping, and stopped on exit.
. "$(dirname "$0")/lib.sh"

ORG="$T_TOP/templates/org.conf"
export XDG_DATA_HOME="$T_TMP/xdg" # never the operator's own ledger
SAMPLE="$T_TOP/templates/sample/batch.csv"
export TMPDIR_SERVE="$T_TMP/tmp"

stop_at_exit

# --- usage -----------------------------------------------------------------
run serve
expect_status 2 "serve without --org is a usage error"
contains "$T_ERR" "--org PROFILE is required" "the missing profile is named"
run serve --org "$ORG" --port 70000
expect_status 2 "a port over 65535 is refused"
run serve --org "$ORG" --port 1 --port 2
expect_status 2 "a repeated --port is an error"
run serve --org "$ORG" a.csv b.csv
expect_status 2 "two data files are refused"
run serve --org "$ORG" "$T_TMP/missing.csv"
expect_status 2 "a data file that does not exist stops the start"
contains "$T_ERR" "missing.csv" "the file is named"
run serve --org "$ORG" --lang fr
expect_status 2 "--lang fr is refused"
contains "$T_ERR" "--lang is zh or en" "the two languages are named"

if ! have curl || ! have python3; then
	skip "curl or python3 missing (scripts/deps.sh installs them)"
	done_testing
	exit $?
fi

. "$(dirname "$0")/serve-lib.sh"

must_serve "serve prints one line: certpress serve: open http://127.0.0.1:PORT/?token=(64 hex digits)" \
	--org "$ORG" "$SAMPLE"

# --- the token -----------------------------------------------------------------
http "$BASE/"
code_is 403 "the page without the token is refused"
http "$BASE/api/batch"
code_is 403 "the API without the token is refused"
contains "$BODY" "token" "the refusal says why"
http "$BASE/api/batch?token=0000$TOKEN"
code_is 403 "a wrong token is refused"
case "$TOKEN" in *0) last=1 ;; *) last=0 ;; esac
http "$BASE/api/preview?row=2&token=$(printf '%s' "$TOKEN" | cut -c1-63)$last"
code_is 403 "a token differing in its last digit is refused"
http "$BASE/?token=$TOKEN"
code_is 200 "the page with the token in its address is served"
HDRS=$(cat "$T_TMP/headers")
contains "$HDRS" "Set-Cookie: certpress_$PORT=$TOKEN; HttpOnly; SameSite=Strict; Path=/" "the token becomes an HttpOnly SameSite=Strict cookie"
contains "$HDRS" "Content-Security-Policy: default-src 'self'" "Content-Security-Policy: default-src 'self'"
contains "$HDRS" "X-Content-Type-Options: nosniff" "X-Content-Type-Options: nosniff"
contains "$HDRS" "Referrer-Policy: no-referrer" "Referrer-Policy: no-referrer"
contains "$HDRS" "Cache-Control: no-store" "Cache-Control: no-store"
lacks "$BODY" "<script>" "the page has no inline script"
CSRF=$(sed -n 's/.*name="csrf-token" content="\([0-9a-f]\{64\}\)".*/\1/p' "$T_TMP/body")
if [ -n "$CSRF" ] && [ "$CSRF" != "$TOKEN" ]; then ok "the page carries a CSRF token of its own"
else not_ok "the page carries a CSRF token of its own" "csrf: $CSRF"; fi
curl -s -o /dev/null -c "$T_TMP/jar" "$BASE/?token=$TOKEN"
http -b "$T_TMP/jar" "$BASE/api/batch"
code_is 200 "the cookie alone opens the API"
http -H "$H" "$BASE/app.js"
code_is 200 "the script is its own file"
contains "$(grep -i '^content-type' "$T_TMP/headers")" "text/javascript" "served as JavaScript"
for a in / /app.js /app.css; do
	curl -s -H "$H" "$BASE$a" | grep -o -E '(https?:)?//[A-Za-z0-9.-]+' | grep -v -E '^//?$' >>"$T_TMP/ext" || true
done
is "$(sort -u "$T_TMP/ext" | tr '\n' ' ')" "" "page, script and style fetch nothing from another host (no CDN, no web fonts)"

# --- Host (DNS rebinding) and methods ------------------------------------------
http -H "$H" -H "Host: evil.example:$PORT" "$BASE/api/batch"
code_is 403 "another host name is refused, even with the token"
http -H "$H" -H "Host: 127.0.0.1:1$PORT" "$BASE/api/batch"
code_is 403 "another port in Host is refused"
http -H "$H" -H "Host: localhost:$PORT" "$BASE/api/batch"
code_is 200 "localhost:PORT is this console"
http -X PUT -H "$H" "$BASE/api/batch"
code_is 405 "PUT is not served"

# --- CSRF -------------------------------------------------------------------------
http -H "$H" -F "path=$SAMPLE" "$BASE/api/load"
code_is 403 "a POST without X-CSRF-Token is refused"
contains "$BODY" "X-CSRF-Token" "the refusal names the header"
http -H "$H" -H "X-CSRF-Token: $TOKEN" -F "path=$SAMPLE" "$BASE/api/load"
code_is 403 "the access token is not the CSRF token"
http -b "$T_TMP/jar" -H "X-CSRF-Token: $CSRF" -F "path=$SAMPLE" "$BASE/api/load?token=$TOKEN"
code_is 200 "cookie and CSRF header: the load is done"
http -H "X-CSRF-Token: $CSRF" -F "path=$SAMPLE" "$BASE/api/load?token=$TOKEN"
code_is 403 "a POST does not take the token from its address"

# --- the batch: the same report as check --json ---------------------------------
"$CERTPRESS" check --org "$ORG" --json "$SAMPLE" >"$T_TMP/check.json" 2>/dev/null
http -H "$H" "$BASE/api/batch"
code_is 200 "GET /api/batch"
same=$(python3 - "$T_TMP/body" "$T_TMP/check.json" <<'EOF'
import json, sys
b = json.load(open(sys.argv[1])); c = json.load(open(sys.argv[2]))
print("same" if b["report"] == c else "differs: %r" % ([k for k in c if b["report"].get(k) != c[k]],))
EOF
)
is_same() { if [ "$1" = same ]; then ok "$2"; else not_ok "$2" "$1"; fi; }
is_same "$same" "the batch's report is check --json's document for the sample batch"
is "$(json 'len(j["rows"])')" 20 "20 rows"
is "$(json '",".join(sorted(set(r["state"] for r in j["rows"])))')" "ok,warning" "rows are printable or warned"
is "$(json '[r["row"] for r in j["rows"] if r["state"]=="warning"]')" "[6, 7]" "rows 6 and 7 carry the font fallback warning"
leaked=""
for id in $(tail -n +2 "$SAMPLE" | cut -d, -f3); do
	case "$(cat "$T_TMP/body")" in *"$id"*) leaked="$leaked $id" ;; esac
done
if [ -z "$leaked" ]; then ok "no ID number appears whole in the batch JSON"
else not_ok "no ID number appears whole in the batch JSON" "$leaked"; fi
is "$(json 'j["rows"][0]["id"]')" "4401**********149X" "the ID is masked as cp_mask_id does"

# --- previews -----------------------------------------------------------------------
png_size() {
	python3 -c 'import struct,sys; d=open(sys.argv[1],"rb").read(24); print("%dx%d" % struct.unpack(">II", d[16:24]) if d[:8]==b"\x89PNG\r\n\x1a\n" else "not a PNG")' "$1"
}
http -H "$H" "$BASE/api/preview?row=3&mode=full&dpi=96"
code_is 200 "a preview of row 3"
is "$(png_size "$T_TMP/body")" "794x1123" "a PNG of A4 at 96 dpi"
cp "$T_TMP/body" "$T_TMP/served.png"
"$CERTPRESS" render --org "$ORG" --no-ledger --row 3 --dpi 96 -o "$T_TMP/cli.png" "$SAMPLE" 2>/dev/null
if cmp -s "$T_TMP/served.png" "$T_TMP/cli.png"; then ok "the preview is render --row 3 --dpi 96's PNG, byte for byte"
elif have compare; then
	# The PNG writers differ in metadata (the CLI's carries its dpi): compare pixels.
	is "$(compare -metric AE "$T_TMP/served.png" "$T_TMP/cli.png" null: 2>&1)" 0 \
		"the preview has render --row 3 --dpi 96's pixels"
else
	skip "compare missing (imagemagick): the preview's pixels are not compared"
fi
http -H "$H" "$BASE/api/preview?row=3&mode=electronic&dpi=30"
code_is 200 "an electronic preview at 30 dpi"
is "$(png_size "$T_TMP/body")" "248x351" "its size follows the dpi"
http -H "$H" "$BASE/api/preview?row=3&dpi=1000"
code_is 400 "dpi over 300 is refused"
contains "$BODY" "from 10 to 300" "the bounds are named"
http -H "$H" "$BASE/api/preview?row=../../etc/passwd"
code_is 400 "a row that is not a number is refused"
http -H "$H" "$BASE/api/preview?row=3&mode=poster"
code_is 400 "an unknown mode is refused"
http -H "$H" "$BASE/api/preview?row=99"
code_is 404 "a row without a record"
contains "$BODY" "no record on row 99" "says so"

http -H "$H" "$BASE/api/namecut?row=6"
code_is 200 "row 6's name cut-out"
case "$(png_size "$T_TMP/body")" in
[0-9]*x[0-9]*) ok "the cut-out is a PNG ($(png_size "$T_TMP/body"))" ;;
*) not_ok "the cut-out is a PNG" ;;
esac
http -H "$H" "$BASE/api/namecut?row=99"
code_is 404 "no cut-out for a row without a record"
# --- paths ---------------------------------------------------------------------------
L() { http -H "$H" -H "X-CSRF-Token: $CSRF" "$@" "$BASE/api/load"; }
L -F "path=$T_TOP/templates/sample/../../templates/sample/batch.csv"
code_is 400 "a path with .. is refused"
contains "$BODY" "'..'" "the refusal names the .."
L -F "path=templates/sample/batch.csv"
code_is 400 "a relative path is refused"
contains "$BODY" "absolute" "the refusal says it must be absolute"
L -F "path=$T_TMP/nothing.csv"
code_is 400 "a path to nothing is refused"
L -F "path=$T_TOP/templates"
code_is 400 "a folder is refused"
L --data-urlencode "path=/etc/../etc/passwd"
code_is 400 "a form-encoded path is checked the same way"
http -H "$H" "$BASE/api/batch"
is "$(json 'j["file"]')" "$SAMPLE" "a refused load keeps the batch before"

# --- uploads -------------------------------------------------------------------------
mkdir -p "$T_TMP/up"
head -n 4 "$SAMPLE" >"$T_TMP/up/three.csv"
# Row 3: a certificate number of another organization.
sed -i '3s/S000044000123264000001/S000099000123264000001/' "$T_TMP/up/three.csv"
"$CERTPRESS" check --org "$ORG" --json "$T_TMP/up/three.csv" >"$T_TMP/three.json" 2>/dev/null
L -F "file=@$T_TMP/up/three.csv"
code_is 200 "a CSV upload is checked"
same=$(python3 - "$T_TMP/body" "$T_TMP/three.json" <<'EOF'
import json, sys
b = json.load(open(sys.argv[1])); c = json.load(open(sys.argv[2]))
r = b["report"]
if r["csv"] != "three.csv": print("csv is %r" % r["csv"]); sys.exit()
print("same" if r["summary"] == c["summary"] and r["problems"] == c["problems"] else "differs:\n%s\n%s" % (r["problems"], c["problems"]))
EOF
)
is_same "$same" "the upload gets check --json's problems (row, column, rule), photos missing and all"
is "$(json '[(p["row"],p["rule"]) for p in j["report"]["problems"] if p["field"]=="cert_no"]')" "[(3, 'cert_no.prefix')]" "the wrong prefix is row 3, rule cert_no.prefix"
is "$(json '[r["state"] for r in j["rows"]]')" "['refused', 'refused', 'refused']" "without their photos every row is refused"
n_up=$(find "$TMPDIR_SERVE" -name data -type f | wc -l)
is "$n_up" 1 "the upload is kept in the console's temporary folder"
mode=$(stat -c %a "$(find "$TMPDIR_SERVE" -maxdepth 1 -name 'certpress-serve-*')")
is "$mode" 700 "that folder is private (0700)"
http -H "$H" "$BASE/api/preview?row=3"
code_is 422 "a refused row has no preview"
contains "$BODY" "row 3" "the refusal names the row"
printf '姓名,证书编号\n张三,S1\n' >"$T_TMP/up/columns.csv"
L -F "file=@$T_TMP/up/columns.csv"
code_is 422 "a file without the required columns is refused"
contains "$BODY" "证件号码" "the missing column is named"
is "$(find "$TMPDIR_SERVE" -name data -type f | wc -l)" 1 "a refused upload is not kept"
head -c 2000000 /dev/zero >"$T_TMP/up/big.csv"
L -F "file=@$T_TMP/up/big.csv"
code_is 422 "2 MB of zeros pass the default limit of 64 MiB and are refused by the reader"
# A CSV with its photos as a zip (the folder photos/ zipped), and hostile zips.
python3 - "$T_TOP/templates/sample/photos" "$T_TMP/up" <<'EOF'
import os, sys, zipfile, stat
src, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(out + "/photos.zip", "w") as z:
    for f in sorted(os.listdir(src)):
        z.write(os.path.join(src, f), "photos/" + f)
with zipfile.ZipFile(out + "/climb.zip", "w") as z:
    z.writestr("../../evil.jpg", b"x")
with zipfile.ZipFile(out + "/absolute.zip", "w") as z:
    z.writestr("/tmp/evil.jpg", b"x")
with zipfile.ZipFile(out + "/link.zip", "w") as z:
    i = zipfile.ZipInfo("photos/001.jpg")
    i.create_system = 3
    i.external_attr = (stat.S_IFLNK | 0o777) << 16
    z.writestr(i, "/etc/passwd")
open(out + "/notzip.zip", "wb").write(b"not a zip")
EOF
L -F "file=@$SAMPLE" -F "photos=@$T_TMP/up/photos.zip"
code_is 200 "a CSV upload with its photos as a zip"
same=$(python3 - "$T_TMP/body" "$T_TMP/check.json" <<'EOF'
import json, sys
b = json.load(open(sys.argv[1]))["report"]; c = json.load(open(sys.argv[2]))
print("same" if b["summary"] == c["summary"] and b["problems"] == c["problems"] else "differs: %r" % (b["summary"],))
EOF
)
is_same "$same" "with its photos, the upload's report is check's of the sample (20 printable)"
http -H "$H" "$BASE/api/preview?row=2&dpi=20"
code_is 200 "and a row previews with its photo"
for z in climb absolute link; do
	L -F "file=@$SAMPLE" -F "photos=@$T_TMP/up/$z.zip"
	code_is 400 "a photos zip with a $z entry is refused"
done
contains "$BODY" "photos/001.jpg" "the refusal names the entry"
L -F "file=@$SAMPLE" -F "photos=@$T_TMP/up/notzip.zip"
code_is 400 "photos that are not a zip are refused"
contains "$BODY" "not a zip" "saying so"
is "$(find "$T_TMP" -name evil.jpg | wc -l)" 0 "nothing was written outside the upload's folder"
L -F "photos=@$T_TMP/up/photos.zip"
code_is 400 "photos without a data file are refused"
# A zip bomb: 1.1 GiB of zeros in 1 MB, refused by its headers before inflating.
python3 - "$T_TMP/up/bomb.zip" <<'EOF'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
    with z.open("photos/001.jpg", "w", force_zip64=True) as f:
        block = bytes(1 << 20)
        for _ in range(1100):
            f.write(block)
EOF
L -F "file=@$SAMPLE" -F "photos=@$T_TMP/up/bomb.zip"
code_is 400 "a photos zip inflating to more than 1 GiB is refused"
contains "$BODY" "more than 1 GiB" "saying so"
L -F "file=@$T_TOP/tests/data/workbook/pictures.xlsx"
code_is 200 "an .xlsx upload with its photos pasted in"
is "$(json 'j["report"]["summary"]["valid"], j["report"]["encoding"]')" "(20, 'xlsx workbook, sheet 名单')" "all 20 rows printable, read as the workbook"
http -H "$H" "$BASE/api/preview?row=3&dpi=20"
code_is 200 "a preview of the workbook's row 3 (its photo from the workbook)"
L -F "path=$SAMPLE"
code_is 200 "the sample loads again by path"
stop_serve
is "$STOP_STATUS" 0 "SIGTERM stops the console with status 0"
left=$(find "$TMPDIR_SERVE" -mindepth 1 | head -3)
is "$left" "" "its temporary folder is removed"

# --- the upload limit ----------------------------------------------------------------
start_serve --org "$ORG" --upload-limit 1 || not_ok "serve --upload-limit 1 starts" "$LINE"
CSRF=$(csrf_token)
http -H "$H" "$BASE/api/batch"
is "$(json 'j["loaded"]')" False "without a data file nothing is loaded"
http -H "$H" "$BASE/api/preview?row=2"
code_is 404 "no preview before a batch"
L -F "file=@$T_TMP/up/big.csv"
code_is 413 "an upload over --upload-limit 1 is refused"
contains "$BODY" "larger than the limit of 1 MiB" "with a message naming the limit"
head -c 2000000 /dev/zero | curl -s -o "$T_TMP/body" -w '%{http_code}' -H "$H" -H "X-CSRF-Token: $CSRF" \
	-H "Transfer-Encoding: chunked" -F "file=@-;filename=big.csv" "$BASE/api/load" >"$T_TMP/code"
CODE=$(cat "$T_TMP/code")
code_is 413 "a chunked upload without a length is counted and refused too"
L -F "file=@$T_TMP/up/three.csv"
code_is 200 "a small upload still loads"
kill -INT "$PID"
wait "$PID"
is "$?" 0 "SIGINT stops it cleanly too"
is "$(find "$TMPDIR_SERVE" -mindepth 1 | head -3)" "" "and its uploads are gone"

# --- --lang: the library's messages in the page's language --------------------------
# A refusal written by the console's own code and one by the library (the
# check of a batch), whatever the server's environment asks for.
printf '%s\n' "$(head -n 1 "$SAMPLE")" "$(sed -n 2p "$SAMPLE" | sed 's/,S000044000123[0-9]*,/,S0000,/')" \
	>"$T_TMP/up/badno.csv"
cp -r "$(dirname "$SAMPLE")/photos" "$T_TMP/up/" 2>/dev/null || true
for want in zh en; do
	if [ "$want" = zh ]; then SERVE_ENV="LANG=C.UTF-8 LANGUAGE="; else SERVE_ENV="LANG=C.UTF-8 LANGUAGE=zh_CN"; fi
	start_serve --org "$ORG" --lang "$want" "$T_TMP/up/badno.csv"
	started=$?
	SERVE_ENV=
	if [ "$started" -ne 0 ]; then
		not_ok "serve --lang $want starts" "$LINE" "$(cat "$SERVE_ERR")"
		continue
	fi
	if [ "$want" = zh ]; then
		http -H "$H" "$BASE/api/job/..%2f1"
		contains "$BODY" "作业编号必须是整数" "--lang zh under LANG=C.UTF-8: the console's refusal in Chinese"
		http -H "$H" "$BASE/api/batch"
		contains "$BODY" "证书编号有 5 个字符" "--lang zh: the check's reason for the bad number in Chinese"
	else
		http -H "$H" "$BASE/api/job/..%2f1"
		contains "$BODY" "a job's number is a whole number" "--lang en under LANGUAGE=zh_CN: the console's refusal in English"
		http -H "$H" "$BASE/api/batch"
		contains "$BODY" "the certificate number has 5 characters" "--lang en: the check's reason in English"
	fi
	stop_serve
	is "$STOP_STATUS" 0 "serve --lang $want stops cleanly"
done

done_testing
