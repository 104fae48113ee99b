/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target "pngsig": the signed PNG's chunk walk, cpSG decoding and hash
 * (src/trust/pngsig.c) on arbitrary bytes written to <scratch>/fuzz.png, and
 * the writer's seal (src/output/png.c) on a small page made of the input.
 *
 * Checked beyond "no crash": a checked file has an image status and a token
 * status, a reason for each that is not valid, and is valid only when both
 * are; a PNG signed here from the input's pixels and iTXt text verifies
 * (image signature valid), and with any one byte before its cpSG chunk
 * changed (the position and the new value from the input) it never does.
 * A P-256 key and a self-signed certificate are made once per process.
 */
#include "fuzz.h"

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "atomic.h"
#include "fuzz_seal.h"
#include "output/png.h"
#include "trust/pngsig.h"

static cp_signer *pngs_signer;
static STACK_OF(X509) *pngs_anchors;

static void pngs_init(void)
{
	if (pngs_signer)
		return;
	X509 *x;
	pngs_signer = cp_fuzz_test_seal("pngseal", "fuzz png seal", &x);
	pngs_anchors = sk_X509_new_null();
	sk_X509_push(pngs_anchors, x);
}

/* Verifies path; *image: its image status when sealed, else -1. */
static void pngs_check(const char *path, int *image, const char *what)
{
	cp_verify_result r;
	memset(&r, 0, sizeof r);
	bool sealed = false;
	cp_error *err = NULL;
	bool ok = cp_pngsig_verify(path, pngs_anchors, &r, &sealed, &err);
	cp_fuzz_check_result(ok, err, what);
	*image = -1;
	if (!ok || !sealed)
		return;
	*image = (int)r.image_status;
	if (!r.image_sealed)
		cp_fuzz_fail("%s: sealed but image_sealed unset", what);
	if ((r.image_status == CP_VERIFY_VALID) != (r.image_reason == NULL) ||
	    (r.token_status == CP_VERIFY_VALID) != (r.token_reason == NULL))
		cp_fuzz_fail("%s: a status and its reason disagree", what);
	bool both = r.image_status == CP_VERIFY_VALID && r.token_status == CP_VERIFY_VALID;
	if ((r.status == CP_VERIFY_VALID) != both)
		cp_fuzz_fail("%s: valid %d, image %d, token %d", what, r.status, r.image_status,
		             r.token_status);
	if (r.status != CP_VERIFY_VALID && (!r.reason || !g_utf8_validate(r.reason, -1, NULL)))
		cp_fuzz_fail("%s: refused without a UTF-8 reason", what);
	cp_verify_result_clear(&r);
}

static int cp_fuzz_pngsig(const uint8_t *data, size_t size)
{
	pngs_init();
	int image;
	char *path = cp_fuzz_write("fuzz.png", data, size);
	pngs_check(path, &image, "cp_pngsig_verify");
	g_free(path);

	/* Round trip: an 8 x 8 page of the input's bytes, its text the rest. */
	if (size < 4)
		return 0;
	cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 8, 8);
	unsigned char *px = cairo_image_surface_get_data(s);
	for (int i = 0; i < 8 * 8 * 4; i++)
		px[i] = data[(size_t)i % size];
	cairo_surface_mark_dirty(s);
	size_t nt = size > 256 ? size - 256 : 0;
	char *text = g_utf8_make_valid(nt ? (const char *)data + 256 : "", (gssize)nt);
	cp_png_seal seal;
	cp_pngsig_init(&seal, pngs_signer, text);
	path = g_build_filename(cp_fuzz_dir(), "sealed.png", NULL);
	cp_error *err = NULL;
	cp_atomic *a = cp_atomic_open(path, 0, &err);
	if (!a || !cp_png_write_atomic_sealed(s, a, 300, NULL, &seal, &err))
		cp_fuzz_fail("cannot write a sealed PNG: %s", err ? err->message : "?");
	cairo_surface_destroy(s);
	g_free(text);
	pngs_check(path, &image, "round trip");
	if (image != CP_VERIFY_VALID)
		cp_fuzz_fail("our own sealed PNG does not verify (%d)", image);

	gchar *b = NULL;
	gsize n = 0;
	if (!g_file_get_contents(path, &b, &n, NULL))
		cp_fuzz_fail("cannot read back %s", path);
	/* the cpSG chunk is the last before the 12 bytes of IEND */
	size_t seal_off = n - 12 - 12 - 131;
	size_t at = ((size_t)data[0] << 16 | (size_t)data[1] << 8 | data[2]) % seal_off;
	unsigned char to = data[3] == (unsigned char)b[at] ? (unsigned char)~data[3] : data[3];
	b[at] = (gchar)to;
	g_free(cp_fuzz_write("changed.png", (const uint8_t *)b, n));
	g_free(b);
	g_free(path);
	path = g_build_filename(cp_fuzz_dir(), "changed.png", NULL);
	pngs_check(path, &image, "one byte changed");
	if (image == CP_VERIFY_VALID)
		cp_fuzz_fail("a byte changed at %zu and the image still verifies", at);
	g_free(path);
	return 0;
}

CP_FUZZ_ENTRY(pngsig)
