#!/bin/sh
# SPDX-License-Identifier: MIT
# The README's examples run as written. Every line of a ```sh block in its
# "Commands" part that starts with `certpress ` is run in order, with sh, from
# a scratch folder that holds the checkout's templates/ (as the README says:
# from the top of the checkout, with certpress on the PATH), with a home of
# its own for the ledger and the printer profiles; each must exit 0 and none
# may hold a placeholder (…). Then every closing line the README quotes in
# backquotes — `certpress: …`, `recorded …`, the check summary … — must be
# one that a run printed (a batch with two broken rows gives the refusals).
. "$(dirname "$0")/lib.sh"
README="$T_TOP/README.md"
W="$T_TMP/w"
mkdir -p "$W" "$T_TMP/bin" "$T_TMP/home"
# A copy: `keys new --org templates/org-signed.conf` writes the test seal there.
cp -r "$T_TOP/templates" "$W/templates"
rm -f "$W/templates/seal-test.key" "$W/templates/seal-test.pem"
ln -s "$CERTPRESS" "$T_TMP/bin/certpress"
PATH="$T_TMP/bin:$PATH"
HOME="$T_TMP/home"
export PATH HOME
unset XDG_DATA_HOME XDG_CONFIG_HOME CERTPRESS_DATADIR CERTPRESS_LOCALEDIR
LOG="$T_TMP/all-output"
: >"$LOG"

# The examples: from "## Commands" to the next "## " heading, inside ```sh.
awk '/^## /{part=($0 == "## Commands")} part && /^```sh/{inblk=1; next}
	part && /^```/{inblk=0; next} part && inblk && /^certpress /' "$README" >"$T_TMP/examples"
n=$(wc -l <"$T_TMP/examples")
if [ "$n" -ge 15 ]; then ok "the README has $n certpress examples"
else not_ok "the README has the certpress examples" "found $n"; fi

cd "$W" || exit 2
while IFS= read -r line; do
	case "$line" in
	*…*) not_ok "example without a placeholder: $line"; continue ;;
	esac
	case "$line" in
	"certpress print "*|*" --print "*|"certpress reprint "*" -d "*)
		# A printer is what these need; tests/cli/print.sh prints to a
		# real IPP printer (ippeveprinter) on loopback.
		skip "needs a printer (tests/cli/print.sh covers it): $line"; continue ;;
	*'--ledger "postgresql://'*|*'--ledger "host='*|"certpress ledger migrate "*)
		# A ledger server is what these need; tests/cli/ledger-pg.sh runs
		# them on a throwaway PostgreSQL.
		skip "needs a PostgreSQL server (tests/cli/ledger-pg.sh covers it): $line"; continue ;;
	esac
	sh -c "$line" >"$T_TMP/out" 2>"$T_TMP/err" </dev/null
	st=$?
	cat "$T_TMP/out" "$T_TMP/err" >>"$LOG"
	if [ "$st" -eq 0 ]; then ok "runs: $line"
	else not_ok "runs: $line" "exit $st" "$(head -3 "$T_TMP/err")"; fi
done <"$T_TMP/examples"

# Refusals, with and without --skip-invalid: rows 3 and 4 broken.
mkdir -p "$W/mixed"
cp -r "$T_TOP/templates/sample/photos" "$W/mixed/photos"
sed -e 's/S000044000123264000001/S00004400012326400000/' \
	-e 's/S000044000123262000001/S00004400012326200000/' \
	"$T_TOP/templates/sample/batch.csv" >"$W/mixed/batch.csv"
cd "$W/mixed" || exit 2
certpress render --org ../templates/org.conf --no-ledger -o batch.pdf batch.csv >>"$LOG" 2>&1
[ $? -eq 1 ] && ok "two broken rows: exit 1" || not_ok "two broken rows: exit 1"
certpress render --org ../templates/org.conf --no-ledger --skip-invalid -o batch.pdf batch.csv >>"$LOG" 2>&1
[ $? -eq 1 ] && ok "two broken rows, --skip-invalid: exit 1" || not_ok "two broken rows, --skip-invalid: exit 1"
file_present "$W/mixed/batch.pdf.rejects.csv" "--skip-invalid: the rejects beside the output"

# Where there is no ledger, a reading action names the file it looked for
# (HOME as the README's example; nothing is created there).
HOME=/home/op certpress ledger report >>"$LOG" 2>&1
[ $? -eq 2 ] && ok "ledger report without a ledger: exit 2" || not_ok "ledger report without a ledger: exit 2"
file_absent /home/op/.local/share/certpress/ledger.sqlite "a reading action creates no ledger"

# Every quoted closing line was printed by one of the runs.
grep -o '`[^`]*`' "$README" | tr -d '`' |
	grep -E '^(certpress: |certpress ledger: |recorded |revoked certificate |backed up to |templates/sample/batch\.csv: [0-9])' |
	grep -v '…' | sort -u >"$T_TMP/quoted"
q=$(wc -l <"$T_TMP/quoted")
if [ "$q" -ge 8 ]; then ok "the README quotes $q closing lines"
else not_ok "the README quotes the closing lines" "found $q"; fi
while IFS= read -r l; do
	if grep -q -F -x -e "$l" "$LOG"; then ok "printed as quoted: $l"
	else not_ok "printed as quoted: $l" "nearest: $(grep -F -e "$(echo "$l" | cut -c1-20)" "$LOG" | head -2)"; fi
done <"$T_TMP/quoted"
done_testing
