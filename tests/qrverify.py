#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""An independent verifier of certpress's signed QR codes, written from
docs/verify.md ("The signed QR code") with Debian's python3-cbor2 and
python3-cryptography, sharing no code with certpress.

usage: qrverify.py SEAL.pem [FILE]
  Reads the texts QR codes decoded to (one a line, as `zbarimg --raw` prints
  them) from FILE or standard input. For each prints one line:
    valid<TAB>CERT_NO<TAB>NAME<TAB>ID_MASKED<TAB>OCCUPATION<TAB>JOB_TYPE<TAB>LEVEL<TAB>DATE<TAB>ORG
    refused<TAB>REASON
  Exit status 0 when every line is valid, 1 otherwise, 2 on bad usage.
"""
import base64
import hashlib
import sys

import cbor2
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

FIELDS = {1: "cert_no", 2: "name", 3: "id_masked", 4: "occupation", 5: "job_type",
          6: "level", 7: "issue_date", 8: "organization"}


class Refused(Exception):
    pass


def kid_of(cert):
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).digest()[:8]


def verify(text, certs):
    url, sep, frag = text.partition("#")
    if not sep or not frag.startswith("cp1."):
        raise Refused("no signed token")
    tok = frag[4:]
    if any(c not in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_" for c in tok):
        raise Refused("not base64url")
    try:
        raw = base64.urlsafe_b64decode(tok + "=" * (-len(tok) % 4))
        obj = cbor2.loads(raw)
    except Exception as e:  # noqa: BLE001 - any decoding failure is a refusal
        raise Refused("token does not decode: %s" % e)
    if not isinstance(obj, cbor2.CBORTag) or obj.tag != 18:
        raise Refused("not a tagged COSE_Sign1")
    arr = obj.value
    if not isinstance(arr, list) or len(arr) != 4:
        raise Refused("COSE_Sign1 is not an array of 4")
    prot_b, unprot, payload_b, sig = arr
    if not (isinstance(prot_b, bytes) and isinstance(unprot, dict)
            and isinstance(payload_b, bytes) and isinstance(sig, bytes)):
        raise Refused("COSE_Sign1 members have the wrong types")
    prot = cbor2.loads(prot_b)
    if prot.get(1) != -7:
        raise Refused("algorithm is not ES256")
    kid = prot.get(4)
    if not isinstance(kid, bytes) or len(kid) != 8:
        raise Refused("no 8-byte kid")
    if len(sig) != 64:
        raise Refused("signature is not 64 bytes")
    payload = cbor2.loads(payload_b)
    if not isinstance(payload, dict) or any(k not in FIELDS or not isinstance(v, str)
                                            for k, v in payload.items()):
        raise Refused("payload is not a map of the known fields to text")
    cert = next((c for c in certs if kid_of(c) == kid), None)
    if cert is None:
        raise Refused("unknown kid %s" % kid.hex())
    tbs = cbor2.dumps(["Signature1", prot_b, url.encode("utf-8"), payload_b])
    der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
    try:
        cert.public_key().verify(der, tbs, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise Refused("bad signature")
    return [payload.get(k, "") for k in sorted(FIELDS)]


def main():
    if len(sys.argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[1], "rb") as f:
        pem = f.read()
    end = b"-----END CERTIFICATE-----"
    certs = [x509.load_pem_x509_certificate(b + end) for b in pem.split(end) if b"BEGIN" in b]
    src = open(sys.argv[2], encoding="utf-8") if len(sys.argv) == 3 else sys.stdin
    status = 0
    n = 0
    for line in src:
        line = line.rstrip("\n")
        if not line:
            continue
        n += 1
        try:
            print("valid\t" + "\t".join(verify(line, certs)))
        except Refused as e:
            print("refused\t%s" % e)
            status = 1
    if n == 0:
        print("refused\tno QR code text", file=sys.stdout)
        status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
