/* SPDX-License-Identifier: MIT */
/*
 * Signed PNG images (src/trust/pngsig.c, src/output/png.c): the iTXt token
 * and the cpSG chunk round trip; the image data is the unsigned writer's,
 * byte for byte; every change is refused with its own status — a byte of
 * the image data, bytes after IEND, the signature itself, the chunk's CRC,
 * another key; a PNG without the chunk is not "sealed" (checked as a scan).
 */
#include "common/testseal.h"
#include "common/testutil.h"

#include <glib/gstdio.h>
#include <openssl/pem.h>
#include <string.h>
#include <zlib.h>

#include "atomic.h"
#include "output/png.h"
#include "trust/keys.h"
#include "trust/pngsig.h"
#include "trust/qrtoken.h"

#define URL "http://jndj.osta.org.cn/?zsbh=S000044000123263000001"

typedef tu_seal seal;

/* A small page with something on it: dense rows, zero rows, a repeat. */
static cairo_surface_t *page(void)
{
	cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 240, 160);
	cairo_t *cr = cairo_create(s);
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_paint(cr);
	cairo_set_source_rgb(cr, 0.7, 0.1, 0.1);
	cairo_rectangle(cr, 20, 20, 80, 40);
	cairo_fill(cr);
	cairo_set_source_rgb(cr, 0, 0, 0.5);
	cairo_arc(cr, 160, 100, 40, 0, 6.28);
	cairo_fill(cr);
	cairo_destroy(cr);
	return s;
}

static char *write_png(const char *dir, const char *name, cairo_surface_t *s,
                       const cp_png_seal *sl)
{
	char *path = g_build_filename(dir, name, NULL);
	cp_error *err = NULL;
	cp_atomic *a = cp_atomic_open(path, 0, &err);
	tu_assert_no_error(err);
	g_assert_true(cp_png_write_atomic_sealed(s, a, 300, NULL, sl, &err));
	tu_assert_no_error(err);
	return path;
}

static char *token(const seal *s)
{
	static const cp_qrtoken_fields f = {{NULL, "S000044000123263000001", "陈志强",
	                                     "4401**********149X", "电工", "--", "三级/高级工",
	                                     "2026-11-27", "广东省示例职业技能评价中心"}};
	cp_error *err = NULL;
	char *frag = cp_qrtoken_fragment(s->signer, &f, URL, &err);
	tu_assert_no_error(err);
	char *t = g_strconcat(URL, frag, NULL);
	g_free(frag);
	return t;
}

static cp_verify_result check(const char *path, X509 *trusted, bool *sealed)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	sk_X509_push(sk, trusted);
	cp_verify_result r;
	memset(&r, 0, sizeof r);
	cp_error *err = NULL;
	g_assert_true(cp_pngsig_verify(path, sk, &r, sealed, &err));
	tu_assert_no_error(err);
	sk_X509_free(sk);
	return r;
}

/* The offset of the first chunk of type t, or 0. */
static size_t find_chunk(const guchar *b, size_t n, const char *t)
{
	for (size_t off = 8; off + 12 <= n;) {
		uint32_t len = (uint32_t)b[off] << 24 | (uint32_t)b[off + 1] << 16 |
		               (uint32_t)b[off + 2] << 8 | b[off + 3];
		if (memcmp(b + off + 4, t, 4) == 0)
			return off;
		off += 12 + len;
	}
	return 0;
}

static size_t chunk_len(const guchar *b, size_t off)
{
	return 12 + ((uint32_t)b[off] << 24 | (uint32_t)b[off + 1] << 16 |
	             (uint32_t)b[off + 2] << 8 | b[off + 3]);
}

static void put(const char *path, const void *b, size_t n)
{
	GError *ge = NULL;
	g_assert_true(g_file_set_contents(path, b, (gssize)n, &ge));
}

static void test_round_trip(void)
{
	seal s = tu_seal_new("pngsig-a", EVP_EC_gen("P-256"));
	char *dir = tu_scratch("pngsig");
	cairo_surface_t *pg = page();
	char *tok = token(&s);
	cp_png_seal sl;
	cp_pngsig_init(&sl, s.signer, tok);
	char *sealed_path = write_png(dir, "sealed.png", pg, &sl);
	char *plain_path = write_png(dir, "plain.png", pg, NULL);

	bool sealed = false;
	cp_verify_result r = check(sealed_path, s.cert, &sealed);
	g_assert_true(sealed);
	g_assert_cmpint(r.status, ==, CP_VERIFY_VALID);
	g_assert_cmpint(r.image_status, ==, CP_VERIFY_VALID);
	g_assert_cmpint(r.token_status, ==, CP_VERIFY_VALID);
	g_assert_true(r.image_sealed);
	g_assert_null(r.reason);
	g_assert_cmpstr(r.cert_no, ==, "S000044000123263000001");
	g_assert_cmpstr(r.name, ==, "陈志强");
	g_assert_cmpstr(r.query_url, ==, URL);
	cp_verify_result_clear(&r);

	/* The plain file is the sealed one without its iTXt and cpSG chunks,
	 * byte for byte: the same IHDR, pHYs and image data. */
	gchar *a, *b;
	gsize na, nb;
	g_assert_true(g_file_get_contents(sealed_path, &a, &na, NULL));
	g_assert_true(g_file_get_contents(plain_path, &b, &nb, NULL));
	const guchar *ua = (const guchar *)a;
	size_t it = find_chunk(ua, na, "iTXt"), sg = find_chunk(ua, na, "cpSG");
	g_assert_cmpuint(it, >, 0);
	g_assert_cmpuint(sg, >, it);
	g_assert_cmpuint(find_chunk(ua, na, "pHYs"), <, it);
	g_assert_cmpuint(sg + chunk_len(ua, sg) + 12, ==, na); /* then IEND, the end */
	GByteArray *strip = g_byte_array_new();
	g_byte_array_append(strip, ua, (guint)it);
	g_byte_array_append(strip, ua + it + chunk_len(ua, it), (guint)(sg - it - chunk_len(ua, it)));
	g_byte_array_append(strip, ua + sg + chunk_len(ua, sg), 12);
	g_assert_cmpmem(strip->data, strip->len, b, nb);
	g_byte_array_free(strip, TRUE);

	/* The plain PNG carries no seal: verify reads it as a scan. */
	r = check(plain_path, s.cert, &sealed);
	g_assert_false(sealed);

	/* cairo (libpng) reads the sealed file, pixels as drawn. */
	cairo_surface_t *back = cairo_image_surface_create_from_png(sealed_path);
	g_assert_cmpint(cairo_surface_status(back), ==, CAIRO_STATUS_SUCCESS);
	g_assert_cmpint(cairo_image_surface_get_width(back), ==, 240);
	for (int y = 0; y < 160; y++)
		g_assert_cmpmem(cairo_image_surface_get_data(back) +
		                    y * cairo_image_surface_get_stride(back), 240 * 4,
		                cairo_image_surface_get_data(pg) + y * cairo_image_surface_get_stride(pg),
		                240 * 4);
	cairo_surface_destroy(back);

	g_free(a);
	g_free(b);
	g_free(sealed_path);
	g_free(plain_path);
	g_free(tok);
	g_free(dir);
	cairo_surface_destroy(pg);
	tu_seal_free(&s);
}

static void test_tampering(void)
{
	seal s = tu_seal_new("pngsig-b", EVP_EC_gen("P-256"));
	seal other = tu_seal_new("pngsig-c", EVP_EC_gen("P-256"));
	char *dir = tu_scratch("pngsig-t");
	cairo_surface_t *pg = page();
	char *tok = token(&s);
	cp_png_seal sl;
	cp_pngsig_init(&sl, s.signer, tok);
	char *path = write_png(dir, "good.png", pg, &sl);
	gchar *orig;
	gsize n;
	g_assert_true(g_file_get_contents(path, &orig, &n, NULL));
	const guchar *u = (const guchar *)orig;
	size_t idat = find_chunk(u, n, "IDAT"), sg = find_chunk(u, n, "cpSG");
	char *bad = g_build_filename(dir, "bad.png", NULL);
	guchar *c = g_memdup2(orig, n);
	bool sealed;
	cp_verify_result r;

	/* a byte of the image data */
	c[idat + 8 + 20] ^= 0x01;
	put(bad, c, n);
	r = check(bad, s.cert, &sealed);
	g_assert_true(sealed);
	g_assert_cmpint(r.status, ==, CP_VERIFY_CHANGED);
	g_assert_cmpint(r.image_status, ==, CP_VERIFY_CHANGED);
	g_assert_cmpint(r.token_status, ==, CP_VERIFY_VALID); /* reported apart */
	g_assert_nonnull(strstr(r.reason, "changed after it was issued"));
	g_assert_cmpstr(r.name, ==, "陈志强");
	cp_verify_result_clear(&r);
	memcpy(c, orig, n);

	/* bytes after IEND */
	GByteArray *g = g_byte_array_new();
	g_byte_array_append(g, u, (guint)n);
	g_byte_array_append(g, (const guint8 *)"extra", 5);
	put(bad, g->data, g->len);
	g_byte_array_free(g, TRUE);
	r = check(bad, s.cert, &sealed);
	g_assert_cmpint(r.status, ==, CP_VERIFY_CHANGED);
	g_assert_nonnull(strstr(r.reason, "after the image's signature"));
	cp_verify_result_clear(&r);

	/* the signature's last byte, the CRC made right again */
	size_t len = chunk_len(u, sg) - 12;
	c[sg + 8 + len - 1] ^= 0x40;
	uLong crc = crc32(crc32(0, c + sg + 4, 4), c + sg + 8, (uInt)len);
	for (int i = 0; i < 4; i++)
		c[sg + 8 + len + i] = (guchar)(crc >> (24 - 8 * i));
	put(bad, c, n);
	r = check(bad, s.cert, &sealed);
	g_assert_cmpint(r.status, ==, CP_VERIFY_TAMPERED);
	g_assert_nonnull(strstr(r.reason, "signature chunk was altered"));
	cp_verify_result_clear(&r);
	memcpy(c, orig, n);

	/* the chunk's CRC */
	c[sg + 8 + len] ^= 0xff;
	put(bad, c, n);
	r = check(bad, s.cert, &sealed);
	g_assert_cmpint(r.status, ==, CP_VERIFY_TAMPERED);
	g_assert_nonnull(strstr(r.reason, "damaged"));
	cp_verify_result_clear(&r);
	memcpy(c, orig, n);

	/* every truncation once the chunk's header is there: never valid */
	for (size_t cut = sg + 8; cut < n; cut++) {
		put(bad, c, cut);
		r = check(bad, s.cert, &sealed);
		g_assert_true(sealed);
		g_assert_cmpint(r.status, !=, CP_VERIFY_VALID);
		cp_verify_result_clear(&r);
	}

	/* the chunk removed: an unsealed PNG */
	g = g_byte_array_new();
	g_byte_array_append(g, u, (guint)sg);
	g_byte_array_append(g, u + sg + chunk_len(u, sg), 12);
	put(bad, g->data, g->len);
	g_byte_array_free(g, TRUE);
	r = check(bad, s.cert, &sealed);
	g_assert_false(sealed);

	/* another key trusted */
	r = check(path, other.cert, &sealed);
	g_assert_cmpint(r.status, ==, CP_VERIFY_UNTRUSTED);
	g_assert_cmpint(r.image_status, ==, CP_VERIFY_UNTRUSTED);
	g_assert_nonnull(strstr(r.image_reason, "unknown key"));
	cp_verify_result_clear(&r);

	/* not a PNG */
	put(bad, "GIF89a....", 10);
	STACK_OF(X509) *sk = sk_X509_new_null();
	cp_error *err = NULL;
	g_assert_false(cp_pngsig_verify(bad, sk, &r, &sealed, &err));
	tu_assert_error(&err, CP_E_PARSE, "not a PNG");
	sk_X509_free(sk);

	g_free(c);
	g_free(orig);
	g_free(bad);
	g_free(path);
	g_free(tok);
	g_free(dir);
	cairo_surface_destroy(pg);
	tu_seal_free(&s);
	tu_seal_free(&other);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/pngsig/round-trip", test_round_trip);
	g_test_add_func("/pngsig/tampering", test_tampering);
	return g_test_run();
}
