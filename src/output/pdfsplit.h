/* SPDX-License-Identifier: MIT */
/*
 * Cuts a PDF that Cairo wrote (several pages, in memory) into one
 * standalone PDF per page. Internal to the library.
 *
 * Why: Cairo subsets and embeds every font when a document is finished,
 * and starting a document costs a copy and a parse of each whole font
 * file (megabytes for a CJK face). Drawing a few dozen certificates into
 * one document and cutting it afterwards pays that once per document
 * instead of once per certificate (src/cli/cli_render.c, per-holder PDFs).
 *
 * A page's file holds the objects reachable from the page (its content,
 * resources, images, fonts), renumbered, a new catalog (with the caller's
 * entries) and page tree, and the document information dictionary. A CID-
 * keyed CFF font program (/FontFile3 /CIDFontType0C, a Type0 font with
 * /Identity-H, as Cairo writes CJK faces) covers the glyphs of every page
 * of the document; in the page's file the glyphs the page does not show are
 * replaced by empty ones (endchar), so a file carries the outlines of its
 * own text only and glyph numbers stay what the content stream uses; the
 * font's ToUnicode CMap and /W keep the page's codes only (a holder's file
 * must not list the characters of the other holders' names). Which
 * glyphs a page shows is read from its content stream and the Form
 * XObjects it paints; when anything there is not understood (an inline
 * image, a pattern, a Type3 font, another filter) the page's fonts are
 * copied whole: bigger, never wrong.
 *
 * Supported input: one revision with a classic cross-reference table,
 * generation 0, page dictionaries with their own /MediaBox and /Resources
 * (what Cairo 1.16 writes). Anything else is CP_E_PARSE.
 */
#ifndef CP_PDFSPLIT_H
#define CP_PDFSPLIT_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

#include "certpress.h"

#define CP_PDF_SPLIT_MAX_PAGES 4096 /* pages of one document to cut */

typedef struct cp_pdf_split cp_pdf_split;

/* Reads the structure of the PDF b[0..n) (borrowed: it must outlive the
 * splitter). label names it in messages. Free with cp_pdf_split_free(). */
cp_pdf_split *cp_pdf_split_new(const char *b, size_t n, const char *label, cp_error **err);
void cp_pdf_split_free(cp_pdf_split *s);
int cp_pdf_split_pages(const cp_pdf_split *s);

/* Appends to out a complete PDF holding page `page` (0-based) alone.
 * catalog_extra (or NULL) is appended inside the new catalog's dictionary
 * (entries without indirect references, e.g. "/ViewerPreferences << … >>").
 * Not thread-safe on one splitter (it caches decoded fonts). */
bool cp_pdf_split_page(cp_pdf_split *s, int page, const char *catalog_extra, GString *out,
                       cp_error **err);

/* What the last cp_pdf_split_page() did with fonts, for tests: font
 * programs cut to the page's glyphs and copied whole, ToUnicode CMaps and
 * CIDFont /W arrays cut to the page's codes. */
void cp_pdf_split_font_stats(const cp_pdf_split *s, int *trimmed, int *whole, int *cmaps);

#endif
