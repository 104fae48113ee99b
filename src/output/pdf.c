/* SPDX-License-Identifier: MIT */
#include <cairo-pdf.h>
#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <fcntl.h>
#include <glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic.h"
#include "certpress.h"
#include "error.h"
#include "i18n.h"
#include "layout/fonts.h"
#include "output/pdf.h"
#include "output/pdfjoin.h"
#include "output/pdfsplit.h"
#include "output/pdfupdate.h"

#define PT_PER_MM (72.0 / 25.4)
#define MAX_PAGE_MM 5000.0 /* well past A0; PDF's own limit is 14400 pt = 5080 mm */

/* Where a Cairo PDF surface's bytes go: a stream, and the first write error
 * (Cairo reports a failing write callback only as a generic status; the
 * errno is kept so the user learns "No space left on device"). */
typedef struct pdf_sink {
	FILE *fp;
	const char *label; /* the file named in messages */
	int write_errno;
	bool write_failed;
} pdf_sink;

struct cp_pdf_writer {
	cp_atomic *out;
	pdf_sink sink;
	cairo_surface_t *surface;
	cairo_t *cr;      /* the open page, or NULL */
	int pages;
};

static cairo_status_t write_cb(void *closure, const unsigned char *data, unsigned int len)
{
	pdf_sink *k = closure;
	if (k->write_failed)
		return CAIRO_STATUS_WRITE_ERROR;
	if (len && fwrite(data, 1, len, k->fp) != len) {
		k->write_failed = true;
		k->write_errno = errno ? errno : EIO;
		return CAIRO_STATUS_WRITE_ERROR;
	}
	return CAIRO_STATUS_SUCCESS;
}

static bool sink_failed(const pdf_sink *k, cairo_status_t st, cp_error **err)
{
	if (st == CAIRO_STATUS_SUCCESS)
		return false;
	const char *path = k->label;
	if (k->write_failed)
		cp_set_error(err, CP_E_IO, path, 0, 0, NULL, _("cannot write: %s"),
		             g_strerror(k->write_errno));
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

static bool check_size(const char *path, double width_mm, double height_mm, cp_error **err)
{
	if (width_mm >= 1 && width_mm <= MAX_PAGE_MM && height_mm >= 1 && height_mm <= MAX_PAGE_MM)
		return true;
	cp_set_error(err, CP_E_USAGE, path, 0, 0, NULL, _("page size %g x %g mm is outside 1..%g mm"),
	             width_mm, height_mm, MAX_PAGE_MM);
	return false;
}

static bool check_info(const char *path, const cp_doc_info *info, cp_error **err)
{
	const char *v[] = {info->title, info->author, info->subject, info->creator, info->keywords};
	for (size_t i = 0; i < G_N_ELEMENTS(v); i++) {
		if (v[i] && !g_utf8_validate(v[i], -1, NULL)) {
			cp_set_error(err, CP_E_USAGE, path, 0, 0, NULL,
			             _("document information is not valid UTF-8"));
			return false;
		}
	}
	return true;
}

/* A PDF surface writing into k, with the document information (checked) and
 * the creation date set. NULL with err on failure. */
static cairo_surface_t *surface_new(pdf_sink *k, double width_mm, double height_mm,
                                    const cp_doc_info *info, const char *date, cp_error **err)
{
	cairo_surface_t *s = cairo_pdf_surface_create_for_stream(write_cb, k, width_mm * PT_PER_MM,
	                                                         height_mm * PT_PER_MM);
	if (sink_failed(k, cairo_surface_status(s), err)) {
		cairo_surface_destroy(s);
		return NULL;
	}
	cairo_pdf_surface_restrict_to_version(s, CAIRO_PDF_VERSION_1_5);
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
			if (v)
				cairo_pdf_surface_set_metadata(s, map[i].key, v);
		}
	}
	cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATE_DATE, date);
	return s;
}

/* A cairo_t on surface s for one page, user space in millimetres. */
static cairo_t *page_begin(pdf_sink *k, cairo_surface_t *s, cp_error **err)
{
	cairo_t *cr = cairo_create(s);
	if (sink_failed(k, cairo_status(cr), err)) {
		cairo_destroy(cr);
		return NULL;
	}
	cairo_scale(cr, PT_PER_MM, PT_PER_MM);
	return cr;
}

static bool page_end(pdf_sink *k, cairo_surface_t *s, cairo_t *cr, cp_error **err)
{
	/* Cairo reads only a face's first bytes here (layout/fonts.h). */
	cp_fonts_probe_begin();
	cairo_show_page(cr);
	cp_fonts_probe_end();
	cairo_status_t st = cairo_status(cr);
	cairo_destroy(cr);
	if (st == CAIRO_STATUS_SUCCESS)
		st = cairo_surface_status(s);
	return !sink_failed(k, st, err);
}

/* Finishes the document (fonts are subset and written here) and flushes. */
static bool surface_finish(pdf_sink *k, cairo_surface_t *s, cp_error **err)
{
	cairo_surface_finish(s);
	if (sink_failed(k, cairo_surface_status(s), err))
		return false;
	if (fflush(k->fp) != 0) {
		cp_set_error(err, CP_E_IO, k->label, 0, 0, NULL, _("cannot write: %s"),
		             g_strerror(errno));
		return false;
	}
	return true;
}

/* The catalog entry every certpress PDF carries: a viewer or printer dialog
 * must not "fit to page" a certificate. */
#define CATALOG_KEY "ViewerPreferences"
#define CATALOG_VALUE "<< /PrintScaling /None >>"

void cp_pdf_process_init(void)
{
	if (!getenv("CAIRO_DEBUG_PDF"))
		setenv("CAIRO_DEBUG_PDF", "1", 0);
}

cp_pdf_writer *cp_pdf_writer_new(const char *path, double width_mm, double height_mm,
                                 const cp_doc_info *info, cp_error **err)
{
	if (!check_size(path, width_mm, height_mm, err) || (info && !check_info(path, info, err)))
		return NULL;
	cp_atomic *out = cp_atomic_open(path, 0, err);
	if (!out)
		return NULL;
	return cp_pdf_writer_new_atomic(out, width_mm, height_mm, info, err);
}

cp_pdf_writer *cp_pdf_writer_new_atomic(cp_atomic *out, double width_mm, double height_mm,
                                        const cp_doc_info *info, cp_error **err)
{
	const char *path = cp_atomic_path(out);
	if (!check_size(path, width_mm, height_mm, err) || (info && !check_info(path, info, err))) {
		cp_atomic_abort(out);
		return NULL;
	}
	cp_pdf_writer *w = g_new0(cp_pdf_writer, 1);
	w->out = out;
	w->sink.fp = cp_atomic_file(out);
	w->sink.label = cp_atomic_path(out);
	char *date = create_date();
	w->surface = surface_new(&w->sink, width_mm, height_mm, info, date, err);
	g_free(date);
	if (!w->surface) {
		cp_pdf_writer_abort(w);
		return NULL;
	}
	return w;
}

cairo_t *cp_pdf_writer_begin_page(cp_pdf_writer *w, cp_error **err)
{
	if (w->cr) {
		cp_set_error(err, CP_E_USAGE, w->sink.label, 0, 0, NULL, _("a page is already open"));
		return NULL;
	}
	w->cr = page_begin(&w->sink, w->surface, err);
	return w->cr;
}

bool cp_pdf_writer_end_page(cp_pdf_writer *w, cp_error **err)
{
	if (!w->cr) {
		cp_set_error(err, CP_E_USAGE, w->sink.label, 0, 0, NULL, _("no page is open"));
		return false;
	}
	cairo_t *cr = w->cr;
	w->cr = NULL;
	if (!page_end(&w->sink, w->surface, cr, err))
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
	return cp_pdf_writer_commit_finish(w, NULL, NULL, err);
}

bool cp_pdf_writer_commit_finish(cp_pdf_writer *w, cp_pdf_finish_fn finish, void *ud,
                                 cp_error **err)
{
	const char *path = w->sink.label;
	if (w->cr) {
		cp_set_error(err, CP_E_USAGE, path, 0, 0, NULL, _("a page is still open"));
		goto fail;
	}
	if (w->pages == 0) {
		cp_set_error(err, CP_E_USAGE, path, 0, 0, NULL, _("the document has no pages"));
		goto fail;
	}
	if (!surface_finish(&w->sink, w->surface, err))
		goto fail;
	/* The update is appended through the same descriptor, after the stream's
	 * buffer was flushed, so the two never interleave. */
	cp_error *uerr = NULL;
	if (!cp_pdf_set_catalog_entry_fd(cp_atomic_fd(w->out), path, CATALOG_KEY, CATALOG_VALUE,
	                                 &uerr)) {
		cp_propagate_error(err, uerr);
		goto fail;
	}
	/* The last update (a signature) comes after /ViewerPreferences: a
	 * reader reports anything appended after a signature as a change. */
	if (finish && !finish(ud, cp_atomic_fd(w->out), path, err))
		goto fail;
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
		w->sink.write_failed = true;
		cairo_surface_destroy(w->surface);
	}
	cp_atomic_abort(w->out);
	g_free(w);
}

/* ------------------------------------------------------------------- book */

struct cp_pdf_book {
	pdf_sink sink;    /* into an open_memstream() buffer */
	char *buf;        /* the finished document */
	size_t len;
	cairo_surface_t *surface;
	cairo_t *cr;
	int pages;
	cp_pdf_split *split;
	GString *file;    /* a page's file, reused */
};

cp_pdf_book *cp_pdf_book_new(const char *label, double width_mm, double height_mm,
                             const cp_doc_info *info, cp_error **err)
{
	if (!check_size(label, width_mm, height_mm, err) || (info && !check_info(label, info, err)))
		return NULL;
	cp_pdf_book *bk = g_new0(cp_pdf_book, 1);
	bk->sink.label = label;
	bk->sink.fp = open_memstream(&bk->buf, &bk->len);
	if (!bk->sink.fp) {
		cp_set_error(err, CP_E_NOMEM, label, 0, 0, NULL, _("out of memory"));
		g_free(bk);
		return NULL;
	}
	char *date = create_date();
	bk->surface = surface_new(&bk->sink, width_mm, height_mm, info, date, err);
	g_free(date);
	if (!bk->surface) {
		cp_pdf_book_free(bk);
		return NULL;
	}
	bk->file = g_string_sized_new(256 << 10);
	return bk;
}

cairo_t *cp_pdf_book_begin_page(cp_pdf_book *bk, cp_error **err)
{
	if (bk->cr || !bk->surface) {
		cp_set_error(err, CP_E_USAGE, bk->sink.label, 0, 0, NULL, _("a page is already open"));
		return NULL;
	}
	bk->cr = page_begin(&bk->sink, bk->surface, err);
	return bk->cr;
}

bool cp_pdf_book_end_page(cp_pdf_book *bk, cp_error **err)
{
	if (!bk->cr) {
		cp_set_error(err, CP_E_USAGE, bk->sink.label, 0, 0, NULL, _("no page is open"));
		return false;
	}
	cairo_t *cr = bk->cr;
	bk->cr = NULL;
	if (!page_end(&bk->sink, bk->surface, cr, err))
		return false;
	bk->pages++;
	return true;
}

int cp_pdf_book_page_count(const cp_pdf_book *bk)
{
	return bk->pages;
}

bool cp_pdf_book_finish(cp_pdf_book *bk, cp_error **err)
{
	if (bk->cr || !bk->surface || !bk->pages) {
		cp_set_error(err, CP_E_USAGE, bk->sink.label, 0, 0, NULL,
		             bk->cr ? _("a page is still open") : _("the document has no pages"));
		return false;
	}
	bool ok = surface_finish(&bk->sink, bk->surface, err);
	cairo_surface_destroy(bk->surface);
	bk->surface = NULL;
	if (fclose(bk->sink.fp) != 0 && ok) {
		cp_set_error(err, CP_E_NOMEM, bk->sink.label, 0, 0, NULL, _("out of memory"));
		ok = false;
	}
	bk->sink.fp = NULL;
	if (!ok)
		return false;
	bk->split = cp_pdf_split_new(bk->buf, bk->len, bk->sink.label, err);
	if (bk->split && cp_pdf_split_pages(bk->split) != bk->pages) {
		cp_set_error(err, CP_E_PARSE, bk->sink.label, 0, 0, NULL,
		             _("cannot cut the PDF into pages: %s"), _("a damaged page tree"));
		cp_pdf_split_free(bk->split);
		bk->split = NULL;
	}
	return bk->split != NULL;
}

bool cp_pdf_book_write_page(cp_pdf_book *bk, int page, cp_atomic *out,
                            cp_pdf_finish_fn finish, void *ud, cp_error **err)
{
	const char *path = cp_atomic_path(out);
	FILE *fp = cp_atomic_file(out);
	if (!bk->split) {
		cp_set_error(err, CP_E_USAGE, path, 0, 0, NULL, _("the document is not finished"));
		goto fail;
	}
	g_string_truncate(bk->file, 0);
	if (!cp_pdf_split_page(bk->split, page, "/" CATALOG_KEY " " CATALOG_VALUE, bk->file, err))
		goto fail;
	if (fwrite(bk->file->str, 1, bk->file->len, fp) != bk->file->len || fflush(fp) != 0) {
		cp_set_error(err, CP_E_IO, path, 0, 0, NULL, _("cannot write: %s"), g_strerror(errno));
		goto fail;
	}
	if (finish && !finish(ud, cp_atomic_fd(out), path, err))
		goto fail;
	return cp_atomic_commit(out, err);
fail:
	cp_atomic_abort(out);
	return false;
}

void cp_pdf_book_free(cp_pdf_book *bk)
{
	if (!bk)
		return;
	if (bk->cr)
		cairo_destroy(bk->cr);
	if (bk->surface) {
		bk->sink.write_failed = true; /* nobody reads it */
		cairo_surface_destroy(bk->surface);
	}
	if (bk->sink.fp)
		fclose(bk->sink.fp);
	free(bk->buf);
	cp_pdf_split_free(bk->split);
	if (bk->file)
		g_string_free(bk->file, TRUE);
	g_free(bk);
}

/* ------------------------------------------------------------------ parts */

/* A part as the caller sees it is one thread's stream of pages. On disk it is
 * a sequence of files, each a complete PDF of at most part_pages pages: Cairo
 * keeps some bytes per page until a document is finished, so a long batch
 * would otherwise grow with its length; a finished file costs nothing more.
 * The files are unlinked temporaries beside the output (same file system, so
 * the space they need is where the output will be; a crash leaves nothing). */
typedef struct part_file {
	int fd;
	long pages;
} part_file;

typedef struct pdf_part {
	pdf_sink sink;
	int fd;           /* the file being written, or -1 */
	cairo_surface_t *surface;
	cairo_t *cr;      /* the open page, or NULL */
	long pages;       /* in the file being written */
	GArray *files;    /* part_file: the finished files, in order */
	bool finished;
	bool fallback_next; /* the open page sets text in a fallback face */
	bool fallback_used; /* a page of the file being written did */
} pdf_part;

struct cp_pdf_parts {
	cp_atomic *out;
	double width_mm, height_mm;
	cp_doc_info info; /* strings owned */
	bool has_info;
	char *date;
	char *dir;        /* where the part files go */
	long part_pages;  /* pages per file */
	GMutex finish_lock;
	GMutex layer_lock;
	GCond layer_cond;
	int layer_state;  /* 0 not drawn yet, 2 being drawn, 1 drawn (layer_fd), -1 none */
	int layer_fd;
	int nparts;
	pdf_part *parts;
	const volatile sig_atomic_t *cancel;
	cp_pdf_run *runs; /* the final page order, by part */
	size_t nruns, runs_cap;
	long pages;
};

cp_pdf_parts *cp_pdf_parts_new(const char *path, double width_mm, double height_mm,
                               const cp_doc_info *info, int nparts, cp_error **err)
{
	if (nparts < 1 || nparts > CP_PDF_MAX_PARTS) {
		cp_set_error(err, CP_E_USAGE, path, 0, 0, NULL, _("a PDF is drawn in 1 to %d parts"),
		             CP_PDF_MAX_PARTS);
		return NULL;
	}
	if (!check_size(path, width_mm, height_mm, err) || (info && !check_info(path, info, err)))
		return NULL;
	cp_atomic *out = cp_atomic_open(path, 0, err);
	if (!out)
		return NULL;
	cp_pdf_parts *p = g_new0(cp_pdf_parts, 1);
	p->out = out;
	p->width_mm = width_mm;
	p->height_mm = height_mm;
	if (info) {
		p->info.title = g_strdup(info->title);
		p->info.author = g_strdup(info->author);
		p->info.subject = g_strdup(info->subject);
		p->info.creator = g_strdup(info->creator);
		p->info.keywords = g_strdup(info->keywords);
		p->has_info = true;
	}
	p->date = create_date();
	p->dir = g_strdup(cp_atomic_folder(out));
	p->part_pages = CP_PDF_PART_PAGES;
	g_mutex_init(&p->finish_lock);
	g_mutex_init(&p->layer_lock);
	g_cond_init(&p->layer_cond);
	p->layer_fd = -1;
	p->nparts = nparts;
	p->parts = g_new0(pdf_part, nparts);
	for (int i = 0; i < nparts; i++) {
		p->parts[i].fd = -1;
		p->parts[i].sink.label = cp_atomic_path(out);
		p->parts[i].files = g_array_new(FALSE, FALSE, sizeof(part_file));
	}
	return p;
}

void cp_pdf_parts_set_part_pages(cp_pdf_parts *p, long pages)
{
	p->part_pages = pages < 1 ? 1 : pages;
}

static bool part_ok(cp_pdf_parts *p, int part, cp_error **err)
{
	if (part >= 0 && part < p->nparts && !p->parts[part].finished)
		return true;
	cp_set_error(err, CP_E_USAGE, cp_atomic_path(p->out), 0, 0, NULL,
	             _("part %d is not open"), part);
	return false;
}

/* A file of at most this many pages is finished without waiting for the
 * others' (part_file_close()). */
#define SMALL_FILE_PAGES 1500

/* Gives the free pages malloc holds back to the system. Finishing a large
 * file frees what subsetting its fonts took (a few MB beside the font
 * tables' mapped blocks) in the middle of this thread's arena, where glibc
 * keeps the pages: it gives back only a heap's top, and only beyond a
 * threshold. malloc_trim() returns every free page of every arena, so what
 * a finished file left is not part of the next files' peak (bench/README.md). */
static void release_free_memory(void)
{
#ifdef __GLIBC__
	malloc_trim(0);
#endif
}

/* Completes the file being written, if any, and adds it to the part's list.
 * One large file at a time: finishing subsets the fonts, which briefly takes
 * some 27 MB; two parts finishing at once (as they do at the end of a batch)
 * would add that to the peak twice, on top of what each file holds for its
 * pages (110 MB at 100,000 certificates when they met). The parts' files
 * grow in step, so a small file is finished beside small ones: a batch of
 * 1,000 then peaked at 71-86 MB instead of 65-70 when this was measured
 * (53-65 MB since the font tables' copies shrank, bench/README.md; a
 * 100,000 batch 62-81), and ends 4 % sooner (both workers' finishing, 27
 * ms each, no longer one after the other). */
static bool part_file_close(cp_pdf_parts *p, pdf_part *t, cp_error **err)
{
	if (!t->surface)
		return true;
	bool alone = t->pages > SMALL_FILE_PAGES;
	if (alone)
		g_mutex_lock(&p->finish_lock);
	bool ok = surface_finish(&t->sink, t->surface, err);
	cairo_surface_destroy(t->surface);
	if (alone) {
		release_free_memory();
		g_mutex_unlock(&p->finish_lock);
	}
	t->surface = NULL;
	fclose(t->sink.fp);
	t->sink.fp = NULL;
	part_file f = {.fd = t->fd, .pages = t->pages};
	g_array_append_val(t->files, f);
	t->fd = -1;
	t->pages = 0;
	t->fallback_used = false;
	return ok;
}

cairo_t *cp_pdf_parts_begin_page(cp_pdf_parts *p, int part, cp_error **err)
{
	if (!part_ok(p, part, err))
		return NULL;
	pdf_part *t = &p->parts[part];
	if (t->cr) {
		cp_set_error(err, CP_E_USAGE, t->sink.label, 0, 0, NULL, _("a page is already open"));
		return NULL;
	}
	if (!t->surface) {
		/* Made on the first page: a part nobody draws into costs nothing. */
		t->fd = cp_atomic_scratch(p->dir, t->sink.label, err);
		if (t->fd < 0)
			return NULL;
		int wfd = dup(t->fd);
		t->sink.fp = wfd >= 0 ? fdopen(wfd, "w") : NULL;
		if (!t->sink.fp) {
			cp_set_error(err, CP_E_IO, t->sink.label, 0, 0, NULL, _("cannot write: %s"),
			             g_strerror(errno));
			if (wfd >= 0)
				close(wfd);
			close(t->fd);
			t->fd = -1;
			return NULL;
		}
		t->sink.write_failed = false;
		t->surface = surface_new(&t->sink, p->width_mm, p->height_mm,
		                         p->has_info ? &p->info : NULL, p->date, err);
		if (!t->surface) {
			fclose(t->sink.fp);
			t->sink.fp = NULL;
			close(t->fd);
			t->fd = -1;
			return NULL;
		}
	}
	t->cr = page_begin(&t->sink, t->surface, err);
	return t->cr;
}

bool cp_pdf_parts_end_page(cp_pdf_parts *p, int part, cp_error **err)
{
	if (!part_ok(p, part, err))
		return false;
	pdf_part *t = &p->parts[part];
	if (!t->cr) {
		cp_set_error(err, CP_E_USAGE, t->sink.label, 0, 0, NULL, _("no page is open"));
		return false;
	}
	cairo_t *cr = t->cr;
	t->cr = NULL;
	/* Writing out the first page of a file, or the first that uses a
	 * fallback face, is when Cairo copies the CFF table of each face it
	 * uses for the first time in that document (to learn whether it is
	 * CID-keyed): the same copies as when a file is finished (20 MB for
	 * Noto Serif CJK, 5-7 MB a Fandol face), under the same lock, so that
	 * one part's copies never add to another's (110 MB peak at 100,000
	 * certificates when they met, bench/README.md). Under Cairo 1.16 the
	 * faces certpress reads itself give it only the table's first 64 KB
	 * here (page_end(), layout/fonts.h); the lock stays for any other
	 * Cairo and any other face. Not the first page of
	 * a part's first file: then every part holds a page or two and the
	 * process is at its smallest (the copies of the batch's start meeting
	 * leave the peak at 100,000 as it was), and each thread waiting there
	 * for another's copies and the layer's fonts cost 4 % of a
	 * 1,000-certificate batch's time. */
	bool heavy = (t->pages == 0 && t->files->len > 0) ||
	             (t->fallback_next && !t->fallback_used);
	t->fallback_used = t->fallback_used || t->fallback_next;
	t->fallback_next = false;
	if (heavy)
		g_mutex_lock(&p->finish_lock);
	bool ended = page_end(&t->sink, t->surface, cr, err);
	if (heavy)
		g_mutex_unlock(&p->finish_lock);
	if (!ended)
		return false;
	t->pages++;
	return t->pages < p->part_pages || part_file_close(p, t, err);
}

/* The layer's page being drawn (cp_pdf_parts_layer). */
typedef struct layer_doc {
	int fd;
	pdf_sink k;
	cairo_surface_t *s;
	cairo_t *cr;
} layer_doc;

static void layer_doc_close(layer_doc *d, bool keep_fd)
{
	if (d->cr)
		cairo_destroy(d->cr);
	if (d->s) {
		d->k.write_failed = d->k.write_failed || !keep_fd; /* nobody reads it */
		cairo_surface_destroy(d->s);
	}
	if (d->k.fp)
		fclose(d->k.fp);
	if (!keep_fd && d->fd >= 0)
		close(d->fd);
}

/* Opens the layer's page on a new temporary file and draws it: 1, 0 when
 * draw had nothing to draw, -1 with err. */
static int layer_begin(cp_pdf_parts *p, layer_doc *d, cp_pdf_layer_fn draw, void *ud,
                       cp_error **err)
{
	const char *label = cp_atomic_path(p->out);
	*d = (layer_doc){.fd = cp_atomic_scratch(p->dir, label, err), .k.label = label};
	if (d->fd < 0)
		return -1;
	int wfd = dup(d->fd);
	d->k.fp = wfd >= 0 ? fdopen(wfd, "w") : NULL;
	if (!d->k.fp) {
		cp_set_error(err, CP_E_IO, label, 0, 0, NULL, _("cannot write: %s"), g_strerror(errno));
		if (wfd >= 0)
			close(wfd);
		return -1;
	}
	d->s = surface_new(&d->k, p->width_mm, p->height_mm, p->has_info ? &p->info : NULL,
	                   p->date, err);
	d->cr = d->s ? page_begin(&d->k, d->s, err) : NULL;
	if (!d->cr)
		return -1;
	return draw(ud, d->cr) ? 1 : 0;
}

/* Writes the layer's page out and finishes its document (fonts subset: the
 * same copies of their tables as a part's). It is drawn by the batch's first
 * page, when the parts are at their smallest: not under the lock (see
 * cp_pdf_parts_end_page()). */
static bool layer_end(layer_doc *d, cp_error **err)
{
	cairo_t *cr = d->cr;
	d->cr = NULL;
	return page_end(&d->k, d->s, cr, err) && surface_finish(&d->k, d->s, err);
}

int cp_pdf_parts_layer(cp_pdf_parts *p, cp_pdf_layer_fn draw, void *ud, cp_error **err)
{
	g_mutex_lock(&p->layer_lock);
	while (p->layer_state == 2)
		g_cond_wait(&p->layer_cond, &p->layer_lock);
	if (p->layer_state != 0) {
		int r = p->layer_state == 1;
		g_mutex_unlock(&p->layer_lock);
		return r;
	}
	/* This thread draws it; the others wait only until it is drawn, not
	 * while its fonts are subset. */
	p->layer_state = 2;
	g_mutex_unlock(&p->layer_lock);
	layer_doc d;
	int r = layer_begin(p, &d, draw, ud, err);
	g_mutex_lock(&p->layer_lock);
	p->layer_state = r > 0 ? 1 : -1;
	g_cond_broadcast(&p->layer_cond);
	g_mutex_unlock(&p->layer_lock);
	if (r > 0 && !layer_end(&d, err))
		r = -1;
	/* Read by the commit, after every part's thread is done. */
	if (r > 0)
		p->layer_fd = d.fd;
	layer_doc_close(&d, r > 0);
	return r;
}

void cp_pdf_parts_page_uses_fallback(cp_pdf_parts *p, int part)
{
	if (part >= 0 && part < p->nparts)
		p->parts[part].fallback_next = true;
}

bool cp_pdf_parts_finish(cp_pdf_parts *p, int part, cp_error **err)
{
	if (!part_ok(p, part, err))
		return false;
	pdf_part *t = &p->parts[part];
	if (t->cr) {
		cp_set_error(err, CP_E_USAGE, t->sink.label, 0, 0, NULL, _("a page is still open"));
		return false;
	}
	t->finished = true;
	return part_file_close(p, t, err);
}

bool cp_pdf_parts_order(cp_pdf_parts *p, int part, long pages, cp_error **err)
{
	if (part < 0 || part >= p->nparts || pages < 1) {
		cp_set_error(err, CP_E_USAGE, cp_atomic_path(p->out), 0, 0, NULL,
		             _("part %d is not open"), part);
		return false;
	}
	p->pages += pages;
	if (p->nruns && p->runs[p->nruns - 1].part == part) {
		p->runs[p->nruns - 1].pages += pages;
		return true;
	}
	if (p->nruns == p->runs_cap) {
		p->runs_cap = p->runs_cap ? p->runs_cap * 2 : 64;
		p->runs = g_renew(cp_pdf_run, p->runs, p->runs_cap);
	}
	p->runs[p->nruns++] = (cp_pdf_run){.part = part, .pages = pages};
	return true;
}

void cp_pdf_parts_set_cancel(cp_pdf_parts *p, const volatile sig_atomic_t *flag)
{
	p->cancel = flag;
}

static bool cancelled(const cp_pdf_parts *p, cp_error **err)
{
	if (!p->cancel || !*p->cancel)
		return false;
	cp_set_error(err, CP_E_INTERRUPTED, cp_atomic_path(p->out), 0, 0, NULL,
	             _("interrupted; nothing was written"));
	return true;
}

long cp_pdf_parts_page_count(const cp_pdf_parts *p)
{
	return p->pages;
}

/* Where the joiner reads: every file of every part, and the order of pages
 * restated by file (a run of a part may span several of its files). */
typedef struct join_plan {
	GArray *fds;  /* int */
	GArray *runs; /* cp_pdf_run over fds */
} join_plan;

static void plan_run(join_plan *j, int file, long pages)
{
	cp_pdf_run *last = j->runs->len ? &g_array_index(j->runs, cp_pdf_run, j->runs->len - 1)
	                                 : NULL;
	if (last && last->part == file) {
		last->pages += pages;
		return;
	}
	cp_pdf_run r = {.part = file, .pages = pages};
	g_array_append_val(j->runs, r);
}

static bool make_plan(cp_pdf_parts *p, join_plan *j, cp_error **err)
{
	const char *path = cp_atomic_path(p->out);
	int *first = g_new(int, p->nparts); /* each part's first file in fds */
	size_t *file = g_new0(size_t, p->nparts); /* the file a part's pages come from */
	long *used = g_new0(long, p->nparts);     /* pages of that file placed */
	bool ok = false;
	for (int i = 0; i < p->nparts; i++) {
		first[i] = (int)j->fds->len;
		GArray *f = p->parts[i].files;
		for (guint k = 0; k < f->len; k++)
			g_array_append_val(j->fds, g_array_index(f, part_file, k).fd);
	}
	for (size_t r = 0; r < p->nruns; r++) {
		int part = p->runs[r].part;
		GArray *f = p->parts[part].files;
		for (long left = p->runs[r].pages; left > 0;) {
			if (file[part] >= f->len) {
				cp_set_error(err, CP_E_USAGE, path, 0, 0, NULL,
				             _("part %d was given pages it does not hold"), part);
				goto out;
			}
			long avail = g_array_index(f, part_file, file[part]).pages - used[part];
			long take = left < avail ? left : avail;
			plan_run(j, first[part] + (int)file[part], take);
			used[part] += take;
			left -= take;
			if (used[part] == g_array_index(f, part_file, file[part]).pages) {
				file[part]++;
				used[part] = 0;
			}
		}
	}
	ok = true;
out:
	g_free(used);
	g_free(file);
	g_free(first);
	return ok;
}

bool cp_pdf_parts_commit(cp_pdf_parts *p, cp_error **err)
{
	const char *path = cp_atomic_path(p->out);
	bool ok = false;
	join_plan j = {
		.fds = g_array_new(FALSE, FALSE, sizeof(int)),
		.runs = g_array_new(FALSE, FALSE, sizeof(cp_pdf_run)),
	};
	if (p->pages == 0) {
		cp_set_error(err, CP_E_USAGE, path, 0, 0, NULL, _("the document has no pages"));
		goto out;
	}
	for (int i = 0; i < p->nparts; i++)
		if (!p->parts[i].finished && !cp_pdf_parts_finish(p, i, err))
			goto out;
	/* The joiner checks again that every page of every file is placed
	 * exactly once. */
	if (cancelled(p, err) || !make_plan(p, &j, err) ||
	    !cp_pdf_join_parallel(cp_atomic_file(p->out), path, (const int *)(void *)j.fds->data,
	                          (int)j.fds->len, (const cp_pdf_run *)(void *)j.runs->data,
	                          j.runs->len, p->layer_fd, "/" CATALOG_KEY " " CATALOG_VALUE,
	                          p->dir, p->nparts, err))
		goto out;
	if (cancelled(p, err))
		goto out;
	ok = cp_atomic_commit(p->out, err);
	p->out = NULL;
out:
	g_array_free(j.fds, TRUE);
	g_array_free(j.runs, TRUE);
	cp_pdf_parts_abort(p);
	return ok;
}

void cp_pdf_parts_abort(cp_pdf_parts *p)
{
	if (!p)
		return;
	for (int i = 0; i < p->nparts; i++) {
		pdf_part *t = &p->parts[i];
		if (t->cr)
			cairo_destroy(t->cr);
		if (t->surface) {
			t->sink.write_failed = true; /* the file is about to go */
			cairo_surface_destroy(t->surface);
		}
		if (t->sink.fp)
			fclose(t->sink.fp);
		if (t->fd >= 0)
			close(t->fd);
		for (guint k = 0; k < t->files->len; k++)
			close(g_array_index(t->files, part_file, k).fd);
		g_array_free(t->files, TRUE);
	}
	if (p->layer_fd >= 0)
		close(p->layer_fd);
	g_mutex_clear(&p->layer_lock);
	g_cond_clear(&p->layer_cond);
	cp_atomic_abort(p->out);
	g_free((char *)p->info.title);
	g_free((char *)p->info.author);
	g_free((char *)p->info.subject);
	g_free((char *)p->info.creator);
	g_free((char *)p->info.keywords);
	g_mutex_clear(&p->finish_lock);
	g_free(p->date);
	g_free(p->dir);
	g_free(p->parts);
	g_free(p->runs);
	g_free(p);
}
