/* SPDX-License-Identifier: MIT */
/*
 * The layout engine (cp_engine_* in certpress.h) and an internal view of a
 * laid-out page for tests and golden checks: every element with its box, the
 * text actually set, the final font size and the number of lines.
 *
 * Text is always set as plain text (never Pango markup). It is fitted by
 * shrinking in CP_LAYOUT_STEP_PT steps down to the element's min_size, with
 * wrapping onto up to max_lines lines allowed at every size (two lines for
 * occupation, job type and organization by default, 第十二条); it is never
 * clipped, ellipsised or allowed to overflow. A page borrows the engine's
 * template; free pages before the engine's template.
 */
#ifndef CP_LAYOUT_H
#define CP_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>

#include "certpress.h"
#include "layout/template.h"

#define CP_LAYOUT_STEP_PT 0.5
#define CP_MM_PER_PT (25.4 / 72.0)

typedef struct cp_page_item {
	const cp_element *el; /* borrowed from the template */
	cp_el_kind kind;
	int bind;             /* cp_field or CP_BIND_* for [field], else -1 */
	cp_layer layer;
	double x, y, w, h;    /* the element's box, mm (a line: from x,y to x+w,y+h) */
	const char *text;     /* text set ([text], [field]); "" for an empty optional
	                         field; NULL for other kinds */
	double font_size;     /* final size, points; 0 when not text */
	int lines;            /* lines of text; 0 when not text or empty */
	/* Logical extents of the set text, mm, page coordinates. */
	double text_x, text_y, text_w, text_h;
	bool has_image;       /* [photo]: a photo will be drawn */
	/* One face per field: a [field] whose primary face (the first of its
	 * font list) lacks a character is set whole in the first face of its
	 * chain that has every character; only when none has them all do
	 * faces mix, each character in the first face that has it after the
	 * one covering most of the field. The fallback faces are matched to
	 * FandolFang in weight, apparent size, baseline and advance
	 * (docs/fonts.md). */
	const char *face;     /* when forced is set: the face the field is set in
	                         (all of it, or most of it when faces mix);
	                         NULL otherwise (interned) */
	const char *forced;   /* the characters its primary face lacks, or NULL */
	const char *faces;    /* when faces mix: "字 HanaMinB, 堃 Noto Serif CJK SC",
	                         each character not in the field's main face with
	                         the face it is set in; else NULL */
	const char *primary;  /* the field's primary face (interned), or NULL */
} cp_page_item;

/* Borrowed: the page's items in drawing order, and their count. */
const cp_page_item *cp_page_items(const cp_page *pg, size_t *n);

/* The first item bound to b (a cp_field or CP_BIND_*), or NULL. Borrowed. */
const cp_page_item *cp_page_find(const cp_page *pg, int bind);

/* The text of the page's (first) QR code, its signed token included, or
 * NULL when it has none. Borrowed. */
const char *cp_page_qr_text(const cp_page *pg);

/* The human label used in refusals: "occupation (职业名称)". Static. */
const char *cp_layout_bind_label(int bind);

/* True when template element i is drawn, on a PDF page, in the layer shared
 * by every page (a recording surface Cairo writes once as a Form XObject):
 * static, the same for every record, and not overlapping any earlier element
 * that stays on the page (so painting it first changes nothing). */
bool cp_engine_element_shared(const cp_engine *e, size_t i);

/* Borrowed: the SHA-256 (hex) of the photo file on this page when it is
 * already known (a JPEG carries it as its Cairo unique id), or NULL. */
const char *cp_page_photo_sha256(const cp_page *pg);
/* The digest the ledger records for a printed page: SHA-256 (hex) over a
 * canonical listing of the page (every item's kind, box, size and text, in
 * mode) and the SHA-256 of the photo file at photo (NULL: none). Free with
 * g_free(). Safe to call from any thread for a page that thread owns. */
char *cp_page_digest(const cp_page *pg, cp_mode mode, const char *photo);

/* Draws item i of the page alone (full mode, no offset), in page
 * millimetres like cp_engine_draw(): the HTML report's cut-outs. */
void cp_engine_draw_item(cp_engine *e, const cp_page *pg, size_t i, cairo_t *cr);

/* True when the engine has a seal image for electronic mode. */
bool cp_engine_has_seal(const cp_engine *e);

#endif
