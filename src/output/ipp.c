/* SPDX-License-Identifier: MIT */
/* A PDF to a printer through libcups, followed until the job ends (ipp.h). */
#include "output/ipp.h"

#include <cups/cups.h>
#include <errno.h>
#include <glib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "i18n.h"
#include "lazylib.h"

#define CUPS_FUNCTIONS(X) X(cupsAddOption) X(cupsCancelDestJob) \
	X(cupsCheckDestSupported) X(cupsConnectDest) X(cupsCopyDestInfo) X(cupsCreateDestJob) \
	X(cupsDoRequest) X(cupsFinishDestDocument) X(cupsFreeDestInfo) X(cupsFreeDests) \
	X(cupsFreeOptions) X(cupsGetDestWithURI) X(cupsGetNamedDest) X(cupsGetOption) \
	X(cupsLastErrorString) X(cupsStartDestDocument) X(cupsUser) X(cupsWriteRequestData) \
	X(httpClose) X(httpError) X(httpSeparateURI) X(ippAddInteger) X(ippAddString) \
	X(ippAddStrings) X(ippDelete) X(ippFindAttribute) X(ippGetCount) X(ippGetInteger) \
	X(ippGetStatusCode) X(ippGetString) X(ippNewRequest)
CP_LAZY_LIBRARY(cups, CP_SONAME_CUPS, N_("printing to a printer"), CUPS_FUNCTIONS);

static const char *const state_names[] = {
	[CP_PRINT_UNREACHABLE] = "unreachable", [CP_PRINT_REFUSED] = "refused",
	[CP_PRINT_LOST] = "lost",               [CP_PRINT_INTERRUPTED] = "interrupted",
	[CP_PRINT_CANCELED] = "canceled",       [CP_PRINT_ABORTED] = "aborted",
	[CP_PRINT_COMPLETED] = "completed",
};

const char *cp_print_state_name(cp_print_state s)
{
	return (unsigned)s < G_N_ELEMENTS(state_names) ? state_names[s] : "unknown";
}

void cp_print_result_clear(cp_print_result *res)
{
	if (!res)
		return;
	g_free(res->printer_uri);
	res->printer_uri = NULL;
}

static bool is_uri(const char *dest)
{
	return g_str_has_prefix(dest, "ipp://") || g_str_has_prefix(dest, "ipps://");
}

char *cp_ipp_dest_profile_name(const char *dest)
{
	if (!dest || !*dest)
		return NULL;
	if (!strstr(dest, "://"))
		return g_strdup(dest);
	/* Without libcups the URI is not taken apart; printing says why. */
	if (!cp_lazy_open(&cups_lib, NULL))
		return NULL;
	char scheme[32], user[256], host[256], resource[1024];
	int port = 0;
	if (cups.httpSeparateURI(HTTP_URI_CODING_ALL, dest, scheme, sizeof scheme, user,
	                         sizeof user, host, sizeof host, &port, resource,
	                         sizeof resource) < HTTP_URI_STATUS_OK ||
	    !*host)
		return NULL;
	return g_strdup(host);
}

static void say(const cp_print_opts *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const cp_print_opts *o, const char *fmt, ...)
{
	if (!o->progress)
		return;
	va_list ap;
	va_start(ap, fmt);
	char *line = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	o->progress(o->ud, line);
	g_free(line);
}

static const char *job_state_label(int st)
{
	switch (st) {
	case IPP_JSTATE_PENDING: return _("pending");
	case IPP_JSTATE_HELD: return _("held");
	case IPP_JSTATE_PROCESSING: return _("printing");
	case IPP_JSTATE_STOPPED: return _("stopped (the printer needs attention)");
	case IPP_JSTATE_CANCELED: return _("canceled");
	case IPP_JSTATE_ABORTED: return _("aborted");
	case IPP_JSTATE_COMPLETED: return _("completed");
	default: return _("unknown");
	}
}

/* The printer's own words on the job: job-state-reasons, then
 * job-state-message. Free with g_free(). */
static char *job_reasons(ipp_t *resp)
{
	GString *s = g_string_new(NULL);
	ipp_attribute_t *a = cups.ippFindAttribute(resp, "job-state-reasons", IPP_TAG_KEYWORD);
	for (int i = 0; a && i < cups.ippGetCount(a); i++) {
		const char *r = cups.ippGetString(a, i, NULL);
		if (!r || strcmp(r, "none") == 0)
			continue;
		g_string_append_printf(s, "%s%s", s->len ? ", " : "", r);
	}
	a = cups.ippFindAttribute(resp, "job-state-message", IPP_TAG_TEXT);
	const char *m = a ? cups.ippGetString(a, 0, NULL) : NULL;
	if (m && *m)
		g_string_append_printf(s, "%s%s", s->len ? "; " : "", m);
	return g_string_free(s, false);
}

/* Asks the printer for the job's state. Returns the state (3…9), or 0 when
 * the printer did not answer; *reasons gets the printer's words. */
static int job_state(http_t *http, const char *uri, const char *resource, int job_id,
                     char **reasons)
{
	static const char *const want[] = {"job-state", "job-state-reasons", "job-state-message"};
	ipp_t *req = cups.ippNewRequest(IPP_OP_GET_JOB_ATTRIBUTES);
	cups.ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_URI, "printer-uri", NULL, uri);
	cups.ippAddInteger(req, IPP_TAG_OPERATION, IPP_TAG_INTEGER, "job-id", job_id);
	cups.ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_NAME, "requesting-user-name", NULL,
	                  cups.cupsUser());
	cups.ippAddStrings(req, IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "requested-attributes",
	                   (int)G_N_ELEMENTS(want), NULL, want);
	ipp_t *resp = cups.cupsDoRequest(http, req, resource);
	int st = 0;
	if (resp && cups.ippGetStatusCode(resp) <= IPP_STATUS_OK_CONFLICTING) {
		ipp_attribute_t *a = cups.ippFindAttribute(resp, "job-state", IPP_TAG_ENUM);
		st = a ? cups.ippGetInteger(a, 0) : 0;
		g_free(*reasons);
		*reasons = job_reasons(resp);
	}
	cups.ippDelete(resp);
	return st;
}

/* Refuses an option value the printer says it cannot do. A printer that does
 * not list the attribute at all is trusted with it (many list no
 * print-scaling and print PDF at 100 %). */
static bool supported(http_t *http, cups_dest_t *dest, cups_dinfo_t *info, const char *dname,
                      const char *opt, const char *value, cp_error **err)
{
	if (cups.cupsCheckDestSupported(http, dest, info, opt, NULL) == 0)
		return true;
	if (cups.cupsCheckDestSupported(http, dest, info, opt, value))
		return true;
	cp_set_error(err, CP_E_IO, NULL, 0, 0, NULL,
	             _("the printer %s cannot print with %s=%s, which certificates need"), dname,
	             opt, value);
	return false;
}

static bool is_pdf(const char *path, FILE *f, cp_error **err)
{
	char head[5];
	if (fread(head, 1, 5, f) != 5 || memcmp(head, "%PDF-", 5) != 0) {
		cp_set_error(err, CP_E_USAGE, path, 0, 0, NULL,
		             _("not a PDF file; print sends only the PDF that render wrote"));
		return false;
	}
	rewind(f);
	return true;
}

/* Sends the file as the job's one document. False on any refusal. */
static bool send_document(http_t *http, cups_dest_t *dest, cups_dinfo_t *info, int job_id,
                          const char *docname, FILE *f, const char *path, long size,
                          const cp_print_opts *o, cp_error **err)
{
	if (cups.cupsStartDestDocument(http, dest, info, job_id, docname, CUPS_FORMAT_PDF, 0,
	                               NULL, 1) != HTTP_STATUS_CONTINUE) {
		cp_set_error(err, CP_E_IO, NULL, 0, 0, NULL,
		             _("the printer %s refused the document of job %d: %s"), o->dest, job_id,
		             cups.cupsLastErrorString());
		return false;
	}
	char buf[65536];
	size_t n;
	long sent = 0;
	int last_tenth = -1;
	while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
		if (cups.cupsWriteRequestData(http, buf, n) != HTTP_STATUS_CONTINUE) {
			cups.cupsFinishDestDocument(http, dest, info);
			cp_set_error(err, CP_E_IO, NULL, 0, 0, NULL,
			             _("sending job %d to %s failed: %s"), job_id, o->dest,
			             cups.cupsLastErrorString());
			return false;
		}
		sent += (long)n;
		int tenth = size > 0 ? (int)(sent * 10 / size) : 10;
		if (tenth != last_tenth) {
			last_tenth = tenth;
			say(o, _("job %d: sending %d%%"), job_id, tenth * 10);
		}
	}
	if (ferror(f)) {
		cups.cupsFinishDestDocument(http, dest, info);
		cp_set_error(err, CP_E_IO, path, 0, 0, NULL, _("cannot read the file"));
		return false;
	}
	if (cups.cupsFinishDestDocument(http, dest, info) > IPP_STATUS_OK_CONFLICTING) {
		cp_set_error(err, CP_E_IO, NULL, 0, 0, NULL,
		             _("the printer %s refused job %d: %s"), o->dest, job_id,
		             cups.cupsLastErrorString());
		return false;
	}
	return true;
}

/* Follows the job until its state is final. */
static bool follow(http_t *http, cups_dest_t *dest, const char *uri, const char *resource,
                   const cp_print_opts *o, cp_print_result *res, cp_error **err)
{
	int poll_ms = o->poll_ms > 0 ? o->poll_ms : 250;
	int last = -1, misses = 0;
	char *reasons = NULL;
	bool ok = false;
	for (;;) {
		if (o->cancel && *o->cancel) {
			cups.cupsCancelDestJob(http, dest, res->job_id);
			res->state = CP_PRINT_INTERRUPTED;
			cp_set_error(err, CP_E_INTERRUPTED, NULL, 0, 0, NULL,
			             _("interrupted; job %d at %s was asked to cancel"), res->job_id,
			             o->dest);
			break;
		}
		int st = job_state(http, uri, resource, res->job_id, &reasons);
		if (st == 0) {
			/* The printer went away, or a request failed: a few tries
			 * (libcups reconnects), then the outcome is unknown. */
			if (++misses >= 5) {
				res->state = CP_PRINT_LOST;
				cp_set_error(err, CP_E_IO, NULL, 0, 0, NULL,
				             _("lost contact with the printer %s while following job %d "
				               "(%s); whether it printed is unknown: look at the printer"),
				             o->dest, res->job_id, cups.cupsLastErrorString());
				break;
			}
		} else {
			misses = 0;
			if (st != last) {
				last = st;
				if (reasons && *reasons)
					say(o, _("job %d: %s (%s)"), res->job_id, job_state_label(st), reasons);
				else
					say(o, _("job %d: %s"), res->job_id, job_state_label(st));
			}
			if (st == IPP_JSTATE_COMPLETED) {
				res->state = CP_PRINT_COMPLETED;
				ok = true;
				break;
			}
			if (st == IPP_JSTATE_CANCELED || st == IPP_JSTATE_ABORTED) {
				res->state = st == IPP_JSTATE_CANCELED ? CP_PRINT_CANCELED : CP_PRINT_ABORTED;
				cp_set_error(err, CP_E_IO, NULL, 0, 0, NULL,
				             st == IPP_JSTATE_CANCELED
				                     ? _("job %d at %s was canceled%s%s%s")
				                     : _("job %d at %s was aborted by the printer%s%s%s"),
				             res->job_id, o->dest, reasons && *reasons ? " (" : "",
				             reasons ? reasons : "", reasons && *reasons ? ")" : "");
				break;
			}
		}
		g_usleep((gulong)poll_ms * 1000);
	}
	g_free(reasons);
	return ok;
}

bool cp_ipp_print(const cp_print_opts *o, const char *path, cp_print_result *res,
                  cp_error **err)
{
	memset(res, 0, sizeof *res);
	res->state = CP_PRINT_UNREACHABLE;
	if (!cp_lazy_open(&cups_lib, err))
		return false;
	if (!o->dest || !*o->dest) {
		cp_set_error(err, CP_E_USAGE, NULL, 0, 0, NULL, _("no printer given"));
		return false;
	}
	if (o->copies < 1 || o->copies > 999) {
		cp_set_error(err, CP_E_USAGE, NULL, 0, 0, "copies",
		             _("copies must be from 1 to 999, not %d"), o->copies);
		return false;
	}
	if (strstr(o->dest, "://") && !is_uri(o->dest)) {
		cp_set_error(err, CP_E_USAGE, NULL, 0, 0, NULL,
		             _("printer URI %s: only ipp:// and ipps:// are supported"), o->dest);
		return false;
	}
	FILE *f = fopen(path, "rb");
	if (!f) {
		cp_set_error(err, CP_E_IO, path, 0, 0, NULL, _("cannot open: %s"), g_strerror(errno));
		return false;
	}
	long size = -1;
	if (fseek(f, 0, SEEK_END) == 0)
		size = ftell(f);
	rewind(f);
	if (!is_pdf(path, f, err)) {
		fclose(f);
		return false;
	}

	bool ok = false;
	http_t *http = NULL;
	cups_dinfo_t *info = NULL;
	cups_option_t *opts = NULL;
	int nopts = 0;
	cups_dest_t *dest = is_uri(o->dest)
	                            ? cups.cupsGetDestWithURI(NULL, o->dest)
	                            : cups.cupsGetNamedDest(CUPS_HTTP_DEFAULT, o->dest, NULL);
	if (!dest) {
		cp_set_error(err, CP_E_IO, NULL, 0, 0, NULL,
		             is_uri(o->dest) ? _("printer URI %s is not valid")
		                             : _("there is no printer queue named %s (give a queue "
		                                 "that lpstat -p lists, or an ipp:// URI)"),
		             o->dest);
		goto out;
	}
	const char *uri =
		cups.cupsGetOption("printer-uri-supported", dest->num_options, dest->options);
	if (!uri)
		uri = cups.cupsGetOption("device-uri", dest->num_options, dest->options);
	res->printer_uri = g_strdup(uri ? uri : o->dest);
	say(o, _("connecting to %s"), o->dest);
	char resource[1024];
	http = cups.cupsConnectDest(dest, CUPS_DEST_FLAGS_DEVICE,
	                            o->timeout_ms > 0 ? o->timeout_ms : 30000, NULL, resource,
	                            sizeof resource, NULL, NULL);
	if (!http) {
		cp_set_error(err, CP_E_IO, NULL, 0, 0, NULL,
		             _("cannot reach the printer %s: %s"), o->dest,
		             cups.cupsLastErrorString());
		goto out;
	}
	info = cups.cupsCopyDestInfo(http, dest);
	if (!info && cups.httpError(http)) {
		/* libcups connects lazily: a refused connection shows here. */
		cp_set_error(err, CP_E_IO, NULL, 0, 0, NULL,
		             _("cannot reach the printer %s: %s"), o->dest,
		             g_strerror(cups.httpError(http)));
		goto out;
	}
	if (!info) {
		cp_set_error(err, CP_E_IO, NULL, 0, 0, NULL,
		             _("the printer %s does not answer as an IPP printer: %s"), o->dest,
		             cups.cupsLastErrorString());
		goto out;
	}
	res->state = CP_PRINT_REFUSED;
	char copies[16];
	g_snprintf(copies, sizeof copies, "%d", o->copies);
	if (!supported(http, dest, info, o->dest, "document-format", CUPS_FORMAT_PDF, err) ||
	    !supported(http, dest, info, o->dest, "print-scaling", "none", err) ||
	    !supported(http, dest, info, o->dest, CUPS_MEDIA, CUPS_MEDIA_A4, err) ||
	    !supported(http, dest, info, o->dest, CUPS_SIDES, CUPS_SIDES_ONE_SIDED, err) ||
	    (o->copies > 1 && !supported(http, dest, info, o->dest, CUPS_COPIES, copies, err)))
		goto out;
	nopts = cups.cupsAddOption("print-scaling", "none", nopts, &opts);
	nopts = cups.cupsAddOption(CUPS_MEDIA, CUPS_MEDIA_A4, nopts, &opts);
	nopts = cups.cupsAddOption(CUPS_SIDES, CUPS_SIDES_ONE_SIDED, nopts, &opts);
	nopts = cups.cupsAddOption(CUPS_COPIES, copies, nopts, &opts);

	if (o->cancel && *o->cancel) {
		res->state = CP_PRINT_INTERRUPTED;
		cp_set_error(err, CP_E_INTERRUPTED, NULL, 0, 0, NULL,
		             _("interrupted; nothing was sent to %s"), o->dest);
		goto out;
	}
	char *base = g_path_get_basename(path);
	const char *title = o->title && *o->title ? o->title : base;
	int job_id = 0;
	ipp_status_t st = cups.cupsCreateDestJob(http, dest, info, &job_id, title, nopts, opts);
	if (st > IPP_STATUS_OK_CONFLICTING || job_id <= 0) {
		cp_set_error(err, CP_E_IO, NULL, 0, 0, NULL, _("the printer %s refused the job: %s"),
		             o->dest, cups.cupsLastErrorString());
		g_free(base);
		goto out;
	}
	res->job_id = job_id;
	say(o, _("job %d created at %s"), job_id, o->dest);
	bool sent = send_document(http, dest, info, job_id, base, f, path, size, o, err);
	g_free(base);
	if (!sent) {
		/* Whatever part arrived must not print. */
		cups.cupsCancelDestJob(http, dest, job_id);
		goto out;
	}
	ok = follow(http, dest, res->printer_uri, resource, o, res, err);
out:
	cups.cupsFreeOptions(nopts, opts);
	cups.cupsFreeDestInfo(info);
	if (http)
		cups.httpClose(http);
	cups.cupsFreeDests(dest ? 1 : 0, dest);
	fclose(f);
	return ok;
}
