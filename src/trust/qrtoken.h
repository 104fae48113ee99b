/* SPDX-License-Identifier: MIT */
/*
 * The signed QR token (docs/verify.md, "The signed QR code"): a COSE_Sign1
 * (RFC 9052) over a CBOR map of the certificate's printed fields, signed
 * ES256 with the organization's seal key, carried URL-safe base64 (no
 * padding) in the fragment of the national query URL:
 *
 *     http://jndj.osta.org.cn/?zsbh=S0000440001232600001#cp1.0oRNogEmBEg…
 *
 * The query URL (everything before '#') is the COSE external_aad, so a
 * token moved to another certificate's QR does not verify. CBOR by libcbor
 * (Debian's libcbor-dev); ECDSA and SHA-256 by OpenSSL 3.
 */
#ifndef CP_QRTOKEN_H
#define CP_QRTOKEN_H

#include <cairo.h>
#include <stdbool.h>
#include <stddef.h>

#include "certpress.h"
#include "trust/keys.h"
#include "trust/sign.h"

#define CP_QRTOKEN_PREFIX "cp1."          /* after the '#' */
#define CP_QRTOKEN_MAX_CHARS 2048         /* of a token; longer is refused */
#define CP_QRTOKEN_KID_LEN 8

/* Payload map keys (small unsigned integers; docs/verify.md). */
enum {
	CP_QRT_CERT_NO = 1, CP_QRT_NAME, CP_QRT_ID_MASKED, CP_QRT_OCCUPATION,
	CP_QRT_JOB_TYPE, CP_QRT_LEVEL, CP_QRT_ISSUE_DATE, CP_QRT_ORGANIZATION,
	CP_QRT_NKEYS
};

/* The printed fields, indexed by the keys above (index 0 unused); NULL: left out. */
typedef struct cp_qrtoken_fields {
	const char *v[CP_QRT_NKEYS];
} cp_qrtoken_fields;

/* The fields of a checked record as printed (ID number masked, issue date
 * YYYY-MM-DD) and the profile's organization. Strings are newly allocated
 * into out (free each with g_free()). */
void cp_qrtoken_fields_of(const cp_profile *p, const cp_record *rec, char *out[CP_QRT_NKEYS]);

/* "#cp1.TOKEN" to append to url (the QR's query address, which the
 * signature covers). g_free(). Safe from several threads at once. */
char *cp_qrtoken_fragment(const cp_signer *s, const cp_qrtoken_fields *f, const char *url,
                          cp_error **err);

/* Verifies the text a QR code decoded to against the seal certificates in
 * anchors (the certificate whose kid the token names must be among them).
 * Always fills *r (status, reason, and the signed fields when the token
 * could be read); free its members with cp_verify_result_clear(). */
void cp_qrtoken_verify(const char *qr_text, size_t len, STACK_OF(X509) *anchors,
                       cp_verify_result *r);

/* Finds the QR code in a PNG or JPEG scan or photo (libzbar) and verifies
 * it as cp_qrtoken_verify(). Returns false with err when the file cannot be
 * read or decoded as an image (CP_E_IO / CP_E_PARSE); a picture without a
 * QR code is a result (CP_VERIFY_UNSIGNED). */
bool cp_qrtoken_verify_image(const char *path, STACK_OF(X509) *anchors, cp_verify_result *r,
                             cp_error **err);

/* The same for an image already drawn or loaded (RGB24 or ARGB32): its QR
 * code, read with libzbar. False only when it cannot be read at all (out of
 * memory, CP_E_NOMEM; libzbar cannot be opened, CP_E_IO). */
bool cp_qrtoken_verify_surface(cairo_surface_t *s, STACK_OF(X509) *anchors,
                               cp_verify_result *r, cp_error **err);

/* Whether the file starts like a PNG or JPEG. */
bool cp_qrtoken_is_image(const char *path);

/* ------------------------------------------------------------------------
 * The COSE_Sign1 ES256 pieces, shared with the signed PNG (trust/pngsig.h). */

/* kid: the first 8 bytes of SHA-256 over the certificate's DER. */
bool cp_qrtoken_kid(X509 *cert, unsigned char kid[CP_QRTOKEN_KID_LEN]);

/* A tagged COSE_Sign1 (d2 84 …) over payload with protected {1: -7, 4: kid}
 * and the given external_aad (text, as bytes). g_free(); NULL with err set. */
unsigned char *cp_qrtoken_cose_sign(const cp_signer *s, const unsigned char *payload,
                                    size_t npayload, const char *aad, size_t *len,
                                    cp_error **err);

/* A COSE_Sign1 read back: pointers into the decoded item (valid until
 * cp_qrtoken_cose_close()). */
typedef struct cp_qrtoken_cose {
	struct cbor_item_t *arr;
	const unsigned char *prot, *payload, *sig; /* sig: r ‖ s, 64 bytes */
	size_t nprot, npayload;
	unsigned char kid[CP_QRTOKEN_KID_LEN];
} cp_qrtoken_cose;

/* False when b is not exactly a tagged COSE_Sign1 with protected
 * {1: -7, 4: 8-byte kid} and a 64-byte signature (nothing left over). */
bool cp_qrtoken_cose_open(const unsigned char *b, size_t n, cp_qrtoken_cose *c);
void cp_qrtoken_cose_close(cp_qrtoken_cose *c);
/* The certificate of anchors whose kid c names, or NULL (borrowed). */
X509 *cp_qrtoken_cose_cert(const cp_qrtoken_cose *c, STACK_OF(X509) *anchors);
/* The ES256 signature over Sig_structure(protected, aad, payload). */
bool cp_qrtoken_cose_check(const cp_qrtoken_cose *c, X509 *cert, const char *aad);
/* "signed by an unknown key (kid …)…", translated; g_free(). */
char *cp_qrtoken_unknown_kid(const cp_qrtoken_cose *c);
/* Fills r's signer, issuer and fingerprint from cert. */
void cp_qrtoken_signer_info(X509 *cert, cp_verify_result *r);
/* libcbor's decoder over exactly one bounded item (definite lengths, ≤ 8
 * deep, each length within the bytes left); NULL otherwise. */
struct cbor_item_t *cp_qrtoken_cbor_load(const unsigned char *b, size_t n);

#endif
