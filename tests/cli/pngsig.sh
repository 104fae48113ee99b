#!/bin/sh
# SPDX-License-Identifier: MIT
# End-to-end tests of signed electronic PNGs and of verifying PDFs by their
# QR codes (TAP; docs/verify.md "Signed PNG images"). With [signing]
# qr_signed = yes every PNG of an electronic folder carries the QR token in
# an iTXt chunk and a cpSG chunk signing every byte before it; `certpress
# verify` checks both, and tests/pngverify.py (python3-cbor2,
# python3-cryptography, written from docs/verify.md) checks them again.
# Tampered files are made with PIL (pixels changed, chunks kept). PDFs
# without a seal of their own (a printed batch, a scan saved as PDF) are
# verified page by page through their QR codes.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
for t in openssl pdftoppm "$PY"; do
	if ! have "$t"; then
		echo "1..0 # SKIP $t is not installed (scripts/deps.sh installs it)"
		exit 0
	fi
done
if ! "$PY" -c 'import cbor2, cryptography, PIL' 2>/dev/null; then
	echo "1..0 # SKIP python3-cbor2, python3-cryptography or python3-pil is not installed"
	exit 0
fi
PNGV="$PY $T_TOP/tests/pngverify.py"

W="$T_TMP/w"
mkdir -p "$W" && cd "$W" || exit 2
cp -r "$T_TOP/templates/sample/photos" photos
cp "$T_TOP/templates/sample/batch.csv" batch.csv
cp "$T_TOP/templates/seal.png" seal.png
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout seal.key \
	-out seal.pem -days 365 -subj "/CN=seal of the test organization" 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout other.key \
	-out other.pem -days 365 -subj "/CN=another organization" 2>/dev/null
chmod 600 seal.key other.key
profile() {
	cat "$T_TOP/templates/org.conf" >"$1"
	printf '\n[signing]\ncertificate = %s\nkey = %s\n%s' "$3" "$2" "${4:-}" >>"$1"
}
profile org.conf seal.key seal.pem 'qr_signed = yes
'
profile plain.conf seal.key seal.pem
profile other.conf other.key other.pem 'qr_signed = yes
'
N=$(($(wc -l <batch.csv) - 1))

# chunks FILE: the chunk types in order, one a line.
chunks() {
	"$PY" - "$1" <<'PYEOF'
import struct, sys
d = open(sys.argv[1], "rb").read()
i = 8
while i < len(d):
    n, = struct.unpack(">I", d[i:i + 4])
    print(d[i + 4:i + 8].decode("latin-1"))
    i += 12 + n
PYEOF
}

# ----------------------------------------------- every PNG of a batch, signed
run render -O org.conf --mode electronic -o epng --ledger ledger.sqlite batch.csv
expect_status 0 "render an electronic PNG folder with qr_signed"
n=$(ls epng/*.png | wc -l)
[ "$n" -eq "$N" ] && ok "$N PNGs" || not_ok "PNGs: $n of $N"
one=epng/S000044000123263000001.png
order=$(chunks "$one" | uniq | tr '\n' ' ')
[ "$order" = "IHDR pHYs iTXt IDAT cpSG IEND " ] && ok "chunks: IHDR pHYs iTXt IDAT… cpSG IEND (pHYs kept)" ||
	not_ok "chunk order" "$order"
run verify -O org.conf epng/*.png
expect_status 0 "certpress verify accepts every signed PNG of the batch"
[ "$(printf '%s\n' "$T_OUT" | grep -c ': valid: the exact image issued')" -eq "$N" ] &&
	ok "each one as the exact image issued" || not_ok "valid" "$(printf '%s\n' "$T_OUT" | head -3)"
run verify -O org.conf --json "$one"
contains "$T_OUT" '"image_signature": "valid", "image_reason": null, "qr_token": "valid"' \
	"--json reports the image signature and the QR token, both valid"
contains "$T_OUT" '"name": "陈志强"' "… and the signed fields"
$PNGV seal.pem epng/*.png >py.out
st=$?
[ "$st" -eq 0 ] && [ "$(grep -c '^valid' py.out)" -eq "$N" ] &&
	ok "pngverify.py (independent) verifies all $N PNGs" || not_ok "pngverify.py: exit $st" "$(grep -v '^valid' py.out | head -3)"
contains "$(cat py.out)" "$(printf 'valid\t%s\tS000044000123263000001\t陈志强\t4401**********149X' "$one")" \
	"… and reads the token's fields from the iTXt chunk"

# Unsigned profiles and other modes: no chunks, as before.
run render -O plain.conf --mode electronic -o plainpng --no-ledger --rows 2-3 batch.csv
expect_status 0 "render without qr_signed"
lacks "$(chunks plainpng/S000044000123263000001.png)" "cpSG" "without qr_signed no signature chunk"
lacks "$(chunks plainpng/S000044000123263000001.png)" "iTXt" "… and no iTXt"
run render -O org.conf --mode full -o fullpng --no-ledger --rows 2 batch.csv
lacks "$(chunks fullpng/S000044000123263000001.png)" "cpSG" "a full-mode PNG (for printing) is not signed"
run render -O org.conf --mode electronic -o preview.png --no-ledger --row 2 batch.csv
expect_status 0 "a single PNG preview"
lacks "$(chunks preview.png)" "cpSG" "a preview is not an issued certificate: not signed"
run verify -O org.conf --json preview.png
expect_status 0 "its QR code still verifies, read from the pixels"
contains "$T_OUT" '"image_signature": "none"' "… as a scan (no image signature)"

# ----------------------------------------------------------------- tampering
# repixel IN OUT: the image's pixels changed with PIL (a stroke through the
# name), re-encoded; IHDR, pHYs, iTXt and cpSG kept as they were.
"$PY" - "$one" altered.png <<'PYEOF'
import io, struct, sys
from PIL import Image, ImageDraw
src = open(sys.argv[1], "rb").read()
def chunks(d):
    i = 8
    while i < len(d):
        n, = struct.unpack(">I", d[i:i + 4])
        yield d[i + 4:i + 8], d[i:i + 12 + n]
        i += 12 + n
im = Image.open(io.BytesIO(src)).convert("RGB")
ImageDraw.Draw(im).rectangle([900, 1200, 1400, 1260], fill=(255, 255, 255))
buf = io.BytesIO()
im.save(buf, "PNG")
new_idat = b"".join(c for t, c in chunks(buf.getvalue()) if t == b"IDAT")
out, done = [src[:8]], False
for t, c in chunks(src):
    if t == b"IDAT":
        if not done:
            out.append(new_idat)
            done = True
    else:
        out.append(c)
open(sys.argv[2], "wb").write(b"".join(out))
PYEOF
order=$(chunks altered.png | uniq | tr '\n' ' ')
[ "$order" = "IHDR pHYs iTXt IDAT cpSG IEND " ] && ok "the re-saved PNG keeps every chunk" ||
	not_ok "altered chunk order" "$order"
run verify -O org.conf altered.png
expect_status 1 "a re-saved PNG with changed pixels is refused"
contains "$T_OUT" "NOT VALID: the image was changed after it was issued" "… as changed after it was issued"
contains "$T_OUT" "QR token: valid" "… while its QR token is reported apart (valid)"
run verify -O org.conf --json altered.png
contains "$T_OUT" '"status": "changed"' "--json: status changed"
contains "$T_OUT" '"image_signature": "changed"' "--json: image_signature changed"
$PNGV seal.pem altered.png >py.out
contains "$(cat py.out)" "refused	altered.png	image changed after it was issued" "pngverify.py refuses it too"

# The cpSG chunk removed: the QR code, read from the pixels, still speaks.
"$PY" - "$one" nochunk.png <<'PYEOF'
import struct, sys
d = open(sys.argv[1], "rb").read()
out, i = [d[:8]], 8
while i < len(d):
    n, = struct.unpack(">I", d[i:i + 4])
    if d[i + 4:i + 8] != b"cpSG":
        out.append(d[i:i + 12 + n])
    i += 12 + n
open(sys.argv[2], "wb").write(b"".join(out))
PYEOF
run verify -O org.conf --json nochunk.png
expect_status 0 "without the cpSG chunk the PNG falls back to its QR code"
contains "$T_OUT" '"image_signature": "none"' "… reported as no image signature"
contains "$T_OUT" '"subfilter": "COSE_Sign1 ES256 (QR)"' "… the QR code checked as a scan"
$PNGV seal.pem nochunk.png >py.out
contains "$(cat py.out)" "refused	nochunk.png	no cpSG chunk" "pngverify.py: no cpSG chunk"

# Bytes appended after IEND.
cp "$one" appended.png && printf 'tail' >>appended.png
run verify -O org.conf appended.png
expect_status 1 "bytes after IEND are refused"
contains "$T_OUT" "data was added after the image's signature" "… and named"

# Another key: a PNG signed by another organization.
run render -O other.conf --mode electronic -o otherpng --no-ledger --rows 2 batch.csv
expect_status 0 "render signed PNGs with another key"
run verify -O org.conf otherpng/S000044000123263000001.png
expect_status 1 "a PNG signed with another key is refused"
contains "$T_OUT" "unknown key" "… as signed by an unknown key"
$PNGV seal.pem otherpng/S000044000123263000001.png >py.out
contains "$(cat py.out)" "unknown kid" "pngverify.py: unknown kid"

# Revoked in the ledger.
run ledger revoke --ledger ledger.sqlite --cert-no S000044000123263000001 --reason "obtained by fraud"
expect_status 0 "revoke a certificate"
run verify -O org.conf --ledger ledger.sqlite "$one"
expect_status 1 "a signed PNG of a revoked certificate is refused with --ledger"
contains "$T_OUT" "revoked" "… as revoked"

# ------------------------------------------------------ PDFs by their QR codes
run render -O org.conf -o full.pdf --no-ledger --rows 2-6 batch.csv
expect_status 0 "a printed (full-mode) batch of 5 pages with signed QR codes"
run verify -O org.conf full.pdf
expect_status 0 "verify checks the printed batch page by page through its QR codes"
[ "$(printf '%s\n' "$T_OUT" | grep -c '^full.pdf page [1-5]: valid QR code')" -eq 5 ] &&
	ok "each of the 5 pages reported valid" || not_ok "pages" "$(printf '%s\n' "$T_OUT" | grep page)"
run verify -O org.conf --json full.pdf
contains "$T_OUT" '"page": 5, "valid": true' "--json gives each page its number"

# A 200-dpi grey scan of page 2 saved as a PDF (PIL).
pdftoppm -r 200 -gray -png -f 2 -l 2 full.pdf scan
"$PY" -c 'import sys; from PIL import Image; Image.open(sys.argv[1]).convert("L").save(sys.argv[2], resolution=200.0)' \
	scan-2.png scan.pdf
run verify -O org.conf scan.pdf
expect_status 0 "a PDF made from a 200-dpi grey scan verifies by its QR code"
contains "$T_OUT" "Certificate number: S000044000123264000001" "… and shows page 2's certificate"
run verify --trust other.pem scan.pdf
expect_status 1 "the scan against another key is refused"
contains "$T_OUT" "unknown key" "… as an unknown key"

# A printed batch without signed QR codes: not valid offline.
run render -O plain.conf -o plain.pdf --no-ledger --rows 2 batch.csv
run verify -O org.conf plain.pdf
expect_status 1 "a PDF whose QR code carries no token is not valid offline"
contains "$T_OUT" "no page has a QR code with a signed token" "… and says so"
# A scan PDF whose only QR code carries no token: the page says why.
pdftoppm -r 200 -gray -png plain.pdf pscan
"$PY" -c 'import sys; from PIL import Image; Image.open(sys.argv[1]).convert("L").save(sys.argv[2], resolution=200.0)' \
	pscan-1.png pscan.pdf
run verify -O org.conf pscan.pdf
expect_status 1 "a scan PDF without a signed QR code is not valid"
contains "$T_OUT" "no page has a QR code with a signed token" "… and says so"

# A sealed (PAdES) PDF keeps its own check first.
run render -O org.conf --mode electronic --format pdf --no-ledger --rows 2 -o signed batch.csv
expect_status 0 "a signed per-holder PDF"
run verify -O org.conf --json signed/S000044000123263000001.pdf
expect_status 0 "its PAdES seal verifies"
lacks "$T_OUT" '"page":' "… checked as a PDF signature, not page by page"
contains "$T_OUT" '"signed_bytes"' "… with its signed byte range"

# Not a PDF poppler can read.
printf '%%PDF-1.7\ngarbage\n' >broken.pdf
run verify -O org.conf broken.pdf
expect_status 1 "a damaged PDF is not valid"

done_testing
