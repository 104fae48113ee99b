/* SPDX-License-Identifier: MIT */
/* Fields of a certificate record, the record value itself, blanks in a
 * cell, ID masking. */
#include "certpress.h"

#include <glib.h>
#include <string.h>

#include "input/record.h"

/* ------------------------------------------------------------- blanks */

/* Byte length of a blank at s (n bytes available), 0 when none is there. */
static size_t blank_len(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	if (n >= 1 && (u[0] == ' ' || (u[0] >= '\t' && u[0] <= '\r')))
		return 1;
	if (n >= 2 && u[0] == 0xC2 && u[1] == 0xA0)
		return 2; /* U+00A0 */
	if (n >= 3 && u[0] == 0xE3 && u[1] == 0x80 && u[2] == 0x80)
		return 3; /* U+3000 */
	if (n >= 3 && u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF)
		return 3; /* U+FEFF */
	return 0;
}

/* Byte length of a blank that ends at s + n, 0 when none does. */
static size_t blank_len_back(const char *s, size_t n)
{
	if (n >= 3 && blank_len(s + n - 3, 3) == 3)
		return 3;
	if (n >= 2 && blank_len(s + n - 2, 2) == 2)
		return 2;
	if (n >= 1 && blank_len(s + n - 1, 1) == 1)
		return 1;
	return 0;
}

void cp_text_trim(const char **s, size_t *n)
{
	size_t k;
	while ((k = blank_len(*s, *n))) {
		*s += k;
		*n -= k;
	}
	while ((k = blank_len_back(*s, *n)))
		*n -= k;
}

bool cp_text_blank(const char *s)
{
	size_t n = strlen(s);
	cp_text_trim(&s, &n);
	return n == 0;
}

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
	cp_text_trim(&s, &n);
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
	g_free(rec->photo_decode_path);
	for (int f = 0; f < CP_FIELD_COUNT; f++) {
		g_free(rec->raw[f]);
		g_free(rec->value[f]);
	}
	g_free(rec->photo_picture);
	g_free(rec->photo_picture_problem);
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
