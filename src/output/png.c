/* SPDX-License-Identifier: MIT */
#include "output/png.h"

#include <errno.h>
#include <glib.h>
#include <math.h>
#include <openssl/evp.h>
#include <png.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "atomic.h"
#include "certpress.h"
#include "error.h"
#include "i18n.h"
#include "output/zrun.h"

#define MM_PER_INCH 25.4
#define MIN_DPI 10.0
#define MAX_DPI 4800.0

/* The zlib stream (output/zrun.h). Every row is written with PNG's Up filter;
 * on a certificate at 300 dpi that leaves 97 % of the bytes zero and more
 * than half of the rows entirely zero. Those rows are coded by hand (a run
 * of zero bytes is 13 bits a 258 bytes, nothing hashed) and only the rows
 * with something on them go through zlib at level 1, with the Adler-32 of
 * libdeflate. Measured on 3 certificates of the bench batch (2480 x 3508,
 * callgrind instructions of the whole command; mean file size):
 *   libpng, filter NONE, zlib level 3 (before)   2.63 G   494 KB
 *   zero rows by hand, zlib level 3 on the rest  1.56 G   528 KB
 *   the same, zlib level 1                       1.53 G   543 KB
 *   + libdeflate's Adler-32                      1.43 G   543 KB
 *   + the filter two pixels at a time            1.34 G   543 KB
 * Rows with a few marks (up to 128 pixels differing) coded by hand too:
 * 1.11 G but 625 KB, as fixed-Huffman literals cost 8-9 bits each where
 * zlib finds matches; not done. Level 3 over level 1 buys 3 % of the bytes
 * for 2 % more instructions.
 * A folder of certificates (cp_png_write_cached): each stretch of rows
 * between zero rows that is byte for byte the one of the previous page (the
 * static art: half the bytes zlib is given) is written from the cache. Per
 * certificate, 10 certificates against 3: 373 M -> 292 M instructions, the
 * same files. Cutting the stretches every few rows lets the parts of a
 * stretch that hold only static art match too (a flush costs a block
 * header and the window), 10 certificates, instructions / mean file:
 *   no cut 3.26 G / 546 KB   16 rows 2.78 G / 556 KB   12 rows 2.65 G / 560 KB
 *   8 rows 2.40 G / 568 KB   4 rows 2.47 G / 586 KB
 * With 8 rows a certificate costs 211 M; filtering four pixels at a time
 * (a vector subtraction) then 192 M. */
#define PNG_LEVEL 1
#define PNG_CUT_ROWS 8

static bool pixels_for(double mm, double dpi, int *out)
{
	double px = round(mm / MM_PER_INCH * dpi);
	if (!(px >= 1 && px <= CP_RASTER_MAX_SIDE))
		return false;
	*out = (int)px;
	return true;
}

/* A page raster's pixels: 35 MB at 300 dpi, which the first paint touches
 * whole. In 4 KB pages that is some 8,600 page faults, each a trap and a
 * page zeroed (and, on a virtual machine, often the host's fault too): 40
 * to 60 ms of a 130 ms preview here. A mapping of its own with transparent
 * huge pages asked for (MADV_HUGEPAGE, on the 2 MB-aligned span; Debian's
 * kernels give them on request only) takes 18 such faults of 2 MB. Small
 * rasters (a report's cut-outs) are left to Cairo. */
#define HUGE_BYTES (2u << 20)

typedef struct raster_map {
	void *at;
	size_t len;
} raster_map;

static void raster_unmap(void *p)
{
	raster_map *m = p;
	munmap(m->at, m->len);
	g_free(m);
}

static cairo_surface_t *raster_surface(int w, int h)
{
	int stride = cairo_format_stride_for_width(CAIRO_FORMAT_RGB24, w);
	size_t bytes = (size_t)stride * (size_t)h;
	if (stride <= 0 || bytes < 4 * (size_t)HUGE_BYTES)
		return cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
	/* Room to start on a 2 MB boundary: the span advised is then whole. */
	size_t len = bytes + HUGE_BYTES;
	unsigned char *at = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
	                         -1, 0);
	if (at == MAP_FAILED)
		return cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
	unsigned char *data =
	        (unsigned char *)(((uintptr_t)at + HUGE_BYTES - 1) & ~(uintptr_t)(HUGE_BYTES - 1));
#ifdef MADV_HUGEPAGE
	(void)madvise(data, bytes & ~(size_t)(HUGE_BYTES - 1), MADV_HUGEPAGE);
#endif
	cairo_surface_t *s = cairo_image_surface_create_for_data(data, CAIRO_FORMAT_RGB24, w, h,
	                                                         stride);
	raster_map *m = g_new(raster_map, 1);
	*m = (raster_map){.at = at, .len = len};
	static const cairo_user_data_key_t key;
	if (cairo_surface_set_user_data(s, &key, m, raster_unmap) != CAIRO_STATUS_SUCCESS) {
		cairo_surface_destroy(s); /* an error surface: nothing refers to the pixels */
		raster_unmap(m);
		return cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
	}
	return s;
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
	cairo_surface_t *s = raster_surface(w, h);
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
	EVP_MD_CTX *sha;  /* with a seal: SHA-256 of every byte written */
	uint64_t n;       /* bytes written */
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
	if (ctx->sha && !EVP_DigestUpdate(ctx->sha, data, len))
		png_error(png, "SHA-256 failed");
	ctx->n += len;
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

/* PNG's Up filter (type 2) of a packed row against the row above; true when
 * every difference is zero. */
static bool up_filter(const unsigned char *restrict row, const unsigned char *restrict above,
                      unsigned char *restrict dst, size_t n)
{
	unsigned acc = 0;
	for (size_t i = 0; i < n; i++) {
		dst[i] = (unsigned char)(row[i] - above[i]);
		acc |= dst[i];
	}
	return acc == 0;
}

/* The same straight from two cairo xRGB rows, packing and filtering in one
 * pass: several pixels' bytes are subtracted at once (no borrow crosses a
 * byte) and stored as R, G, B; the unused byte is ignored. dst needs two
 * bytes of room past 3 * width. True when every difference is zero. */
static inline uint32_t rgb_bytes(uint32_t xrgb)
{
	return __builtin_bswap32(xrgb) >> 8; /* R, G, B, 0 in memory order */
}

/* Two pixels' differences (8 bytes, two xRGB words) as 6 bytes R, G, B. */
static inline uint64_t rgb_pair(uint64_t d)
{
	return rgb_bytes((uint32_t)d) | (uint64_t)rgb_bytes((uint32_t)(d >> 32)) << 24;
}

typedef uint8_t v16u8 __attribute__((vector_size(16)));

static bool up_filter_rgb(const uint32_t *restrict src, const uint32_t *restrict above,
                          unsigned char *restrict dst, int width)
{
	const uint64_t hi = 0x8080808080808080u;
	v16u8 vacc = {0};
	int x = 0;
	/* four pixels at a time: the byte-wise subtraction is one vector
	 * instruction (SSE2 psubb on x86-64, the baseline) */
	for (; x + 4 <= width; x += 4) {
		v16u8 p, q, d;
		memcpy(&p, src + x, 16);
		memcpy(&q, above + x, 16);
		d = p - q;
		vacc |= d;
		uint64_t w[2];
		memcpy(w, &d, 16);
		uint64_t a = rgb_pair(w[0]), b = rgb_pair(w[1]);
		memcpy(dst, &a, 8);
		memcpy(dst + 6, &b, 8);
		dst += 12;
	}
	uint64_t acc[2];
	memcpy(acc, &vacc, 16);
	acc[0] |= acc[1];
	for (; x + 2 <= width; x += 2) {
		uint64_t p, q;
		memcpy(&p, src + x, 8);
		memcpy(&q, above + x, 8);
		uint64_t d = ((p | hi) - (q & ~hi)) ^ ((p ^ ~q) & hi);
		acc[0] |= d;
		uint64_t out = rgb_pair(d);
		memcpy(dst, &out, 8);
		dst += 6;
	}
	if (x < width) {
		uint32_t p = src[x], q = above[x];
		uint32_t d = ((p | 0x80808080u) - (q & 0x7f7f7f7fu)) ^ ((p ^ ~q) & 0x80808080u);
		acc[0] |= d;
		uint32_t out = rgb_bytes(d);
		memcpy(dst, &out, 4);
	}
	return (acc[0] & 0x00ffffff00ffffffu) == 0;
}

/* One IDAT chunk for each piece of the zlib stream (at most 64 KB). A write
 * error leaves through png_error. */
static bool on_idat(void *png, const unsigned char *data, size_t len)
{
	png_write_chunk(png, (png_const_bytep) "IDAT", data, len);
	return true;
}

cp_png_cache *cp_png_cache_new(void)
{
	return cp_zrun_cache_new();
}

void cp_png_cache_free(cp_png_cache *cache)
{
	cp_zrun_cache_free(cache);
}

/* Writes surface into out and commits it; out is always consumed. cache
 * (may be NULL) holds the compressed row stretches of the worker's last
 * page (src/output/zrun.c). */
static bool write_to(cairo_surface_t *surface, cp_atomic *out, double dpi, cp_png_cache *cache,
                     const cp_png_seal *seal, cp_error **err)
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
	unsigned char *volatile sealed = NULL;
	cp_error *volatile seal_err = NULL;
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &ctx, on_png_error,
	                                          on_png_warning);
	png_infop info = png ? png_create_info_struct(png) : NULL;
	/* the filtered row (filter type byte first) and, with alpha, the
	 * unfiltered rows this one and the one above */
	unsigned char *volatile filt = g_malloc(rowbytes + 3);
	unsigned char *volatile cur = alpha ? g_malloc(rowbytes) : NULL;
	unsigned char *volatile prev = alpha ? g_malloc0(rowbytes) : NULL;
	cp_zrun *volatile z = NULL;
	if (info && seal) {
		ctx.sha = EVP_MD_CTX_new();
		if (!ctx.sha || !EVP_DigestInit_ex(ctx.sha, EVP_sha256(), NULL)) {
			png_destroy_write_struct(&png, &info);
			info = NULL;
		}
	}
	if (!info) {
		EVP_MD_CTX_free(ctx.sha);
		png_destroy_write_struct(&png, NULL);
		g_free(filt), g_free(cur), g_free(prev);
		cp_atomic_abort(out);
		cp_set_error(err, CP_E_NOMEM, path, 0, 0, NULL, _("out of memory"));
		return false;
	}
	if (setjmp(ctx.jmp)) {
		cp_zrun_free(z);
		png_destroy_write_struct(&png, &info);
		g_free(filt), g_free(cur), g_free(prev), g_free(sealed);
		EVP_MD_CTX_free(ctx.sha);
		cp_atomic_abort(out);
		if (seal_err)
			cp_propagate_error(err, seal_err);
		else
			cp_set_error(err, CP_E_IO, path, 0, 0, NULL, _("cannot write the PNG: %s"),
			             ctx.msg);
		return false;
	}
	png_set_write_fn(png, &ctx, on_png_write, on_png_flush);
	png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8,
	             alpha ? PNG_COLOR_TYPE_RGB_ALPHA : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
	             PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_uint_32 ppm = (png_uint_32)lround(dpi / 0.0254);
	png_set_pHYs(png, info, ppm, ppm, PNG_RESOLUTION_METER);
	if (seal && seal->text) {
		png_text t = {
			.compression = PNG_ITXT_COMPRESSION_NONE,
			.key = (png_charp)seal->keyword, .text = (png_charp)seal->text,
			.itxt_length = strlen(seal->text),
		};
		png_set_text(png, info, &t, 1);
	}
	png_write_info(png, info);

	z = cp_zrun_new(PNG_LEVEL, on_idat, png);
	if (!z)
		png_error(png, "out of memory");
	cp_zrun_set_cache(z, cache);
	static const unsigned char up = PNG_FILTER_VALUE_UP;
	filt[0] = up;
	size_t row_pixels = (size_t)width * 4;
	int dense_rows = 0;
	for (int y = 0; y < height; y++) {
		const uint32_t *src = (const uint32_t *)(data + (size_t)y * (size_t)stride);
		bool zero;
		if (alpha) {
			unsigned char *t = cur;
			pack_row_rgba(src, t, width);
			zero = up_filter(t, prev, filt + 1, rowbytes);
			cur = prev, prev = t;
		} else if (y > 0) {
			/* a row the same as the one above needs no filtering */
			const uint32_t *above = (const uint32_t *)((const unsigned char *)src - stride);
			zero = memcmp(src, above, row_pixels) == 0 ||
			       up_filter_rgb(src, above, filt + 1, width);
		} else {
			pack_row_rgb(src, filt + 1, width); /* Up of the first row: itself */
			zero = false;
		}
		dense_rows = zero ? 0 : dense_rows + 1;
		if (dense_rows > PNG_CUT_ROWS && dense_rows % PNG_CUT_ROWS == 1 && !cp_zrun_cut(z))
			png_error(png, "compression failed");
		if (!(zero ? cp_zrun_sparse(z, &up, 1) && cp_zrun_zeros(z, rowbytes)
		           : cp_zrun_dense(z, filt, rowbytes + 1)))
			png_error(png, "compression failed");
	}
	if (!cp_zrun_finish(z))
		png_error(png, "compression failed");
	cp_zrun_free(z);
	z = NULL;
	if (seal) {
		/* the bytes so far are final: sign them, in this (worker) thread */
		unsigned char md[32];
		unsigned int mdn = 0;
		size_t slen = 0;
		cp_error *se = NULL;
		if (!EVP_DigestFinal_ex(ctx.sha, md, &mdn) || mdn != sizeof md)
			png_error(png, "SHA-256 failed");
		EVP_MD_CTX_free(ctx.sha);
		ctx.sha = NULL;
		sealed = seal->make(seal->ud, md, ctx.n, &slen, &se);
		if (!sealed) {
			seal_err = se;
			png_error(png, "signing failed");
		}
		png_write_chunk(png, (png_const_bytep)seal->type, sealed, slen);
		g_free(sealed);
		sealed = NULL;
	}
	png_write_chunk(png, (png_const_bytep) "IEND", NULL, 0);
	png_destroy_write_struct(&png, &info);
	g_free(filt), g_free(cur), g_free(prev);
	return cp_atomic_commit(out, err);
}

bool cp_png_write(cairo_surface_t *surface, const char *path, double dpi, cp_error **err)
{
	return cp_png_write_cached(surface, path, dpi, NULL, err);
}

bool cp_png_write_cached(cairo_surface_t *surface, const char *path, double dpi,
                         cp_png_cache *cache, cp_error **err)
{
	cp_atomic *out = cp_atomic_open(path, 0, err);
	return out && write_to(surface, out, dpi, cache, NULL, err);
}

bool cp_png_write_atomic(cairo_surface_t *surface, cp_atomic *out, double dpi, cp_error **err)
{
	return write_to(surface, out, dpi, NULL, NULL, err);
}

bool cp_png_write_atomic_cached(cairo_surface_t *surface, cp_atomic *out, double dpi,
                                cp_png_cache *cache, cp_error **err)
{
	return write_to(surface, out, dpi, cache, NULL, err);
}

bool cp_png_write_atomic_sealed(cairo_surface_t *surface, cp_atomic *out, double dpi,
                                cp_png_cache *cache, const cp_png_seal *seal, cp_error **err)
{
	return write_to(surface, out, dpi, cache, seal, err);
}
