#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""An independent verifier of certpress's signed PNG images, written from
docs/verify.md ("Signed PNG images") with Python's own zlib/hashlib and
Debian's python3-cbor2 and python3-cryptography, sharing no code with
certpress. The token in the iTXt chunk is checked by tests/qrverify.py's
verify() (the same format as the QR code).

usage: pngverify.py SEAL.pem FILE.png...
  For each file prints one line:
    valid<TAB>FILE<TAB>CERT_NO<TAB>NAME<TAB>…   (the token's fields)
    refused<TAB>FILE<TAB>REASON
  Exit status 0 when every file is valid, 1 otherwise, 2 on bad usage.
"""
import hashlib
import os
import struct
import sys
import zlib

import cbor2
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qrverify import Refused, kid_of, verify as verify_token  # noqa: E402

PNG_SIG = b"\x89PNG\r\n\x1a\n"
AAD = b"certpress PNG 1"
KEYWORD = b"certpress-token"


def chunks(data):
    """(offset, type, body) for each chunk; refuses a malformed file."""
    if not data.startswith(PNG_SIG):
        raise Refused("not a PNG")
    off = 8
    while off < len(data):
        if off + 12 > len(data):
            raise Refused("truncated chunk at %d" % off)
        n, = struct.unpack(">I", data[off:off + 4])
        ctype = data[off + 4:off + 8]
        if off + 12 + n > len(data):
            raise Refused("chunk %r runs past the end" % ctype)
        body = data[off + 8:off + 8 + n]
        crc, = struct.unpack(">I", data[off + 8 + n:off + 12 + n])
        if zlib.crc32(ctype + body) != crc:
            raise Refused("bad CRC in chunk %r" % ctype)
        yield off, ctype, body
        off += 12 + n


def itxt(body):
    key, _, rest = body.partition(b"\0")
    if key != KEYWORD or len(rest) < 2 or rest[0] != 0:
        return None
    rest = rest[2:]
    _lang, _, rest = rest.partition(b"\0")
    _tkey, _, text = rest.partition(b"\0")
    return text.decode("utf-8")


def verify_png(data, certs):
    token = None
    sig_at = None
    seal = None
    after = []
    for off, ctype, body in chunks(data):
        if sig_at is not None:
            after.append((off, ctype, body))
        elif ctype == b"cpSG":
            sig_at, seal = off, body
        elif ctype == b"iTXt" and token is None:
            token = itxt(body)
    if seal is None:
        raise Refused("no cpSG chunk")
    if [c for _, c, _ in after] != [b"IEND"] or after[0][2] != b"" or \
            after[0][0] + 12 != len(data):
        raise Refused("something other than IEND follows the cpSG chunk")
    obj = cbor2.loads(seal)
    if not isinstance(obj, cbor2.CBORTag) or obj.tag != 18 or len(obj.value) != 4:
        raise Refused("cpSG is not a COSE_Sign1")
    prot_b, _unprot, payload_b, sig = obj.value
    prot = cbor2.loads(prot_b)
    if prot.get(1) != -7 or not isinstance(prot.get(4), bytes) or len(sig) != 64:
        raise Refused("cpSG is not ES256 with a kid")
    cert = next((c for c in certs if kid_of(c) == prot[4]), None)
    if cert is None:
        raise Refused("unknown kid %s" % prot[4].hex())
    tbs = cbor2.dumps(["Signature1", prot_b, AAD, payload_b])
    der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
    try:
        cert.public_key().verify(der, tbs, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise Refused("bad signature on cpSG")
    payload = cbor2.loads(payload_b)
    if set(payload) != {1, 2}:
        raise Refused("cpSG payload is not {1: sha256, 2: length}")
    if payload[2] != sig_at or hashlib.sha256(data[:sig_at]).digest() != payload[1]:
        raise Refused("image changed after it was issued")
    if token is None:
        raise Refused("no certpress-token iTXt chunk")
    return verify_token(token, certs)


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[1], "rb") as f:
        pem = f.read()
    end = b"-----END CERTIFICATE-----"
    certs = [x509.load_pem_x509_certificate(b + end) for b in pem.split(end) if b"BEGIN" in b]
    status = 0
    for path in sys.argv[2:]:
        with open(path, "rb") as f:
            data = f.read()
        try:
            print("valid\t%s\t%s" % (path, "\t".join(verify_png(data, certs))))
        except Refused as e:
            print("refused\t%s\t%s" % (path, e))
            status = 1
        except Exception as e:  # noqa: BLE001 - any decoding failure is a refusal
            print("refused\t%s\tdoes not decode: %s" % (path, e))
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
