/* SPDX-License-Identifier: MIT */
#include "trust/pdfscan.h"

#include <math.h>
#include <poppler.h>
#include <string.h>

#include "error.h"
#include "i18n.h"
#include "trust/qrtoken.h"
#include "lazylib.h"

#define POPPLER_FUNCTIONS(X) X(poppler_document_get_n_pages) \
	X(poppler_document_get_page) X(poppler_document_new_from_file) \
	X(poppler_page_get_size) X(poppler_page_render_for_printing)
CP_LAZY_LIBRARY(poppler, CP_SONAME_POPPLER, N_("reading the QR codes of a PDF"),
                POPPLER_FUNCTIONS);

/* One page drawn white-backed at dpi (lower when the page would exceed
 * CP_PDFSCAN_MAX_SIDE pixels a side), or NULL when it has no usable size. */
static cairo_surface_t *raster(PopplerPage *page)
{
	double wpt = 0, hpt = 0;
	poppler.poppler_page_get_size(page, &wpt, &hpt);
	if (!(wpt > 0 && hpt > 0 && isfinite(wpt) && isfinite(hpt)))
		return NULL;
	double dpi = CP_PDFSCAN_DPI;
	double side = fmax(wpt, hpt) / 72.0 * dpi;
	if (side > CP_PDFSCAN_MAX_SIDE)
		dpi *= CP_PDFSCAN_MAX_SIDE / side;
	int w = (int)ceil(wpt / 72.0 * dpi), h = (int)ceil(hpt / 72.0 * dpi);
	if (w < 1 || h < 1)
		return NULL;
	cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
	cairo_t *cr = cairo_create(s);
	if (cairo_status(cr) != CAIRO_STATUS_SUCCESS) {
		cairo_destroy(cr);
		cairo_surface_destroy(s);
		return NULL;
	}
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_paint(cr);
	cairo_scale(cr, dpi / 72.0, dpi / 72.0);
	poppler.poppler_page_render_for_printing(page, cr);
	cairo_destroy(cr);
	cairo_surface_flush(s);
	return s;
}

bool cp_pdfscan_verify(const char *path, STACK_OF(X509) *anchors, GArray **results,
                       cp_error **err)
{
	*results = NULL;
	if (!cp_lazy_open(&poppler_lib, err))
		return false;
	GError *ge = NULL;
	char *abs = g_canonicalize_filename(path, NULL);
	char *uri = g_filename_to_uri(abs, NULL, &ge);
	g_free(abs);
	PopplerDocument *doc = uri ? poppler.poppler_document_new_from_file(uri, NULL, &ge) : NULL;
	g_free(uri);
	if (!doc) {
		cp_set_error(err, CP_E_PARSE, path, 0, 0, NULL, _("cannot read the PDF: %s"),
		             ge ? ge->message : "?");
		g_clear_error(&ge);
		return false;
	}
	int n = poppler.poppler_document_get_n_pages(doc);
	if (n < 1 || n > CP_PDFSCAN_MAX_PAGES) {
		cp_set_error(err, CP_E_PARSE, path, 0, 0, NULL,
		             _("the PDF has %d pages; its QR codes are read from 1 to %d pages"), n,
		             CP_PDFSCAN_MAX_PAGES);
		g_object_unref(doc);
		return false;
	}
	GArray *a = g_array_sized_new(FALSE, TRUE, sizeof(cp_verify_result), (guint)n);
	for (int i = 0; i < n; i++) {
		cp_verify_result r = {0};
		PopplerPage *page = poppler.poppler_document_get_page(doc, i);
		cairo_surface_t *s = page ? raster(page) : NULL;
		if (page)
			g_object_unref(page);
		if (!s) {
			r.status = CP_VERIFY_UNSIGNED;
			r.reason = g_strdup(_("the page cannot be rasterised"));
		} else {
			bool ok = cp_qrtoken_verify_surface(s, anchors, &r, err);
			cairo_surface_destroy(s);
			if (!ok) {
				for (guint k = 0; k < a->len; k++)
					cp_verify_result_clear(&g_array_index(a, cp_verify_result, k));
				g_array_free(a, TRUE);
				g_object_unref(doc);
				return false;
			}
		}
		r.page = i + 1;
		g_array_append_val(a, r);
	}
	g_object_unref(doc);
	*results = a;
	return true;
}
