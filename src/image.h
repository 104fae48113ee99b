/* SPDX-License-Identifier: MIT */
/*
 * Photos, seals and artwork: JPEG or PNG, told apart by their first bytes,
 * never by the file name. Decoding is bounded: images whose header announces
 * more than CP_IMAGE_MAX_SIDE pixels a side or CP_IMAGE_MAX_PIXELS in all are
 * refused before any pixel memory is allocated.
 */
#ifndef CP_IMAGE_H
#define CP_IMAGE_H

#include <cairo.h>
#include <stdbool.h>

#include "certpress.h"

#define CP_IMAGE_MAX_SIDE 12000
#define CP_IMAGE_MAX_PIXELS (40u * 1000u * 1000u)
#define CP_IMAGE_MAX_BYTES (64u << 20)

typedef enum cp_image_format { CP_IMAGE_PNG, CP_IMAGE_JPEG } cp_image_format;

typedef struct cp_image_info {
	cp_image_format format;
	int width, height;     /* pixels */
	double dpi_x, dpi_y;   /* from pHYs / JFIF density, 0 when unknown */
	bool has_alpha;
} cp_image_info;

/* Reads only the header: format, size, density. Fails with CP_E_IO when the
 * file cannot be read, CP_E_PARSE when it is neither PNG nor JPEG or the header
 * is damaged, CP_E_NOMEM when it announces more than the limits. */
bool cp_image_probe(const char *path, cp_image_info *info, cp_error **err);

/* Decodes the whole image (so a truncated or corrupt file fails here) into a
 * new CAIRO_FORMAT_ARGB32 (PNG with alpha) or RGB24 surface. For JPEG the
 * original file bytes are attached as CAIRO_MIME_TYPE_JPEG (with a
 * CAIRO_MIME_TYPE_UNIQUE_ID derived from the content) so that the PDF backend
 * embeds the file as-is instead of re-encoding it. info may be NULL. Free the
 * surface with cairo_surface_destroy(). */
cairo_surface_t *cp_image_load(const char *path, cp_image_info *info,
                               cp_error **err);

#endif
