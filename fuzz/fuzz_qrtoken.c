/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target "qrtoken": the signed QR token (src/trust/qrtoken.c) — its
 * base64url, CBOR (libcbor) and COSE_Sign1 decoding on arbitrary text, and
 * its signing on arbitrary fields.
 *
 * Checked beyond "no crash": verifying any text gives a status and, unless
 * valid, a UTF-8 reason; a valid result has the certificate number and name.
 * The input is also split at newlines into the query address and the eight
 * payload fields (made valid UTF-8, '#' removed from the address): signing
 * them must give "#cp1.TOKEN" that verifies as valid with exactly those
 * fields, and fails against an empty trust list. A P-256 key and a
 * self-signed certificate are made once per process.
 */
#include "fuzz.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "fuzz_seal.h"
#include "trust/qrtoken.h"

static cp_signer *qrt_signer;
static STACK_OF(X509) *qrt_anchors;

static void qrt_init(void)
{
	if (qrt_signer)
		return;
	X509 *x;
	qrt_signer = cp_fuzz_test_seal("qrseal", "fuzz qr seal", &x);
	qrt_anchors = sk_X509_new_null();
	sk_X509_push(qrt_anchors, x);
}

static void qrt_check(const cp_verify_result *r, const char *what)
{
	if (r->status == CP_VERIFY_VALID) {
		if (r->reason || !r->cert_no || !r->name || !r->signer)
			cp_fuzz_fail("%s: valid without its fields, or with a reason", what);
	} else if (!r->reason || !g_utf8_validate(r->reason, -1, NULL)) {
		cp_fuzz_fail("%s: refused without a UTF-8 reason", what);
	}
	const char *const s[] = {r->cert_no, r->name, r->id_masked, r->occupation, r->job_type,
	                         r->level, r->issue_date, r->organization, r->query_url};
	for (size_t i = 0; i < G_N_ELEMENTS(s); i++)
		if (s[i] && !g_utf8_validate(s[i], -1, NULL))
			cp_fuzz_fail("%s: a field is not UTF-8", what);
}

static int cp_fuzz_qrtoken(const uint8_t *data, size_t size)
{
	qrt_init();
	cp_verify_result r;
	cp_qrtoken_verify((const char *)data, size, qrt_anchors, &r);
	qrt_check(&r, "cp_qrtoken_verify");
	cp_verify_result_clear(&r);

	/* Round trip: address and fields from the input's lines. */
	char *text = g_strndup((const char *)data, size); /* stops at a NUL */
	char **lines = g_strsplit(text, "\n", CP_QRT_NKEYS + 1);
	g_free(text);
	guint n = g_strv_length(lines);
	if (n < 3) {
		g_strfreev(lines);
		return 0;
	}
	char *url = g_utf8_make_valid(lines[0], -1);
	g_strdelimit(url, "#", '_');
	char *v[CP_QRT_NKEYS] = {0};
	cp_qrtoken_fields f = {0};
	size_t total = 0;
	for (guint k = 1; k < CP_QRT_NKEYS && k < n; k++) {
		v[k] = g_utf8_make_valid(lines[k], -1);
		total += strlen(v[k]);
		/* An empty optional field is left out, as a record's blank one. */
		f.v[k] = *v[k] || k <= CP_QRT_NAME ? v[k] : NULL;
	}
	g_strfreev(lines);
	/* Within what a token may carry (CP_QRTOKEN_MAX_CHARS of base64url). */
	if (total < 900) {
		cp_error *err = NULL;
		char *frag = cp_qrtoken_fragment(qrt_signer, &f, url, &err);
		if (!frag)
			cp_fuzz_fail("signing failed: %s", err->message);
		char *qr = g_strconcat(url, frag, NULL);
		cp_qrtoken_verify(qr, strlen(qr), qrt_anchors, &r);
		qrt_check(&r, "round trip");
		if (r.status != CP_VERIFY_VALID)
			cp_fuzz_fail("our own token does not verify: %s", r.reason);
		const char *got[CP_QRT_NKEYS] = {NULL, r.cert_no, r.name, r.id_masked, r.occupation,
		                                 r.job_type, r.level, r.issue_date, r.organization};
		for (int k = 1; k < CP_QRT_NKEYS; k++)
			if (g_strcmp0(got[k], f.v[k]) != 0)
				cp_fuzz_fail("field %d did not come back unchanged", k);
		if (strcmp(r.query_url, url) != 0)
			cp_fuzz_fail("the query address did not come back unchanged");
		cp_verify_result_clear(&r);
		cp_qrtoken_verify(qr, strlen(qr), NULL, &r);
		if (r.status == CP_VERIFY_VALID)
			cp_fuzz_fail("a token verified with nobody trusted");
		cp_verify_result_clear(&r);
		g_free(qr);
		g_free(frag);
	}
	for (int k = 0; k < CP_QRT_NKEYS; k++)
		g_free(v[k]);
	g_free(url);
	return 0;
}

CP_FUZZ_ENTRY(qrtoken)
