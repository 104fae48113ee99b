/* SPDX-License-Identifier: MIT */
/* Fields, the record value and ID masking. */
#include "common/testutil.h"

#include <string.h>

/* Proves: every field has its key and regulation header; out of range is NULL. */
static void test_keys_headers(void)
{
	static const char *const keys[] = {"name", "id_type", "id_number", "occupation",
	                                   "job_type", "level", "cert_no", "issue_date",
	                                   "photo", "print_serial"};
	static const char *const headers[] = {"姓名", "证件类型", "证件号码", "职业名称",
	                                      "工种/职业方向", "职业技能等级", "证书编号",
	                                      "发证日期", "照片", "证书印制流水码"};
	G_STATIC_ASSERT(G_N_ELEMENTS(keys) == CP_FIELD_COUNT);
	for (int f = 0; f < CP_FIELD_COUNT; f++) {
		g_assert_cmpstr(cp_field_key(f), ==, keys[f]);
		g_assert_cmpstr(cp_field_header(f), ==, headers[f]);
		/* Each name looks itself up. */
		g_assert_cmpint(cp_field_lookup(keys[f]), ==, f);
		g_assert_cmpint(cp_field_lookup(headers[f]), ==, f);
	}
	g_assert_null(cp_field_key(CP_FIELD_COUNT));
	g_assert_null(cp_field_header((cp_field)-1));
}

/* Proves: the variants people use map to the right field; case, blanks
 * (U+3000 included) and spaces/hyphens in English keys do not matter;
 * anything else is -1. */
static void test_lookup(void)
{
	static const struct {
		const char *name;
		int field;
	} cases[] = {
		{"工种", CP_FIELD_JOB_TYPE},
		{"职业方向", CP_FIELD_JOB_TYPE},
		{"工种（职业方向）", CP_FIELD_JOB_TYPE},
		{"工种(职业方向)", CP_FIELD_JOB_TYPE},
		{"等级", CP_FIELD_LEVEL},
		{"技能等级", CP_FIELD_LEVEL},
		{"身份证号", CP_FIELD_ID_NUMBER},
		{"身份证号码", CP_FIELD_ID_NUMBER},
		{"印制流水码", CP_FIELD_PRINT_SERIAL},
		{"流水码", CP_FIELD_PRINT_SERIAL},
		{"NAME", CP_FIELD_NAME},
		{"Cert_No", CP_FIELD_CERT_NO},
		{"ID Number", CP_FIELD_ID_NUMBER},
		{"issue-date", CP_FIELD_ISSUE_DATE},
		{"  姓名\t", CP_FIELD_NAME},
		{"\xE3\x80\x80证件号码\xE3\x80\x80", CP_FIELD_ID_NUMBER},
		{"\xC2\xA0photo ", CP_FIELD_PHOTO},
		{"\xEF\xBB\xBF姓名", CP_FIELD_NAME},
		{"", -1},
		{"   ", -1},
		{"\xE3\x80\x80", -1},
		{"姓", -1},
		{"姓名字", -1},
		{"names", -1},
		{"nam", -1},
		{"id number x", -1},
		{"备注", -1},
		{"证 件号码", -1},
		{"\xFF\xFE", -1},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_test_message("lookup '%s'", cases[i].name);
		g_assert_cmpint(cp_field_lookup(cases[i].name), ==, cases[i].field);
	}
	g_assert_cmpint(cp_field_lookup(NULL), ==, -1);
}

/* Proves: all fields are required except photo and print serial. */
static void test_required(void)
{
	for (int f = 0; f < CP_FIELD_COUNT; f++)
		g_assert_cmpint(cp_field_required(f), ==,
		                f != CP_FIELD_PHOTO && f != CP_FIELD_PRINT_SERIAL);
	g_assert_false(cp_field_required(CP_FIELD_COUNT));
	g_assert_false(cp_field_required((cp_field)-1));
}

/* Proves: 4 + 4 characters kept, counted as characters not bytes; short
 * values fully masked; broken UTF-8 neither crashes nor leaks raw bytes. */
static void test_mask_id(void)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{"11010519491231002X", "1101**********002X"},
		{"E12345678", "E123*5678"},        /* 9 characters: one masked */
		{"12345678", "********"},          /* 8 or fewer: all masked */
		{"123", "***"},
		{"", ""},
		{"港澳H1234567890", "港澳H1*****7890"}, /* 13 characters */
		{"台湾居民来往大陆通行证号", "台湾居民****通行证号"},
		{"ab\xFF" "cdefghij", "ab\xEF\xBF\xBD" "c***ghij"}, /* one bad byte = one char */
		/* UTF-8 cut at the end: each stray byte is a character. */
		{"abcdefgh\xE4\xB8", "abcd**gh\xEF\xBF\xBD\xEF\xBF\xBD"},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *m = cp_mask_id(cases[i].in);
		g_assert_cmpstr(m, ==, cases[i].out);
		g_assert_true(g_utf8_validate(m, -1, NULL));
		free(m);
	}
	g_assert_null(cp_mask_id(NULL));
}

/* Proves: cp_record_clear frees every member (ASan checks) and zeroes the
 * record so it can be reused; NULL and an empty record are fine. */
static void test_record_clear(void)
{
	cp_record rec = {0};
	cp_record_clear(&rec);
	cp_record_clear(NULL);
	rec.row = 5;
	rec.line = 7;
	rec.ncells = 2;
	rec.cells = g_new0(char *, 3);
	rec.cells[0] = g_strdup("a");
	rec.cells[1] = g_strdup("b");
	rec.raw[CP_FIELD_NAME] = g_strdup("a");
	rec.value[CP_FIELD_LEVEL] = g_strdup("三级/高级工");
	rec.level = 3;
	rec.year = 2026;
	cp_record_clear(&rec);
	cp_record zero = {0};
	g_assert_cmpmem(&rec, sizeof rec, &zero, sizeof zero);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/record/keys-headers", test_keys_headers);
	g_test_add_func("/record/lookup", test_lookup);
	g_test_add_func("/record/required", test_required);
	g_test_add_func("/record/mask-id", test_mask_id);
	g_test_add_func("/record/clear", test_record_clear);
	return g_test_run();
}
