/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target "zrun": the zlib stream written partly by hand
 * (src/output/zrun.c) and the PNG writer built on it (src/output/png.c).
 * The input is
 *     byte 0       zlib level (1..9) and how rows are routed
 *     bytes 1..2   row width in bytes, 1..65536 (little-endian, plus one)
 *     the rest     the raster, cut into rows of that width
 *
 * Checked beyond "no crash":
 * - the stream inflates with zlib (which checks the Adler-32) to exactly the
 *   bytes that went in, whichever of dense, sparse and zero runs each row was
 *   sent as, and nothing follows the stream; the same through a cache of
 *   dense stretches (cut at some rows), three times: the raster, the raster
 *   with one byte changed, the raster again;
 * - the same bytes as the pixels of an RGB24 cairo surface (the unused byte
 *   of each pixel set from the input too) written by cp_png_write() read
 *   back through libpng as exactly the surface's R, G and B.
 */
#include "fuzz.h"

#include <png.h>
#include <zlib.h>

#include "output/zrun.h"

static bool fuzz_sink(void *ctx, const unsigned char *data, size_t len)
{
	g_byte_array_append(ctx, data, (guint)len);
	return true;
}

static bool fuzz_all_zero(const uint8_t *p, size_t n)
{
	while (n--)
		if (*p++)
			return false;
	return true;
}

static void fuzz_zrun_stream(uint8_t ctl, size_t width, const uint8_t *data, size_t len,
                             cp_zrun_cache *cache)
{
	GByteArray *out = g_byte_array_new();
	cp_zrun *z = cp_zrun_new(1 + ctl % 9, fuzz_sink, out);
	if (!z)
		cp_fuzz_fail("cp_zrun_new failed");
	cp_zrun_set_cache(z, cache);
	unsigned route = ctl / 9; /* 0..9 */
	uint32_t r = 0x9e3779b9u ^ ctl;
	for (size_t i = 0, row = 0; i < len; i += width, row++) {
		size_t n = MIN(width, len - i);
		const uint8_t *p = data + i;
		r = r * 1103515245u + 12345u;
		if (cache && (r >> 8) % 4 == 0 && !cp_zrun_cut(z))
			cp_fuzz_fail("cp_zrun_cut failed");
		unsigned how = route < 3 ? route : route < 6 ? (unsigned)(row % 3) : (r >> 16) % 4;
		bool ok;
		switch (how) {
		case 0:
			ok = cp_zrun_dense(z, p, n);
			break;
		case 1:
			ok = cp_zrun_sparse(z, p, n);
			break;
		case 2: /* as the PNG writer: first byte by hand, zeros unread */
			ok = fuzz_all_zero(p + 1, n - 1)
			             ? cp_zrun_sparse(z, p, 1) && cp_zrun_zeros(z, n - 1)
			             : cp_zrun_dense(z, p, n);
			break;
		default: /* a row cut in two, each part its own way */
			ok = cp_zrun_sparse(z, p, n / 2) &&
			     (fuzz_all_zero(p + n / 2, n - n / 2) ? cp_zrun_zeros(z, n - n / 2)
			                                          : cp_zrun_dense(z, p + n / 2, n - n / 2));
		}
		if (!ok)
			cp_fuzz_fail("writing row %zu failed", row);
	}
	if (!cp_zrun_finish(z))
		cp_fuzz_fail("cp_zrun_finish failed");
	cp_zrun_free(z);

	unsigned char *got = g_malloc(len + 1);
	uLongf got_len = len + 1;
	uLong src_len = out->len;
	int zr = uncompress2(got, &got_len, out->data, &src_len);
	if (zr != Z_OK)
		cp_fuzz_fail("inflate: %d (%s)", zr, zError(zr));
	if (src_len != out->len)
		cp_fuzz_fail("%zu bytes after the stream", (size_t)(out->len - src_len));
	if (got_len != len || memcmp(got, data, len) != 0)
		cp_fuzz_fail("inflated %zu bytes differ from the %zu written", (size_t)got_len, len);
	g_free(got);
	g_byte_array_free(out, TRUE);
}

static void fuzz_png_error(png_structp png, png_const_charp msg)
{
	cp_fuzz_fail("libpng cannot read the PNG: %s", msg);
}

static void fuzz_png(size_t width_bytes, const uint8_t *data, size_t len)
{
	int w = (int)MAX(width_bytes / 4, 1);
	int h = (int)MIN(len / ((size_t)w * 4), 2000);
	if (h < 1)
		return;
	cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
	if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS)
		cp_fuzz_fail("cannot make a %d x %d surface", w, h);
	cairo_surface_flush(s);
	unsigned char *px = cairo_image_surface_get_data(s);
	int stride = cairo_image_surface_get_stride(s);
	for (int y = 0; y < h; y++)
		memcpy(px + (size_t)y * stride, data + (size_t)y * w * 4, (size_t)w * 4);
	cairo_surface_mark_dirty(s);

	char *path = g_build_filename(cp_fuzz_dir(), "fuzz.png", NULL);
	cp_error *err = NULL;
	bool ok = cp_png_write(s, path, 300, &err);
	cp_fuzz_check_result(ok, err, "cp_png_write");
	if (!ok)
		cp_fuzz_fail("cp_png_write failed");

	FILE *fp = fopen(path, "rb");
	if (!fp)
		cp_fuzz_fail("cannot open %s", path);
	png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, fuzz_png_error, NULL);
	png_infop info = png_create_info_struct(png);
	png_init_io(png, fp);
	png_read_info(png, info);
	if (png_get_image_width(png, info) != (png_uint_32)w ||
	    png_get_image_height(png, info) != (png_uint_32)h ||
	    png_get_color_type(png, info) != PNG_COLOR_TYPE_RGB ||
	    png_get_bit_depth(png, info) != 8)
		cp_fuzz_fail("the PNG header is not %d x %d 8-bit RGB", w, h);
	unsigned char *row = g_malloc((size_t)w * 3);
	for (int y = 0; y < h; y++) {
		png_read_row(png, row, NULL);
		const uint32_t *src = (const uint32_t *)(px + (size_t)y * stride);
		for (int x = 0; x < w; x++) {
			uint32_t p = src[x];
			if (row[3 * x] != (uint8_t)(p >> 16) || row[3 * x + 1] != (uint8_t)(p >> 8) ||
			    row[3 * x + 2] != (uint8_t)p)
				cp_fuzz_fail("pixel %d,%d differs", x, y);
		}
	}
	png_read_end(png, NULL);
	png_destroy_read_struct(&png, &info, NULL);
	fclose(fp);
	g_free(row);
	g_free(path);
	cairo_surface_destroy(s);
}

int cp_fuzz_zrun(const uint8_t *data, size_t size)
{
	if (size < 3)
		return 0;
	uint8_t ctl = data[0] % (9 * 10);
	size_t width = (size_t)(data[1] | data[2] << 8) + 1;
	data += 3;
	size -= 3;
	fuzz_zrun_stream(ctl, width, data, size, NULL);
	/* through a cache: the raster, again with one byte changed, again */
	cp_zrun_cache *cache = cp_zrun_cache_new();
	fuzz_zrun_stream(ctl, width, data, size, cache);
	if (size) {
		uint8_t *other = g_memdup2(data, size);
		other[size / 2] ^= 1;
		fuzz_zrun_stream(ctl, width, other, size, cache);
		g_free(other);
	}
	fuzz_zrun_stream(ctl, width, data, size, cache);
	cp_zrun_cache_free(cache);
	fuzz_png(width, data, size);
	return 0;
}

CP_FUZZ_ENTRY(zrun)
