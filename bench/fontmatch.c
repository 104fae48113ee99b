/* SPDX-License-Identifier: MIT */
/*
 * fontmatch: measures how heavy and how large a CJK face looks, so that a
 * fallback face can be matched to FandolFang by measurement, not by name
 * (docs/fonts.md, "Matching the fallback face").
 *
 *   fontmatch [-c CHARS] FONT[:INDEX] ...
 *
 * Every face is rendered with FreeType, unhinted, at 12 pt and 2400 dpi
 * (400 pixels to the em: one pixel is 0.03 pt), antialiased, thresholded at
 * half coverage. Over the reference characters (common in names, present in
 * every face measured) it reports, in points at 12 pt:
 *   stroke  mean stroke width, 2·area/perimeter of the ink (a stroke of
 *           length L and width w has area L·w and perimeter about 2·L);
 *   vstem   median width of the horizontal ink runs (vertical stems);
 *   hstem   median height of the vertical ink runs (horizontal strokes);
 *   inkh    mean ink height of the box characters 国 田 日 回 四 口 图;
 *   inkw    their mean ink width;
 *   bottom  mean distance of their ink bottom below the baseline (negative:
 *           above it);
 *   adv     the advance of 国.
 * A character missing from a face is named and left out of its figures.
 * -c CHARS measures everything (stroke and ink) over CHARS instead: faces
 * with no common character in the usual sets (HanaMinB has only Extension B)
 * are compared over characters they share.
 */
#include <ft2build.h>
#include FT_FREETYPE_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PT 12.0
#define DPI 2400
#define PX_PER_PT (DPI / 72.0)

static const char *const default_refs[] = {
	"王", "张", "李", "刘", "陈", "杨", "黄", "赵", "周", "吴", "国", "田", "中",
	"明", "华", "建", "军", "海", "平", "文", "林", "强", "娟", "浩", "阳", "卢",
	"郭", "丽", "敏", "静", NULL,
};
static const char *const default_boxes[] = {"国", "田", "日", "回", "四", "口", "图", NULL};
static const char *const *refs = default_refs, *const *boxes = default_boxes;

static unsigned long utf8_cp(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	if (u[0] < 0x80)
		return u[0];
	if (u[0] < 0xE0)
		return ((u[0] & 0x1Ful) << 6) | (u[1] & 0x3F);
	if (u[0] < 0xF0)
		return ((u[0] & 0x0Ful) << 12) | ((u[1] & 0x3Ful) << 6) | (u[2] & 0x3F);
	return ((u[0] & 0x07ul) << 18) | ((u[1] & 0x3Ful) << 12) | ((u[2] & 0x3Ful) << 6) |
	       (u[3] & 0x3F);
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

typedef struct runs {
	int *v;
	size_t n, cap;
} runs;

static void push(runs *r, int x)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 1024;
		r->v = realloc(r->v, r->cap * sizeof *r->v);
		if (!r->v)
			exit(2);
	}
	r->v[r->n++] = x;
}

static double median(runs *r)
{
	if (r->n == 0)
		return 0;
	qsort(r->v, r->n, sizeof *r->v, cmp_int);
	return r->v[r->n / 2];
}

/* Renders cp; returns 0 when the face has no glyph for it. */
static int render(FT_Face f, unsigned long cp)
{
	FT_UInt gi = FT_Get_Char_Index(f, cp);
	if (!gi)
		return 0;
	if (FT_Load_Glyph(f, gi, FT_LOAD_NO_HINTING | FT_LOAD_NO_BITMAP) ||
	    FT_Render_Glyph(f->glyph, FT_RENDER_MODE_NORMAL))
		return -1;
	return 1;
}

static int ink(const FT_Bitmap *b, int x, int y)
{
	if (x < 0 || y < 0 || x >= (int)b->width || y >= (int)b->rows)
		return 0;
	return b->buffer[y * b->pitch + x] >= 128;
}

static int measure(const char *spec)
{
	char *file = strdup(spec);
	long index = 0;
	char *colon = strrchr(file, ':');
	if (colon && colon[1] && strspn(colon + 1, "0123456789") == strlen(colon + 1)) {
		*colon = '\0';
		index = atol(colon + 1);
	}
	FT_Library lib;
	FT_Face f;
	if (FT_Init_FreeType(&lib) || FT_New_Face(lib, file, index, &f)) {
		fprintf(stderr, "fontmatch: cannot open %s\n", spec);
		free(file);
		return 1;
	}
	FT_Set_Char_Size(f, 0, (FT_F26Dot6)(PT * 64), DPI, DPI);
	double area = 0, perim = 0;
	runs hr = {0}, vr = {0};
	for (int i = 0; refs[i]; i++) {
		int r = render(f, utf8_cp(refs[i]));
		if (r <= 0) {
			fprintf(stderr, "fontmatch: %s lacks %s\n", spec, refs[i]);
			continue;
		}
		const FT_Bitmap *b = &f->glyph->bitmap;
		for (int y = 0; y < (int)b->rows; y++) {
			int run = 0;
			for (int x = 0; x <= (int)b->width; x++) {
				int on = ink(b, x, y);
				if (on) {
					area++;
					perim += !ink(b, x - 1, y) + !ink(b, x + 1, y) +
					         !ink(b, x, y - 1) + !ink(b, x, y + 1);
					run++;
				} else if (run) {
					push(&hr, run);
					run = 0;
				}
			}
		}
		for (int x = 0; x < (int)b->width; x++) {
			int run = 0;
			for (int y = 0; y <= (int)b->rows; y++) {
				if (ink(b, x, y)) {
					run++;
				} else if (run) {
					push(&vr, run);
					run = 0;
				}
			}
		}
	}
	double h = 0, w = 0, bottom = 0;
	int nb = 0;
	for (int i = 0; boxes[i]; i++) {
		if (render(f, utf8_cp(boxes[i])) <= 0)
			continue;
		const FT_GlyphSlot g = f->glyph;
		h += g->bitmap.rows;
		w += g->bitmap.width;
		bottom += (double)g->bitmap.rows - g->bitmap_top;
		nb++;
	}
	double adv = 0;
	if (render(f, utf8_cp("国")) > 0)
		adv = f->glyph->advance.x / 64.0;
	double s = PX_PER_PT;
	printf("%-60s %-28s stroke %.3f vstem %.3f hstem %.3f inkh %.3f inkw %.3f "
	       "bottom %.3f adv %.3f\n",
	       spec, f->family_name, perim > 0 ? 2 * area / perim / s : 0,
	       median(&hr) / s, median(&vr) / s, nb ? h / nb / s : 0, nb ? w / nb / s : 0,
	       nb ? bottom / nb / s : 0, adv / s);
	free(hr.v);
	free(vr.v);
	FT_Done_Face(f);
	FT_Done_FreeType(lib);
	free(file);
	return 0;
}

int main(int argc, char **argv)
{
	int first = 1;
	if (argc > 2 && strcmp(argv[1], "-c") == 0) {
		/* one string per character of argv[2] */
		const char *p = argv[2];
		size_t n = 0;
		char **set = calloc(strlen(p) + 1, sizeof *set);
		while (set && *p) {
			size_t len = (*p & 0x80) == 0 ? 1 : (*p & 0xE0) == 0xC0 ? 2
			             : (*p & 0xF0) == 0xE0 ? 3 : 4;
			set[n++] = strndup(p, len);
			p += strlen(set[n - 1]);
		}
		refs = boxes = (const char *const *)set;
		first = 3;
	}
	if (argc <= first) {
		fprintf(stderr, "usage: fontmatch [-c CHARS] FONT[:INDEX] ...\n");
		return 2;
	}
	int rc = 0;
	for (int i = first; i < argc; i++)
		rc |= measure(argv[i]);
	return rc;
}
