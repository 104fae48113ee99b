/* SPDX-License-Identifier: MIT */
/* The signing library (src/trust/): the claimed time against the seal
 * certificate's validity, RSA as well as P-256, a failed signing leaving the
 * file as it was, a key that is not the certificate's, and [signing] in the
 * profile. tests/cli/sign.sh checks the command with pdfsig and openssl. */
#include "common/testutil.h"

#include <fcntl.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "input/profile.h"
#include "output/pdf.h"
#include "trust/keys.h"
#include "trust/sign.h"

#define DAY (24 * 3600)

/* A self-signed seal certificate for key, valid [now+from, now+to]. */
static X509 *make_cert(EVP_PKEY *key, long from, long to)
{
	X509 *x = X509_new();
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_set_version(x, 2);
	X509_gmtime_adj(X509_getm_notBefore(x), from);
	X509_gmtime_adj(X509_getm_notAfter(x), to);
	X509_NAME *nm = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_UTF8, (const unsigned char *)"test seal",
	                           -1, -1, 0);
	X509_set_issuer_name(x, nm);
	X509_set_pubkey(x, key);
	g_assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	return x;
}

/* Writes key and cert as dir/seal.key (0600) and dir/seal.pem. */
static void write_files(const char *dir, EVP_PKEY *key, X509 *cert, char **kp, char **cp)
{
	*kp = g_build_filename(dir, "seal.key", NULL);
	*cp = g_build_filename(dir, "seal.pem", NULL);
	FILE *f = fopen(*kp, "w");
	g_assert_nonnull(f);
	g_assert_true(PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL));
	fclose(f);
	chmod(*kp, 0600);
	f = fopen(*cp, "w");
	g_assert_nonnull(f);
	g_assert_true(PEM_write_X509(f, cert));
	fclose(f);
}

/* The same, loaded as a signer. */
static cp_signer *write_signer(const char *dir, EVP_PKEY *key, X509 *cert)
{
	char *kp, *cp;
	write_files(dir, key, cert, &kp, &cp);
	cp_error *err = NULL;
	cp_signer *s = cp_signer_load(cp, kp, NULL, &err);
	g_assert_null(err);
	g_assert_nonnull(s);
	g_free(kp);
	g_free(cp);
	return s;
}

typedef struct job {
	const cp_signer *s;
	cp_sign_opts o;
} job;

static bool finish(void *ud, int fd, const char *label, cp_error **err)
{
	job *j = ud;
	return cp_sign_pdf_fd(j->s, fd, label, &j->o, err);
}

/* A one-page certpress PDF at dir/name, signed by s with claimed time when. */
static char *signed_pdf(const char *dir, const char *name, const cp_signer *s, time_t when)
{
	char *path = g_build_filename(dir, name, NULL);
	cp_error *err = NULL;
	cp_pdf_writer *w = cp_pdf_writer_new(path, 210, 297, NULL, &err);
	g_assert_nonnull(w);
	cairo_t *cr = cp_pdf_writer_begin_page(w, &err);
	cairo_rectangle(cr, 124, 190, 42, 42);
	cairo_set_source_rgb(cr, 0.8, 0, 0);
	cairo_fill(cr);
	g_assert_true(cp_pdf_writer_end_page(w, &err));
	job j = {.s = s, .o = {.x_mm = 124, .y_mm = 190, .w_mm = 42, .h_mm = 42, .when = when,
	                       .cert_no = "S000044000123263000001", .name = "陈志强"}};
	g_assert_true(cp_pdf_writer_commit_finish(w, finish, &j, &err));
	g_assert_null(err);
	return path;
}

static cp_verify_status verify(const char *path, X509 *anchor, char **reason)
{
	STACK_OF(X509) *a = sk_X509_new_null();
	X509_up_ref(anchor);
	sk_X509_push(a, anchor);
	cp_verify_result r;
	cp_error *err = NULL;
	g_assert_true(cp_verify_pdf(path, a, &r, &err));
	sk_X509_pop_free(a, X509_free);
	cp_verify_status st = r.status;
	if (reason)
		*reason = g_strdup(r.reason);
	if (st != CP_VERIFY_UNSIGNED && st != CP_VERIFY_TAMPERED) {
		g_assert_cmpstr(r.cert_no, ==, "S000044000123263000001");
		g_assert_cmpstr(r.name, ==, "陈志强");
	}
	cp_verify_result_clear(&r);
	return st;
}

/* The certificate is judged at the claimed signing time (/M): inside its
 * validity the file is valid, after its end it is refused as expired,
 * before its start as not yet valid. */
static void test_claimed_time(void)
{
	char *dir = tu_scratch("sign-time");
	EVP_PKEY *key = EVP_EC_gen("P-256");
	time_t now = time(NULL);
	X509 *cert = make_cert(key, -3 * DAY, -1 * DAY);
	cp_signer *s = write_signer(dir, key, cert);

	char *in = signed_pdf(dir, "in.pdf", s, now - 2 * DAY);
	g_assert_cmpint(verify(in, cert, NULL), ==, CP_VERIFY_VALID);

	char *why = NULL;
	char *late = signed_pdf(dir, "late.pdf", s, now);
	g_assert_cmpint(verify(late, cert, &why), ==, CP_VERIFY_UNTRUSTED);
	g_assert_nonnull(strstr(why, "expired"));
	g_free(why);

	char *early = signed_pdf(dir, "early.pdf", s, now - 5 * DAY);
	g_assert_cmpint(verify(early, cert, &why), ==, CP_VERIFY_UNTRUSTED);
	g_assert_nonnull(strstr(why, "not yet valid"));
	g_free(why);

	/* Another certificate as the only anchor: an unknown signer. */
	EVP_PKEY *k2 = EVP_EC_gen("P-256");
	X509 *other = make_cert(k2, -3 * DAY, DAY);
	g_assert_cmpint(verify(in, other, &why), ==, CP_VERIFY_UNTRUSTED);
	g_assert_nonnull(strstr(why, "unknown signer"));
	g_free(why);

	X509_free(other);
	EVP_PKEY_free(k2);
	g_free(in);
	g_free(late);
	g_free(early);
	cp_signer_free(s);
	X509_free(cert);
	EVP_PKEY_free(key);
	g_free(dir);
}

/* A certificate whose key usage excludes signing makes no valid seal. */
static void test_key_usage(void)
{
	char *dir = tu_scratch("sign-key-usage");
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *cert = X509_new();
	ASN1_INTEGER_set(X509_get_serialNumber(cert), 9);
	X509_set_version(cert, 2);
	X509_gmtime_adj(X509_getm_notBefore(cert), -DAY);
	X509_gmtime_adj(X509_getm_notAfter(cert), DAY);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN", MBSTRING_UTF8,
	                           (const unsigned char *)"not a seal", -1, -1, 0);
	X509_set_issuer_name(cert, X509_get_subject_name(cert));
	X509_set_pubkey(cert, key);
	X509V3_CTX ctx;
	X509V3_set_ctx(&ctx, cert, cert, NULL, NULL, 0);
	X509_EXTENSION *ex = X509V3_EXT_conf_nid(NULL, &ctx, NID_key_usage,
	                                         "critical,keyAgreement");
	g_assert_nonnull(ex);
	X509_add_ext(cert, ex, -1);
	X509_EXTENSION_free(ex);
	g_assert_true(X509_sign(cert, key, EVP_sha256()) > 0);
	cp_signer *s = write_signer(dir, key, cert);
	char *p = signed_pdf(dir, "ku.pdf", s, time(NULL));
	char *why = NULL;
	g_assert_cmpint(verify(p, cert, &why), ==, CP_VERIFY_UNTRUSTED);
	g_assert_nonnull(strstr(why, "not for signing"));
	g_free(why);
	g_free(p);
	cp_signer_free(s);
	X509_free(cert);
	EVP_PKEY_free(key);
	g_free(dir);
}

/* RSA-2048 certificates from a CA must work as well as P-256. */
static void test_rsa(void)
{
	char *dir = tu_scratch("sign-rsa");
	EVP_PKEY *key = EVP_RSA_gen(2048);
	X509 *cert = make_cert(key, -DAY, DAY);
	cp_signer *s = write_signer(dir, key, cert);
	char *p = signed_pdf(dir, "rsa.pdf", s, time(NULL));
	g_assert_cmpint(verify(p, cert, NULL), ==, CP_VERIFY_VALID);
	if (tu_have("qpdf"))
		tu_qpdf_check_ok(p);
	g_free(p);
	cp_signer_free(s);
	X509_free(cert);
	EVP_PKEY_free(key);
	g_free(dir);
}

static GBytes *slurp(const char *path)
{
	char *d;
	gsize n;
	g_assert_true(g_file_get_contents(path, &d, &n, NULL));
	return g_bytes_new_take(d, n);
}

/* A signed file cannot be signed a second time (it has a form now); the
 * refusal leaves every byte as it was. */
static void test_refusal_leaves_file(void)
{
	char *dir = tu_scratch("sign-twice");
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *cert = make_cert(key, -DAY, DAY);
	cp_signer *s = write_signer(dir, key, cert);
	char *p = signed_pdf(dir, "once.pdf", s, time(NULL));
	GBytes *before = slurp(p);
	int fd = open(p, O_RDWR);
	g_assert_cmpint(fd, >=, 0);
	cp_sign_opts o = {.w_mm = 10, .h_mm = 10, .when = time(NULL)};
	cp_error *err = NULL;
	g_assert_false(cp_sign_pdf_fd(s, fd, p, &o, &err));
	close(fd);
	tu_assert_error(&err, CP_E_PARSE, "already has a form");
	GBytes *after = slurp(p);
	g_assert_true(g_bytes_equal(before, after));
	g_assert_cmpint(verify(p, cert, NULL), ==, CP_VERIFY_VALID);
	g_bytes_unref(before);
	g_bytes_unref(after);
	g_free(p);
	cp_signer_free(s);
	X509_free(cert);
	EVP_PKEY_free(key);
	g_free(dir);
}

/* A key that is not the certificate's is refused when loading, naming the
 * files and nothing of the key. */
static void test_key_mismatch(void)
{
	char *dir = tu_scratch("sign-mismatch");
	EVP_PKEY *key = EVP_EC_gen("P-256"), *k2 = EVP_EC_gen("P-256");
	X509 *cert = make_cert(key, -DAY, DAY);
	char *kp, *cp;
	write_files(dir, k2, cert, &kp, &cp);
	cp_error *err = NULL;
	g_assert_null(cp_signer_load(cp, kp, NULL, &err));
	g_assert_nonnull(err);
	g_assert_null(strstr(err->message, "PRIVATE"));
	tu_assert_error(&err, CP_E_USAGE, "does not belong to the certificate");
	/* Readable by others: refused before anything is read. */
	chmod(kp, 0644);
	g_assert_null(cp_signer_load(cp, kp, NULL, &err));
	tu_assert_error(&err, CP_E_PARSE, "readable by others");
	g_free(kp);
	g_free(cp);
	X509_free(cert);
	EVP_PKEY_free(key);
	EVP_PKEY_free(k2);
	g_free(dir);
}

/* [signing] in the profile: paths relative to the profile, a key readable by
 * others refused with the line and the fix, a missing key named. */
static void test_profile_signing(void)
{
	char *dir = tu_scratch("sign-profile");
	char *base = tu_path("../templates/org.conf");
	char *org;
	g_assert_true(g_file_get_contents(base, &org, NULL, NULL));
	char *seal = tu_path("../templates/seal.png");
	char *orgtext = g_strdup_printf("%s\n", org);
	/* seal = seal.png is relative: point it at the shipped one. */
	char **parts = g_strsplit(orgtext, "seal.png", -1);
	char *fixed = g_strjoinv(seal, parts);
	g_strfreev(parts);
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *cert = make_cert(key, -DAY, DAY);
	cp_signer_free(write_signer(dir, key, cert));
	char *kp = g_build_filename(dir, "seal.key", NULL);

	char *t1 = g_strdup_printf("%s[signing]\ncertificate = seal.pem\nkey = seal.key\n", fixed);
	char *p1 = tu_write(dir, "ok.conf", t1);
	cp_error *err = NULL;
	cp_profile *p = cp_profile_load(p1, &err);
	g_assert_null(err);
	g_assert_true(g_str_has_suffix(cp_profile_signing_key(p), "/sign-profile/seal.key"));
	g_assert_null(cp_profile_signing_passphrase_file(p));
	cp_signer *s = cp_signer_from_profile(p, &err);
	g_assert_null(err);
	g_assert_nonnull(s);
	cp_signer_free(s);
	cp_profile_free(p);

	chmod(kp, 0640);
	p = cp_profile_load(p1, &err);
	g_assert_null(p);
	tu_assert_error(&err, CP_E_PARSE, "chmod 600");
	chmod(kp, 0600);

	char *t2 = g_strdup_printf("%s[signing]\ncertificate = seal.pem\n", fixed);
	char *p2 = tu_write(dir, "nokey.conf", t2);
	p = cp_profile_load(p2, &err);
	g_assert_null(p);
	tu_assert_error(&err, CP_E_PARSE, "key = FILE");

	g_free(t1);
	g_free(t2);
	g_free(p1);
	g_free(p2);
	g_free(kp);
	X509_free(cert);
	EVP_PKEY_free(key);
	g_free(fixed);
	g_free(orgtext);
	g_free(seal);
	g_free(org);
	g_free(base);
	g_free(dir);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/sign/claimed-time", test_claimed_time);
	g_test_add_func("/sign/rsa", test_rsa);
	g_test_add_func("/sign/key-usage", test_key_usage);
	g_test_add_func("/sign/refusal-leaves-file", test_refusal_leaves_file);
	g_test_add_func("/sign/key-mismatch", test_key_mismatch);
	g_test_add_func("/sign/profile", test_profile_signing);
	return g_test_run();
}
