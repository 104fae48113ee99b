#!/bin/sh
# SPDX-License-Identifier: MIT
# End-to-end tests of the signed QR code (TAP): profile [signing]
# qr_signed = yes, `certpress render` puts "#cp1.TOKEN" after the query
# address, and the token is checked from rasterised pages (pdftoppm, 200 dpi
# grey) and phone-photo-like images (ImageMagick: rotation, blur, uneven
# light, noise, JPEG) by `certpress verify IMAGE` and, independently, by
# zbarimg + tests/qrverify.py (python3-cbor2, python3-cryptography, written
# from docs/verify.md). Tampered QR codes are made with qrencode.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
for t in openssl pdftoppm zbarimg qrencode convert "$PY"; do
	if ! have "$t"; then
		echo "1..0 # SKIP $t is not installed (scripts/deps.sh installs it)"
		exit 0
	fi
done
if ! "$PY" -c 'import cbor2, cryptography' 2>/dev/null; then
	echo "1..0 # SKIP python3-cbor2 or python3-cryptography is not installed"
	exit 0
fi
QRV="$PY $T_TOP/tests/qrverify.py"
# zbarimg --raw, QR codes only (its 1-D decoders can find a spurious
# "barcode" in a page's text), without its D-Bus chatter on stderr.
zbar() { zbarimg -q --raw -Sdisable -Sqrcode.enable "$@" 2>/dev/null; }

W="$T_TMP/w"
mkdir -p "$W" && cd "$W" || exit 2
cp -r "$T_TOP/templates/sample/photos" photos
cp "$T_TOP/templates/sample/batch.csv" batch.csv
cp "$T_TOP/templates/seal.png" seal.png

# A test CA and a P-256 seal certificate issued by it; a second, unrelated key.
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 3650 \
	-subj "/CN=certpress test CA" -addext "basicConstraints=critical,CA:TRUE" \
	-addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout seal.key \
	-out seal.csr -subj "/CN=seal of the test organization" 2>/dev/null
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\n' >leaf.ext
openssl x509 -req -in seal.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1825 \
	-extfile leaf.ext -out seal.pem 2>/dev/null
cat seal.pem ca.pem >chain.pem
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout other.key \
	-out other.pem -days 365 -subj "/CN=another organization" 2>/dev/null
chmod 600 seal.key ca.key other.key

# profile NAME KEY CERT [EXTRA]: the shipped profile plus [signing].
profile() {
	cat "$T_TOP/templates/org.conf" >"$1"
	printf '\n[signing]\ncertificate = %s\nkey = %s\n%s' "$3" "$2" "${4:-}" >>"$1"
}
profile org.conf seal.key chain.pem 'qr_signed = yes
'
profile plain.conf seal.key chain.pem
profile other.conf other.key other.pem 'qr_signed = yes
'
N=$(($(wc -l <batch.csv) - 1))

# ------------------------------------------------------------ off by default
run render -O plain.conf -o plain.pdf --no-ledger --row 2 batch.csv
expect_status 0 "render without qr_signed"
pdftoppm -r 200 -gray -png plain.pdf plain
lacks "$(zbar plain-1.png)" "#cp1." "qr_signed is off by default: the QR holds the query address only"

profile bad.conf seal.key chain.pem 'qr_signed = perhaps
'
run render -O bad.conf -o bad.pdf --no-ledger batch.csv
expect_status 2 "qr_signed takes yes or no"
contains "$T_ERR" "qr_signed" "the error names qr_signed"

# ------------------------------------------------- the batch, rendered signed
run render -O org.conf -o out.pdf --ledger ledger.sqlite batch.csv
expect_status 0 "render a signed-QR batch"
pdftoppm -r 200 -gray -png out.pdf pg
pages=$(ls pg-*.png | wc -l)
[ "$pages" -eq "$N" ] && ok "$N pages rasterised at 200 dpi grey" || not_ok "pages: $pages of $N"

zbar pg-*.png >qr.txt
[ "$(grep -c . qr.txt)" -eq "$N" ] && ok "zbarimg decodes every page's QR code" \
	|| not_ok "zbarimg decoded $(grep -c . qr.txt) of $N"
# The QR is the query address, then the token in the fragment.
bad=$(grep -v '^http://jndj\.osta\.org\.cn/?zsbh=S[0-9]\{21\}#cp1\.[A-Za-z0-9_-]\{200,\}$' qr.txt | head -2)
[ -z "$bad" ] && ok "every QR is http://jndj.osta.org.cn/?zsbh=CERT#cp1.TOKEN" || not_ok "QR text" "$bad"
# The ID number never in clear: the CSV's ID numbers are not in any QR.
leak=""
for id in $(tail -n +2 batch.csv | cut -d, -f3); do
	if grep -q -- "$id" qr.txt; then leak="$leak $id"; fi
done
[ -z "$leak" ] && ok "no ID number in clear in any QR code" || not_ok "ID numbers in QR:$leak"

# The independent verifier.
$QRV seal.pem qr.txt >py.out
st=$?
[ "$st" -eq 0 ] && [ "$(grep -c '^valid' py.out)" -eq "$N" ] &&
	ok "qrverify.py (cbor2, cryptography) verifies all $N tokens" ||
	not_ok "qrverify.py: exit $st" "$(grep -v '^valid' py.out | head -3)"
# The signed fields are the CSV's: certificate number and name of each row,
# the ID number masked, the issue date as YYYY-MM-DD.
want=$(tail -n +2 batch.csv | awk -F, '{ print $7 "\t" $1 }' | sort)
got=$(cut -f2,3 py.out | sort)
[ "$want" = "$got" ] && ok "signed certificate numbers and names are the CSV's" ||
	not_ok "signed fields differ from the CSV" "$(printf '%s\n' "$want" | head -2)" "$(printf '%s\n' "$got" | head -2)"
row=$(grep -m1 "^valid	S000044000123263000001	" py.out)
contains "$row" "$(printf '\t4401**********149X\t电工\t--\t三级/高级工\t2026-11-27\t广东省示例职业技能评价中心')" \
	"one row's signed fields: masked ID, occupation, job type, level, date, organization"

# certpress verify on the scans.
run verify -O org.conf pg-*.png
expect_status 0 "certpress verify accepts all $N 200-dpi grey pages"
[ "$(printf '%s\n' "$T_OUT" | grep -c 'valid QR code')" -eq "$N" ] && ok "each page reported valid" \
	|| not_ok "valid pages: $(printf '%s\n' "$T_OUT" | grep -c 'valid QR code') of $N"
run verify -O org.conf pg-01.png
contains "$T_OUT" "Name: 陈志强" "verify prints the signed name to compare with the paper"
contains "$T_OUT" "ID number: 4401**********149X" "verify prints the masked ID number"
contains "$T_OUT" "Issue date: 2026-11-27" "verify prints the issue date"
run verify --trust chain.pem --json pg-01.png
expect_status 0 "--trust with the seal certificate (and its CA) verifies"
contains "$T_OUT" '"valid": true, "status": "valid"' "--json says valid"
contains "$T_OUT" '"cert_no": "S000044000123263000001"' "--json has the certificate number"
run verify --trust ca.pem pg-01.png
expect_status 1 "trusting only the CA is not enough offline (the seal certificate is not in the QR)"
contains "$T_OUT" "unknown key" "… reported as an unknown key"

# -------------------------------------------------------- phone-photo-like
# 300 dpi, the QR corner of the page as a phone would frame it, rotated,
# blurred, lit unevenly (a diagonal gradient multiplied in), noisy, JPEG.
pdftoppm -r 300 -png -f 1 -l 10 -x 0 -y 1900 -W 1400 -H 1300 out.pdf ph
i=0
for f in ph-*.png; do
	i=$((i + 1))
	case $((i % 5)) in 0) a=3 ;; 1) a=-4 ;; 2) a=2 ;; 3) a=-2 ;; *) a=4 ;; esac
	# A fixed noise seed: the same pictures on every run.
	convert "$f" -seed $((100 + i)) -background '#7f7f70' -rotate "$a" -blur 0x1.2 \
		\( -size 1500x1400 gradient:'#ffffff-#808078' -rotate 30 -resize 1500x1400! \) \
		-gravity center -compose multiply -composite -attenuate 0.5 +noise Gaussian \
		-quality 85 "photo-$i.jpg" 2>/dev/null
done
run verify -O org.conf photo-*.jpg
expect_status 0 "certpress verify accepts 10 phone-photo-like JPEGs (rotated, blurred, uneven light)"
lacks "$T_OUT" "NOT VALID" "no photo refused"
zbar photo-*.jpg | $QRV seal.pem >py.out
[ $? -eq 0 ] && [ "$(grep -c '^valid' py.out)" -eq 10 ] && ok "qrverify.py accepts the 10 photos too" ||
	not_ok "qrverify.py on photos" "$(head -3 py.out)"

# ------------------------------------------------------------- tampering
# qrimg NAME TEXT: a QR code image of TEXT (ECC M).
qrimg() { qrencode -l M -s 6 -m 4 -o "$1" "$2"; }
first=$(sed -n 1p qr.txt)
second=$(sed -n 2p qr.txt)
url1=${first%%#*}
tok2=${second#*#}

# One field changed: the payload's name replaced, the signature kept.
changed=$("$PY" - "$first" <<'EOF'
import base64, sys, cbor2
url, tok = sys.argv[1].split("#cp1.")
c = cbor2.loads(base64.urlsafe_b64decode(tok + "=" * (-len(tok) % 4)))
p = cbor2.loads(c.value[2]); p[2] = "张三"
c.value[2] = cbor2.dumps(p)
print(url + "#cp1." + base64.urlsafe_b64encode(cbor2.dumps(c)).decode().rstrip("="))
EOF
)
qrimg changed.png "$changed"
run verify -O org.conf changed.png
expect_status 1 "a token with one field changed is refused"
contains "$T_OUT" "the token was altered" "… because the signature does not match"
printf '%s\n' "$changed" | $QRV seal.pem >py.out
contains "$(cat py.out)" "refused	bad signature" "qrverify.py refuses it too"

# Two holders' tokens swapped: page 1's address with page 2's token.
qrimg swapped.png "$url1#$tok2"
run verify -O org.conf swapped.png
expect_status 1 "another holder's token under this address is refused"
contains "$T_OUT" "moved from another certificate" "… as a token moved from another certificate"
printf '%s\n' "$url1#$tok2" | $QRV seal.pem >py.out
contains "$(cat py.out)" "refused	bad signature" "qrverify.py refuses the swap too"

# Signed with another key.
run render -O other.conf -o other.pdf --no-ledger --row 2 batch.csv
expect_status 0 "render with another organization's key"
pdftoppm -r 200 -gray -png other.pdf oth
run verify -O org.conf oth-1.png
expect_status 1 "a token signed with another key is refused"
contains "$T_OUT" "unknown key" "… as signed by an unknown key"
zbar oth-1.png | $QRV seal.pem >py.out
contains "$(cat py.out)" "refused	unknown kid" "qrverify.py refuses the other key"

# Truncated QR: the last 40 characters cut off.
trunc=$(printf '%s' "$first" | head -c $((${#first} - 40)))
qrimg trunc.png "$trunc"
run verify -O org.conf trunc.png
expect_status 1 "a truncated token is refused"
contains "$T_OUT" "damaged or truncated" "… as damaged or truncated"
printf '%s\n' "$trunc" | $QRV seal.pem >py.out
contains "$(cat py.out)" "refused" "qrverify.py refuses the truncated token"

# No token, no QR code at all.
qrimg bare.png "$url1"
run verify -O org.conf bare.png
expect_status 1 "a QR code without a token is not valid offline"
contains "$T_OUT" "no signed token" "… and says so"
convert -size 300x300 xc:white blank.png 2>/dev/null
run verify -O org.conf blank.png
expect_status 1 "an image without a QR code is not valid"
contains "$T_OUT" "no QR code was found" "… and says so"

# ------------------------------------- signed PDFs carry the signed QR too
run render -O org.conf --mode electronic --format pdf --no-ledger --rows 2-3 -o signed batch.csv
expect_status 0 "signed per-holder PDFs with the signed QR (one key load for both)"
run verify -O org.conf signed/S000044000123263000001.pdf
expect_status 0 "the PDF's seal signature verifies"
pdftoppm -r 200 -gray -png signed/S000044000123263000001.pdf spdf
run verify -O org.conf spdf-1.png
expect_status 0 "and so does its QR code, from a 200-dpi grey rasterisation"

# --------------------------------------------------------- ledger, usage
run ledger revoke --ledger ledger.sqlite --cert-no S000044000123263000001 --reason "obtained by fraud"
expect_status 0 "revoke a certificate in the ledger"
run verify -O org.conf --ledger ledger.sqlite pg-01.png pg-02.png
expect_status 1 "verify --ledger: a scan of a revoked certificate is refused"
contains "$T_OUT" "revoked" "… and reported as revoked"
run verify -O org.conf --ledger ledger.sqlite --json pg-02.png
expect_status 0 "the other certificate is still valid with the ledger"
contains "$T_OUT" '"ledger": "issued"' "… and issued in the ledger"
run verify -O org.conf
expect_status 2 "verify without files is a usage error"
run verify -O org.conf missing.png
expect_status 2 "a missing image cannot be read"

done_testing
