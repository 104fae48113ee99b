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
#include <sys/stat.h>

#include "certpress.h"

#define CP_IMAGE_MAX_SIDE 12000
#define CP_IMAGE_MAX_PIXELS (40u * 1000u * 1000u)
#define CP_IMAGE_MAX_BYTES (64u << 20)

typedef enum cp_image_format { CP_IMAGE_PNG, CP_IMAGE_JPEG } cp_image_format;

typedef struct cp_image_info {
	cp_image_format format;
	int width, height;     /* pixels, as displayed (EXIF orientation applied) */
	int orientation;       /* EXIF Orientation 1-8 of a JPEG, 1 when none */
	double dpi_x, dpi_y;   /* from pHYs / JFIF density, 0 when unknown */
	bool has_alpha;
} cp_image_info;

/* Reads only the header: format, size, density. Fails with CP_E_IO when the
 * file cannot be read, CP_E_PARSE when it is neither PNG nor JPEG or the header
 * is damaged, CP_E_NOMEM when it announces more than the limits. */
bool cp_image_probe(const char *path, cp_image_info *info, cp_error **err);
/* The same for a file whose stat(2) the caller has (st; NULL: as
 * cp_image_probe()): a file already read is known without a system call. */
bool cp_image_probe_stat(const char *path, const struct stat *st, cp_image_info *info,
                         cp_error **err);

/* Decodes the whole image (so a truncated or corrupt file fails here) into a
 * new CAIRO_FORMAT_ARGB32 (PNG with alpha) or RGB24 surface, a JPEG turned
 * upright as its EXIF Orientation says. For a JPEG without orientation the
 * original file bytes are attached as CAIRO_MIME_TYPE_JPEG (with a
 * CAIRO_MIME_TYPE_UNIQUE_ID derived from the content) so that the PDF backend
 * embeds the file as-is instead of re-encoding it. info may be NULL. Free the
 * surface with cairo_surface_destroy(). */
cairo_surface_t *cp_image_load(const char *path, cp_image_info *info,
                               cp_error **err);

/* Checks that the whole file decodes, as cp_image_load() would (same errors),
 * without keeping the pixels: a JPEG is decoded at 1/8 scale (every
 * entropy-coded byte is still read), a PNG row by row through one row buffer.
 * Files that passed (this, cp_image_load() or cp_image_load_for_pdf()) are
 * remembered by identity (device, inode, size, mtime, ctime) for the life of
 * the process, at most 4096 of them, so a photo used by many records or
 * checked and then laid out is read once. info may be NULL. */
bool cp_image_validate(const char *path, cp_image_info *info, cp_error **err);

/* Forgets every file remembered as valid (tests). */
void cp_image_forget_validated(void);

/* For output on a Cairo PDF surface only. Like cp_image_load(), except that a
 * JPEG that Cairo embeds as-is (not CMYK) is not decoded: the result is a
 * 1 x 1 RGB24 stand-in surface carrying the file as by cp_image_load()
 * (CAIRO_MIME_TYPE_JPEG and a content-derived CAIRO_MIME_TYPE_UNIQUE_ID). Its
 * one pixel is not the image: draw the surface's unit square scaled to
 * info->width x info->height, which Cairo's PDF backend fills with the
 * embedded JPEG at its real size. Any other target must first get the pixels
 * with cp_image_with_pixels(). The file is validated as by
 * cp_image_validate() unless it is remembered as valid. PNG and CMYK JPEG
 * are decoded (a full-size surface). info gets the size to draw at. Free with
 * cairo_surface_destroy(). */
cairo_surface_t *cp_image_load_for_pdf(const char *path, cp_image_info *info,
                                       cp_error **err);

/* False for a stand-in surface made by cp_image_load_for_pdf(). */
bool cp_image_has_pixels(cairo_surface_t *s);

/* s itself (a new reference) when it has pixels, else a new full-size surface
 * decoded from the stand-in's JPEG data, with that data attached again. Free
 * with cairo_surface_destroy(). */
cairo_surface_t *cp_image_with_pixels(cairo_surface_t *s, cp_error **err);

#endif
