/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target "sign": the PAdES signer and verifier (src/trust/sign.c,
 * verify.c, pdfdoc.c) on arbitrary bytes.
 *
 * Checked beyond "no crash": verifying any file either fails with an error or
 * gives a result; signing either fails leaving the file exactly as it was, or
 * appends to it (the old bytes an unchanged prefix), and then the file must
 * verify as valid against the signing certificate: whatever we accept to
 * sign, we sign correctly. A P-256 key and a self-signed certificate are
 * made once per process.
 */
#include "fuzz.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/mman.h>

#include "fuzz_seal.h"
#include "trust/sign.h"

static cp_signer *signer;
static X509 *seal_cert;
static int sign_fd = -1;

static void sign_init(void)
{
	if (signer)
		return;
	signer = cp_fuzz_test_seal("seal", "fuzz seal", &seal_cert);
}

static cp_verify_status verify_path(const char *path, bool *ok)
{
	STACK_OF(X509) *a = sk_X509_new_null();
	X509_up_ref(seal_cert);
	sk_X509_push(a, seal_cert);
	cp_verify_result r;
	cp_error *err = NULL;
	*ok = cp_verify_pdf(path, a, &r, &err);
	sk_X509_pop_free(a, X509_free);
	cp_fuzz_check_result(*ok, err, "cp_verify_pdf");
	cp_verify_status st = *ok ? r.status : CP_VERIFY_TAMPERED;
	if (*ok) {
		if (st != CP_VERIFY_VALID && (!r.reason || !g_utf8_validate(r.reason, -1, NULL)))
			cp_fuzz_fail("a file that is not valid has no reason");
		cp_verify_result_clear(&r);
	}
	return st;
}

int cp_fuzz_sign(const uint8_t *data, size_t size)
{
	sign_init();
	char *path = cp_fuzz_write("in.pdf", data, size);
	bool ok;
	verify_path(path, &ok);

	if (sign_fd < 0) {
		sign_fd = memfd_create("fuzz-sign.pdf", MFD_CLOEXEC);
		if (sign_fd < 0)
			cp_fuzz_fail("memfd_create failed");
	}
	if (ftruncate(sign_fd, 0) != 0 ||
	    (size && pwrite(sign_fd, data, size, 0) != (ssize_t)size))
		cp_fuzz_fail("cannot fill the memfd");
	cp_sign_opts o = {.x_mm = 10, .y_mm = 10, .w_mm = 40, .h_mm = 40, .when = time(NULL),
	                  .cert_no = "S000044000123263000001", .name = "陈志强"};
	cp_error *err = NULL;
	bool signed_ok = cp_sign_pdf_fd(signer, sign_fd, "fuzz.pdf", &o, &err);
	cp_fuzz_check_result(signed_ok, err, "cp_sign_pdf_fd");
	off_t end = lseek(sign_fd, 0, SEEK_END);
	uint8_t *now = g_malloc((size_t)end + 1);
	if (end && pread(sign_fd, now, (size_t)end, 0) != (ssize_t)end)
		cp_fuzz_fail("pread failed");
	if (!signed_ok && ((size_t)end != size || memcmp(now, data, size) != 0))
		cp_fuzz_fail("a refused signing changed the file");
	if (signed_ok) {
		if ((size_t)end <= size || memcmp(now, data, size) != 0)
			cp_fuzz_fail("signing did not keep the old bytes as a prefix");
		char *sp = cp_fuzz_write("signed.pdf", now, (size_t)end);
		cp_verify_status st = verify_path(sp, &ok);
		if (!ok || st != CP_VERIFY_VALID)
			cp_fuzz_fail("our own signature does not verify (status %d)", (int)st);
		g_free(sp);
	}
	g_free(now);
	g_free(path);
	return 0;
}

CP_FUZZ_ENTRY(sign)
