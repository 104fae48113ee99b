/* SPDX-License-Identifier: MIT */
/* PNG output into an atomic file (see cp_png_write() in certpress.h). */
#ifndef CP_OUTPUT_PNG_H
#define CP_OUTPUT_PNG_H

#include <cairo.h>
#include <stdbool.h>

#include "atomic.h"
#include "certpress.h"

/* Writes surface as a PNG into out (from cp_atomic_open() or
 * cp_atomic_dir_file()) and commits it; out is consumed either way. */
bool cp_png_write_atomic(cairo_surface_t *surface, cp_atomic *out, double dpi, cp_error **err);
/* The same with a worker's cache of compressed row stretches (may be NULL;
 * see cp_png_write_cached() in certpress.h). */
bool cp_png_write_atomic_cached(cairo_surface_t *surface, cp_atomic *out, double dpi,
                                cp_png_cache *cache, cp_error **err);

#endif
