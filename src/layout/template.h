/* SPDX-License-Identifier: MIT */
/*
 * Templates: where every element of a certificate goes, in millimetres with
 * the origin at the page's top-left corner (docs/template.md). A template is
 * read once, validated completely (every number bounded, every box inside the
 * printable area, every required field present) and then only read.
 */
#ifndef CP_TEMPLATE_H
#define CP_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>

#include "certpress.h"

#define CP_TEMPLATE_MAX_ELEMENTS 500
#define CP_TEMPLATE_MAX_TEXT 4096      /* bytes of a static text */
#define CP_TEMPLATE_MIN_PAGE_MM 20.0
#define CP_TEMPLATE_MAX_PAGE_MM 2000.0
#define CP_TEMPLATE_MIN_PT 2.0         /* font sizes, points */
#define CP_TEMPLATE_MAX_PT 200.0
#define CP_TEMPLATE_MAX_LINES 20

typedef enum cp_el_kind {
	CP_EL_TEXT,  /* [text]  fixed words */
	CP_EL_FIELD, /* [field] a record or organization value */
	CP_EL_PHOTO, /* [photo] the holder's photo */
	CP_EL_QR,    /* [qr]    the query QR code */
	CP_EL_SEAL,  /* [seal]  the seal area */
	CP_EL_IMAGE, /* [image] artwork (background, emblem) */
	CP_EL_LINE,  /* [line]  a straight rule */
	CP_EL_RECT,  /* [rect]  a frame or a filled box */
} cp_el_kind;

typedef enum cp_layer {
	CP_LAYER_STATIC,   /* pre-printed on stock: skipped in fill mode */
	CP_LAYER_VARIABLE, /* per certificate: always drawn */
} cp_layer;

typedef enum cp_align { CP_ALIGN_LEFT, CP_ALIGN_CENTER, CP_ALIGN_RIGHT } cp_align;
typedef enum cp_valign { CP_VALIGN_TOP, CP_VALIGN_MIDDLE, CP_VALIGN_BOTTOM } cp_valign;

/* Values a [field] can be bound to beyond the cp_field keys. */
#define CP_BIND_ORG_NAME (CP_FIELD_COUNT + 0)     /* "org_name": the profile's name */
#define CP_BIND_PROVINCE_URL (CP_FIELD_COUNT + 1) /* "province_url": optional */
#define CP_BIND_COUNT (CP_FIELD_COUNT + 2)

typedef struct cp_rgba {
	double r, g, b, a;
} cp_rgba;

typedef struct cp_element {
	cp_el_kind kind;
	char *name;         /* the section's name ("[text title]" → "title"), or NULL */
	long line;          /* line of the section header */
	cp_layer layer;
	double x, y, w, h;  /* box, mm; a line runs from (x, y) to (x2, y2) */
	double x2, y2;

	/* text and field */
	char *text;         /* [text]: the words (plain text, may hold \n) */
	int with;           /* [text]: shown only when this bind has a value
	                       (a label of an optional field); -1: always */
	int bind;           /* [field]: a cp_field or CP_BIND_*; -1 otherwise */
	bool required;      /* [field]: an empty value refuses the record */
	char *font;         /* comma-separated families; the fallback chain follows */
	double size;        /* points */
	double min_size;    /* points; shrink no further (== size: never shrink) */
	int max_lines;      /* wrap onto at most this many lines */
	bool bold;
	cp_align align;
	cp_valign valign;
	double line_spacing; /* factor of the font's line height, 0 = font default */
	cp_rgba color;      /* text, QR modules, line and rect stroke */

	/* line and rect */
	double stroke;      /* mm, 0 = none (rect only) */
	bool has_fill;
	cp_rgba fill;

	/* image */
	char *file;         /* resolved against the template's folder */
	unsigned modes;     /* bit (1u << cp_mode) set for each mode that draws it */

	/* photo */
	bool frame;         /* thin placeholder frame when no photo is printed (full mode) */

	/* qr */
	int quiet;          /* quiet zone, modules (>= 4) */
	int ec;             /* 1 M, 2 Q, 3 H (libqrencode QRecLevel) */
} cp_element;

struct cp_template {
	char *path;
	char *dir;
	double width, height, margin; /* mm */
	cp_element *el;               /* in file order = drawing order */
	size_t n;
};

/* Parses template text; path names it in messages and anchors relative file
 * names (NULL: "<text>" and the current folder). Free with cp_template_free(). */
cp_template *cp_template_parse(const char *text, size_t len, const char *path,
                               cp_error **err);

/* The bind key for b ("name", "org_name", …), or NULL. Static string. */
const char *cp_template_bind_key(int b);
/* Parses "#rrggbb" or "#rrggbbaa". */
bool cp_template_parse_color(const char *s, cp_rgba *out);

#endif
