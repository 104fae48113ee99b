/* SPDX-License-Identifier: MIT */
/*
 * Signed electronic PNGs (docs/verify.md, "Signed PNG images"). When the
 * profile signs its QR codes ([signing] qr_signed = yes), every PNG of an
 * electronic folder carries
 *
 *   - an iTXt chunk, keyword "certpress-token", holding the QR code's text
 *     (the query address and "#cp1.TOKEN", trust/qrtoken.h), before IDAT;
 *   - a "cpSG" chunk, the last before IEND: a COSE_Sign1 ES256 with the seal
 *     key (the token's kid) whose payload binds the SHA-256 of every byte of
 *     the file before the chunk, so the file verifies as exactly the one
 *     issued (the PNG analogue of a PDF's ByteRange).
 */
#ifndef CP_TRUST_PNGSIG_H
#define CP_TRUST_PNGSIG_H

#include <stdbool.h>

#include "certpress.h"
#include "output/png.h"
#include "trust/sign.h"

#define CP_PNGSIG_TYPE "cpSG"             /* ancillary, private, unsafe to copy */
#define CP_PNGSIG_KEYWORD "certpress-token"
#define CP_PNGSIG_AAD "certpress PNG 1"   /* the COSE external_aad */
#define CP_PNGSIG_MAX_CHUNK 4096          /* a longer cpSG chunk is refused */

/* Fills seal to sign a PNG with s (a P-256 key) and carry qr_text (may be
 * NULL: no iTXt chunk). Both borrowed while the PNG is written; the
 * signature is made in the writing thread. */
void cp_pngsig_init(cp_png_seal *seal, const cp_signer *s, const char *qr_text);

/* Checks a PNG's cpSG chunk and its certpress-token against anchors. No
 * cpSG chunk: *sealed false and r untouched (check its QR code as a scan).
 * Otherwise fills *r: image_status / image_reason (the bytes are the ones
 * signed), token_status / token_reason (the iTXt token, as
 * cp_qrtoken_verify()), the token's fields, and status / reason, the first
 * of the two that is not valid. False with err when the file cannot be
 * read (CP_E_IO) or is not a PNG (CP_E_PARSE). */
bool cp_pngsig_verify(const char *path, STACK_OF(X509) *anchors, cp_verify_result *r,
                      bool *sealed, cp_error **err);

#endif
