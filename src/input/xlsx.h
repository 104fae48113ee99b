/* SPDX-License-Identifier: MIT */
/*
 * Limits of the workbook readers (xlsx.c, xls.c; opened through sheet.h).
 * A workbook is a zip of XML parts: a few hundred bytes can inflate to
 * gigabytes, and XML can nest without end. Everything is bounded before or
 * while it is read:
 *  - CP_XLSX_MAX_ENTRIES: parts in the package;
 *  - CP_XLSX_MAX_PART:    bytes of the sheet or the shared strings once
 *                         inflated (counted while inflating);
 *  - CP_XLSX_MAX_META:    bytes of the workbook, relationships and styles;
 *  - CP_XLSX_MAX_STRINGS, CP_XLSX_MAX_STRING_BYTES: shared strings;
 *  - CP_XLSX_MAX_STYLES:  cell styles and number formats;
 *  - CP_XLSX_MAX_DEPTH:   element nesting;
 *  - CP_XLSX_MAX_SHEETS:  sheets;
 *  - CP_XLSX_MAX_ROWNUM:  the last row a sheet can have (Excel's);
 *  - CP_XLS_MAX_BYTES:    an .xls file (read whole by FreeXL);
 *  - CP_XLSX_MAX_PICTURES, CP_IMAGE_FILE_MAX: pictures on a sheet (anchored,
 *                         or in cells: also the entries of cellimages.xml,
 *                         metadata.xml and richData), and the bytes of one;
 * and per cell and row the CSV reader's limits (csv.h). A DTD is refused.
 */
#ifndef CP_XLSX_H
#define CP_XLSX_H

#define CP_XLSX_MAX_ENTRIES 10000u
#define CP_XLSX_MAX_PART (256u << 20)
#define CP_XLSX_MAX_META (16u << 20)
#define CP_XLSX_MAX_STRINGS 2000000u
#define CP_XLSX_MAX_STRING_BYTES (128u << 20)
#define CP_XLSX_MAX_STYLES 65536u
#define CP_XLSX_MAX_DEPTH 64
#define CP_XLSX_MAX_SHEETS 1000
#define CP_XLSX_MAX_ROWNUM 1048576L
#define CP_XLS_MAX_BYTES (128u << 20)
#define CP_XLSX_MAX_PICTURES 100000u
#define CP_IMAGE_FILE_MAX (64u << 20) /* a picture's bytes (CP_IMAGE_MAX_BYTES) */

#endif
