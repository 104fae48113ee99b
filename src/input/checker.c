/* SPDX-License-Identifier: MIT */
/*
 * The checker: every rule of SPEC.md applied to each record of a batch, every
 * problem of a record reported (not only the first), and the printable,
 * normalised values filled in. The field rules themselves live in rules.c;
 * this file adds what needs the batch or the world: the organization's scope
 * (第九条), certificate number uniqueness (第十三条, 一证一号) and the photo
 * file.
 */
#include <errno.h>
#include <stdarg.h>
#include <glib.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "i18n.h"
#include "keyset.h"
#include "input/image.h"
#include "input/profile.h"
#include "input/rules.h"

/* Photo geometry (第十五条, 2021 notice: 1-inch, 25 × 35 mm, i.e. 5:7).
 * The accepted shapes are the sizes 人社 platforms and photo studios hand
 * out: 295 × 413 and 413 × 579 (1 inch at 300 and 420 dpi, 0.71), 390 × 567
 * (0.69), 358 × 441 (the electronic ID photo, 0.81), 413 × 626 (2 inch,
 * 0.66). A photo more than PHOTO_ASPECT_CROP off 5:7 is printed
 * centre-cropped to its box and warned about (docs/rules.md). */
#define PHOTO_ASPECT_MIN 0.65
#define PHOTO_ASPECT_MAX 0.83
#define PHOTO_ASPECT_BOX (5.0 / 7.0)
#define PHOTO_ASPECT_CROP 0.02 /* relative */
#define PHOTO_GOOD_W 295 /* 25 mm at 300 dpi */
#define PHOTO_GOOD_H 413 /* 35 mm at 300 dpi */
#define PHOTO_MIN_W 148  /* 25 mm at 150 dpi */
#define PHOTO_MIN_H 207  /* 35 mm at 150 dpi */
#define PROBLEM_VALUE_MAX_CHARS 120 /* offending values are cut in reports */

/* Where the batch's numbers were first used. cp_keyset_put() numbers the
 * keys of cp_checker.seen in the order they were added; a run gives the
 * row and line of the number it starts with, each of the next numbers one
 * row and one line further, up to the next run's. A batch of one line a
 * row, its numbers all valid, is one run. */
typedef struct first_use {
	size_t from; /* the ordinal of the run's first number */
	long row, line;
} first_use;

struct cp_checker {
	const cp_profile *profile;
	const cp_reader *reader;
	char *data_dir;   /* absolute, symlinks resolved */
	size_t ncolumns;  /* header cells, 0 when there is no reader */
	char *column[CP_FIELD_COUNT]; /* the CSV header of each field */
	cp_photo_policy photos;
	cp_photo_fit fit;
	bool skip_photo_decode; /* cp_checker_decode_photos(c, false) */
	bool defer_decode;      /* cp_checker_defer_photo_decode(c, true) */
	cp_cert_no_ctx cert_ctx;
	/* Certificate numbers of the batch (as normalised, 22 characters): some
	 * 13 bytes a number (src/keyset.h), against 80 in a GHashTable of
	 * strings; the row and line that used each first, as runs. */
	cp_keyset *seen;
	GArray *first_uses; /* first_use, by from */
};

void cp_problems_insert(cp_problems *ps, size_t at, cp_problem p)
{
	if (ps->len == ps->cap) {
		ps->cap = ps->cap ? ps->cap * 2 : 16;
		ps->items = g_renew(cp_problem, ps->items, ps->cap);
	}
	if (at > ps->len)
		at = ps->len;
	memmove(&ps->items[at + 1], &ps->items[at], (ps->len - at) * sizeof *ps->items);
	ps->items[at] = p;
	ps->len++;
}

void cp_problems_clear(cp_problems *ps)
{
	if (!ps)
		return;
	for (size_t i = 0; i < ps->len; i++) {
		g_free(ps->items[i].column);
		g_free(ps->items[i].value);
		g_free(ps->items[i].message);
	}
	g_free(ps->items);
	memset(ps, 0, sizeof *ps);
}

void cp_checker_free(cp_checker *c)
{
	if (!c)
		return;
	g_free(c->data_dir);
	for (int f = 0; f < CP_FIELD_COUNT; f++)
		g_free(c->column[f]);
	cp_keyset_free(c->seen);
	if (c->first_uses)
		g_array_unref(c->first_uses);
	g_free(c);
}

cp_checker *cp_checker_new(const cp_profile *profile, const char *data_dir,
                           const cp_reader *reader, cp_error **err)
{
	if (!profile) {
		cp_set_error(err, CP_E_USAGE, NULL, 0, 0, NULL,
		             _("the checker needs an organization profile"));
		return NULL;
	}
	const char *dir = data_dir ? data_dir : ".";
	char *real = realpath(dir, NULL);
	if (!real) {
		cp_set_error(err, CP_E_IO, dir, 0, 0, NULL,
		             _("cannot open the data folder: %s"), g_strerror(errno));
		return NULL;
	}
	if (!g_file_test(real, G_FILE_TEST_IS_DIR)) {
		cp_set_error(err, CP_E_IO, dir, 0, 0, NULL, _("the data folder is not a folder"));
		free(real);
		return NULL;
	}
	cp_checker *c = g_new0(cp_checker, 1);
	c->profile = profile;
	c->reader = reader;
	c->data_dir = g_strdup(real);
	free(real);
	c->photos = cp_profile_photo_policy(profile);
	c->fit = cp_profile_photo_fit(profile);
	c->cert_ctx.prefix = cp_profile_prefix(profile);
	c->cert_ctx.special_grades = cp_profile_special_grades(profile);
	for (int f = 0; f < CP_FIELD_COUNT; f++) {
		const char *col = reader ? cp_reader_column(reader, (cp_field)f) : NULL;
		c->column[f] = g_strdup(col ? col : cp_field_header((cp_field)f));
	}
	if (reader) {
		cp_reader_header(reader, &c->ncolumns);
		if (c->photos == CP_PHOTO_PRINTED && !cp_reader_column(reader, CP_FIELD_PHOTO)) {
			cp_set_error(err, CP_E_PARSE, cp_reader_path(reader), 1, 0,
			             cp_field_header(CP_FIELD_PHOTO),
			             _("the profile prints photos (photos = printed) but the "
			               "CSV has no %s column (第十五条)"),
			             cp_field_header(CP_FIELD_PHOTO));
			cp_checker_free(c);
			return NULL;
		}
	}
	c->seen = cp_keyset_new(CP_RULES_CERT_NO_BYTES - 1, 0);
	c->first_uses = g_array_new(FALSE, FALSE, sizeof(first_use));
	return c;
}

/* ---------------------------------------------------------------- reports */

/* Records that the number of ordinal k (cp_keyset_put(), just added) is
 * first used by rec. */
static void note_first_use(cp_checker *c, size_t k, const cp_record *rec)
{
	GArray *runs = c->first_uses;
	if (runs->len) {
		const first_use *r = &g_array_index(runs, first_use, runs->len - 1);
		long d = (long)(k - r->from);
		if (rec->row == r->row + d && rec->line == r->line + d)
			return;
	}
	first_use u = {.from = k, .row = rec->row, .line = rec->line};
	g_array_append_val(runs, u);
}

/* The row and line that first used the number of ordinal k. */
static first_use first_use_of(const cp_checker *c, size_t k)
{
	const first_use *runs = (const first_use *)c->first_uses->data;
	size_t lo = 0, hi = c->first_uses->len; /* the last run from k or before */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (runs[mid].from <= k)
			lo = mid;
		else
			hi = mid;
	}
	long d = (long)(k - runs[lo].from);
	return (first_use){.from = k, .row = runs[lo].row + d, .line = runs[lo].line + d};
}

typedef struct ctx {
	cp_checker *c;
	cp_record *rec;
	cp_problems *out;
	size_t errors;
} ctx;

static char *shown_value(int field, const char *raw)
{
	if (!raw)
		return NULL;
	if (field == CP_FIELD_ID_NUMBER)
		return cp_mask_id(raw);
	if (!g_utf8_validate(raw, -1, NULL))
		return g_utf8_make_valid(raw, -1);
	if (g_utf8_strlen(raw, PROBLEM_VALUE_MAX_CHARS * 4 + 4) > PROBLEM_VALUE_MAX_CHARS) {
		char *cut = g_utf8_substring(raw, 0, PROBLEM_VALUE_MAX_CHARS);
		char *s = g_strconcat(cut, "…", NULL);
		g_free(cut);
		return s;
	}
	return g_strdup(raw);
}

/* Appends a problem; message is taken over. */
static void report_take(ctx *x, cp_severity sev, int field, const char *rule,
                        const char *article, char *message)
{
	cp_problems_insert(x->out, x->out->len, (cp_problem){
		.severity = sev,
		.row = x->rec->row,
		.line = x->rec->line,
		.field = field,
		.column = field >= 0 ? g_strdup(x->c->column[field]) : NULL,
		.value = field >= 0 ? shown_value(field, x->rec->raw[field]) : NULL,
		.rule = rule,
		.article = article,
		.message = message,
	});
	x->errors += sev == CP_SEV_ERROR;
}

static void report(ctx *x, cp_severity sev, int field, const char *rule, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void report(ctx *x, cp_severity sev, int field, const char *rule, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *m = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	report_take(x, sev, field, rule, cp_rule_source_of(rule), m);
}

/* Moves the violations of a rule into the problem list. */
static void report_rule(ctx *x, int field, cp_violations *v)
{
	for (size_t i = 0; i < v->len; i++) {
		report_take(x, v->items[i].severity, field, v->items[i].rule,
		            v->items[i].article, v->items[i].message);
		v->items[i].message = NULL;
	}
	v->len = 0;
}

static void set_value(cp_record *rec, cp_field f, char *v)
{
	g_free(rec->value[f]);
	rec->value[f] = v;
}

/* ------------------------------------------------------------------ scope */

/* "电工、焊工、…" for messages, at most 10 names. Free with g_free(). */
static char *scope_list(const cp_profile *p)
{
	GString *g = g_string_new(NULL);
	size_t n = cp_profile_nscopes(p);
	for (size_t i = 0; i < n && i < 10; i++)
		g_string_append_printf(g, "%s%s", i ? "、" : "",
		                       cp_profile_scope_at(p, i)->occupation);
	if (n > 10)
		g_string_append(g, "…");
	return g_string_free(g, FALSE);
}

static void check_scope(ctx *x, const char *occupation, const char *job_type)
{
	cp_record *rec = x->rec;
	const cp_scope *s = cp_profile_scope(x->c->profile, occupation);
	if (!s) {
		char *list = scope_list(x->c->profile);
		report(x, CP_SEV_ERROR, CP_FIELD_OCCUPATION, "scope.occupation",
		       _("occupation %s is not registered in the organization profile "
		         "(registered: %s); printing outside the registered scope is "
		         "forbidden"), occupation, list);
		g_free(list);
		return;
	}
	bool dash = strcmp(job_type, "--") == 0;
	if (s->njob_types == 0) {
		if (!dash)
			report(x, CP_SEV_ERROR, CP_FIELD_JOB_TYPE, "scope.job_type",
			       _("occupation %s is registered without job types; leave the job "
			         "type blank (printed as --)"), s->occupation);
	} else if (dash) {
		char *list = g_strjoinv("、", s->job_types);
		report(x, CP_SEV_ERROR, CP_FIELD_JOB_TYPE, "job_type.missing",
		       _("occupation %s has registered job types (%s); the job type "
		         "cannot be blank or --"), s->occupation, list);
		g_free(list);
	} else if (!cp_scope_has_job_type(s, job_type)) {
		char *list = g_strjoinv("、", s->job_types);
		report(x, CP_SEV_ERROR, CP_FIELD_JOB_TYPE, "scope.job_type",
		       _("job type %s is not registered for occupation %s (registered: %s)"),
		       job_type, s->occupation, list);
		g_free(list);
	}
	if (rec->level >= 1 && rec->level < s->max_level)
		report(x, CP_SEV_ERROR, CP_FIELD_LEVEL, "scope.level",
		       _("level %s is above the highest level registered for %s (%s)"),
		       cp_rule_level_text(rec->level), s->occupation,
		       cp_rule_level_text(s->max_level));
}

/* ------------------------------------------------------------------ photo */

/* Names within this Levenshtein distance (bytes, after case folding) of the
 * wanted one, or with the same stem, are offered as near matches. */
#define PHOTO_NEAR_DISTANCE 2
#define PHOTO_NEAR_MAX 3
#define PHOTO_DIR_SCAN_MAX 100000 /* entries looked at in one folder */

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 255 || lb > 255)
		return SIZE_MAX;
	size_t row[256];
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

static char *stem_of(const char *folded)
{
	const char *dot = strrchr(folded, '.');
	return dot && dot != folded ? g_strndup(folded, (size_t)(dot - folded)) : g_strdup(folded);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "a、b、c" of a name list. Free with g_free(). */
static char *name_list(GPtrArray *names)
{
	GString *g = g_string_new(NULL);
	for (size_t i = 0; i < names->len; i++)
		g_string_append_printf(g, "%s%s", i ? "、" : "", (char *)names->pdata[i]);
	return g_string_free(g, FALSE);
}


/* The entries of dir whose name equals want ignoring case (into same) and,
 * when near is given, the PHOTO_NEAR_MAX closest others (into near), each
 * sorted. */
static void scan_folder(const char *dir, const char *want, GPtrArray *same, GPtrArray *near)
{
	GDir *d = g_dir_open(dir, 0, NULL);
	if (!d)
		return;
	char *fw = g_utf8_casefold(want, -1);
	char *sw = stem_of(fw);
	const char *name;
	for (size_t n = 0; (name = g_dir_read_name(d)) && n < PHOTO_DIR_SCAN_MAX; n++) {
		if (!g_utf8_validate(name, -1, NULL))
			continue;
		char *fn = g_utf8_casefold(name, -1);
		if (strcmp(fn, fw) == 0) {
			g_ptr_array_add(same, g_strdup(name));
		} else if (near) {
			char *sn = stem_of(fn);
			if (strcmp(sn, sw) == 0 || edit_distance(fn, fw) <= PHOTO_NEAR_DISTANCE)
				g_ptr_array_add(near, g_strdup(name));
			g_free(sn);
		}
		g_free(fn);
	}
	g_dir_close(d);
	g_free(fw);
	g_free(sw);
	g_ptr_array_sort(same, cmp_names);
	if (near) {
		g_ptr_array_sort(near, cmp_names);
		if (near->len > PHOTO_NEAR_MAX)
			g_ptr_array_set_size(near, PHOTO_NEAR_MAX);
	}
}

/* Finds rel ('/'-separated, relative, without "..") under the data folder.
 * Spreadsheets are typed on Windows, where names ignore case: a component
 * that is not there as written but matches exactly one entry of its folder
 * ignoring case is taken, and *as_found gets the path as it really is (the
 * caller warns). Anything else is reported as photo.missing, naming the
 * folder searched and the near matches in it. Returns the path to open, or
 * NULL after reporting. *plain says whether every component was found as
 * written and none is a symbolic link: the path is then its own real path
 * (the data folder's is resolved already), and *last is the last
 * component's status. */
static char *find_photo(ctx *x, const char *rel, char **as_found, bool *plain,
                        struct stat *last)
{
	*as_found = NULL;
	*plain = true;
	bool any = false;
	char **parts = g_strsplit(rel, "/", -1);
	GString *found = g_string_new(NULL);
	bool changed = false, ok = true;
	for (size_t i = 0; ok && parts[i]; i++) {
		const char *p = parts[i];
		if (!*p || strcmp(p, ".") == 0)
			continue;
		char *dir = g_build_filename(x->c->data_dir, found->str, NULL);
		char *cand = g_build_filename(dir, p, NULL);
		struct stat st;
		const char *take = p;
		GPtrArray *same = g_ptr_array_new_with_free_func(g_free);
		GPtrArray *near = g_ptr_array_new_with_free_func(g_free);
		if (lstat(cand, &st) == 0) {
			*plain &= !S_ISLNK(st.st_mode);
			*last = st;
			any = true;
		} else {
			*plain = false;
			scan_folder(dir, p, same, near);
			/* shown relative to the data folder, as the spreadsheet has it */
			char *where = found->len ? g_strconcat(found->str, "/", NULL)
			                         : g_strdup(_("the CSV's folder"));
			if (same->len == 1) {
				take = same->pdata[0];
				changed = true;
			} else if (same->len > 1) {
				char *list = name_list(same);
				report(x, CP_SEV_ERROR, CP_FIELD_PHOTO, "photo.missing",
				       _("the photo file cannot be found: there is no %s in %s, "
				         "and several names there differ from it only in case (%s); "
				         "write the name exactly"), p, where, list);
				g_free(list);
				ok = false;
			} else if (near->len) {
				char *list = name_list(near);
				report(x, CP_SEV_ERROR, CP_FIELD_PHOTO, "photo.missing",
				       _("the photo file cannot be found: there is no %s in %s "
				         "(similar names there: %s)"), p, where, list);
				g_free(list);
				ok = false;
			} else {
				report(x, CP_SEV_ERROR, CP_FIELD_PHOTO, "photo.missing",
				       _("the photo file cannot be found: there is no %s in %s"),
				       p, where);
				ok = false;
			}
			g_free(where);
		}
		if (ok)
			g_string_append_printf(found, "%s%s", found->len ? "/" : "", take);
		g_ptr_array_free(same, TRUE);
		g_ptr_array_free(near, TRUE);
		g_free(cand);
		g_free(dir);
	}
	g_strfreev(parts);
	*plain &= any; /* "." alone names the folder itself */
	if (!ok) {
		g_string_free(found, TRUE);
		return NULL;
	}
	char *path = g_build_filename(x->c->data_dir, found->str, NULL);
	if (changed)
		*as_found = g_string_free(found, FALSE);
	else
		g_string_free(found, TRUE);
	return path;
}

static void check_photo_image(ctx *x, const char *real, const struct stat *st);

static void check_photo(ctx *x)
{
	cp_record *rec = x->rec;
	const char *raw = rec->raw[CP_FIELD_PHOTO];
	if (x->c->photos == CP_PHOTO_PASTED)
		return;
	if (rec->photo_picture_problem) {
		report(x, CP_SEV_ERROR, CP_FIELD_PHOTO, "photo.picture", "%s",
		       rec->photo_picture_problem);
		return;
	}
	if (rec->photo_picture) {
		/* pasted into the workbook: taken out by the reader, a file of
		 * its own, not a name from the sheet */
		check_photo_image(x, rec->photo_picture, NULL);
		return;
	}
	if (cp_rule_blank(raw)) {
		report(x, CP_SEV_ERROR, CP_FIELD_PHOTO, "photo.missing",
		       _("the photo is blank, but the profile prints photos "
		         "(photos = printed)"));
		return;
	}
	cp_violations v = {0};
	if (!cp_rule_text(_("the photo file name"), raw, 1000, &v)) {
		report_rule(x, CP_FIELD_PHOTO, &v);
		return;
	}
	char *rel = cp_rule_trim(raw);
	/* Windows paths ("photos\\001.jpg") name the same file. */
	g_strdelimit(rel, "\\", '/');
	/* Photo names come from the spreadsheet, i.e. from outside: they may only
	 * name files inside the data folder. "..", absolute paths and symlinks
	 * leading out are refused before anything is opened. */
	bool dotdot = false;
	char **parts = g_strsplit_set(rel, "/\\", -1);
	for (size_t i = 0; parts[i]; i++)
		dotdot |= strcmp(parts[i], "..") == 0;
	g_strfreev(parts);
	if (g_path_is_absolute(rel) || dotdot ||
	    (g_ascii_isalpha(rel[0]) && rel[1] == ':')) {
		report(x, CP_SEV_ERROR, CP_FIELD_PHOTO, "photo.outside",
		       _("the photo path must be relative to the CSV's folder, without "
		         "'..' or a leading '/'"));
		g_free(rel);
		return;
	}
	char *as_found = NULL;
	bool plain;
	struct stat st;
	char *joined = find_photo(x, rel, &as_found, &plain, &st);
	if (!joined) {
		g_free(rel);
		return;
	}
	if (as_found && x->c->fit == CP_PHOTO_FIT_REFUSE) {
		report(x, CP_SEV_ERROR, CP_FIELD_PHOTO, "photo.case",
		       _("the photo file cannot be found: there is no %s; did you mean %s? "
		         "(the profile takes no name that differs in case: photo_fit = "
		         "refuse)"), rel, as_found);
		g_free(as_found);
		g_free(rel);
		g_free(joined);
		return;
	}
	if (as_found)
		report(x, CP_SEV_WARNING, CP_FIELD_PHOTO, "photo.case",
		       _("the photo file is named %s, not %s (the letters differ in "
		         "case); it was used, but correct the spreadsheet"), as_found, rel);
	g_free(as_found);
	g_free(rel);
	/* A path of plain components found as written is its own real path,
	 * and the status of its last one is the file's: realpath() would look
	 * up each folder on the way again (a system call each, from the root). */
	char *real = joined;
	if (!plain) {
		char *r = realpath(joined, NULL);
		int why = errno;
		g_free(joined);
		real = r ? g_strdup(r) : NULL;
		free(r);
		errno = why;
	}
	if (!real) {
		report(x, CP_SEV_ERROR, CP_FIELD_PHOTO, "photo.missing",
		       _("the photo file cannot be found: %s"), g_strerror(errno));
		return;
	}
	size_t dl = strlen(x->c->data_dir);
	bool inside = strncmp(real, x->c->data_dir, dl) == 0 &&
	              (real[dl] == '/' || (dl == 1 && x->c->data_dir[0] == '/'));
	if (!inside) {
		report(x, CP_SEV_ERROR, CP_FIELD_PHOTO, "photo.outside",
		       _("the photo leads outside the CSV's folder (through a symbolic "
		         "link)"));
		g_free(real);
		return;
	}
	if ((!plain && stat(real, &st) != 0) || !S_ISREG(st.st_mode)) {
		report(x, CP_SEV_ERROR, CP_FIELD_PHOTO, "photo.missing",
		       _("the photo is not a regular file"));
		g_free(real);
		return;
	}
	check_photo_image(x, real, &st);
	g_free(real);
}

/* The image itself, a file or a workbook's picture: shape, resolution, every
 * byte decodable; the value is set when it passes. */
static void check_photo_image(ctx *x, const char *real, const struct stat *st)
{
	cp_record *rec = x->rec;
	cp_error *e = NULL;
	cp_image_info info;
	size_t errors_before = x->errors;
	/* The header first: a far too small or wrongly shaped photo is refused
	 * without decoding it. */
	if (!cp_image_probe_stat(real, st, &info, &e)) {
		report(x, CP_SEV_ERROR, CP_FIELD_PHOTO, "photo.image",
		       _("the photo cannot be read as an image: %s"), e->message);
		cp_error_free(e);
		return;
	}
	if (info.orientation != 1 && x->c->fit == CP_PHOTO_FIT_REFUSE)
		report(x, CP_SEV_ERROR, CP_FIELD_PHOTO, "photo.exif",
		       _("the photo is stored turned (EXIF orientation %d) and shows "
		         "upright only where the tag is read; the profile takes photos "
		         "as stored (photo_fit = refuse): save it upright"),
		       info.orientation);
	else if (info.orientation != 1)
		report(x, CP_SEV_WARNING, CP_FIELD_PHOTO, "photo.exif",
		       _("the photo is stored turned (EXIF orientation %d); it is "
		         "printed upright, as the tag says"), info.orientation);
	double aspect = (double)info.width / info.height;
	if (aspect < PHOTO_ASPECT_MIN || aspect > PHOTO_ASPECT_MAX)
		report(x, CP_SEV_ERROR, CP_FIELD_PHOTO, "photo.aspect",
		       _("the photo is %d × %d pixels (width/height %.2f); a 1-inch "
		         "portrait photo is 25 × 35 mm (%.2f–%.2f)"), info.width,
		       info.height, aspect, PHOTO_ASPECT_MIN, PHOTO_ASPECT_MAX);
	else if (x->c->fit == CP_PHOTO_FIT_REFUSE &&
	         fabs(aspect / PHOTO_ASPECT_BOX - 1) > PHOTO_ASPECT_CROP)
		report(x, CP_SEV_ERROR, CP_FIELD_PHOTO, "photo.aspect",
		       _("the photo is %d × %d pixels (width/height %.2f), not 5:7 "
		         "(%.2f–%.2f); the profile does not crop photos (photo_fit = "
		         "refuse)"), info.width, info.height, aspect,
		       PHOTO_ASPECT_BOX * (1 - PHOTO_ASPECT_CROP),
		       PHOTO_ASPECT_BOX * (1 + PHOTO_ASPECT_CROP));
	else if (aspect > PHOTO_ASPECT_BOX * (1 + PHOTO_ASPECT_CROP)) {
		int keep = (int)lround(info.height * PHOTO_ASPECT_BOX);
		report(x, CP_SEV_WARNING, CP_FIELD_PHOTO, "photo.crop",
		       _("the photo is %d × %d pixels (width/height %.2f, wider than "
		         "5:7); it is printed centre-cropped to %d × %d, %d pixels cut "
		         "from the left and right edges together"), info.width,
		       info.height, aspect, keep, info.height, info.width - keep);
	} else if (aspect < PHOTO_ASPECT_BOX * (1 - PHOTO_ASPECT_CROP)) {
		int keep = (int)lround(info.width / PHOTO_ASPECT_BOX);
		report(x, CP_SEV_WARNING, CP_FIELD_PHOTO, "photo.crop",
		       _("the photo is %d × %d pixels (width/height %.2f, narrower than "
		         "5:7); it is printed centre-cropped to %d × %d, %d pixels cut "
		         "from the top and bottom edges together"), info.width,
		       info.height, aspect, info.width, keep, info.height - keep);
	}
	if (info.width < PHOTO_MIN_W || info.height < PHOTO_MIN_H)
		report(x, CP_SEV_ERROR, CP_FIELD_PHOTO, "photo.resolution",
		       _("the photo is %d × %d pixels, below 150 dpi at 25 × 35 mm "
		         "(%d × %d at least); it would print blurred"), info.width,
		       info.height, PHOTO_MIN_W, PHOTO_MIN_H);
	else if (info.width < PHOTO_GOOD_W || info.height < PHOTO_GOOD_H)
		report(x, CP_SEV_WARNING, CP_FIELD_PHOTO, "photo.resolution",
		       _("the photo is %d × %d pixels, below 300 dpi at 25 × 35 mm "
		         "(%d × %d)"), info.width, info.height, PHOTO_GOOD_W, PHOTO_GOOD_H);
	/* Every byte is decoded (a truncated photo would print half grey), but
	 * no pixels are kept; a file already validated in this process is not
	 * read again. Or later, by cp_checker_decode_photo(). */
	if (!x->c->skip_photo_decode && x->c->defer_decode) {
		rec->photo_decode_due = true;
		rec->photo_decode_at = x->out->len;
		if (x->errors == errors_before)
			set_value(rec, CP_FIELD_PHOTO, g_strdup(real));
		else /* the path is still needed for the decode */
			rec->photo_decode_path = g_strdup(real);
		return;
	}
	if (!x->c->skip_photo_decode && !cp_image_validate(real, NULL, &e)) {
		report(x, CP_SEV_ERROR, CP_FIELD_PHOTO, "photo.image",
		       _("the photo cannot be decoded: %s"), e->message);
		cp_error_free(e);
		return;
	}
	if (x->errors == errors_before)
		set_value(rec, CP_FIELD_PHOTO, g_strdup(real));
}

void cp_checker_decode_photos(cp_checker *c, bool decode)
{
	c->skip_photo_decode = !decode;
}

void cp_checker_defer_photo_decode(cp_checker *c, bool defer)
{
	c->defer_decode = defer;
}

bool cp_checker_decode_photo(const cp_checker *c, cp_record *rec, cp_problems *out)
{
	if (!rec->photo_decode_due)
		return true;
	rec->photo_decode_due = false;
	const char *path = rec->photo_decode_path ? rec->photo_decode_path
	                                          : rec->value[CP_FIELD_PHOTO];
	cp_error *e = NULL;
	bool ok = !path || cp_image_validate(path, NULL, &e);
	g_free(rec->photo_decode_path);
	rec->photo_decode_path = NULL;
	if (ok)
		return true;
	set_value(rec, CP_FIELD_PHOTO, NULL);
	/* report_take()'s problem, put where check_photo_image() was */
	cp_problems_insert(out, rec->photo_decode_at, (cp_problem){
		.severity = CP_SEV_ERROR,
		.row = rec->row,
		.line = rec->line,
		.field = CP_FIELD_PHOTO,
		.column = g_strdup(c->column[CP_FIELD_PHOTO]),
		.value = shown_value(CP_FIELD_PHOTO, rec->raw[CP_FIELD_PHOTO]),
		.rule = "photo.image",
		.article = cp_rule_source_of("photo.image"),
		.message = g_strdup_printf(_("the photo cannot be decoded: %s"), e->message),
	});
	cp_error_free(e);
	return false;
}

/* --------------------------------------------------------------- the check */

static void check_cells(ctx *x)
{
	size_t want = x->c->ncolumns;
	size_t have = x->rec->ncells;
	if (want == 0 || have == want)
		return;
	bool extra_blank = have > want;
	for (size_t i = want; extra_blank && i < have; i++)
		extra_blank = cp_rule_blank(x->rec->cells[i]);
	report(x, extra_blank ? CP_SEV_WARNING : CP_SEV_ERROR, -1, "row.cells",
	       extra_blank ? _("the row has %zu cells but the header has %zu; the "
	                       "extra cells are blank and ignored")
	                   : _("the row has %zu cells but the header has %zu; values "
	                       "may be in the wrong columns"),
	       have, want);
}

/* Trimmed copy of a text field after the text rule; NULL with problems when
 * blank (and required) or bad. */
static char *text_field(ctx *x, cp_field f, const char *label, bool required,
                        const char *rule_missing)
{
	const char *raw = x->rec->raw[f];
	if (cp_rule_blank(raw)) {
		if (required)
			report(x, CP_SEV_ERROR, f, rule_missing,
			       _("%s is blank; every certificate must show it"), label);
		return NULL;
	}
	cp_violations v = {0};
	if (!cp_rule_text(label, raw, CP_RULES_MAX_FIELD_CHARS, &v)) {
		report_rule(x, f, &v);
		return NULL;
	}
	return cp_rule_trim(raw);
}

bool cp_checker_check(cp_checker *c, cp_record *rec, cp_problems *out)
{
	ctx x = {.c = c, .rec = rec, .out = out};
	cp_violations v = {0};
	for (int f = 0; f < CP_FIELD_COUNT; f++)
		set_value(rec, (cp_field)f, NULL);
	rec->level = rec->year = rec->month = rec->day = 0;
	rec->photo_decode_due = false;
	g_free(rec->photo_decode_path);
	rec->photo_decode_path = NULL;

	check_cells(&x);

	/* Issue date and level first: the certificate number and the ID number
	 * are checked against them. */
	char date[CP_RULES_DATE_BYTES];
	if (cp_rule_issue_date(rec->raw[CP_FIELD_ISSUE_DATE], &rec->year, &rec->month,
	                       &rec->day, date, &v))
		set_value(rec, CP_FIELD_ISSUE_DATE, g_strdup(date));
	report_rule(&x, CP_FIELD_ISSUE_DATE, &v);

	if (cp_rule_level(rec->raw[CP_FIELD_LEVEL], &rec->level, &v))
		set_value(rec, CP_FIELD_LEVEL, g_strdup(cp_rule_level_text(rec->level)));
	report_rule(&x, CP_FIELD_LEVEL, &v);

	char *name = cp_rule_name(rec->raw[CP_FIELD_NAME], &v);
	report_rule(&x, CP_FIELD_NAME, &v);
	set_value(rec, CP_FIELD_NAME, name);

	int type = -1;
	if (cp_rule_id_type(rec->raw[CP_FIELD_ID_TYPE], &type, &v))
		set_value(rec, CP_FIELD_ID_TYPE, g_strdup(cp_rule_id_type_name(type)));
	report_rule(&x, CP_FIELD_ID_TYPE, &v);
	if (rec->number[CP_FIELD_ID_NUMBER] && !cp_rule_blank(rec->raw[CP_FIELD_ID_NUMBER])) {
		/* A number cell keeps 15 significant digits: an 18-digit ID
		 * number has lost its last ones, and an X check character
		 * cannot be there at all. Only a text cell holds an ID. */
		report(&x, CP_SEV_ERROR, CP_FIELD_ID_NUMBER, "id_number.excel",
		       _("the workbook stores the ID number as a number, which keeps at "
		         "most 15 digits (the last digits of an 18-digit number are gone); "
		         "format the column as Text, type the numbers again and save"));
	} else if (type >= 0) {
		char id[CP_RULES_ID_BYTES];
		if (cp_rule_id_number((cp_id_type)type, rec->raw[CP_FIELD_ID_NUMBER],
		                      rec->year, rec->month, rec->day, id, &v))
			set_value(rec, CP_FIELD_ID_NUMBER, g_strdup(id));
		report_rule(&x, CP_FIELD_ID_NUMBER, &v);
	} else if (cp_rule_blank(rec->raw[CP_FIELD_ID_NUMBER])) {
		report(&x, CP_SEV_ERROR, CP_FIELD_ID_NUMBER, "id_number.missing",
		       _("the ID number is blank"));
	}

	char *occ = text_field(&x, CP_FIELD_OCCUPATION, _("the occupation"), true,
	                       "occupation.missing");
	char *job = NULL;
	if (cp_rule_blank(rec->raw[CP_FIELD_JOB_TYPE]))
		job = g_strdup("--"); /* 第十二条: never blank on the certificate */
	else
		job = text_field(&x, CP_FIELD_JOB_TYPE, _("the job type"), false, NULL);
	if (occ && job)
		check_scope(&x, occ, job);
	set_value(rec, CP_FIELD_OCCUPATION, occ);
	set_value(rec, CP_FIELD_JOB_TYPE, job);

	cp_cert_no_ctx cctx = c->cert_ctx;
	cctx.year = rec->year;
	cctx.level = rec->level;
	char no[CP_RULES_CERT_NO_BYTES];
	bool no_ok = cp_rule_cert_no(rec->raw[CP_FIELD_CERT_NO], &cctx, no, &v);
	report_rule(&x, CP_FIELD_CERT_NO, &v);
	if (no[0]) {
		size_t k = 0;
		int put = cp_keyset_put(c->seen, no, &k);
		if (put == 0) {
			first_use at = first_use_of(c, k);
			report(&x, CP_SEV_ERROR, CP_FIELD_CERT_NO, "cert_no.duplicate",
			       _("certificate number %s is already used on row %ld (line %ld); "
			         "each certificate has its own number"), no, at.row, at.line);
			no_ok = false;
		} else if (put == 1) {
			note_first_use(c, k, rec);
		}
	}
	if (no_ok)
		set_value(rec, CP_FIELD_CERT_NO, g_strdup(no));

	check_photo(&x);

	if (!cp_rule_blank(rec->raw[CP_FIELD_PRINT_SERIAL]))
		set_value(rec, CP_FIELD_PRINT_SERIAL,
		          text_field(&x, CP_FIELD_PRINT_SERIAL, _("the print serial"), false, NULL));
	return x.errors == 0;
}
