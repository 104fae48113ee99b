/* SPDX-License-Identifier: MIT */
#include "common/testseal.h"

#include <glib/gstdio.h>
#include <openssl/pem.h>

#include "common/testutil.h"

tu_seal tu_seal_new(const char *name, EVP_PKEY *key)
{
	X509 *x = X509_new();
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -86400);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_UTF8,
	                           (const unsigned char *)name, -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_set_pubkey(x, key);
	g_assert_cmpint(X509_sign(x, key, EVP_sha256()), >, 0);
	char *dir = tu_scratch(name);
	char *kp = g_build_filename(dir, "k.pem", NULL), *cp = g_build_filename(dir, "c.pem", NULL);
	FILE *f = fopen(kp, "w");
	g_assert_true(f && PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL));
	fclose(f);
	g_assert_cmpint(g_chmod(kp, 0600), ==, 0);
	f = fopen(cp, "w");
	g_assert_true(f && PEM_write_X509(f, x));
	fclose(f);
	cp_error *err = NULL;
	tu_seal s = {cp_signer_load(cp, kp, NULL, &err), x};
	tu_assert_no_error(err);
	EVP_PKEY_free(key);
	g_free(kp);
	g_free(cp);
	g_free(dir);
	return s;
}

void tu_seal_free(tu_seal *s)
{
	cp_signer_free(s->signer);
	X509_free(s->cert);
}
