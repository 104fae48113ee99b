/* SPDX-License-Identifier: MIT */
/* Templates: every key read as documented, and every error naming file, line
 * and key. */
#include "common/testutil.h"

#include <math.h>
#include <string.h>

#include "layout/template.h"

/* The smallest complete template: every required field, photo, QR, seal. */
static const char base[] =
	"[page]\n"                             /* 1 */
	"size = 210 297\n"
	"margin = 6\n"
	"[field]\nbind = name\nbox = 20 20 80 8\n"      /* 4-6 */
	"[field]\nbind = id_type\nbox = 20 30 80 8\n"
	"[field]\nbind = id_number\nbox = 20 40 80 8\n"
	"[field]\nbind = occupation\nbox = 20 50 80 8\n"
	"[field]\nbind = job_type\nbox = 20 60 80 8\n"
	"[field]\nbind = level\nbox = 20 70 80 8\n"
	"[field]\nbind = cert_no\nbox = 20 80 80 8\n"
	"[field]\nbind = issue_date\nbox = 20 90 80 8\n"
	"[field]\nbind = org_name\nbox = 20 100 80 8\n" /* 28-30 */
	"[photo]\nbox = 150 20 25 35\n"                  /* 31-32 */
	"[qr]\nbox = 150 60 25 25\n"                     /* 33-34 */
	"[seal]\nbox = 120 200 40 40\n";                 /* 35-36 */
#define BASE_LINES 36

static cp_template *parse(const char *extra, cp_error **err)
{
	char *text = g_strconcat(base, extra, NULL);
	cp_template *t = cp_template_parse(text, strlen(text), "t.conf", err);
	g_free(text);
	return t;
}

/* extra is appended to the base template; the error must name the line
 * (counted within extra, 1-based) and the key. */
static void expect_error(const char *extra, int line, const char *key, const char *needle)
{
	cp_error *err = NULL;
	g_assert_null(parse(extra, &err));
	g_assert_nonnull(err);
	char *where = key ? g_strdup_printf("t.conf:%d: key %s", BASE_LINES + line, key)
	                  : g_strdup_printf("t.conf:%d:", BASE_LINES + line);
	char *m = cp_error_format(err);
	g_test_message("%s", m);
	if (line > 0 && !strstr(m, where))
		g_test_message("expected '%s'", where);
	if (line > 0)
		g_assert_nonnull(strstr(m, where));
	g_free(m);
	g_free(where);
	tu_assert_error(&err, CP_E_PARSE, needle);
}

/* The base template parses; defaults are as documented. */
static void test_defaults(void)
{
	cp_error *err = NULL;
	cp_template *t = parse("", &err);
	tu_assert_no_error(err);
	g_assert_cmpfloat(cp_template_page_width_mm(t), ==, 210);
	g_assert_cmpfloat(cp_template_page_height_mm(t), ==, 297);
	g_assert_cmpfloat(t->margin, ==, 6);
	g_assert_cmpuint(t->n, ==, 12);
	const cp_element *name = &t->el[0];
	g_assert_cmpint(name->kind, ==, CP_EL_FIELD);
	g_assert_cmpint(name->bind, ==, CP_FIELD_NAME);
	g_assert_cmpint(name->layer, ==, CP_LAYER_VARIABLE);
	g_assert_true(name->required);
	g_assert_cmpstr(name->font, ==, "FandolFang");
	g_assert_cmpfloat(name->size, ==, 12);
	g_assert_cmpfloat(name->min_size, ==, 12);
	g_assert_cmpint(name->max_lines, ==, 1);
	g_assert_cmpint(name->align, ==, CP_ALIGN_LEFT);
	g_assert_cmpint(name->valign, ==, CP_VALIGN_TOP);
	g_assert_cmpfloat(name->color.a, ==, 1);
	g_assert_cmpint(name->line, ==, 4);
	/* 第十二条: occupation, job type and organization may wrap to two lines */
	g_assert_cmpint(t->el[3].max_lines, ==, 2);
	g_assert_cmpint(t->el[4].max_lines, ==, 2);
	g_assert_cmpint(t->el[8].bind, ==, CP_BIND_ORG_NAME);
	g_assert_cmpint(t->el[8].max_lines, ==, 2);
	g_assert_true(t->el[8].required);
	g_assert_cmpint(t->el[9].kind, ==, CP_EL_PHOTO);
	g_assert_true(t->el[9].frame);
	g_assert_cmpint(t->el[10].kind, ==, CP_EL_QR);
	g_assert_cmpint(t->el[10].quiet, ==, 4);
	g_assert_cmpint(t->el[10].ec, ==, 1);
	g_assert_cmpint(t->el[11].kind, ==, CP_EL_SEAL);
	g_assert_cmpfloat(t->el[11].w, ==, 40);
	cp_template_free(t);
	cp_template_free(NULL);
}

/* Every key of every element kind is read into the element. */
static void test_all_keys(void)
{
	char *dir = tu_scratch("template-keys");
	g_free(tu_write(dir, "bg.png", "placeholder bytes"));
	char *text = g_strconcat(base,
		"[text title]\n"
		"box = 20 120 170 16\n"
		"text = \"职业技能等级证书\\n<b>&\"\n"
		"font = FandolSong, FandolHei\n"
		"size = 28\n"
		"min_size = 20\n"
		"max_lines = 3\n"
		"weight = bold\n"
		"align = center\n"
		"valign = middle\n"
		"line_spacing = 1.5\n"
		"color = #80402010\n"
		"layer = variable\n"
		"[field serial]\n"
		"bind = print_serial\n"
		"box = 20 140 80 8\n"
		"required = yes\n"
		"layer = static\n"
		"align = right\n"
		"valign = bottom\n"
		"[image background]\n"
		"file = bg.png\n"
		"box = 6 6 198 285\n"
		"modes = full, electronic\n"
		"[line]\n"
		"from = 10 10\n"
		"to = 200 10\n"
		"width = 0.5\n"
		"color = #ff0000\n"
		"[rect]\n"
		"box = 8 8 194 281\n"
		"width = 0\n"
		"fill = #00ff0080\n"
		"layer = variable\n", NULL);
	/* replace the base [qr] and [photo] keys by adding their options */
	char *qr = strstr(text, "[qr]\nbox = 150 60 25 25\n");
	g_assert_nonnull(qr);
	GString *s = g_string_new_len(text, qr - text);
	g_string_append(s, "[qr]\nbox = 150 60 25 25\nquiet = 6\nec = H\ncolor = #000080\n");
	g_string_append(s, qr + strlen("[qr]\nbox = 150 60 25 25\n"));
	char *path = tu_write(dir, "t.conf", s->str);
	cp_error *err = NULL;
	cp_template *t = cp_template_load(path, &err);
	tu_assert_no_error(err);
	const cp_element *q = &t->el[10], *ti = &t->el[12], *f = &t->el[13],
	                 *im = &t->el[14], *ln = &t->el[15], *r = &t->el[16];
	g_assert_cmpint(q->quiet, ==, 6);
	g_assert_cmpint(q->ec, ==, 3);
	g_assert_cmpfloat(fabs(q->color.b - 128 / 255.0), <, 1e-9);
	g_assert_cmpstr(ti->name, ==, "title");
	g_assert_cmpstr(ti->text, ==, "职业技能等级证书\n<b>&");
	g_assert_cmpstr(ti->font, ==, "FandolSong, FandolHei");
	g_assert_cmpfloat(ti->size, ==, 28);
	g_assert_cmpfloat(ti->min_size, ==, 20);
	g_assert_cmpint(ti->max_lines, ==, 3);
	g_assert_true(ti->bold);
	g_assert_cmpint(ti->align, ==, CP_ALIGN_CENTER);
	g_assert_cmpint(ti->valign, ==, CP_VALIGN_MIDDLE);
	g_assert_cmpfloat(ti->line_spacing, ==, 1.5);
	g_assert_cmpfloat(fabs(ti->color.r - 128 / 255.0), <, 1e-9);
	g_assert_cmpfloat(fabs(ti->color.a - 16 / 255.0), <, 1e-9);
	g_assert_cmpint(ti->layer, ==, CP_LAYER_VARIABLE);
	g_assert_cmpint(f->bind, ==, CP_FIELD_PRINT_SERIAL);
	g_assert_true(f->required);
	g_assert_cmpint(f->layer, ==, CP_LAYER_STATIC);
	g_assert_cmpint(f->align, ==, CP_ALIGN_RIGHT);
	g_assert_cmpint(f->valign, ==, CP_VALIGN_BOTTOM);
	char *bg = g_build_filename(dir, "bg.png", NULL);
	g_assert_cmpstr(im->file, ==, bg);
	g_assert_cmpuint(im->modes, ==, (1u << CP_MODE_FULL) | (1u << CP_MODE_ELECTRONIC));
	g_assert_cmpint(im->layer, ==, CP_LAYER_STATIC);
	g_assert_cmpfloat(ln->x2, ==, 200);
	g_assert_cmpfloat(ln->stroke, ==, 0.5);
	g_assert_cmpfloat(ln->color.r, ==, 1);
	g_assert_true(r->has_fill);
	g_assert_cmpfloat(r->stroke, ==, 0);
	g_assert_cmpfloat(fabs(r->fill.a - 128 / 255.0), <, 1e-9);
	g_assert_cmpint(r->layer, ==, CP_LAYER_VARIABLE);
	cp_template_free(t);
	g_free(bg);
	g_free(path);
	g_string_free(s, TRUE);
	g_free(text);
	g_free(dir);
}

/* Absurd numbers and misspelt keys are errors naming line and key. */
static void test_errors(void)
{
	expect_error("[text]\nbox = 20 120 -5 10\ntext = x\n", 2, "box", "greater than 0");
	expect_error("[text]\nbox = 20 120 170 10\n", 1, "text", "required key is missing");
	expect_error("[text]\ntext = x\nbox = 190 120 30 10\n", 3, "box",
	             "outside the printable area");
	expect_error("[text]\ntext = x\nbox = 5 120 30 10\n", 3, "box", "margin 6 mm");
	expect_error("[text]\ntext = x\nbox = 20 120 30\n", 3, "box", "expected 4 numbers");
	expect_error("[text]\ntext = x\nbox = 20 120 30 10\nsize = 0\n", 4, "size",
	             "out of range");
	expect_error("[text]\ntext = x\nbox = 20 120 30 10\nsize = 10000\n", 4, "size",
	             "out of range");
	expect_error("[text]\ntext = x\nbox = 20 120 30 10\nsize = 9\nmin_size = 10\n",
	             5, "min_size", "larger than size");
	expect_error("[text]\ntext = x\nbox = 20 120 30 10\nmax_lines = 1.5\n", 4,
	             "max_lines", "whole number");
	expect_error("[text]\ntext = x\nbox = 20 120 30 10\nmax_lines = 0\n", 4,
	             "max_lines", "out of range");
	expect_error("[text]\ntext = x\nbox = 20 120 30 10\nalign = middle\n", 4, "align",
	             "not one of");
	expect_error("[text]\ntext = x\nbox = 20 120 30 10\nweight = heavy\n", 4, "weight",
	             "not one of");
	expect_error("[text]\ntext = x\nbox = 20 120 30 10\ncolor = red\n", 4, "color",
	             "not a colour");
	expect_error("[text]\ntext = x\nbox = 20 120 30 10\ncolor = #12345g\n", 4, "color",
	             "not a colour");
	expect_error("[text]\ntext = x\nbox = 20 120 30 10\nfont =\n", 4, "font",
	             "must not be empty");
	expect_error("[text]\ntext = x\nbox = 20 120 30 10\nlayer = top\n", 4, "layer",
	             "not one of");
	expect_error("[text]\ntext = x\nbox = 20 120 30 10\nfontsize = 9\n", 4, "fontsize",
	             "unknown key in [text]");
	expect_error("[field]\nbind = nickname\nbox = 20 120 30 10\n", 2, "bind",
	             "not a field; known: name, id_type");
	expect_error("[field]\nbind = photo\nbox = 20 120 30 10\n", 2, "bind",
	             "drawn by a [photo] element");
	expect_error("[field]\nbind = name\nbox = 20 120 30 10\nrequired = maybe\n", 4,
	             "required", "not one of");
	expect_error("[image]\nfile = missing.png\nbox = 20 120 30 10\n", 2, "file",
	             "does not exist");
	expect_error("[line]\nfrom = 10 10\nto = 10 10\n", 3, "to", "no length");
	expect_error("[line]\nfrom = 10 10\nto = 300 10\n", 2, "from", "printable area");
	expect_error("[line]\nfrom = 10 10\nto = 100 10\nwidth = 0\n", 4, "width",
	             "out of range");
	expect_error("[rect]\nbox = 10 10 50 50\nwidth = 0\n", 3, "width", "draws nothing");
	expect_error("[rect]\nbox = 6 6 50 50\n", 2, "box", "printable area");
	expect_error("[circle]\nbox = 6 6 50 50\n", 1, NULL, "unknown section [circle]");
	expect_error("[page]\nsize = 100 100\n", 1, NULL, "[page] given twice (first on line 1)");
	expect_error("[qr]\nbox = 150 100 25 25\n", 0, NULL, "more than one [qr]");
	cp_error *err = NULL;
	/* page errors, missing elements */
	const char *texts[][2] = {
		{"[page]\nsize = 10 297\n", "t.conf:2: key size: 10 is out of range"},
		{"[page]\nsize = 210 297\nmargin = 100\n", "t.conf:3: key margin"},
		{"[page]\nsize = 210 297\ncolour = #000000\n", "t.conf:3: key colour: unknown key"},
		{"[text]\ntext = x\nbox = 1 1 1 1\n", "no [page] section"},
		{"[page]\nsize = 210 297\n", "no [field] with bind = name"},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(texts); i++) {
		g_assert_null(cp_template_parse(texts[i][0], strlen(texts[i][0]), "t.conf", &err));
		tu_assert_error(&err, CP_E_PARSE, texts[i][1]);
	}
	/* a template without its seal */
	char *noseal = g_strndup(base, strstr(base, "[seal]") - base);
	g_assert_null(cp_template_parse(noseal, strlen(noseal), "t.conf", &err));
	tu_assert_error(&err, CP_E_PARSE, "no [seal]");
	g_free(noseal);
	g_assert_null(cp_template_load("/nonexistent/t.conf", &err));
	tu_assert_error(&err, CP_E_IO, "/nonexistent/t.conf");
}

/* Thousands of elements are refused with a clear limit, not processed. */
static void test_too_many(void)
{
	GString *s = g_string_new(NULL);
	for (int i = 0; i < CP_TEMPLATE_MAX_ELEMENTS + 5; i++)
		g_string_append(s, "[line]\nfrom = 10 10\nto = 20 20\n");
	expect_error(s->str, 3 * (CP_TEMPLATE_MAX_ELEMENTS - 12) + 1, NULL, "more than 500 elements");
	g_string_free(s, TRUE);
	/* a huge static text */
	char *big = g_strnfill(CP_TEMPLATE_MAX_TEXT + 1, 'x');
	char *t = g_strdup_printf("[text]\nbox = 20 120 30 10\ntext = %s\n", big);
	expect_error(t, 3, "text", "longer than");
	g_free(t);
	g_free(big);
}

/* Modes and output options. */
static void test_modes(void)
{
	g_assert_cmpint(cp_mode_parse("full"), ==, CP_MODE_FULL);
	g_assert_cmpint(cp_mode_parse("fill"), ==, CP_MODE_FILL);
	g_assert_cmpint(cp_mode_parse("electronic"), ==, CP_MODE_ELECTRONIC);
	g_assert_cmpint(cp_mode_parse("Full"), ==, -1);
	g_assert_cmpint(cp_mode_parse(""), ==, -1);
	g_assert_cmpint(cp_mode_parse(NULL), ==, -1);
	g_assert_cmpstr(cp_mode_name(CP_MODE_FILL), ==, "fill");
	g_assert_null(cp_mode_name((cp_mode)7));
	cp_output_opts o;
	memset(&o, 0xff, sizeof o);
	cp_output_opts_init(&o);
	g_assert_cmpint(o.mode, ==, CP_MODE_FULL);
	g_assert_cmpfloat(o.offset_x_mm, ==, 0);
	g_assert_cmpfloat(o.offset_y_mm, ==, 0);
	g_assert_cmpfloat(o.scale_x, ==, 1);
	g_assert_cmpfloat(o.scale_y, ==, 1);
	g_assert_cmpfloat(o.dpi, ==, 300);
	expect_error("[image]\nfile = /etc/hostname\nbox = 20 120 30 10\nmodes = print\n", 4,
	             "modes", "not a mode");
}

/* The shipped reference template loads. */
static void test_reference(void)
{
	cp_error *err = NULL;
	cp_template *t = cp_template_load(CP_TESTDIR "/../templates/certificate.conf", &err);
	tu_assert_no_error(err);
	g_assert_cmpfloat(cp_template_page_width_mm(t), ==, 210);
	g_assert_cmpfloat(cp_template_page_height_mm(t), ==, 297);
	cp_template_free(t);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/template/defaults", test_defaults);
	g_test_add_func("/template/all-keys", test_all_keys);
	g_test_add_func("/template/errors", test_errors);
	g_test_add_func("/template/limits", test_too_many);
	g_test_add_func("/template/modes", test_modes);
	g_test_add_func("/template/reference", test_reference);
	return g_test_run();
}
