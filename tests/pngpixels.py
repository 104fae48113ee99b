#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Compares the image data of two PNG files whatever their compression:
IHDR, and the IDAT stream decompressed with Python's own zlib. Equal data
is equal pixels; certpress chooses each row's filter from its pixels alone,
so equal pixels give equal data too (src/output/png.c).

usage: pngpixels.py A.png B.png
  Exit status 0 when both are the same; 1 otherwise, naming the first
  differing row; 2 on a file that is not a PNG.
"""
import struct
import sys
import zlib

CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}


def image(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("%s: not a PNG" % path)
    pos, idat, head = 8, [], None
    while pos + 12 <= len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            head = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        pos += 12 + n
    if head is None or head[3] not in CHANNELS:
        raise ValueError("%s: no IHDR or an unsupported colour type" % path)
    return head, zlib.decompress(b"".join(idat))


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        ha, da = image(argv[1])
        hb, db = image(argv[2])
    except (OSError, ValueError, zlib.error, struct.error) as e:
        print("pngpixels: %s" % e, file=sys.stderr)
        return 2
    if ha != hb:
        print("IHDR differ: %s against %s" % (ha, hb))
        return 1
    if da != db:
        row = 1 + ha[0] * CHANNELS[ha[3]] * ha[2] // 8
        at = next((i for i in range(min(len(da), len(db))) if da[i] != db[i]), min(len(da), len(db)))
        print("row %d differs" % (at // row))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
