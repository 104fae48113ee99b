/* SPDX-License-Identifier: MIT */
/*
 * The organization's seal key (第二十一条: the organization guards it): the
 * seal certificate with its chain and the private key named by the profile's
 * [signing] section, loaded with OpenSSL 3; a test seal certificate, a
 * certificate request for a real CA, and a printable summary of a
 * certificate. Key material is never put into a message: errors name the
 * file and what is wrong with it, never its content or a passphrase.
 */
#ifndef CP_KEYS_H
#define CP_KEYS_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <time.h>

#include "certpress.h"

#define CP_KEYS_MAX_FILE (1u << 20)   /* bytes of a certificate or key file */
#define CP_KEYS_MAX_CHAIN 10          /* certificates in the chain file */
#define CP_KEYS_MAX_PASSPHRASE 1024   /* bytes */

typedef struct cp_signer cp_signer;

/* Loads the certificate file (PEM: the seal certificate first, then its
 * chain) and the private key (PEM, or PKCS#12 by its content). The key file
 * must not be readable by group or others. An encrypted key takes its
 * passphrase from pass_file (first line) or, when pass_file is NULL, from
 * the controlling terminal (echo off); without a terminal it is an error
 * saying where to put the passphrase. The key must match the certificate.
 * Free with cp_signer_free(). Safe to use from several threads at once
 * (only read after loading). */
cp_signer *cp_signer_load(const char *cert_path, const char *key_path,
                          const char *pass_file, cp_error **err);
/* The same from a profile's [signing] section; CP_E_USAGE naming the
 * profile when it has none. */
cp_signer *cp_signer_from_profile(const cp_profile *p, cp_error **err);
void cp_signer_free(cp_signer *s);
/* Borrowed from s. */
X509 *cp_signer_cert(const cp_signer *s);
STACK_OF(X509) *cp_signer_chain(const cp_signer *s);
EVP_PKEY *cp_signer_key(const cp_signer *s);

/* Reads every certificate of a PEM file (at least one). Free with
 * sk_X509_pop_free(…, X509_free). */
STACK_OF(X509) *cp_keys_read_certs(const char *path, cp_error **err);
/* The certificates of the file the profile's [signing] section names (the
 * seal first, then its chain); a profile without [signing] is CP_E_USAGE
 * naming label (the profile's path). Free as cp_keys_read_certs(). */
STACK_OF(X509) *cp_keys_profile_certs(const cp_profile *p, const char *label, cp_error **err);

/* Makes a new P-256 key and a self-signed certificate for org (subject
 * CN "org (TEST SEAL — not for issuing)", O org), valid for days days from
 * now; writes the key (PKCS#8 PEM, mode 0600) and the certificate (PEM)
 * atomically. Refuses to replace an existing key file. */
bool cp_keys_new_test_seal(const char *org, int days, const char *key_path,
                           const char *cert_path, cp_error **err);
/* A PEM certificate request (PKCS#10) for subject CN = O = org, signed with
 * the signer's key; free with g_free(). */
char *cp_keys_csr(const cp_signer *s, const char *org, cp_error **err);
/* Subject, issuer, validity, SHA-256 fingerprint and key type of cert, one
 * "label: value" per line; free with g_free(). */
char *cp_keys_describe(X509 *cert);
/* A name as one line, in the certificate's order ("C=CN, O=…, CN=…");
 * g_free(). */
char *cp_keys_name(const X509_NAME *nm);
/* The subject as one line, as cp_keys_name(); g_free(). */
char *cp_keys_subject(X509 *cert);
/* Whether cert carries the test-seal marking of cp_keys_new_test_seal(). */
bool cp_keys_is_test_seal(X509 *cert);

#endif
