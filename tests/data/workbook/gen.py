#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Writes the workbook fixtures of tests/cli/workbook.sh from their CSV twins,
with programs other than certpress: python3-openpyxl (.xlsx, inline strings,
custom date formats) and python3-xlwt (.xls, BIFF8), both from Debian
(apt-get install python3-openpyxl python3-xlwt). Run from the top folder:

    /usr/bin/python3 tests/data/workbook/gen.py

and commit the outputs with this script. Each workbook holds a title row
(merged across the columns, as operators have it) above the header, then
the rows of the CSV: every cell as text, except the issue dates that are
real dates, which become date cells in a rotating choice of number formats,
and the ID number of the rows listed in NUMERIC_ID, typed as a number.
pictures.xlsx has the sample's photos pasted into the photo cells (needs
python3-pil too); pictures-bad.xlsx the ways a pasted photo is refused.
"""
import csv
import datetime
import os
import re

import openpyxl
import xlwt

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
TITLE = "2026年第3批鉴定合格人员名单"
XLSX_DATE_FORMATS = ['yyyy"年"m"月"d"日"', "yyyy/m/d", "yyyy-mm-dd", "[$-804]yyyy\"年\"m\"月\"d\"日\";@"]
XLS_DATE_FORMATS = ['YYYY"年"M"月"D"日"', "YYYY/M/D", "YYYY-MM-DD"]


def rows_of(path):
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


def as_date(s):
    m = re.fullmatch(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})", s.strip())
    if not m:
        return None
    try:
        return datetime.date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None


def write_xlsx(rows, out, sheet, numeric_id=()):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "说明"
    ws["A1"] = "本工作簿第二张表为名单"  # the list is not the first sheet by position
    ws = wb.create_sheet(sheet, 0)  # ... but it is the first in tab order
    ws.append([TITLE])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(rows[0]))
    header = rows[0]
    date_col = header.index("发证日期") if "发证日期" in header else -1
    id_col = header.index("证件号码") if "证件号码" in header else -1
    n = 0
    for i, r in enumerate(rows):
        ws.append(r)
        if i == 0:
            continue
        excel_row = ws.max_row
        if date_col >= 0 and as_date(r[date_col]):
            c = ws.cell(row=excel_row, column=date_col + 1)
            c.value = as_date(r[date_col])
            c.number_format = XLSX_DATE_FORMATS[n % len(XLSX_DATE_FORMATS)]
            n += 1
        if i in numeric_id and r[id_col].isdigit():
            ws.cell(row=excel_row, column=id_col + 1).value = int(r[id_col])
    wb.save(out)


def write_xls(rows, out, sheet):
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet(sheet)
    ws.write_merge(0, 0, 0, len(rows[0]) - 1, TITLE)
    header = rows[0]
    date_col = header.index("发证日期") if "发证日期" in header else -1
    styles = [xlwt.easyxf(num_format_str=f) for f in XLS_DATE_FORMATS]
    n = 0
    for i, r in enumerate(rows):
        for j, v in enumerate(r):
            d = as_date(v) if i and j == date_col else None
            if d:
                ws.write(i + 1, j, d, styles[n % len(styles)])
                n += 1
            else:
                ws.write(i + 1, j, v)
    wb.save(out)


def write_pictures(rows, out, sheet, bad=False):
    """The photo column left blank and each photo pasted into its cell
    instead (anchored to that one cell, as openpyxl does). With bad: row 3
    gets a second picture, row 4 a picture reaching into row 5 (a two-cell
    anchor) and row 6 both its file name and a picture."""
    from openpyxl.drawing.image import Image
    from openpyxl.drawing.spreadsheet_drawing import AnchorMarker, TwoCellAnchor

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append([TITLE])
    header = rows[0]
    photo_col = header.index("照片")
    letter = openpyxl.utils.get_column_letter(photo_col + 1)
    for i, r in enumerate(rows):
        r = list(r)
        excel_row = i + 2
        if i:
            photo = os.path.join(TOP, "templates/sample", r[photo_col])
            if not (bad and i == 5):
                r[photo_col] = None
            if bad and i == 3:
                img = Image(photo)
                anchor = TwoCellAnchor()
                anchor._from = AnchorMarker(col=photo_col, row=excel_row - 1)
                anchor.to = AnchorMarker(col=photo_col + 1, row=excel_row, rowOff=90000)
                img.anchor = anchor
                ws.add_image(img)
            else:
                ws.add_image(Image(photo), "%s%d" % (letter, excel_row))
            if bad and i == 2:
                ws.add_image(Image(photo), "%s%d" % (letter, excel_row))
        ws.append(r)
    wb.save(out)


def main():
    broken = rows_of(os.path.join(TOP, "tests/data/cli/broken.csv"))
    sample = rows_of(os.path.join(TOP, "templates/sample/batch.csv"))
    write_xlsx(broken, os.path.join(HERE, "broken.xlsx"), "名单")
    write_xls(broken, os.path.join(HERE, "broken.xls"), "名单")
    write_xlsx(sample, os.path.join(HERE, "sample.xlsx"), "名单")
    write_xls(sample, os.path.join(HERE, "sample.xls"), "名单")
    # row 2 of the sample with its ID number typed as a number (digits lost)
    write_xlsx(sample[:3], os.path.join(HERE, "numeric-id.xlsx"), "名单", numeric_id=(2,))
    write_pictures(sample, os.path.join(HERE, "pictures.xlsx"), "名单")
    write_pictures(sample[:6], os.path.join(HERE, "pictures-bad.xlsx"), "名单", bad=True)


if __name__ == "__main__":
    main()
