/* SPDX-License-Identifier: MIT */
/*
 * Fonts: the pinned font set listed in fonts/fonts.manifest, verified by
 * SHA-256, loaded into a private fontconfig configuration (no system fonts, no
 * user configuration) and exposed as a PangoCairo font map. Text is measured
 * with hinting off and unhinted metrics so that the same layout comes out on
 * PDF and PNG at any resolution.
 *
 * Verified checksums are cached in $XDG_CACHE_HOME/certpress/fonts-verified,
 * keyed by (path, size, mtime): a font is rehashed only when its size or
 * modification time change. A missing, unreadable or damaged cache only costs
 * time; it never fails a run.
 *
 * The verified fonts reach fontconfig through a private folder of symbolic
 * links, $XDG_CACHE_HOME/certpress/fontconfig/<hash of the manifest>, with
 * fontconfig's own folder cache beside it (…/fontconfig/cache): the large
 * CJK collections are scanned once, not on every run. The folder is checked
 * to hold exactly the manifest's links before each use and rebuilt if not.
 */
#ifndef CP_FONTS_H
#define CP_FONTS_H

#include <pango/pangocairo.h>
#include <stdbool.h>
#include <stddef.h>

#include "certpress.h"

#define CP_FONTS_MAX_ENTRIES 200          /* fonts in one manifest */
#define CP_FONTS_MANIFEST "fonts.manifest"

/* The fallback chain appended to every font list: FangSong for field text,
 * then a full CJK serif face, then HanaMin A/B for rare Ext A/B characters. */
#define CP_FONTS_FALLBACK "FandolFang, Noto Serif CJK SC, HanaMinA, HanaMinB"
#define CP_FONTS_DEFAULT_FIELD "FandolFang"

/* One manifest line. */
typedef struct cp_font_entry {
	char *file;    /* as written in the manifest */
	char *path;    /* resolved against the manifest's folder */
	char *sha256;  /* 64 lowercase hex digits */
	char *note;    /* "provided by" text, may be "" */
	long line;
} cp_font_entry;

typedef struct cp_font_manifest {
	char *path;    /* of the manifest file */
	cp_font_entry *entries;
	size_t n;
} cp_font_manifest;

/* Reads fonts_dir/fonts.manifest. Errors: CP_E_FONT when it cannot be read
 * (the fonts are part of the installation), CP_E_PARSE naming file and line
 * for a malformed line. Free with cp_font_manifest_free(). */
cp_font_manifest *cp_font_manifest_load(const char *fonts_dir, cp_error **err);
void cp_font_manifest_free(cp_font_manifest *m);

/* Hex SHA-256 of a file (g_free), or NULL with CP_E_IO. */
char *cp_fonts_sha256_file(const char *path, cp_error **err);

/* Borrowed: the font map (one per cp_fonts; not thread-safe, like Pango). */
PangoFontMap *cp_fonts_map(cp_fonts *f);

/* A new Pango context on the private font map, set up for measuring in
 * points (resolution 72) with hinting off and unhinted metrics. Free with
 * g_object_unref(). */
PangoContext *cp_fonts_context_new(cp_fonts *f);

/* Borrowed: the manifest folder actually used. */
const char *cp_fonts_dir(const cp_fonts *f);

/* True when the fonts were loaded through fontconfig's folder cache in
 * $XDG_CACHE_HOME/certpress/fontconfig (a private folder of links to the
 * manifest's fonts, named by a hash of the manifest); false when that folder
 * could not be used and the files were scanned one by one. */
bool cp_fonts_from_cache(const cp_fonts *f);

/* Number of font files that were hashed (not taken from the cache) by the
 * cp_fonts_new() call that made f; lets tests prove the cache works. */
size_t cp_fonts_hashed_count(const cp_fonts *f);

/* A font description for the comma-separated font_list (NULL or "" for the
 * field default) followed by the fallback chain, at size_pt points. Free with
 * pango_font_description_free(). */
PangoFontDescription *cp_fonts_description(const char *font_list, double size_pt,
                                           bool bold);

/* The family name of the font Pango picks for the first character of text in
 * the given font list (with the fallback chain appended). g_free(); NULL when
 * no configured font has a glyph for it. */
char *cp_fonts_family_for(cp_fonts *f, const char *font_list, const char *text);

/* One face of a field's chain, as layout.c sets a field in it: the family,
 * the weight asked for, and how it is matched to the FangSong of the fields
 * (docs/fonts.md, "Matching the fallback face"): scale is the apparent size
 * relative to the field's size (ink heights equal), rise the vertical shift
 * in em that puts its ink centre on FandolFang's. The primary face has
 * scale 1 and rise 0. */
typedef struct cp_face {
	const char *family;    /* interned (g_intern_string) */
	PangoWeight weight;
	double scale, rise;
	const void *charset;   /* FcCharSet, borrowed from the cp_fonts; NULL when
	                          the font set has no such family */
} cp_face;

/* Resolves family (at bold or regular weight) to the face fontconfig picks
 * and its character set, cached in f: the first call per family costs a
 * fontconfig match, later ones a hash lookup. Nothing is loaded beyond the
 * character set fontconfig already holds (no font file is opened). The
 * matching figures are filled in for the faces measured against FandolFang
 * when match_fang is true (the field's primary face is FandolFang);
 * otherwise scale 1, rise 0 and the asked weight. */
cp_face cp_fonts_face(cp_fonts *f, const char *family, bool bold, bool match_fang);

/* True when face has a glyph for c. A face whose family is missing has
 * none. */
bool cp_face_has(const cp_face *face, gunichar c);

/* Between cp_fonts_probe_begin() and cp_fonts_probe_end() on a thread (a
 * Cairo PDF surface writing out a page), a CFF face read through
 * certpress's stream (fonts.c) gives Cairo 1.16, which reads the whole
 * table only to learn whether the face is CID-keyed, just its header, Name
 * and Top DICT, and leaves the rest of Cairo's block unread. Outside, or
 * with another Cairo, every table is read whole. */
void cp_fonts_probe_begin(void);
void cp_fonts_probe_end(void);

/* How many reads were answered with the head of the table only, in the
 * whole process: lets tests prove it happens. */
size_t cp_fonts_probed_count(void);

#endif
