/* SPDX-License-Identifier: MIT */
/* PNG output into an atomic file (see cp_png_write() in certpress.h). */
#ifndef CP_OUTPUT_PNG_H
#define CP_OUTPUT_PNG_H

#include <cairo.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "atomic.h"
#include "certpress.h"

/* Writes surface as a PNG into out (from cp_atomic_open() or
 * cp_atomic_dir_file()) and commits it; out is consumed either way. */
bool cp_png_write_atomic(cairo_surface_t *surface, cp_atomic *out, double dpi, cp_error **err);
/* The same with a worker's cache of compressed row stretches (may be NULL;
 * see cp_png_write_cached() in certpress.h). */
bool cp_png_write_atomic_cached(cairo_surface_t *surface, cp_atomic *out, double dpi,
                                cp_png_cache *cache, cp_error **err);

/* An issued PNG (trust/pngsig.h says what goes in): an iTXt chunk before
 * the image data, and a last chunk before IEND made from the SHA-256 of
 * every byte of the file before that chunk (its 8-byte signature, then
 * IHDR, pHYs, iTXt, every IDAT; n bytes in all). */
typedef struct cp_png_seal {
	const char *keyword;   /* of the iTXt chunk (1-79 Latin-1 characters) */
	const char *text;      /* its UTF-8 text, uncompressed; NULL: no iTXt */
	char type[5];          /* the last chunk's type, e.g. "cpSG" */
	/* the last chunk's data (g_malloc'd, *len bytes), or NULL with err set */
	unsigned char *(*make)(void *ud, const unsigned char sha256[32], uint64_t n, size_t *len,
	                       cp_error **err);
	void *ud;
} cp_png_seal;

/* cp_png_write_atomic_cached() with seal (may be NULL: a plain PNG). */
bool cp_png_write_atomic_sealed(cairo_surface_t *surface, cp_atomic *out, double dpi,
                                cp_png_cache *cache, const cp_png_seal *seal, cp_error **err);

#endif
