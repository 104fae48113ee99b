/* SPDX-License-Identifier: MIT */
/* The checker: every rule on whole records, scope, batch uniqueness, photos,
 * normalised values, all problems of a record reported, speed. Records are
 * built by hand so that each test controls every cell. */
#include "common/testutil.h"

#include <cairo.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "input/image.h"
#include "input/profile.h"
#include "input/rules.h"


/* ---------------------------------------------------------------- helpers */


typedef struct fixture {
	char *dir;          /* data folder (scratch) */
	cp_profile *profile;
	cp_checker *checker;
	cp_problems problems;
} fixture;

static void write_png(const char *path, int w, int h)
{
	cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
	cairo_t *cr = cairo_create(s);
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_paint(cr);
	cairo_destroy(cr);
	g_assert_cmpint(cairo_surface_write_to_png(s, path), ==, CAIRO_STATUS_SUCCESS);
	cairo_surface_destroy(s);
}

/* A w x h PNG in dir cut in the middle of its data: its header reads, its
 * pixels do not decode. */
static void write_cut_png(const char *dir, const char *name, int w, int h)
{
	char *p = g_build_filename(dir, name, NULL);
	write_png(p, w, h);
	char *data;
	gsize len;
	g_assert_true(g_file_get_contents(p, &data, &len, NULL));
	g_assert_true(g_file_set_contents(p, data, (gssize)(len / 2), NULL));
	g_free(data);
	g_free(p);
}

static void fixture_open(fixture *fx, const char *name, const char *profile_text)
{
	memset(fx, 0, sizeof *fx);
	fx->dir = tu_scratch(name);
	cp_error *err = NULL;
	char *path;
	if (profile_text)
		path = tu_write(fx->dir, "org.conf", profile_text);
	else
		path = tu_path("data/checker/org.conf");
	fx->profile = cp_profile_load(path, &err);
	tu_assert_no_error(err);
	g_free(path);
	char *photo = g_build_filename(fx->dir, "p.png", NULL);
	write_png(photo, 295, 413);
	g_free(photo);
	fx->checker = cp_checker_new(fx->profile, fx->dir, NULL, &err);
	tu_assert_no_error(err);
}

static void fixture_close(fixture *fx)
{
	cp_problems_clear(&fx->problems);
	cp_checker_free(fx->checker);
	cp_profile_free(fx->profile);
	g_free(fx->dir);
}

/* A valid record for the fixture profile; serial makes the number unique. */
static void good_record(cp_record *rec, long row, int serial)
{
	memset(rec, 0, sizeof *rec);
	rec->row = row;
	rec->line = row + 1;
	rec->raw[CP_FIELD_NAME] = g_strdup("欧阳娜娜");
	rec->raw[CP_FIELD_ID_TYPE] = g_strdup("居民身份证");
	rec->raw[CP_FIELD_ID_NUMBER] = tu_make_id("44010619900307123");
	rec->raw[CP_FIELD_OCCUPATION] = g_strdup("电工");
	rec->raw[CP_FIELD_JOB_TYPE] = g_strdup("维修电工");
	rec->raw[CP_FIELD_LEVEL] = g_strdup("高级工");
	rec->raw[CP_FIELD_CERT_NO] = g_strdup_printf("S000044000123263%06d", serial);
	rec->raw[CP_FIELD_ISSUE_DATE] = g_strdup("2026/11/27");
	rec->raw[CP_FIELD_PHOTO] = g_strdup("p.png");
}

static void set_raw(cp_record *rec, cp_field f, const char *v)
{
	g_free(rec->raw[f]);
	rec->raw[f] = g_strdup(v);
}

/* The problem with this rule, or NULL. */
static const cp_problem *find(const cp_problems *ps, const char *rule)
{
	for (size_t i = 0; i < ps->len; i++)
		if (strcmp(ps->items[i].rule, rule) == 0)
			return &ps->items[i];
	return NULL;
}

static void dump(const cp_problems *ps)
{
	for (size_t i = 0; i < ps->len; i++)
		g_test_message("row %ld %s %s [%s] %s: %s", ps->items[i].row,
		               ps->items[i].severity == CP_SEV_ERROR ? "error" : "warning",
		               ps->items[i].rule, ps->items[i].column ? ps->items[i].column : "-",
		               ps->items[i].value ? ps->items[i].value : "-",
		               ps->items[i].message);
}

/* Checks rec and asserts that a problem with rule is reported (with a
 * message containing needle when not NULL); returns it. */
static const cp_problem *expect_problem(fixture *fx, cp_record *rec, const char *rule,
                                        const char *needle)
{
	cp_problems_clear(&fx->problems);
	bool ok = cp_checker_check(fx->checker, rec, &fx->problems);
	dump(&fx->problems);
	const cp_problem *p = find(&fx->problems, rule);
	g_assert_nonnull(p);
	if (needle && !strstr(p->message, needle)) {
		g_test_message("expected '%s' in the message", needle);
		g_assert_nonnull(strstr(p->message, needle));
	}
	if (p->severity == CP_SEV_ERROR)
		g_assert_false(ok);
	return p;
}

static bool check_clean(fixture *fx, cp_record *rec)
{
	cp_problems_clear(&fx->problems);
	bool ok = cp_checker_check(fx->checker, rec, &fx->problems);
	dump(&fx->problems);
	return ok;
}

/* ------------------------------------------------------------------ tests */

/* A good record passes and gets printable, normalised values. */
static void test_valid_record(void)
{
	fixture fx;
	fixture_open(&fx, "checker-valid", NULL);
	cp_record rec;
	good_record(&rec, 1, 1);
	set_raw(&rec, CP_FIELD_LEVEL, " ３ ");
	set_raw(&rec, CP_FIELD_ID_NUMBER, "11010519491231002x");
	set_raw(&rec, CP_FIELD_NAME, "买买提・艾力");
	g_assert_true(check_clean(&fx, &rec));
	/* the only problem is the warning about the look-alike dot */
	g_assert_cmpuint(fx.problems.len, ==, 1);
	g_assert_cmpint(fx.problems.items[0].severity, ==, CP_SEV_WARNING);
	g_assert_cmpstr(fx.problems.items[0].rule, ==, "name.dot");
	g_assert_cmpstr(rec.value[CP_FIELD_NAME], ==, "买买提·艾力");
	g_assert_cmpstr(rec.value[CP_FIELD_ID_TYPE], ==, "居民身份证");
	g_assert_cmpstr(rec.value[CP_FIELD_ID_NUMBER], ==, "11010519491231002X");
	g_assert_cmpstr(rec.value[CP_FIELD_OCCUPATION], ==, "电工");
	g_assert_cmpstr(rec.value[CP_FIELD_JOB_TYPE], ==, "维修电工");
	g_assert_cmpstr(rec.value[CP_FIELD_LEVEL], ==, "三级/高级工");
	g_assert_cmpstr(rec.value[CP_FIELD_CERT_NO], ==, "S000044000123263000001");
	g_assert_cmpstr(rec.value[CP_FIELD_ISSUE_DATE], ==, "2026年11月27日");
	g_assert_true(g_path_is_absolute(rec.value[CP_FIELD_PHOTO]));
	g_assert_true(g_str_has_suffix(rec.value[CP_FIELD_PHOTO], "/checker-valid/p.png"));
	g_assert_null(rec.value[CP_FIELD_PRINT_SERIAL]);
	g_assert_cmpint(rec.level, ==, 3);
	g_assert_cmpint(rec.year, ==, 2026);
	g_assert_cmpint(rec.month, ==, 11);
	g_assert_cmpint(rec.day, ==, 27);
	cp_record_clear(&rec);

	/* an occupation without job types: a blank job type prints as -- (第十二条) */
	good_record(&rec, 2, 2);
	set_raw(&rec, CP_FIELD_OCCUPATION, "焊工");
	set_raw(&rec, CP_FIELD_JOB_TYPE, "  ");
	set_raw(&rec, CP_FIELD_LEVEL, "高级技师");
	set_raw(&rec, CP_FIELD_CERT_NO, "S000044000123261000002");
	set_raw(&rec, CP_FIELD_PRINT_SERIAL, " A0012345 ");
	g_assert_true(check_clean(&fx, &rec));
	g_assert_cmpuint(fx.problems.len, ==, 0);
	g_assert_cmpstr(rec.value[CP_FIELD_JOB_TYPE], ==, "--");
	g_assert_cmpstr(rec.value[CP_FIELD_LEVEL], ==, "一级/高级技师");
	g_assert_cmpstr(rec.value[CP_FIELD_PRINT_SERIAL], ==, "A0012345");
	/* "--" written out is the same */
	set_raw(&rec, CP_FIELD_JOB_TYPE, "--");
	set_raw(&rec, CP_FIELD_CERT_NO, "S000044000123261000003");
	g_assert_true(check_clean(&fx, &rec));
	cp_record_clear(&rec);
	fixture_close(&fx);
}

/* One record with many defects: every one is reported, each with row, line,
 * column, rule and article; the ID number is masked. */
static void test_all_problems(void)
{
	fixture fx;
	fixture_open(&fx, "checker-all", NULL);
	cp_record rec;
	good_record(&rec, 7, 1);
	char *id = tu_make_id("44010619900307123");
	id[17] = id[17] == '0' ? '1' : '0';
	set_raw(&rec, CP_FIELD_ID_NUMBER, id);
	set_raw(&rec, CP_FIELD_NAME, "张三3");
	set_raw(&rec, CP_FIELD_ISSUE_DATE, "2023-02-29");
	set_raw(&rec, CP_FIELD_CERT_NO, "Y000044000123264000000");
	set_raw(&rec, CP_FIELD_JOB_TYPE, "高压电工");
	g_assert_false(check_clean(&fx, &rec));

	const cp_problem *p = find(&fx.problems, "id_number.check");
	g_assert_nonnull(p);
	g_assert_cmpint(p->row, ==, 7);
	g_assert_cmpint(p->line, ==, 8);
	g_assert_cmpint(p->field, ==, CP_FIELD_ID_NUMBER);
	g_assert_cmpstr(p->column, ==, "证件号码");
	g_assert_cmpstr(p->article, ==, "第十一条");
	g_assert_null(strstr(p->value, "0619900307"));
	g_assert_nonnull(strchr(p->value, '*'));
	g_assert_null(strstr(p->message, "0619900307"));

	p = find(&fx.problems, "name.digit");
	g_assert_nonnull(p);
	g_assert_cmpstr(p->column, ==, "姓名");
	g_assert_cmpstr(p->value, ==, "张三3");
	g_assert_nonnull(find(&fx.problems, "issue_date.calendar"));
	p = find(&fx.problems, "cert_no.prefix");
	g_assert_nonnull(p);
	g_assert_cmpstr(p->article, ==, "编码规则");
	g_assert_nonnull(find(&fx.problems, "cert_no.level"));
	g_assert_nonnull(find(&fx.problems, "cert_no.serial"));
	p = find(&fx.problems, "scope.job_type");
	g_assert_nonnull(p);
	g_assert_cmpstr(p->article, ==, "第九条");
	g_assert_cmpstr(p->column, ==, "工种/职业方向");
	/* the year is not compared when the date itself is wrong */
	g_assert_null(find(&fx.problems, "cert_no.year"));
	g_assert_null(rec.value[CP_FIELD_NAME]);
	g_assert_null(rec.value[CP_FIELD_CERT_NO]);
	g_free(id);
	cp_record_clear(&rec);
	fixture_close(&fx);
}

/* Blank required fields are refused naming the field. */
static void test_blank_fields(void)
{
	fixture fx;
	fixture_open(&fx, "checker-blank", NULL);
	static const struct {
		cp_field f;
		const char *rule;
	} cases[] = {
		{CP_FIELD_NAME, "name.missing"},
		{CP_FIELD_ID_TYPE, "id_type.missing"},
		{CP_FIELD_ID_NUMBER, "id_number.missing"},
		{CP_FIELD_OCCUPATION, "occupation.missing"},
		{CP_FIELD_LEVEL, "level.missing"},
		{CP_FIELD_CERT_NO, "cert_no.missing"},
		{CP_FIELD_ISSUE_DATE, "issue_date.missing"},
		{CP_FIELD_PHOTO, "photo.missing"},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		cp_record rec;
		good_record(&rec, 1, (int)i + 1);
		g_free(rec.raw[cases[i].f]);
		rec.raw[cases[i].f] = i % 2 ? NULL : g_strdup(" \u3000");
		const cp_problem *p = expect_problem(&fx, &rec, cases[i].rule, NULL);
		g_assert_cmpint(p->field, ==, cases[i].f);
		g_assert_cmpstr(p->column, ==, cp_field_header(cases[i].f));
		cp_record_clear(&rec);
	}
	/* an unknown ID type and a blank number: both reported */
	cp_record rec;
	good_record(&rec, 1, 20);
	set_raw(&rec, CP_FIELD_ID_TYPE, "驾驶证");
	set_raw(&rec, CP_FIELD_ID_NUMBER, "");
	expect_problem(&fx, &rec, "id_type.unknown", "居民身份证");
	g_assert_nonnull(find(&fx.problems, "id_number.missing"));
	cp_record_clear(&rec);
	fixture_close(&fx);
}

/* 第九条: registered occupations, job types and levels only. */
static void test_scope(void)
{
	fixture fx;
	fixture_open(&fx, "checker-scope", NULL);
	cp_record rec;
	good_record(&rec, 1, 1);
	set_raw(&rec, CP_FIELD_OCCUPATION, "电焊工");
	const cp_problem *p = expect_problem(&fx, &rec, "scope.occupation", "电工、焊工、保育师");
	g_assert_cmpstr(p->article, ==, "第九条");
	g_assert_cmpstr(p->column, ==, "职业名称");
	cp_record_clear(&rec);

	good_record(&rec, 2, 2);
	set_raw(&rec, CP_FIELD_JOB_TYPE, "高压电工");
	expect_problem(&fx, &rec, "scope.job_type", "维修电工、安装电工");
	cp_record_clear(&rec);

	/* the occupation has job types: blank is not allowed */
	good_record(&rec, 3, 3);
	set_raw(&rec, CP_FIELD_JOB_TYPE, "");
	expect_problem(&fx, &rec, "job_type.missing", "cannot be blank");
	cp_record_clear(&rec);

	/* the occupation has none: a job type is not allowed */
	good_record(&rec, 4, 4);
	set_raw(&rec, CP_FIELD_OCCUPATION, "焊工");
	set_raw(&rec, CP_FIELD_JOB_TYPE, "电焊工");
	expect_problem(&fx, &rec, "scope.job_type", "without job types");
	cp_record_clear(&rec);

	/* above the highest registered level (电工 up to 三级) */
	good_record(&rec, 5, 5);
	set_raw(&rec, CP_FIELD_LEVEL, "技师");
	set_raw(&rec, CP_FIELD_CERT_NO, "S000044000123262000005");
	p = expect_problem(&fx, &rec, "scope.level", "二级/技师");
	g_assert_cmpstr(p->column, ==, "职业技能等级");
	cp_record_clear(&rec);
	/* below it is fine */
	good_record(&rec, 6, 6);
	set_raw(&rec, CP_FIELD_LEVEL, "初级");
	set_raw(&rec, CP_FIELD_CERT_NO, "S000044000123265000006");
	g_assert_true(check_clean(&fx, &rec));
	cp_record_clear(&rec);
	/* 保育师 is registered up to 五级 only */
	good_record(&rec, 7, 7);
	set_raw(&rec, CP_FIELD_OCCUPATION, "保育师");
	set_raw(&rec, CP_FIELD_JOB_TYPE, "");
	set_raw(&rec, CP_FIELD_LEVEL, "四级");
	set_raw(&rec, CP_FIELD_CERT_NO, "S000044000123264000007");
	expect_problem(&fx, &rec, "scope.level", "五级/初级工");
	cp_record_clear(&rec);
	fixture_close(&fx);
}

/* 一证一号: the second and third use of a number name the first row. */
static void test_duplicates(void)
{
	fixture fx;
	fixture_open(&fx, "checker-dup", NULL);
	cp_record rec;
	good_record(&rec, 3, 42);
	g_assert_true(check_clean(&fx, &rec));
	cp_record_clear(&rec);
	good_record(&rec, 4, 43);
	g_assert_true(check_clean(&fx, &rec));
	cp_record_clear(&rec);
	for (long row = 9; row <= 10; row++) {
		good_record(&rec, row, 42);
		/* a full-width spelling is the same number */
		if (row == 10)
			set_raw(&rec, CP_FIELD_CERT_NO, "Ｓ000044000123263000042");
		const cp_problem *p = expect_problem(&fx, &rec, "cert_no.duplicate",
		                                     "already used on row 3 (line 4)");
		g_assert_cmpstr(p->article, ==, "第十三条");
		g_assert_null(rec.value[CP_FIELD_CERT_NO]);
		cp_record_clear(&rec);
	}
	/* rows and lines past 32 bits are named as they are (kept apart) */
	good_record(&rec, 5000000000L, 44);
	rec.line = 4294967295L;
	g_assert_true(check_clean(&fx, &rec));
	cp_record_clear(&rec);
	good_record(&rec, 4294967294L, 45);
	rec.line = 4294967296L;
	g_assert_true(check_clean(&fx, &rec));
	cp_record_clear(&rec);
	good_record(&rec, 4294967293L, 46);
	g_assert_true(check_clean(&fx, &rec));
	cp_record_clear(&rec);
	/* rows one line each, then a row on two lines, then a row without a
	 * number: the first uses are found in the middle of a run and after */
	for (int i = 0; i < 5; i++) {
		good_record(&rec, 20 + i, 50 + i);
		rec.line = 30 + i;
		g_assert_true(check_clean(&fx, &rec));
		cp_record_clear(&rec);
	}
	good_record(&rec, 25, 55);
	rec.line = 36; /* row 24's cell spans two lines */
	g_assert_true(check_clean(&fx, &rec));
	cp_record_clear(&rec);
	good_record(&rec, 26, 0);
	set_raw(&rec, CP_FIELD_CERT_NO, "");
	rec.line = 37;
	g_assert_false(check_clean(&fx, &rec));
	cp_record_clear(&rec);
	good_record(&rec, 27, 57);
	rec.line = 38;
	g_assert_true(check_clean(&fx, &rec));
	cp_record_clear(&rec);
	static const struct { int serial; const char *first; } far[] = {
		{44, "already used on row 5000000000 (line 4294967295)"},
		{45, "already used on row 4294967294 (line 4294967296)"},
		{46, "already used on row 4294967293 (line 4294967294)"},
		{43, "already used on row 4 (line 5)"},
		{50, "already used on row 20 (line 30)"},
		{53, "already used on row 23 (line 33)"},
		{54, "already used on row 24 (line 34)"},
		{55, "already used on row 25 (line 36)"},
		{57, "already used on row 27 (line 38)"},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(far); i++) {
		good_record(&rec, 6000000000L + (long)i, far[i].serial);
		expect_problem(&fx, &rec, "cert_no.duplicate", far[i].first);
		cp_record_clear(&rec);
	}
	/* a fresh checker starts a fresh batch */
	cp_checker_free(fx.checker);
	cp_error *err = NULL;
	fx.checker = cp_checker_new(fx.profile, fx.dir, NULL, &err);
	tu_assert_no_error(err);
	good_record(&rec, 1, 42);
	g_assert_true(check_clean(&fx, &rec));
	cp_record_clear(&rec);
	fixture_close(&fx);
}

/* Checking the same record twice replaces the values (no leak, no stale). */
static void test_recheck(void)
{
	fixture fx;
	fixture_open(&fx, "checker-recheck", NULL);
	cp_record rec;
	good_record(&rec, 1, 1);
	g_assert_true(check_clean(&fx, &rec));
	set_raw(&rec, CP_FIELD_NAME, "张3");
	set_raw(&rec, CP_FIELD_CERT_NO, "S000044000123263000002");
	g_assert_false(check_clean(&fx, &rec));
	g_assert_null(rec.value[CP_FIELD_NAME]);
	g_assert_cmpstr(rec.value[CP_FIELD_LEVEL], ==, "三级/高级工");
	cp_record_clear(&rec);
	fixture_close(&fx);
}

/* Photos: required when printed, inside the data folder, decodable, 5:7,
 * 300 dpi wanted, below 150 dpi refused. */
static void test_photo(void)
{
	fixture fx;
	fixture_open(&fx, "checker-photo", NULL);
	char *outside_dir = tu_scratch("checker-photo-outside");
	char *outside = g_build_filename(outside_dir, "o.png", NULL);
	write_png(outside, 295, 413);
	char *sub = g_build_filename(fx.dir, "photos", NULL);
	g_mkdir_with_parents(sub, 0755);
	char *p;
	p = g_build_filename(sub, "in.png", NULL);
	write_png(p, 354, 496);
	g_free(p);
	p = g_build_filename(fx.dir, "small.png", NULL);
	write_png(p, 200, 280);
	g_free(p);
	p = g_build_filename(fx.dir, "tiny.png", NULL);
	write_png(p, 100, 140);
	g_free(p);
	p = g_build_filename(fx.dir, "square.png", NULL);
	write_png(p, 400, 400);
	g_free(p);
	p = g_build_filename(fx.dir, "landscape.png", NULL);
	write_png(p, 413, 295);
	g_free(p);
	g_free(tu_write(fx.dir, "text.png", "this is not an image\n"));
	/* a PNG cut in the middle of its data: the header still reads */
	write_cut_png(fx.dir, "cut.png", 295, 413);
	/* the sizes 人社 platforms hand out */
	p = g_build_filename(fx.dir, "e-id.png", NULL);
	write_png(p, 358, 441);
	g_free(p);
	p = g_build_filename(fx.dir, "s390.png", NULL);
	write_png(p, 390, 567);
	g_free(p);
	p = g_build_filename(fx.dir, "s413.png", NULL);
	write_png(p, 413, 579);
	g_free(p);
	p = g_build_filename(fx.dir, "wide.png", NULL);
	write_png(p, 380, 441);
	g_free(p);
	/* a phone portrait stored sideways, turned by its EXIF tag */
	g_free(tu_write_exif_jpeg(fx.dir, "phone.jpg", 413, 295, 6, TRUE));
	g_free(tu_write_exif_jpeg(fx.dir, "phone-flat.jpg", 413, 295, 1, TRUE));
	p = g_build_filename(sub, "UPPER.JPG", NULL);
	write_png(p, 295, 413);
	g_free(p);
	p = g_build_filename(sub, "Twice.png", NULL);
	write_png(p, 295, 413);
	g_free(p);
	p = g_build_filename(sub, "twice.PNG", NULL);
	write_png(p, 295, 413);
	g_free(p);
	p = g_build_filename(fx.dir, "link-out.png", NULL);
	g_assert_cmpint(symlink(outside, p), ==, 0);
	g_free(p);
	p = g_build_filename(fx.dir, "link-in.png", NULL);
	g_assert_cmpint(symlink("photos/in.png", p), ==, 0);
	g_free(p);
	p = g_build_filename(fx.dir, "dir-out", NULL);
	g_assert_cmpint(symlink(outside_dir, p), ==, 0);
	g_free(p);

	const struct {
		const char *photo;
		const char *rule;    /* NULL: printable */
		cp_severity sev;
		const char *needle;
	} cases[] = {
		{"photos/in.png", NULL, 0, NULL},
		{" photos/in.png ", NULL, 0, NULL},
		{"./photos/../p.png", "photo.outside", CP_SEV_ERROR, "'..'"},
		{"link-in.png", NULL, 0, NULL},
		{"missing.png", "photo.missing", CP_SEV_ERROR, "cannot be found"},
		{"photos", "photo.missing", CP_SEV_ERROR, "not a regular file"},
		{"../checker-photo-outside/o.png", "photo.outside", CP_SEV_ERROR, "'..'"},
		{"..\\checker-photo-outside\\o.png", "photo.outside", CP_SEV_ERROR, NULL},
		{outside, "photo.outside", CP_SEV_ERROR, "relative"},
		{"link-out.png", "photo.outside", CP_SEV_ERROR, "symbolic link"},
		{"dir-out/o.png", "photo.outside", CP_SEV_ERROR, "symbolic link"},
		{"text.png", "photo.image", CP_SEV_ERROR, "cannot be read"},
		{"cut.png", "photo.image", CP_SEV_ERROR, "cannot be decoded"},
		{"tiny.png", "photo.resolution", CP_SEV_ERROR, "below 150 dpi"},
		{"small.png", "photo.resolution", CP_SEV_WARNING, "below 300 dpi"},
		{"square.png", "photo.aspect", CP_SEV_ERROR, "1.00"},
		{"landscape.png", "photo.aspect", CP_SEV_ERROR, NULL},
		{"p\xE2\x80\xAE" "gnp.png", "text.bidi", CP_SEV_ERROR, NULL},
		{"photos\\in.png", NULL, 0, NULL},
		{".\\photos\\in.png", NULL, 0, NULL},
		{"\\photos\\in.png", "photo.outside", CP_SEV_ERROR, "relative"},
		{"Photos/IN.png", "photo.case", CP_SEV_WARNING, "named photos/in.png, not Photos/IN.png"},
		{"photos/upper.jpg", "photo.case", CP_SEV_WARNING, "named photos/UPPER.JPG"},
		{"photos\\upper.jpg", "photo.case", CP_SEV_WARNING, "named photos/UPPER.JPG"},
		{"photos/TWICE.png", "photo.missing", CP_SEV_ERROR,
		 "no TWICE.png in photos/, and several names there differ from it only in "
		 "case (Twice.png、twice.PNG)"},
		{"photos/inn.png", "photo.missing", CP_SEV_ERROR,
		 "no inn.png in photos/ (similar names there: in.png)"},
		{"photos/in.jpg", "photo.missing", CP_SEV_ERROR, "(similar names there: in.png)"},
		{"photo/in.png", "photo.missing", CP_SEV_ERROR,
		 "no photo in the CSV's folder (similar names there: photos)"},
		{"nothing-like-it.png", "photo.missing", CP_SEV_ERROR,
		 "there is no nothing-like-it.png in the CSV's folder"},
		{"e-id.png", "photo.crop", CP_SEV_WARNING,
		 "358 × 441 pixels (width/height 0.81, wider than 5:7); it is printed "
		 "centre-cropped to 315 × 441, 43 pixels cut from the left and right"},
		{"s390.png", "photo.crop", CP_SEV_WARNING, "cropped to 390 × 546, 21 pixels cut from the top"},
		{"s413.png", NULL, 0, NULL},
		{"wide.png", "photo.aspect", CP_SEV_ERROR, "0.86"},
		{"phone.jpg", "photo.exif", CP_SEV_WARNING, "stored turned (EXIF orientation 6); it is printed upright"},
		{"phone-flat.jpg", "photo.aspect", CP_SEV_ERROR, "413 × 295"},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		cp_record rec;
		good_record(&rec, 1, (int)i + 1);
		set_raw(&rec, CP_FIELD_PHOTO, cases[i].photo);
		g_test_message("photo '%s'", cases[i].photo);
		if (!cases[i].rule) {
			g_assert_true(check_clean(&fx, &rec));
			g_assert_cmpuint(fx.problems.len, ==, 0);
			char *want = strstr(cases[i].photo, "in.png")
			                     ? g_strdup("/checker-photo/photos/in.png")
			                     : g_strconcat("/", cases[i].photo, NULL);
			g_assert_true(g_str_has_suffix(rec.value[CP_FIELD_PHOTO], want));
			g_free(want);
		} else {
			const cp_problem *pr = expect_problem(&fx, &rec, cases[i].rule,
			                                      cases[i].needle);
			g_assert_cmpint(pr->severity, ==, cases[i].sev);
			g_assert_cmpint(pr->field, ==, CP_FIELD_PHOTO);
			if (cases[i].sev == CP_SEV_WARNING) {
				g_assert_nonnull(rec.value[CP_FIELD_PHOTO]);
			} else {
				g_assert_null(rec.value[CP_FIELD_PHOTO]);
			}
		}
		cp_record_clear(&rec);
	}
	/* a warning alone leaves the record printable */
	cp_record rec;
	good_record(&rec, 1, 900);
	set_raw(&rec, CP_FIELD_PHOTO, "small.png");
	g_assert_true(check_clean(&fx, &rec));
	cp_record_clear(&rec);
	/* a picture taken out of a workbook's photo cell is the photo; the
	 * reader's reason for refusing one is reported as photo.picture */
	good_record(&rec, 1, 902);
	set_raw(&rec, CP_FIELD_PHOTO, "");
	rec.photo_picture = g_build_filename(fx.dir, "e-id.png", NULL);
	g_assert_true(check_clean(&fx, &rec));
	g_assert_cmpstr(rec.value[CP_FIELD_PHOTO], ==, rec.photo_picture);
	g_assert_nonnull(find(&fx.problems, "photo.crop"));
	cp_record_clear(&rec);
	good_record(&rec, 1, 903);
	set_raw(&rec, CP_FIELD_PHOTO, "");
	rec.photo_picture_problem = g_strdup("cell I4 holds 2 pictures");
	const cp_problem *pp = expect_problem(&fx, &rec, "photo.picture", "cell I4 holds 2");
	g_assert_cmpint(pp->severity, ==, CP_SEV_ERROR);
	cp_record_clear(&rec);
	/* a name differing in case only is the file as it is really named */
	good_record(&rec, 1, 901);
	set_raw(&rec, CP_FIELD_PHOTO, "photos\\upper.jpg");
	g_assert_true(check_clean(&fx, &rec));
	g_assert_true(g_str_has_suffix(rec.value[CP_FIELD_PHOTO], "/photos/UPPER.JPG"));
	cp_record_clear(&rec);
	fixture_close(&fx);

	/* photo_fit = refuse: the photos taken with a warning above are refused,
	 * each with its reason; a Windows path is the same file either way */
	fixture_open(&fx, "checker-refuse",
	             "[organization]\nname = 示例\ncert_prefix = S000044000123\n"
	             "photo_fit = refuse\n[scope 电工]\njob_types = 维修电工\nmax_level = 3\n");
	g_assert_cmpint(cp_profile_photo_fit(fx.profile), ==, CP_PHOTO_FIT_REFUSE);
	p = g_build_filename(fx.dir, "photos", NULL);
	g_mkdir_with_parents(p, 0755);
	g_free(p);
	p = g_build_filename(fx.dir, "e-id.png", NULL);
	write_png(p, 358, 441);
	g_free(p);
	p = g_build_filename(fx.dir, "photos", "UPPER.JPG", NULL);
	write_png(p, 295, 413);
	g_free(p);
	g_free(tu_write_exif_jpeg(fx.dir, "phone.jpg", 413, 295, 6, TRUE));
	const struct {
		const char *photo, *rule, *needle;
	} refused[] = {
		{"e-id.png", "photo.aspect",
		 "358 × 441 pixels (width/height 0.81), not 5:7 (0.70–0.73); the profile does not "
		 "crop photos (photo_fit = refuse)"},
		{"photos/upper.jpg", "photo.case",
		 "there is no photos/upper.jpg; did you mean photos/UPPER.JPG?"},
		{"phone.jpg", "photo.exif", "stored turned (EXIF orientation 6)"},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(refused); i++) {
		good_record(&rec, 1, 950 + (int)i);
		set_raw(&rec, CP_FIELD_PHOTO, refused[i].photo);
		const cp_problem *pr = expect_problem(&fx, &rec, refused[i].rule, refused[i].needle);
		g_assert_cmpint(pr->severity, ==, CP_SEV_ERROR);
		g_assert_null(rec.value[CP_FIELD_PHOTO]);
		cp_record_clear(&rec);
	}
	good_record(&rec, 1, 960);
	set_raw(&rec, CP_FIELD_PHOTO, "photos\\UPPER.JPG");
	g_assert_true(check_clean(&fx, &rec));
	cp_record_clear(&rec);
	fixture_close(&fx);

	/* photos pasted on by hand: the photo may be absent */
	fixture_open(&fx, "checker-pasted",
	             "[organization]\nname = 示例\ncert_prefix = S000044000123\n"
	             "photos = pasted\n[scope 电工]\njob_types = 维修电工\nmax_level = 3\n");
	good_record(&rec, 1, 1);
	set_raw(&rec, CP_FIELD_PHOTO, "");
	g_assert_true(check_clean(&fx, &rec));
	g_assert_null(rec.value[CP_FIELD_PHOTO]);
	cp_record_clear(&rec);
	fixture_close(&fx);
	g_free(outside);
	g_free(outside_dir);
	g_free(sub);
}

static void test_new_errors(void)
{
	cp_error *err = NULL;
	char *path = tu_path("data/checker/org.conf");
	cp_profile *p = cp_profile_load(path, &err);
	tu_assert_no_error(err);
	g_assert_null(cp_checker_new(p, "/nonexistent/folder", NULL, &err));
	tu_assert_error(&err, CP_E_IO, "/nonexistent/folder");
	g_assert_null(cp_checker_new(p, path, NULL, &err));
	tu_assert_error(&err, CP_E_IO, "not a folder");
	g_assert_null(cp_checker_new(NULL, ".", NULL, &err));
	tu_assert_error(&err, CP_E_USAGE, NULL);
	cp_checker_free(NULL);
	cp_problems_clear(NULL);
	cp_profile_free(p);
	g_free(path);
}

/* 10,000 records, every one accepted and none with a problem (photos
 * pasted: no decoding). The time is shown, not judged: it would turn on the
 * machine; make bench measures speed. */
static void test_speed(void)
{
	fixture fx;
	fixture_open(&fx, "checker-speed",
	             "[organization]\nname = 示例\ncert_prefix = S000044000123\n"
	             "photos = pasted\n[scope 电工]\njob_types = 维修电工\nmax_level = 3\n");
	enum { N = 10000 };
	cp_record *recs = g_new0(cp_record, N);
	for (int i = 0; i < N; i++)
		good_record(&recs[i], i + 1, i + 1);
	g_test_timer_start();
	size_t ok = 0;
	for (int i = 0; i < N; i++)
		ok += cp_checker_check(fx.checker, &recs[i], &fx.problems);
	double t = g_test_timer_elapsed();
	g_test_message("%d records checked in %.3f s", N, t);
	g_assert_cmpuint(ok, ==, N);
	g_assert_cmpuint(fx.problems.len, ==, 0);
	for (int i = 0; i < N; i++)
		cp_record_clear(&recs[i]);
	g_free(recs);
	fixture_close(&fx);
}


/* Through the real CSV reader: problems name the file's own column headers,
 * a short row is refused, blank extra cells only warned about, and a profile
 * that prints photos refuses a CSV without a photo column up front. */
static void test_with_reader(void)
{
	char *dir = tu_scratch("checker-reader");
	char *photo = g_build_filename(dir, "p.png", NULL);
	write_png(photo, 295, 413);
	char *id = tu_make_id("44010619900307123");
	char *csv_text = g_strdup_printf(
		"姓名,证件类型,证件号码,职业名称,工种/职业方向,职业技能等级,cert_no,发证日期,照片\n"
		"张三,身份证,%s,电工,维修电工,3,S000044000123263000001,2026-11-27,p.png\n"
		"李四,身份证,%s,电工,维修电工,3,S000044000123263000001,2026-11-27\n"
		"王五,身份证,%s,电工,维修电工,3,S000044000123263000003,2026-11-27,p.png,,\n",
		id, id, id);
	char *csv = tu_write(dir, "batch.csv", csv_text);
	cp_error *err = NULL;
	char *ppath = tu_path("data/checker/org.conf");
	cp_profile *prof = cp_profile_load(ppath, &err);
	tu_assert_no_error(err);
	cp_reader *r = cp_reader_open(csv, &err);
	tu_assert_no_error(err);
	cp_checker *c = cp_checker_new(prof, cp_reader_dir(r), r, &err);
	tu_assert_no_error(err);
	cp_problems ps = {0};
	cp_record rec = {0};
	g_assert_cmpint(cp_reader_next(r, &rec, &err), ==, 1);
	g_assert_true(cp_checker_check(c, &rec, &ps));
	g_assert_cmpuint(ps.len, ==, 0);
	g_assert_cmpint(cp_reader_next(r, &rec, &err), ==, 1);
	g_assert_false(cp_checker_check(c, &rec, &ps));
	dump(&ps);
	const cp_problem *p = find(&ps, "row.cells");
	g_assert_nonnull(p);
	g_assert_cmpint(p->severity, ==, CP_SEV_ERROR);
	g_assert_cmpint(p->row, ==, rec.row);
	g_assert_cmpint(p->line, ==, 3);
	p = find(&ps, "cert_no.duplicate");
	g_assert_nonnull(p);
	g_assert_cmpstr(p->column, ==, "cert_no"); /* the header as in the file */
	g_assert_nonnull(strstr(p->message, "(line 2)"));
	cp_problems_clear(&ps);
	g_assert_cmpint(cp_reader_next(r, &rec, &err), ==, 1);
	g_assert_true(cp_checker_check(c, &rec, &ps));
	p = find(&ps, "row.cells");
	g_assert_nonnull(p);
	g_assert_cmpint(p->severity, ==, CP_SEV_WARNING);
	cp_problems_clear(&ps);
	cp_record_clear(&rec);
	cp_checker_free(c);
	cp_reader_free(r);
	g_free(csv);
	g_free(csv_text);

	csv_text = g_strdup_printf(
		"姓名,证件类型,证件号码,职业名称,工种/职业方向,职业技能等级,证书编号,发证日期\n"
		"张三,身份证,%s,电工,维修电工,3,S000044000123263000001,2026-11-27\n", id);
	csv = tu_write(dir, "nophoto.csv", csv_text);
	r = cp_reader_open(csv, &err);
	tu_assert_no_error(err);
	g_assert_null(cp_checker_new(prof, cp_reader_dir(r), r, &err));
	tu_assert_error(&err, CP_E_PARSE, "no 照片 column");
	cp_reader_free(r);
	cp_profile_free(prof);
	g_free(csv);
	g_free(csv_text);
	g_free(ppath);
	g_free(id);
	g_free(photo);
	g_free(dir);
}

/* The problems of a record as one string, in order, and its photo value. */
static char *problems_text(const cp_problems *ps, const cp_record *rec, bool valid)
{
	GString *g = g_string_new(valid ? "valid" : "refused");
	g_string_append_printf(g, " photo=%s\n", rec->value[CP_FIELD_PHOTO] ? rec->value[CP_FIELD_PHOTO]
	                                                                      : "-");
	for (size_t i = 0; i < ps->len; i++)
		g_string_append_printf(g, "%ld %d %s %s %s %s %s\n", ps->items[i].row,
		                       ps->items[i].severity, ps->items[i].rule,
		                       ps->items[i].column ? ps->items[i].column : "-",
		                       ps->items[i].value ? ps->items[i].value : "-",
		                       ps->items[i].article ? ps->items[i].article : "-",
		                       ps->items[i].message);
	return g_string_free(g, FALSE);
}

/* The photo's decode left to cp_checker_decode_photo() (a pool's worker)
 * gives the same verdict, problems, order and value as the check that
 * decodes: a photo cut short alone, with another photo problem before the
 * decode's (a landscape one cut short), with a problem of a later field
 * after it (the print serial), a good photo, a photo problem found before
 * any decode (missing). */
static void test_photo_deferred(void)
{
	fixture fx;
	fixture_open(&fx, "checker-photo-deferred", NULL);
	write_cut_png(fx.dir, "cut.png", 295, 413);
	write_cut_png(fx.dir, "cut-wide.png", 413, 295);
	const char *photos[] = {"cut.png", "cut-wide.png", "p.png", "missing.png"};
	const char *serials[] = {NULL, "GD\xE2\x80\xAE" "001"};
	int serial = 1;
	for (size_t ph = 0; ph < G_N_ELEMENTS(photos); ph++)
		for (size_t se = 0; se < G_N_ELEMENTS(serials); se++) {
			char *text[2];
			for (int defer = 0; defer < 2; defer++) {
				cp_record rec;
				good_record(&rec, 7, serial++);
				set_raw(&rec, CP_FIELD_PHOTO, photos[ph]);
				if (serials[se])
					set_raw(&rec, CP_FIELD_PRINT_SERIAL, serials[se]);
				cp_problems_clear(&fx.problems);
				cp_checker_defer_photo_decode(fx.checker, defer);
				bool ok = cp_checker_check(fx.checker, &rec, &fx.problems);
				if (defer) {
					g_assert_true(rec.photo_decode_due ==
					              (strcmp(photos[ph], "missing.png") != 0));
					ok &= cp_checker_decode_photo(fx.checker, &rec, &fx.problems);
					g_assert_false(rec.photo_decode_due);
					/* a second call finds nothing left to do */
					g_assert_true(cp_checker_decode_photo(fx.checker, &rec, &fx.problems));
				} else {
					g_assert_false(rec.photo_decode_due);
				}
				text[defer] = problems_text(&fx.problems, &rec, ok);
				cp_record_clear(&rec);
			}
			g_test_message("%s", text[0]);
			g_assert_cmpstr(text[1], ==, text[0]);
			if (strncmp(photos[ph], "cut", 3) == 0)
				g_assert_nonnull(strstr(text[0], "cannot be decoded"));
			g_free(text[0]);
			g_free(text[1]);
		}
	cp_checker_defer_photo_decode(fx.checker, false);
	fixture_close(&fx);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/checker/valid", test_valid_record);
	g_test_add_func("/checker/all-problems", test_all_problems);
	g_test_add_func("/checker/blank", test_blank_fields);
	g_test_add_func("/checker/scope", test_scope);
	g_test_add_func("/checker/duplicates", test_duplicates);
	g_test_add_func("/checker/recheck", test_recheck);
	g_test_add_func("/checker/photo", test_photo);
	g_test_add_func("/checker/photo-deferred", test_photo_deferred);
	g_test_add_func("/checker/new-errors", test_new_errors);
	g_test_add_func("/checker/speed", test_speed);
	g_test_add_func("/checker/with-reader", test_with_reader);
	return g_test_run();
}
