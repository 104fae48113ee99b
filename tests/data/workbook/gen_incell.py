#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Writes the "picture in cell" fixtures of tests/cli/workbook.sh: the sample
batch with its photos placed in the photo cells the two ways spreadsheet
programs do it, as no Debian program writes them:

- incell-wps.xlsx, as WPS Office does (插入图片 → 嵌入单元格): each photo cell
  holds the formula _xlfn.DISPIMG("ID_…",1) with the cached value
  =DISPIMG("ID_…",1); xl/cellimages.xml (relationship type
  http://www.wps.cn/officeDocument/2020/cellImage) lists one xdr:pic per
  picture, its xdr:cNvPr name the ID and its a:blip r:embed an image of
  xl/_rels/cellimages.xml.rels.
- incell-excel.xlsx, as Excel 365 does (Place in Cell, IMAGE): each photo
  cell is the error #VALUE! with vm="N"; xl/metadata.xml's N-th
  valueMetadata block (from 1) has <rc t="1" v="N-1"/>, t the metadata type
  XLRICHVALUE (from 1) and v its futureMetadata block (from 0) holding
  <xlrd:rvb i="N-1"/>, the rich value of xl/richData/rdrichvalue.xml, whose
  values follow the keys of its structure in rdrichvaluestructure.xml
  (_rvRel:LocalImageIdentifier, CalcOrigin): the first is the index of a
  <rel r:id> in richValueRel.xml, resolved by richValueRel.xml.rels.
- incell-bad-wps.xlsx, five rows of the sample, row 3 a DISPIMG of an ID
  the workbook does not hold; incell-bad-excel.xlsx, row 4 a picture in the
  cell with another anchored over it, row 5 a vm beyond xl/metadata.xml.

The structure follows what XlsxWriter writes for embed_image() (its
metadata.py, rich_value.py, rich_value_structure.py, rich_value_rel.py) and
public descriptions of WPS files (the DISPIMG formula and cellimages.xml as
read by the readers of such files); no code of theirs is used. openpyxl
writes the rest (title row, text cells, the anchored picture); this script
then rewrites the photo cells and adds the parts. Run from the top folder:

    /usr/bin/python3 tests/data/workbook/gen_incell.py

and commit the outputs with this script (needs python3-openpyxl and
python3-pil).
"""
import csv
import os
import re
import zipfile

import openpyxl
from openpyxl.drawing.image import Image

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
TITLE = "2026年第3批鉴定合格人员名单"
RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
MS = "http://schemas.microsoft.com"
XDR = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
A = "http://schemas.openxmlformats.org/drawingml/2006/main"


def rows_of(path):
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


def wps_id(n):
    return "ID_%032X" % (0x5A17C0DE0000 + n * 7919)


def base(rows, out, anchored=()):
    """The sheet with a title row, the photo cells holding a marker
    @@PIC:n@@ (n the picture's number from 0, or a bad one) to be
    rewritten; pictures anchored over the rows in anchored."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "名单"
    ws.append([TITLE])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(rows[0]))
    col = rows[0].index("照片")
    letter = openpyxl.utils.get_column_letter(col + 1)
    photos = []
    for i, r in enumerate(rows):
        r = list(r)
        if i:
            photos.append(os.path.join(TOP, "templates/sample", r[col]))
            r[col] = "@@PIC:%d@@" % (i - 1)
            if i + 2 in anchored:
                ws.add_image(Image(photos[-1]), "%s%d" % (letter, i + 2))
        ws.append(r)
    wb.save(out)
    return photos


def rewrite(out, cell, parts, rels, types):
    """Rewrites the marked cells with cell(n) and adds the parts, the
    workbook relationships and the content types."""
    tmp = out + ".tmp"
    with zipfile.ZipFile(out) as zin, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(
                    r'<c r="([A-Z]+[0-9]+)" t="inlineStr"><is><t>@@PIC:(-?[0-9]+)@@</t></is></c>',
                    lambda m: cell(m.group(1), int(m.group(2))), data.decode()).encode()
            elif item.filename == "xl/_rels/workbook.xml.rels":
                data = data.decode().replace("</Relationships>", rels + "</Relationships>").encode()
            elif item.filename == "[Content_Types].xml":
                data = data.decode().replace("</Types>", types + "</Types>").encode()
            zout.writestr(item, data)
        for name, data in parts:
            zout.writestr(name, data)
    os.replace(tmp, out)


def media(photos):
    return [("xl/media/cell%d.jpeg" % (i + 1), open(p, "rb").read()) for i, p in enumerate(photos)]


def write_wps(rows, out, bad_id_row=None, anchored=()):
    photos = base(rows, out, anchored)
    pics, prels = [], []
    for i in range(len(photos)):
        pics.append(
            '<etc:cellImage><xdr:pic><xdr:nvPicPr><xdr:cNvPr id="%d" name="%s"/>'
            '<xdr:cNvPicPr><a:picLocks noChangeAspect="1"/></xdr:cNvPicPr></xdr:nvPicPr>'
            '<xdr:blipFill><a:blip r:embed="rId%d"/><a:stretch><a:fillRect/></a:stretch>'
            '</xdr:blipFill><xdr:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="749300" cy="1049020"/>'
            '</a:xfrm><a:prstGeom prst="rect"><a:avLst/></a:prstGeom></xdr:spPr></xdr:pic>'
            '</etc:cellImage>' % (i + 2, wps_id(i), i + 1))
        prels.append('<Relationship Id="rId%d" Type="%s/image" Target="media/cell%d.jpeg"/>'
                     % (i + 1, RELS, i + 1))

    def cell(ref, n):
        ident = wps_id(n) if int(re.sub("[A-Z]", "", ref)) != bad_id_row else "ID_00000000000000000000000000000000"
        return ('<c r="%s" t="str"><f>_xlfn.DISPIMG("%s",1)</f><v>=DISPIMG("%s",1)</v></c>'
                % (ref, ident, ident))

    parts = [("xl/cellimages.xml",
              '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
              '<etc:cellImages xmlns:xdr="%s" xmlns:r="%s" xmlns:a="%s" '
              'xmlns:etc="http://www.wps.cn/officeDocument/2017/etCustomData">%s</etc:cellImages>'
              % (XDR, RELS, A, "".join(pics))),
             ("xl/_rels/cellimages.xml.rels",
              '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
              '<Relationships xmlns="%s">%s</Relationships>' % (PKG, "".join(prels)))]
    rewrite(out, cell, parts + media(photos),
            '<Relationship Id="rIdCellImages" Type="http://www.wps.cn/officeDocument/2020/cellImage" '
            'Target="cellimages.xml"/>',
            '<Default Extension="jpeg" ContentType="image/jpeg"/>'
            '<Override PartName="/xl/cellimages.xml" ContentType="application/vnd.wps-officedocument.cellimage+xml"/>')


def write_excel(rows, out, bad_vm_row=None, anchored=()):
    photos = base(rows, out, anchored)
    n = len(photos)

    def cell(ref, i):
        vm = i + 1 if int(re.sub("[A-Z]", "", ref)) != bad_vm_row else n + 5
        return '<c r="%s" t="e" vm="%d"><v>#VALUE!</v></c>' % (ref, vm)

    xml = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    metadata = (xml + '<metadata xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                'xmlns:xlrd="%s/office/spreadsheetml/2017/richdata"><metadataTypes count="1">'
                '<metadataType name="XLRICHVALUE" minSupportedVersion="120000" copy="1" pasteAll="1" '
                'pasteValues="1" merge="1" splitFirst="1" rowColShift="1" clearFormats="1" '
                'clearComments="1" assign="1" coerce="1"/></metadataTypes>'
                '<futureMetadata name="XLRICHVALUE" count="%d">%s</futureMetadata>'
                '<valueMetadata count="%d">%s</valueMetadata></metadata>'
                % (MS, n, "".join('<bk><extLst><ext uri="{3e2802c4-a4d2-4d8b-9148-e3be6c30e623}">'
                                  '<xlrd:rvb i="%d"/></ext></extLst></bk>' % i for i in range(n)),
                   n, "".join('<bk><rc t="1" v="%d"/></bk>' % i for i in range(n))))
    structure = (xml + '<rvStructures xmlns="%s/office/spreadsheetml/2017/richdata" count="1">'
                 '<s t="_localImage"><k n="_rvRel:LocalImageIdentifier" t="i"/>'
                 '<k n="CalcOrigin" t="i"/></s></rvStructures>' % MS)
    values = (xml + '<rvData xmlns="%s/office/spreadsheetml/2017/richdata" count="%d">%s</rvData>'
              % (MS, n, "".join('<rv s="0"><v>%d</v><v>5</v></rv>' % i for i in range(n))))
    valuerel = (xml + '<richValueRels xmlns="%s/office/spreadsheetml/2022/richvaluerel" '
                'xmlns:r="%s">%s</richValueRels>'
                % (MS, RELS, "".join('<rel r:id="rId%d"/>' % (i + 1) for i in range(n))))
    valuerel_rels = (xml + '<Relationships xmlns="%s">%s</Relationships>'
                     % (PKG, "".join('<Relationship Id="rId%d" Type="%s/image" '
                                     'Target="../media/cell%d.jpeg"/>' % (i + 1, RELS, i + 1)
                                     for i in range(n))))
    parts = [("xl/metadata.xml", metadata),
             ("xl/richData/rdrichvaluestructure.xml", structure),
             ("xl/richData/rdrichvalue.xml", values),
             ("xl/richData/richValueRel.xml", valuerel),
             ("xl/richData/_rels/richValueRel.xml.rels", valuerel_rels)]
    rels = ('<Relationship Id="rIdMeta" Type="%s/sheetMetadata" Target="metadata.xml"/>'
            '<Relationship Id="rIdRvRel" Type="%s/office/2022/10/relationships/richValueRel" '
            'Target="richData/richValueRel.xml"/>'
            '<Relationship Id="rIdRv" Type="%s/office/2017/06/relationships/rdRichValue" '
            'Target="richData/rdrichvalue.xml"/>'
            '<Relationship Id="rIdRvS" Type="%s/office/2017/06/relationships/rdRichValueStructure" '
            'Target="richData/rdrichvaluestructure.xml"/>' % (RELS, MS, MS, MS))
    types = ('<Default Extension="jpeg" ContentType="image/jpeg"/>'
             '<Override PartName="/xl/metadata.xml" ContentType="application/vnd.openxmlformats-'
             'officedocument.spreadsheetml.sheetMetadata+xml"/>'
             '<Override PartName="/xl/richData/rdrichvalue.xml" ContentType="application/vnd.ms-excel.rdrichvalue+xml"/>'
             '<Override PartName="/xl/richData/rdrichvaluestructure.xml" '
             'ContentType="application/vnd.ms-excel.rdrichvaluestructure+xml"/>'
             '<Override PartName="/xl/richData/richValueRel.xml" ContentType="application/vnd.ms-excel.richvaluerel+xml"/>')
    rewrite(out, cell, parts + media(photos), rels, types)


def main():
    sample = rows_of(os.path.join(TOP, "templates/sample/batch.csv"))
    write_wps(sample, os.path.join(HERE, "incell-wps.xlsx"))
    write_excel(sample, os.path.join(HERE, "incell-excel.xlsx"))
    # the bad rows: 3 (WPS ID not there) in one, 4 and 5 in the other
    write_wps(sample[:6], os.path.join(HERE, "incell-bad-wps.xlsx"), bad_id_row=3)
    write_excel(sample[:6], os.path.join(HERE, "incell-bad-excel.xlsx"), bad_vm_row=5,
                anchored=(4,))


if __name__ == "__main__":
    main()
