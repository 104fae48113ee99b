/* SPDX-License-Identifier: MIT */
/* A self-signed seal for the trust tests: a certificate valid from a day
 * ago to a day ahead, written with its key (mode 0600) to a scratch folder
 * and loaded as the library's signer. */
#ifndef CP_TESTSEAL_H
#define CP_TESTSEAL_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "trust/keys.h"

typedef struct tu_seal {
	cp_signer *signer;
	X509 *cert;
} tu_seal;

/* The seal of key (taken: freed here), its subject CN = name, its files in
 * the scratch folder of that name. */
tu_seal tu_seal_new(const char *name, EVP_PKEY *key);
void tu_seal_free(tu_seal *s);

#endif
