#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""csv2xlsx.py IN.csv OUT.xlsx: the benchmark's batch as a workbook, the way
Excel saves one (bench/README.md, check-10k-xlsx): text cells in the shared
strings table, issue dates written as YYYY-MM-DD or YYYY/MM/DD as date cells
(serials, built-in format 14), every other cell as text, so that certpress
reads the same batch as from the CSV. Python's standard library only (csv,
zipfile), no certpress code; written atomically (a temporary file renamed).
"""
import csv
import datetime
import os
import re
import sys
import zipfile
from xml.sax.saxutils import escape

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
EPOCH = datetime.date(1899, 12, 30)  # serial 61 = 1900-03-01 and on


def col_name(i):
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def date_serial(text):
    m = re.fullmatch(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})", text)
    if not m:
        return None
    try:
        return (datetime.date(int(m[1]), int(m[2]), int(m[3])) - EPOCH).days
    except ValueError:
        return None


def main(src, out):
    with open(src, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    date_col = rows[0].index("发证日期")
    strings, index = [], {}
    sheet = [XML, '<worksheet xmlns="%s"><sheetData>' % MAIN]
    for r, row in enumerate(rows, 1):
        cells = []
        for c, v in enumerate(row):
            if v == "":
                continue
            ref = "%s%d" % (col_name(c), r)
            serial = date_serial(v) if r > 1 and c == date_col else None
            if serial is not None:
                cells.append('<c r="%s" s="1"><v>%d</v></c>' % (ref, serial))
                continue
            if v not in index:
                index[v] = len(strings)
                strings.append(v)
            cells.append('<c r="%s" t="s"><v>%d</v></c>' % (ref, index[v]))
        sheet.append('<row r="%d">%s</row>' % (r, "".join(cells)))
    sheet.append("</sheetData></worksheet>")
    sst = [XML, '<sst xmlns="%s" count="%d" uniqueCount="%d">' % (MAIN, len(strings), len(strings))]
    sst += ['<si><t xml:space="preserve">%s</t></si>' % escape(s) for s in strings]
    sst.append("</sst>")
    parts = {
        "[Content_Types].xml": XML + (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="%s.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="%s.worksheet+xml"/>'
            '<Override PartName="/xl/sharedStrings.xml" ContentType="%s.sharedStrings+xml"/>'
            '<Override PartName="/xl/styles.xml" ContentType="%s.styles+xml"/></Types>'
            % (CT, CT, CT, CT)),
        "_rels/.rels": XML + (
            '<Relationships xmlns="%s"><Relationship Id="rId1" Type="%s/officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>' % (PKG, REL)),
        "xl/workbook.xml": XML + (
            '<workbook xmlns="%s" xmlns:r="%s"><sheets><sheet name="名单" sheetId="1" '
            'r:id="rId1"/></sheets></workbook>' % (MAIN, REL)),
        "xl/_rels/workbook.xml.rels": XML + (
            '<Relationships xmlns="%s">'
            '<Relationship Id="rId1" Type="%s/worksheet" Target="worksheets/sheet1.xml"/>'
            '<Relationship Id="rId2" Type="%s/sharedStrings" Target="sharedStrings.xml"/>'
            '<Relationship Id="rId3" Type="%s/styles" Target="styles.xml"/>'
            '</Relationships>' % (PKG, REL, REL, REL)),
        "xl/styles.xml": XML + (
            '<styleSheet xmlns="%s"><fonts count="1"><font/></fonts><fills count="1"><fill/></fills>'
            '<borders count="1"><border/></borders><cellStyleXfs count="1"><xf/></cellStyleXfs>'
            '<cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="14" applyNumberFormat="1"/>'
            '</cellXfs></styleSheet>' % MAIN),
        "xl/sharedStrings.xml": "".join(sst),
        "xl/worksheets/sheet1.xml": "".join(sheet),
    }
    tmp = out + ".tmp"
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in parts.items():
            z.writestr(name, text.encode("utf-8"))
    os.replace(tmp, out)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: csv2xlsx.py IN.csv OUT.xlsx")
    main(sys.argv[1], sys.argv[2])
