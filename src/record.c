/* SPDX-License-Identifier: MIT */
/* Fields of a certificate record, the record value itself, ID masking. */
#include "certpress.h"

#include <glib.h>
#include <string.h>

#include "csv.h"

static const char *const field_keys[CP_FIELD_COUNT] = {
	[CP_FIELD_NAME] = "name",
	[CP_FIELD_ID_TYPE] = "id_type",
	[CP_FIELD_ID_NUMBER] = "id_number",
	[CP_FIELD_OCCUPATION] = "occupation",
	[CP_FIELD_JOB_TYPE] = "job_type",
	[CP_FIELD_LEVEL] = "level",
	[CP_FIELD_CERT_NO] = "cert_no",
	[CP_FIELD_ISSUE_DATE] = "issue_date",
	[CP_FIELD_PHOTO] = "photo",
	[CP_FIELD_PRINT_SERIAL] = "print_serial",
};

static const char *const field_headers[CP_FIELD_COUNT] = {
	[CP_FIELD_NAME] = "姓名",
	[CP_FIELD_ID_TYPE] = "证件类型",
	[CP_FIELD_ID_NUMBER] = "证件号码",
	[CP_FIELD_OCCUPATION] = "职业名称",
	[CP_FIELD_JOB_TYPE] = "工种/职业方向",
	[CP_FIELD_LEVEL] = "职业技能等级",
	[CP_FIELD_CERT_NO] = "证书编号",
	[CP_FIELD_ISSUE_DATE] = "发证日期",
	[CP_FIELD_PHOTO] = "照片",
	[CP_FIELD_PRINT_SERIAL] = "证书印制流水码",
};

/* Headers seen in real exports besides the regulation's own wording. */
static const struct {
	const char *name;
	cp_field field;
} variants[] = {
	{"工种", CP_FIELD_JOB_TYPE},
	{"职业方向", CP_FIELD_JOB_TYPE},
	{"工种（职业方向）", CP_FIELD_JOB_TYPE},
	{"工种(职业方向)", CP_FIELD_JOB_TYPE},
	{"工种／职业方向", CP_FIELD_JOB_TYPE},
	{"等级", CP_FIELD_LEVEL},
	{"技能等级", CP_FIELD_LEVEL},
	{"身份证号", CP_FIELD_ID_NUMBER},
	{"身份证号码", CP_FIELD_ID_NUMBER},
	{"印制流水码", CP_FIELD_PRINT_SERIAL},
	{"流水码", CP_FIELD_PRINT_SERIAL},
};

const char *cp_field_key(cp_field f)
{
	return (unsigned)f < CP_FIELD_COUNT ? field_keys[f] : NULL;
}

const char *cp_field_header(cp_field f)
{
	return (unsigned)f < CP_FIELD_COUNT ? field_headers[f] : NULL;
}

/* English keys match ignoring ASCII case, and "ID Number" or "id-number"
 * match "id_number": people type the keys by hand in spreadsheets. */
static bool key_equal(const char *s, size_t n, const char *key)
{
	size_t i = 0;
	for (; i < n && key[i]; i++) {
		char c = g_ascii_tolower(s[i]);
		if (c == ' ' || c == '-')
			c = '_';
		if (c != key[i])
			return false;
	}
	return i == n && key[i] == '\0';
}

static bool text_equal(const char *s, size_t n, const char *text)
{
	return strlen(text) == n && memcmp(s, text, n) == 0;
}

int cp_field_lookup(const char *name)
{
	if (!name)
		return -1;
	const char *s = name;
	size_t n = strlen(name);
	cp_csv_trim(&s, &n);
	if (n == 0)
		return -1;
	for (int f = 0; f < CP_FIELD_COUNT; f++)
		if (text_equal(s, n, field_headers[f]) || key_equal(s, n, field_keys[f]))
			return f;
	for (size_t i = 0; i < G_N_ELEMENTS(variants); i++)
		if (text_equal(s, n, variants[i].name))
			return (int)variants[i].field;
	return -1;
}

bool cp_field_required(cp_field f)
{
	return (unsigned)f < CP_FIELD_COUNT && f != CP_FIELD_PHOTO &&
	       f != CP_FIELD_PRINT_SERIAL;
}

void cp_record_clear(cp_record *rec)
{
	if (!rec)
		return;
	if (rec->cells) {
		for (size_t i = 0; i < rec->ncells; i++)
			g_free(rec->cells[i]);
		g_free(rec->cells);
	}
	for (int f = 0; f < CP_FIELD_COUNT; f++) {
		g_free(rec->raw[f]);
		g_free(rec->value[f]);
	}
	memset(rec, 0, sizeof *rec);
}

/* Length of the character at p (at most n bytes), or 0 when the bytes there
 * are not valid UTF-8: such a byte then counts as one character of its own so
 * that masking never runs past the end of a broken string. */
static size_t char_len(const char *p, size_t n)
{
	gunichar c = g_utf8_get_char_validated(p, (gssize)n);
	if (c == (gunichar)-1 || c == (gunichar)-2)
		return 0;
	return (size_t)(g_utf8_next_char(p) - p);
}

char *cp_mask_id(const char *id)
{
	if (!id)
		return NULL;
	size_t n = strlen(id);
	size_t nchars = 0;
	for (size_t i = 0; i < n; nchars++) {
		size_t k = char_len(id + i, n - i);
		i += k ? k : 1;
	}
	GString *out = g_string_sized_new(n + 1);
	size_t idx = 0;
	for (size_t i = 0; i < n; idx++) {
		size_t k = char_len(id + i, n - i);
		bool keep = nchars > 8 && (idx < 4 || idx >= nchars - 4);
		if (!keep)
			g_string_append_c(out, '*');
		else if (k)
			g_string_append_len(out, id + i, (gssize)k);
		else
			/* The message this goes into must stay valid UTF-8. */
			g_string_append(out, "\xEF\xBF\xBD");
		i += k ? k : 1;
	}
	return g_string_free(out, FALSE);
}
