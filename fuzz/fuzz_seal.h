/* SPDX-License-Identifier: MIT */
/*
 * A throwaway P-256 seal for the trust fuzz targets (sign, qrtoken): a
 * self-signed certificate valid a day either side of now, its key written
 * mode 0600 into cp_fuzz_dir() as STEM.key beside STEM.pem, loaded the way
 * the profile's [signing] section is. Included after fuzz.h.
 */
#ifndef CP_FUZZ_SEAL_H
#define CP_FUZZ_SEAL_H

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "trust/keys.h"

/* The signer; *cert (owned by the caller) is the seal's certificate. Any
 * failure ends the fuzzer: nothing can be checked without a seal. */
static inline cp_signer *cp_fuzz_test_seal(const char *stem, const char *cn, X509 **cert)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_set_version(x, 2);
	X509_gmtime_adj(X509_getm_notBefore(x), -86400);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_UTF8,
	                           (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_set_pubkey(x, key);
	if (!key || X509_sign(x, key, EVP_sha256()) <= 0)
		cp_fuzz_fail("cannot make the fuzz seal");
	char *name = g_strconcat(stem, ".key", NULL);
	char *kp = g_build_filename(cp_fuzz_dir(), name, NULL);
	g_free(name);
	name = g_strconcat(stem, ".pem", NULL);
	char *cp = g_build_filename(cp_fuzz_dir(), name, NULL);
	g_free(name);
	FILE *f = fopen(kp, "w");
	if (!f || !PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL))
		cp_fuzz_fail("cannot write the fuzz key");
	fclose(f);
	g_chmod(kp, 0600);
	f = fopen(cp, "w");
	if (!f || !PEM_write_X509(f, x))
		cp_fuzz_fail("cannot write the fuzz certificate");
	fclose(f);
	cp_error *err = NULL;
	cp_signer *s = cp_signer_load(cp, kp, NULL, &err);
	if (!s)
		cp_fuzz_fail("cannot load the fuzz seal: %s", err->message);
	EVP_PKEY_free(key);
	g_free(kp);
	g_free(cp);
	*cert = x;
	return s;
}

#endif
