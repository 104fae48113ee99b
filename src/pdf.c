/* SPDX-License-Identifier: MIT */
#include <cairo-pdf.h>
#include <errno.h>
#include <glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "atomic.h"
#include "certpress.h"
#include "error.h"
#include "i18n.h"
#include "pdfupdate.h"

#define PT_PER_MM (72.0 / 25.4)
#define MAX_PAGE_MM 5000.0 /* well past A0; PDF's own limit is 14400 pt = 5080 mm */

struct cp_pdf_writer {
	cp_atomic *out;
	cairo_surface_t *surface;
	cairo_t *cr;      /* the open page, or NULL */
	int pages;
	int write_errno;  /* first failure of the stream callback */
	bool write_failed;
};

/* Cairo reports a failing write callback only as a generic status; keep the
 * errno so the user learns "No space left on device". */
static cairo_status_t write_cb(void *closure, const unsigned char *data, unsigned int len)
{
	cp_pdf_writer *w = closure;
	if (w->write_failed)
		return CAIRO_STATUS_WRITE_ERROR;
	if (len && fwrite(data, 1, len, cp_atomic_file(w->out)) != len) {
		w->write_failed = true;
		w->write_errno = errno ? errno : EIO;
		return CAIRO_STATUS_WRITE_ERROR;
	}
	return CAIRO_STATUS_SUCCESS;
}

static bool cairo_failed(cp_pdf_writer *w, cairo_status_t st, cp_error **err)
{
	if (st == CAIRO_STATUS_SUCCESS)
		return false;
	const char *path = cp_atomic_path(w->out);
	if (w->write_failed)
		cp_set_error(err, CP_E_IO, path, 0, 0, NULL, _("cannot write: %s"),
		             g_strerror(w->write_errno));
	else if (st == CAIRO_STATUS_NO_MEMORY)
		cp_set_error(err, CP_E_NOMEM, path, 0, 0, NULL, _("out of memory"));
	else
		cp_set_error(err, CP_E_IO, path, 0, 0, NULL, _("PDF output failed: %s"),
		             cairo_status_to_string(st));
	return true;
}

/* ISO 8601 as cairo wants it; SOURCE_DATE_EPOCH makes builds reproducible. */
static char *create_date(void)
{
	GDateTime *dt = NULL;
	const char *sde = g_getenv("SOURCE_DATE_EPOCH");
	if (sde && *sde) {
		char *end;
		gint64 t = g_ascii_strtoll(sde, &end, 10);
		if (!*end && t >= 0)
			dt = g_date_time_new_from_unix_utc(t);
	}
	if (!dt)
		dt = g_date_time_new_now_local();
	char *s = g_date_time_format(dt, "%Y-%m-%dT%H:%M:%S%:z");
	g_date_time_unref(dt);
	return s;
}

cp_pdf_writer *cp_pdf_writer_new(const char *path, double width_mm, double height_mm,
                                 const cp_doc_info *info, cp_error **err)
{
	if (!(width_mm >= 1 && width_mm <= MAX_PAGE_MM && height_mm >= 1 &&
	      height_mm <= MAX_PAGE_MM)) {
		cp_set_error(err, CP_E_USAGE, path, 0, 0, NULL,
		             _("page size %g x %g mm is outside 1..%g mm"), width_mm, height_mm,
		             MAX_PAGE_MM);
		return NULL;
	}
	cp_atomic *out = cp_atomic_open(path, 0, err);
	if (!out)
		return NULL;
	cp_pdf_writer *w = g_new0(cp_pdf_writer, 1);
	w->out = out;
	w->surface = cairo_pdf_surface_create_for_stream(write_cb, w, width_mm * PT_PER_MM,
	                                                 height_mm * PT_PER_MM);
	if (cairo_failed(w, cairo_surface_status(w->surface), err)) {
		cp_pdf_writer_abort(w);
		return NULL;
	}
	cairo_pdf_surface_restrict_to_version(w->surface, CAIRO_PDF_VERSION_1_5);
	if (info) {
		static const struct {
			size_t off;
			cairo_pdf_metadata_t key;
		} map[] = {
			{offsetof(cp_doc_info, title), CAIRO_PDF_METADATA_TITLE},
			{offsetof(cp_doc_info, author), CAIRO_PDF_METADATA_AUTHOR},
			{offsetof(cp_doc_info, subject), CAIRO_PDF_METADATA_SUBJECT},
			{offsetof(cp_doc_info, creator), CAIRO_PDF_METADATA_CREATOR},
			{offsetof(cp_doc_info, keywords), CAIRO_PDF_METADATA_KEYWORDS},
		};
		for (size_t i = 0; i < G_N_ELEMENTS(map); i++) {
			const char *v = *(const char *const *)((const char *)info + map[i].off);
			if (v && !g_utf8_validate(v, -1, NULL)) {
				cp_set_error(err, CP_E_USAGE, path, 0, 0, NULL,
				             _("document information is not valid UTF-8"));
				cp_pdf_writer_abort(w);
				return NULL;
			}
			if (v)
				cairo_pdf_surface_set_metadata(w->surface, map[i].key, v);
		}
	}
	char *date = create_date();
	cairo_pdf_surface_set_metadata(w->surface, CAIRO_PDF_METADATA_CREATE_DATE, date);
	g_free(date);
	return w;
}

cairo_t *cp_pdf_writer_begin_page(cp_pdf_writer *w, cp_error **err)
{
	if (w->cr) {
		cp_set_error(err, CP_E_USAGE, cp_atomic_path(w->out), 0, 0, NULL,
		             _("a page is already open"));
		return NULL;
	}
	w->cr = cairo_create(w->surface);
	if (cairo_failed(w, cairo_status(w->cr), err)) {
		cairo_destroy(w->cr);
		w->cr = NULL;
		return NULL;
	}
	cairo_scale(w->cr, PT_PER_MM, PT_PER_MM);
	return w->cr;
}

bool cp_pdf_writer_end_page(cp_pdf_writer *w, cp_error **err)
{
	if (!w->cr) {
		cp_set_error(err, CP_E_USAGE, cp_atomic_path(w->out), 0, 0, NULL,
		             _("no page is open"));
		return false;
	}
	cairo_show_page(w->cr);
	cairo_status_t st = cairo_status(w->cr);
	cairo_destroy(w->cr);
	w->cr = NULL;
	if (st == CAIRO_STATUS_SUCCESS)
		st = cairo_surface_status(w->surface);
	if (cairo_failed(w, st, err))
		return false;
	w->pages++;
	return true;
}

int cp_pdf_writer_page_count(const cp_pdf_writer *w)
{
	return w->pages;
}

bool cp_pdf_writer_commit(cp_pdf_writer *w, cp_error **err)
{
	const char *path = cp_atomic_path(w->out);
	if (w->cr) {
		cp_set_error(err, CP_E_USAGE, path, 0, 0, NULL, _("a page is still open"));
		goto fail;
	}
	if (w->pages == 0) {
		cp_set_error(err, CP_E_USAGE, path, 0, 0, NULL, _("the document has no pages"));
		goto fail;
	}
	cairo_surface_finish(w->surface);
	if (cairo_failed(w, cairo_surface_status(w->surface), err))
		goto fail;
	if (fflush(cp_atomic_file(w->out)) != 0) {
		cp_set_error(err, CP_E_IO, path, 0, 0, NULL, _("cannot write: %s"), g_strerror(errno));
		goto fail;
	}
	/* The update is appended through the same descriptor, after the stream's
	 * buffer was flushed, so the two never interleave. */
	cp_error *uerr = NULL;
	if (!cp_pdf_set_catalog_entry_fd(cp_atomic_fd(w->out), path, "ViewerPreferences",
	                                 "<< /PrintScaling /None >>", &uerr)) {
		cp_propagate_error(err, uerr);
		goto fail;
	}
	cairo_surface_destroy(w->surface);
	bool ok = cp_atomic_commit(w->out, err);
	g_free(w);
	return ok;
fail:
	cp_pdf_writer_abort(w);
	return false;
}

void cp_pdf_writer_abort(cp_pdf_writer *w)
{
	if (!w)
		return;
	if (w->cr)
		cairo_destroy(w->cr);
	if (w->surface) {
		/* Finishing flushes through write_cb into the temp file, which is
		 * about to go; make it a no-op rather than wasted work. */
		w->write_failed = true;
		cairo_surface_destroy(w->surface);
	}
	cp_atomic_abort(w->out);
	g_free(w);
}
