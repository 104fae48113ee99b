#!/bin/sh
# SPDX-License-Identifier: MIT
# The web console's page in a real browser (TAP): Debian's Chromium,
# headless, kept on loopback (every other host name resolves to nothing),
# with a throwaway profile. --dump-dom gives the DOM after the page's script
# ran; --virtual-time-budget lets the page's requests finish first (virtual
# time stands still while a request is pending, so this waits for events,
# not for a clock). Proves that the script builds the table of every row
# with its state, reasons and name cut-out from the API, in Chinese by
# default and in English for an English browser; that the filters and the
# row's three previews (full, fill, electronic) work; and that no whole ID
# number reaches the page. Screenshots go to $CONSOLE_SHOTS (default: the
# scratch folder; CONSOLE_SHOTS=docs refreshes docs/console-*.png).
. "$(dirname "$0")/lib.sh"

ORG="$T_TOP/templates/org.conf"
export XDG_DATA_HOME="$T_TMP/xdg" # never the operator's own ledger
SAMPLE="$T_TOP/templates/sample/batch.csv"
SHOTS=${CONSOLE_SHOTS:-$T_TMP}
case "$SHOTS" in /*) ;; *) SHOTS="$T_TOP/$SHOTS" ;; esac

stop_at_exit

CHROME=
for c in chromium chromium-browser; do
	if have "$c"; then CHROME=$c; break; fi
done
if [ -z "$CHROME" ] || ! have python3; then
	skip "chromium or python3 missing (scripts/deps.sh installs them)"
	done_testing
	exit $?
fi

# A batch with every state: the sample with row 3's number of another
# organization and row 5's ID number one digit off.
mkdir -p "$T_TMP/mixed"
cp -r "$T_TOP/templates/sample/photos" "$T_TMP/mixed/photos"
sed -e '3s/S000044000123264000001/S000099000123264000001/' \
	-e '5s/440104199602293263/440104199602293264/' "$SAMPLE" >"$T_TMP/mixed/batch.csv"

N_SERVE=0
# start_serve ARGS...: sets PID and URL once the address line is read.
start_serve() {
	N_SERVE=$((N_SERVE + 1))
	fifo="$T_TMP/serve-$N_SERVE.out"
	mkfifo "$fifo"
	LANGUAGE=${SERVE_LANGUAGE:-} TMPDIR="$T_TMP" "$CERTPRESS" serve --output-dir "$T_TMP/out" "$@" >"$fifo" 2>"$T_TMP/serve-$N_SERVE.err" &
	PID=$!
	PIDS="$PIDS $PID"
	LINE=
	read -r LINE <"$fifo" || true
	URL=${LINE#certpress serve: open }
	case "$URL" in http://127.0.0.1:*) return 0 ;; *) return 1 ;; esac
}

N_CHROME=0
# browse LANG URL [--screenshot=FILE]: the DOM after the script ran in DOM.
browse() {
	N_CHROME=$((N_CHROME + 1))
	lang=$1 url=$2
	shift 2
	root=
	[ "$(id -u)" = 0 ] && root=--no-sandbox
	# shellcheck disable=SC2086
	HOME="$T_TMP/home" XDG_CONFIG_HOME="$T_TMP/home/.config" XDG_CACHE_HOME="$T_TMP/home/.cache" \
	timeout 120 "$CHROME" --headless $root --disable-gpu --disable-dev-shm-usage --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--disable-features=Translate,MediaRouter,OptimizationHints \
		--host-resolver-rules="MAP * ~NOTFOUND , EXCLUDE 127.0.0.1" \
		--user-data-dir="$T_TMP/chrome-$N_CHROME" --accept-lang="$lang" \
		--window-size=1500,1000 --hide-scrollbars --virtual-time-budget=20000 \
		"$@" "$url" >"$T_TMP/dom-$N_CHROME.html" 2>"$T_TMP/chrome-$N_CHROME.log"
	BROWSE_STATUS=$?
	DOM="$T_TMP/dom-$N_CHROME.html"
}
# q PYTHON-EXPR: evaluated over the DOM (a string d), via a small parser.
q() {
	python3 - "$DOM" "$1" <<'EOF'
import re, sys
from html.parser import HTMLParser
d = open(sys.argv[1], encoding="utf-8").read()
class P(HTMLParser):
    def __init__(self):
        super().__init__(); self.rows = []; self.stack = []; self.text = []
        self.figs = []; self.imgs = []
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "tr" and "data-row" in a:
            self.rows.append({"row": int(a["data-row"]), "state": a.get("data-state"), "text": ""})
        if tag == "figure":
            self.figs.append({"mode": a.get("data-mode"), "state": a.get("data-state")})
        if tag == "img":
            self.imgs.append(a.get("src") or "")
        if tag == "tr":
            self.stack.append("tr")
    def handle_data(self, data):
        if self.rows: self.rows[-1]["text"] += data
p = P(); p.feed(d)
rows, figs, imgs = p.rows, p.figs, p.imgs
text = re.sub(r"<[^>]*>", " ", d)
print(eval(sys.argv[2]))
EOF
}

# The library's messages in Chinese too, for the Chinese pages.
SERVE_LANGUAGE=zh_CN
if ! start_serve --org "$ORG" "$SAMPLE"; then
	not_ok "serve starts" "$LINE" "$(cat "$T_TMP/serve-1.err")"
	done_testing
	exit $?
fi

# --- Chinese, the sample batch, row 6's preview ------------------------------
browse zh-CN "$URL#row=6" --dump-dom
is "$BROWSE_STATUS" 0 "chromium ran headless on the page"
is "$(q 'len(rows)')" 20 "the script built one table row per record (20)"
is "$(q '[r["row"] for r in rows][:3]')" "[2, 3, 4]" "in spreadsheet row order"
is "$(q 'sum(1 for r in rows if r["state"]=="ok")') $(q 'sum(1 for r in rows if r["state"]=="warning")')" "18 2" "18 printable, 2 warned"
is "$(q '"可打印" in rows[0]["text"] and "警告" in [r for r in rows if r["row"]==6][0]["text"]')" True "states are in Chinese by default (可打印, 警告)"
is "$(q '"共 20 条" in text and "可打印 20 条" in text')" True "the summary is in Chinese"
is "$(q '"[layout.font_fallback]" in text and "整体以" in text')" True "the warned rows show their rule and the reason (in the server's language)"
is "$(q 'sorted(int(s.split("=")[1]) for s in imgs if s.startswith("/api/namecut?row="))' )" "$(python3 -c 'print(list(range(2,22)))')" "every row shows its name cut-out"
is "$(q '[(f["mode"], f["state"]) for f in figs]')" "[('full', 'loaded'), ('fill', 'loaded'), ('electronic', 'loaded')]" "row 6's three previews loaded side by side"
is "$(q 'sorted(s for s in imgs if s.startswith("/api/preview"))')" "['/api/preview?row=6&mode=electronic&dpi=60', '/api/preview?row=6&mode=fill&dpi=60', '/api/preview?row=6&mode=full&dpi=60']" "one preview per mode of row 6"
leaked=""
for id in $(tail -n +2 "$SAMPLE" | cut -d, -f3); do
	grep -q -F "$id" "$DOM" && leaked="$leaked $id"
done
is "$leaked" "" "no whole ID number on the page"
is "$(q '"4401**********149X" in text')" True "the masked ID is shown"
is "$(q 're.search(r"<section id=.print.[^>]*hidden", d) is None and "id=\"dest\"" in d')" True "with a batch loaded the print form is shown"
browse zh-CN "$URL#row=6" --screenshot="$SHOTS/console-zh.png"
is "$(file -b "$SHOTS/console-zh.png" | cut -d, -f1-2)" "PNG image data, 1500 x 1000" "a screenshot of the Chinese page ($SHOTS/console-zh.png)"

kill "$PID"; wait "$PID"

# --- every state, the filter ---------------------------------------------------
start_serve --org "$ORG" "$T_TMP/mixed/batch.csv" || not_ok "serve starts on the mixed batch" "$LINE"
browse zh-CN "$URL" --dump-dom
is "$(q 'sorted((r["row"], r["state"]) for r in rows if r["state"]!="ok")')" "[(3, 'refused'), (5, 'refused'), (6, 'warning'), (7, 'warning')]" "rows 3 and 5 refused, 6 and 7 warned"
is "$(q '"[cert_no.prefix" in text and "[id_number.check" in text')" True "the refusals show their rules"
is "$(q '"校验" in text')" True "and their reasons in Chinese"
is "$(q '"不予打印" in [r for r in rows if r["row"]==3][0]["text"]')" True "a refused row reads 不予打印"
is "$(q 'sum(1 for s in imgs if s.startswith("/api/namecut"))')" 18 "refused rows have no cut-out"
browse zh-CN "$URL#filter=refused" --dump-dom
is "$(q '[r["row"] for r in rows]')" "[3, 5]" "the 不予打印 filter shows rows 3 and 5 only"
browse zh-CN "$URL#row=3" --dump-dom
is "$(q '[f["state"] for f in figs]')" "['refused', 'refused', 'refused']" "a refused row is not previewed"
browse zh-CN "$URL#filter=refused" --screenshot="$SHOTS/console-refused.png"
is "$(file -b "$SHOTS/console-refused.png" | cut -d, -f1-2)" "PNG image data, 1500 x 1000" "a screenshot of the refused rows ($SHOTS/console-refused.png)"
kill "$PID"; wait "$PID"

# --- a workbook with its photos pasted in (the issue's "done when") -------------
start_serve --org "$ORG" "$T_TOP/tests/data/workbook/pictures.xlsx" || not_ok "serve starts on pictures.xlsx" "$LINE"
browse zh-CN "$URL#row=3" --dump-dom
is "$(q 'len(rows), rows[0]["row"], rows[-1]["row"]')" "(20, 3, 22)" "pictures.xlsx: 20 rows, header on row 2"
is "$(q 'sum(1 for r in rows if r["state"] in ("ok","warning"))')" 20 "every row printable, photos from the workbook"
is "$(q 'sum(1 for s in imgs if s.startswith("/api/namecut"))')" 20 "every row with its name cut-out"
is "$(q '[f["state"] for f in figs]')" "['loaded', 'loaded', 'loaded']" "row 3's previews loaded"
kill "$PID"; wait "$PID"

# --- English: the page and the library's messages -------------------------------
SERVE_LANGUAGE=
start_serve --org "$ORG" "$T_TMP/mixed/batch.csv" || not_ok "serve starts in English" "$LINE"
browse en-US,en "$URL" --dump-dom
is "$(q '"Printable" in rows[0]["text"] and "Refused" in rows[1]["text"]')" True "an English browser gets English states"
is "$(q '"20 records, 18 printable, 2 refused" in text')" True "and an English summary"
browse en-US "$URL#row=2" --screenshot="$SHOTS/console-en.png"
is "$(file -b "$SHOTS/console-en.png" | cut -d, -f1-2)" "PNG image data, 1500 x 1000" "a screenshot in English ($SHOTS/console-en.png)"

done_testing
