/* SPDX-License-Identifier: MIT */
#include "layout/layout.h"

#include <glib.h>
#include <math.h>
#include <pango/pangocairo.h>
#include <string.h>

#include "digest.h"
#include "error.h"
#include "layout/fonts.h"
#include "i18n.h"
#include "input/image.h"
#include "layout/qr.h"

struct cp_engine {
	const cp_template *t;
	const cp_profile *p;
	cp_fonts *fonts;
	PangoContext *ctx;
	PangoLayout **static_layouts; /* per element: laid out once, or NULL */
	double *static_size;
	cairo_surface_t **images;     /* per element: [image] artwork, or NULL */
	cairo_surface_t *seal;
	bool *shared;                 /* per element: drawn in the shared layer */
	/* Per [field] element, the texts laid out lately and their fitted
	 * layouts (field_memo). */
	struct field_memo *memo;
	/* Per [field] element: its chain of faces (its font list, then
	 * CP_FONTS_FALLBACK, each family once), resolved once; [0] is the
	 * primary face. line_em: the primary face's line height in em. */
	cp_face **chain;
	size_t *nchain;
	double *line_em;
	cairo_surface_t *layer[3];    /* per cp_mode: the shared layer, or NULL */
	unsigned serial;              /* tells engines' layers apart in one PDF */
	cp_qr_sign_fn qr_sign;        /* appends the signed token, or NULL */
	void *qr_sign_ud;
};

void cp_engine_set_qr_signer(cp_engine *e, cp_qr_sign_fn fn, void *ud)
{
	e->qr_sign = fn;
	e->qr_sign_ud = ud;
}

/* Per-item drawing state that tests do not need to see. */
typedef struct item_priv {
	PangoLayout *layout;   /* a reference, or NULL */
	double dx, dy;         /* layout origin relative to the box, mm */
	cairo_surface_t *img;  /* photo (owned); may be a stand-in (image.h) */
	int img_w, img_h;      /* the photo's size in pixels */
	cp_qr *qr;
	char *text;
	char *forced, *faces;
} item_priv;

/* How a field's text is set (see cp_page_item.face): whole is the index in
 * the element's chain of the one face used, or -1 when faces mix, each
 * character then in the face face[k] (k counting characters). */
typedef struct field_plan {
	int whole;
	int main;   /* the face that sets most of the field */
	int *face;
	char *forced, *faces;
} field_plan;

static void plan_clear(field_plan *pl)
{
	g_free(pl->face);
	g_free(pl->forced);
	g_free(pl->faces);
	*pl = (field_plan){0};
}

struct cp_page {
	cp_page_item *items;
	item_priv *priv;
	size_t n;
};

static const char *const labels[CP_BIND_COUNT] = {
	[CP_FIELD_NAME] = N_("name (姓名)"),
	[CP_FIELD_ID_TYPE] = N_("ID type (证件类型)"),
	[CP_FIELD_ID_NUMBER] = N_("ID number (证件号码)"),
	[CP_FIELD_OCCUPATION] = N_("occupation (职业名称)"),
	[CP_FIELD_JOB_TYPE] = N_("job type (工种/职业方向)"),
	[CP_FIELD_LEVEL] = N_("level (职业技能等级)"),
	[CP_FIELD_CERT_NO] = N_("certificate number (证书编号)"),
	[CP_FIELD_ISSUE_DATE] = N_("issue date (发证日期)"),
	[CP_FIELD_PHOTO] = N_("photo (照片)"),
	[CP_FIELD_PRINT_SERIAL] = N_("print serial (证书印制流水码)"),
	[CP_BIND_ORG_NAME] = N_("organization name (评价机构)"),
	[CP_BIND_PROVINCE_URL] = N_("provincial query URL"),
};

const char *cp_layout_bind_label(int bind)
{
	return bind >= 0 && bind < CP_BIND_COUNT ? _(labels[bind]) : _("text");
}

/* ------------------------------------------------------------ text fitting */

static int pt_to_pango(double pt)
{
	return (int)lround(pt * PANGO_SCALE);
}

static double mm_to_pt(double mm)
{
	return mm / CP_MM_PER_PT;
}

static PangoLayout *new_layout(cp_engine *e, const cp_element *el, const char *text)
{
	PangoLayout *lay = pango_layout_new(e->ctx);
	/* Plain text only: a name like "<b>&" must print as written. */
	pango_layout_set_text(lay, text, -1);
	pango_layout_set_width(lay, pt_to_pango(mm_to_pt(el->w)));
	pango_layout_set_wrap(lay, PANGO_WRAP_WORD_CHAR);
	pango_layout_set_ellipsize(lay, PANGO_ELLIPSIZE_NONE);
	static const PangoAlignment al[] = {PANGO_ALIGN_LEFT, PANGO_ALIGN_CENTER,
	                                    PANGO_ALIGN_RIGHT};
	pango_layout_set_alignment(lay, al[el->align]);
	if (el->line_spacing > 0)
		pango_layout_set_line_spacing(lay, (float)el->line_spacing);
	return lay;
}

/* The attributes that set a face of the chain over [start, end) of the
 * text, matched to the primary face (cp_face): its family and weight alone
 * (no fallback chain, so that the face is exactly this one), its apparent
 * size and the primary's line height, so that the line keeps the height it
 * has in the primary face. rise (Pango units) puts its ink centre on the
 * primary's. In a field where faces mix, letter spacing gives every
 * character the advance of one em of the field's size. A face of scale 1
 * (the primary) gets only the rise. */
static void add_face_attrs(PangoAttrList *al, const cp_face *f, guint start, guint end,
                           double size, double line_em, bool mixed, int rise)
{
	PangoAttribute *a[6];
	int n = 0;
	if (f->scale != 1 || !mixed) {
		a[n++] = pango_attr_family_new(f->family);
		a[n++] = pango_attr_weight_new(f->weight);
		a[n++] = pango_attr_line_height_new_absolute(pt_to_pango(size * line_em));
	}
	if (f->scale != 1) {
		a[n++] = pango_attr_scale_new(f->scale);
		if (mixed)
			a[n++] = pango_attr_letter_spacing_new(pt_to_pango((1 - f->scale) * size));
	}
	if (rise != 0)
		a[n++] = pango_attr_rise_new(rise);
	for (int i = 0; i < n; i++) {
		a[i]->start_index = start;
		a[i]->end_index = end;
		pango_attr_list_insert(al, a[i]);
	}
}

typedef struct field_faces {
	const field_plan *plan;
	const cp_face *chain;
	double line_em;
} field_faces;

/* The vertical offset Pango itself gives the run holding byte index i (it
 * aligns the ideographic baselines of neighbouring fonts), in Pango units. */
static int run_offset(PangoLayout *lay, int index)
{
	PangoLayoutIter *it = pango_layout_get_iter(lay);
	int y = 0;
	do {
		PangoLayoutRun *run = pango_layout_iter_get_run_readonly(it);
		if (run && index >= run->item->offset &&
		    index < run->item->offset + run->item->length) {
			y = run->y_offset;
			break;
		}
	} while (pango_layout_iter_next_run(it));
	pango_layout_iter_free(it);
	return y;
}

/* Sets the faces of pl over the layout's text at size. Where faces mix,
 * Pango first lays the runs out as it would (it shifts a run of another font
 * to align ideographic baselines); then each run is moved to where its face's
 * measured rise puts it, whatever Pango's own shift was. */
static void apply_plan(PangoLayout *lay, const field_faces *ff, double size)
{
	const field_plan *pl = ff->plan;
	PangoAttrList *al = pango_attr_list_new();
	if (pl->whole > 0) {
		const cp_face *f = &ff->chain[pl->whole];
		add_face_attrs(al, f, 0, PANGO_ATTR_INDEX_TO_TEXT_END, size, ff->line_em, false,
		               pt_to_pango(f->rise * size));
		pango_layout_set_attributes(lay, al);
		pango_attr_list_unref(al);
		return;
	}
	const char *text = pango_layout_get_text(lay);
	for (int pass = 0; pass < 2; pass++) {
		PangoAttrList *next = pass ? pango_attr_list_new() : al;
		const char *p = text;
		for (size_t k = 0; *p;) {
			/* A run of characters set in the same face. */
			int face = pl->face[k];
			const char *start = p;
			while (*p && pl->face[k] == face) {
				p = g_utf8_next_char(p);
				k++;
			}
			const cp_face *f = &ff->chain[face];
			int rise = pass ? pt_to_pango(f->rise * size) -
			                          run_offset(lay, (int)(start - text))
			                : 0;
			/* A run of another face than the main one must not make the
			 * line taller (its ink centre is lowered): half the line
			 * height keeps its logical box inside the main face's. */
			double line = face == pl->main ? ff->line_em : ff->line_em / 2;
			add_face_attrs(next, f, (guint)(start - text), (guint)(p - text), size, line,
			               true, rise);
		}
		pango_layout_set_attributes(lay, next);
		pango_attr_list_unref(next);
	}
}

/* How far a text's ink may reach past its box, in every direction. A serif
 * A or J starts a little left of its origin and an accent may rise above
 * the line; such ink is part of the text. The same bound is what the
 * shared layer (plan_shared_layer) and a folder's redraw (device_rect)
 * take as the element's extent, so ink the layout lets through can neither
 * meet an element moved under it nor be clipped on a later page. */
#define INK_MARGIN_MM 0.5

/* Why text does not fit at a size. */
typedef enum fit_miss { FIT_OK, FIT_BOX, FIT_INK } fit_miss;

static fit_miss fits_at(PangoLayout *lay, const cp_element *el, const field_faces *ff,
                        double size)
{
	PangoFontDescription *d = cp_fonts_description(el->font, size, el->bold);
	pango_layout_set_font_description(lay, d);
	pango_font_description_free(d);
	if (ff)
		apply_plan(lay, ff, size);
	if (pango_layout_get_line_count(lay) > el->max_lines)
		return FIT_BOX;
	PangoRectangle ink, logical;
	pango_layout_get_extents(lay, &ink, &logical);
	/* Half a hundredth of a millimetre of tolerance for rounding to Pango
	 * units; a real overflow is far larger. */
	double tol = mm_to_pt(0.005) * PANGO_SCALE;
	double w = mm_to_pt(el->w) * PANGO_SCALE, h = mm_to_pt(el->h) * PANGO_SCALE;
	if (logical.x < -tol || logical.x + logical.width > w + tol || logical.height > h + tol)
		return FIT_BOX;
	if (ink.width <= 0 || ink.height <= 0)
		return FIT_OK;
	/* The ink where place_text() puts the lines: by their logical box,
	 * aligned in the box's height. */
	double top = el->valign == CP_VALIGN_TOP      ? 0
	             : el->valign == CP_VALIGN_MIDDLE ? (h - logical.height) / 2
	                                              : h - logical.height;
	top += ink.y - logical.y;
	double m = mm_to_pt(INK_MARGIN_MM) * PANGO_SCALE;
	return ink.x >= -m && ink.x + ink.width <= w + m && top >= -m &&
	               top + ink.height <= h + m
	       ? FIT_OK
	       : FIT_INK;
}

/* Lays text out in el's box. Returns the final size, or 0 when it cannot fit
 * even at el->min_size; then *miss (when not NULL) says why at that size. */
static double fit(PangoLayout *lay, const cp_element *el, const field_faces *ff, fit_miss *miss)
{
	fit_miss m = FIT_BOX;
	for (double s = el->size; s >= el->min_size - 1e-9; s -= CP_LAYOUT_STEP_PT)
		if ((m = fits_at(lay, el, ff, s)) == FIT_OK)
			return s;
	/* The last step may have skipped past min_size itself. */
	if (fmod(el->size - el->min_size, CP_LAYOUT_STEP_PT) > 1e-9 &&
	    (m = fits_at(lay, el, ff, el->min_size)) == FIT_OK)
		return el->min_size;
	if (miss)
		*miss = m;
	return 0;
}

/* Finds the first character with no glyph in any configured font. Returns
 * its code point, or 0 when every character has a glyph. */
static gunichar missing_glyph(PangoLayout *lay)
{
	const char *text = pango_layout_get_text(lay);
	PangoLayoutIter *it = pango_layout_get_iter(lay);
	gunichar bad = 0;
	do {
		PangoLayoutRun *run = pango_layout_iter_get_run_readonly(it);
		if (!run)
			continue;
		const PangoGlyphString *g = run->glyphs;
		for (int i = 0; i < g->num_glyphs && !bad; i++) {
			if (!(g->glyphs[i].glyph & PANGO_GLYPH_UNKNOWN_FLAG))
				continue;
			/* log_clusters maps the glyph back to its character. */
			bad = g_utf8_get_char(text + run->item->offset + g->log_clusters[i]);
			if (!bad)
				bad = g->glyphs[i].glyph & ~PANGO_GLYPH_UNKNOWN_FLAG;
		}
	} while (!bad && pango_layout_iter_next_run(it));
	pango_layout_iter_free(it);
	return bad;
}

static void place_text(cp_page_item *it, item_priv *pv, PangoLayout *lay,
                       const cp_element *el, double size)
{
	PangoRectangle logical;
	pango_layout_get_extents(lay, NULL, &logical);
	double lh = logical.height / (double)PANGO_SCALE * CP_MM_PER_PT;
	double ly = logical.y / (double)PANGO_SCALE * CP_MM_PER_PT;
	double dy = el->valign == CP_VALIGN_TOP      ? 0
	            : el->valign == CP_VALIGN_MIDDLE ? (el->h - lh) / 2
	                                             : el->h - lh;
	pv->dx = 0;
	pv->dy = dy - ly;
	pv->layout = lay;
	it->font_size = size;
	it->lines = pango_layout_get_line_count(lay);
	it->text_x = el->x + logical.x / (double)PANGO_SCALE * CP_MM_PER_PT;
	it->text_y = el->y + dy;
	it->text_w = logical.width / (double)PANGO_SCALE * CP_MM_PER_PT;
	it->text_h = lh;
}

/* ------------------------------------------------------------------ engine */

/* The faces a field may be set in, in order: its font list, then the
 * fallback chain, each family once. */
static void resolve_chain(cp_engine *e, size_t i)
{
	const cp_element *el = &e->t->el[i];
	char *list = g_strdup_printf("%s, %s", el->font && *el->font ? el->font
	                                                            : CP_FONTS_DEFAULT_FIELD,
	                             CP_FONTS_FALLBACK);
	char **fams = g_strsplit(list, ",", -1);
	guint n = g_strv_length(fams);
	e->chain[i] = g_new0(cp_face, n);
	bool fang = false;
	for (guint k = 0; k < n; k++) {
		const char *fam = g_strstrip(fams[k]);
		if (!*fam)
			continue;
		if (e->nchain[i] == 0)
			fang = g_ascii_strcasecmp(fam, "FandolFang") == 0;
		bool seen = false;
		for (size_t j = 0; j < e->nchain[i] && !seen; j++)
			seen = g_ascii_strcasecmp(e->chain[i][j].family, fam) == 0;
		if (!seen)
			e->chain[i][e->nchain[i]++] = cp_fonts_face(e->fonts, fam, el->bold, fang);
	}
	g_strfreev(fams);
	g_free(list);
	/* The primary face's line height (ascent + descent), in em. */
	PangoFontDescription *d = pango_font_description_new();
	pango_font_description_set_family(d, e->chain[i][0].family);
	pango_font_description_set_weight(d, e->chain[i][0].weight);
	pango_font_description_set_size(d, 100 * PANGO_SCALE);
	PangoFontMetrics *m = pango_context_get_metrics(e->ctx, d, NULL);
	e->line_em[i] = (pango_font_metrics_get_ascent(m) + pango_font_metrics_get_descent(m)) /
	                (100.0 * PANGO_SCALE);
	pango_font_metrics_unref(m);
	pango_font_description_free(d);
}

/* Chooses the faces of a field's text (see cp_page_item.face). A value
 * whose every character is in the primary face costs one character-set
 * lookup per character and nothing else. */
static void plan_field(const cp_engine *e, size_t i, const char *v, field_plan *pl)
{
	const cp_face *ch = e->chain[i];
	size_t n = e->nchain[i];
	*pl = (field_plan){0};
	const char *p;
	for (p = v; *p; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		if (!g_unichar_isspace(c) && !cp_face_has(&ch[0], c))
			break;
	}
	if (!*p)
		return;
	/* Some character is missing from the primary face: how much of the
	 * field does each face of the chain cover? */
	size_t nch = 0;
	size_t *count = g_new0(size_t, n);
	GString *forced = g_string_new(NULL);
	for (p = v; *p; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		if (g_unichar_isspace(c))
			continue;
		nch++;
		for (size_t k = 0; k < n; k++)
			count[k] += cp_face_has(&ch[k], c);
		if (!cp_face_has(&ch[0], c))
			g_string_append_unichar(forced, c);
	}
	pl->forced = g_string_free(forced, FALSE);
	size_t best = 0;
	for (size_t k = 0; k < n; k++) {
		if (count[k] == nch) {
			pl->whole = pl->main = (int)k;
			g_free(count);
			return;
		}
		if (count[k] > count[best])
			best = k;
	}
	g_free(count);
	/* No face has it all: the face that covers most sets the field, and
	 * each character it lacks goes to the first face that has it. */
	pl->whole = -1;
	pl->main = (int)best;
	pl->face = g_new0(int, g_utf8_strlen(v, -1) + 1);
	GString *faces = g_string_new(NULL);
	size_t k = 0;
	for (p = v; *p; p = g_utf8_next_char(p), k++) {
		gunichar c = g_utf8_get_char(p);
		int f = (int)best;
		if (!g_unichar_isspace(c) && !cp_face_has(&ch[best], c)) {
			for (size_t j = 0; j < n; j++) {
				if (cp_face_has(&ch[j], c)) {
					f = (int)j;
					break;
				}
			}
			if (f != (int)best) {
				if (faces->len)
					g_string_append(faces, ", ");
				g_string_append_unichar(faces, c);
				g_string_append_printf(faces, " %s", ch[f].family);
			}
		}
		pl->face[k] = f;
	}
	pl->faces = g_string_free(faces, FALSE);
}

static void plan_copy(field_plan *dst, const field_plan *src, const char *v)
{
	dst->whole = src->whole;
	dst->main = src->main;
	dst->forced = g_strdup(src->forced);
	dst->faces = g_strdup(src->faces);
	dst->face = src->face ? g_memdup2(src->face, sizeof(int) * (g_utf8_strlen(v, -1) + 1))
	                      : NULL;
}

/* ------------------------------------------------------- the field memo */

/* In a batch the level, occupation, job type, ID type and date repeat from
 * record to record, though seldom in a row; the same text in the same box
 * fits the same way. Each [field] element remembers the last MEMO_SLOTS
 * texts it laid out well, with their fitted layouts and face plans; the
 * oldest goes first. A refusal is not remembered: it is made again. Values
 * that never repeat (names, numbers) only cycle through the slots. */
#define MEMO_SLOTS 32

typedef struct memo_entry {
	char *text;
	PangoLayout *layout;
	double size;
	field_plan plan;
} memo_entry;

typedef struct field_memo {
	GHashTable *index; /* text → memo_entry (in slot[]) */
	memo_entry slot[MEMO_SLOTS];
	unsigned next; /* the slot to fill next */
} field_memo;

static const memo_entry *memo_find(const field_memo *m, const char *text)
{
	return m->index ? g_hash_table_lookup(m->index, text) : NULL;
}

static void memo_entry_clear(memo_entry *me)
{
	if (me->layout)
		g_object_unref(me->layout);
	g_free(me->text);
	plan_clear(&me->plan);
	memset(me, 0, sizeof *me);
}

static void memo_add(field_memo *m, const char *text, PangoLayout *lay, double size,
                     const field_plan *pl)
{
	if (!m->index)
		m->index = g_hash_table_new(g_str_hash, g_str_equal);
	memo_entry *me = &m->slot[m->next];
	m->next = (m->next + 1) % MEMO_SLOTS;
	if (me->text)
		g_hash_table_remove(m->index, me->text);
	memo_entry_clear(me);
	me->text = g_strdup(text);
	me->layout = g_object_ref(lay);
	me->size = size;
	plan_copy(&me->plan, pl, text);
	g_hash_table_insert(m->index, me->text, me);
}

static void memo_clear(field_memo *m)
{
	for (size_t k = 0; k < MEMO_SLOTS; k++)
		memo_entry_clear(&m->slot[k]);
	if (m->index)
		g_hash_table_destroy(m->index);
	memset(m, 0, sizeof *m);
}

/* What the page tells of the faces a field is set in. */
static void plan_to_item(const cp_engine *e, size_t i, const field_plan *pl,
                         cp_page_item *it, item_priv *pv)
{
	it->primary = e->chain[i][0].family;
	if (!pl->forced)
		return;
	pv->forced = g_strdup(pl->forced);
	it->forced = pv->forced;
	it->face = e->chain[i][pl->main].family;
	if (pl->faces) {
		pv->faces = g_strdup(pl->faces);
		it->faces = pv->faces;
	}
}

void cp_engine_free(cp_engine *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->t->n; i++) {
		if (e->static_layouts[i])
			g_object_unref(e->static_layouts[i]);
		if (e->memo)
			memo_clear(&e->memo[i]);
		if (e->chain)
			g_free(e->chain[i]);
		if (e->images[i])
			cairo_surface_destroy(e->images[i]);
	}
	g_free(e->static_layouts);
	g_free(e->static_size);
	g_free(e->memo);
	g_free(e->chain);
	g_free(e->nchain);
	g_free(e->line_em);
	g_free(e->images);
	g_free(e->shared);
	for (size_t m = 0; m < G_N_ELEMENTS(e->layer); m++)
		if (e->layer[m])
			cairo_surface_destroy(e->layer[m]);
	if (e->seal)
		cairo_surface_destroy(e->seal);
	if (e->ctx)
		g_object_unref(e->ctx);
	g_free(e);
}

bool cp_engine_element_shared(const cp_engine *e, size_t i)
{
	return i < e->t->n && e->shared[i];
}

bool cp_engine_has_seal(const cp_engine *e)
{
	return e->seal != NULL;
}

/* ------------------------------------------------------- shared layer */

/* On a PDF, the elements that are the same on every certificate (border,
 * rules, title, labels, body text, artwork; the organization's name and
 * provincial URL, which its profile gives) are drawn once into a
 * recording surface with a CAIRO_MIME_TYPE_UNIQUE_ID, which Cairo writes as
 * one Form XObject that every page paints: each page's content stream then
 * only holds the record's own text, photo and QR code. A batch draws it
 * once more apart (cp_engine_draw_layer, output options' layer_apart): Cairo
 * analyses a painted recording anew on every page that paints it, and the
 * batch's joiner can put one form under every page instead.
 *
 * The layer is painted first, so an element may join it only if moving it
 * under everything that preceded it changes nothing: its box (widened by
 * INK_MARGIN_MM, as far as fits_at() lets ink reach) must not meet the
 * box of any earlier element left on the page. A label that appears only
 * with an optional field of the record is per record and stays on the
 * page. */

static void element_bounds(const cp_element *el, double b[4])
{
	double m = INK_MARGIN_MM + (el->kind == CP_EL_LINE || el->kind == CP_EL_RECT
	                                       ? el->stroke
	                                       : 0);
	double x0 = el->x, y0 = el->y, x1, y1;
	if (el->kind == CP_EL_LINE) {
		x1 = fmax(el->x, el->x2), y1 = fmax(el->y, el->y2);
		x0 = fmin(el->x, el->x2), y0 = fmin(el->y, el->y2);
	} else {
		x1 = el->x + el->w, y1 = el->y + el->h;
	}
	b[0] = x0 - m, b[1] = y0 - m, b[2] = x1 + m, b[3] = y1 + m;
}

/* Whether a field's value comes from the organization's profile, not from
 * the record: the same on every page the engine draws. */
static bool profile_bound(int bind)
{
	return bind == CP_BIND_ORG_NAME || bind == CP_BIND_PROVINCE_URL;
}

static void plan_shared_layer(cp_engine *e)
{
	const cp_template *t = e->t;
	e->shared = g_new0(bool, t->n);
	static unsigned serials;
	e->serial = g_atomic_int_add(&serials, 1);
	for (size_t i = 0; i < t->n; i++) {
		const cp_element *el = &t->el[i];
		bool fixed = (el->layer == CP_LAYER_STATIC &&
		              ((el->kind == CP_EL_TEXT && (el->with < 0 || profile_bound(el->with))) ||
		               el->kind == CP_EL_LINE || el->kind == CP_EL_RECT ||
		               el->kind == CP_EL_IMAGE)) ||
		             (el->kind == CP_EL_FIELD && profile_bound(el->bind));
		if (!fixed)
			continue;
		double a[4];
		element_bounds(el, a);
		bool clear = true;
		for (size_t j = 0; j < i && clear; j++) {
			if (e->shared[j])
				continue;
			double b[4];
			element_bounds(&t->el[j], b);
			clear = a[2] < b[0] || b[2] < a[0] || a[3] < b[1] || b[3] < a[1];
		}
		e->shared[i] = clear;
	}
}

cp_engine *cp_engine_new(const cp_template *t, const cp_profile *p, cp_fonts *f,
                         cp_error **err)
{
	return cp_engine_new_ex(t, p, f, 0, err);
}

cp_engine *cp_engine_new_ex(const cp_template *t, const cp_profile *p, cp_fonts *f,
                            unsigned flags, cp_error **err)
{
	cp_engine *e = g_new0(cp_engine, 1);
	e->t = t;
	e->p = p;
	e->fonts = f;
	e->ctx = cp_fonts_context_new(f);
	e->static_layouts = g_new0(PangoLayout *, t->n);
	e->static_size = g_new0(double, t->n);
	e->memo = g_new0(field_memo, t->n);
	e->chain = g_new0(cp_face *, t->n);
	e->nchain = g_new0(size_t, t->n);
	e->line_em = g_new0(double, t->n);
	e->images = g_new0(cairo_surface_t *, t->n);
	for (size_t i = 0; i < t->n; i++) {
		const cp_element *el = &t->el[i];
		if (el->kind == CP_EL_FIELD)
			resolve_chain(e, i);
		if (el->kind == CP_EL_IMAGE) {
			e->images[i] = cp_image_load(el->file, NULL, err);
			if (!e->images[i])
				goto fail;
		} else if (el->kind == CP_EL_TEXT) {
			/* Fixed words are the template's business: a misfit here
			 * is a template error, found once and not per record. */
			PangoLayout *lay = new_layout(e, el, el->text);
			e->static_layouts[i] = lay;
			fit_miss miss = FIT_BOX;
			e->static_size[i] = fit(lay, el, NULL, &miss);
			if (e->static_size[i] == 0 && miss == FIT_INK) {
				cp_set_error(err, CP_E_PARSE, t->path, el->line, 0, "text",
				             _("the text's ink (its accents or strokes) reaches more "
				               "than %g mm past its box (%g × %g mm) even at %g pt"),
				             INK_MARGIN_MM, el->w, el->h, el->min_size);
				goto fail;
			}
			if (e->static_size[i] == 0) {
				cp_set_error(err, CP_E_PARSE, t->path, el->line, 0, "text",
				             _("the text does not fit in its box (%g × %g mm) "
				               "even at %g pt on %d line(s)"),
				             el->w, el->h, el->min_size, el->max_lines);
				goto fail;
			}
			gunichar bad = missing_glyph(lay);
			if (bad) {
				char ch[8] = {0};
				g_unichar_to_utf8(bad, ch);
				cp_set_error(err, CP_E_PARSE, t->path, el->line, 0, "text",
				             _("the character '%s' (U+%04X) has no glyph in any "
				               "configured font"), ch, (unsigned)bad);
				goto fail;
			}
		}
	}
	plan_shared_layer(e);
	/* Decoding the seal costs a preview on paper 4 % of its instructions
	 * (28 M of 755 M), for an image only an electronic page shows. */
	const char *seal = (flags & CP_ENGINE_NO_SEAL) ? NULL : cp_profile_seal_path(p);
	if (seal) {
		e->seal = cp_image_load(seal, NULL, err);
		if (!e->seal)
			goto fail;
	}
	return e;
fail:
	cp_engine_free(e);
	return NULL;
}

/* -------------------------------------------------------------------- page */

void cp_page_free(cp_page *pg)
{
	if (!pg)
		return;
	for (size_t i = 0; i < pg->n; i++) {
		item_priv *pv = &pg->priv[i];
		if (pv->layout)
			g_object_unref(pv->layout);
		if (pv->img)
			cairo_surface_destroy(pv->img);
		cp_qr_free(pv->qr);
		g_free(pv->text);
		g_free(pv->forced);
		g_free(pv->faces);
	}
	g_free(pg->items);
	g_free(pg->priv);
	g_free(pg);
}

const cp_page_item *cp_page_items(const cp_page *pg, size_t *n)
{
	*n = pg->n;
	return pg->items;
}

const cp_page_item *cp_page_find(const cp_page *pg, int bind)
{
	for (size_t i = 0; i < pg->n; i++)
		if (pg->items[i].kind == CP_EL_FIELD && pg->items[i].bind == bind)
			return &pg->items[i];
	return NULL;
}

static const char *bind_value(const cp_engine *e, const cp_record *rec, int bind)
{
	if (bind == CP_BIND_ORG_NAME)
		return cp_profile_name(e->p);
	if (bind == CP_BIND_PROVINCE_URL)
		return cp_profile_province_url(e->p);
	return rec->value[bind];
}

static bool blank(const char *s)
{
	if (!s)
		return true;
	for (; *s; s = g_utf8_next_char(s))
		if (!g_unichar_isspace(g_utf8_get_char(s)))
			return false;
	return true;
}

static bool layout_field(cp_engine *e, const cp_record *rec, size_t i, cp_page_item *it,
                         item_priv *pv, cp_error **err)
{
	const cp_element *el = &e->t->el[i];
	const char *key = cp_template_bind_key(el->bind);
	const char *v = bind_value(e, rec, el->bind);
	if (blank(v)) {
		if (el->required) {
			cp_set_error(err, CP_E_REFUSED, NULL, 0, rec->row, key,
			             _("%s is empty; a certificate cannot leave it blank"),
			             cp_layout_bind_label(el->bind));
			return false;
		}
		pv->text = g_strdup("");
		it->text = pv->text;
		return true;
	}
	pv->text = g_strdup(v);
	it->text = pv->text;
	const memo_entry *me = memo_find(&e->memo[i], v);
	if (me) {
		place_text(it, pv, g_object_ref(me->layout), el, me->size);
		plan_to_item(e, i, &me->plan, it, pv);
		return true;
	}
	field_plan pl;
	plan_field(e, i, v, &pl);
	field_faces ff = {.plan = &pl, .chain = e->chain[i], .line_em = e->line_em[i]};
	PangoLayout *lay = new_layout(e, el, v);
	fit_miss miss = FIT_BOX;
	double size = fit(lay, el, pl.forced ? &ff : NULL, &miss);
	if (size == 0 && miss == FIT_INK) {
		cp_set_error(err, CP_E_REFUSED, NULL, 0, rec->row, key,
		             _("the ink of %s (its accents or strokes) reaches more than %g mm "
		               "past its box (%g × %g mm) even at %g pt"),
		             cp_layout_bind_label(el->bind), INK_MARGIN_MM, el->w, el->h,
		             el->min_size);
		g_object_unref(lay);
		plan_clear(&pl);
		return false;
	}
	if (size == 0) {
		cp_set_error(err, CP_E_REFUSED, NULL, 0, rec->row, key,
		             el->max_lines > 1
		                     ? _("%s does not fit in its box (%g × %g mm) even at %g pt "
		                         "on %d lines")
		                     : _("%s does not fit in its box (%g × %g mm) even at %g pt "
		                         "on %d line"),
		             cp_layout_bind_label(el->bind), el->w, el->h, el->min_size,
		             el->max_lines);
		g_object_unref(lay);
		plan_clear(&pl);
		return false;
	}
	gunichar bad = missing_glyph(lay);
	if (bad) {
		char ch[8] = {0};
		g_unichar_to_utf8(bad, ch);
		cp_set_error(err, CP_E_REFUSED, NULL, 0, rec->row, key,
		             _("the character '%s' (U+%04X) in %s has no glyph in any "
		               "configured font; it would print as a blank box"),
		             ch, (unsigned)bad, cp_layout_bind_label(el->bind));
		g_object_unref(lay);
		plan_clear(&pl);
		return false;
	}
	/* A character no font has is named above; one only its own font lacks
	 * is refused here when the organization requires one face. */
	if (pl.forced && cp_profile_fallback_policy(e->p) == CP_FALLBACK_REFUSE) {
		cp_set_error(err, CP_E_REFUSED, NULL, 0, rec->row, key,
		             _("%s has characters its font %s lacks (%s), and this "
		               "organization prints every field in its own font; add a "
		               "font that has them with --font-dir"),
		             cp_layout_bind_label(el->bind), e->chain[i][0].family, pl.forced);
		g_object_unref(lay);
		plan_clear(&pl);
		return false;
	}
	memo_add(&e->memo[i], v, lay, size, &pl);
	place_text(it, pv, lay, el, size);
	plan_to_item(e, i, &pl, it, pv);
	plan_clear(&pl);
	return true;
}

static bool layout_photo(cp_engine *e, const cp_record *rec, const cp_element *el,
                         cp_page_item *it, item_priv *pv, cp_error **err)
{
	const char *path = rec->value[CP_FIELD_PHOTO];
	if (blank(path)) {
		if (cp_profile_photo_policy(e->p) == CP_PHOTO_PRINTED) {
			cp_set_error(err, CP_E_REFUSED, NULL, 0, rec->row,
			             cp_field_key(CP_FIELD_PHOTO),
			             _("the record has no photo, and this organization prints "
			               "photos"));
			return false;
		}
		return true; /* pasted on by hand */
	}
	cp_error *ie = NULL;
	/* Not decoded here: on a PDF page Cairo embeds the JPEG file itself;
	 * cp_engine_draw() decodes it for any other target. */
	cp_image_info info;
	pv->img = cp_image_load_for_pdf(path, &info, &ie);
	if (!pv->img) {
		cp_set_error(err, CP_E_REFUSED, ie->file, 0, rec->row,
		             cp_field_key(CP_FIELD_PHOTO), _("the photo cannot be used: %s"),
		             ie->message);
		cp_error_free(ie);
		return false;
	}
	pv->img_w = info.width;
	pv->img_h = info.height;
	it->has_image = true;
	return true;
}

static bool layout_qr(cp_engine *e, const cp_record *rec, const cp_element *el,
                      item_priv *pv, cp_error **err)
{
	char *content = cp_profile_qr_content(e->p, rec);
	cp_error *qe = NULL;
	if (e->qr_sign) {
		char *tok = e->qr_sign(rec, content, e->qr_sign_ud, &qe);
		if (!tok) {
			g_free(content);
			cp_set_error(err, qe->code, NULL, 0, rec->row, "qr", "%s", qe->message);
			cp_error_free(qe);
			return false;
		}
		char *full = g_strconcat(content, tok, NULL);
		g_free(tok);
		g_free(content);
		content = full;
	}
	pv->qr = cp_qr_encode(content, el->ec, &qe);
	pv->text = content; /* cp_page_qr_text() */
	if (!pv->qr) {
		cp_set_error(err, qe->code, NULL, 0, rec->row, "qr", "%s", qe->message);
		cp_error_free(qe);
		return false;
	}
	double m = cp_qr_module_mm(pv->qr, el->w, el->h, el->quiet);
	double min = e->qr_sign ? CP_QR_MIN_SIGNED_MODULE_MM : CP_QR_MIN_MODULE_MM;
	if (m < min) {
		cp_set_error(err, CP_E_REFUSED, NULL, 0, rec->row, "qr",
		             _("the QR code needs %d modules; in its %g mm box a module "
		               "would be %.2f mm, below the %.2f mm a scanner needs"),
		             cp_qr_width(pv->qr), fmin(el->w, el->h), m, min);
		return false;
	}
	return true;
}

cp_page *cp_engine_layout(cp_engine *e, const cp_record *rec, cp_error **err)
{
	const cp_template *t = e->t;
	cp_page *pg = g_new0(cp_page, 1);
	pg->items = g_new0(cp_page_item, t->n);
	pg->priv = g_new0(item_priv, t->n);
	pg->n = t->n;
	for (size_t i = 0; i < t->n; i++) {
		const cp_element *el = &t->el[i];
		cp_page_item *it = &pg->items[i];
		item_priv *pv = &pg->priv[i];
		*it = (cp_page_item){.el = el, .kind = el->kind, .bind = el->bind,
		                     .layer = el->layer, .x = el->x, .y = el->y,
		                     .w = el->w, .h = el->h};
		if (el->kind == CP_EL_LINE) {
			it->w = el->x2 - el->x;
			it->h = el->y2 - el->y;
		}
		bool ok = true;
		switch (el->kind) {
		case CP_EL_TEXT:
			if (el->with >= 0 && blank(bind_value(e, rec, el->with)))
				break; /* the label of an empty optional field */
			it->text = el->text;
			place_text(it, pv, g_object_ref(e->static_layouts[i]), el,
			           e->static_size[i]);
			break;
		case CP_EL_FIELD:
			ok = layout_field(e, rec, i, it, pv, err);
			break;
		case CP_EL_PHOTO:
			ok = layout_photo(e, rec, el, it, pv, err);
			break;
		case CP_EL_QR:
			ok = layout_qr(e, rec, el, pv, err);
			break;
		default:
			break;
		}
		if (!ok) {
			cp_page_free(pg);
			return NULL;
		}
	}
	return pg;
}

const char *cp_page_qr_text(const cp_page *pg)
{
	for (size_t i = 0; i < pg->n; i++)
		if (pg->items[i].kind == CP_EL_QR && pg->priv[i].qr)
			return pg->priv[i].text;
	return NULL;
}

const char *cp_page_photo_sha256(const cp_page *pg)
{
	for (size_t i = 0; i < pg->n; i++) {
		if (pg->items[i].kind != CP_EL_PHOTO || !pg->priv[i].img)
			continue;
		const unsigned char *id = NULL;
		unsigned long len = 0;
		cairo_surface_get_mime_data(pg->priv[i].img, CAIRO_MIME_TYPE_UNIQUE_ID, &id, &len);
		/* image.c's id is the content's SHA-256 in hex; anything else is
		 * not ours to vouch for. */
		if (id && len == 64)
			return (const char *)id;
	}
	return NULL;
}

/* The page digest recorded in the ledger (see layout.h): SHA-256 over a
 * canonical listing of what the page shows (every item's kind, binding, box
 * in micrometres, font size in hundredths of a point, and text; then the
 * photo file's own SHA-256), so an auditor can tell two prints of a
 * certificate apart or confirm they are the same. Whole numbers, not "%.3f":
 * the same canonical values, without formatting a hundred floating-point
 * numbers a page (that was 7 % of a batch's time). */
/* v in decimal, then a tab, at p; returns the end. */
static char *put_num(char *p, long long v)
{
	char b[24];
	int n = 0;
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
	do
		b[n++] = (char)('0' + u % 10);
	while ((u /= 10) > 0);
	if (v < 0)
		*p++ = '-';
	while (n)
		*p++ = b[--n];
	*p++ = '\t';
	return p;
}

char *cp_page_digest(const cp_page *pg, cp_mode mode, const char *photo)
{
	/* The text hashed: a line per item, then the photo's own digest. Built
	 * whole and hashed once with OpenSSL's SHA-256 (GLib's, fed a piece at
	 * a time with the numbers formatted by printf, was 4 % of a batch). */
	GString *t = g_string_sized_new(4096);
	g_string_append_printf(t, "certpress-page-v2\t%s\n", cp_mode_name(mode));
	size_t n;
	const cp_page_item *it = cp_page_items(pg, &n);
	for (size_t i = 0; i < n; i++) {
		char line[7 * 22], *p = line; /* seven numbers of at most 21 characters */
		p = put_num(p, (int)it[i].kind);
		p = put_num(p, it[i].bind);
		p = put_num(p, llround(it[i].x * 1000));
		p = put_num(p, llround(it[i].y * 1000));
		p = put_num(p, llround(it[i].w * 1000));
		p = put_num(p, llround(it[i].h * 1000));
		p = put_num(p, llround(it[i].font_size * 100));
		g_string_append_len(t, line, p - line);
		if (it[i].text)
			g_string_append(t, it[i].text);
		g_string_append_c(t, '\n');
	}
	/* The photo's own SHA-256: already computed for a JPEG (its PDF id),
	 * so only other photos are read and hashed again here. */
	const char *known = cp_page_photo_sha256(pg);
	gchar *data = NULL;
	gsize len = 0;
	char *ph = NULL;
	if (!known && photo && g_file_get_contents(photo, &data, &len, NULL)) {
		ph = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)data, len);
		g_free(data);
	}
	if (known || ph) {
		g_string_append(t, "photo\t");
		g_string_append(t, known ? known : ph);
	}
	g_free(ph);
	char *hex = cp_sha256_hex(t->str, t->len);
	g_string_free(t, TRUE);
	return hex;
}

/* -------------------------------------------------------------------- draw */

static void set_rgba(cairo_t *cr, const cp_rgba *c)
{
	cairo_set_source_rgba(cr, c->r, c->g, c->b, c->a);
}

/* Scales an iw x ih pixel image into the box keeping its aspect ratio,
 * centred: wholly inside it, or with cover, filling it and centre-cropped
 * to it (photos of another shape than the box, docs/rules.md photo.crop).
 * img may be smaller than iw x ih (a stand-in, image.h): its whole area is
 * stretched over the image's place. */
static void draw_image(cairo_t *cr, cairo_surface_t *img, int iw, int ih,
                       const cp_page_item *it, bool cover)
{
	int sw = cairo_image_surface_get_width(img), sh = cairo_image_surface_get_height(img);
	if (iw <= 0 || ih <= 0 || sw <= 0 || sh <= 0)
		return;
	double s = cover ? fmax(it->w / iw, it->h / ih) : fmin(it->w / iw, it->h / ih);
	cairo_save(cr);
	if (iw * s > it->w + 1e-6 || ih * s > it->h + 1e-6) {
		cairo_rectangle(cr, it->x, it->y, it->w, it->h);
		cairo_clip(cr);
	}
	cairo_translate(cr, it->x + (it->w - iw * s) / 2, it->y + (it->h - ih * s) / 2);
	cairo_scale(cr, s * iw / sw, s * ih / sh);
	cairo_set_source_surface(cr, img, 0, 0);
	cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_GOOD);
	cairo_rectangle(cr, 0, 0, sw, sh);
	cairo_fill(cr);
	cairo_restore(cr);
}

static void draw_surface(cairo_t *cr, cairo_surface_t *img, const cp_page_item *it)
{
	draw_image(cr, img, cairo_image_surface_get_width(img),
	           cairo_image_surface_get_height(img), it, false);
}

/* A photo laid out without pixels goes into a PDF as its JPEG file; any
 * other target (PNG, a recording surface) needs it decoded. The file was
 * validated when it was laid out, so only a lack of memory can fail here. */
static void draw_photo(cairo_t *cr, const item_priv *pv, const cp_page_item *it)
{
	if (cairo_surface_get_type(cairo_get_target(cr)) == CAIRO_SURFACE_TYPE_PDF ||
	    cp_image_has_pixels(pv->img)) {
		draw_image(cr, pv->img, pv->img_w, pv->img_h, it, true);
		return;
	}
	cairo_surface_t *px = cp_image_with_pixels(pv->img, NULL);
	if (px) {
		draw_image(cr, px, pv->img_w, pv->img_h, it, true);
		cairo_surface_destroy(px);
	}
}

static void draw_text(cairo_t *cr, const cp_page_item *it, const item_priv *pv)
{
	if (!pv->layout)
		return;
	cairo_save(cr);
	cairo_translate(cr, it->x + pv->dx, it->y + pv->dy);
	cairo_scale(cr, CP_MM_PER_PT, CP_MM_PER_PT);
	set_rgba(cr, &it->el->color);
	cairo_move_to(cr, 0, 0);
	pango_cairo_show_layout(cr, pv->layout);
	cairo_restore(cr);
}

static void draw_item(cp_engine *e, const cp_page *pg, size_t i, cairo_t *cr,
                      const cp_output_opts *o)
{
	const cp_page_item *it = &pg->items[i];
	const item_priv *pv = &pg->priv[i];
	const cp_element *el = it->el;
	switch (it->kind) {
	case CP_EL_TEXT:
	case CP_EL_FIELD:
		if (it->text)
			draw_text(cr, it, pv);
		break;
	case CP_EL_LINE:
		cairo_save(cr);
		cairo_set_line_width(cr, el->stroke);
		cairo_set_line_cap(cr, CAIRO_LINE_CAP_BUTT);
		set_rgba(cr, &el->color);
		cairo_move_to(cr, el->x, el->y);
		cairo_line_to(cr, el->x2, el->y2);
		cairo_stroke(cr);
		cairo_restore(cr);
		break;
	case CP_EL_RECT:
		cairo_save(cr);
		cairo_rectangle(cr, el->x, el->y, el->w, el->h);
		if (el->has_fill) {
			set_rgba(cr, &el->fill);
			cairo_fill_preserve(cr);
		}
		if (el->stroke > 0) {
			cairo_set_line_width(cr, el->stroke);
			cairo_set_line_join(cr, CAIRO_LINE_JOIN_MITER);
			set_rgba(cr, &el->color);
			cairo_stroke(cr);
		}
		cairo_new_path(cr);
		cairo_restore(cr);
		break;
	case CP_EL_IMAGE:
		if ((el->modes & (1u << o->mode)) && e->images[i])
			draw_surface(cr, e->images[i], it);
		break;
	case CP_EL_PHOTO:
		if (pv->img) {
			draw_photo(cr, pv, it);
		} else if (o->mode == CP_MODE_FULL && el->frame) {
			/* Marks where the photo is pasted; thin and light. */
			cairo_save(cr);
			cairo_set_line_width(cr, 0.25);
			cairo_set_source_rgb(cr, 0.5, 0.5, 0.5);
			cairo_rectangle(cr, el->x + 0.125, el->y + 0.125, el->w - 0.25,
			                el->h - 0.25);
			cairo_stroke(cr);
			cairo_restore(cr);
		}
		break;
	case CP_EL_QR:
		if (pv->qr) {
			double c[4] = {el->color.r, el->color.g, el->color.b, el->color.a};
			cp_qr_draw(pv->qr, cr, el->x, el->y, el->w, el->h, el->quiet, c);
		}
		break;
	case CP_EL_SEAL:
		/* Paper certificates are sealed by hand; only the electronic
		 * one carries the seal image. */
		if (o->mode == CP_MODE_ELECTRONIC && e->seal && !o->seal_in_signature) {
			/* Ink, not paint: like a stamp, the seal darkens what is
			 * under it, so the organization's name and the date stay
			 * readable through the red. */
			cairo_save(cr);
			cairo_set_operator(cr, CAIRO_OPERATOR_MULTIPLY);
			draw_surface(cr, e->seal, it);
			cairo_restore(cr);
		}
		break;
	}
}

/* Whether item i is drawn at all in mode o (fill mode leaves the static
 * layer to the pre-printed stock). */
static bool drawn(const cp_page *pg, size_t i, const cp_output_opts *o)
{
	return !(o->mode == CP_MODE_FILL && pg->items[i].layer == CP_LAYER_STATIC);
}

/* The shared layer for o->mode (what the mode draws of the shared elements:
 * in fill mode the profile's fields, not the static art), recorded from pg
 * on first use. */
static cairo_surface_t *shared_layer(cp_engine *e, const cp_page *pg, const cp_output_opts *o)
{
	if (e->layer[o->mode])
		return e->layer[o->mode];
	cairo_rectangle_t ext = {0, 0, cp_template_page_width_mm(e->t),
	                         cp_template_page_height_mm(e->t)};
	cairo_surface_t *rec = cairo_recording_surface_create(CAIRO_CONTENT_COLOR_ALPHA, &ext);
	cairo_t *rc = cairo_create(rec);
	for (size_t i = 0; i < pg->n; i++)
		if (e->shared[i] && drawn(pg, i, o))
			draw_item(e, pg, i, rc, o);
	cairo_destroy(rc);
	char *id = g_strdup_printf("certpress-shared-layer-%u-%d", e->serial, (int)o->mode);
	if (cairo_surface_status(rec) != CAIRO_STATUS_SUCCESS ||
	    cairo_surface_set_mime_data(rec, CAIRO_MIME_TYPE_UNIQUE_ID, (unsigned char *)id,
	                                strlen(id), g_free, id) != CAIRO_STATUS_SUCCESS) {
		g_free(id);
		cairo_surface_destroy(rec);
		return NULL;
	}
	e->layer[o->mode] = rec;
	return rec;
}

/* shared_layer(), or NULL when o's mode draws none of the shared elements. */
static cairo_surface_t *mode_layer(cp_engine *e, const cp_page *pg, const cp_output_opts *o)
{
	for (size_t i = 0; i < pg->n; i++)
		if (e->shared[i] && drawn(pg, i, o))
			return shared_layer(e, pg, o);
	return NULL;
}

/* Saves cr's state and applies the output's calibration: (p + offset)
 * scaled about the page origin; cairo applies the last transform first, so
 * translate after scaling. */
static void page_space(cairo_t *cr, const cp_output_opts *o)
{
	cairo_save(cr);
	cairo_scale(cr, o->scale_x, o->scale_y);
	cairo_translate(cr, o->offset_x_mm, o->offset_y_mm);
}

void cp_engine_draw(cp_engine *e, const cp_page *pg, cairo_t *cr, const cp_output_opts *o)
{
	cp_output_opts def;
	if (!o) {
		cp_output_opts_init(&def);
		o = &def;
	}
	page_space(cr, o);
	/* Only a PDF shares the layer; a raster page is drawn element by
	 * element (painting a recording would cost more than it saves). */
	bool pdf = cairo_surface_get_type(cairo_get_target(cr)) == CAIRO_SURFACE_TYPE_PDF;
	bool apart = pdf && o->layer_apart;
	cairo_surface_t *layer = pdf && !apart ? mode_layer(e, pg, o) : NULL;
	if (layer) {
		cairo_set_source_surface(cr, layer, 0, 0);
		cairo_paint(cr);
	}
	for (size_t i = 0; i < pg->n; i++)
		if (drawn(pg, i, o) && !((layer || apart) && e->shared[i]))
			draw_item(e, pg, i, cr, o);
	cairo_restore(cr);
}

bool cp_engine_draw_layer(cp_engine *e, const cp_page *pg, cairo_t *cr,
                          const cp_output_opts *o)
{
	if (cairo_surface_get_type(cairo_get_target(cr)) != CAIRO_SURFACE_TYPE_PDF)
		return false;
	cairo_surface_t *layer = mode_layer(e, pg, o);
	if (!layer)
		return false;
	page_space(cr, o);
	cairo_set_source_surface(cr, layer, 0, 0);
	cairo_paint(cr);
	cairo_restore(cr);
	return true;
}

/* One element's rectangle of device pixels and what the raster held there
 * before any per-record element was drawn. */
typedef struct redraw_patch {
	size_t item;
	int x0, y0, x1, y1;
	unsigned char *rows; /* the rows that differ from the one above, (x1 - x0) * 4 bytes each */
	size_t *row;         /* for each row y0..y1, the offset of its pixels in rows */
} redraw_patch;

struct cp_redraw {
	cairo_surface_t *target; /* the raster of the first call */
	GArray *patches;         /* redraw_patch, in item order */
};

cp_redraw *cp_redraw_new(void)
{
	cp_redraw *r = g_new0(cp_redraw, 1);
	r->patches = g_array_new(FALSE, FALSE, sizeof(redraw_patch));
	return r;
}

void cp_redraw_free(cp_redraw *r)
{
	if (!r)
		return;
	for (guint i = 0; i < r->patches->len; i++) {
		g_free(g_array_index(r->patches, redraw_patch, i).rows);
		g_free(g_array_index(r->patches, redraw_patch, i).row);
	}
	g_array_free(r->patches, TRUE);
	g_free(r);
}

/* The element's box widened by INK_MARGIN_MM, in device pixels rounded
 * outwards and one more, within the surface (w x h); false when empty. */
static bool device_rect(const cp_element *el, cairo_t *cr, int w, int h, redraw_patch *p)
{
	double b[4];
	element_bounds(el, b);
	double x[4] = {b[0], b[2], b[0], b[2]}, y[4] = {b[1], b[1], b[3], b[3]};
	double lo_x = INFINITY, lo_y = INFINITY, hi_x = -INFINITY, hi_y = -INFINITY;
	for (int k = 0; k < 4; k++) {
		cairo_user_to_device(cr, &x[k], &y[k]);
		lo_x = fmin(lo_x, x[k]), hi_x = fmax(hi_x, x[k]);
		lo_y = fmin(lo_y, y[k]), hi_y = fmax(hi_y, y[k]);
	}
	if (!(isfinite(lo_x) && isfinite(lo_y) && isfinite(hi_x) && isfinite(hi_y)))
		return false;
	p->x0 = (int)fmax(0, fmin(w, floor(lo_x) - 1));
	p->y0 = (int)fmax(0, fmin(h, floor(lo_y) - 1));
	p->x1 = (int)fmax(0, fmin(w, ceil(hi_x) + 1));
	p->y1 = (int)fmax(0, fmin(h, ceil(hi_y) + 1));
	return p->x1 > p->x0 && p->y1 > p->y0;
}

/* Keeps the pixels of patch p: a row the same as the one above is kept
 * once (most of a field's box is blank paper): for the reference template
 * at 300 dpi, 0.4 MB instead of 8.9. */
static void patch_keep(redraw_patch *p, const unsigned char *data, int stride)
{
	size_t n = (size_t)(p->x1 - p->x0) * 4, h = (size_t)(p->y1 - p->y0), unique = 0;
	const unsigned char *at = data + (size_t)p->y0 * (size_t)stride + (size_t)p->x0 * 4;
	for (size_t y = 0; y < h; y++)
		unique += y == 0 || memcmp(at + y * (size_t)stride, at + (y - 1) * (size_t)stride, n);
	p->rows = g_malloc(unique * n);
	p->row = g_new(size_t, h);
	size_t used = 0;
	for (size_t y = 0; y < h; y++) {
		if (y == 0 || memcmp(at + y * (size_t)stride, at + (y - 1) * (size_t)stride, n)) {
			memcpy(p->rows + used, at + y * (size_t)stride, n);
			used += n;
		}
		p->row[y] = used - n;
	}
}

static void patch_put_back(const redraw_patch *p, unsigned char *data, int stride)
{
	size_t n = (size_t)(p->x1 - p->x0) * 4, h = (size_t)(p->y1 - p->y0);
	unsigned char *at = data + (size_t)p->y0 * (size_t)stride + (size_t)p->x0 * 4;
	for (size_t y = 0; y < h; y++)
		memcpy(at + y * (size_t)stride, p->rows + p->row[y], n);
}

void cp_engine_redraw(cp_engine *e, cp_redraw *r, const cp_page *pg, cairo_t *cr,
                      const cp_output_opts *o)
{
	cairo_surface_t *s = cairo_get_target(cr);
	if (cairo_surface_get_type(s) != CAIRO_SURFACE_TYPE_IMAGE ||
	    (r->target && r->target != s) || pg->n != e->t->n) {
		cp_engine_draw(e, pg, cr, o); /* not a raster this can reuse */
		return;
	}
	page_space(cr, o);
	cairo_surface_flush(s);
	unsigned char *data = cairo_image_surface_get_data(s);
	int stride = cairo_image_surface_get_stride(s);
	if (!r->target) {
		/* The paper and the static layer, then what lies under each
		 * element drawn per record. */
		r->target = s;
		for (size_t i = 0; i < pg->n; i++)
			if (drawn(pg, i, o) && e->shared[i])
				draw_item(e, pg, i, cr, o);
		cairo_surface_flush(s);
		int w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
		for (size_t i = 0; i < pg->n; i++) {
			redraw_patch p = {.item = i};
			if (!drawn(pg, i, o) || e->shared[i] || !device_rect(&e->t->el[i], cr, w, h, &p))
				continue;
			patch_keep(&p, data, stride);
			g_array_append_val(r->patches, p);
		}
	} else {
		for (guint k = 0; k < r->patches->len; k++)
			patch_put_back(&g_array_index(r->patches, redraw_patch, k), data, stride);
		cairo_surface_mark_dirty(s);
	}
	cairo_matrix_t m;
	cairo_get_matrix(cr, &m);
	for (guint k = 0; k < r->patches->len; k++) {
		const redraw_patch *p = &g_array_index(r->patches, redraw_patch, k);
		cairo_save(cr);
		cairo_identity_matrix(cr);
		cairo_rectangle(cr, p->x0, p->y0, p->x1 - p->x0, p->y1 - p->y0);
		cairo_clip(cr);
		cairo_set_matrix(cr, &m);
		draw_item(e, pg, p->item, cr, o);
		cairo_restore(cr);
	}
	cairo_restore(cr);
}

void cp_engine_draw_item(cp_engine *e, const cp_page *pg, size_t i, cairo_t *cr)
{
	if (i >= pg->n)
		return;
	cp_output_opts o;
	cp_output_opts_init(&o);
	draw_item(e, pg, i, cr, &o);
}
