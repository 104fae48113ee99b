/* SPDX-License-Identifier: MIT */
#include "input/conf.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "i18n.h"

static char *strip(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

/* Decodes a "quoted" value in place. Returns false on a bad escape or a
 * missing closing quote. */
static bool unquote(char *v)
{
	size_t n = strlen(v);
	if (n < 2 || v[n - 1] != '"')
		return false;
	char *w = v;
	for (size_t i = 1; i < n - 1; i++) {
		if (v[i] == '\\') {
			if (i + 1 >= n - 1)
				return false;
			char c = v[++i];
			if (c == 'n')
				*w++ = '\n';
			else if (c == '"' || c == '\\')
				*w++ = c;
			else
				return false;
		} else if (v[i] == '"') {
			return false;
		} else {
			*w++ = v[i];
		}
	}
	*w = '\0';
	return true;
}

static void section_free(cp_conf_section *s)
{
	for (size_t i = 0; i < s->nentries; i++) {
		g_free(s->entries[i].key);
		g_free(s->entries[i].value);
	}
	g_free(s->entries);
	g_free(s->kind);
	g_free(s->name);
}

void cp_conf_free(cp_conf *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nsections; i++)
		section_free(&c->sections[i]);
	g_free(c->sections);
	g_free(c->path);
	g_free(c->dir);
	g_free(c);
}

cp_conf *cp_conf_parse(const char *text, size_t len, const char *path,
                       cp_error **err)
{
	const char *where = path ? path : "<text>";
	if (len > CP_CONF_MAX_BYTES) {
		cp_set_error(err, CP_E_PARSE, where, 0, 0, NULL,
		             _("file is larger than %u bytes"), CP_CONF_MAX_BYTES);
		return NULL;
	}
	if (memchr(text, '\0', len)) {
		cp_set_error(err, CP_E_PARSE, where, 0, 0, NULL,
		             _("file contains a NUL byte; it is not a text file"));
		return NULL;
	}
	if (!g_utf8_validate(text, (gssize)len, NULL)) {
		const char *end;
		g_utf8_validate(text, (gssize)len, &end);
		long line = 1;
		for (const char *p = text; p < end; p++)
			line += *p == '\n';
		cp_set_error(err, CP_E_PARSE, where, line, 0, NULL,
		             _("text is not valid UTF-8"));
		return NULL;
	}

	cp_conf *c = g_new0(cp_conf, 1);
	c->path = g_strdup(where);
	c->dir = path ? g_path_get_dirname(path) : g_strdup(".");
	char *buf = g_strndup(text, len);
	char *p = buf;
	if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
		p += 3;
	size_t cap = 0;
	long lineno = 0;
	while (p && *p) {
		char *nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		lineno++;
		char *l = strip(p);
		p = nl ? nl + 1 : NULL;
		if (*l == '\0' || *l == '#' || *l == ';')
			continue;
		if (*l == '[') {
			size_t n = strlen(l);
			if (l[n - 1] != ']') {
				cp_set_error(err, CP_E_PARSE, where, lineno, 0, NULL,
				             _("section header must end with ']'"));
				goto fail;
			}
			l[n - 1] = '\0';
			char *in = strip(l + 1);
			if (*in == '\0') {
				cp_set_error(err, CP_E_PARSE, where, lineno, 0, NULL,
				             _("empty section header"));
				goto fail;
			}
			if (c->nsections >= CP_CONF_MAX_SECTIONS) {
				cp_set_error(err, CP_E_PARSE, where, lineno, 0, NULL,
				             _("more than %d sections"), CP_CONF_MAX_SECTIONS);
				goto fail;
			}
			if (c->nsections == cap) {
				cap = cap ? cap * 2 : 16;
				c->sections = g_renew(cp_conf_section, c->sections, cap);
			}
			cp_conf_section *s = &c->sections[c->nsections++];
			memset(s, 0, sizeof *s);
			char *sp = in + strcspn(in, " \t");
			if (*sp) {
				*sp = '\0';
				char *name = strip(sp + 1);
				s->name = *name ? g_strdup(name) : NULL;
			}
			s->kind = g_strdup(in);
			s->line = lineno;
			continue;
		}
		char *eq = strchr(l, '=');
		if (!eq) {
			cp_set_error(err, CP_E_PARSE, where, lineno, 0, NULL,
			             _("expected 'key = value' or '[section]'"));
			goto fail;
		}
		*eq = '\0';
		char *key = strip(l);
		char *val = strip(eq + 1);
		if (*key == '\0') {
			cp_set_error(err, CP_E_PARSE, where, lineno, 0, NULL,
			             _("missing key before '='"));
			goto fail;
		}
		if (c->nsections == 0) {
			cp_set_error(err, CP_E_PARSE, where, lineno, 0, key,
			             _("key outside any [section]"));
			goto fail;
		}
		if (*val == '"' && !unquote(val)) {
			cp_set_error(err, CP_E_PARSE, where, lineno, 0, key,
			             _("badly quoted value (closing quote, or an escape other than \\\" \\\\ \\n)"));
			goto fail;
		}
		cp_conf_section *s = &c->sections[c->nsections - 1];
		for (size_t i = 0; i < s->nentries; i++) {
			if (strcmp(s->entries[i].key, key) == 0) {
				cp_set_error(err, CP_E_PARSE, where, lineno, 0, key,
				             _("key given twice in this section (first on line %ld)"),
				             s->entries[i].line);
				goto fail;
			}
		}
		if (s->nentries >= CP_CONF_MAX_ENTRIES) {
			cp_set_error(err, CP_E_PARSE, where, lineno, 0, key,
			             _("more than %d keys in one section"), CP_CONF_MAX_ENTRIES);
			goto fail;
		}
		s->entries = g_renew(cp_conf_entry, s->entries, s->nentries + 1);
		s->entries[s->nentries++] = (cp_conf_entry){
			.key = g_strdup(key), .value = g_strdup(val), .line = lineno,
		};
	}
	g_free(buf);
	return c;
fail:
	g_free(buf);
	cp_conf_free(c);
	return NULL;
}

bool cp_conf_read_file(const char *path, size_t max, char **text, size_t *len,
                       cp_error **err)
{
	/* Not g_file_get_contents(): it trusts st_size, which is 0 for
	 * /dev/zero or a pipe, and then reads until memory runs out. */
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		cp_set_error(err, CP_E_IO, path, 0, 0, NULL, _("cannot read: %s"),
		             g_strerror(errno));
		return false;
	}
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		cp_set_error(err, CP_E_IO, path, 0, 0, NULL, _("cannot read: %s"),
		             g_strerror(EISDIR));
		return false;
	}
	GString *g = g_string_sized_new(S_ISREG(st.st_mode) && (size_t)st.st_size <= max
	                                ? (size_t)st.st_size + 1 : 4096);
	char buf[16384];
	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			close(fd);
			g_string_free(g, TRUE);
			cp_set_error(err, CP_E_IO, path, 0, 0, NULL, _("cannot read: %s"),
			             g_strerror(e));
			return false;
		}
		if (n == 0)
			break;
		if (g->len + (size_t)n > max) {
			close(fd);
			g_string_free(g, TRUE);
			cp_set_error(err, CP_E_NOMEM, path, 0, 0, NULL,
			             _("file is larger than %u bytes"), (unsigned)max);
			return false;
		}
		g_string_append_len(g, buf, n);
	}
	close(fd);
	*len = g->len;
	*text = g_string_free(g, FALSE);
	return true;
}

cp_conf *cp_conf_load(const char *path, cp_error **err)
{
	char *text = NULL;
	size_t len = 0;
	if (!cp_conf_read_file(path, CP_CONF_MAX_BYTES, &text, &len, err))
		return NULL;
	cp_conf *c = cp_conf_parse(text, len, path, err);
	g_free(text);
	return c;
}

const cp_conf_entry *cp_conf_find(const cp_conf_section *s, const char *key)
{
	for (size_t i = 0; i < s->nentries; i++) {
		if (strcmp(s->entries[i].key, key) == 0) {
			/* The flag is bookkeeping for cp_conf_check_unused(), not
			 * part of the section's value. */
			((cp_conf_entry *)&s->entries[i])->used = true;
			return &s->entries[i];
		}
	}
	return NULL;
}

const char *cp_conf_get(const cp_conf_section *s, const char *key)
{
	const cp_conf_entry *e = cp_conf_find(s, key);
	return e ? e->value : NULL;
}

static bool missing(const cp_conf *c, const cp_conf_section *s, const char *key,
                    bool required, cp_error **err)
{
	if (required)
		cp_set_error(err, CP_E_PARSE, c->path, s->line, 0, key,
		             _("required key is missing from [%s%s%s]"), s->kind,
		             s->name ? " " : "", s->name ? s->name : "");
	return !required;
}

bool cp_conf_numbers(const cp_conf *c, const cp_conf_section *s, const char *key,
                     bool required, size_t n, double min, double max,
                     double *out, cp_error **err)
{
	const cp_conf_entry *e = cp_conf_find(s, key);
	if (!e)
		return missing(c, s, key, required, err);
	const char *p = e->value;
	double tmp[16];
	if (n > G_N_ELEMENTS(tmp)) {
		cp_set_error(err, CP_E_USAGE, c->path, e->line, 0, key,
		             "internal: cp_conf_numbers asked for %zu numbers (at most %zu)",
		             n, G_N_ELEMENTS(tmp));
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		char *end;
		errno = 0;
		double v = g_ascii_strtod(p, &end);
		if (end == p || errno || !isfinite(v)) {
			if (n == 1)
				cp_set_error(err, CP_E_PARSE, c->path, e->line, 0, key,
				             _("expected a number, got '%s'"), e->value);
			else
				cp_set_error(err, CP_E_PARSE, c->path, e->line, 0, key,
				             _("expected %zu numbers, got '%s'"), n, e->value);
			return false;
		}
		if (v < min || v > max) {
			cp_set_error(err, CP_E_PARSE, c->path, e->line, 0, key,
			             _("%g is out of range (%g to %g)"), v, min, max);
			return false;
		}
		tmp[i] = v;
		p = end;
	}
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p) {
		cp_set_error(err, CP_E_PARSE, c->path, e->line, 0, key,
		             _("unexpected text '%s' after %zu number(s)"), p, n);
		return false;
	}
	memcpy(out, tmp, n * sizeof *out);
	return true;
}

bool cp_conf_number(const cp_conf *c, const cp_conf_section *s, const char *key,
                    bool required, double min, double max, double *out,
                    cp_error **err)
{
	return cp_conf_numbers(c, s, key, required, 1, min, max, out, err);
}

bool cp_conf_bool(const cp_conf *c, const cp_conf_section *s, const char *key,
                  bool required, bool *out, cp_error **err)
{
	static const char *const choices[] = {"no", "yes", "false", "true", "0", "1", NULL};
	int i;
	const cp_conf_entry *e = cp_conf_find(s, key);
	if (!e)
		return missing(c, s, key, required, err);
	if (!cp_conf_choice(c, s, key, true, choices, &i, err))
		return false;
	*out = i % 2 == 1;
	return true;
}

bool cp_conf_choice(const cp_conf *c, const cp_conf_section *s, const char *key,
                    bool required, const char *const *choices, int *out,
                    cp_error **err)
{
	const cp_conf_entry *e = cp_conf_find(s, key);
	if (!e)
		return missing(c, s, key, required, err);
	for (int i = 0; choices[i]; i++) {
		if (g_ascii_strcasecmp(e->value, choices[i]) == 0) {
			*out = i;
			return true;
		}
	}
	char *list = g_strjoinv(", ", (char **)choices);
	cp_set_error(err, CP_E_PARSE, c->path, e->line, 0, key,
	             _("'%s' is not one of: %s"), e->value, list);
	g_free(list);
	return false;
}

const char *cp_conf_require(const cp_conf *c, const cp_conf_section *s,
                            const char *key, cp_error **err)
{
	const cp_conf_entry *e = cp_conf_find(s, key);
	if (!e) {
		missing(c, s, key, true, err);
		return NULL;
	}
	if (e->value[0] == '\0') {
		cp_set_error(err, CP_E_PARSE, c->path, e->line, 0, key,
		             _("value must not be empty"));
		return NULL;
	}
	return e->value;
}

bool cp_conf_check_unused(const cp_conf *c, const cp_conf_section *s,
                          cp_error **err)
{
	for (size_t i = 0; i < s->nentries; i++) {
		if (!s->entries[i].used) {
			cp_set_error(err, CP_E_PARSE, c->path, s->entries[i].line, 0,
			             s->entries[i].key, _("unknown key in [%s]"), s->kind);
			return false;
		}
	}
	return true;
}

char *cp_conf_resolve(const cp_conf *c, const char *name)
{
	if (g_path_is_absolute(name))
		return g_strdup(name);
	return g_build_filename(c->dir, name, NULL);
}
