/* SPDX-License-Identifier: MIT */
/*
 * Phones store a portrait photo sideways and say so in the EXIF Orientation
 * tag (APP1): such a JPEG is measured and drawn as the tag says, upright.
 * The tag is read with libexif (Debian's, fuzzed by its own project and by
 * fuzz_image here); rotated JPEGs go into PDFs as turned pixels, since a PDF
 * viewer ignores EXIF.
 */
#include "input/image.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <stdio.h> /* before jpeglib.h, which needs FILE */
#include <jpeglib.h>
#include <jerror.h>
#include <libexif/exif-data.h>
#include <png.h>
#include <setjmp.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "digest.h"
#include "error.h"
#include "i18n.h"

/* How far a decoder goes: the header only, every byte of the compressed
 * data without keeping pixels (validation), or the pixels themselves. */
typedef enum dec_mode { DEC_HEADER, DEC_VALIDATE, DEC_PIXELS } dec_mode;

/* ------------------------------------------------------------- file bytes */

static unsigned char *read_file(const char *path, size_t *len, struct stat *stp,
                                cp_error **err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		cp_set_error(err, CP_E_IO, path, 0, 0, NULL, _("cannot open the image: %s"),
		             g_strerror(errno));
		return NULL;
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		cp_set_error(err, CP_E_IO, path, 0, 0, NULL, _("the image is not a regular file"));
		close(fd);
		return NULL;
	}
	if (st.st_size == 0) {
		cp_set_error(err, CP_E_PARSE, path, 0, 0, NULL, _("the image file is empty"));
		close(fd);
		return NULL;
	}
	if ((uint64_t)st.st_size > CP_IMAGE_MAX_BYTES) {
		cp_set_error(err, CP_E_NOMEM, path, 0, 0, NULL,
		             _("the image file is larger than %u MiB"), CP_IMAGE_MAX_BYTES >> 20);
		close(fd);
		return NULL;
	}
	size_t n = (size_t)st.st_size, got = 0;
	unsigned char *buf = g_malloc(n);
	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			cp_set_error(err, CP_E_IO, path, 0, 0, NULL, _("cannot read the image: %s"),
			             r < 0 ? g_strerror(errno) : _("the file shrank while reading"));
			g_free(buf);
			close(fd);
			return NULL;
		}
		got += (size_t)r;
	}
	close(fd);
	*len = n;
	if (stp)
		*stp = st;
	return buf;
}

static int sniff(const unsigned char *b, size_t n)
{
	static const unsigned char png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
	if (n >= 8 && memcmp(b, png_sig, 8) == 0)
		return CP_IMAGE_PNG;
	if (n >= 3 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff)
		return CP_IMAGE_JPEG;
	return -1;
}

static bool check_limits(const char *path, long w, long h, cp_error **err)
{
	if (w <= 0 || h <= 0) {
		cp_set_error(err, CP_E_PARSE, path, 0, 0, NULL, _("the image has no pixels"));
		return false;
	}
	uint64_t px = (uint64_t)w * (uint64_t)h; /* both below 2^31: no overflow */
	if (w > CP_IMAGE_MAX_SIDE || h > CP_IMAGE_MAX_SIDE || px > CP_IMAGE_MAX_PIXELS) {
		cp_set_error(err, CP_E_NOMEM, path, 0, 0, NULL,
		             _("the image is %ld x %ld pixels; the limit is %d a side and %u "
		               "million in all"),
		             w, h, CP_IMAGE_MAX_SIDE, CP_IMAGE_MAX_PIXELS / 1000000u);
		return false;
	}
	return true;
}

static uint32_t premul(unsigned r, unsigned g, unsigned b, unsigned a)
{
	if (a != 255) {
		/* Exact rounding of c * a / 255. */
		unsigned t;
		t = r * a + 128, r = (t + (t >> 8)) >> 8;
		t = g * a + 128, g = (t + (t >> 8)) >> 8;
		t = b * a + 128, b = (t + (t >> 8)) >> 8;
	}
	return (uint32_t)a << 24 | r << 16 | g << 8 | b;
}

/* -------------------------------------------------------------------- PNG */

typedef struct png_src {
	jmp_buf jmp;
	char msg[200];
	const unsigned char *data;
	size_t len, pos;
} png_src;

static void png_err(png_structp png, png_const_charp msg)
{
	png_src *s = png_get_error_ptr(png);
	g_strlcpy(s->msg, msg, sizeof s->msg);
	longjmp(s->jmp, 1);
}

/* Ancillary trouble (a bad iCCP profile, a damaged tEXt) does not change the
 * pixels; truncation and damaged image data are errors, raised by png_err. */
static void png_warn(png_structp png, png_const_charp msg)
{
}

static void png_read_cb(png_structp png, png_bytep out, size_t n)
{
	png_src *s = png_get_io_ptr(png);
	if (n > s->len - s->pos)
		png_error(png, "the file ends early (truncated)");
	memcpy(out, s->data + s->pos, n);
	s->pos += n;
}

/* Fills info, then validates or decodes into a new surface as mode says. */
static cairo_surface_t *png_decode(const char *path, const unsigned char *data, size_t len,
                                   dec_mode mode, cp_image_info *info, cp_error **err)
{
	/* The size is checked from IHDR (always the first chunk) before libpng
	 * reads on: png_read_info() goes on to the first IDAT, and a header
	 * announcing a giant image should be refused as such, not as a short
	 * file. */
	if (len >= 24 && memcmp(data + 12, "IHDR", 4) == 0) {
		long w = (long)((uint32_t)data[16] << 24 | (uint32_t)data[17] << 16 |
		                (uint32_t)data[18] << 8 | data[19]);
		long h = (long)((uint32_t)data[20] << 24 | (uint32_t)data[21] << 16 |
		                (uint32_t)data[22] << 8 | data[23]);
		if (w > 0 && h > 0 && !check_limits(path, w, h, err))
			return NULL;
	}
	png_src src = {.data = data, .len = len};
	png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &src, png_err, png_warn);
	png_infop pi = png ? png_create_info_struct(png) : NULL;
	/* volatile: assigned after setjmp and used after a longjmp. */
	cairo_surface_t *volatile surface = NULL;
	png_bytep *volatile rows = NULL;
	png_bytep volatile vrow = NULL; /* DEC_VALIDATE's one row */
	if (!pi) {
		png_destroy_read_struct(&png, NULL, NULL);
		cp_set_error(err, CP_E_NOMEM, path, 0, 0, NULL, _("out of memory"));
		return NULL;
	}
	if (setjmp(src.jmp)) {
		cp_set_error(err, CP_E_PARSE, path, 0, 0, NULL, _("damaged PNG image: %s"), src.msg);
		goto fail;
	}
	png_set_read_fn(png, &src, png_read_cb);
	/* Our own limits are checked below with a clearer message; libpng's
	 * must only be wide enough not to fire first. */
	png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
	png_read_info(png, pi);
	png_uint_32 w = png_get_image_width(png, pi), h = png_get_image_height(png, pi);
	if (!check_limits(path, (long)w, (long)h, err))
		goto fail;
	int ct = png_get_color_type(png, pi);
	info->format = CP_IMAGE_PNG;
	info->width = (int)w;
	info->height = (int)h;
	info->has_alpha = (ct & PNG_COLOR_MASK_ALPHA) || png_get_valid(png, pi, PNG_INFO_tRNS);
	info->orientation = 1;
	info->dpi_x = info->dpi_y = 0;
	png_uint_32 rx, ry;
	int unit;
	if (png_get_pHYs(png, pi, &rx, &ry, &unit) && unit == PNG_RESOLUTION_METER) {
		info->dpi_x = rx * 0.0254;
		info->dpi_y = ry * 0.0254;
	}
	if (mode == DEC_HEADER) {
		png_destroy_read_struct(&png, &pi, NULL);
		return NULL;
	}

	/* Everything becomes 8-bit RGBA bytes in the surface's own memory, then
	 * is packed in place into cairo's native-endian premultiplied words. */
	png_set_expand(png);
	png_set_scale_16(png);
	png_set_gray_to_rgb(png);
	png_set_add_alpha(png, 0xff, PNG_FILLER_AFTER);
	int passes = png_set_interlace_handling(png);
	png_read_update_info(png, pi);
	if (png_get_rowbytes(png, pi) != (size_t)w * 4)
		png_error(png, "unexpected row layout");
	if (mode == DEC_VALIDATE) {
		/* Every row of every pass through one row buffer: zlib and the
		 * CRCs see all the data, and no image-sized memory is taken. */
		vrow = g_malloc((size_t)w * 4);
		for (int pass = 0; pass < passes; pass++)
			for (png_uint_32 y = 0; y < h; y++)
				png_read_row(png, vrow, NULL);
		png_read_end(png, NULL);
		g_free(vrow);
		png_destroy_read_struct(&png, &pi, NULL);
		return NULL;
	}
	cairo_format_t fmt = info->has_alpha ? CAIRO_FORMAT_ARGB32 : CAIRO_FORMAT_RGB24;
	surface = cairo_image_surface_create(fmt, (int)w, (int)h);
	if (cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS) {
		cp_set_error(err, CP_E_NOMEM, path, 0, 0, NULL, _("out of memory"));
		goto fail;
	}
	unsigned char *pix = cairo_image_surface_get_data(surface);
	int stride = cairo_image_surface_get_stride(surface);
	rows = g_new(png_bytep, h);
	for (png_uint_32 y = 0; y < h; y++)
		rows[y] = pix + (size_t)y * (size_t)stride;
	png_read_image(png, rows);
	png_read_end(png, NULL);
	for (png_uint_32 y = 0; y < h; y++) {
		unsigned char *b = rows[y];
		uint32_t *o = (uint32_t *)b;
		for (png_uint_32 x = 0; x < w; x++, b += 4)
			o[x] = premul(b[0], b[1], b[2], fmt == CAIRO_FORMAT_ARGB32 ? b[3] : 255);
	}
	cairo_surface_mark_dirty(surface);
	g_free(rows);
	png_destroy_read_struct(&png, &pi, NULL);
	return surface;
fail:
	g_free(rows);
	g_free(vrow);
	if (surface)
		cairo_surface_destroy(surface);
	png_destroy_read_struct(&png, &pi, NULL);
	return NULL;
}

/* ------------------------------------------------------------------- JPEG */

typedef struct jpeg_err {
	struct jpeg_error_mgr pub;
	jmp_buf jmp;
	char msg[JMSG_LENGTH_MAX];
} jpeg_err;

static void jpeg_on_error(j_common_ptr cinfo)
{
	jpeg_err *e = (jpeg_err *)cinfo->err;
	e->pub.format_message(cinfo, e->msg);
	longjmp(e->jmp, 1);
}

/* libjpeg only warns about a truncated file ("Premature end of JPEG file")
 * or damaged data, then fills in grey: for a certificate photo that is an
 * error. Stray bytes between markers are harmless and common. */
static void jpeg_on_message(j_common_ptr cinfo, int level)
{
	if (level == -1 && cinfo->err->msg_code != JWRN_EXTRANEOUS_DATA)
		jpeg_on_error(cinfo);
}

/* The EXIF Orientation (1-8) of a JPEG whose APP1 markers were saved; 1
 * when there is none or it is not one of the eight values. */
static int exif_orientation(jpeg_saved_marker_ptr m)
{
	static const unsigned char exif_id[6] = {'E', 'x', 'i', 'f', 0, 0};
	for (; m; m = m->next) {
		if (m->marker != JPEG_APP0 + 1 || m->data_length < sizeof exif_id ||
		    memcmp(m->data, exif_id, sizeof exif_id) != 0)
			continue;
		ExifData *ed = exif_data_new();
		if (!ed)
			return 1;
		/* only read: no tags made up, none dropped or "fixed" */
		exif_data_unset_option(ed, EXIF_DATA_OPTION_FOLLOW_SPECIFICATION);
		exif_data_load_data(ed, m->data, m->data_length);
		int o = 1;
		ExifEntry *e = exif_content_get_entry(ed->ifd[EXIF_IFD_0], EXIF_TAG_ORIENTATION);
		if (e && e->format == EXIF_FORMAT_SHORT && e->components >= 1 && e->data &&
		    e->size >= 2) {
			int v = exif_get_short(e->data, exif_data_get_byte_order(ed));
			if (v >= 1 && v <= 8)
				o = v;
		}
		exif_data_unref(ed);
		return o; /* the first EXIF block is the one readers use */
	}
	return 1;
}

/* A new RGB24 surface with src turned upright as EXIF orientation o (2-8)
 * says: 2 mirrored, 3 turned 180°, 4 flipped, 5 transposed, 6 turned 90°
 * clockwise, 7 transversed, 8 turned 90° anticlockwise. NULL when out of
 * memory. */
static cairo_surface_t *orient(cairo_surface_t *src, int o)
{
	int w = cairo_image_surface_get_width(src), h = cairo_image_surface_get_height(src);
	int W = o >= 5 ? h : w, H = o >= 5 ? w : h;
	cairo_surface_t *dst = cairo_image_surface_create(CAIRO_FORMAT_RGB24, W, H);
	if (cairo_surface_status(dst) != CAIRO_STATUS_SUCCESS) {
		cairo_surface_destroy(dst);
		return NULL;
	}
	cairo_surface_flush(src);
	const unsigned char *sp = cairo_image_surface_get_data(src);
	unsigned char *dp = cairo_image_surface_get_data(dst);
	size_t ss = (size_t)cairo_image_surface_get_stride(src);
	size_t ds = (size_t)cairo_image_surface_get_stride(dst);
	for (int dy = 0; dy < H; dy++) {
		uint32_t *out = (uint32_t *)(dp + (size_t)dy * ds);
		for (int dx = 0; dx < W; dx++) {
			int sx, sy;
			switch (o) {
			case 2: sx = w - 1 - dx, sy = dy; break;
			case 3: sx = w - 1 - dx, sy = h - 1 - dy; break;
			case 4: sx = dx, sy = h - 1 - dy; break;
			case 5: sx = dy, sy = dx; break;
			case 6: sx = dy, sy = h - 1 - dx; break;
			case 7: sx = w - 1 - dy, sy = h - 1 - dx; break;
			case 8: sx = w - 1 - dy, sy = dx; break;
			default: sx = dx, sy = dy; break;
			}
			out[dx] = ((const uint32_t *)(sp + (size_t)sy * ss))[sx];
		}
	}
	cairo_surface_mark_dirty(dst);
	return dst;
}

/* *embeddable tells whether the file may go into a PDF as-is (see decode);
 * it is set in every mode. */
static cairo_surface_t *jpeg_decode(const char *path, const unsigned char *data, size_t len,
                                    dec_mode mode, cp_image_info *info, bool *embeddable,
                                    cp_error **err)
{
	struct jpeg_decompress_struct cinfo;
	jpeg_err jerr;
	cairo_surface_t *volatile surface = NULL;
	unsigned char *volatile row = NULL;
	cinfo.err = jpeg_std_error(&jerr.pub);
	jerr.pub.error_exit = jpeg_on_error;
	jerr.pub.emit_message = jpeg_on_message;
	jerr.msg[0] = 0;
	if (setjmp(jerr.jmp)) {
		cp_set_error(err, CP_E_PARSE, path, 0, 0, NULL, _("damaged JPEG image: %s"), jerr.msg);
		goto fail;
	}
	jpeg_create_decompress(&cinfo);
	jpeg_mem_src(&cinfo, data, (unsigned long)len);
	jpeg_save_markers(&cinfo, JPEG_APP0 + 1, 0xffff);
	jpeg_read_header(&cinfo, TRUE);
	if (!check_limits(path, (long)cinfo.image_width, (long)cinfo.image_height, err))
		goto fail;
	int orientation = exif_orientation(cinfo.marker_list);
	bool turned = orientation >= 5; /* width and height swap */
	info->format = CP_IMAGE_JPEG;
	info->orientation = orientation;
	info->width = (int)(turned ? cinfo.image_height : cinfo.image_width);
	info->height = (int)(turned ? cinfo.image_width : cinfo.image_height);
	info->has_alpha = false;
	info->dpi_x = info->dpi_y = 0;
	if (cinfo.saw_JFIF_marker && cinfo.X_density && cinfo.Y_density &&
	    (cinfo.density_unit == 1 || cinfo.density_unit == 2)) {
		double f = cinfo.density_unit == 2 ? 2.54 : 1;
		info->dpi_x = (turned ? cinfo.Y_density : cinfo.X_density) * f;
		info->dpi_y = (turned ? cinfo.X_density : cinfo.Y_density) * f;
	}
	bool cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
	*embeddable = !cmyk && orientation == 1;
	if (mode == DEC_HEADER) {
		jpeg_destroy_decompress(&cinfo);
		return NULL;
	}

	/* libjpeg-turbo turns grayscale and YCbCr into RGB itself; CMYK it only
	 * hands over as CMYK, converted below. */
	cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
	if (mode == DEC_VALIDATE) {
		/* At 1/8 scale the IDCT keeps only each block's DC term and the
		 * output is 1/64 of the pixels, but the entropy decoder still
		 * reads every coded segment up to EOI: truncation and damage
		 * raise the same warnings (errors here) as a full decode. */
		cinfo.scale_num = 1;
		cinfo.scale_denom = 8;
		cinfo.dct_method = JDCT_IFAST;
		cinfo.do_fancy_upsampling = FALSE;
	}
	jpeg_start_decompress(&cinfo);
	int w = (int)cinfo.output_width, h = (int)cinfo.output_height;
	int nc = cinfo.output_components;
	if ((cmyk && nc != 4) || (!cmyk && nc != 3))
		ERREXIT(&cinfo, JERR_BAD_J_COLORSPACE);
	row = g_malloc((size_t)w * (size_t)nc);
	if (mode == DEC_VALIDATE) {
		while (cinfo.output_scanline < cinfo.output_height) {
			JSAMPROW r = row;
			if (jpeg_read_scanlines(&cinfo, &r, 1) != 1)
				ERREXIT(&cinfo, JERR_INPUT_EOF);
		}
		jpeg_finish_decompress(&cinfo);
		jpeg_destroy_decompress(&cinfo);
		g_free(row);
		return NULL;
	}
	surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
	if (cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS) {
		cp_set_error(err, CP_E_NOMEM, path, 0, 0, NULL, _("out of memory"));
		goto fail;
	}
	unsigned char *pix = cairo_image_surface_get_data(surface);
	int stride = cairo_image_surface_get_stride(surface);
	/* Adobe applications write CMYK inverted (and flag it with their APP14
	 * marker); everyone else writes it plain. */
	bool inverted = cinfo.saw_Adobe_marker;
	while (cinfo.output_scanline < cinfo.output_height) {
		JSAMPROW r = row;
		unsigned y = cinfo.output_scanline;
		if (jpeg_read_scanlines(&cinfo, &r, 1) != 1)
			ERREXIT(&cinfo, JERR_INPUT_EOF);
		uint32_t *o = (uint32_t *)(pix + (size_t)y * (size_t)stride);
		const unsigned char *s = row;
		for (int x = 0; x < w; x++, s += nc) {
			unsigned R, G, B;
			if (cmyk) {
				unsigned c = s[0], m = s[1], ye = s[2], k = s[3];
				if (!inverted)
					c = 255 - c, m = 255 - m, ye = 255 - ye, k = 255 - k;
				R = (c * k + 127) / 255, G = (m * k + 127) / 255, B = (ye * k + 127) / 255;
			} else {
				R = s[0], G = s[1], B = s[2];
			}
			o[x] = 0xff000000u | R << 16 | G << 8 | B;
		}
	}
	jpeg_finish_decompress(&cinfo);
	jpeg_destroy_decompress(&cinfo);
	g_free(row);
	cairo_surface_mark_dirty(surface);
	if (orientation != 1) {
		cairo_surface_t *up = orient(surface, orientation);
		cairo_surface_destroy(surface);
		if (!up)
			cp_set_error(err, CP_E_NOMEM, path, 0, 0, NULL, _("out of memory"));
		return up;
	}
	return surface;
fail:
	g_free(row);
	if (surface)
		cairo_surface_destroy(surface);
	jpeg_destroy_decompress(&cinfo);
	return NULL;
}

/* ------------------------------------------------------ validated files */

/* Files that passed a whole decode or validation, by identity. ctime is in
 * the key because, unlike mtime, no one can set it back: a file rewritten in
 * place is a new file here. Bounded; cleared when full. */
#define VALIDATED_MAX 4096

typedef struct file_id {
	dev_t dev;
	ino_t ino;
	off_t size;
	int64_t mtime_ns, ctime_ns;
} file_id;

typedef struct validated {
	file_id id;
	cp_image_info info;
	bool embeddable;
	bool whole; /* decoded whole; false: only its header was read (a probe) */
} validated;

static GMutex validated_lock;
static GHashTable *validated_files; /* validated* -> itself */

static guint file_id_hash(gconstpointer p)
{
	const file_id *f = p;
	uint64_t h = (uint64_t)f->ino * 0x9e3779b97f4a7c15u ^ (uint64_t)f->dev ^
	             (uint64_t)f->size * 31u ^ (uint64_t)f->mtime_ns ^
	             (uint64_t)f->ctime_ns * 7u;
	return (guint)(h ^ h >> 32);
}

static gboolean file_id_equal(gconstpointer a, gconstpointer b)
{
	const file_id *x = a, *y = b;
	return x->dev == y->dev && x->ino == y->ino && x->size == y->size &&
	       x->mtime_ns == y->mtime_ns && x->ctime_ns == y->ctime_ns;
}

static void file_id_of(const struct stat *st, file_id *f)
{
	memset(f, 0, sizeof *f); /* hashed and compared field by field, but tidy */
	f->dev = st->st_dev;
	f->ino = st->st_ino;
	f->size = st->st_size;
	f->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
	f->ctime_ns = (int64_t)st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec;
}

/* header_only: a file whose header alone was read will do (a probe). */
static bool validated_lookup(const struct stat *st, cp_image_info *info, bool *embeddable,
                             bool header_only)
{
	file_id id;
	file_id_of(st, &id);
	g_mutex_lock(&validated_lock);
	const validated *v = validated_files ? g_hash_table_lookup(validated_files, &id) : NULL;
	if (v && !v->whole && !header_only)
		v = NULL;
	if (v) {
		*info = v->info;
		*embeddable = v->embeddable;
	}
	g_mutex_unlock(&validated_lock);
	return v != NULL;
}

static void validated_add(const struct stat *st, const cp_image_info *info, bool embeddable,
                          bool whole)
{
	validated *v = g_new(validated, 1);
	file_id_of(st, &v->id);
	v->info = *info;
	v->embeddable = embeddable;
	v->whole = whole;
	g_mutex_lock(&validated_lock);
	if (!validated_files)
		validated_files = g_hash_table_new_full(file_id_hash, file_id_equal, NULL, g_free);
	if (g_hash_table_size(validated_files) >= VALIDATED_MAX)
		g_hash_table_remove_all(validated_files);
	g_hash_table_replace(validated_files, &v->id, v);
	g_mutex_unlock(&validated_lock);
}

void cp_image_forget_validated(void)
{
	g_mutex_lock(&validated_lock);
	if (validated_files)
		g_hash_table_destroy(validated_files);
	validated_files = NULL;
	g_mutex_unlock(&validated_lock);
}

/* ------------------------------------------------------------------- API */

/* Decodes data as mode says; sets *embeddable. */
static cairo_surface_t *decode_bytes(const char *path, const unsigned char *data, size_t len,
                                     dec_mode mode, cp_image_info *info, bool *embeddable,
                                     cp_error **err)
{
	*embeddable = false;
	switch (sniff(data, len)) {
	case CP_IMAGE_PNG:
		return png_decode(path, data, len, mode, info, err);
	case CP_IMAGE_JPEG:
		return jpeg_decode(path, data, len, mode, info, embeddable, err);
	default:
		cp_set_error(err, CP_E_PARSE, path, 0, 0, NULL,
		             _("the file is neither a PNG nor a JPEG image"));
		return NULL;
	}
}

/* Attaches the file (owned from now on, whatever happens) as JPEG mime
 * data with a content-derived unique id. Returns s, or NULL (s destroyed). */
static cairo_surface_t *attach_jpeg(cairo_surface_t *s, const char *path, unsigned char *data,
                                    size_t len, cp_error **err)
{
	/* The file's SHA-256 in hex (by OpenSSL: GLib's portable SHA-256 was
	 * 9 % of a certificate's PDF time). */
	char *id = cp_sha256_hex(data, len);
	cairo_status_t st = cairo_surface_set_mime_data(s, CAIRO_MIME_TYPE_UNIQUE_ID,
	                                                (unsigned char *)id, strlen(id),
	                                                g_free, id);
	if (st == CAIRO_STATUS_SUCCESS) {
		st = cairo_surface_set_mime_data(s, CAIRO_MIME_TYPE_JPEG, data, len, g_free, data);
		if (st == CAIRO_STATUS_SUCCESS)
			return s; /* data now belongs to the surface */
	} else {
		g_free(id);
	}
	g_free(data);
	cp_set_error(err, CP_E_NOMEM, path, 0, 0, NULL, _("out of memory"));
	cairo_surface_destroy(s);
	return NULL;
}

static cairo_surface_t *decode(const char *path, dec_mode mode, cp_image_info *info,
                               cp_error **err)
{
	size_t len;
	struct stat st;
	unsigned char *data = read_file(path, &len, &st, err);
	if (!data)
		return NULL;
	cp_image_info tmp;
	if (!info)
		info = &tmp;
	cp_error *e = NULL;
	bool embeddable = false;
	cairo_surface_t *s = decode_bytes(path, data, len, mode, info, &embeddable, &e);
	if (e) {
		cp_propagate_error(err, e);
		g_free(data);
		return NULL;
	}
	validated_add(&st, info, embeddable, mode != DEC_HEADER);
	/* Cairo's PDF backend writes CMYK JPEGs without the /Decode array that
	 * Adobe's inverted CMYK needs (colours would come out negative); those
	 * are embedded as decoded pixels instead. Everything else goes in as the
	 * original file, once per document thanks to the content-derived id. */
	if (s && embeddable)
		return attach_jpeg(s, path, data, len, err);
	g_free(data);
	return s;
}

bool cp_image_probe(const char *path, cp_image_info *info, cp_error **err)
{
	return cp_image_probe_stat(path, NULL, info, err);
}

bool cp_image_probe_stat(const char *path, const struct stat *known, cp_image_info *info,
                         cp_error **err)
{
	cp_error *e = NULL;
	cp_image_info tmp;
	if (!info)
		info = &tmp;
	/* A file this process has read already (same identity, see file_id)
	 * has its header known: a batch names a few dozen photos for 1,000
	 * rows, and reading each row's file again cost a preview 13 M
	 * instructions of 730 M. */
	struct stat st;
	bool embeddable;
	if (known)
		st = *known;
	if ((known || stat(path, &st) == 0) && S_ISREG(st.st_mode) &&
	    validated_lookup(&st, info, &embeddable, true))
		return true;
	decode(path, DEC_HEADER, info, &e);
	if (e) {
		cp_propagate_error(err, e);
		return false;
	}
	return true;
}

bool cp_image_validate(const char *path, cp_image_info *info, cp_error **err)
{
	cp_image_info tmp;
	if (!info)
		info = &tmp;
	struct stat st;
	bool embeddable;
	/* stat, not open: a known file costs one system call. The identity
	 * (with ctime) changes whenever the content can have. */
	if (stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	    validated_lookup(&st, info, &embeddable, false))
		return true;
	cp_error *e = NULL;
	decode(path, DEC_VALIDATE, info, &e);
	if (e) {
		cp_propagate_error(err, e);
		return false;
	}
	return true;
}

cairo_surface_t *cp_image_load(const char *path, cp_image_info *info, cp_error **err)
{
	return decode(path, DEC_PIXELS, info, err);
}

/* ------------------------------------------------------- pixel-less JPEG */

static const cairo_user_data_key_t stand_in_key;

/* A 1 x 1 surface, not one of the image's size: Cairo attaches a snapshot
 * to every source surface drawn on a PDF page, and when the source is
 * destroyed the snapshot copies its pixels first (cairo 1.16,
 * _cairo_surface_snapshot_copy_on_write) only to be freed: a megabyte
 * allocated, faulted in and copied per photo for nothing. */
static cairo_surface_t *stand_in_surface(const char *path, cp_error **err)
{
	cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 1, 1);
	if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS ||
	    cairo_surface_set_user_data(s, &stand_in_key, s, NULL) != CAIRO_STATUS_SUCCESS) {
		cairo_surface_destroy(s);
		cp_set_error(err, CP_E_NOMEM, path, 0, 0, NULL, _("out of memory"));
		return NULL;
	}
	return s;
}

cairo_surface_t *cp_image_load_for_pdf(const char *path, cp_image_info *info, cp_error **err)
{
	size_t len;
	struct stat st;
	unsigned char *data = read_file(path, &len, &st, err);
	if (!data)
		return NULL;
	cp_image_info tmp;
	if (!info)
		info = &tmp;
	bool embeddable = false;
	cp_error *e = NULL;
	/* Validated before (by the checker, usually): the header is all that is
	 * needed. Otherwise the whole file is validated here, as a decode would. */
	if (!validated_lookup(&st, info, &embeddable, false)) {
		decode_bytes(path, data, len, DEC_VALIDATE, info, &embeddable, &e);
		if (e) {
			cp_propagate_error(err, e);
			g_free(data);
			return NULL;
		}
		validated_add(&st, info, embeddable, true);
	}
	if (!embeddable) {
		/* PNG, or CMYK JPEG: these go into the PDF as pixels. */
		cairo_surface_t *s = decode_bytes(path, data, len, DEC_PIXELS, info, &embeddable, &e);
		g_free(data);
		if (e)
			cp_propagate_error(err, e);
		return s;
	}
	cairo_surface_t *s = stand_in_surface(path, err);
	if (!s) {
		g_free(data);
		return NULL;
	}
	return attach_jpeg(s, path, data, len, err);
}

bool cp_image_has_pixels(cairo_surface_t *s)
{
	return cairo_surface_get_user_data(s, &stand_in_key) == NULL;
}

cairo_surface_t *cp_image_with_pixels(cairo_surface_t *s, cp_error **err)
{
	if (cp_image_has_pixels(s))
		return cairo_surface_reference(s);
	const unsigned char *mime = NULL;
	unsigned long len = 0;
	cairo_surface_get_mime_data(s, CAIRO_MIME_TYPE_JPEG, &mime, &len);
	if (!mime) {
		cp_set_error(err, CP_E_PARSE, NULL, 0, 0, NULL, _("the image has no pixels"));
		return NULL;
	}
	cp_image_info info;
	bool embeddable;
	unsigned char *copy = g_memdup2(mime, len);
	cairo_surface_t *d = decode_bytes(NULL, copy, len, DEC_PIXELS, &info, &embeddable, err);
	if (!d) {
		g_free(copy);
		return NULL;
	}
	return attach_jpeg(d, NULL, copy, len, err);
}
