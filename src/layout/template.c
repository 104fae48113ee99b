/* SPDX-License-Identifier: MIT */
#include "layout/template.h"

#include <glib.h>
#include <math.h>
#include <string.h>

#include "input/conf.h"
#include "error.h"
#include "layout/fonts.h"
#include "i18n.h"

static void element_clear(cp_element *e)
{
	g_free(e->name);
	g_free(e->text);
	g_free(e->font);
	g_free(e->file);
}

void cp_template_free(cp_template *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		element_clear(&t->el[i]);
	g_free(t->el);
	g_free(t->path);
	g_free(t->dir);
	g_free(t);
}

double cp_template_page_width_mm(const cp_template *t)
{
	return t->width;
}

double cp_template_page_height_mm(const cp_template *t)
{
	return t->height;
}

const char *cp_template_bind_key(int b)
{
	if (b >= 0 && b < CP_FIELD_COUNT)
		return cp_field_key((cp_field)b);
	if (b == CP_BIND_ORG_NAME)
		return "org_name";
	if (b == CP_BIND_PROVINCE_URL)
		return "province_url";
	return NULL;
}

static int hexval(char c)
{
	return g_ascii_xdigit_value(c);
}

bool cp_template_parse_color(const char *s, cp_rgba *out)
{
	size_t n = strlen(s);
	if (s[0] != '#' || (n != 7 && n != 9))
		return false;
	int v[4] = {0, 0, 0, 255};
	for (size_t i = 0; i < (n - 1) / 2; i++) {
		int hi = hexval(s[1 + 2 * i]), lo = hexval(s[2 + 2 * i]);
		if (hi < 0 || lo < 0)
			return false;
		v[i] = hi * 16 + lo;
	}
	*out = (cp_rgba){v[0] / 255.0, v[1] / 255.0, v[2] / 255.0, v[3] / 255.0};
	return true;
}

/* --------------------------------------------------------------- parser */

typedef struct parser {
	const cp_conf *c;
	cp_template *t;
	cp_error **err;
} parser;

static bool color_key(parser *p, const cp_conf_section *s, const char *key,
                      cp_rgba *out, bool *present)
{
	const cp_conf_entry *e = cp_conf_find(s, key);
	if (present)
		*present = e != NULL;
	if (!e)
		return true;
	if (!cp_template_parse_color(e->value, out)) {
		cp_set_error(p->err, CP_E_PARSE, p->c->path, e->line, 0, key,
		             _("'%s' is not a colour; write #rrggbb or #rrggbbaa"), e->value);
		return false;
	}
	return true;
}

static long key_line(const cp_conf_section *s, const char *key)
{
	const cp_conf_entry *e = cp_conf_find(s, key);
	return e ? e->line : s->line;
}

/* Everything drawn must stay inside the printable area: a printer cannot
 * reach the margin, and half-printed text is a certificate to be completed
 * by hand. */
static bool inside(parser *p, const cp_conf_section *s, const char *key,
                   double x0, double y0, double x1, double y1)
{
	const cp_template *t = p->t;
	const double eps = 1e-9;
	if (x0 < t->margin - eps || y0 < t->margin - eps ||
	    x1 > t->width - t->margin + eps || y1 > t->height - t->margin + eps) {
		cp_set_error(p->err, CP_E_PARSE, p->c->path, key_line(s, key), 0, key,
		             _("reaches outside the printable area (page %g × %g mm, "
		               "margin %g mm: x from %g to %g, y from %g to %g)"),
		             t->width, t->height, t->margin, t->margin,
		             t->width - t->margin, t->margin, t->height - t->margin);
		return false;
	}
	return true;
}

static bool box_key(parser *p, const cp_conf_section *s, cp_element *e)
{
	double b[4];
	double lim = CP_TEMPLATE_MAX_PAGE_MM;
	if (!cp_conf_numbers(p->c, s, "box", true, 4, -lim, lim, b, p->err))
		return false;
	if (b[2] <= 0 || b[3] <= 0) {
		cp_set_error(p->err, CP_E_PARSE, p->c->path, key_line(s, "box"), 0, "box",
		             _("width and height must be greater than 0 (the box is "
		               "x y width height, in mm)"));
		return false;
	}
	e->x = b[0];
	e->y = b[1];
	e->w = b[2];
	e->h = b[3];
	return inside(p, s, "box", e->x, e->y, e->x + e->w, e->y + e->h);
}

static bool layer_key(parser *p, const cp_conf_section *s, cp_element *e)
{
	static const char *const layers[] = {"static", "variable", NULL};
	int v = (int)e->layer;
	if (!cp_conf_choice(p->c, s, "layer", false, layers, &v, p->err))
		return false;
	e->layer = (cp_layer)v;
	return true;
}

static const char *default_font(const cp_conf_section *page)
{
	const char *f = page ? cp_conf_get(page, "font") : NULL;
	return f ? f : CP_FONTS_DEFAULT_FIELD;
}

static bool text_keys(parser *p, const cp_conf_section *s, cp_element *e,
                      const char *page_font)
{
	static const char *const weights[] = {"normal", "bold", NULL};
	static const char *const aligns[] = {"left", "center", "right", NULL};
	static const char *const valigns[] = {"top", "middle", "bottom", NULL};
	const char *font = cp_conf_get(s, "font");
	if (font && !*font) {
		/* an empty list would silently mean the default */
		cp_set_error(p->err, CP_E_PARSE, p->c->path, key_line(s, "font"), 0,
		             "font", _("value must not be empty"));
		return false;
	}
	e->font = g_strdup(font ? font : page_font);
	e->size = 12;
	if (!cp_conf_number(p->c, s, "size", false, CP_TEMPLATE_MIN_PT,
	                    CP_TEMPLATE_MAX_PT, &e->size, p->err))
		return false;
	e->min_size = e->size;
	if (!cp_conf_number(p->c, s, "min_size", false, CP_TEMPLATE_MIN_PT,
	                    CP_TEMPLATE_MAX_PT, &e->min_size, p->err))
		return false;
	if (e->min_size > e->size) {
		cp_set_error(p->err, CP_E_PARSE, p->c->path, key_line(s, "min_size"), 0,
		             "min_size", _("min_size %g is larger than size %g"),
		             e->min_size, e->size);
		return false;
	}
	double lines = e->max_lines;
	if (!cp_conf_number(p->c, s, "max_lines", false, 1, CP_TEMPLATE_MAX_LINES,
	                    &lines, p->err))
		return false;
	if (lines != floor(lines)) {
		cp_set_error(p->err, CP_E_PARSE, p->c->path, key_line(s, "max_lines"), 0,
		             "max_lines", _("must be a whole number"));
		return false;
	}
	e->max_lines = (int)lines;
	int w = 0, a = (int)e->align, v = (int)e->valign;
	if (!cp_conf_choice(p->c, s, "weight", false, weights, &w, p->err) ||
	    !cp_conf_choice(p->c, s, "align", false, aligns, &a, p->err) ||
	    !cp_conf_choice(p->c, s, "valign", false, valigns, &v, p->err))
		return false;
	e->bold = w == 1;
	e->align = (cp_align)a;
	e->valign = (cp_valign)v;
	if (!cp_conf_number(p->c, s, "line_spacing", false, 0.5, 3, &e->line_spacing,
	                    p->err))
		return false;
	return color_key(p, s, "color", &e->color, NULL);
}

static int bind_lookup(const char *v)
{
	for (int b = 0; b < CP_BIND_COUNT; b++) {
		const char *k = cp_template_bind_key(b);
		if (k && strcmp(k, v) == 0)
			return b;
	}
	return -1;
}

static bool parse_field(parser *p, const cp_conf_section *s, cp_element *e,
                        const char *page_font)
{
	const char *v = cp_conf_require(p->c, s, "bind", p->err);
	if (!v)
		return false;
	e->bind = bind_lookup(v);
	if (e->bind < 0 || e->bind == CP_FIELD_PHOTO) {
		GString *keys = g_string_new(NULL);
		for (int b = 0; b < CP_BIND_COUNT; b++)
			if (b != CP_FIELD_PHOTO && cp_template_bind_key(b))
				g_string_append_printf(keys, "%s%s", keys->len ? ", " : "",
				                       cp_template_bind_key(b));
		cp_set_error(p->err, CP_E_PARSE, p->c->path, key_line(s, "bind"), 0, "bind",
		             e->bind == CP_FIELD_PHOTO
		                     ? _("'%s' is drawn by a [photo] element, not a [field]%s")
		                     : _("'%s' is not a field; known: %s"),
		             v, e->bind == CP_FIELD_PHOTO ? "" : keys->str);
		g_string_free(keys, TRUE);
		return false;
	}
	e->layer = CP_LAYER_VARIABLE;
	e->required = e->bind == CP_BIND_ORG_NAME ||
	              (e->bind < CP_FIELD_COUNT && cp_field_required((cp_field)e->bind));
	/* 第十二条: occupation, job type (and the organization's long name) may
	 * take two lines rather than shrink to illegibility. */
	e->max_lines = (e->bind == CP_FIELD_OCCUPATION || e->bind == CP_FIELD_JOB_TYPE ||
	                e->bind == CP_BIND_ORG_NAME) ? 2 : 1;
	return cp_conf_bool(p->c, s, "required", false, &e->required, p->err) &&
	       layer_key(p, s, e) && box_key(p, s, e) && text_keys(p, s, e, page_font);
}

static bool parse_text(parser *p, const cp_conf_section *s, cp_element *e,
                       const char *page_font)
{
	const char *v = cp_conf_require(p->c, s, "text", p->err);
	if (!v)
		return false;
	if (strlen(v) > CP_TEMPLATE_MAX_TEXT) {
		cp_set_error(p->err, CP_E_PARSE, p->c->path, key_line(s, "text"), 0, "text",
		             _("text is longer than %d bytes"), CP_TEMPLATE_MAX_TEXT);
		return false;
	}
	e->text = g_strdup(v);
	e->layer = CP_LAYER_STATIC;
	e->max_lines = 1;
	/* A label printed beside an empty optional field would be a blank for
	 * someone to fill in by hand (第十五条): "with" ties the two. */
	const char *w = cp_conf_get(s, "with");
	if (w) {
		e->with = bind_lookup(w);
		if (e->with < 0 || e->with == CP_FIELD_PHOTO) {
			cp_set_error(p->err, CP_E_PARSE, p->c->path, key_line(s, "with"), 0, "with",
			             _("'%s' is not a field"), w);
			return false;
		}
	}
	return layer_key(p, s, e) && box_key(p, s, e) && text_keys(p, s, e, page_font);
}

static bool parse_modes(parser *p, const cp_conf_section *s, cp_element *e)
{
	const cp_conf_entry *en = cp_conf_find(s, "modes");
	e->modes = 1u << CP_MODE_ELECTRONIC;
	if (!en)
		return true;
	e->modes = 0;
	char **w = g_regex_split_simple("[ \t,]+", en->value, 0, 0);
	for (char **m = w; *m; m++) {
		if (!**m)
			continue;
		int mode = cp_mode_parse(*m);
		if (mode < 0) {
			cp_set_error(p->err, CP_E_PARSE, p->c->path, en->line, 0, "modes",
			             _("'%s' is not a mode; use full, fill or electronic"), *m);
			g_strfreev(w);
			return false;
		}
		e->modes |= 1u << mode;
	}
	g_strfreev(w);
	if (!e->modes) {
		cp_set_error(p->err, CP_E_PARSE, p->c->path, en->line, 0, "modes",
		             _("name at least one mode (full, fill, electronic)"));
		return false;
	}
	return true;
}

static bool parse_image(parser *p, const cp_conf_section *s, cp_element *e)
{
	const char *v = cp_conf_require(p->c, s, "file", p->err);
	if (!v)
		return false;
	e->file = cp_conf_resolve(p->c, v);
	if (!g_file_test(e->file, G_FILE_TEST_IS_REGULAR)) {
		cp_set_error(p->err, CP_E_PARSE, p->c->path, key_line(s, "file"), 0, "file",
		             _("image file %s does not exist"), e->file);
		return false;
	}
	e->layer = CP_LAYER_STATIC;
	return layer_key(p, s, e) && box_key(p, s, e) && parse_modes(p, s, e);
}

static bool stroke_key(parser *p, const cp_conf_section *s, cp_element *e, double min)
{
	e->stroke = 0.3;
	return cp_conf_number(p->c, s, "width", false, min, 10, &e->stroke, p->err);
}

static bool parse_line(parser *p, const cp_conf_section *s, cp_element *e)
{
	double a[2], b[2], lim = CP_TEMPLATE_MAX_PAGE_MM;
	e->layer = CP_LAYER_STATIC;
	if (!cp_conf_numbers(p->c, s, "from", true, 2, -lim, lim, a, p->err) ||
	    !cp_conf_numbers(p->c, s, "to", true, 2, -lim, lim, b, p->err) ||
	    !stroke_key(p, s, e, 0.05) || !color_key(p, s, "color", &e->color, NULL) ||
	    !layer_key(p, s, e))
		return false;
	e->x = a[0];
	e->y = a[1];
	e->x2 = b[0];
	e->y2 = b[1];
	if (e->x == e->x2 && e->y == e->y2) {
		cp_set_error(p->err, CP_E_PARSE, p->c->path, key_line(s, "to"), 0, "to",
		             _("the line has no length (from and to are the same point)"));
		return false;
	}
	double hw = e->stroke / 2;
	return inside(p, s, "from", fmin(e->x, e->x2) - hw, fmin(e->y, e->y2) - hw,
	              fmax(e->x, e->x2) + hw, fmax(e->y, e->y2) + hw);
}

static bool parse_rect(parser *p, const cp_conf_section *s, cp_element *e)
{
	e->layer = CP_LAYER_STATIC;
	if (!box_key(p, s, e) || !stroke_key(p, s, e, 0) ||
	    !color_key(p, s, "color", &e->color, NULL) ||
	    !color_key(p, s, "fill", &e->fill, &e->has_fill) || !layer_key(p, s, e))
		return false;
	if (e->stroke == 0 && !e->has_fill) {
		cp_set_error(p->err, CP_E_PARSE, p->c->path, key_line(s, "width"), 0, "width",
		             _("a rectangle with width 0 and no fill draws nothing"));
		return false;
	}
	/* The stroke is centred on the box edge: half of it lies outside. */
	return inside(p, s, "box", e->x - e->stroke / 2, e->y - e->stroke / 2,
	              e->x + e->w + e->stroke / 2, e->y + e->h + e->stroke / 2);
}

static bool parse_qr(parser *p, const cp_conf_section *s, cp_element *e)
{
	static const char *const ecs[] = {"M", "Q", "H", NULL};
	double quiet = 4;
	int ec = 0;
	e->layer = CP_LAYER_VARIABLE;
	if (!box_key(p, s, e) ||
	    !cp_conf_number(p->c, s, "quiet", false, 4, 20, &quiet, p->err) ||
	    !cp_conf_choice(p->c, s, "ec", false, ecs, &ec, p->err) ||
	    !color_key(p, s, "color", &e->color, NULL))
		return false;
	if (quiet != floor(quiet)) {
		cp_set_error(p->err, CP_E_PARSE, p->c->path, key_line(s, "quiet"), 0, "quiet",
		             _("must be a whole number"));
		return false;
	}
	e->quiet = (int)quiet;
	e->ec = ec + 1;
	return true;
}

static bool parse_photo(parser *p, const cp_conf_section *s, cp_element *e)
{
	e->layer = CP_LAYER_VARIABLE;
	e->frame = true;
	return box_key(p, s, e) && cp_conf_bool(p->c, s, "frame", false, &e->frame, p->err) &&
	       color_key(p, s, "color", &e->color, NULL);
}

static bool parse_seal(parser *p, const cp_conf_section *s, cp_element *e)
{
	e->layer = CP_LAYER_VARIABLE;
	return box_key(p, s, e);
}

static const char *const kinds[] = {"text", "field", "photo", "qr", "seal",
                                    "image", "line", "rect", NULL};

static bool parse_page(parser *p, const cp_conf_section *s)
{
	double size[2];
	cp_template *t = p->t;
	if (!cp_conf_numbers(p->c, s, "size", true, 2, CP_TEMPLATE_MIN_PAGE_MM,
	                     CP_TEMPLATE_MAX_PAGE_MM, size, p->err))
		return false;
	t->width = size[0];
	t->height = size[1];
	t->margin = 0;
	if (!cp_conf_number(p->c, s, "margin", false, 0, fmin(t->width, t->height) / 4,
	                    &t->margin, p->err))
		return false;
	const char *font = cp_conf_get(s, "font");
	if (font && !*font) {
		cp_set_error(p->err, CP_E_PARSE, p->c->path, key_line(s, "font"), 0, "font",
		             _("value must not be empty"));
		return false;
	}
	return cp_conf_check_unused(p->c, s, p->err);
}

/* A template that leaves out a required field would print certificates that
 * must be completed by hand (第十五条): refuse it at load time. */
static bool check_complete(parser *p)
{
	const cp_template *t = p->t;
	bool have[CP_BIND_COUNT] = {false};
	int count[CP_EL_RECT + 1] = {0};
	for (size_t i = 0; i < t->n; i++) {
		count[t->el[i].kind]++;
		if (t->el[i].kind == CP_EL_FIELD)
			have[t->el[i].bind] = true;
	}
	for (int b = 0; b < CP_BIND_COUNT; b++) {
		bool need = b == CP_BIND_ORG_NAME ||
		            (b < CP_FIELD_COUNT && b != CP_FIELD_PHOTO &&
		             cp_field_required((cp_field)b));
		if (need && !have[b]) {
			cp_set_error(p->err, CP_E_PARSE, p->c->path, 0, 0, cp_template_bind_key(b),
			             _("the template has no [field] with bind = %s; every "
			               "certificate must show it"), cp_template_bind_key(b));
			return false;
		}
	}
	static const cp_el_kind once[] = {CP_EL_PHOTO, CP_EL_QR, CP_EL_SEAL};
	for (size_t i = 0; i < G_N_ELEMENTS(once); i++) {
		if (count[once[i]] != 1) {
			cp_set_error(p->err, CP_E_PARSE, p->c->path, 0, 0, NULL,
			             count[once[i]] ? _("the template has more than one [%s]")
			                            : _("the template has no [%s]; every "
			                                "certificate must have one"),
			             kinds[once[i]]);
			return false;
		}
	}
	return true;
}

cp_template *cp_template_parse(const char *text, size_t len, const char *path,
                               cp_error **err)
{
	cp_conf *c = cp_conf_parse(text, len, path, err);
	if (!c)
		return NULL;
	cp_template *t = g_new0(cp_template, 1);
	t->path = g_strdup(c->path);
	t->dir = g_strdup(c->dir);
	parser p = {.c = c, .t = t, .err = err};

	const cp_conf_section *page = NULL;
	for (size_t i = 0; i < c->nsections; i++) {
		if (strcmp(c->sections[i].kind, "page") != 0)
			continue;
		if (page) {
			cp_set_error(err, CP_E_PARSE, c->path, c->sections[i].line, 0, NULL,
			             _("[page] given twice (first on line %ld)"), page->line);
			goto fail;
		}
		page = &c->sections[i];
	}
	if (!page) {
		cp_set_error(err, CP_E_PARSE, c->path, 0, 0, NULL,
		             _("the template has no [page] section"));
		goto fail;
	}
	if (!parse_page(&p, page))
		goto fail;
	const char *page_font = default_font(page);

	for (size_t i = 0; i < c->nsections; i++) {
		const cp_conf_section *s = &c->sections[i];
		if (s == page)
			continue;
		int kind = -1;
		for (int k = 0; kinds[k]; k++)
			if (strcmp(s->kind, kinds[k]) == 0)
				kind = k;
		if (kind < 0) {
			cp_set_error(err, CP_E_PARSE, c->path, s->line, 0, NULL,
			             _("unknown section [%s]; expected page, text, field, "
			               "photo, qr, seal, image, line or rect"), s->kind);
			goto fail;
		}
		if (t->n >= CP_TEMPLATE_MAX_ELEMENTS) {
			cp_set_error(err, CP_E_PARSE, c->path, s->line, 0, NULL,
			             _("more than %d elements"), CP_TEMPLATE_MAX_ELEMENTS);
			goto fail;
		}
		t->el = g_renew(cp_element, t->el, t->n + 1);
		cp_element *e = &t->el[t->n++];
		*e = (cp_element){.kind = (cp_el_kind)kind, .line = s->line, .bind = -1, .with = -1,
		                  .color = {0, 0, 0, 1}, .name = g_strdup(s->name)};
		bool ok = false;
		switch (e->kind) {
		case CP_EL_TEXT: ok = parse_text(&p, s, e, page_font); break;
		case CP_EL_FIELD: ok = parse_field(&p, s, e, page_font); break;
		case CP_EL_PHOTO: ok = parse_photo(&p, s, e); break;
		case CP_EL_QR: ok = parse_qr(&p, s, e); break;
		case CP_EL_SEAL: ok = parse_seal(&p, s, e); break;
		case CP_EL_IMAGE: ok = parse_image(&p, s, e); break;
		case CP_EL_LINE: ok = parse_line(&p, s, e); break;
		case CP_EL_RECT: ok = parse_rect(&p, s, e); break;
		}
		if (!ok || !cp_conf_check_unused(c, s, err))
			goto fail;
	}
	if (!check_complete(&p))
		goto fail;
	cp_conf_free(c);
	return t;
fail:
	cp_conf_free(c);
	cp_template_free(t);
	return NULL;
}

cp_template *cp_template_load(const char *path, cp_error **err)
{
	char *text = NULL;
	size_t len = 0;
	if (!cp_conf_read_file(path, CP_CONF_MAX_BYTES, &text, &len, err))
		return NULL;
	cp_template *t = cp_template_parse(text, len, path, err);
	g_free(text);
	return t;
}

/* ----------------------------------------------------------------- modes */

static const char *const mode_names[] = {"full", "fill", "electronic"};

int cp_mode_parse(const char *s)
{
	if (!s)
		return -1;
	for (int i = 0; i < (int)G_N_ELEMENTS(mode_names); i++)
		if (strcmp(s, mode_names[i]) == 0)
			return i;
	return -1;
}

const char *cp_mode_name(cp_mode m)
{
	return (unsigned)m < G_N_ELEMENTS(mode_names) ? mode_names[m] : NULL;
}

void cp_output_opts_init(cp_output_opts *o)
{
	*o = (cp_output_opts){.mode = CP_MODE_FULL, .scale_x = 1.0, .scale_y = 1.0,
	                      .dpi = 300.0};
}
