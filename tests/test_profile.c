/* SPDX-License-Identifier: MIT */
/* Organization profile: parsing, validation with file:line:key errors, scope
 * look-ups and QR content. */
#include "common/testutil.h"

#include <cairo.h>
#include <string.h>

#include "input/profile.h"

static const char org_head[] =
	"[organization]\n"
	"name = 示例评价中心\n"
	"cert_prefix = S000044000123\n";

static const char scope_tail[] =
	"[scope 电工]\n"
	"max_level = 三级\n";

/* Writes text as dir/p.conf and loads it. */
static cp_profile *load_text(const char *dir, const char *text, cp_error **err)
{
	char *path = tu_write(dir, "p.conf", text);
	cp_profile *p = cp_profile_load(path, err);
	g_free(path);
	return p;
}

/* The shipped fixture loads with every key read as written. */
static void test_fixture(void)
{
	cp_error *err = NULL;
	char *path = tu_path("data/profile/org.conf");
	cp_profile *p = cp_profile_load(path, &err);
	tu_assert_no_error(err);
	g_assert_cmpstr(cp_profile_name(p), ==, "广东省示例职业技能评价中心");
	g_assert_cmpstr(cp_profile_prefix(p), ==, "S000044000123");
	g_assert_cmpint(cp_profile_category(p), ==, 'S');
	g_assert_false(cp_profile_special_grades(p));
	g_assert_null(cp_profile_seal_path(p));
	g_assert_cmpint(cp_profile_photo_policy(p), ==, CP_PHOTO_PRINTED);
	g_assert_cmpstr(cp_profile_province_url(p), ==, "https://ggfw.hrss.gd.gov.cn/zsbh");
	g_assert_cmpstr(cp_profile_path(p), ==, path);
	g_assert_cmpuint(cp_profile_nscopes(p), ==, 4);

	const cp_scope *s = cp_profile_scope(p, "电工");
	g_assert_nonnull(s);
	g_assert_cmpint(s->max_level, ==, 3);
	g_assert_cmpuint(s->njob_types, ==, 2);
	g_assert_cmpstr(s->job_types[0], ==, "维修电工");
	g_assert_cmpstr(s->job_types[1], ==, "安装电工");
	g_assert_null(s->job_types[2]);
	g_assert_true(cp_scope_has_job_type(s, "安装电工"));
	g_assert_false(cp_scope_has_job_type(s, "电工"));
	/* surrounding blanks of the looked-up occupation are ignored */
	g_assert_true(cp_profile_scope(p, "  电工 ") == s);

	s = cp_profile_scope(p, "焊工");
	g_assert_cmpint(s->max_level, ==, 2);
	g_assert_cmpuint(s->njob_types, ==, 3);
	g_assert_cmpstr(s->job_types[0], ==, "电焊工");
	g_assert_cmpstr(s->job_types[1], ==, "气焊工");
	g_assert_cmpstr(s->job_types[2], ==, "钎焊工");

	s = cp_profile_scope(p, "中式烹调师");
	g_assert_cmpint(s->max_level, ==, 1);
	g_assert_cmpuint(s->njob_types, ==, 0);
	s = cp_profile_scope(p, "保育师");
	g_assert_cmpint(s->max_level, ==, 5);
	g_assert_cmpuint(s->njob_types, ==, 0);
	g_assert_null(cp_profile_scope(p, "电"));
	g_assert_null(cp_profile_scope(p, NULL));
	cp_profile_free(p);
	cp_profile_free(NULL);
	g_free(path);
}

/* Defaults: the national query pattern, printed photos, no province URL. */
static void test_defaults(void)
{
	char *dir = tu_scratch("profile-defaults");
	char *text = g_strconcat(org_head, scope_tail, NULL);
	cp_error *err = NULL;
	cp_profile *p = load_text(dir, text, &err);
	tu_assert_no_error(err);
	g_assert_cmpstr(cp_profile_qr_pattern(p), ==, CP_PROFILE_DEFAULT_QR);
	g_assert_cmpint(cp_profile_photo_policy(p), ==, CP_PHOTO_PRINTED);
	g_assert_cmpint(cp_profile_fallback_policy(p), ==, CP_FALLBACK_WARN);
	g_assert_null(cp_profile_province_url(p));
	cp_record rec = {0};
	rec.value[CP_FIELD_CERT_NO] = "S000044000123263000001";
	char *qr = cp_profile_qr_content(p, &rec);
	g_assert_cmpstr(qr, ==, "http://jndj.osta.org.cn/?zsbh=S000044000123263000001");
	g_free(qr);
	cp_profile_free(p);
	g_free(text);
	g_free(dir);
}

/* Placeholders: {name} and {org} are percent-encoded (UTF-8) in a URL, and
 * left as they are in a pattern that is not a URL. */
static void test_qr_content(void)
{
	char *dir = tu_scratch("profile-qr");
	cp_error *err = NULL;
	char *text = g_strconcat(org_head,
	                         "qr = https://q.example.cn/c?no={cert_no}&n={name}&o={org}\n",
	                         scope_tail, NULL);
	cp_profile *p = load_text(dir, text, &err);
	tu_assert_no_error(err);
	cp_record rec = {0};
	rec.raw[CP_FIELD_CERT_NO] = "S000044000123263000001";
	rec.value[CP_FIELD_NAME] = "张 A&B";
	char *qr = cp_profile_qr_content(p, &rec);
	g_assert_cmpstr(qr, ==,
	                "https://q.example.cn/c?no=S000044000123263000001"
	                "&n=%E5%BC%A0%20A%26B"
	                "&o=%E7%A4%BA%E4%BE%8B%E8%AF%84%E4%BB%B7%E4%B8%AD%E5%BF%83");
	g_free(qr);
	cp_profile_free(p);
	g_free(text);

	text = g_strconcat(org_head, "qr = \"证书 {cert_no} {name}\"\n", scope_tail, NULL);
	p = load_text(dir, text, &err);
	tu_assert_no_error(err);
	qr = cp_profile_qr_content(p, &rec);
	g_assert_cmpstr(qr, ==, "证书 S000044000123263000001 张 A&B");
	g_free(qr);
	cp_profile_free(p);
	g_free(text);
	g_free(dir);
}

static void expect_error(const char *name, const char *text, const char *needle)
{
	char *dir = tu_scratch(name);
	cp_error *err = NULL;
	cp_profile *p = load_text(dir, text, &err);
	g_assert_null(p);
	tu_assert_error(&err, CP_E_PARSE, needle);
	g_free(dir);
}

#define ORG(extra) "[organization]\nname = 示例评价中心\ncert_prefix = S000044000123\n" extra
#define SCOPE "[scope 电工]\nmax_level = 三级\n"

/* Every key is validated; errors name file, line and key. */
static void test_errors(void)
{
	expect_error("pe-noorg", SCOPE, "has no [organization]");
	expect_error("pe-noscope", ORG(""), "registers no occupation");
	expect_error("pe-noname", "[organization]\ncert_prefix = S000044000123\n" SCOPE,
	             "p.conf:1: key name: required key");
	expect_error("pe-prefix-len", "[organization]\nname = x\ncert_prefix = S00004400012\n" SCOPE,
	             "p.conf:3: key cert_prefix: ");
	expect_error("pe-prefix-cat", "[organization]\nname = x\ncert_prefix = X000044000123\n" SCOPE,
	             "position 1 (organization category)");
	expect_error("pe-prefix-digit", "[organization]\nname = x\ncert_prefix = S0000440A0123\n" SCOPE,
	             "not a digit at position 9");
	/* 72 is not a province of GB/T 2260 (the list jumps from 65 to 71) */
	expect_error("pe-prefix-prov", "[organization]\nname = x\ncert_prefix = S000072000123\n" SCOPE,
	             "positions 6–7 (province code) are 72");
	expect_error("pe-special", ORG("special_grades = yes\n") SCOPE,
	             "p.conf:4: key special_grades: only employers");
	expect_error("pe-bool", ORG("special_grades = maybe\n") SCOPE, "p.conf:4: key special_grades");
	expect_error("pe-photos", ORG("photos = glued\n") SCOPE, "p.conf:4: key photos");
	expect_error("pe-fallback", ORG("font_fallback = sometimes\n") SCOPE,
	             "p.conf:4: key font_fallback");
	expect_error("pe-unknown", ORG("colour = red\n") SCOPE, "p.conf:4: key colour: unknown key");
	expect_error("pe-inline", ORG("photos = pasted   # by hand\n") SCOPE,
	             "p.conf:4: key photos: the value contains ' #'");
	expect_error("pe-url", ORG("province_query_url = ftp://x\n") SCOPE,
	             "p.conf:4: key province_query_url");
	expect_error("pe-qr-nocert", ORG("qr = http://x.cn/?n={name}\n") SCOPE,
	             "p.conf:4: key qr: the QR pattern must contain {cert_no}");
	expect_error("pe-qr-key", ORG("qr = http://x.cn/?n={cert_no}{nme}\n") SCOPE,
	             "unknown placeholder or stray brace at byte 25");
	expect_error("pe-qr-brace", ORG("qr = http://x.cn/?n={cert_no}}\n") SCOPE,
	             "stray brace");
	expect_error("pe-name-ctl", "[organization]\nname = \"示例\\n中心\"\ncert_prefix = S000044000123\n" SCOPE,
	             "p.conf:2: key name: ");
	expect_error("pe-org-twice", ORG("") "[organization]\n" SCOPE, "p.conf:4: a second [organization]");
	expect_error("pe-org-named", "[organization x]\n" SCOPE, "takes no name");
	expect_error("pe-section", ORG("") "[scopes 电工]\n", "p.conf:4: unknown section [scopes]");
	expect_error("pe-scope-noname", ORG("") "[scope]\nmax_level = 3\n", "p.conf:4: [scope] needs");
	expect_error("pe-scope-twice", ORG("") SCOPE "\n" SCOPE, "p.conf:7: occupation 电工 has a second");
	expect_error("pe-scope-nolevel", ORG("") "[scope 电工]\njob_types = 维修电工\n",
	             "p.conf:4: key max_level: required key");
	expect_error("pe-scope-level", ORG("") "[scope 电工]\nmax_level = 六级\n",
	             "p.conf:5: key max_level: '六级' is not a skill level");
	expect_error("pe-scope-empty-jt", ORG("") "[scope 电工]\njob_types = a,,b\nmax_level = 3\n",
	             "p.conf:5: key job_types: empty job type in the list (item 2)");
	expect_error("pe-scope-dup-jt", ORG("") "[scope 电工]\njob_types = a、b，a\nmax_level = 3\n",
	             "job type a is listed twice");
	expect_error("pe-scope-dash", ORG("") "[scope 电工]\njob_types = a, --\nmax_level = 3\n",
	             "cannot stand beside");
	expect_error("pe-scope-unknown", ORG("") "[scope 电工]\nmax_level = 3\nlevel = 3\n",
	             "p.conf:6: key level: unknown key");
	/* a zero-width space hidden in an occupation name would never match */
	expect_error("pe-scope-zw", ORG("") "[scope 电\xE2\x80\x8B工]\nmax_level = 3\n",
	             "p.conf:4: ");

	cp_error *err = NULL;
	g_assert_null(cp_profile_load("/nonexistent/p.conf", &err));
	tu_assert_error(&err, CP_E_IO, "/nonexistent/p.conf");
}

static void write_png(const char *path, cairo_format_t fmt)
{
	cairo_surface_t *s = cairo_image_surface_create(fmt, 8, 8);
	g_assert_cmpint(cairo_surface_write_to_png(s, path), ==, CAIRO_STATUS_SUCCESS);
	cairo_surface_destroy(s);
}

/* The seal resolves against the profile's folder to an absolute path and must
 * be a PNG with transparency. */
static void test_seal(void)
{
	char *dir = tu_scratch("profile-seal");
	char *seal = g_build_filename(dir, "seal.png", NULL);
	write_png(seal, CAIRO_FORMAT_ARGB32);
	cp_error *err = NULL;
	cp_profile *p = load_text(dir, ORG("seal = seal.png\n") SCOPE, &err);
	tu_assert_no_error(err);
	g_assert_true(g_path_is_absolute(cp_profile_seal_path(p)));
	g_assert_true(g_str_has_suffix(cp_profile_seal_path(p), "/profile-seal/seal.png"));
	cp_profile_free(p);

	g_free(dir);
	dir = tu_scratch("profile-seal2");
	char *o2 = g_build_filename(dir, "opaque.png", NULL);
	write_png(o2, CAIRO_FORMAT_RGB24);
	p = load_text(dir, ORG("seal = opaque.png\n") SCOPE, &err);
	g_assert_null(p);
	tu_assert_error(&err, CP_E_PARSE, "has no transparency");
	g_free(tu_write(dir, "fake.png", "GIF89a not a png"));
	p = load_text(dir, ORG("seal = fake.png\n") SCOPE, &err);
	g_assert_null(p);
	tu_assert_error(&err, CP_E_PARSE, "p.conf:4: key seal: the seal image");
	p = load_text(dir, ORG("seal = missing.png\n") SCOPE, &err);
	g_assert_null(p);
	tu_assert_error(&err, CP_E_PARSE, "does not exist");
	g_free(o2);
	g_free(seal);
	g_free(dir);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/profile/fixture", test_fixture);
	g_test_add_func("/profile/defaults", test_defaults);
	g_test_add_func("/profile/qr-content", test_qr_content);
	g_test_add_func("/profile/errors", test_errors);
	g_test_add_func("/profile/seal", test_seal);
	return g_test_run();
}
