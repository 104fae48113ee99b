/* SPDX-License-Identifier: MIT */
/*
 * The electronic seal as a digital signature: PAdES baseline B-B (ETSI EN
 * 319 142-1) on a certpress PDF, appended as the file's last incremental
 * update, and its verification.
 *
 * The update adds a signature field whose widget covers the seal's box on
 * the first page (clicking the seal opens the reader's signature panel),
 * the signature dictionary (/SubFilter /ETSI.CAdES.detached, the claimed
 * signing time in /M, the certificate's fields under /CP.Cert), and an
 * /AcroForm with /SigFlags 3 in the catalog. /Contents holds a detached CMS
 * SignedData (OpenSSL 3) over the /ByteRange: SHA-256, signing-certificate-
 * v2, no signing-time attribute (PAdES forbids it), the seal certificate and
 * its chain.
 *
 * Supported: PDFs with a classic cross-reference table (what Cairo writes and
 * src/output/pdfupdate.c appends), a page tree whose first leaf is the page
 * to sign, no /AcroForm yet. Anything else is refused with CP_E_PARSE.
 */
#ifndef CP_SIGN_H
#define CP_SIGN_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "certpress.h"
#include "trust/keys.h"

#define CP_SIGN_MAX_FILE (256u << 20) /* bytes of a PDF signed or verified */
#define CP_SIGN_MAX_CMS (64u << 10)   /* bytes of a /Contents value */

/* The seal image prepared for signature appearances: decoded once,
 * compressed once, shared read-only by every signing thread. */
typedef struct cp_sign_seal cp_sign_seal;
/* From the seal PNG of the profile (any PNG cp_image_load() reads). Free
 * with cp_sign_seal_free(). */
cp_sign_seal *cp_sign_seal_new(const char *png_path, cp_error **err);
void cp_sign_seal_free(cp_sign_seal *s);

typedef struct cp_sign_opts {
	/* The seal's box on the first page, millimetres from its top-left
	 * corner: the signature widget's rectangle. */
	double x_mm, y_mm, w_mm, h_mm;
	time_t when;               /* the claimed signing time, /M */
	/* The widget's appearance: the seal image fitted into the box (centred,
	 * aspect kept) and multiplied into the page like ink, as the layout
	 * draws it; the page content must then leave the seal out
	 * (cp_output_opts.seal_in_signature). NULL: an empty appearance. */
	const cp_sign_seal *seal;
	/* The certificate's fields, stored signed in the signature dictionary
	 * so that `certpress verify` can report them; any may be NULL. */
	const char *cert_no, *name, *id_masked, *occupation, *level;
} cp_sign_opts;

/* Signs the PDF open read-write on fd (a complete file; label names it in
 * messages) by appending the signature update. On failure the file is left
 * exactly as it was. */
bool cp_sign_pdf_fd(const cp_signer *s, int fd, const char *label, const cp_sign_opts *o,
                    cp_error **err);

typedef enum cp_verify_status {
	CP_VERIFY_VALID,      /* signature good, certificate trusted at /M */
	CP_VERIFY_UNSIGNED,   /* no signature */
	CP_VERIFY_TAMPERED,   /* digest mismatch, bad signature, bad byte range */
	CP_VERIFY_CHANGED,    /* valid, but bytes were appended after signing */
	CP_VERIFY_UNTRUSTED,  /* signature good; certificate not trusted, expired
	                         at /M, or not valid for signing */
} cp_verify_status;

typedef struct cp_verify_result {
	cp_verify_status status;
	char *reason;       /* translated; why it is not valid, or NULL */
	char *signer;       /* the signer certificate's subject, or NULL */
	char *issuer;
	char *fingerprint;  /* SHA-256 of the signer certificate, hex */
	char *signed_at;    /* /M as YYYY-MM-DD HH:MM:SS UTC, or NULL */
	char *subfilter;
	int64_t signed_bytes, file_bytes;
	/* /CP.Cert: what was signed about the certificate; NULL when absent. */
	char *cert_no, *name, *id_masked, *occupation, *level;
	/* A signed QR token (trust/qrtoken.h) also signs these; NULL otherwise. */
	char *job_type, *issue_date, *organization;
	char *query_url;    /* the QR's query address, or NULL */
	/* A signed PNG (trust/pngsig.h): its image signature and its QR token,
	 * each checked; status and reason above are then the worse of the two. */
	bool image_sealed;
	cp_verify_status image_status, token_status;
	char *image_reason, *token_reason; /* NULL when valid */
	int page;           /* a PDF page checked by its QR code (1-based), else 0 */
} cp_verify_result;

/* Verifies the last signature of the PDF at path against the trust anchors
 * (every certificate in them is trusted; a self-signed seal certificate can
 * be its own anchor). Returns false only when the file cannot be read or is
 * not a PDF we understand (err set); otherwise fills *r (free its members
 * with cp_verify_result_clear()). */
bool cp_verify_pdf(const char *path, STACK_OF(X509) *anchors, cp_verify_result *r,
                   cp_error **err);
void cp_verify_result_clear(cp_verify_result *r);

#endif
