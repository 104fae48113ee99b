/* SPDX-License-Identifier: MIT */
#include "output/png.h"

#include <errno.h>
#include <glib.h>
#include <math.h>
#include <png.h>
#include <setjmp.h>
#include <string.h>

#include "atomic.h"
#include "certpress.h"
#include "error.h"
#include "i18n.h"

#define MM_PER_INCH 25.4
#define MIN_DPI 10.0
#define MAX_DPI 4800.0

/* Measured on an A4 page at 300 dpi (2480 x 3508: the calibration page plus
 * a photo and a seal ring; libpng 1.6.39, zlib), bytes / milliseconds:
 *                  NONE         SUB          UP           SUB|UP|PAETH
 *   level 1   433 KB/108   490 KB/ 88   458 KB/131   453 KB/255
 *   level 6   310 KB/156   393 KB/174   366 KB/235   365 KB/377
 *   level 9   297 KB/745   384 KB/848   355 KB/768   355 KB/960
 * With a full-page gradient background (electronic mode artwork), level 6:
 * NONE 761 KB/263 ms, PAETH 1022 KB/486, adaptive 1033 KB/382.
 * Anti-aliased line art on white compresses best unfiltered (long runs
 * survive; filters turn them into noise), so filter NONE. The level: once
 * drawing got cheap (a shared raster page, photos decoded once) compression
 * was 80 % of an electronic certificate. The 20 sample certificates, 300 dpi,
 * electronic mode, whole command (user CPU / bytes per page):
 *   level 6  2.14 s / 443 KB    level 3  1.19 s / 538 KB
 *   level 2  1.16 s / 550 KB    level 1  1.18 s / 560 KB   Z_RLE 1.26 s / 1083 KB
 * Level 3 keeps the per-certificate target (<= 60 ms a core) at a fifth more
 * bytes than level 6. */
#define PNG_LEVEL 3
#define PNG_FILTERS PNG_FILTER_NONE

static bool pixels_for(double mm, double dpi, int *out)
{
	double px = round(mm / MM_PER_INCH * dpi);
	if (!(px >= 1 && px <= CP_RASTER_MAX_SIDE))
		return false;
	*out = (int)px;
	return true;
}

cairo_surface_t *cp_raster_new(double width_mm, double height_mm, double dpi,
                               cairo_t **cr, cp_error **err)
{
	int w, h;
	if (!(dpi >= MIN_DPI && dpi <= MAX_DPI)) {
		cp_set_error(err, CP_E_USAGE, NULL, 0, 0, NULL,
		             _("resolution %g dpi is outside %g..%g"), dpi, MIN_DPI, MAX_DPI);
		return NULL;
	}
	if (!(width_mm > 0 && height_mm > 0 && isfinite(width_mm) && isfinite(height_mm))) {
		cp_set_error(err, CP_E_USAGE, NULL, 0, 0, NULL, _("invalid page size %g x %g mm"),
		             width_mm, height_mm);
		return NULL;
	}
	if (!pixels_for(width_mm, dpi, &w) || !pixels_for(height_mm, dpi, &h)) {
		cp_set_error(err, CP_E_NOMEM, NULL, 0, 0, NULL,
		             _("a %g x %g mm page at %g dpi is not 1 to %d pixels a side"),
		             width_mm, height_mm, dpi, CP_RASTER_MAX_SIDE);
		return NULL;
	}
	cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
	cairo_t *c = cairo_create(s);
	if (cairo_status(c) != CAIRO_STATUS_SUCCESS) {
		cp_set_error(err, CP_E_NOMEM, NULL, 0, 0, NULL,
		             _("cannot allocate a %d x %d pixel page: %s"), w, h,
		             cairo_status_to_string(cairo_status(c)));
		cairo_destroy(c);
		cairo_surface_destroy(s);
		return NULL;
	}
	cairo_set_source_rgb(c, 1, 1, 1);
	cairo_paint(c);
	/* Exactly pixels per millimetre on each axis, so that a rounded pixel
	 * count never stretches the page. */
	cairo_scale(c, dpi / MM_PER_INCH, dpi / MM_PER_INCH);
	*cr = c;
	return s;
}

typedef struct png_ctx {
	jmp_buf jmp;
	char msg[200];
	FILE *fp;
} png_ctx;

static void on_png_error(png_structp png, png_const_charp msg)
{
	png_ctx *ctx = png_get_error_ptr(png);
	g_strlcpy(ctx->msg, msg, sizeof ctx->msg);
	longjmp(ctx->jmp, 1);
}

static void on_png_warning(png_structp png, png_const_charp msg)
{
	/* Writing only warns about things we control (none expected). */
}

static void on_png_write(png_structp png, png_bytep data, size_t len)
{
	png_ctx *ctx = png_get_io_ptr(png);
	if (fwrite(data, 1, len, ctx->fp) != len)
		png_error(png, g_strerror(errno));
}

static void on_png_flush(png_structp png)
{
}

/* Converts one cairo row (native-endian premultiplied xRGB/ARGB) to bytes.
 * Two loops, not one with a per-pixel branch on the format: the opaque one is
 * a plain shuffle the compiler keeps in registers, and at 300 dpi it runs
 * over 8.7 million pixels a page. */
static void pack_row_rgb(const uint32_t *restrict src, unsigned char *restrict dst, int width)
{
	for (int x = 0; x < width; x++) {
		uint32_t p = src[x];
		dst[0] = (unsigned char)(p >> 16);
		dst[1] = (unsigned char)(p >> 8);
		dst[2] = (unsigned char)p;
		dst += 3;
	}
}

static void pack_row_rgba(const uint32_t *restrict src, unsigned char *restrict dst, int width)
{
	for (int x = 0; x < width; x++) {
		uint32_t p = src[x];
		unsigned a = p >> 24, r = (p >> 16) & 0xff, g = (p >> 8) & 0xff, b = p & 0xff;
		if (a == 0) {
			r = g = b = 0;
		} else if (a != 255) {
			r = (r * 255 + a / 2) / a;
			g = (g * 255 + a / 2) / a;
			b = (b * 255 + a / 2) / a;
			if (r > 255) r = 255;
			if (g > 255) g = 255;
			if (b > 255) b = 255;
		}
		dst[0] = (unsigned char)r, dst[1] = (unsigned char)g;
		dst[2] = (unsigned char)b, dst[3] = (unsigned char)a;
		dst += 4;
	}
}

/* Writes surface into out and commits it; out is always consumed. */
static bool write_to(cairo_surface_t *surface, cp_atomic *out, double dpi, cp_error **err)
{
	const char *path = cp_atomic_path(out);
	if (!surface || cairo_surface_get_type(surface) != CAIRO_SURFACE_TYPE_IMAGE) {
		cp_set_error(err, CP_E_USAGE, path, 0, 0, NULL, _("not an image surface"));
		cp_atomic_abort(out);
		return false;
	}
	cairo_format_t fmt = cairo_image_surface_get_format(surface);
	if (fmt != CAIRO_FORMAT_RGB24 && fmt != CAIRO_FORMAT_ARGB32) {
		cp_set_error(err, CP_E_USAGE, path, 0, 0, NULL,
		             _("only RGB24 and ARGB32 surfaces can be written as PNG"));
		cp_atomic_abort(out);
		return false;
	}
	if (!(dpi >= MIN_DPI && dpi <= MAX_DPI)) {
		cp_set_error(err, CP_E_USAGE, path, 0, 0, NULL,
		             _("resolution %g dpi is outside %g..%g"), dpi, MIN_DPI, MAX_DPI);
		cp_atomic_abort(out);
		return false;
	}
	cairo_surface_flush(surface);
	int width = cairo_image_surface_get_width(surface);
	int height = cairo_image_surface_get_height(surface);
	int stride = cairo_image_surface_get_stride(surface);
	const unsigned char *data = cairo_image_surface_get_data(surface);
	bool alpha = fmt == CAIRO_FORMAT_ARGB32;
	size_t rowbytes;
	if (!data || width <= 0 || height <= 0 ||
	    __builtin_mul_overflow((size_t)width, alpha ? 4u : 3u, &rowbytes)) {
		cp_set_error(err, CP_E_USAGE, path, 0, 0, NULL, _("the image surface is empty"));
		cp_atomic_abort(out);
		return false;
	}
	png_ctx ctx = {.fp = cp_atomic_file(out)};
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &ctx, on_png_error,
	                                          on_png_warning);
	png_infop info = png ? png_create_info_struct(png) : NULL;
	unsigned char *row = g_malloc(rowbytes);
	if (!info) {
		png_destroy_write_struct(&png, NULL);
		g_free(row);
		cp_atomic_abort(out);
		cp_set_error(err, CP_E_NOMEM, path, 0, 0, NULL, _("out of memory"));
		return false;
	}
	if (setjmp(ctx.jmp)) {
		png_destroy_write_struct(&png, &info);
		g_free(row);
		cp_atomic_abort(out);
		cp_set_error(err, CP_E_IO, path, 0, 0, NULL, _("cannot write the PNG: %s"), ctx.msg);
		return false;
	}
	png_set_write_fn(png, &ctx, on_png_write, on_png_flush);
	png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8,
	             alpha ? PNG_COLOR_TYPE_RGB_ALPHA : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
	             PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_uint_32 ppm = (png_uint_32)lround(dpi / 0.0254);
	png_set_pHYs(png, info, ppm, ppm, PNG_RESOLUTION_METER);
	png_set_compression_level(png, PNG_LEVEL);
	png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTERS);
	png_write_info(png, info);
	for (int y = 0; y < height; y++) {
		const uint32_t *src = (const uint32_t *)(data + (size_t)y * (size_t)stride);
		if (alpha)
			pack_row_rgba(src, row, width);
		else
			pack_row_rgb(src, row, width);
		png_write_row(png, row);
	}
	png_write_end(png, info);
	png_destroy_write_struct(&png, &info);
	g_free(row);
	return cp_atomic_commit(out, err);
}

bool cp_png_write(cairo_surface_t *surface, const char *path, double dpi, cp_error **err)
{
	cp_atomic *out = cp_atomic_open(path, 0, err);
	return out && write_to(surface, out, dpi, err);
}

bool cp_png_write_atomic(cairo_surface_t *surface, cp_atomic *out, double dpi, cp_error **err)
{
	return write_to(surface, out, dpi, err);
}
