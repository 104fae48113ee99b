/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target "conf": the shared key = value / [section] parser (src/input/conf.c)
 * and its typed getters, on arbitrary text. Beyond "no crash", it checks the
 * documented limits and that a parsed file written back in canonical form
 * parses to the same sections, keys and values (so quoting and stripping
 * lose nothing and invent nothing).
 */
#include "fuzz.h"

#include <math.h>

#include "input/conf.h"

/* Canonical text of c: every value quoted with the three escapes. */
static char *conf_unparse(const cp_conf *c)
{
	GString *s = g_string_new(NULL);
	for (size_t i = 0; i < c->nsections; i++) {
		const cp_conf_section *sec = &c->sections[i];
		g_string_append_printf(s, "[%s%s%s]\n", sec->kind, sec->name ? " " : "",
		                       sec->name ? sec->name : "");
		for (size_t j = 0; j < sec->nentries; j++) {
			g_string_append_printf(s, "%s = \"", sec->entries[j].key);
			for (const char *v = sec->entries[j].value; *v; v++) {
				if (*v == '"' || *v == '\\')
					g_string_append_c(s, '\\');
				if (*v == '\n')
					g_string_append(s, "\\n");
				else
					g_string_append_c(s, *v);
			}
			g_string_append(s, "\"\n");
		}
	}
	return g_string_free(s, FALSE);
}

static void same_conf(const cp_conf *a, const cp_conf *b)
{
	if (a->nsections != b->nsections)
		cp_fuzz_fail("round trip: %zu sections became %zu", a->nsections,
		             b->nsections);
	for (size_t i = 0; i < a->nsections; i++) {
		const cp_conf_section *x = &a->sections[i], *y = &b->sections[i];
		if (strcmp(x->kind, y->kind) != 0 || g_strcmp0(x->name, y->name) != 0 ||
		    x->nentries != y->nentries)
			cp_fuzz_fail("round trip: section %zu [%s %s] changed", i, x->kind,
			             x->name ? x->name : "");
		for (size_t j = 0; j < x->nentries; j++)
			if (strcmp(x->entries[j].key, y->entries[j].key) != 0 ||
			    strcmp(x->entries[j].value, y->entries[j].value) != 0)
				cp_fuzz_fail("round trip: [%s] key '%s' changed", x->kind,
				             x->entries[j].key);
	}
}

static void exercise_section(const cp_conf *c, const cp_conf_section *s)
{
	static const char *const choices[] = {"left", "center", "right", "--", NULL};
	cp_error *err = NULL;
	if (s->nentries > 0) {
		/* nothing asked yet: the first key is unknown */
		bool ok = cp_conf_check_unused(c, s, &err);
		if (ok)
			cp_fuzz_fail("check_unused passed a section no one read");
		cp_fuzz_check_result(ok, err, "cp_conf_check_unused");
		err = NULL;
	}
	for (size_t j = 0; j < s->nentries; j++) {
		const cp_conf_entry *e = &s->entries[j];
		if (!e->key[0] || e->key[0] == '[' || e->key[0] == '#' || e->key[0] == ';' ||
		    strchr(e->key, '='))
			cp_fuzz_fail("impossible key '%s'", e->key);
		if (cp_conf_get(s, e->key) != e->value)
			cp_fuzz_fail("cp_conf_get found another entry for '%s'", e->key);
		for (size_t k = 0; k < j; k++)
			if (strcmp(s->entries[k].key, e->key) == 0)
				cp_fuzz_fail("key '%s' twice in a section", e->key);

		double d = 0, two[2], many[16];
		bool ok = cp_conf_number(c, s, e->key, true, -1e6, 1e6, &d, &err);
		if (ok && !(d >= -1e6 && d <= 1e6))
			cp_fuzz_fail("number %g outside its range", d);
		cp_fuzz_check_result(ok, err, "cp_conf_number");
		err = NULL;
		ok = cp_conf_numbers(c, s, e->key, true, 2, 0, 2000, two, &err);
		if (ok && !(two[0] >= 0 && two[0] <= 2000 && two[1] >= 0 && two[1] <= 2000))
			cp_fuzz_fail("numbers outside their range");
		cp_fuzz_check_result(ok, err, "cp_conf_numbers(2)");
		err = NULL;
		ok = cp_conf_numbers(c, s, e->key, true, 16, -HUGE_VAL, HUGE_VAL, many, &err);
		cp_fuzz_check_result(ok, err, "cp_conf_numbers(16)");
		err = NULL;
		bool b;
		ok = cp_conf_bool(c, s, e->key, true, &b, &err);
		cp_fuzz_check_result(ok, err, "cp_conf_bool");
		err = NULL;
		int idx = -1;
		ok = cp_conf_choice(c, s, e->key, true, choices, &idx, &err);
		if (ok && (idx < 0 || idx > 3))
			cp_fuzz_fail("choice index %d", idx);
		cp_fuzz_check_result(ok, err, "cp_conf_choice");
		err = NULL;
		const char *v = cp_conf_require(c, s, e->key, &err);
		if (v && v != e->value)
			cp_fuzz_fail("cp_conf_require returned another value");
		cp_fuzz_check_result(v != NULL, err, "cp_conf_require");
		err = NULL;
		g_free(cp_conf_resolve(c, e->value));
	}
	/* a key that cannot exist (it would contain '=') */
	double d = 7;
	if (!cp_conf_number(c, s, "=", false, 0, 1, &d, &err) || d != 7)
		cp_fuzz_fail("optional absent number was not left alone");
	bool ok = cp_conf_number(c, s, "=", true, 0, 1, &d, &err);
	cp_fuzz_check_result(ok, err, "cp_conf_number(required, absent)");
	if (ok)
		cp_fuzz_fail("required absent key passed");
	err = NULL;
	/* every key has now been asked for */
	ok = cp_conf_check_unused(c, s, &err);
	if (!ok)
		cp_fuzz_fail("check_unused failed after every key was read");
	cp_fuzz_check_result(ok, err, "cp_conf_check_unused");
}

int cp_fuzz_conf(const uint8_t *data, size_t size)
{
	cp_error *err = NULL;
	cp_conf *c = cp_conf_parse((const char *)data, size, "fuzz.conf", &err);
	cp_fuzz_check_result(c != NULL, err, "cp_conf_parse");
	if (!c)
		return 0;
	if (c->nsections > CP_CONF_MAX_SECTIONS)
		cp_fuzz_fail("%zu sections", c->nsections);
	long last = 0;
	for (size_t i = 0; i < c->nsections; i++) {
		const cp_conf_section *s = &c->sections[i];
		if (s->nentries > CP_CONF_MAX_ENTRIES)
			cp_fuzz_fail("%zu entries in a section", s->nentries);
		if (!s->kind[0] || strpbrk(s->kind, " \t"))
			cp_fuzz_fail("bad section kind '%s'", s->kind);
		if (s->line <= last)
			cp_fuzz_fail("section lines out of order");
		last = s->line;
		for (size_t j = 0; j < s->nentries; j++) {
			if (s->entries[j].line <= last)
				cp_fuzz_fail("entry lines out of order");
			last = s->entries[j].line;
			if (!g_utf8_validate(s->entries[j].value, -1, NULL))
				cp_fuzz_fail("value is not UTF-8");
		}
	}

	char *text = conf_unparse(c);
	cp_conf *again = cp_conf_parse(text, strlen(text), "again.conf", &err);
	if (!again) {
		char *m = cp_error_format(err);
		cp_fuzz_fail("canonical text does not parse again: %s", m);
	}
	same_conf(c, again);
	cp_conf_free(again);
	g_free(text);

	for (size_t i = 0; i < c->nsections; i++)
		exercise_section(c, &c->sections[i]);
	cp_conf_free(c);
	return 0;
}

CP_FUZZ_ENTRY(conf)
