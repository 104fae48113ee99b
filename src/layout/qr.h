/* SPDX-License-Identifier: MIT */
/*
 * QR codes for the national query service: libqrencode in byte mode, error
 * correction M or better, a quiet zone of at least 4 modules. On a PDF the
 * symbol is a 1-bit image mask (one pixel a module, nearest-neighbour scaled:
 * /ImageMask, /Interpolate false); on other vector targets one filled path;
 * on raster targets a path whose every module edge falls on a whole device
 * pixel so that scanners (and zbar) read the image as reliably as paper.
 */
#ifndef CP_QR_H
#define CP_QR_H

#include <cairo.h>
#include <stdbool.h>

#include "certpress.h"

#define CP_QR_MAX_BYTES 1024       /* content longer than this is refused */
#define CP_QR_MIN_QUIET 4          /* modules, ISO/IEC 18004 */
#define CP_QR_MIN_MODULE_MM 0.25   /* smaller modules do not print or scan */
/* A signed QR code is denser and read by phone cameras too. */
#define CP_QR_MIN_SIGNED_MODULE_MM 0.33

typedef struct cp_qr cp_qr;

/* Encodes text (UTF-8 bytes, byte mode). ec: 1 = M, 2 = Q, 3 = H (anything
 * lower is raised to M). Fails with CP_E_REFUSED when text is empty or too
 * long. Free with cp_qr_free(). */
cp_qr *cp_qr_encode(const char *text, int ec, cp_error **err);
void cp_qr_free(cp_qr *q);

/* Symbol width in modules, without the quiet zone. */
int cp_qr_width(const cp_qr *q);
int cp_qr_version(const cp_qr *q);
/* True when module (x, y) is dark; false outside the symbol. */
bool cp_qr_dark(const cp_qr *q, int x, int y);
/* The number of rectangles the drawing path holds (horizontal runs merged). */
int cp_qr_run_count(const cp_qr *q);

/* The module size, mm, when the symbol plus quiet zone is fitted into a
 * w × h box. */
double cp_qr_module_mm(const cp_qr *q, double w, double h, int quiet);

/* Draws the symbol, its quiet zone painted white, centred in the box
 * (x, y, w, h) of cr's user space, modules in colour rgba (may be NULL:
 * black). */
void cp_qr_draw(const cp_qr *q, cairo_t *cr, double x, double y, double w, double h,
                int quiet, const double *rgba);

#endif
