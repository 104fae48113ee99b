/* SPDX-License-Identifier: MIT */
/*
 * The signed QR codes of a PDF without a seal of its own: a scan saved as
 * PDF, or a printed batch (full mode). Each page is rasterised with
 * poppler-glib through Cairo at 200 dpi and its QR code read with libzbar
 * and verified as a scan (trust/qrtoken.h).
 */
#ifndef CP_TRUST_PDFSCAN_H
#define CP_TRUST_PDFSCAN_H

#include <glib.h>
#include <stdbool.h>

#include "certpress.h"
#include "trust/sign.h"

#define CP_PDFSCAN_DPI 200.0
#define CP_PDFSCAN_MAX_PAGES 1000   /* a longer PDF is refused */
#define CP_PDFSCAN_MAX_SIDE 5000    /* pixels; a larger page is rasterised coarser */

/* *results: a new array of cp_verify_result, one per page, .page set
 * (clear each, then g_array_free()). False with err when poppler cannot
 * read the PDF (CP_E_PARSE), it has no pages or more than
 * CP_PDFSCAN_MAX_PAGES (CP_E_PARSE), or memory runs out. */
bool cp_pdfscan_verify(const char *path, STACK_OF(X509) *anchors, GArray **results,
                       cp_error **err);

#endif
