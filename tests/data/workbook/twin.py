#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""twin.py SAMPLE.csv PHOTOS_DIR N OUT.csv OUT.xlsx: a batch of N rows and its
workbook twin, for tests/cli/workbook.sh (Python's standard library only, no
certpress code). The rows are those of SAMPLE.csv over and over, each with a
certificate serial of its own (positions 17-22: the row's number), under a
title row. The CSV names the photo files; the workbook holds the photos
themselves, in the three ways spreadsheet programs put a picture in a row's
photo cell, in turn: anchored in the cell (a drawing, as Excel, WPS and
openpyxl paste one), WPS's DISPIMG("ID_…",1) with xl/cellimages.xml, and
Excel 365's Place in Cell (vm="N" → xl/metadata.xml → xl/richData; the
shapes of tests/data/workbook/gen_incell.py). Text is in shared strings,
issue dates are date cells in the zh-CN built-in format 31
(yyyy"年"m"月"d"日"), the title row is merged across the columns.
"""
import csv
import datetime
import os
import re
import sys
import zipfile
from xml.sax.saxutils import escape, quoteattr

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
XDR = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
A = "http://schemas.openxmlformats.org/drawingml/2006/main"
MS = "http://schemas.microsoft.com"
XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
TITLE = "2026年第3批鉴定合格人员名单"


def col_name(i):
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def serial(text):
    m = re.fullmatch(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})", text.strip())
    if not m:
        return None
    try:
        return (datetime.date(int(m[1]), int(m[2]), int(m[3])) - datetime.date(1899, 12, 30)).days
    except ValueError:
        return None


def main(sample, photos_dir, n, out_csv, out_xlsx):
    with open(sample, encoding="utf-8-sig", newline="") as f:
        src = list(csv.reader(f))
    header, body = src[0], src[1:]
    ncol = len(header)
    photo_col, date_col, no_col = header.index("照片"), header.index("发证日期"), header.index("证书编号")
    rows = []
    for i in range(n):
        r = list(body[i % len(body)])
        r[no_col] = r[no_col][:16] + "%06d" % (i + 1)
        rows.append(r)
    with open(out_csv, "w", encoding="utf-8", newline="") as f:
        f.write("\ufeff")
        w = csv.writer(f, lineterminator="\r\n")
        w.writerow([TITLE] + [""] * (ncol - 1))
        w.writerow(header)
        w.writerows(rows)

    photos = sorted({r[photo_col] for r in rows})
    pidx = {p: k for k, p in enumerate(photos)}
    strings, sidx = [], {}

    def s(v):
        if v not in sidx:
            sidx[v] = len(strings)
            strings.append(v)
        return sidx[v]

    sheet = [XML, '<worksheet xmlns="%s" xmlns:r="%s"><sheetData>' % (MAIN, REL),
             '<row r="1"><c r="A1" t="s"><v>%d</v></c></row>' % s(TITLE),
             '<row r="2">%s</row>' % "".join('<c r="%s2" t="s"><v>%d</v></c>' % (col_name(c), s(v))
                                             for c, v in enumerate(header))]
    anchors = []
    for i, r in enumerate(rows):
        rn = i + 3
        cells = []
        for c, v in enumerate(r):
            ref = "%s%d" % (col_name(c), rn)
            if c == photo_col:
                k = pidx[v]
                if i % 3 == 0:    # anchored: the cell stays empty
                    anchors.append((rn - 1, c, k))
                elif i % 3 == 1:  # WPS
                    f = 'DISPIMG("ID_PHOTO%02d",1)' % k
                    cells.append('<c r="%s" t="str"><f>_xlfn.%s</f><v>=%s</v></c>'
                                 % (ref, escape(f), escape(f)))
                else:             # Excel 365
                    cells.append('<c r="%s" t="e" vm="%d"><v>#VALUE!</v></c>' % (ref, k + 1))
            elif v == "":
                continue
            elif c == date_col and serial(v) is not None:
                cells.append('<c r="%s" s="1"><v>%d</v></c>' % (ref, serial(v)))
            else:
                cells.append('<c r="%s" t="s"><v>%d</v></c>' % (ref, s(v)))
        sheet.append('<row r="%d">%s</row>' % (rn, "".join(cells)))
    sheet.append('</sheetData><mergeCells count="1"><mergeCell ref="A1:%s1"/></mergeCells>'
                 '<drawing r:id="rId1"/></worksheet>' % col_name(ncol - 1))

    drawing = [XML, '<xdr:wsDr xmlns:xdr="%s" xmlns:a="%s" xmlns:r="%s">' % (XDR, A, REL)]
    for j, (row0, col, k) in enumerate(anchors):
        drawing.append(
            '<xdr:oneCellAnchor><xdr:from><xdr:col>%d</xdr:col><xdr:colOff>0</xdr:colOff>'
            '<xdr:row>%d</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:from>'
            '<xdr:ext cx="749300" cy="1049020"/><xdr:pic><xdr:nvPicPr>'
            '<xdr:cNvPr id="%d" name="Picture %d"/><xdr:cNvPicPr/></xdr:nvPicPr>'
            '<xdr:blipFill><a:blip r:embed="rId%d"/><a:stretch><a:fillRect/></a:stretch>'
            '</xdr:blipFill><xdr:spPr><a:prstGeom prst="rect"/></xdr:spPr></xdr:pic>'
            '<xdr:clientData/></xdr:oneCellAnchor>' % (col, row0, j + 2, j + 1, k + 1))
    drawing.append("</xdr:wsDr>")

    def media_rels(prefix):
        return (XML + '<Relationships xmlns="%s">%s</Relationships>'
                % (PKG, "".join('<Relationship Id="rId%d" Type="%s/image" Target="%smedia/photo%02d.jpeg"/>'
                                % (k + 1, REL, prefix, k) for k in range(len(photos)))))

    np = len(photos)
    cellimages = (XML + '<etc:cellImages xmlns:xdr="%s" xmlns:r="%s" xmlns:a="%s" '
                  'xmlns:etc="http://www.wps.cn/officeDocument/2017/etCustomData">%s</etc:cellImages>'
                  % (XDR, REL, A, "".join(
                      '<etc:cellImage><xdr:pic><xdr:nvPicPr><xdr:cNvPr id="%d" name="ID_PHOTO%02d"/>'
                      '<xdr:cNvPicPr/></xdr:nvPicPr><xdr:blipFill><a:blip r:embed="rId%d"/>'
                      '</xdr:blipFill></xdr:pic></etc:cellImage>' % (k + 2, k, k + 1) for k in range(np))))
    metadata = (XML + '<metadata xmlns="%s" xmlns:xlrd="%s/office/spreadsheetml/2017/richdata">'
                '<metadataTypes count="1"><metadataType name="XLRICHVALUE" minSupportedVersion="120000"/>'
                '</metadataTypes><futureMetadata name="XLRICHVALUE" count="%d">%s</futureMetadata>'
                '<valueMetadata count="%d">%s</valueMetadata></metadata>'
                % (MAIN, MS, np, "".join('<bk><extLst><ext uri="{3e2802c4-a4d2-4d8b-9148-e3be6c30e623}">'
                                         '<xlrd:rvb i="%d"/></ext></extLst></bk>' % k for k in range(np)),
                   np, "".join('<bk><rc t="1" v="%d"/></bk>' % k for k in range(np))))
    structure = (XML + '<rvStructures xmlns="%s/office/spreadsheetml/2017/richdata" count="1">'
                 '<s t="_localImage"><k n="_rvRel:LocalImageIdentifier" t="i"/><k n="CalcOrigin" t="i"/>'
                 '</s></rvStructures>' % MS)
    values = (XML + '<rvData xmlns="%s/office/spreadsheetml/2017/richdata" count="%d">%s</rvData>'
              % (MS, np, "".join('<rv s="0"><v>%d</v><v>5</v></rv>' % k for k in range(np))))
    valuerel = (XML + '<richValueRels xmlns="%s/office/spreadsheetml/2022/richvaluerel" xmlns:r="%s">%s'
                '</richValueRels>' % (MS, REL, "".join('<rel r:id="rId%d"/>' % (k + 1) for k in range(np))))
    sst = (XML + '<sst xmlns="%s" count="%d" uniqueCount="%d">%s</sst>'
           % (MAIN, len(strings), len(strings),
              "".join('<si><t xml:space="preserve">%s</t></si>' % escape(v) for v in strings)))
    parts = [
        ("[Content_Types].xml", XML + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/'
         'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
         'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
         '<Default Extension="jpeg" ContentType="image/jpeg"/></Types>'),
        ("_rels/.rels", XML + '<Relationships xmlns="%s"><Relationship Id="rId1" Type="%s/officeDocument" '
         'Target="xl/workbook.xml"/></Relationships>' % (PKG, REL)),
        ("xl/workbook.xml", XML + '<workbook xmlns="%s" xmlns:r="%s"><sheets><sheet name=%s sheetId="1" '
         'r:id="rId1"/></sheets></workbook>' % (MAIN, REL, quoteattr("名单"))),
        ("xl/_rels/workbook.xml.rels", XML + '<Relationships xmlns="%s">'
         '<Relationship Id="rId1" Type="%s/worksheet" Target="worksheets/sheet1.xml"/>'
         '<Relationship Id="rId2" Type="%s/sharedStrings" Target="sharedStrings.xml"/>'
         '<Relationship Id="rId3" Type="%s/styles" Target="styles.xml"/>'
         '<Relationship Id="rId4" Type="http://www.wps.cn/officeDocument/2020/cellImage" Target="cellimages.xml"/>'
         '<Relationship Id="rId5" Type="%s/sheetMetadata" Target="metadata.xml"/>'
         '<Relationship Id="rId6" Type="%s/office/2022/10/relationships/richValueRel" '
         'Target="richData/richValueRel.xml"/>'
         '<Relationship Id="rId7" Type="%s/office/2017/06/relationships/rdRichValue" '
         'Target="richData/rdrichvalue.xml"/>'
         '<Relationship Id="rId8" Type="%s/office/2017/06/relationships/rdRichValueStructure" '
         'Target="richData/rdrichvaluestructure.xml"/></Relationships>' % (PKG, REL, REL, REL, REL, MS, MS, MS)),
        ("xl/styles.xml", XML + '<styleSheet xmlns="%s"><cellXfs count="2"><xf numFmtId="0"/>'
         '<xf numFmtId="31" applyNumberFormat="1"/></cellXfs></styleSheet>' % MAIN),
        ("xl/sharedStrings.xml", sst),
        ("xl/worksheets/sheet1.xml", "".join(sheet)),
        ("xl/worksheets/_rels/sheet1.xml.rels", XML + '<Relationships xmlns="%s"><Relationship Id="rId1" '
         'Type="%s/drawing" Target="../drawings/drawing1.xml"/></Relationships>' % (PKG, REL)),
        ("xl/drawings/drawing1.xml", "".join(drawing)),
        ("xl/drawings/_rels/drawing1.xml.rels", media_rels("../")),
        ("xl/cellimages.xml", cellimages),
        ("xl/_rels/cellimages.xml.rels", media_rels("")),
        ("xl/metadata.xml", metadata),
        ("xl/richData/rdrichvaluestructure.xml", structure),
        ("xl/richData/rdrichvalue.xml", values),
        ("xl/richData/richValueRel.xml", valuerel),
        ("xl/richData/_rels/richValueRel.xml.rels", media_rels("../")),
    ]
    with zipfile.ZipFile(out_xlsx, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in parts:
            z.writestr(name, text.encode("utf-8"))
        for k, p in enumerate(photos):
            with open(os.path.join(photos_dir, os.path.basename(p)), "rb") as f:
                z.writestr("xl/media/photo%02d.jpeg" % k, f.read())


if __name__ == "__main__":
    if len(sys.argv) != 6:
        sys.exit("usage: twin.py SAMPLE.csv PHOTOS_DIR N OUT.csv OUT.xlsx")
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5])
