#!/bin/sh
# SPDX-License-Identifier: MIT
# End-to-end tests of the electronic seal as a signature (TAP): keys,
# `render --mode electronic --format pdf` (one signed PDF per holder) and
# `certpress verify`, checked by independent tools: pdfsig (poppler, NSS,
# with the test CA imported by certutil), openssl cms, qpdf.
. "$(dirname "$0")/lib.sh"

for t in openssl pdfsig certutil qpdf pdftoppm; do
	if ! have "$t"; then
		echo "1..0 # SKIP $t is not installed (scripts/deps.sh installs it)"
		exit 0
	fi
done

W="$T_TMP/w"
mkdir -p "$W" && cd "$W" || exit 2
cp -r "$T_TOP/templates/sample/photos" photos
cp "$T_TOP/templates/seal.png" seal.png

# 100 holders: the sample's 20 rows five times, each copy with its own
# certificate numbers (serial = copy * 100 + row; the level digit kept).
awk -F, 'NR == 1 { print; next }
	{ rows[NR] = $0 }
	END {
		for (k = 0; k < 5; k++)
			for (i = 2; i <= NR; i++) {
				n = split(rows[i], f, ",")
				f[7] = substr(f[7], 1, 16) sprintf("%06d", k * 100 + i)
				line = f[1]
				for (j = 2; j <= n; j++) line = line "," f[j]
				print line
			}
	}' "$T_TOP/templates/sample/batch.csv" >batch.csv

# A test CA and a P-256 seal certificate issued by it (shared/notes/signing.md).
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 3650 \
	-subj "/CN=certpress test CA" -addext "basicConstraints=critical,CA:TRUE" \
	-addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout seal.key \
	-out seal.csr -subj "/CN=seal of the test organization" 2>/dev/null
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\n' >leaf.ext
openssl x509 -req -in seal.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1825 \
	-extfile leaf.ext -out seal.pem 2>/dev/null
cat seal.pem ca.pem >chain.pem
chmod 600 seal.key ca.key
mkdir nss && certutil -N -d sql:nss --empty-password && \
	certutil -A -d sql:nss -n root -t "C,C,C" -i ca.pem

# profile NAME KEY CERT [EXTRA]: the shipped profile plus [signing].
profile() {
	cat "$T_TOP/templates/org.conf" >"$1"
	printf '\n[signing]\ncertificate = %s\nkey = %s\n%s' "$3" "$2" "${4:-}" >>"$1"
}
profile org.conf seal.key chain.pem

# ---------------------------------------------------------------- keys
run keys new --name 示例评价中心 --key test.key --cert test.pem
expect_status 0 "keys new makes a test seal"
[ "$(stat -c %a test.key)" = 600 ] && ok "the new key file is mode 0600" || not_ok "the new key file is mode 0600: $(stat -c %a test.key)"
subj=$(openssl x509 -in test.pem -noout -subject -nameopt utf8)
contains "$subj" "TEST SEAL — not for issuing" "the test seal certificate says it is a test seal"
contains "$subj" "O=示例评价中心" "the organization name is the subject's O"
openssl x509 -in test.pem -noout -text | grep -q "prime256v1" && ok "the test seal key is P-256" || not_ok "the test seal key is P-256"
run keys new --name other --key test.key --cert test2.pem
expect_status 2 "keys new never replaces a key"
file_absent test2.pem "nothing written when the key exists"
run keys show test.pem
expect_status 0 "keys show"
fp=$(openssl x509 -in test.pem -noout -fingerprint -sha256 | sed 's/.*=//')
contains "$T_OUT" "SHA-256 fingerprint: $fp" "keys show prints the SHA-256 fingerprint openssl computes"
contains "$T_OUT" "Valid until:" "keys show prints the validity"
contains "$T_OUT" "Issuer:" "keys show prints the issuer"
run keys csr --org org.conf -o req.pem
expect_status 0 "keys csr"
openssl req -in req.pem -noout -verify >/dev/null 2>&1 && ok "the request's self-signature verifies (openssl req -verify)" || not_ok "openssl req -verify"
openssl req -in req.pem -noout -subject -nameopt utf8 | grep -q "O=广东省示例职业技能评价中心" \
	&& ok "the request names the organization" || not_ok "the request names the organization"
[ "$(openssl req -in req.pem -noout -pubkey | openssl sha256)" = "$(openssl pkey -in seal.key -pubout | openssl sha256)" ] \
	&& ok "the request carries the profile's key" || not_ok "the request carries the profile's key"

# ------------------------------------------------------- key protection
cp seal.key open.key && chmod 644 open.key
profile open.conf open.key chain.pem
run check --org open.conf batch.csv
expect_status 2 "a key readable by others is refused"
contains "$T_ERR" "chmod 600" "the refusal says how to fix it"
openssl pkey -in seal.key -aes256 -passout pass:correct-horse -out enc.key 2>/dev/null
chmod 600 enc.key
printf 'wrong-battery\n' >wrong.pass && chmod 600 wrong.pass
profile wrong.conf enc.key chain.pem "passphrase_file = wrong.pass
"
run render --org wrong.conf --mode electronic --format pdf --no-ledger -o wrongout/ batch.csv
expect_status 2 "a wrong passphrase is refused"
contains "$T_ERR" "wrong passphrase" "the refusal says so"
lacks "$T_ERR" "wrong-battery" "the passphrase is not in the message"
lacks "$T_ERR" "BEGIN" "no key material in the message"
file_absent wrongout "nothing written"
printf 'correct-horse\n' >right.pass && chmod 600 right.pass
profile right.conf enc.key chain.pem "passphrase_file = right.pass
"
mkdir encout
run render --org right.conf --mode electronic --format pdf --no-ledger --row 2 -o encout/ batch.csv
expect_status 0 "an encrypted key with its passphrase file signs"

# PKCS#12, with its passphrase in a file, and without a terminal to ask.
openssl pkcs12 -export -inkey seal.key -in seal.pem -certfile ca.pem -passout pass:p12pass \
	-out seal.p12 2>/dev/null
chmod 600 seal.p12
printf 'p12pass\n' >p12.pass && chmod 600 p12.pass
profile p12.conf seal.p12 chain.pem "passphrase_file = p12.pass
"
mkdir p12out
run render --org p12.conf --mode electronic --format pdf --no-ledger --row 2 -o p12out/ batch.csv
expect_status 0 "a PKCS#12 key with its passphrase file signs"
run verify --trust ca.pem p12out/*.pdf
expect_status 0 "and the file verifies"
profile p12tty.conf seal.p12 chain.pem
if have setsid; then
	setsid "$CERTPRESS" render --org p12tty.conf --mode electronic --format pdf --no-ledger \
		--row 2 -o p12out/ batch.csv </dev/null >"$T_TMP/out" 2>"$T_TMP/err"
	T_STATUS=$? T_ERR=$(cat "$T_TMP/err")
	expect_status 2 "a passphrase-protected key without a terminal or passphrase file"
	contains "$T_ERR" "passphrase_file =" "the refusal says where to put the passphrase"
else
	skip "setsid is not installed"
	skip "setsid is not installed"
fi

# ------------------------------------------------- usage of --format pdf
run render --org org.conf --format pdf --no-ledger -o x/ batch.csv
expect_status 2 "--format pdf needs --mode electronic"
run render --org org.conf --mode electronic --format pdf --name '{name}' --no-ledger -o x/ batch.csv
expect_status 2 "--name without {cert_no} is refused"

# ------------------------------------------------- 100 signed holders
mkdir out
run render --org org.conf --mode electronic --format pdf --ledger ledger.sqlite -o out/ batch.csv
expect_status 0 "render --format pdf signs 100 holders"
n=$(ls out/*.pdf 2>/dev/null | wc -l)
[ "$n" -eq 100 ] && ok "one PDF per holder (100)" || not_ok "one PDF per holder: $n"
file_present out/S000044000123263000002.pdf "files are named by certificate number"

bad=""
for f in out/*.pdf; do
	s=$(pdfsig -nssdir sql:nss "$f" 2>&1)
	case "$s" in *"Signature Type: ETSI.CAdES.detached"*) ;; *) bad="$bad type:$f" ;; esac
	case "$s" in *"Total document signed"*) ;; *) bad="$bad total:$f" ;; esac
	case "$s" in *"Signature Validation: Signature is Valid."*) ;; *) bad="$bad valid:$f" ;; esac
	case "$s" in *"Certificate Validation: Certificate is Trusted."*) ;; *) bad="$bad trusted:$f" ;; esac
done
[ -z "$bad" ] && ok "pdfsig: all 100 are PAdES, wholly signed, valid and trusted" || not_ok "pdfsig" "$bad"

bad=""
for f in out/*.pdf; do
	qpdf --check "$f" >/dev/null 2>&1 || bad="$bad $f"
done
[ -z "$bad" ] && ok "qpdf --check: all 100 clean" || not_ok "qpdf --check" "$bad"

run verify --trust ca.pem out/*.pdf
expect_status 0 "certpress verify: all 100 valid"

# byterange FILE OUT: the signed bytes of FILE's last signature.
byterange() {
	set -- "$1" "$2" $(grep -a -o '/ByteRange \[[0-9 ]*\]' "$1" | tail -1 | tr -d '[]/A-Za-z')
	head -c "$4" "$1" >"$2"
	tail -c +"$(($5 + 1))" "$1" | head -c "$6" >>"$2"
}
f=out/S000044000123263000002.pdf
cp "$f" one.pdf
(pdfsig -nssdir sql:nss -dump one.pdf >/dev/null 2>&1)
byterange one.pdf one.bin
if openssl cms -verify -binary -cades -inform DER -in one.pdf.sig0 -content one.bin \
	-CAfile ca.pem -purpose any -out /dev/null 2>"$T_TMP/cms.err"; then
	grep -q "CAdES Verification successful" "$T_TMP/cms.err" \
		&& ok "openssl cms -verify -cades: CAdES Verification successful" \
		|| not_ok "openssl cms says" "$(cat "$T_TMP/cms.err")"
else
	not_ok "openssl cms -verify -cades" "$(cat "$T_TMP/cms.err")"
fi
cms=$(openssl cms -cmsout -print -inform DER -in one.pdf.sig0)
contains "$cms" "signingCertificateV2" "the CMS carries signing-certificate-v2"
lacks "$cms" "signingTime" "the CMS carries no signingTime (PAdES)"
contains "$cms" "messageDigest" "the CMS signs a message digest"

# The widget is the seal's box of the template (124,190 42x42 mm).
grep -a -q '/Rect \[351.50 184.25 470.55 303.31\]' "$f" \
	&& ok "the signature widget covers the seal's box" || not_ok "widget /Rect" "$(grep -a -o '/Rect \[[^]]*\]' "$f")"
# The signed page looks exactly like the unsigned electronic page: the seal
# where the picture was, nothing added or moved.
run render --org org.conf --mode electronic --no-ledger --cert-no S000044000123263000002 -o plain.pdf batch.csv
pdftoppm -r 50 "$f" signed && pdftoppm -r 50 plain.pdf plain
cmp -s signed-1.ppm plain-1.ppm && ok "the signed page renders pixel for pixel like the unsigned one" \
	|| not_ok "signed and unsigned pages differ"
# ... and the seal there is the signature's appearance, not page content.
pdftoppm -r 50 -hide-annotations "$f" bare
cmp -s bare-1.ppm plain-1.ppm && not_ok "the seal is still in the page content" \
	|| ok "without annotations the seal is gone: it is the signature widget's appearance"

# -------------------------------------------------- the printer's batch
run render --org org.conf --mode electronic --no-ledger -o printer.pdf batch.csv
pdfsig printer.pdf >"$T_TMP/ps" 2>&1
grep -q "does not contain any signatures" "$T_TMP/ps" && ok "the printer's batch PDF is never signed" \
	|| not_ok "printer's batch" "$(cat "$T_TMP/ps")"
run verify --trust ca.pem printer.pdf
expect_status 1 "verify: an unsigned file is not valid"
contains "$T_OUT" "no signature" "verify says the file has no signature"

# --------------------------------------------------------- tampering
cp "$f" flip.pdf
printf 'X' | dd of=flip.pdf bs=1 seek=3000 conv=notrunc 2>/dev/null
s=$(pdfsig -nssdir sql:nss flip.pdf 2>&1)
contains "$s" "Digest Mismatch." "pdfsig: a flipped byte is a digest mismatch"
run verify --trust ca.pem flip.pdf
expect_status 1 "verify: a flipped byte is refused"
contains "$T_OUT" "digest mismatch" "verify names the digest mismatch"

head -c 20000 "$f" >cut.pdf
run verify --trust ca.pem cut.pdf
expect_status 1 "verify: a truncated file is not valid"
run verify --trust ca.pem missing.pdf
expect_status 2 "verify: a file that cannot be opened is an environment error"

# An incremental update after signing (a new revision of the catalog).
cp "$f" appended.pdf
sx=$(tail -c 64 appended.pdf | grep -a -A1 startxref | tail -1)
sz=$(wc -c <appended.pdf)
root=$(grep -a -o '/Root [0-9]* [0-9]* R' appended.pdf | tail -1)
printf '999 0 obj\n(x)\nendobj\nxref\n999 1\n%010d 00000 n \ntrailer\n<< /Size 1000 %s /Prev %s >>\nstartxref\n%s\n%%%%EOF\n' \
	"$sz" "$root" "$sx" "$((sz + 21))" >>appended.pdf
run verify --trust ca.pem appended.pdf
expect_status 1 "verify: an update appended after signing is refused"
contains "$T_OUT" "changed after signing" "verify says the document changed after signing"
s=$(pdfsig -nssdir sql:nss appended.pdf 2>&1)
contains "$s" "Not total document signed" "pdfsig agrees: not total document signed"

# ------------------------------------------------- another key signs
mkdir forged
profile forged.conf test.key test.pem
run render --org forged.conf --mode electronic --format pdf --no-ledger --row 2 -o forged/ batch.csv
expect_status 0 "a test seal signs too"
run verify --trust ca.pem forged/*.pdf
expect_status 1 "verify: a file signed by another key is refused"
contains "$T_OUT" "unknown signer" "verify says the signer is unknown"
run verify --org org.conf forged/*.pdf
expect_status 1 "verify --org: the profile's seal does not vouch for another key"

# ----------------------------------------------- an expired certificate
# openssl x509 cannot backdate, so `openssl ca` issues one that has expired.
mkdir -p ca/newcerts && : >ca/index.txt && echo 1000 >ca/serial
cat >ca.cnf <<EOF
[ca]
default_ca = d
[d]
dir = ca
database = ca/index.txt
new_certs_dir = ca/newcerts
serial = ca/serial
default_md = sha256
policy = p
x509_extensions = x
[p]
commonName = supplied
[x]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,nonRepudiation
EOF
openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -in seal.csr \
	-startdate 20200101000000Z -enddate 20210101000000Z -out expired.pem >/dev/null 2>&1
cat expired.pem ca.pem >expired-chain.pem
profile expired.conf seal.key expired-chain.pem
mkdir expout
run render --org expired.conf --mode electronic --format pdf --no-ledger -o expout/ batch.csv
expect_status 2 "an expired seal certificate signs nothing"
contains "$T_ERR" "not valid now" "the refusal says the certificate is not valid now"
n=$(ls expout | wc -l)
[ "$n" -eq 0 ] && ok "nothing written with an expired certificate" || not_ok "files written: $n"

# ------------------------------------------------------------ ledger
run ledger revoke --ledger ledger.sqlite --cert-no S000044000123263000002 --reason "obtained by fraud"
expect_status 0 "revoke a certificate in the ledger"
run verify --trust ca.pem --ledger ledger.sqlite "$f"
expect_status 1 "verify --ledger: a revoked certificate is refused"
contains "$T_OUT" "revoked" "verify says it was revoked"
contains "$T_OUT" "obtained by fraud" "with the recorded reason"
run verify --trust ca.pem --ledger ledger.sqlite out/S000044000123264000003.pdf
expect_status 0 "verify --ledger: an issued certificate is valid"
contains "$T_OUT" "Ledger: issued" "verify reports it issued"
run verify --trust ca.pem --ledger ledger.sqlite --json out/S000044000123264000003.pdf "$f"
expect_status 1 "verify --json exits 1 when one file is refused"
contains "$T_OUT" '"valid": true' "the JSON has the valid file"
contains "$T_OUT" '"ledger": "revoked"' "the JSON has the revoked one"
contains "$T_OUT" '"id_masked": "' "the JSON carries the masked ID number"
lacks "$T_OUT" "44010319850312149X" "no whole ID number in verify's output"

# ------------------------------------------------------------- names
mkdir named
run render --org org.conf --mode electronic --format pdf --no-ledger --row 2 --name '{cert_no}-{name}' -o named/ batch.csv
expect_status 0 "--name pattern"
file_present "named/S000044000123263000002-陈志强.pdf" "files named {cert_no}-{name}"

run verify batch.csv
expect_status 2 "verify without --trust or --org is a usage error"

# keys new --org: the files go where the profile's [signing] says; a profile
# without [signing] needs --key and --cert.
mkdir -p "$T_TMP/korg"
sed -n '/^\[organization\]/,$p' "$T_TOP/templates/org.conf" | sed "s#^seal = .*#seal = $T_TOP/templates/seal.png#" >"$T_TMP/korg/plain.conf"
{ cat "$T_TMP/korg/plain.conf"; printf '\n[signing]\ncertificate = made.pem\nkey = made.key\n'; } >"$T_TMP/korg/org.conf"
run keys new --org "$T_TMP/korg/org.conf"
expect_status 0 "keys new --org makes the files its [signing] names"
if [ -f "$T_TMP/korg/made.key" ] && [ "$(stat -c %a "$T_TMP/korg/made.key")" = 600 ]; then ok "keys new --org: the key is there, mode 0600"
else not_ok "keys new --org: the key is there, mode 0600"; fi
run keys show --org "$T_TMP/korg/org.conf"
expect_status 0 "the profile then loads and shows its seal"
contains "$T_OUT" "TEST SEAL" "keys show --org: the test seal"
run keys new --org "$T_TMP/korg/plain.conf"
expect_status 2 "keys new --org without [signing] is a usage error"
contains "$T_ERR" "[signing]" "keys new --org without [signing]: says what is missing"

done_testing
