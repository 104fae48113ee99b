/* SPDX-License-Identifier: MIT */
/* The web console's HTTP server (docs/console.md): libmicrohttpd on
 * 127.0.0.1, one internal thread that serves every request in turn (the
 * batch, its fonts and engine are used from that thread only).
 *
 * Security model: the page is for the operator who started the command and
 * for nobody else on the machine or on the web.
 *  - The socket is bound to 127.0.0.1 only.
 *  - Every request carries the per-run token: the URL printed at start
 *    (?token=, on a GET), then an HttpOnly SameSite=Strict cookie the server
 *    sets, or an X-Certpress-Token header. Anything else is 403.
 *  - The Host header must be 127.0.0.1:PORT or localhost:PORT (a page of
 *    another site reached through DNS rebinding sends its own name): 403.
 *  - A request that changes something is a POST with an X-CSRF-Token header
 *    equal to a second per-run token, found only inside the page: 403.
 *  - Responses forbid inline script, framing, sniffing, referrers, caching.
 *  - Bodies are bounded (upload limit), connections time out, and uploads
 *    live in a private 0700 folder removed when the server stops. */
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <zip.h>

#include "cli/cli_common.h"
#include "console/assets.h"
#include "console/batch.h"
#include "console/console.h"
#include "console/job.h"
#include "error.h"
#include "i18n.h"
#include "output/report.h"
#include "lazylib.h"

#define MHD_FUNCTIONS(X) X(MHD_add_response_header) X(MHD_create_post_processor) \
	X(MHD_create_response_from_buffer) X(MHD_create_response_from_fd) \
	X(MHD_destroy_post_processor) X(MHD_destroy_response) X(MHD_get_daemon_info) \
	X(MHD_lookup_connection_value) X(MHD_post_process) X(MHD_queue_response) \
	X(MHD_start_daemon) X(MHD_stop_daemon)
CP_LAZY_LIBRARY(mhd, CP_SONAME_MHD, N_("the web console"), MHD_FUNCTIONS);

/* Preview resolution: from a thumbnail to print resolution. */
#define PREVIEW_DPI_MIN 10
#define PREVIEW_DPI_MAX 300
/* A form field other than a file (a path, a sheet name). */
#define FIELD_MAX 4096

typedef struct server {
	struct MHD_Daemon *d;
	unsigned port;
	char token[65], csrf[65];
	char host_ip[40], host_name[40]; /* "127.0.0.1:PORT", "localhost:PORT" */
	char cookie[40];                 /* the token cookie's name, per port */
	char *tmpdir;                    /* private, 0700 */
	char *outdir;                    /* console_opts.output_dir, absolute */
	char *upload_dir;                /* the loaded upload's folder, or NULL */
	char *upload_name;               /* its data file's name as uploaded */
	unsigned uploads;
	size_t upload_limit;
	const console_opts *o;
	GMutex lock;      /* the batch and the upload folder: one request at a
	                     time (each connection has its thread) */
	console_batch *cb;
	console_jobs *jobs;
	unsigned prints;
} server;

typedef struct request {
	struct MHD_PostProcessor *pp;
	uint64_t received;
	bool too_big;
	bool bad_field;    /* a field over FIELD_MAX, or with a NUL */
	char *dir;         /* this upload's folder */
	char *file;        /* the uploaded data file, or NULL */
	char *file_name;   /* its name as the browser gave it (sanitised) */
	char *photos;      /* the uploaded zip of photos, or NULL */
	FILE *out;
	bool out_photos;   /* out is the photos' zip */
	bool write_failed;
	GString *field[10]; /* by field_names */
} request;

/* The form fields the API takes besides the file. */
static const char *const field_names[] = {"path", "sheet", "dest", "mode", "rows", "printer",
                                          "serial", "cert_no", "reason", "serial_to"};
enum { F_PATH, F_SHEET, F_DEST, F_MODE, F_ROWS, F_PRINTER, F_SERIAL, F_CERT, F_REASON,
       F_SERIAL_TO, F_COUNT };

/* ------------------------------------------------------------ responses */

static void secure_headers(struct MHD_Response *r)
{
	mhd.MHD_add_response_header(r, "Content-Security-Policy",
	                            "default-src 'self'; img-src 'self' data: blob:; "
	                            "frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
	mhd.MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	mhd.MHD_add_response_header(r, "X-Frame-Options", "DENY");
	mhd.MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	mhd.MHD_add_response_header(r, "Cache-Control", "no-store");
}

/* Queues body (copied unless owned: then freed with free()). */
static enum MHD_Result respond(struct MHD_Connection *c, unsigned status, const char *type,
                               const void *body, size_t len, bool owned,
                               const char *set_cookie)
{
	struct MHD_Response *r = mhd.MHD_create_response_from_buffer(
		len, (void *)body, owned ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	secure_headers(r);
	mhd.MHD_add_response_header(r, "Content-Type", type);
	if (set_cookie)
		mhd.MHD_add_response_header(r, "Set-Cookie", set_cookie);
	enum MHD_Result ok = mhd.MHD_queue_response(c, status, r);
	mhd.MHD_destroy_response(r);
	return ok;
}

static enum MHD_Result respond_json(struct MHD_Connection *c, unsigned status,
                                    const char *json, const char *set_cookie)
{
	return respond(c, status, "application/json; charset=utf-8", json, strlen(json), false,
	               set_cookie);
}

/* {"error":MESSAGE} with the status. */
static enum MHD_Result refuse(struct MHD_Connection *c, unsigned status, const char *message)
{
	GString *g = g_string_new("{\"error\":");
	cp_report_json_str(g, message);
	g_string_append_c(g, '}');
	enum MHD_Result ok = respond_json(c, status, g->str, NULL);
	g_string_free(g, TRUE);
	return ok;
}

/* A library error: its formatted text (file, row, column, rule) and code. */
static enum MHD_Result refuse_error(struct MHD_Connection *c, unsigned status, cp_error *e)
{
	char *msg = cp_error_format(e);
	GString *g = g_string_new("{\"error\":");
	cp_report_json_str(g, msg);
	if (e->row)
		g_string_append_printf(g, ",\"row\":%ld", e->row);
	if (e->column) {
		g_string_append(g, ",\"column\":");
		cp_report_json_str(g, e->column);
	}
	g_string_append_c(g, '}');
	free(msg);
	cp_error_free(e);
	enum MHD_Result ok = respond_json(c, status, g->str, NULL);
	g_string_free(g, TRUE);
	return ok;
}

/* ------------------------------------------------------------- security */

static bool same_secret(const char *given, const char *secret)
{
	if (!given)
		return false;
	size_t n = strlen(secret);
	if (strlen(given) != n)
		return false;
	unsigned char diff = 0;
	for (size_t i = 0; i < n; i++)
		diff |= (unsigned char)given[i] ^ (unsigned char)secret[i];
	return diff == 0;
}

static bool random_hex(char out[65])
{
	unsigned char raw[32];
	size_t got = 0;
	while (got < sizeof raw) {
		ssize_t n = getrandom(raw + got, sizeof raw - got, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		got += (size_t)n;
	}
	for (size_t i = 0; i < sizeof raw; i++)
		snprintf(out + 2 * i, 3, "%02x", raw[i]);
	return true;
}

/* Host, token and, for a POST, the CSRF token. NULL when the request may
 * go on (*set_cookie then says whether the token came in the URL and the
 * cookie is to be set), else the reason for a 403. */
static const char *forbidden(server *s, struct MHD_Connection *c, bool post, bool *set_cookie)
{
	*set_cookie = false;
	const char *host =
		mhd.MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
	if (!host || (strcmp(host, s->host_ip) != 0 && strcmp(host, s->host_name) != 0))
		return _("this console answers to its own address only (Host header)");
	const char *t = mhd.MHD_lookup_connection_value(c, MHD_COOKIE_KIND, s->cookie);
	if (!same_secret(t, s->token))
		t = mhd.MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Certpress-Token");
	if (!same_secret(t, s->token) && !post) {
		t = mhd.MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "token");
		*set_cookie = same_secret(t, s->token);
	}
	if (!same_secret(t, s->token))
		return _("the console's token is missing or wrong: open the address that "
		         "certpress serve printed");
	if (post &&
	    !same_secret(mhd.MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-CSRF-Token"),
	                 s->csrf))
		return _("a change needs the page's X-CSRF-Token header");
	return NULL;
}

/* --------------------------------------------------------------- assets */

static const cp_console_asset *asset(const char *name)
{
	for (const cp_console_asset *a = cp_console_assets; a->name; a++)
		if (strcmp(a->name, name) == 0)
			return a;
	return NULL;
}

/* English when the browser's first language is English; else Chinese. */
static const char *page_lang(struct MHD_Connection *c)
{
	const char *al = mhd.MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	                                                 MHD_HTTP_HEADER_ACCEPT_LANGUAGE);
	if (al) {
		while (*al == ' ')
			al++;
		if (g_ascii_strncasecmp(al, "en", 2) == 0)
			return "en";
	}
	return "zh-CN";
}

/* The page, with its CSRF token and language filled in. */
static enum MHD_Result serve_index(server *s, struct MHD_Connection *c, const char *cookie)
{
	const cp_console_asset *a = asset("index.html");
	if (!a)
		return refuse(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "index.html");
	GString *g = g_string_new_len((const char *)a->bytes, (gssize)a->size);
	g_string_replace(g, "@CSRF@", s->csrf, 0);
	g_string_replace(g, "@LANG@", page_lang(c), 0);
	size_t len = g->len;
	char *body = g_string_free(g, FALSE);
	/* MHD frees with free(): g_malloc is malloc in GLib 2.46 and later. */
	return respond(c, MHD_HTTP_OK, a->type, body, len, true, cookie);
}

/* ---------------------------------------------------------------- batch */

/* A path of this machine the operator typed: absolute, no "..". NULL when
 * fine, else why not. */
static const char *path_refused(const char *p)
{
	if (!*p)
		return _("the path is empty");
	if (p[0] != '/')
		return _("the path must be absolute (start with /)");
	char **parts = g_strsplit(p, "/", -1);
	bool up = false;
	for (char **q = parts; *q; q++)
		if (strcmp(*q, "..") == 0)
			up = true;
	g_strfreev(parts);
	if (up)
		return _("the path must not contain '..'");
	struct stat st;
	if (stat(p, &st) != 0)
		return _("no such file");
	if (!S_ISREG(st.st_mode))
		return _("not a regular file");
	return NULL;
}

/* An uploaded file's name, for the report: its last part, or "upload". */
static char *upload_name(const char *given)
{
	const char *base = given ? strrchr(given, '/') : NULL;
	base = base ? base + 1 : given;
	const char *b2 = base ? strrchr(base, '\\') : NULL;
	base = b2 ? b2 + 1 : base;
	if (!base || !*base || base[0] == '.' || !g_utf8_validate(base, -1, NULL) ||
	    strlen(base) > 200)
		return g_strdup("upload");
	return g_strdup(base);
}

static void rm_rf(const char *path)
{
	struct stat st;
	if (lstat(path, &st) != 0)
		return;
	if (S_ISDIR(st.st_mode)) {
		GDir *d = g_dir_open(path, 0, NULL);
		if (d) {
			const char *n;
			while ((n = g_dir_read_name(d))) {
				char *sub = g_build_filename(path, n, NULL);
				rm_rf(sub);
				g_free(sub);
			}
			g_dir_close(d);
		}
		g_rmdir(path);
	} else {
		g_unlink(path);
	}
}

static enum MHD_Result post_field(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *filename, const char *content_type,
                                  const char *transfer_encoding, const char *data,
                                  uint64_t off, size_t size)
{
	request *q = cls;
	bool photos = strcmp(key, "photos") == 0;
	if ((strcmp(key, "file") == 0 || photos) && filename) {
		if (q->out && q->out_photos != photos) {
			/* the other file's part has ended */
			if (fclose(q->out) != 0)
				q->write_failed = true;
			q->out = NULL;
		}
		if (!q->out && !q->write_failed) {
			if (photos ? q->photos != NULL : q->file != NULL) /* one of each */
				return MHD_YES;
			char *target;
			if (photos) {
				target = q->photos = g_build_filename(q->dir, "photos.zip", NULL);
			} else {
				q->file_name = upload_name(filename);
				target = q->file = g_build_filename(q->dir, "data", NULL);
			}
			q->out_photos = photos;
			int fd = g_open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
			q->out = fd >= 0 ? fdopen(fd, "wb") : NULL;
			if (!q->out) {
				if (fd >= 0)
					close(fd);
				q->write_failed = true;
			}
		}
		if (q->out && size && fwrite(data, 1, size, q->out) != size)
			q->write_failed = true;
		return MHD_YES;
	}
	GString *g = NULL;
	for (int i = 0; i < F_COUNT; i++)
		if (strcmp(key, field_names[i]) == 0)
			g = q->field[i];
	if (!g)
		return MHD_YES;
	if (g->len + size > FIELD_MAX || memchr(data, '\0', size))
		q->bad_field = true;
	else
		g_string_append_len(g, data, (gssize)size);
	return MHD_YES;
}

/* Photos: at most this many files, this much inflated in all. */
#define PHOTOS_MAX_FILES 100000
/* a zip bomb must not fill the temporary folder: 1 GiB is 20,000 photos
 * of 50 KB */
#define PHOTOS_MAX_BYTES ((zip_uint64_t)1 << 30)

/* Takes the photos out of the uploaded zip into dir, beside the data file,
 * keeping their folders ("photos/001.jpg"). Refuses, naming the entry, any
 * name that is absolute, climbs out with "..", holds a backslash or a NUL,
 * or is a link, and an archive over the bounds. NULL, or why not (g_free). */
static char *unzip_photos(const char *zip_path, const char *dir)
{
	int ze = 0;
	zip_t *z = zip_open(zip_path, ZIP_RDONLY, &ze);
	if (!z) {
		zip_error_t e;
		zip_error_init_with_code(&e, ze);
		char *why = g_strdup_printf(_("the photos are not a zip archive: %s"),
		                            zip_error_strerror(&e));
		zip_error_fini(&e);
		return why;
	}
	char *why = NULL;
	zip_int64_t n = zip_get_num_entries(z, 0);
	zip_uint64_t total = 0;
	if (n < 0 || n > PHOTOS_MAX_FILES)
		why = g_strdup_printf(_("the photos' zip holds more than %d files"), PHOTOS_MAX_FILES);
	for (zip_int64_t i = 0; i < n && !why; i++) {
		zip_stat_t st;
		if (zip_stat_index(z, (zip_uint64_t)i, 0, &st) != 0 || !(st.valid & ZIP_STAT_NAME) ||
		    !(st.valid & ZIP_STAT_SIZE)) {
			why = g_strdup_printf(_("the photos' zip: entry %lld cannot be read"), (long long)i);
			break;
		}
		const char *name = st.name;
		zip_uint8_t os;
		zip_uint32_t attr;
		bool link = zip_file_get_external_attributes(z, (zip_uint64_t)i, 0, &os, &attr) == 0 &&
		            os == ZIP_OPSYS_UNIX && ((attr >> 16) & S_IFMT) == S_IFLNK;
		bool bad = !*name || name[0] == '/' || strchr(name, '\\') || link ||
		           !g_utf8_validate(name, -1, NULL);
		char **parts = g_strsplit(name, "/", -1);
		for (char **p = parts; *p && !bad; p++)
			if (strcmp(*p, "..") == 0 || strcmp(*p, ".") == 0)
				bad = true;
		g_strfreev(parts);
		if (bad) {
			why = g_strdup_printf(_("the photos' zip: entry '%s' is a link, or its name is "
			                        "absolute or leads out of the folder"), name);
			break;
		}
		total += st.size;
		if (total > PHOTOS_MAX_BYTES) {
			why = g_strdup_printf(_("the photos' zip inflates to more than %d GiB"),
			                      (int)(PHOTOS_MAX_BYTES >> 30));
			break;
		}
		char *target = g_build_filename(dir, name, NULL);
		if (g_str_has_suffix(name, "/")) {
			if (g_mkdir_with_parents(target, 0700) != 0)
				why = g_strdup_printf("%s: %s", name, g_strerror(errno));
			g_free(target);
			continue;
		}
		char *parent = g_path_get_dirname(target);
		int fd = -1;
		if (g_mkdir_with_parents(parent, 0700) == 0)
			fd = g_open(target, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		g_free(parent);
		zip_file_t *zf = fd >= 0 ? zip_fopen_index(z, (zip_uint64_t)i, 0) : NULL;
		if (!zf) {
			why = g_strdup_printf("%s: %s", name, fd < 0 ? g_strerror(errno) : zip_strerror(z));
		} else {
			char buf[65536];
			zip_int64_t got;
			zip_uint64_t written = 0;
			while ((got = zip_fread(zf, buf, sizeof buf)) > 0) {
				written += (zip_uint64_t)got;
				/* never more than the entry says it holds */
				if (written > st.size || write(fd, buf, (size_t)got) != got) {
					why = g_strdup_printf("%s: %s", name, written > st.size
					                      ? _("larger than its header says") : g_strerror(errno));
					break;
				}
			}
			if (got < 0 && !why)
				why = g_strdup_printf("%s: %s", name, zip_file_strerror(zf));
			zip_fclose(zf);
		}
		if (fd >= 0 && close(fd) != 0 && !why)
			why = g_strdup_printf("%s: %s", name, g_strerror(errno));
		g_free(target);
	}
	zip_discard(z);
	return why;
}

static enum MHD_Result load(server *s, struct MHD_Connection *c, request *q)
{
	if (q->too_big) {
		char *m = g_strdup_printf(_("the upload is larger than the limit of %zu MiB"),
		                          s->upload_limit >> 20);
		enum MHD_Result r = refuse(c, MHD_HTTP_CONTENT_TOO_LARGE, m);
		g_free(m);
		return r;
	}
	if (!q->pp)
		return refuse(c, MHD_HTTP_BAD_REQUEST,
		              _("send the data as multipart/form-data or a form (field file or path)"));
	if (q->bad_field)
		return refuse(c, MHD_HTTP_BAD_REQUEST, _("a form field is too long or holds a NUL"));
	if (q->out) {
		bool bad = fclose(q->out) != 0;
		q->out = NULL;
		if (bad)
			q->write_failed = true;
	}
	if (q->write_failed)
		return refuse(c, MHD_HTTP_INTERNAL_SERVER_ERROR, _("cannot store the upload"));
	if (q->photos && !q->file)
		return refuse(c, MHD_HTTP_BAD_REQUEST, _("photos go with an uploaded data file"));
	if (q->photos) {
		char *why = unzip_photos(q->photos, q->dir);
		g_unlink(q->photos);
		if (why) {
			enum MHD_Result r = refuse(c, MHD_HTTP_BAD_REQUEST, why);
			g_free(why);
			return r;
		}
	}
	const char *sheet = q->field[F_SHEET]->len ? q->field[F_SHEET]->str : NULL;
	cp_error *e = NULL;
	if (q->file) {
		if (!console_batch_load(s->cb, q->file, sheet, q->file_name, &e))
			return refuse_error(c, MHD_HTTP_UNPROCESSABLE_CONTENT, e);
		/* The batch is this upload now: the one before goes. */
		if (s->upload_dir)
			rm_rf(s->upload_dir);
		g_free(s->upload_dir);
		s->upload_dir = q->dir;
		q->dir = NULL;
		g_free(s->upload_name);
		s->upload_name = g_strdup(q->file_name);
	} else if (q->field[F_PATH]->len) {
		const char *path = q->field[F_PATH]->str;
		const char *why = path_refused(path);
		if (why) {
			char *m = g_strdup_printf("%s: %s", path, why);
			enum MHD_Result r = refuse(c, MHD_HTTP_BAD_REQUEST, m);
			g_free(m);
			return r;
		}
		if (!console_batch_load(s->cb, path, sheet, path, &e))
			return refuse_error(c, MHD_HTTP_UNPROCESSABLE_CONTENT, e);
	} else {
		return refuse(c, MHD_HTTP_BAD_REQUEST, _("give a data file (field file) or a path"));
	}
	return respond_json(c, MHD_HTTP_OK, console_batch_json(s->cb), NULL);
}

static enum MHD_Result preview(server *s, struct MHD_Connection *c)
{
	const char *rs = mhd.MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "row");
	const char *ms = mhd.MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "mode");
	const char *ds = mhd.MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "dpi");
	long row, dpi = 96;
	if (!rs || !cli_parse_long(rs, 2, CLI_ROW_MAX, &row))
		return refuse(c, MHD_HTTP_BAD_REQUEST,
		              _("row must be a spreadsheet row number (2 or more; row 1 is the header)"));
	int mode = ms ? cp_mode_parse(ms) : CP_MODE_FULL;
	if (mode < 0)
		return refuse(c, MHD_HTTP_BAD_REQUEST, _("mode must be full, fill or electronic"));
	if (ds && !cli_parse_long(ds, PREVIEW_DPI_MIN, PREVIEW_DPI_MAX, &dpi)) {
		char *m = g_strdup_printf(_("dpi must be a whole number from %d to %d"),
		                          PREVIEW_DPI_MIN, PREVIEW_DPI_MAX);
		enum MHD_Result r = refuse(c, MHD_HTTP_BAD_REQUEST, m);
		g_free(m);
		return r;
	}
	unsigned char *png = NULL;
	size_t len = 0;
	cp_error *e = NULL;
	if (!console_batch_preview(s->cb, row, (cp_mode)mode, (double)dpi, &png, &len, &e))
		return refuse_error(c, e->code == CP_E_USAGE ? MHD_HTTP_NOT_FOUND
		                                             : MHD_HTTP_UNPROCESSABLE_CONTENT, e);
	return respond(c, MHD_HTTP_OK, "image/png", png, len, true, NULL);
}

static enum MHD_Result namecut(server *s, struct MHD_Connection *c)
{
	const char *rs = mhd.MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "row");
	long row;
	if (!rs || !cli_parse_long(rs, 2, CLI_ROW_MAX, &row))
		return refuse(c, MHD_HTTP_BAD_REQUEST,
		              _("row must be a spreadsheet row number (2 or more; row 1 is the header)"));
	GBytes *png = console_batch_cutout(s->cb, row);
	if (!png) {
		char *m = g_strdup_printf(_("row %ld has no name cut-out (no printable record)"), row);
		enum MHD_Result r = refuse(c, MHD_HTTP_NOT_FOUND, m);
		g_free(m);
		return r;
	}
	gsize len;
	const void *bytes = g_bytes_get_data(png, &len);
	return respond(c, MHD_HTTP_OK, "image/png", bytes, len, false, NULL);
}

/* A printer's destination as `render --print` takes it: an ipp:// or
 * ipps:// URI, or a CUPS queue's name. NULL when fine, else why not. */
static const char *dest_refused(const char *d)
{
	if (!*d)
		return _("choose a printer (dest): a CUPS queue or an ipp:// address");
	if (strlen(d) > 1024 || !g_utf8_validate(d, -1, NULL))
		return _("the printer's address is too long or not text");
	if (g_str_has_prefix(d, "ipp://") || g_str_has_prefix(d, "ipps://")) {
		for (const char *p = d; *p; p++)
			if ((unsigned char)*p <= ' ')
				return _("the printer's address must not contain spaces");
		return NULL;
	}
	for (const char *p = d; *p; p++)
		if (!g_ascii_isalnum(*p) && !strchr("_.-@", *p))
			return _("a CUPS queue's name has letters, digits, '_', '.', '-' and '@' only");
	if (d[0] == '-' || d[0] == '.')
		return _("a CUPS queue's name must not start with '-' or '.'");
	return NULL;
}

/* Copies the folder from (regular files and folders only; a link is
 * refused) to the new folder to. */
static bool copy_tree(const char *from, const char *to, cp_error **err)
{
	if (g_mkdir(to, 0750) != 0) {
		cp_set_error(err, CP_E_IO, to, 0, 0, NULL, _("cannot create the folder: %s"),
		             g_strerror(errno));
		return false;
	}
	GError *ge = NULL;
	GDir *d = g_dir_open(from, 0, &ge);
	if (!d) {
		cp_set_error(err, CP_E_IO, from, 0, 0, NULL, "%s", ge->message);
		g_error_free(ge);
		return false;
	}
	bool ok = true;
	const char *n;
	while (ok && (n = g_dir_read_name(d))) {
		char *a = g_build_filename(from, n, NULL), *b = g_build_filename(to, n, NULL);
		struct stat st;
		if (lstat(a, &st) != 0 || (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))) {
			cp_set_error(err, CP_E_IO, a, 0, 0, NULL,
			             _("not a regular file or folder: it is not copied"));
			ok = false;
		} else if (S_ISDIR(st.st_mode)) {
			ok = copy_tree(a, b, err);
		} else {
			/* an upload is bounded by --upload-limit: read whole */
			char *bytes = NULL;
			gsize len = 0;
			if (!g_file_get_contents(a, &bytes, &len, &ge) ||
			    !g_file_set_contents_full(b, bytes, (gssize)len,
			                              G_FILE_SET_CONTENTS_CONSISTENT, 0640, &ge)) {
				cp_set_error(err, CP_E_IO, b, 0, 0, NULL, "%s", ge->message);
				g_clear_error(&ge);
				ok = false;
			}
			g_free(bytes);
		}
		g_free(a);
		g_free(b);
	}
	g_dir_close(d);
	return ok;
}

/* A name in the output folder that does not exist yet: PREFIX-DATE-TIME-N
 * followed by ext. */
static char *fresh_output(const server *s, const char *prefix, const char *ext)
{
	GDateTime *now = g_date_time_new_now_local();
	char *stamp = g_date_time_format(now, "%Y%m%d-%H%M%S");
	g_date_time_unref(now);
	char *path = NULL;
	for (unsigned i = 1;; i++) {
		path = g_strdup_printf("%s/%s-%s-%u%s", s->outdir, prefix, stamp, i, ext);
		if (!g_file_test(path, G_FILE_TEST_EXISTS))
			break;
		g_free(path);
	}
	g_free(stamp);
	return path;
}

/* The data file a job renders from: a file loaded by path as it is; an
 * upload (CSV or workbook with its photos, in the private temporary folder
 * that goes when the console stops) copied first into the output folder,
 * so that the ledger's record of the batch's input stays readable for
 * `certpress reprint` and for an auditor. NULL with *err. */
static char *kept_input(const server *s, const char *data, cp_error **err)
{
	size_t nt = strlen(s->tmpdir);
	if (strncmp(data, s->tmpdir, nt) != 0 || data[nt] != '/')
		return g_strdup(data);
	const char *rel = data + nt + 1, *slash = strchr(rel, '/');
	if (!slash)
		return g_strdup(data);
	char *from = g_strndup(data, (size_t)(slash - data));
	char *to = fresh_output(s, "input", "");
	char *kept = NULL;
	if (copy_tree(from, to, err)) {
		kept = g_build_filename(to, slash + 1, NULL);
		/* The upload is stored as "data"; its copy takes the name it was
		 * uploaded with, which batch names are made from. */
		char *named = s->upload_name && strcmp(s->upload_name, "photos") != 0 &&
		                      strcmp(slash + 1, "data") == 0
		                  ? g_build_filename(to, s->upload_name, NULL) : NULL;
		if (named && !g_file_test(named, G_FILE_TEST_EXISTS) && g_rename(kept, named) == 0) {
			g_free(kept);
			kept = named;
			named = NULL;
		}
		g_free(named);
	} else {
		rm_rf(to);
	}
	g_free(from);
	g_free(to);
	return kept;
}

/* POST /api/print: the loaded batch, as `certpress render -o PDF --print
 * DEST` prints it, run as a job. POST /api/electronic (electronic): the
 * signed per-holder PDFs of `render --mode electronic --format pdf -o DIR`,
 * zipped. */
static enum MHD_Result render_job(server *s, struct MHD_Connection *c, request *q,
                                  bool electronic)
{
	const char *dest = q->field[F_DEST]->str, *mode = q->field[F_MODE]->str;
	const char *rows = q->field[F_ROWS]->str, *printer = q->field[F_PRINTER]->str;
	const char *why = electronic ? NULL : dest_refused(dest);
	if (why)
		return refuse(c, MHD_HTTP_BAD_REQUEST, why);
	if (electronic && (*dest || *printer || (*mode && strcmp(mode, "electronic") != 0)))
		return refuse(c, MHD_HTTP_BAD_REQUEST,
		              _("electronic certificates take rows only (no printer, no mode)"));
	if (!electronic && *mode && strcmp(mode, "full") != 0 && strcmp(mode, "fill") != 0)
		return refuse(c, MHD_HTTP_BAD_REQUEST, _("a print's mode is full or fill"));
	if (*rows) {
		cli_rows parsed = {0};
		const char *bad;
		bool fine = cli_rows_parse(rows, &parsed, &bad);
		cli_rows_clear(&parsed);
		if (!fine) {
			char *m = g_strdup_printf(_("--rows '%s': %s"), rows, bad);
			enum MHD_Result r = refuse(c, MHD_HTTP_BAD_REQUEST, m);
			g_free(m);
			return r;
		}
	}
	for (const char *p = printer; *p; p++)
		if (!g_ascii_isalnum(*p) && !strchr("_.-", *p))
			return refuse(c, MHD_HTTP_BAD_REQUEST,
			              _("a printer profile's name has letters, digits, '_', '.' and '-' only"));
	if (printer[0] == '-' || printer[0] == '.')
		return refuse(c, MHD_HTTP_BAD_REQUEST,
		              _("a printer profile's name must not start with '-' or '.'"));
	const char *loaded = console_batch_path(s->cb), *sheet = console_batch_sheet(s->cb);
	if (!loaded)
		return refuse(c, MHD_HTTP_CONFLICT, _("no batch is loaded"));
	if (g_mkdir_with_parents(s->outdir, 0750) != 0) {
		char *m = g_strdup_printf(_("cannot create the output folder %s: %s"), s->outdir,
		                          g_strerror(errno));
		enum MHD_Result r = refuse(c, MHD_HTTP_INTERNAL_SERVER_ERROR, m);
		g_free(m);
		return r;
	}
	cp_error *ke = NULL;
	char *data = kept_input(s, loaded, &ke);
	if (!data)
		return refuse_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, ke);
	GPtrArray *a = g_ptr_array_new();
	const console_opts *o = s->o;
#define ARG(x) g_ptr_array_add(a, g_strdup(x))
	ARG("render");
	ARG("--org"); ARG(o->org);
	ARG("--template"); ARG(o->template_path);
	if (o->font_dir) { ARG("--font-dir"); ARG(o->font_dir); }
	if (o->ledger) { ARG("--ledger"); ARG(o->ledger); }
	if (o->printers_dir) { ARG("--printers-dir"); ARG(o->printers_dir); }
	ARG("--mode"); ARG(electronic ? "electronic" : *mode ? mode : "full");
	if (*rows) { ARG("--rows"); ARG(rows); }
	if (*printer) { ARG("--printer"); ARG(printer); }
	if (sheet) { ARG("--sheet"); ARG(sheet); }
	char *out = NULL, *zip = NULL;
	++s->prints;
	if (electronic) {
		ARG("--format"); ARG("pdf");
		out = fresh_output(s, "electronic", "");
		zip = g_strdup_printf("%s/electronic-%u.zip", s->tmpdir, s->prints);
	} else {
		ARG("--print"); ARG(dest);
		out = fresh_output(s, "print", ".pdf");
	}
	ARG("-o"); ARG(out);
	ARG("--"); ARG(data);
#undef ARG
	g_free(data);
	g_ptr_array_add(a, NULL);
	cp_error *e = NULL;
	int id = console_jobs_start(s->jobs, (char **)g_ptr_array_free(a, FALSE),
	                            electronic ? out : NULL, zip, &e);
	g_free(out);
	g_free(zip);
	if (!id)
		return refuse_error(c, MHD_HTTP_CONFLICT, e);
	char *json = g_strdup_printf("{\"job\":%d}", id);
	enum MHD_Result r = respond_json(c, MHD_HTTP_ACCEPTED, json, NULL);
	g_free(json);
	return r;
}

/* GET /api/job/N/zip: the zip of an electronic job, as a download. */
static enum MHD_Result job_zip(server *s, struct MHD_Connection *c, long n)
{
	char *path = console_jobs_zip(s->jobs, (int)n);
	if (!path)
		return refuse(c, MHD_HTTP_NOT_FOUND, _("this job has no zip (not done, or not electronic)"));
	int fd = g_open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW, 0);
	g_free(path);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		return refuse(c, MHD_HTTP_INTERNAL_SERVER_ERROR, _("cannot read the zip"));
	}
	struct MHD_Response *r = mhd.MHD_create_response_from_fd((uint64_t)st.st_size, fd);
	if (!r) {
		close(fd);
		return MHD_NO;
	}
	secure_headers(r);
	mhd.MHD_add_response_header(r, "Content-Type", "application/zip");
	char *disp = g_strdup_printf("attachment; filename=\"certificates-%ld.zip\"", n);
	mhd.MHD_add_response_header(r, "Content-Disposition", disp);
	g_free(disp);
	enum MHD_Result ok = mhd.MHD_queue_response(c, MHD_HTTP_OK, r);
	mhd.MHD_destroy_response(r);
	return ok;
}

/* GET /api/job/N[?wait=1]: a job's state and messages; wait: once it is
 * done (long poll, at most a minute). */
static enum MHD_Result job_state(server *s, struct MHD_Connection *c, const char *num)
{
	long n;
	const char *slash = strchr(num, '/');
	if (slash && strcmp(slash, "/zip") == 0) {
		char *head = g_strndup(num, (gsize)(slash - num));
		bool fine = cli_parse_long(head, 1, 1000000, &n);
		g_free(head);
		if (!fine)
			return refuse(c, MHD_HTTP_BAD_REQUEST, _("a job's number is a whole number"));
		return job_zip(s, c, n);
	}
	if (!cli_parse_long(num, 1, 1000000, &n))
		return refuse(c, MHD_HTTP_BAD_REQUEST, _("a job's number is a whole number"));
	const char *w = mhd.MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "wait");
	char *json = console_jobs_json(s->jobs, (int)n, w && strcmp(w, "1") == 0, 60);
	if (!json)
		return refuse(c, MHD_HTTP_NOT_FOUND, _("there is no such job"));
	enum MHD_Result r = respond_json(c, MHD_HTTP_OK, json, NULL);
	g_free(json);
	return r;
}

/* --------------------------------------------------------------- ledger */

/* A certificate number or a sheet's serial as the ledger keeps them:
 * letters and digits, at most 64. */
static bool ledger_key_ok(const char *k)
{
	size_t n = strlen(k);
	if (n == 0 || n > 64)
		return false;
	for (const char *p = k; *p; p++)
		if (!g_ascii_isalnum(*p))
			return false;
	return true;
}

/* The console's ledger, when it exists (reading never creates one). */
static cp_ledger *ledger_existing(server *s, char **path_out, cp_error **err)
{
	char *path = s->o->ledger ? g_strdup(s->o->ledger) : cp_ledger_default_path();
	bool exists = cp_ledger_is_server(path) || g_file_test(path, G_FILE_TEST_EXISTS);
	*path_out = path;
	return exists ? cp_ledger_open(s->o->ledger, -1, err) : NULL;
}

/* GET /api/ledger[?cert=NUMBER]: the stock balance now, and one
 * certificate's history (the text of `certpress ledger show`). */
static enum MHD_Result ledger_get(server *s, struct MHD_Connection *c)
{
	const char *cert = mhd.MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "cert");
	if (cert && !ledger_key_ok(cert))
		return refuse(c, MHD_HTTP_BAD_REQUEST,
		              _("a certificate number has letters and digits only (at most 64)"));
	cp_error *e = NULL;
	char *path = NULL;
	cp_ledger *l = ledger_existing(s, &path, &e);
	GString *g = g_string_new("{\"ledger\":");
	cp_report_json_str(g, cp_ledger_is_server(path) ? NULL : path);
	g_free(path);
	if (!l && e) {
		g_string_free(g, TRUE);
		return refuse_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, e);
	}
	if (!l) {
		g_string_append(g, ",\"exists\":false}");
		enum MHD_Result r = respond_json(c, MHD_HTTP_OK, g->str, NULL);
		g_string_free(g, TRUE);
		return r;
	}
	cp_ledger_balance b;
	bool ok = cp_ledger_balance_at(l, NULL, &b, &e);
	char *history = ok && cert ? cp_ledger_history(l, cert, &e) : NULL;
	cp_ledger_free(l);
	if (!ok || (cert && !history)) {
		g_string_free(g, TRUE);
		return refuse_error(c, e->code == CP_E_LEDGER ? MHD_HTTP_NOT_FOUND
		                                              : MHD_HTTP_INTERNAL_SERVER_ERROR, e);
	}
	g_string_append_printf(g, ",\"exists\":true,\"balance\":{\"received\":%" G_GINT64_FORMAT
	                       ",\"issued\":%" G_GINT64_FORMAT ",\"returned\":%" G_GINT64_FORMAT
	                       ",\"spoiled\":%" G_GINT64_FORMAT ",\"destroyed\":%" G_GINT64_FORMAT
	                       ",\"remaining\":%" G_GINT64_FORMAT "}",
	                       (gint64)b.received, (gint64)b.issued, (gint64)b.returned,
	                       (gint64)b.spoiled, (gint64)b.destroyed, (gint64)b.remaining);
	if (history) {
		g_string_append(g, ",\"history\":");
		cp_report_json_str(g, history);
		free(history);
	}
	g_string_append_c(g, '}');
	enum MHD_Result r = respond_json(c, MHD_HTTP_OK, g->str, NULL);
	g_string_free(g, TRUE);
	return r;
}

/* POST /api/ledger/spoil (serial and/or cert_no, reason): `certpress ledger
 * spoil`. */
static enum MHD_Result ledger_spoil(server *s, struct MHD_Connection *c, request *q)
{
	const char *serial = q->field[F_SERIAL]->str, *cert = q->field[F_CERT]->str;
	const char *reason = q->field[F_REASON]->str;
	if ((!*serial && !*cert) || (*serial && !ledger_key_ok(serial)) ||
	    (*cert && !ledger_key_ok(cert)))
		return refuse(c, MHD_HTTP_BAD_REQUEST,
		              _("give the sheet's serial or the certificate number (letters and digits)"));
	if (!*reason || !g_utf8_validate(reason, -1, NULL))
		return refuse(c, MHD_HTTP_BAD_REQUEST, _("--reason is required"));
	cp_error *e = NULL;
	cp_ledger *l = cp_ledger_open(s->o->ledger, -1, &e);
	bool ok = l && cp_ledger_spoil(l, *serial ? serial : NULL, *cert ? cert : NULL, reason, &e);
	cp_ledger_free(l);
	if (!ok)
		return refuse_error(c, e->code == CP_E_LEDGER ? MHD_HTTP_CONFLICT
		                                              : MHD_HTTP_INTERNAL_SERVER_ERROR, e);
	char *line = g_strdup_printf(_("recorded spoiled sheet %s\n"), *serial ? serial : cert);
	g_strchomp(line);
	GString *g = g_string_new("{\"recorded\":");
	cp_report_json_str(g, line);
	g_string_append_c(g, '}');
	g_free(line);
	enum MHD_Result r = respond_json(c, MHD_HTTP_OK, g->str, NULL);
	g_string_free(g, TRUE);
	return r;
}

/* POST /api/ledger/destroy (serial, serial_to for a range, reason):
 * `certpress ledger destroy`: blank, spoiled or returned sheets, all or
 * none. */
static enum MHD_Result ledger_destroy(server *s, struct MHD_Connection *c, request *q)
{
	const char *first = q->field[F_SERIAL]->str, *last = q->field[F_SERIAL_TO]->str;
	const char *reason = q->field[F_REASON]->str;
	if (!*first || !ledger_key_ok(first) || (*last && !ledger_key_ok(last)))
		return refuse(c, MHD_HTTP_BAD_REQUEST,
		              _("give the serial of the sheet, or the first and last of a range "
		                "(letters and digits)"));
	if (!*reason || !g_utf8_validate(reason, -1, NULL))
		return refuse(c, MHD_HTTP_BAD_REQUEST, _("--reason is required"));
	cp_error *e = NULL;
	int64_t n = 0;
	cp_ledger *l = cp_ledger_open(s->o->ledger, -1, &e);
	bool ok = l && cp_ledger_destroy(l, first, *last ? last : NULL, reason, &n, &e);
	cp_ledger_free(l);
	if (!ok)
		return refuse_error(c, e->code == CP_E_LEDGER ? MHD_HTTP_CONFLICT
		                                              : MHD_HTTP_INTERNAL_SERVER_ERROR, e);
	char *line = g_strdup_printf(_("recorded destruction of %" PRId64 " sheets\n"), n);
	g_strchomp(line);
	GString *g = g_string_new("{\"recorded\":");
	cp_report_json_str(g, line);
	g_string_append_printf(g, ",\"count\":%" PRId64 "}", n);
	g_free(line);
	enum MHD_Result r = respond_json(c, MHD_HTTP_OK, g->str, NULL);
	g_string_free(g, TRUE);
	return r;
}

/* -------------------------------------------------------------- routing */

/* A GET, once allowed. */
static enum MHD_Result get(server *s, struct MHD_Connection *c, const char *url,
                           const char *cookie)
{
	const cp_console_asset *a;
	if (strcmp(url, "/") == 0 || strcmp(url, "/index.html") == 0)
		return serve_index(s, c, cookie);
	if (url[0] == '/' && strcmp(url + 1, "index.html") != 0 && (a = asset(url + 1)))
		return respond(c, MHD_HTTP_OK, a->type, a->bytes, a->size, false, cookie);
	if (g_str_has_prefix(url, "/api/job/"))
		return job_state(s, c, url + strlen("/api/job/"));
	if (strcmp(url, "/api/ledger") == 0)
		return ledger_get(s, c);
	enum MHD_Result r;
	g_mutex_lock(&s->lock);
	if (strcmp(url, "/api/batch") == 0)
		r = respond_json(c, MHD_HTTP_OK, console_batch_json(s->cb), cookie);
	else if (strcmp(url, "/api/preview") == 0)
		r = preview(s, c);
	else if (strcmp(url, "/api/namecut") == 0)
		r = namecut(s, c);
	else
		r = refuse(c, MHD_HTTP_NOT_FOUND, url);
	g_mutex_unlock(&s->lock);
	return r;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version,
                              const char *upload_data, size_t *upload_data_size,
                              void **con_cls)
{
	server *s = cls;
	bool post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
	if (!*con_cls) {
		/* The first call: the headers only. Refusals go out before any
		 * body is read. */
		*con_cls = s; /* not NULL: the GET answers below */
		if (!post && strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
		    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
			return refuse(c, MHD_HTTP_METHOD_NOT_ALLOWED, _("only GET and POST"));
		bool set_cookie;
		const char *why = forbidden(s, c, post, &set_cookie);
		if (why)
			return refuse(c, MHD_HTTP_FORBIDDEN, why);
		if (!post) {
			char *cookie = set_cookie ? g_strdup_printf(
				"%s=%s; HttpOnly; SameSite=Strict; Path=/", s->cookie, s->token) : NULL;
			enum MHD_Result r = get(s, c, url, cookie);
			g_free(cookie);
			return r;
		}
		if (strcmp(url, "/api/load") != 0 && strcmp(url, "/api/print") != 0 &&
		    strcmp(url, "/api/electronic") != 0 && strcmp(url, "/api/ledger/spoil") != 0 &&
		    strcmp(url, "/api/ledger/destroy") != 0)
			return refuse(c, MHD_HTTP_NOT_FOUND, url);
		const char *cl = mhd.MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		                                                 MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && g_ascii_strtoull(cl, NULL, 10) > s->upload_limit) {
			char *m = g_strdup_printf(_("the upload is larger than the limit of %zu MiB"),
			                          s->upload_limit >> 20);
			enum MHD_Result r = refuse(c, MHD_HTTP_CONTENT_TOO_LARGE, m);
			g_free(m);
			return r;
		}
		request *q = g_new0(request, 1);
		for (int i = 0; i < F_COUNT; i++)
			q->field[i] = g_string_new(NULL);
		g_mutex_lock(&s->lock);
		q->dir = g_strdup_printf("%s/%u", s->tmpdir, ++s->uploads);
		g_mutex_unlock(&s->lock);
		if (g_mkdir(q->dir, 0700) != 0) {
			g_free(q->dir);
			q->dir = NULL;
		}
		q->pp = mhd.MHD_create_post_processor(c, 64 * 1024, post_field, q);
		*con_cls = q;
		return MHD_YES;
	}
	if (!post)
		return MHD_YES;
	request *q = *con_cls;
	if (*upload_data_size) {
		q->received += *upload_data_size;
		if (q->received > s->upload_limit)
			q->too_big = true;
		if (!q->too_big && q->pp && q->dir &&
		    mhd.MHD_post_process(q->pp, upload_data, *upload_data_size) != MHD_YES)
			q->bad_field = true;
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (!q->dir)
		return refuse(c, MHD_HTTP_INTERNAL_SERVER_ERROR, _("cannot store the upload"));
	enum MHD_Result r;
	g_mutex_lock(&s->lock);
	bool electronic = strcmp(url, "/api/electronic") == 0;
	if (strcmp(url, "/api/ledger/spoil") == 0)
		r = q->too_big || q->bad_field || !q->pp
		    ? refuse(c, MHD_HTTP_BAD_REQUEST, _("a form field is too long or holds a NUL"))
		    : ledger_spoil(s, c, q);
	else if (strcmp(url, "/api/ledger/destroy") == 0)
		r = q->too_big || q->bad_field || !q->pp
		    ? refuse(c, MHD_HTTP_BAD_REQUEST, _("a form field is too long or holds a NUL"))
		    : ledger_destroy(s, c, q);
	else if (electronic || strcmp(url, "/api/print") == 0)
		r = q->too_big || q->bad_field || !q->pp
		    ? refuse(c, MHD_HTTP_BAD_REQUEST, _("a form field is too long or holds a NUL"))
		    : render_job(s, c, q, electronic);
	else
		r = load(s, c, q);
	g_mutex_unlock(&s->lock);
	return r;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
	server *s = cls;
	request *q = *con_cls;
	*con_cls = NULL;
	if (!q || (void *)q == (void *)s)
		return;
	if (q->pp)
		mhd.MHD_destroy_post_processor(q->pp);
	if (q->out)
		fclose(q->out);
	if (q->dir)
		rm_rf(q->dir); /* not loaded: nothing keeps it */
	g_free(q->dir);
	g_free(q->file);
	g_free(q->file_name);
	g_free(q->photos);
	for (int i = 0; i < F_COUNT; i++)
		g_string_free(q->field[i], TRUE);
	g_free(q);
}

/* ----------------------------------------------------------------- run */

int console_run(const console_opts *o)
{
	server s = {.upload_limit = o->upload_limit, .o = o};
	g_mutex_init(&s.lock);
	s.jobs = console_jobs_new();
	cp_error *err = NULL;
	int status = 2;
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	/* Blocked before any thread starts, so that every thread inherits the
	 * mask and the signal waits for sigwait() below. */
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (!random_hex(s.token) || !random_hex(s.csrf)) {
		cp_set_error(&err, CP_E_IO, NULL, 0, 0, NULL, _("no random numbers: %s"),
		             g_strerror(errno));
		goto out;
	}
	GError *ge = NULL;
	s.tmpdir = g_dir_make_tmp("certpress-serve-XXXXXX", &ge);
	if (!s.tmpdir) {
		cp_set_error(&err, CP_E_IO, NULL, 0, 0, NULL, _("cannot create a temporary folder: %s"),
		             ge->message);
		g_error_free(ge);
		goto out;
	}
	if (!cp_lazy_open(&mhd_lib, &err))
		goto out;
	s.outdir = g_canonicalize_filename(o->output_dir, NULL);
	s.cb = console_batch_new(o->org, o->template_path, o->font_dir, &err);
	if (!s.cb)
		goto out;
	if (o->data && !console_batch_load(s.cb, o->data, o->sheet, o->data, &err))
		goto out;

	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)o->port)};
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s.d = mhd.MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
	                           MHD_USE_AUTO, 0, NULL, NULL,
	                           handle, &s,
	                           MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
	                           MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(256 * 1024),
	                           MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)60,
	                           MHD_OPTION_CONNECTION_LIMIT, (unsigned int)64,
	                           MHD_OPTION_NOTIFY_COMPLETED, completed, &s,
	                           MHD_OPTION_END);
	if (!s.d) {
		cp_set_error(&err, CP_E_IO, NULL, 0, 0, NULL,
		             _("cannot listen on 127.0.0.1 port %u: %s"), o->port, g_strerror(errno));
		goto out;
	}
	const union MHD_DaemonInfo *info = mhd.MHD_get_daemon_info(s.d, MHD_DAEMON_INFO_BIND_PORT);
	s.port = info ? info->port : o->port;
	snprintf(s.host_ip, sizeof s.host_ip, "127.0.0.1:%u", s.port);
	snprintf(s.host_name, sizeof s.host_name, "localhost:%u", s.port);
	/* Cookies are shared by every port of a host: one name per console. */
	snprintf(s.cookie, sizeof s.cookie, "certpress_%u", s.port);
	printf("certpress serve: open http://127.0.0.1:%u/?token=%s\n", s.port, s.token);
	fflush(stdout);

	int sig = 0;
	while (sigwait(&stop, &sig) != 0)
		;
	status = 0;
out:
	if (s.d)
		mhd.MHD_stop_daemon(s.d);
	console_jobs_free(s.jobs);
	console_batch_free(s.cb);
	g_mutex_clear(&s.lock);
	if (s.tmpdir)
		rm_rf(s.tmpdir);
	g_free(s.tmpdir);
	g_free(s.outdir);
	g_free(s.upload_name);
	g_free(s.upload_dir);
	if (err)
		status = cli_fail(err);
	return status;
}
