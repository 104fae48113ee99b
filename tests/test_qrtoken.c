/* SPDX-License-Identifier: MIT */
/*
 * The signed QR token (src/trust/qrtoken.c): round trip, and each kind of
 * tampering refused with its own status and reason — a byte of a field
 * changed, another certificate's query address, another key, every
 * truncation; a key that is not P-256 cannot sign.
 */
#include "common/testseal.h"
#include "common/testutil.h"

#include <glib/gstdio.h>
#include <openssl/pem.h>
#include <string.h>

#include "trust/keys.h"
#include "trust/qrtoken.h"

#define URL1 "http://jndj.osta.org.cn/?zsbh=S000044000123263000001"
#define URL2 "http://jndj.osta.org.cn/?zsbh=S000044000123264000001"

typedef tu_seal seal;

static const cp_qrtoken_fields fields1 = {{NULL, "S000044000123263000001", "陈志强",
                                           "4401**********149X", "电工", "--", "三级/高级工",
                                           "2026-11-27", "广东省示例职业技能评价中心"}};
static const cp_qrtoken_fields fields2 = {{NULL, "S000044000123264000001", "李晓敏", NULL,
                                           "育婴员", "--", "四级/中级工", "2026-11-27",
                                           "广东省示例职业技能评价中心"}};

static char *qr_text(const seal *s, const cp_qrtoken_fields *f, const char *url)
{
	cp_error *err = NULL;
	char *frag = cp_qrtoken_fragment(s->signer, f, url, &err);
	tu_assert_no_error(err);
	g_assert_true(g_str_has_prefix(frag, "#cp1."));
	char *t = g_strconcat(url, frag, NULL);
	g_free(frag);
	return t;
}

static cp_verify_result check(const char *text, X509 *trusted)
{
	STACK_OF(X509) *a = sk_X509_new_null();
	if (trusted)
		sk_X509_push(a, trusted);
	cp_verify_result r;
	cp_qrtoken_verify(text, strlen(text), a, &r);
	sk_X509_free(a);
	return r;
}

/* The token's bytes, base64url-decoded by hand (GLib's standard base64). */
static guchar *token_bytes(const char *text, gsize *n)
{
	char *b = g_strdup(strstr(text, "#cp1.") + 5);
	for (char *c = b; *c; c++)
		*c = *c == '-' ? '+' : *c == '_' ? '/' : *c;
	GString *g = g_string_new(b);
	while (g->len % 4)
		g_string_append_c(g, '=');
	guchar *out = g_base64_decode(g->str, n);
	g_string_free(g, TRUE);
	g_free(b);
	return out;
}

static char *with_token(const char *url, const guchar *b, gsize n)
{
	char *e = g_base64_encode(b, n);
	for (char *c = e; *c; c++)
		*c = *c == '+' ? '-' : *c == '/' ? '_' : *c == '=' ? '\0' : *c;
	char *t = g_strconcat(url, "#cp1.", e, NULL);
	g_free(e);
	return t;
}

static void test_round_trip(void)
{
	seal s = tu_seal_new("qrt-seal", EVP_EC_gen("P-256"));
	char *t = qr_text(&s, &fields1, URL1);
	cp_verify_result r = check(t, s.cert);
	g_assert_cmpint(r.status, ==, CP_VERIFY_VALID);
	g_assert_null(r.reason);
	g_assert_cmpstr(r.cert_no, ==, fields1.v[CP_QRT_CERT_NO]);
	g_assert_cmpstr(r.name, ==, "陈志强");
	g_assert_cmpstr(r.id_masked, ==, "4401**********149X");
	g_assert_cmpstr(r.occupation, ==, "电工");
	g_assert_cmpstr(r.job_type, ==, "--");
	g_assert_cmpstr(r.level, ==, "三级/高级工");
	g_assert_cmpstr(r.issue_date, ==, "2026-11-27");
	g_assert_cmpstr(r.organization, ==, "广东省示例职业技能评价中心");
	g_assert_cmpstr(r.query_url, ==, URL1);
	/* ES256: 64-byte r‖s; the token is the size docs/verify.md shows. */
	gsize n;
	guchar *b = token_bytes(t, &n);
	g_assert_cmpuint(n, ==, 225);
	g_assert_cmpint(b[0], ==, 0xd2);
	g_assert_cmpint(memcmp(b + n - 66, "\x58\x40", 2), ==, 0);
	g_free(b);
	cp_verify_result_clear(&r);
	g_free(t);
	/* A left-out field stays left out. */
	t = qr_text(&s, &fields2, URL2);
	r = check(t, s.cert);
	g_assert_cmpint(r.status, ==, CP_VERIFY_VALID);
	g_assert_null(r.id_masked);
	cp_verify_result_clear(&r);
	g_free(t);
	tu_seal_free(&s);
}

static void test_tampering(void)
{
	seal s = tu_seal_new("qrt-seal2", EVP_EC_gen("P-256"));
	seal other = tu_seal_new("qrt-other", EVP_EC_gen("P-256"));
	char *t1 = qr_text(&s, &fields1, URL1), *t2 = qr_text(&s, &fields2, URL2);

	/* One character of the signed certificate number changed. */
	gsize n;
	guchar *b = token_bytes(t1, &n);
	guchar *p = memmem(b, n, "263000001", 9);
	g_assert_nonnull(p);
	p[8] = '2';
	char *t = with_token(URL1, b, n);
	cp_verify_result r = check(t, s.cert);
	g_assert_cmpint(r.status, ==, CP_VERIFY_TAMPERED);
	g_assert_nonnull(strstr(r.reason, "altered") ? r.reason : strstr(r.reason, "moved"));
	cp_verify_result_clear(&r);
	g_free(t);
	/* One byte of the name changed (陈 → 陉), in a fresh copy. */
	g_free(b);
	b = token_bytes(t1, &n);
	p = memmem(b, n, "陈", strlen("陈"));
	g_assert_nonnull(p);
	p[2] ^= 1;
	t = with_token(URL1, b, n);
	r = check(t, s.cert);
	g_assert_cmpint(r.status, ==, CP_VERIFY_TAMPERED);
	g_assert_nonnull(strstr(r.reason, "altered"));
	cp_verify_result_clear(&r);
	g_free(t);
	g_free(b);

	/* Holder 2's token under holder 1's address. */
	char *swapped = g_strconcat(URL1, strchr(t2, '#'), NULL);
	r = check(swapped, s.cert);
	g_assert_cmpint(r.status, ==, CP_VERIFY_TAMPERED);
	g_assert_nonnull(strstr(r.reason, "moved from another certificate"));
	cp_verify_result_clear(&r);
	g_free(swapped);

	/* Another key: unknown kid; and nobody trusted at all. */
	r = check(t1, other.cert);
	g_assert_cmpint(r.status, ==, CP_VERIFY_UNTRUSTED);
	g_assert_nonnull(strstr(r.reason, "unknown key"));
	cp_verify_result_clear(&r);
	r = check(t1, NULL);
	g_assert_cmpint(r.status, ==, CP_VERIFY_UNTRUSTED);
	cp_verify_result_clear(&r);

	/* Every truncation is refused, never valid. */
	size_t len = strlen(t1);
	for (size_t k = 0; k < len; k++) {
		char *cut = g_strndup(t1, k);
		r = check(cut, s.cert);
		if (r.status == CP_VERIFY_VALID)
			g_error("the first %zu characters verify", k);
		g_assert_nonnull(r.reason);
		cp_verify_result_clear(&r);
		g_free(cut);
	}
	/* No token at all. */
	r = check(URL1, s.cert);
	g_assert_cmpint(r.status, ==, CP_VERIFY_UNSIGNED);
	g_assert_nonnull(strstr(r.reason, "no signed token"));
	cp_verify_result_clear(&r);
	g_free(t1);
	g_free(t2);
	tu_seal_free(&s);
	tu_seal_free(&other);
}

static void test_rsa_key_refused(void)
{
	seal s = tu_seal_new("qrt-rsa", EVP_RSA_gen(2048));
	cp_error *err = NULL;
	char *frag = cp_qrtoken_fragment(s.signer, &fields1, URL1, &err);
	g_assert_null(frag);
	tu_assert_error(&err, CP_E_USAGE, "P-256");
	tu_seal_free(&s);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/qrtoken/round-trip", test_round_trip);
	g_test_add_func("/qrtoken/tampering", test_tampering);
	g_test_add_func("/qrtoken/rsa-key-refused", test_rsa_key_refused);
	return g_test_run();
}
