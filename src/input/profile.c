/* SPDX-License-Identifier: MIT */
/*
 * The organization profile: who prints (registered name, certificate number
 * prefix), what it may certify (scope, 第九条) and how (photos, seal, QR).
 * Every key is validated with file:line:key errors; unknown keys are errors.
 */
#include "input/profile.h"

#include <errno.h>
#include <glib.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "input/conf.h"
#include "error.h"
#include "i18n.h"
#include "input/rules.h"

struct cp_profile {
	char *path;
	char *name;
	char prefix[14];
	bool special_grades;
	char *seal;          /* absolute, or NULL */
	char *qr;            /* pattern */
	cp_photo_policy photos;
	cp_fallback_policy fallback;
	cp_photo_fit photo_fit;
	char *province_url;  /* or NULL */
	char *sign_cert;     /* [signing], absolute, or NULL */
	char *sign_key;
	char *sign_pass;     /* passphrase file, absolute, or NULL */
	bool names_only;     /* [signing] files may not exist yet (keys new) */
	cp_scope *scopes;
	size_t nscopes;
	GHashTable *by_occupation; /* occupation → cp_scope*, borrowed */
};

static void scope_clear(cp_scope *s)
{
	g_free(s->occupation);
	g_strfreev(s->job_types);
}

void cp_profile_free(cp_profile *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nscopes; i++)
		scope_clear(&p->scopes[i]);
	g_free(p->scopes);
	if (p->by_occupation)
		g_hash_table_destroy(p->by_occupation);
	g_free(p->path);
	g_free(p->name);
	g_free(p->seal);
	g_free(p->qr);
	g_free(p->province_url);
	g_free(p->sign_cert);
	g_free(p->sign_key);
	g_free(p->sign_pass);
	g_free(p);
}

/* Turns the first error of a rule into a file:line:key error. */
static bool rule_error(const cp_conf *c, long line, const char *key,
                       cp_violations *v, cp_error **err)
{
	bool ok = cp_violations_errors(v) == 0;
	for (size_t i = 0; !ok && i < v->len; i++) {
		if (v->items[i].severity == CP_SEV_ERROR) {
			cp_set_error(err, CP_E_PARSE, c->path, line, 0, key, "%s (%s)",
			             v->items[i].message, v->items[i].article
			                     ? v->items[i].article : v->items[i].rule);
			break;
		}
	}
	cp_violations_clear(v);
	return ok;
}

/* The shared format has whole-line comments only; a '#' after a blank inside a
 * value is almost certainly a comment someone expected to be stripped, and
 * would otherwise end up printed on certificates. */
static bool no_inline_comment(const cp_conf *c, const cp_conf_section *s,
                              cp_error **err)
{
	for (size_t i = 0; i < s->nentries; i++) {
		const char *v = s->entries[i].value;
		if (strstr(v, " #") || strstr(v, "\t#")) {
			cp_set_error(err, CP_E_PARSE, c->path, s->entries[i].line, 0,
			             s->entries[i].key,
			             _("the value contains ' #': comments must stand on "
			               "their own line"));
			return false;
		}
	}
	return true;
}

/* A PNG whose pixels can be transparent (alpha channel or tRNS), read with
 * libpng up to the image header only. */
static bool seal_check(const char *path, char **why)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		*why = g_strdup_printf(_("cannot open the seal image %s"), path);
		return false;
	}
	unsigned char sig[8];
	if (fread(sig, 1, sizeof sig, f) != sizeof sig || png_sig_cmp(sig, 0, sizeof sig)) {
		fclose(f);
		*why = g_strdup_printf(_("the seal image %s is not a PNG file"), path);
		return false;
	}
	png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	png_infop info = png ? png_create_info_struct(png) : NULL;
	if (!info) {
		png_destroy_read_struct(&png, NULL, NULL);
		fclose(f);
		*why = g_strdup(_("out of memory reading the seal image"));
		return false;
	}
	volatile bool ok = false;
	if (setjmp(png_jmpbuf(png)) == 0) {
		png_init_io(png, f);
		png_set_sig_bytes(png, sizeof sig);
		png_read_info(png, info);
		int ct = png_get_color_type(png, info);
		ok = (ct & PNG_COLOR_MASK_ALPHA) || png_get_valid(png, info, PNG_INFO_tRNS);
		if (!ok)
			*why = g_strdup_printf(_("the seal image %s has no transparency "
			                         "(alpha); the text under the seal would be "
			                         "hidden"), path);
	} else {
		*why = g_strdup_printf(_("the seal image %s is a damaged PNG file"), path);
	}
	png_destroy_read_struct(&png, &info, NULL);
	fclose(f);
	return ok;
}

/* Placeholders of the qr pattern. */
static const char *const qr_keys[] = {"cert_no", "name", "org"};

/* Substitutes placeholders; values are URL-escaped when the pattern is a URL.
 * Returns NULL with *bad set to the offending offset on a malformed pattern. */
static char *qr_expand(const char *pattern, const char *const vals[3], long *bad)
{
	bool url = strstr(pattern, "://") != NULL;
	GString *g = g_string_new(NULL);
	for (const char *p = pattern; *p;) {
		if (*p == '}') {
			*bad = p - pattern;
			goto fail;
		}
		if (*p != '{') {
			g_string_append_c(g, *p++);
			continue;
		}
		const char *close = strchr(p, '}');
		size_t i;
		for (i = 0; close && i < G_N_ELEMENTS(qr_keys); i++) {
			size_t n = strlen(qr_keys[i]);
			if ((size_t)(close - p - 1) == n && strncmp(p + 1, qr_keys[i], n) == 0)
				break;
		}
		if (!close || i == G_N_ELEMENTS(qr_keys)) {
			*bad = p - pattern;
			goto fail;
		}
		const char *val = vals[i] ? vals[i] : "";
		if (url) {
			char *e = g_uri_escape_string(val, NULL, FALSE);
			g_string_append(g, e);
			g_free(e);
		} else {
			g_string_append(g, val);
		}
		p = close + 1;
	}
	return g_string_free(g, FALSE);
fail:
	g_string_free(g, TRUE);
	return NULL;
}

static bool is_http_url(const char *s)
{
	return g_str_has_prefix(s, "http://") || g_str_has_prefix(s, "https://");
}

static bool load_qr(cp_profile *p, const cp_conf *c, const cp_conf_section *s,
                    cp_error **err)
{
	const cp_conf_entry *e = cp_conf_find(s, "qr");
	if (!e || !*e->value) {
		p->qr = g_strdup(CP_PROFILE_DEFAULT_QR);
		return true;
	}
	const char *pat = e->value;
	if (strlen(pat) > CP_PROFILE_MAX_PATTERN) {
		cp_set_error(err, CP_E_PARSE, c->path, e->line, 0, "qr",
		             _("the QR pattern is longer than %d bytes"),
		             CP_PROFILE_MAX_PATTERN);
		return false;
	}
	if (!strstr(pat, "{cert_no}")) {
		cp_set_error(err, CP_E_PARSE, c->path, e->line, 0, "qr",
		             _("the QR pattern must contain {cert_no}: the code links the "
		               "certificate to the query service"));
		return false;
	}
	static const char *const sample[3] = {"Y000123000001195000001", "张三", "示例"};
	long bad = -1;
	char *x = qr_expand(pat, sample, &bad);
	if (!x) {
		cp_set_error(err, CP_E_PARSE, c->path, e->line, 0, "qr",
		             _("unknown placeholder or stray brace at byte %ld of the QR "
		               "pattern; the placeholders are {cert_no}, {name} and {org}"),
		             bad + 1);
		return false;
	}
	bool ok = !is_http_url(x) || g_uri_is_valid(x, G_URI_FLAGS_NONE, NULL);
	g_free(x);
	if (!ok) {
		cp_set_error(err, CP_E_PARSE, c->path, e->line, 0, "qr",
		             _("the QR pattern is not a valid URL"));
		return false;
	}
	/* Values are escaped into the URL, which keeps a path, query or
	 * fragment valid whatever a record holds, but not a host: there the
	 * sample above may pass where a real name would not (found by
	 * fuzz_profile: qr = http://{name}{cert_no}). */
	if (is_http_url(pat)) {
		const char *auth = strstr(pat, "://") + 3;
		const char *brace = memchr(auth, '{', strcspn(auth, "/?#"));
		if (brace) {
			cp_set_error(err, CP_E_PARSE, c->path, e->line, 0, "qr",
			             _("a placeholder at byte %ld stands in the host part of "
			               "the QR URL; placeholders belong in its path or query"),
			             (long)(brace - pat) + 1);
			return false;
		}
	}
	p->qr = g_strdup(pat);
	return true;
}

static bool load_organization(cp_profile *p, const cp_conf *c,
                              const cp_conf_section *s, cp_error **err)
{
	cp_violations v = {0};
	const char *name = cp_conf_require(c, s, "name", err);
	if (!name)
		return false;
	long line = cp_conf_find(s, "name")->line;
	cp_rule_text(_("the organization name"), name, CP_RULES_MAX_FIELD_CHARS, &v);
	if (!rule_error(c, line, "name", &v, err))
		return false;
	p->name = g_strdup(name);

	const char *prefix = cp_conf_require(c, s, "cert_prefix", err);
	if (!prefix)
		return false;
	line = cp_conf_find(s, "cert_prefix")->line;
	cp_rule_cert_prefix(prefix, &v);
	if (!rule_error(c, line, "cert_prefix", &v, err))
		return false;
	memcpy(p->prefix, prefix, 14);

	if (!cp_conf_bool(c, s, "special_grades", false, &p->special_grades, err))
		return false;
	if (p->special_grades && p->prefix[0] != 'Y') {
		cp_set_error(err, CP_E_PARSE, c->path, cp_conf_find(s, "special_grades")->line,
		             0, "special_grades",
		             _("only employers (cert_prefix starting with Y) may award "
		               "特级技师/首席技师 (第七条)"));
		return false;
	}

	const cp_conf_entry *e = cp_conf_find(s, "seal");
	if (e && *e->value) {
		char *rel = cp_conf_resolve(c, e->value);
		p->seal = g_canonicalize_filename(rel, NULL);
		g_free(rel);
		char *why = NULL;
		if (!g_file_test(p->seal, G_FILE_TEST_IS_REGULAR)) {
			cp_set_error(err, CP_E_PARSE, c->path, e->line, 0, "seal",
			             _("the seal image %s does not exist or is not a file"),
			             p->seal);
			return false;
		}
		if (!seal_check(p->seal, &why)) {
			cp_set_error(err, CP_E_PARSE, c->path, e->line, 0, "seal", "%s", why);
			g_free(why);
			return false;
		}
	}

	if (!load_qr(p, c, s, err))
		return false;

	static const char *const photos[] = {"printed", "pasted", NULL};
	int ph = CP_PHOTO_PRINTED;
	if (!cp_conf_choice(c, s, "photos", false, photos, &ph, err))
		return false;
	p->photos = ph == 1 ? CP_PHOTO_PASTED : CP_PHOTO_PRINTED;
	static const char *const fits[] = {"crop", "refuse", NULL};
	int fit = CP_PHOTO_FIT_CROP;
	if (!cp_conf_choice(c, s, "photo_fit", false, fits, &fit, err))
		return false;
	p->photo_fit = fit == 1 ? CP_PHOTO_FIT_REFUSE : CP_PHOTO_FIT_CROP;

	static const char *const fallbacks[] = {"warn", "refuse", NULL};
	int fb = CP_FALLBACK_WARN;
	if (!cp_conf_choice(c, s, "font_fallback", false, fallbacks, &fb, err))
		return false;
	p->fallback = fb == 1 ? CP_FALLBACK_REFUSE : CP_FALLBACK_WARN;

	e = cp_conf_find(s, "province_query_url");
	if (e && *e->value) {
		if (!is_http_url(e->value) ||
		    !g_uri_is_valid(e->value, G_URI_FLAGS_NONE, NULL)) {
			cp_set_error(err, CP_E_PARSE, c->path, e->line, 0, "province_query_url",
			             _("not a valid http:// or https:// URL"));
			return false;
		}
		p->province_url = g_strdup(e->value);
	}
	return cp_conf_check_unused(c, s, err);
}

/* Splits a job type list on ',' '、' '，'. */
static bool load_job_types(cp_scope *sc, const cp_conf *c, const cp_conf_entry *e,
                           cp_error **err)
{
	sc->job_types = g_new0(char *, 1);
	if (!e)
		return true;
	char *trimmed = cp_rule_trim(e->value);
	bool none = *trimmed == '\0' || strcmp(trimmed, "--") == 0;
	g_free(trimmed);
	if (none)
		return true;
	GPtrArray *a = g_ptr_array_new();
	char *list = g_strdup(e->value);
	/* Map the Chinese separators onto ',' (both are 3 bytes in UTF-8, so
	 * replace them with ",  " and let trimming eat the padding). */
	for (char *q; (q = strstr(list, "、")) || (q = strstr(list, "，"));)
		memcpy(q, ",  ", 3);
	char **parts = g_strsplit(list, ",", -1);
	g_free(list);
	bool ok = true;
	cp_violations v = {0};
	for (size_t i = 0; ok && parts[i]; i++) {
		char *t = cp_rule_trim(parts[i]);
		if (!*t) {
			cp_set_error(err, CP_E_PARSE, c->path, e->line, 0, "job_types",
			             _("empty job type in the list (item %zu)"), i + 1);
			ok = false;
		} else if (strcmp(t, "--") == 0) {
			cp_set_error(err, CP_E_PARSE, c->path, e->line, 0, "job_types",
			             _("'--' means the occupation has no job types; it cannot "
			               "stand beside other job types"));
			ok = false;
		} else if (!cp_rule_text(_("the job type"), t, CP_RULES_MAX_FIELD_CHARS, &v)) {
			ok = rule_error(c, e->line, "job_types", &v, err);
		} else {
			for (size_t j = 0; ok && j < a->len; j++) {
				if (strcmp(a->pdata[j], t) == 0) {
					cp_set_error(err, CP_E_PARSE, c->path, e->line, 0,
					             "job_types", _("job type %s is listed twice"), t);
					ok = false;
				}
			}
		}
		if (ok && a->len >= CP_PROFILE_MAX_JOB_TYPES) {
			cp_set_error(err, CP_E_PARSE, c->path, e->line, 0, "job_types",
			             _("more than %d job types"), CP_PROFILE_MAX_JOB_TYPES);
			ok = false;
		}
		if (ok)
			g_ptr_array_add(a, t);
		else
			g_free(t);
	}
	cp_violations_clear(&v);
	g_strfreev(parts);
	g_ptr_array_add(a, NULL);
	g_free(sc->job_types);
	sc->njob_types = a->len - 1;
	sc->job_types = (char **)g_ptr_array_free(a, FALSE);
	return ok;
}

static bool load_scope(cp_profile *p, const cp_conf *c, const cp_conf_section *s,
                       cp_error **err)
{
	if (!s->name) {
		cp_set_error(err, CP_E_PARSE, c->path, s->line, 0, NULL,
		             _("[scope] needs the registered occupation name: "
		               "[scope 电工]"));
		return false;
	}
	if (p->nscopes >= CP_PROFILE_MAX_SCOPES) {
		cp_set_error(err, CP_E_PARSE, c->path, s->line, 0, NULL,
		             _("more than %d [scope] sections"), CP_PROFILE_MAX_SCOPES);
		return false;
	}
	cp_violations v = {0};
	cp_rule_text(_("the occupation name"), s->name, CP_RULES_MAX_FIELD_CHARS, &v);
	if (!rule_error(c, s->line, NULL, &v, err))
		return false;
	for (size_t i = 0; i < p->nscopes; i++) {
		if (strcmp(p->scopes[i].occupation, s->name) == 0) {
			cp_set_error(err, CP_E_PARSE, c->path, s->line, 0, NULL,
			             _("occupation %s has a second [scope] section (first on "
			               "line %ld)"), s->name, p->scopes[i].line);
			return false;
		}
	}
	cp_scope *sc = &p->scopes[p->nscopes++];
	sc->occupation = g_strdup(s->name);
	sc->line = s->line;
	if (!load_job_types(sc, c, cp_conf_find(s, "job_types"), err))
		return false;
	const char *lv = cp_conf_require(c, s, "max_level", err);
	if (!lv)
		return false;
	sc->max_level = cp_rule_level_parse(lv);
	if (!sc->max_level) {
		cp_set_error(err, CP_E_PARSE, c->path, cp_conf_find(s, "max_level")->line, 0,
		             "max_level",
		             _("'%s' is not a skill level (5/五级/初级工 … 1/一级/高级技师)"),
		             lv);
		return false;
	}
	return cp_conf_check_unused(c, s, err);
}

/* A file named in [signing]: absolute, a regular file (unless only the
 * names are asked for: `keys new` makes the files the profile names). */
static char *signing_file(const cp_conf *c, const cp_conf_section *s, const char *key,
                          bool required, bool names_only, cp_error **err)
{
	const cp_conf_entry *e = cp_conf_find(s, key);
	if (!e || !*e->value) {
		if (required)
			cp_set_error(err, CP_E_PARSE, c->path, s->line, 0, key,
			             _("[signing] needs '%s = FILE'"), key);
		return NULL;
	}
	char *rel = cp_conf_resolve(c, e->value);
	char *abs = g_canonicalize_filename(rel, NULL);
	g_free(rel);
	if (!names_only && !g_file_test(abs, G_FILE_TEST_IS_REGULAR)) {
		cp_set_error(err, CP_E_PARSE, c->path, e->line, 0, key,
		             _("%s does not exist or is not a file"), abs);
		g_free(abs);
		return NULL;
	}
	return abs;
}

bool cp_profile_secret_file_ok(const char *path, cp_error **err)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		cp_set_error(err, CP_E_IO, path, 0, 0, NULL, _("cannot open: %s"),
		             g_strerror(errno));
		return false;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		cp_set_error(err, CP_E_PARSE, path, 0, 0, NULL,
		             _("the private key file is readable by others (mode %04o); "
		               "make it private with: chmod 600 %s"),
		             (unsigned)(st.st_mode & 07777), path);
		return false;
	}
	return true;
}

/* [signing]: the seal's certificate and private key (the electronic seal is
 * a digital signature). Only the names are kept here; src/trust/ reads them. */
static bool load_signing(cp_profile *p, const cp_conf *c, const cp_conf_section *s,
                         cp_error **err)
{
	if (s->name) {
		cp_set_error(err, CP_E_PARSE, c->path, s->line, 0, NULL,
		             _("[signing] takes no name"));
		return false;
	}
	if (p->sign_cert) {
		cp_set_error(err, CP_E_PARSE, c->path, s->line, 0, NULL,
		             _("a second [signing] section"));
		return false;
	}
	p->sign_cert = signing_file(c, s, "certificate", true, p->names_only, err);
	if (!p->sign_cert)
		return false;
	p->sign_key = signing_file(c, s, "key", true, p->names_only, err);
	if (!p->sign_key)
		return false;
	cp_error *e2 = NULL;
	if (p->names_only) {
		/* keys new: only where the files go matters. */
	} else if (!cp_profile_secret_file_ok(p->sign_key, &e2)) {
		cp_set_error(err, e2->code, c->path, cp_conf_find(s, "key")->line, 0, "key", "%s",
		             e2->message);
		cp_error_free(e2);
		return false;
	}
	if (cp_conf_find(s, "passphrase_file")) {
		p->sign_pass = signing_file(c, s, "passphrase_file", true, p->names_only, err);
		if (!p->sign_pass)
			return false;
		if (!p->names_only && !cp_profile_secret_file_ok(p->sign_pass, &e2)) {
			cp_set_error(err, e2->code, c->path, cp_conf_find(s, "passphrase_file")->line,
			             0, "passphrase_file", "%s", e2->message);
			cp_error_free(e2);
			return false;
		}
	}
	return cp_conf_check_unused(c, s, err);
}

const char *cp_profile_signing_certificate(const cp_profile *p)
{
	return p->sign_cert;
}

const char *cp_profile_signing_key(const cp_profile *p)
{
	return p->sign_key;
}

const char *cp_profile_signing_passphrase_file(const cp_profile *p)
{
	return p->sign_pass;
}

cp_profile *cp_profile_load(const char *path, cp_error **err)
{
	return cp_profile_load_ex(path, false, err);
}

cp_profile *cp_profile_load_ex(const char *path, bool signing_names_only, cp_error **err)
{
	cp_conf *c = cp_conf_load(path, err);
	if (!c)
		return NULL;
	cp_profile *p = g_new0(cp_profile, 1);
	p->path = g_strdup(path);
	p->names_only = signing_names_only;
	p->scopes = g_new0(cp_scope, MIN(c->nsections, (size_t)CP_PROFILE_MAX_SCOPES));
	p->by_occupation = g_hash_table_new(g_str_hash, g_str_equal);
	const cp_conf_section *org = NULL;
	for (size_t i = 0; i < c->nsections; i++) {
		const cp_conf_section *s = &c->sections[i];
		if (!no_inline_comment(c, s, err))
			goto fail;
		if (strcmp(s->kind, "organization") == 0) {
			if (org) {
				cp_set_error(err, CP_E_PARSE, c->path, s->line, 0, NULL,
				             _("a second [organization] section (first on "
				               "line %ld)"), org->line);
				goto fail;
			}
			if (s->name) {
				cp_set_error(err, CP_E_PARSE, c->path, s->line, 0, NULL,
				             _("[organization] takes no name"));
				goto fail;
			}
			org = s;
			if (!load_organization(p, c, s, err))
				goto fail;
		} else if (strcmp(s->kind, "scope") == 0) {
			if (!load_scope(p, c, s, err))
				goto fail;
		} else if (strcmp(s->kind, "signing") == 0) {
			if (!load_signing(p, c, s, err))
				goto fail;
		} else {
			cp_set_error(err, CP_E_PARSE, c->path, s->line, 0, NULL,
			             _("unknown section [%s]; a profile has [organization], "
			               "[scope OCCUPATION] and [signing] sections"), s->kind);
			goto fail;
		}
	}
	if (!org) {
		cp_set_error(err, CP_E_PARSE, c->path, 0, 0, NULL,
		             _("the profile has no [organization] section"));
		goto fail;
	}
	if (p->nscopes == 0) {
		cp_set_error(err, CP_E_PARSE, c->path, 0, 0, NULL,
		             _("the profile registers no occupation: add a [scope "
		               "OCCUPATION] section for each (第九条)"));
		goto fail;
	}
	for (size_t i = 0; i < p->nscopes; i++)
		g_hash_table_insert(p->by_occupation, p->scopes[i].occupation, &p->scopes[i]);
	cp_conf_free(c);
	return p;
fail:
	cp_conf_free(c);
	cp_profile_free(p);
	return NULL;
}

const char *cp_profile_name(const cp_profile *p)
{
	return p->name;
}

const char *cp_profile_prefix(const cp_profile *p)
{
	return p->prefix;
}

const char *cp_profile_seal_path(const cp_profile *p)
{
	return p->seal;
}

cp_fallback_policy cp_profile_fallback_policy(const cp_profile *p)
{
	return p->fallback;
}

cp_photo_policy cp_profile_photo_policy(const cp_profile *p)
{
	return p->photos;
}

cp_photo_fit cp_profile_photo_fit(const cp_profile *p)
{
	return p->photo_fit;
}

const char *cp_profile_province_url(const cp_profile *p)
{
	return p->province_url;
}

const char *cp_profile_qr_pattern(const cp_profile *p)
{
	return p->qr;
}

const char *cp_profile_path(const cp_profile *p)
{
	return p->path;
}

char cp_profile_category(const cp_profile *p)
{
	return p->prefix[0];
}

bool cp_profile_special_grades(const cp_profile *p)
{
	return p->special_grades;
}

size_t cp_profile_nscopes(const cp_profile *p)
{
	return p->nscopes;
}

const cp_scope *cp_profile_scope_at(const cp_profile *p, size_t i)
{
	return i < p->nscopes ? &p->scopes[i] : NULL;
}

const cp_scope *cp_profile_scope(const cp_profile *p, const char *occupation)
{
	if (!occupation)
		return NULL;
	const cp_scope *s = g_hash_table_lookup(p->by_occupation, occupation);
	if (s)
		return s;
	char *t = cp_rule_trim(occupation);
	s = g_hash_table_lookup(p->by_occupation, t);
	g_free(t);
	return s;
}

bool cp_scope_has_job_type(const cp_scope *s, const char *job_type)
{
	for (size_t i = 0; job_type && i < s->njob_types; i++)
		if (strcmp(s->job_types[i], job_type) == 0)
			return true;
	return false;
}

char *cp_profile_qr_content(const cp_profile *p, const cp_record *rec)
{
	const char *vals[3] = {
		rec->value[CP_FIELD_CERT_NO] ? rec->value[CP_FIELD_CERT_NO]
		                             : rec->raw[CP_FIELD_CERT_NO],
		rec->value[CP_FIELD_NAME] ? rec->value[CP_FIELD_NAME] : rec->raw[CP_FIELD_NAME],
		p->name,
	};
	long bad;
	/* The pattern was validated at load time, so expansion cannot fail. */
	char *s = qr_expand(p->qr, vals, &bad);
	return s ? s : g_strdup("");
}
