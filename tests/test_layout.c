/* SPDX-License-Identifier: MIT */
/* The layout engine on the reference template: text fitting (wrap, shrink,
 * refuse), missing glyphs, plain text, the three drawing modes, calibration,
 * and every required field inked. Renders the reference certificate to
 * build/tests/scratch/layout/ (PNG files) for people to look at. */
#include "common/testutil.h"

#include <cairo-pdf.h>

#include <math.h>
#include <string.h>

#include "layout/fonts.h"
#include "layout/layout.h"
#include "layout/qr.h"
#include "layout/template.h"

static cp_fonts *fonts;
static char *scratch;
static char *photo_png, *seal_png;

#define DPI 120.0

/* A 250×350 px passport-style photo: pale blue ground, grey head and
 * shoulders. */
static char *make_photo(const char *dir)
{
	cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 250, 350);
	cairo_t *cr = cairo_create(s);
	cairo_set_source_rgb(cr, 0.93, 0.95, 1.0);
	cairo_paint(cr);
	cairo_set_source_rgb(cr, 0.35, 0.35, 0.4);
	cairo_arc(cr, 125, 140, 62, 0, 2 * G_PI);
	cairo_fill(cr);
	cairo_move_to(cr, 20, 350);
	cairo_curve_to(cr, 30, 230, 220, 230, 230, 350);
	cairo_fill(cr);
	cairo_destroy(cr);
	char *p = g_build_filename(dir, "photo.png", NULL);
	g_assert_cmpint(cairo_surface_write_to_png(s, p), ==, CAIRO_STATUS_SUCCESS);
	cairo_surface_destroy(s);
	return p;
}

/* A red round seal on a transparent ground, 420×420 px. */
static char *make_seal(const char *dir)
{
	cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 420, 420);
	cairo_t *cr = cairo_create(s);
	cairo_set_source_rgba(cr, 0.85, 0.05, 0.05, 0.85);
	cairo_set_line_width(cr, 14);
	cairo_arc(cr, 210, 210, 195, 0, 2 * G_PI);
	cairo_stroke(cr);
	/* a five-pointed star */
	for (int i = 0; i < 10; i++) {
		double r = i % 2 ? 30 : 75, a = -G_PI / 2 + i * G_PI / 5;
		cairo_line_to(cr, 210 + r * cos(a), 210 + r * sin(a));
	}
	cairo_close_path(cr);
	cairo_fill(cr);
	cairo_destroy(cr);
	char *p = g_build_filename(dir, "seal.png", NULL);
	g_assert_cmpint(cairo_surface_write_to_png(s, p), ==, CAIRO_STATUS_SUCCESS);
	cairo_surface_destroy(s);
	return p;
}

static cp_profile *profile(bool pasted, bool seal)
{
	char *text = g_strdup_printf(
		"[organization]\n"
		"name = 广东省示例职业技能评价中心\n"
		"cert_prefix = S000044000123\n"
		"photos = %s\n"
		"%s%s%s"
		"[scope 电工]\n"
		"job_types = 维修电工\n"
		"max_level = 三级\n",
		pasted ? "pasted" : "printed", seal ? "seal = " : "", seal ? seal_png : "",
		seal ? "\n" : "");
	char *path = tu_write(scratch, pasted ? "org-pasted.conf" : "org.conf", text);
	cp_error *err = NULL;
	cp_profile *p = cp_profile_load(path, &err);
	tu_assert_no_error(err);
	g_free(path);
	g_free(text);
	return p;
}

static cp_template *reference(void)
{
	cp_error *err = NULL;
	cp_template *t = cp_template_load(CP_TESTDIR "/../templates/certificate.conf", &err);
	tu_assert_no_error(err);
	return t;
}

static void sample(cp_record *r)
{
	memset(r, 0, sizeof *r);
	r->row = 7;
	r->value[CP_FIELD_NAME] = g_strdup("张伟");
	r->value[CP_FIELD_ID_TYPE] = g_strdup("居民身份证");
	r->value[CP_FIELD_ID_NUMBER] = g_strdup("44010619900307123X");
	r->value[CP_FIELD_OCCUPATION] = g_strdup("电工");
	r->value[CP_FIELD_JOB_TYPE] = g_strdup("维修电工");
	r->value[CP_FIELD_LEVEL] = g_strdup("三级/高级工");
	r->value[CP_FIELD_CERT_NO] = g_strdup("S000044000123263000001");
	r->value[CP_FIELD_ISSUE_DATE] = g_strdup("2026年11月27日");
	r->value[CP_FIELD_PHOTO] = g_strdup(photo_png);
	r->value[CP_FIELD_PRINT_SERIAL] = g_strdup("GD2026A0001234");
}

static void set(cp_record *r, cp_field f, const char *v)
{
	g_free(r->value[f]);
	r->value[f] = v ? g_strdup(v) : NULL;
}

static void clear(cp_record *r)
{
	for (int i = 0; i < CP_FIELD_COUNT; i++)
		g_free(r->value[i]);
	memset(r, 0, sizeof *r);
}

typedef struct fixture {
	cp_template *t;
	cp_profile *p;
	cp_engine *e;
	cp_record rec;
} fixture;

static void fx_init(fixture *fx, bool pasted)
{
	cp_error *err = NULL;
	fx->t = reference();
	fx->p = profile(pasted, true);
	fx->e = cp_engine_new(fx->t, fx->p, fonts, &err);
	tu_assert_no_error(err);
	sample(&fx->rec);
}

static void fx_clear(fixture *fx)
{
	cp_engine_free(fx->e);
	cp_profile_free(fx->p);
	cp_template_free(fx->t);
	clear(&fx->rec);
}

static cp_page *layout_ok(fixture *fx)
{
	cp_error *err = NULL;
	cp_page *pg = cp_engine_layout(fx->e, &fx->rec, &err);
	tu_assert_no_error(err);
	g_assert_nonnull(pg);
	return pg;
}

static void layout_refused(fixture *fx, const char *needle)
{
	cp_error *err = NULL;
	g_assert_null(cp_engine_layout(fx->e, &fx->rec, &err));
	g_assert_nonnull(err);
	g_assert_cmpint(err->row, ==, 7);
	tu_assert_error(&err, CP_E_REFUSED, needle);
}

/* ------------------------------------------------------------- rendering */

static cairo_surface_t *render(fixture *fx, const cp_page *pg, cp_mode mode,
                               double ox, double oy)
{
	int w = (int)ceil(cp_template_page_width_mm(fx->t) / 25.4 * DPI);
	int h = (int)ceil(cp_template_page_height_mm(fx->t) / 25.4 * DPI);
	cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
	cairo_t *cr = cairo_create(s);
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_paint(cr);
	cairo_scale(cr, DPI / 25.4, DPI / 25.4);
	cp_output_opts o;
	cp_output_opts_init(&o);
	o.mode = mode;
	o.offset_x_mm = ox;
	o.offset_y_mm = oy;
	cp_engine_draw(fx->e, pg, cr, &o);
	g_assert_cmpint(cairo_status(cr), ==, CAIRO_STATUS_SUCCESS);
	cairo_destroy(cr);
	cairo_surface_flush(s);
	return s;
}

static void save(cairo_surface_t *s, const char *name)
{
	char *p = g_build_filename(scratch, name, NULL);
	g_assert_cmpint(cairo_surface_write_to_png(s, p), ==, CAIRO_STATUS_SUCCESS);
	g_test_message("rendered %s", p);
	g_free(p);
}

typedef struct ink {
	long dark, red;
} ink;

/* Counts pixels inside a box (mm): dark (any channel well below white) and
 * seal red. */
static ink ink_in(cairo_surface_t *s, double x, double y, double w, double h)
{
	ink k = {0, 0};
	int W = cairo_image_surface_get_width(s), H = cairo_image_surface_get_height(s);
	int stride = cairo_image_surface_get_stride(s);
	const unsigned char *d = cairo_image_surface_get_data(s);
	int x0 = MAX(0, (int)floor(x / 25.4 * DPI)), x1 = MIN(W, (int)ceil((x + w) / 25.4 * DPI));
	int y0 = MAX(0, (int)floor(y / 25.4 * DPI)), y1 = MIN(H, (int)ceil((y + h) / 25.4 * DPI));
	for (int py = y0; py < y1; py++)
		for (int px = x0; px < x1; px++) {
			guint32 c = ((const guint32 *)(d + (size_t)py * (size_t)stride))[px];
			int r = (c >> 16) & 255, g = (c >> 8) & 255, b = c & 255;
			if (r < 160 || g < 160 || b < 160)
				k.dark++;
			if (r > 150 && g < 110 && b < 110)
				k.red++;
		}
	return k;
}

/* --------------------------------------------------------------- tests */

/* A plain record: every field on one line at 12 pt (小四) FangSong, the
 * values exactly as given, every required field's box inked in full mode,
 * and the three modes rendered for inspection. */
static void test_plain_record(void)
{
	fixture fx;
	fx_init(&fx, false);
	cp_page *pg = layout_ok(&fx);
	for (int f = 0; f < CP_FIELD_COUNT; f++) {
		if (f == CP_FIELD_PHOTO)
			continue;
		const cp_page_item *it = cp_page_find(pg, f);
		g_assert_nonnull(it);
		g_assert_cmpstr(it->text, ==, fx.rec.value[f]);
		g_assert_cmpint(it->lines, ==, 1);
		if (f != CP_FIELD_PRINT_SERIAL)
			g_assert_cmpfloat(it->font_size, ==, 12);
		/* the text lies within its box */
		g_assert_cmpfloat(it->text_x, >=, it->x - 1e-6);
		g_assert_cmpfloat(it->text_x + it->text_w, <=, it->x + it->w + 1e-6);
		g_assert_cmpfloat(it->text_y, >=, it->y - 1e-6);
		g_assert_cmpfloat(it->text_y + it->text_h, <=, it->y + it->h + 1e-6);
	}
	const cp_page_item *org = cp_page_find(pg, CP_BIND_ORG_NAME);
	g_assert_cmpstr(org->text, ==, "广东省示例职业技能评价中心");

	cairo_surface_t *full = render(&fx, pg, CP_MODE_FULL, 0, 0);
	save(full, "reference-full.png");
	size_t n;
	const cp_page_item *items = cp_page_items(pg, &n);
	for (size_t i = 0; i < n; i++) {
		const cp_page_item *it = &items[i];
		if ((it->kind == CP_EL_FIELD && it->el->required) ||
		    (it->kind == CP_EL_TEXT && it->text) ||
		    it->kind == CP_EL_QR || it->kind == CP_EL_PHOTO) {
			ink k = ink_in(full, it->x, it->y, it->w, it->h);
			if (k.dark == 0)
				g_test_message("no ink in element on line %ld", it->el->line);
			g_assert_cmpint(k.dark, >, 0);
		}
	}
	cairo_surface_t *el = render(&fx, pg, CP_MODE_ELECTRONIC, 0, 0);
	save(el, "reference-electronic.png");
	cairo_surface_t *fill = render(&fx, pg, CP_MODE_FILL, 0, 0);
	save(fill, "reference-fill.png");
	cairo_surface_destroy(full);
	cairo_surface_destroy(el);
	cairo_surface_destroy(fill);
	cp_page_free(pg);
	cp_page_free(NULL);
	fx_clear(&fx);
}

/* The ledger's digest of a page as every version since "v2" computes it
 * (ledgers keep them: a new build must give the same): GLib's SHA-256 of a
 * head line, a line per item and the photo's own SHA-256. */
static char *digest_v2(const cp_page *pg, cp_mode mode, const char *photo)
{
	GChecksum *ck = g_checksum_new(G_CHECKSUM_SHA256);
	char *head = g_strdup_printf("certpress-page-v2\t%s\n", cp_mode_name(mode));
	g_checksum_update(ck, (const guchar *)head, -1);
	g_free(head);
	size_t n;
	const cp_page_item *it = cp_page_items(pg, &n);
	for (size_t i = 0; i < n; i++) {
		char buf[160];
		g_snprintf(buf, sizeof buf, "%d\t%d\t%lld\t%lld\t%lld\t%lld\t%lld\t", (int)it[i].kind,
		           it[i].bind, llround(it[i].x * 1000), llround(it[i].y * 1000),
		           llround(it[i].w * 1000), llround(it[i].h * 1000),
		           llround(it[i].font_size * 100));
		g_checksum_update(ck, (const guchar *)buf, -1);
		if (it[i].text)
			g_checksum_update(ck, (const guchar *)it[i].text, -1);
		g_checksum_update(ck, (const guchar *)"\n", 1);
	}
	const char *known = cp_page_photo_sha256(pg);
	gchar *data = NULL;
	gsize len = 0;
	char *ph = NULL;
	if (!known && photo && g_file_get_contents(photo, &data, &len, NULL)) {
		ph = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)data, len);
		g_free(data);
	}
	if (known || ph) {
		g_checksum_update(ck, (const guchar *)"photo\t", -1);
		g_checksum_update(ck, (const guchar *)(known ? known : ph), -1);
	}
	g_free(ph);
	char *hex = g_strdup(g_checksum_get_string(ck));
	g_checksum_free(ck);
	return hex;
}

/* The ledger's page digest: the same record gives the same digest (from a
 * second engine too, as another worker would), and any printed difference
 * gives another: one character of the name, the mode, the photo file. It
 * is the digest earlier versions computed (digest_v2). */
static void test_page_digest(void)
{
	fixture fx;
	fx_init(&fx, false);
	cp_page *pg = layout_ok(&fx);
	char *a = cp_page_digest(pg, CP_MODE_FULL, fx.rec.value[CP_FIELD_PHOTO]);
	g_assert_cmpuint(strlen(a), ==, 64);
	static const cp_mode modes[] = {CP_MODE_FULL, CP_MODE_FILL, CP_MODE_ELECTRONIC};
	for (size_t m = 0; m < G_N_ELEMENTS(modes); m++) {
		for (int with_photo = 0; with_photo < 2; with_photo++) {
			const char *ph = with_photo ? fx.rec.value[CP_FIELD_PHOTO] : seal_png;
			char *got = cp_page_digest(pg, modes[m], ph), *want = digest_v2(pg, modes[m], ph);
			g_assert_cmpstr(got, ==, want);
			g_free(got);
			g_free(want);
		}
	}
	cp_error *err = NULL;
	cp_engine *e2 = cp_engine_new(fx.t, fx.p, fonts, &err);
	tu_assert_no_error(err);
	cp_page *pg2 = cp_engine_layout(e2, &fx.rec, &err);
	tu_assert_no_error(err);
	char *b = cp_page_digest(pg2, CP_MODE_FULL, fx.rec.value[CP_FIELD_PHOTO]);
	g_assert_cmpstr(a, ==, b);
	g_free(b);
	b = cp_page_digest(pg, CP_MODE_ELECTRONIC, fx.rec.value[CP_FIELD_PHOTO]);
	g_assert_cmpstr(a, !=, b);
	g_free(b);
	b = cp_page_digest(pg, CP_MODE_FULL, seal_png); /* another picture file */
	g_assert_cmpstr(a, !=, b);
	g_free(b);
	cp_page_free(pg2);
	set(&fx.rec, CP_FIELD_NAME, "张伟伟");
	pg2 = cp_engine_layout(e2, &fx.rec, &err);
	tu_assert_no_error(err);
	b = cp_page_digest(pg2, CP_MODE_FULL, fx.rec.value[CP_FIELD_PHOTO]);
	g_assert_cmpstr(a, !=, b);
	g_free(b);
	cp_page_free(pg2);
	/* back to the first name on the same engine (which remembers the last
	 * text of each field): the very same page again */
	set(&fx.rec, CP_FIELD_NAME, "张伟");
	pg2 = cp_engine_layout(e2, &fx.rec, &err);
	tu_assert_no_error(err);
	b = cp_page_digest(pg2, CP_MODE_FULL, fx.rec.value[CP_FIELD_PHOTO]);
	g_assert_cmpstr(a, ==, b);
	g_free(b);
	g_free(a);
	cp_page_free(pg2);
	cp_page_free(pg);
	cp_engine_free(e2);
	fx_clear(&fx);
}

/* The engine remembers the texts each field laid out lately (layout.c's
 * field memo): a value met again, after others and after more than the memo
 * holds, gives the very page a fresh engine gives, down to the faces a
 * fallback forced (the warning the operator sees); a refusal is made again
 * every time. */
static void same_as_fresh(fixture *fx)
{
	cp_error *err = NULL;
	cp_page *pg = layout_ok(fx);
	cp_engine *fresh = cp_engine_new(fx->t, fx->p, fonts, &err);
	tu_assert_no_error(err);
	cp_page *want = cp_engine_layout(fresh, &fx->rec, &err);
	tu_assert_no_error(err);
	char *a = cp_page_digest(pg, CP_MODE_FULL, NULL), *b = cp_page_digest(want, CP_MODE_FULL, NULL);
	g_assert_cmpstr(a, ==, b);
	size_t n, m;
	const cp_page_item *x = cp_page_items(pg, &n), *y = cp_page_items(want, &m);
	g_assert_cmpuint(n, ==, m);
	for (size_t i = 0; i < n; i++) {
		g_assert_cmpstr(x[i].text, ==, y[i].text);
		g_assert_cmpfloat(x[i].font_size, ==, y[i].font_size);
		g_assert_cmpint(x[i].lines, ==, y[i].lines);
		g_assert_cmpfloat(x[i].text_w, ==, y[i].text_w);
		g_assert_cmpfloat(x[i].text_h, ==, y[i].text_h);
		g_assert_cmpfloat(x[i].text_x, ==, y[i].text_x);
		g_assert_cmpfloat(x[i].text_y, ==, y[i].text_y);
		g_assert_cmpstr(x[i].forced, ==, y[i].forced);
		g_assert_cmpstr(x[i].face, ==, y[i].face);
		g_assert_cmpstr(x[i].faces, ==, y[i].faces);
	}
	g_free(a);
	g_free(b);
	cp_page_free(want);
	cp_engine_free(fresh);
	cp_page_free(pg);
}

static void test_field_memo(void)
{
	fixture fx;
	fx_init(&fx, false);
	static const char *const names[] = {"潘喆", "张伟", "唐垚", "李娜",
	                                    "阿卜杜热合曼·买买提艾力·阿不都热西提江"};
	static const char *const levels[] = {"五级/初级工", "一级/高级技师", "三级/高级工"};
	for (int round = 0; round < 3; round++) {
		for (size_t k = 0; k < G_N_ELEMENTS(names); k++) {
			set(&fx.rec, CP_FIELD_NAME, names[k]);
			set(&fx.rec, CP_FIELD_LEVEL, levels[k % G_N_ELEMENTS(levels)]);
			same_as_fresh(&fx);
			const cp_page_item *it = NULL;
			cp_page *pg = layout_ok(&fx);
			it = cp_page_find(pg, CP_FIELD_NAME);
			/* 喆 and 垚 are not in FandolFang: the warning's facts */
			if (k == 0 || k == 2)
				g_assert_nonnull(it->forced);
			else
				g_assert_null(it->forced);
			/* the long name is set smaller */
			g_assert_true((k == 4) == (it->font_size < 12));
			cp_page_free(pg);
		}
		/* more names than the memo holds push the first ones out */
		for (int k = 0; k < 40; k++) {
			char name[32];
			g_snprintf(name, sizeof name, "王%s%s", k % 2 ? "小" : "大",
			           (const char *[]){"一", "二", "三", "四", "五", "六", "七", "八",
			                            "九", "十"}[k % 10]);
			g_snprintf(name + strlen(name), sizeof name - strlen(name), "%s",
			           (const char *[]){"", "明", "华", "强"}[k / 10]);
			set(&fx.rec, CP_FIELD_NAME, name);
			cp_page_free(layout_ok(&fx));
		}
	}
	/* a refusal is not remembered */
	set(&fx.rec, CP_FIELD_NAME, "张伟张伟张伟张伟张伟张伟张伟张伟张伟张伟张伟张伟张伟张伟");
	layout_refused(&fx, "does not fit");
	layout_refused(&fx, "does not fit");
	set(&fx.rec, CP_FIELD_NAME, "张伟");
	same_as_fresh(&fx);
	fx_clear(&fx);
}

/* An occupation without job types carries "--" (第十二条): printed as such. */
static void test_job_type_dashes(void)
{
	fixture fx;
	fx_init(&fx, false);
	set(&fx.rec, CP_FIELD_JOB_TYPE, "--");
	cp_page *pg = layout_ok(&fx);
	const cp_page_item *it = cp_page_find(pg, CP_FIELD_JOB_TYPE);
	g_assert_cmpstr(it->text, ==, "--");
	g_assert_cmpfloat(it->text_w, >, 1);
	cp_page_free(pg);
	/* and an empty one is refused, never left blank */
	set(&fx.rec, CP_FIELD_JOB_TYPE, " ");
	layout_refused(&fx, "job type (工种/职业方向) is empty");
	set(&fx.rec, CP_FIELD_JOB_TYPE, "--");
	set(&fx.rec, CP_FIELD_CERT_NO, NULL);
	layout_refused(&fx, "column cert_no");
	fx_clear(&fx);
}

/* The label of an optional field comes and goes with its value: a labelled
 * empty space would be a blank for someone to fill in by pen. */
static void test_optional_label(void)
{
	fixture fx;
	fx_init(&fx, false);
	cp_page *pg = layout_ok(&fx);
	size_t n;
	const cp_page_item *it = cp_page_items(pg, &n);
	const cp_page_item *label = NULL;
	for (size_t i = 0; i < n; i++)
		if (it[i].kind == CP_EL_TEXT && it[i].el->with == CP_FIELD_PRINT_SERIAL)
			label = &it[i];
	g_assert_nonnull(label);
	g_assert_nonnull(label->text);
	cairo_surface_t *s = render(&fx, pg, CP_MODE_FULL, 0, 0);
	ink with = ink_in(s, label->x, label->y, label->w, label->h);
	cairo_surface_destroy(s);
	g_assert_cmpint(with.dark, >, 0);
	cp_page_free(pg);

	set(&fx.rec, CP_FIELD_PRINT_SERIAL, NULL);
	pg = layout_ok(&fx);
	it = cp_page_items(pg, &n);
	label = NULL;
	for (size_t i = 0; i < n; i++)
		if (it[i].kind == CP_EL_TEXT && it[i].el->with == CP_FIELD_PRINT_SERIAL)
			label = &it[i];
	g_assert_null(label->text);
	s = render(&fx, pg, CP_MODE_FULL, 0, 0);
	ink without = ink_in(s, label->x, label->y, label->w, label->h);
	cairo_surface_destroy(s);
	g_assert_cmpint(without.dark, ==, 0);
	cp_page_free(pg);
	fx_clear(&fx);
}

/* A 30+ character occupation wraps onto two lines (第十二条) at full size
 * rather than shrinking; longer ones then shrink on two lines. */
static void test_long_occupation_wraps(void)
{
	fixture fx;
	fx_init(&fx, false);
	const char *occ = "计算机程序设计员（人工智能训练方向）及智能制造系统集成与运维工程技术";
	g_assert_cmpint(g_utf8_strlen(occ, -1), >=, 30);
	set(&fx.rec, CP_FIELD_OCCUPATION, occ);
	cp_page *pg = layout_ok(&fx);
	const cp_page_item *it = cp_page_find(pg, CP_FIELD_OCCUPATION);
	g_assert_cmpint(it->lines, ==, 2);
	g_assert_cmpfloat(it->font_size, ==, 12);
	g_assert_cmpfloat(it->text_y + it->text_h, <=, it->y + it->h + 1e-6);
	cp_page_free(pg);

	char *longer = g_strconcat(occ, "与数字化应用服务方向与工业互联网平台运维管理", NULL);
	set(&fx.rec, CP_FIELD_OCCUPATION, longer);
	pg = layout_ok(&fx);
	it = cp_page_find(pg, CP_FIELD_OCCUPATION);
	g_assert_cmpint(it->lines, ==, 2);
	g_assert_cmpfloat(it->font_size, <, 12);
	g_assert_cmpfloat(it->font_size, >=, 9);
	cp_page_free(pg);
	g_free(longer);

	/* three lines' worth even at 9 pt: refused, naming field and limits */
	GString *huge = g_string_new(NULL);
	for (int i = 0; i < 90; i++)
		g_string_append(huge, "电");
	set(&fx.rec, CP_FIELD_OCCUPATION, huge->str);
	layout_refused(&fx, "occupation (职业名称) does not fit in its box (110 × 12 mm) "
	                    "even at 9 pt on 2 lines");
	g_string_free(huge, TRUE);
	fx_clear(&fx);
}

/* A long name shrinks (one line only); one that cannot fit at 9 pt is
 * refused naming the field. */
static void test_name_shrinks_or_refuses(void)
{
	fixture fx;
	fx_init(&fx, false);
	set(&fx.rec, CP_FIELD_NAME, "阿卜杜热合曼·买买提艾力·阿不都热西提江");
	cp_page *pg = layout_ok(&fx);
	const cp_page_item *it = cp_page_find(pg, CP_FIELD_NAME);
	g_test_message("name set at %g pt", it->font_size);
	g_assert_cmpint(it->lines, ==, 1);
	g_assert_cmpfloat(it->font_size, <, 12);
	g_assert_cmpfloat(it->font_size, >=, 9);
	g_assert_cmpfloat(it->text_w, <=, it->w + 1e-6);
	cp_page_free(pg);

	set(&fx.rec, CP_FIELD_NAME,
	    "Maximiliana Alexandrina Konstantinopoulou-Wolfeschlegelsteinhausen");
	layout_refused(&fx, "row 7, column name: name (姓名) does not fit in its box "
	                    "(74 × 11 mm) even at 9 pt on 1 line");
	fx_clear(&fx);
}

/* Rare characters print from the fallback fonts; a character in no font is
 * refused with its code point and the field, never printed as tofu. */
static void test_missing_glyph(void)
{
	fixture fx;
	fx_init(&fx, false);
	set(&fx.rec, CP_FIELD_NAME, "李䶮𠇔𠀁");
	cp_page *pg = layout_ok(&fx);
	cp_page_free(pg);
	set(&fx.rec, CP_FIELD_NAME, "王\xf4\x8f\xbf\xbd");
	layout_refused(&fx, "(U+10FFFD) in name (姓名) has no glyph");
	set(&fx.rec, CP_FIELD_NAME, "王五");
	set(&fx.rec, CP_FIELD_JOB_TYPE, "维修\xf3\xb0\x80\x80电工"); /* U+F0000 */
	layout_refused(&fx, "U+F0000");
	fx_clear(&fx);
}

/* Values are plain text: "<b>&amp;" prints all eight characters. */
static void test_markup_literal(void)
{
	fixture fx;
	fx_init(&fx, false);
	set(&fx.rec, CP_FIELD_NAME, "<b>&amp;");
	cp_page *pg = layout_ok(&fx);
	const cp_page_item *it = cp_page_find(pg, CP_FIELD_NAME);
	g_assert_cmpstr(it->text, ==, "<b>&amp;");
	/* eight characters at 12 pt are well over 10 mm; parsed markup ("&")
	 * would be about 2 mm */
	g_assert_cmpfloat(it->text_w, >, 10);
	cp_page_free(pg);
	set(&fx.rec, CP_FIELD_NAME, "<span");
	pg = layout_ok(&fx);
	g_assert_cmpstr(cp_page_find(pg, CP_FIELD_NAME)->text, ==, "<span");
	cp_page_free(pg);
	fx_clear(&fx);
}

/* Fill mode draws only the variable layer (no border, title, labels);
 * full mode leaves the seal area free of seal red; electronic draws the
 * seal. */
static void test_modes(void)
{
	fixture fx;
	fx_init(&fx, false);
	cp_page *pg = layout_ok(&fx);
	cairo_surface_t *full = render(&fx, pg, CP_MODE_FULL, 0, 0);
	cairo_surface_t *fill = render(&fx, pg, CP_MODE_FILL, 0, 0);
	cairo_surface_t *el = render(&fx, pg, CP_MODE_ELECTRONIC, 0, 0);
	size_t n;
	const cp_page_item *items = cp_page_items(pg, &n);
	int statics = 0;
	for (size_t i = 0; i < n; i++) {
		const cp_page_item *it = &items[i];
		if (it->kind != CP_EL_TEXT || it->layer != CP_LAYER_STATIC || !it->text)
			continue;
		statics++;
		g_assert_cmpint(ink_in(full, it->x, it->y, it->w, it->h).dark, >, 0);
		/* the label columns lie outside every variable box */
		if (it->x + it->w <= 70)
			g_assert_cmpint(ink_in(fill, it->x, it->y, it->w, it->h).dark, ==, 0);
	}
	g_assert_cmpint(statics, >, 10);
	/* the border (4 mm band at the page edge) is static */
	g_assert_cmpint(ink_in(full, 10, 10, 190, 3).dark, >, 0);
	g_assert_cmpint(ink_in(fill, 10, 10, 190, 3).dark, ==, 0);
	/* every field still prints in fill mode */
	for (int f = 0; f < CP_FIELD_COUNT; f++) {
		const cp_page_item *it = cp_page_find(pg, f);
		if (it)
			g_assert_cmpint(ink_in(fill, it->x, it->y, it->w, it->h).dark, >, 0);
	}
	const cp_page_item *seal = NULL;
	for (size_t i = 0; i < n; i++)
		if (items[i].kind == CP_EL_SEAL)
			seal = &items[i];
	g_assert_nonnull(seal);
	g_assert_true(cp_engine_has_seal(fx.e));
	long red_full = ink_in(full, seal->x, seal->y, seal->w, seal->h).red;
	long red_fill = ink_in(fill, seal->x, seal->y, seal->w, seal->h).red;
	long red_el = ink_in(el, seal->x, seal->y, seal->w, seal->h).red;
	g_assert_cmpint(red_full, ==, 0);
	g_assert_cmpint(red_fill, ==, 0);
	g_assert_cmpint(red_el, >, 1000);
	/* the seal lies over the organization name and date, which stay
	 * readable through it (transparent ground) */
	const cp_page_item *org = cp_page_find(pg, CP_BIND_ORG_NAME);
	g_assert_cmpint(ink_in(el, org->text_x, org->text_y, org->text_w, org->text_h).dark,
	                >, 0);
	cairo_surface_destroy(full);
	cairo_surface_destroy(fill);
	cairo_surface_destroy(el);
	cp_page_free(pg);
	fx_clear(&fx);
}

static bool ink_bbox(cairo_surface_t *s, int *x0, int *y0)
{
	int W = cairo_image_surface_get_width(s), H = cairo_image_surface_get_height(s);
	int stride = cairo_image_surface_get_stride(s);
	const unsigned char *d = cairo_image_surface_get_data(s);
	*x0 = W;
	*y0 = H;
	for (int y = 0; y < H; y++)
		for (int x = 0; x < W; x++) {
			guint32 c = ((const guint32 *)(d + (size_t)y * (size_t)stride))[x] & 0xffffff;
			if (c != 0xffffff) {
				*x0 = MIN(*x0, x);
				*y0 = MIN(*y0, y);
			}
		}
	return *x0 < W;
}

/* The calibration offset moves everything by exactly that much. */
static void test_calibration_offset(void)
{
	fixture fx;
	fx_init(&fx, false);
	cp_page *pg = layout_ok(&fx);
	cairo_surface_t *a = render(&fx, pg, CP_MODE_FILL, 0, 0);
	cairo_surface_t *b = render(&fx, pg, CP_MODE_FILL, 5.08, 2.54); /* 24 and 12 px */
	int ax, ay, bx, by;
	g_assert_true(ink_bbox(a, &ax, &ay));
	g_assert_true(ink_bbox(b, &bx, &by));
	g_assert_cmpint(abs(bx - ax - 24), <=, 1);
	g_assert_cmpint(abs(by - ay - 12), <=, 1);
	cairo_surface_destroy(a);
	cairo_surface_destroy(b);
	cp_page_free(pg);
	fx_clear(&fx);
}

/* A w x h navy photo with green bands of `band` pixels on two opposite
 * sides (left and right when sides, else top and bottom). */
static char *make_banded_photo(const char *name, int w, int h, int band, bool sides)
{
	cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
	cairo_t *cr = cairo_create(s);
	cairo_set_source_rgb(cr, 0, 0.8, 0);
	cairo_paint(cr);
	cairo_set_source_rgb(cr, 0, 0, 0.5);
	if (sides)
		cairo_rectangle(cr, band, 0, w - 2 * band, h);
	else
		cairo_rectangle(cr, 0, band, w, h - 2 * band);
	cairo_fill(cr);
	cairo_destroy(cr);
	char *p = g_build_filename(scratch, name, NULL);
	g_assert_cmpint(cairo_surface_write_to_png(s, p), ==, CAIRO_STATUS_SUCCESS);
	cairo_surface_destroy(s);
	return p;
}

/* A photo of another shape than its 5:7 box (docs/rules.md photo.crop)
 * fills the box, centre-cropped: the bands the checker says are cut
 * (358 x 441: 43 px across; 390 x 567: 21 px down) do not show, no blank
 * strip is left inside the box, and nothing is drawn outside it. */
static void test_photo_crop(void)
{
	const struct {
		const char *name;
		int w, h, band;
		bool sides;
	} cases[] = {
		{"e-id.png", 358, 441, 20, true},
		{"s390.png", 390, 567, 9, false},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		fixture fx;
		fx_init(&fx, false);
		char *p = make_banded_photo(cases[i].name, cases[i].w, cases[i].h, cases[i].band,
		                            cases[i].sides);
		set(&fx.rec, CP_FIELD_PHOTO, p);
		cp_page *pg = layout_ok(&fx);
		cairo_surface_t *s = render(&fx, pg, CP_MODE_FILL, 0, 0);
		save(s, cases[i].name);
		size_t n;
		const cp_page_item *items = cp_page_items(pg, &n), *it = NULL;
		for (size_t k = 0; k < n; k++)
			if (items[k].kind == CP_EL_PHOTO)
				it = &items[k];
		g_assert_nonnull(it);
		int W = cairo_image_surface_get_width(s);
		int stride = cairo_image_surface_get_stride(s);
		const unsigned char *d = cairo_image_surface_get_data(s);
		long navy = 0, green = 0, white = 0, total = 0, outside = 0;
		for (int py = 0; py < cairo_image_surface_get_height(s); py++)
			for (int px = 0; px < W; px++) {
				double x = (px + 0.5) * 25.4 / DPI, y = (py + 0.5) * 25.4 / DPI;
				guint32 c = ((const guint32 *)(d + (size_t)py * (size_t)stride))[px];
				int r = (c >> 16) & 255, g = (c >> 8) & 255, b = c & 255;
				bool in = x > it->x + 0.3 && x < it->x + it->w - 0.3 &&
				          y > it->y + 0.3 && y < it->y + it->h - 0.3;
				bool near = x > it->x - 3 && x < it->x + it->w + 3 &&
				            y > it->y - 3 && y < it->y + it->h + 3;
				bool inked = g > 150 && r < 100 ? true : b > 90 && r < 60 && g < 60;
				if (in) {
					total++;
					navy += b > 90 && r < 60 && g < 60;
					green += g > 150 && r < 100;
					white += r > 200 && g > 200 && b > 200;
				} else if (near && !(x >= it->x - 0.3 && x <= it->x + it->w + 0.3 &&
				                     y >= it->y - 0.3 && y <= it->y + it->h + 0.3)) {
					outside += inked;
				}
			}
		g_test_message("%s: %ld of %ld navy, %ld green, %ld white, %ld outside",
		               cases[i].name, navy, total, green, white, outside);
		g_assert_cmpint(green, ==, 0);
		g_assert_cmpint(white, ==, 0);
		g_assert_cmpint(navy, ==, total);
		g_assert_cmpint(outside, ==, 0);
		cairo_surface_destroy(s);
		cp_page_free(pg);
		g_free(p);
		fx_clear(&fx);
	}
}

/* Pasted photos: no photo is fine and leaves a thin frame in full mode only;
 * a printing organization refuses a record without one. */
static void test_photo_policy(void)
{
	fixture fx;
	fx_init(&fx, true);
	set(&fx.rec, CP_FIELD_PHOTO, NULL);
	cp_page *pg = layout_ok(&fx);
	size_t n;
	const cp_page_item *items = cp_page_items(pg, &n), *ph = NULL;
	for (size_t i = 0; i < n; i++)
		if (items[i].kind == CP_EL_PHOTO)
			ph = &items[i];
	g_assert_false(ph->has_image);
	cairo_surface_t *full = render(&fx, pg, CP_MODE_FULL, 0, 0);
	cairo_surface_t *fill = render(&fx, pg, CP_MODE_FILL, 0, 0);
	/* the frame only: the middle of the box stays blank */
	g_assert_cmpint(ink_in(full, ph->x, ph->y, ph->w, ph->h).dark, >, 0);
	g_assert_cmpint(ink_in(full, ph->x + 2, ph->y + 2, ph->w - 4, ph->h - 4).dark, ==, 0);
	g_assert_cmpint(ink_in(fill, ph->x, ph->y, ph->w, ph->h).dark, ==, 0);
	cairo_surface_destroy(full);
	cairo_surface_destroy(fill);
	cp_page_free(pg);
	fx_clear(&fx);

	fx_init(&fx, false);
	set(&fx.rec, CP_FIELD_PHOTO, NULL);
	layout_refused(&fx, "no photo");
	set(&fx.rec, CP_FIELD_PHOTO, "/nonexistent/photo.png");
	layout_refused(&fx, "photo cannot be used");
	fx_clear(&fx);
}

/* The QR code on a rendered page decodes to the profile's content. */
static void test_page_qr_decodes(void)
{
	char *prog = g_find_program_in_path("zbarimg");
	if (!prog) {
		g_test_skip("zbarimg is not installed");
		return;
	}
	fixture fx;
	fx_init(&fx, false);
	cp_page *pg = layout_ok(&fx);
	cairo_surface_t *s = render(&fx, pg, CP_MODE_ELECTRONIC, 0, 0);
	char *png = g_build_filename(scratch, "qr-page.png", NULL);
	g_assert_cmpint(cairo_surface_write_to_png(s, png), ==, CAIRO_STATUS_SUCCESS);
	char *argv[] = {prog, "--raw", "-q", "-Sdisable", "-Sqrcode.enable", png, NULL};
	char *out = NULL;
	g_assert_true(g_spawn_sync(NULL, argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL,
	                           &out, NULL, NULL, NULL));
	g_strchomp(out);
	char *want = cp_profile_qr_content(fx.p, &fx.rec);
	g_assert_cmpstr(out, ==, want);
	g_free(want);
	g_free(out);
	g_free(png);
	g_free(prog);
	cairo_surface_destroy(s);
	cp_page_free(pg);
	fx_clear(&fx);
}

/* Static text is checked once, when the engine is made: a misfit or a
 * missing glyph there is a template error naming its line. */
static void test_static_text_checked(void)
{
	cp_error *err = NULL;
	char *ref = NULL;
	g_assert_true(g_file_get_contents(CP_TESTDIR "/../templates/certificate.conf", &ref,
	                                  NULL, NULL));
	long lines = 1;
	for (const char *c = ref; *c; c++)
		lines += *c == '\n';
	cp_profile *p = profile(false, false);
	const char *extras[][2] = {
		{"[text]\nbox = 20 270 20 5\ntext = 这段文字太长放不进这个小框\n",
		 "does not fit in its box (20 × 5 mm) even at 12 pt on 1 line(s)"},
		{"[text]\nbox = 20 270 20 5\ntext = \xf4\x8f\xbf\xbd\n", "(U+10FFFD) has no glyph"},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(extras); i++) {
		char *text = g_strconcat(ref, extras[i][0], NULL);
		cp_template *t = cp_template_parse(text, strlen(text), "ref.conf", &err);
		tu_assert_no_error(err);
		g_assert_null(cp_engine_new(t, p, fonts, &err));
		char *where = g_strdup_printf("ref.conf:%ld: key text", lines);
		g_assert_nonnull(err);
		g_assert_nonnull(strstr(err->message, "") );
		char *m = cp_error_format(err);
		g_assert_nonnull(strstr(m, where));
		g_free(m);
		tu_assert_error(&err, CP_E_PARSE, extras[i][1]);
		g_free(where);
		cp_template_free(t);
		g_free(text);
	}
	/* and without a seal the engine still works, reporting it */
	cp_template *t = reference();
	cp_engine *e = cp_engine_new(t, p, fonts, &err);
	tu_assert_no_error(err);
	g_assert_false(cp_engine_has_seal(e));
	cp_engine_free(e);
	cp_engine_free(NULL);
	cp_template_free(t);
	cp_profile_free(p);
	g_free(ref);
}

/* Three pages of one engine on a PDF. */
static GByteArray *pdf_pages(fixture *fx, const cp_page *pg, cp_mode mode)
{
	GByteArray *ba = g_byte_array_new();
	cairo_surface_t *s = cairo_pdf_surface_create_for_stream(tu_append_bytes, ba, 595, 842);
	cp_output_opts o;
	cp_output_opts_init(&o);
	o.mode = mode;
	for (int i = 0; i < 3; i++) {
		cairo_t *cr = cairo_create(s);
		cairo_scale(cr, 72 / 25.4, 72 / 25.4);
		cp_engine_draw(fx->e, pg, cr, &o);
		cairo_show_page(cr);
		g_assert_cmpint(cairo_status(cr), ==, CAIRO_STATUS_SUCCESS);
		cairo_destroy(cr);
	}
	cairo_surface_finish(s);
	g_assert_cmpint(cairo_surface_status(s), ==, CAIRO_STATUS_SUCCESS);
	cairo_surface_destroy(s);
	return ba;
}

/* On a PDF the record-independent elements are one Form XObject painted by
 * every page (in fill mode only the fields the profile fills). An element
 * joins it only when it is static and fixed (not a label shown with an
 * optional field of the record), or a field (or its label) the
 * organization's profile fills, and clear of every earlier element left on
 * the page: a
 * [text] after a field whose box it overlaps stays on the page, the same
 * text elsewhere is shared. */
static void test_shared_layer(void)
{
	fixture fx;
	fx_init(&fx, false);
	cp_page *pg = layout_ok(&fx);
	GByteArray *full = pdf_pages(&fx, pg, CP_MODE_FULL);
	GByteArray *el = pdf_pages(&fx, pg, CP_MODE_ELECTRONIC);
	GByteArray *fill = pdf_pages(&fx, pg, CP_MODE_FILL);
	g_assert_cmpint(tu_count(full->data, full->len, "/Subtype /Form"), ==, 1);
	g_assert_cmpint(tu_count(el->data, el->len, "/Subtype /Form"), ==, 1);
	/* in fill mode only the profile's fields, not the art */
	g_assert_cmpint(tu_count(fill->data, fill->len, "/Subtype /Form"), ==, 1);
	g_assert_cmpint(tu_count(full->data, full->len, "/Type /Page\n") + tu_count(full->data, full->len, "/Type /Page "), ==, 3);
	g_byte_array_free(full, TRUE);
	g_byte_array_free(el, TRUE);
	g_byte_array_free(fill, TRUE);
	size_t n;
	const cp_page_item *items = cp_page_items(pg, &n);
	int shared = 0, profile_shared = 0;
	for (size_t i = 0; i < n; i++) {
		const cp_element *e = items[i].el;
		/* the organization's name and provincial URL are the profile's:
		 * the same on every page, like the art */
		int b = e->kind == CP_EL_FIELD ? e->bind : e->kind == CP_EL_TEXT ? e->with : -1;
		bool profile = b == CP_BIND_ORG_NAME || b == CP_BIND_PROVINCE_URL;
		bool fixed = (e->layer == CP_LAYER_STATIC && e->kind != CP_EL_FIELD &&
		              !(e->kind == CP_EL_TEXT && e->with >= 0)) ||
		             profile;
		if (!fixed)
			g_assert_false(cp_engine_element_shared(fx.e, i));
		shared += cp_engine_element_shared(fx.e, i);
		profile_shared += profile && cp_engine_element_shared(fx.e, i);
	}
	g_assert_cmpint(shared, >, 20); /* border, title, labels, body text */
	/* [field org_name], [text label province] and [field province url] */
	g_assert_cmpint(profile_shared, ==, 3);
	cp_page_free(pg);
	fx_clear(&fx);

	/* the reference certificate plus a text over the name field's box (after
	 * it) and the same text in an empty corner */
	cp_error *err = NULL;
	char *ref = NULL;
	g_assert_true(g_file_get_contents(CP_TESTDIR "/../templates/certificate.conf", &ref,
	                                  NULL, NULL));
	char *text = g_strconcat(ref,
	                         "[text over]\nbox = 100 70 30 5\ntext = 覆盖\nsize = 8\n"
	                         "[text clear]\nbox = 8 285 20 4\ntext = 别处\nsize = 8\n",
	                         NULL);
	cp_template *t = cp_template_parse(text, strlen(text), "shared.conf", &err);
	tu_assert_no_error(err);
	cp_profile *p = profile(false, false);
	cp_engine *e = cp_engine_new(t, p, fonts, &err);
	tu_assert_no_error(err);
	size_t last = t->n - 1;
	g_assert_false(cp_engine_element_shared(e, last - 1));
	g_assert_true(cp_engine_element_shared(e, last));
	g_assert_false(cp_engine_element_shared(e, last + 1));
	cp_engine_free(e);
	cp_profile_free(p);
	cp_template_free(t);
	g_free(text);
	g_free(ref);
}

int main(int argc, char **argv)
{
	char *cache = tu_scratch("layout-cache-home");
	g_setenv("XDG_CACHE_HOME", cache, TRUE);
	g_free(cache);
	g_test_init(&argc, &argv, NULL);
	scratch = tu_scratch("layout");
	photo_png = make_photo(scratch);
	seal_png = make_seal(scratch);
	cp_error *err = NULL;
	fonts = cp_fonts_new(NULL, NULL, &err);
	tu_assert_no_error(err);

	g_test_add_func("/layout/plain", test_plain_record);
	g_test_add_func("/layout/page-digest", test_page_digest);
	g_test_add_func("/layout/field-memo", test_field_memo);
	g_test_add_func("/layout/job-type-dashes", test_job_type_dashes);
	g_test_add_func("/layout/optional-label", test_optional_label);
	g_test_add_func("/layout/occupation-wraps", test_long_occupation_wraps);
	g_test_add_func("/layout/name-shrinks", test_name_shrinks_or_refuses);
	g_test_add_func("/layout/missing-glyph", test_missing_glyph);
	g_test_add_func("/layout/markup-literal", test_markup_literal);
	g_test_add_func("/layout/modes", test_modes);
	g_test_add_func("/layout/calibration", test_calibration_offset);
	g_test_add_func("/layout/photo-policy", test_photo_policy);
	g_test_add_func("/layout/photo-crop", test_photo_crop);
	g_test_add_func("/layout/page-qr", test_page_qr_decodes);
	g_test_add_func("/layout/static-text", test_static_text_checked);
	g_test_add_func("/layout/shared-layer", test_shared_layer);
	int rc = g_test_run();
	cp_fonts_free(fonts);
	g_free(photo_png);
	g_free(seal_png);
	g_free(scratch);
	return rc;
}
