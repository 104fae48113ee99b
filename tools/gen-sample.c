/* SPDX-License-Identifier: MIT */
/*
 * gen-sample — regenerates the shipped sample: templates/sample/batch.csv,
 * templates/sample/photos/NNN.jpg and templates/seal.png.
 *
 * A development tool, not part of the build or CI: its output is committed.
 * Run from the top of the source tree:
 *
 *   cc -std=c17 -D_GNU_SOURCE -O2 -o /tmp/gen-sample tools/gen-sample.c \
 *      $(pkg-config --cflags --libs pangocairo fontconfig libjpeg) -lm
 *   /tmp/gen-sample .
 *
 * Everything is synthetic: the people, the ID numbers (valid GB 11643 check
 * digits, real Guangdong area codes, real calendar dates, but made up), the
 * passport numbers, the organization and its seal. The output is deterministic
 * (no clock, no unseeded randomness), so rerunning it reproduces the files
 * byte for byte on the same library versions.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <jpeglib.h>
#include <pango/pangocairo.h>

#define CERT_PREFIX "S000044000123"
#define ORG_NAME "广东省示例职业技能评价中心"
#define ISSUE_YEAR 26

/* Photo: 1-inch portrait in the 5:7 ratio at 300 dpi (≈ 35 × 49 mm). */
#define PHOTO_W 413
#define PHOTO_H 579
#define PHOTO_DPI 300
#define PHOTO_MAX_BYTES (40 * 1024)

/* Seal: 42 mm across at 300 dpi. */
#define SEAL_PX 500

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "gen-sample: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	exit(1);
}

/* ------------------------------------------------------------------ IDs */

/* GB 11643-1999 check character: ISO 7064 MOD 11-2 over the first 17 digits. */
static char gb11643_check(const char *id17)
{
	static const int w[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
	static const char map[] = "10X98765432";
	int sum = 0;
	for (int i = 0; i < 17; i++) {
		if (id17[i] < '0' || id17[i] > '9')
			die("bad ID digits", id17);
		sum += (id17[i] - '0') * w[i];
	}
	return map[sum % 11];
}

static int days_in_month(int y, int m)
{
	static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : d[m - 1];
}

/* ------------------------------------------------------------ the batch */

typedef struct person {
	const char *name;
	const char *id_type;   /* "居民身份证" or "护照" */
	const char *area;      /* 居民身份证: GB/T 2260 county code in Guangdong */
	int by, bm, bd;        /* birth date */
	int seq;               /* 3-digit sequence code; odd = male, even = female */
	const char *passport;  /* 护照: the document number */
	const char *occupation;
	const char *job_type;  /* "" when the occupation has none */
	const char *level_in;  /* the level as the operator typed it */
	int level;             /* its digit, for the certificate number */
	const char *date_in;   /* the issue date as typed */
	/* clothing colour for the synthetic photo */
	double cloth[3];
} person;

/* Levels and occupations stay inside templates/org.conf's scopes:
 * 电工 ≤ 二级, 焊工 ≤ 二级, 互联网营销师 ≤ 一级, 育婴员 ≤ 三级, 中式烹调师 ≤ 一级,
 * 半导体分立器件和集成电路装调工 ≤ 三级. */
static const person people[] = {
	{"陈志强", "居民身份证", "440103", 1985, 3, 12, 149, NULL, "电工", "", "三级", 3,
	 "2026-11-27", {0.16, 0.22, 0.36}},
	{"李晓敏", "居民身份证", "440106", 1992, 7, 8, 248, NULL, "育婴员", "", "四级", 4,
	 "2026/11/27", {0.80, 0.42, 0.52}},
	{"欧阳明辉", "居民身份证", "440305", 1979, 11, 30, 57, NULL, "焊工", "电焊工", "技师", 2,
	 "2026年11月27日", {0.18, 0.18, 0.20}},
	{"阿依古丽·买买提", "居民身份证", "440104", 1996, 2, 29, 326, NULL, "互联网营销师",
	 "直播销售员", "五级/初级工", 5, "2026-11-27", {0.62, 0.12, 0.16}},
	{"王䶮", "居民身份证", "440111", 1990, 5, 17, 19, NULL, "中式烹调师", "", "高级工", 3,
	 "2026-11-27", {0.20, 0.36, 0.28}},
	{"李𠇔", "居民身份证", "440604", 1988, 9, 9, 273, NULL, "电工", "", "4", 4,
	 "2026/11/27", {0.36, 0.38, 0.42}},
	{"MARTIN SCHULZ", "护照", NULL, 0, 0, 0, 0, "C8R2TX7N4", "中式烹调师", "", "三级", 3,
	 "2026-11-27", {0.12, 0.14, 0.26}},
	{"张伟", "居民身份证", "440305", 2001, 1, 1, 95, NULL, "焊工", "气焊工", "初级", 5,
	 "2026年11月27日", {0.30, 0.24, 0.18}},
	{"黄丽娟", "居民身份证", "441302", 1983, 12, 25, 402, NULL, "育婴员", "", "三级/高级工", 3,
	 "2026-11-27", {0.92, 0.78, 0.56}},
	{"司马文博", "居民身份证", "440402", 1994, 6, 15, 211, NULL,
	 "半导体分立器件和集成电路装调工", "", "中级工", 4, "2026-11-27", {0.24, 0.44, 0.66}},
	{"NGUYEN THI LAN", "护照", NULL, 0, 0, 0, 0, "C7204519", "互联网营销师", "选品员", "四级", 4,
	 "2026/11/27", {0.86, 0.64, 0.70}},
	{"刘洋", "居民身份证", "441900", 1999, 10, 10, 377, NULL, "互联网营销师", "视频创推员", "3", 3,
	 "2026-11-27", {0.10, 0.10, 0.12}},
	{"吴海燕", "居民身份证", "440106", 1975, 4, 4, 112, NULL, "中式烹调师", "", "高级技师", 1,
	 "2026年11月27日", {0.44, 0.16, 0.30}},
	{"郑晓东", "居民身份证", "440103", 1987, 8, 20, 453, NULL, "电工", "", "二级", 2,
	 "2026-11-27", {0.26, 0.30, 0.34}},
	{"梁嘉欣", "居民身份证", "440304", 2000, 2, 29, 82, NULL, "互联网营销师", "平台管理员", "中级", 4,
	 "2026-11-27", {0.96, 0.96, 0.94}},
	{"何家豪", "居民身份证", "440604", 1993, 3, 3, 315, NULL, "焊工", "钎焊工", "高级", 3,
	 "2026/11/27", {0.14, 0.28, 0.46}},
	{"罗美玲", "居民身份证", "440111", 1986, 11, 11, 24, NULL, "育婴员", "", "5", 5,
	 "2026-11-27", {0.58, 0.50, 0.70}},
	{"上官婉清", "居民身份证", "440402", 1998, 7, 7, 186, NULL, "中式烹调师", "", "四级/中级工", 4,
	 "2026年11月27日", {0.72, 0.22, 0.24}},
	{"谢振华", "居民身份证", "441302", 1981, 1, 31, 239, NULL,
	 "半导体分立器件和集成电路装调工", "", "五级", 5, "2026-11-27", {0.20, 0.20, 0.24}},
	{"冯子健", "居民身份证", "441900", 1995, 9, 30, 417, NULL, "焊工", "焊接设备操作工", "二级/技师", 2,
	 "2026-11-27", {0.34, 0.40, 0.26}},
};
#define NPEOPLE (sizeof people / sizeof people[0])

/* RFC 4180: quote a cell holding a comma, quote, CR or LF. */
static void csv_cell(FILE *f, const char *s, bool last)
{
	if (strpbrk(s, ",\"\r\n")) {
		fputc('"', f);
		for (; *s; s++) {
			if (*s == '"')
				fputc('"', f);
			fputc(*s, f);
		}
		fputc('"', f);
	} else {
		fputs(s, f);
	}
	fputs(last ? "\r\n" : ",", f);
}

static void write_csv(const char *path)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		die(path, strerror(errno));
	/* Excel's "CSV UTF-8" writes a BOM and CRLF line ends. */
	fputs("\xEF\xBB\xBF", f);
	fputs("姓名,证件类型,证件号码,职业名称,工种/职业方向,职业技能等级,证书编号,发证日期,照片\r\n", f);
	int serial[6] = {0};
	int xcount = 0;
	for (size_t i = 0; i < NPEOPLE; i++) {
		const person *p = &people[i];
		char id[32], cert[32], photo[32];
		if (strcmp(p->id_type, "居民身份证") == 0) {
			if (p->bm < 1 || p->bm > 12 || p->bd < 1 || p->bd > days_in_month(p->by, p->bm))
				die("bad birth date for", p->name);
			if (p->seq < 0 || p->seq > 999)
				die("bad sequence code for", p->name);
			snprintf(id, sizeof id, "%s%04d%02d%02d%03d", p->area, p->by, p->bm, p->bd, p->seq);
			id[17] = gb11643_check(id);
			id[18] = '\0';
			xcount += id[17] == 'X';
		} else {
			snprintf(id, sizeof id, "%s", p->passport);
		}
		if (p->level < 1 || p->level > 5)
			die("bad level for", p->name);
		/* Serial within organization, year and level (编码规则 positions 17–22). */
		snprintf(cert, sizeof cert, "%s%02d%d%06d", CERT_PREFIX, ISSUE_YEAR, p->level,
		         ++serial[p->level]);
		if (strlen(cert) != 22)
			die("certificate number is not 22 characters", cert);
		snprintf(photo, sizeof photo, "photos/%03zu.jpg", i + 1);
		csv_cell(f, p->name, false);
		csv_cell(f, p->id_type, false);
		csv_cell(f, id, false);
		csv_cell(f, p->occupation, false);
		csv_cell(f, p->job_type, false);
		csv_cell(f, p->level_in, false);
		csv_cell(f, cert, false);
		csv_cell(f, p->date_in, false);
		csv_cell(f, photo, true);
	}
	if (fclose(f) != 0)
		die(path, strerror(errno));
	if (xcount == 0)
		die("no ID number ends in X; change a sequence code so the sample covers it", NULL);
}

/* --------------------------------------------------------------- photos */

/* Tiny deterministic PRNG (xorshift32) so every run draws the same photos. */
static unsigned rng_state = 20261127u;
static double rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return (rng_state & 0xffffff) / (double)0x1000000;
}

static void write_jpeg(cairo_surface_t *s, const char *path)
{
	cairo_surface_flush(s);
	int w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
	int stride = cairo_image_surface_get_stride(s);
	const unsigned char *data = cairo_image_surface_get_data(s);
	FILE *f = fopen(path, "wb");
	if (!f)
		die(path, strerror(errno));
	struct jpeg_compress_struct c;
	struct jpeg_error_mgr jerr;
	c.err = jpeg_std_error(&jerr);
	jpeg_create_compress(&c);
	jpeg_stdio_dest(&c, f);
	c.image_width = (JDIMENSION)w;
	c.image_height = (JDIMENSION)h;
	c.input_components = 3;
	c.in_color_space = JCS_RGB;
	jpeg_set_defaults(&c);
	jpeg_set_quality(&c, 85, TRUE);
	c.optimize_coding = TRUE; /* still baseline; smaller Huffman tables */
	c.write_JFIF_header = TRUE;
	c.density_unit = 1; /* dots per inch */
	c.X_density = PHOTO_DPI;
	c.Y_density = PHOTO_DPI;
	jpeg_start_compress(&c, TRUE);
	unsigned char *row = malloc((size_t)w * 3);
	if (!row)
		die("out of memory", NULL);
	for (int y = 0; y < h; y++) {
		const uint32_t *px = (const uint32_t *)(data + (size_t)y * (size_t)stride);
		for (int x = 0; x < w; x++) {
			row[x * 3 + 0] = (px[x] >> 16) & 0xff;
			row[x * 3 + 1] = (px[x] >> 8) & 0xff;
			row[x * 3 + 2] = px[x] & 0xff;
		}
		JSAMPROW rp = row;
		jpeg_write_scanlines(&c, &rp, 1);
	}
	jpeg_finish_compress(&c);
	jpeg_destroy_compress(&c);
	free(row);
	if (fclose(f) != 0)
		die(path, strerror(errno));
	struct stat st;
	if (stat(path, &st) != 0 || st.st_size > PHOTO_MAX_BYTES)
		die("photo too large (over 40 KB)", path);
}

/* A faceless head-and-shoulders figure on white: the shapes and proportions of
 * an ID photo (head about 2/3 of the frame height from the top, shoulders
 * filling the bottom) without anyone's likeness. */
static void draw_portrait(cairo_t *cr, const person *p, bool female)
{
	static const double skins[][3] = {
		{0.93, 0.80, 0.69}, {0.88, 0.72, 0.60}, {0.80, 0.63, 0.50}, {0.96, 0.85, 0.76},
	};
	static const double hairs[][3] = {
		{0.10, 0.09, 0.09}, {0.16, 0.12, 0.10}, {0.24, 0.18, 0.14}, {0.45, 0.40, 0.36},
	};
	const double *skin = skins[(int)(rnd() * 4)];
	const double *hair = hairs[(int)(rnd() * (p->by && p->by < 1980 ? 4 : 3))];
	double cx = PHOTO_W / 2.0 + (rnd() - 0.5) * 8;
	double head_cy = 246 + (rnd() - 0.5) * 12;
	double head_rx = 100 + rnd() * 10, head_ry = head_rx * 1.3;

	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_paint(cr);

	/* long hair falls behind the shoulders */
	if (female) {
		cairo_set_source_rgb(cr, hair[0], hair[1], hair[2]);
		cairo_move_to(cr, cx - head_rx - 14, head_cy - 20);
		cairo_curve_to(cr, cx - head_rx - 26, head_cy + 120, cx - head_rx - 10, head_cy + 190,
		               cx - head_rx + 6, head_cy + 200);
		cairo_line_to(cr, cx + head_rx - 6, head_cy + 200);
		cairo_curve_to(cr, cx + head_rx + 10, head_cy + 190, cx + head_rx + 26, head_cy + 120,
		               cx + head_rx + 14, head_cy - 20);
		cairo_close_path(cr);
		cairo_fill(cr);
	}

	/* neck */
	cairo_set_source_rgb(cr, skin[0] * 0.9, skin[1] * 0.9, skin[2] * 0.9);
	cairo_rectangle(cr, cx - 40, head_cy + head_ry * 0.6, 80, 110);
	cairo_fill(cr);

	/* shoulders and clothing: a rounded trapezoid to the bottom edge */
	double sy = head_cy + head_ry + 38;
	cairo_pattern_t *g = cairo_pattern_create_linear(0, sy, 0, PHOTO_H);
	cairo_pattern_add_color_stop_rgb(g, 0, p->cloth[0], p->cloth[1], p->cloth[2]);
	cairo_pattern_add_color_stop_rgb(g, 1, p->cloth[0] * 0.8, p->cloth[1] * 0.8,
	                                 p->cloth[2] * 0.8);
	cairo_set_source(cr, g);
	cairo_move_to(cr, -10, PHOTO_H + 10);
	cairo_line_to(cr, -10, sy + 110);
	cairo_curve_to(cr, 0, sy + 20, cx - 130, sy - 6, cx - 40, sy - 14);
	cairo_line_to(cr, cx + 40, sy - 14);
	cairo_curve_to(cr, cx + 130, sy - 6, PHOTO_W, sy + 20, PHOTO_W + 10, sy + 110);
	cairo_line_to(cr, PHOTO_W + 10, PHOTO_H + 10);
	cairo_close_path(cr);
	cairo_fill(cr);
	cairo_pattern_destroy(g);

	/* collar: a shirt V, white or light blue, under darker clothes */
	double lum = 0.3 * p->cloth[0] + 0.59 * p->cloth[1] + 0.11 * p->cloth[2];
	if (lum < 0.6) {
		cairo_set_source_rgb(cr, 0.97, 0.97, 0.98);
		cairo_move_to(cr, cx - 44, sy - 14);
		cairo_line_to(cr, cx, sy + 70);
		cairo_line_to(cr, cx + 44, sy - 14);
		cairo_close_path(cr);
		cairo_fill(cr);
	}
	/* open neckline skin */
	cairo_set_source_rgb(cr, skin[0] * 0.9, skin[1] * 0.9, skin[2] * 0.9);
	cairo_move_to(cr, cx - 34, sy - 16);
	cairo_line_to(cr, cx, sy + (lum < 0.6 ? 34 : 50));
	cairo_line_to(cr, cx + 34, sy - 16);
	cairo_close_path(cr);
	cairo_fill(cr);

	/* ears */
	cairo_set_source_rgb(cr, skin[0] * 0.95, skin[1] * 0.95, skin[2] * 0.95);
	for (int s = -1; s <= 1; s += 2) {
		cairo_save(cr);
		cairo_translate(cr, cx + s * head_rx * 0.97, head_cy + 8);
		cairo_scale(cr, 14, 26);
		cairo_arc(cr, 0, 0, 1, 0, 2 * M_PI);
		cairo_restore(cr);
		cairo_fill(cr);
	}

	/* head, softly lit from the front */
	cairo_pattern_t *hg = cairo_pattern_create_radial(cx - 20, head_cy - 30, 10, cx, head_cy,
	                                                  head_ry * 1.1);
	cairo_pattern_add_color_stop_rgb(hg, 0, fmin(1, skin[0] * 1.05), fmin(1, skin[1] * 1.05),
	                                 fmin(1, skin[2] * 1.05));
	cairo_pattern_add_color_stop_rgb(hg, 1, skin[0] * 0.86, skin[1] * 0.86, skin[2] * 0.86);
	cairo_set_source(cr, hg);
	cairo_save(cr);
	cairo_translate(cr, cx, head_cy);
	cairo_scale(cr, head_rx, head_ry);
	cairo_arc(cr, 0, 0, 1, 0, 2 * M_PI);
	cairo_restore(cr);
	cairo_fill(cr);
	cairo_pattern_destroy(hg);

	/* hair cap over the top of the head */
	cairo_set_source_rgb(cr, hair[0], hair[1], hair[2]);
	cairo_save(cr);
	cairo_translate(cr, cx, head_cy);
	cairo_scale(cr, head_rx * 1.06, head_ry * 1.04);
	cairo_arc(cr, 0, 0, 1, M_PI * (female ? 0.92 : 1.02), M_PI * (female ? 2.08 : 1.98));
	cairo_restore(cr);
	double fringe = head_cy - head_ry * (female ? 0.40 : 0.55);
	cairo_curve_to(cr, cx + head_rx * 0.6, fringe - 10, cx - head_rx * 0.2, fringe + 12,
	               cx - head_rx * 1.05, head_cy - head_ry * (female ? -0.05 : 0.1));
	cairo_close_path(cr);
	cairo_fill(cr);
}

static void write_photos(const char *dir)
{
	for (size_t i = 0; i < NPEOPLE; i++) {
		const person *p = &people[i];
		cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, PHOTO_W, PHOTO_H);
		cairo_t *cr = cairo_create(s);
		/* 居民身份证: 17th digit odd = male. Passport holders: by the sample's own list. */
		bool female = p->seq ? p->seq % 2 == 0 : strcmp(p->name, "NGUYEN THI LAN") == 0;
		draw_portrait(cr, p, female);
		if (cairo_status(cr) != CAIRO_STATUS_SUCCESS)
			die("cairo", cairo_status_to_string(cairo_status(cr)));
		cairo_destroy(cr);
		char *path = g_strdup_printf("%s/%03zu.jpg", dir, i + 1);
		write_jpeg(s, path);
		g_free(path);
		cairo_surface_destroy(s);
	}
}

/* ----------------------------------------------------------------- seal */

static void show_glyph_text(cairo_t *cr, const char *font, const char *text, double *w,
                            double *h, bool draw)
{
	PangoLayout *l = pango_cairo_create_layout(cr);
	PangoFontDescription *fd = pango_font_description_from_string(font);
	pango_layout_set_font_description(l, fd);
	pango_layout_set_text(l, text, -1);
	PangoRectangle ink, logical;
	pango_layout_get_pixel_extents(l, &ink, &logical);
	if (w)
		*w = logical.width;
	if (h)
		*h = logical.height;
	if (draw) {
		/* centre the logical box on the current point */
		cairo_rel_move_to(cr, -logical.width / 2.0, -logical.height / 2.0);
		pango_cairo_show_layout(cr, l);
	}
	pango_font_description_free(fd);
	g_object_unref(l);
}

static void star_path(cairo_t *cr, double cx, double cy, double r)
{
	double ri = r * 0.381966; /* regular pentagram: inner/outer = 1/φ² */
	for (int i = 0; i < 10; i++) {
		double a = -M_PI / 2 + i * M_PI / 5;
		double rr = i % 2 ? ri : r;
		if (i == 0)
			cairo_move_to(cr, cx + rr * cos(a), cy + rr * sin(a));
		else
			cairo_line_to(cr, cx + rr * cos(a), cy + rr * sin(a));
	}
	cairo_close_path(cr);
}

static void write_seal(const char *path)
{
	const double S = SEAL_PX, c = S / 2;
	cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, SEAL_PX, SEAL_PX);
	cairo_t *cr = cairo_create(s);
	/* Seal red as on 公章 impressions: a slightly bluish vermilion. */
	cairo_set_source_rgb(cr, 0xd7 / 255.0, 0x00 / 255.0, 0x0f / 255.0);

	/* outer ring: ≈ 1.2 mm wide at 300 dpi, flush with the edge */
	double ring_w = 15, ring_r = c - ring_w / 2 - 2;
	cairo_set_line_width(cr, ring_w);
	cairo_arc(cr, c, c, ring_r, 0, 2 * M_PI);
	cairo_stroke(cr);

	/* organization name clockwise along the upper arc, each character upright
	 * relative to the centre; the span grows with the length of the name, as a
	 * seal engraver would set it (about 230° for 13 characters). */
	const char *name = ORG_NAME;
	glong n = g_utf8_strlen(name, -1);
	double span = 230.0 * M_PI / 180.0;
	double text_r = ring_r - ring_w / 2 - 44; /* centre line of the characters */
	const char *font_arc = "FandolSong Bold 50px";
	const char *q = name;
	for (glong i = 0; i < n; i++) {
		const char *next = g_utf8_next_char(q);
		char ch[8] = {0};
		memcpy(ch, q, (size_t)(next - q));
		q = next;
		double a = -span / 2 + span * (i + 0.5) / n; /* 0 = straight up */
		cairo_save(cr);
		cairo_translate(cr, c + text_r * sin(a), c - text_r * cos(a));
		cairo_rotate(cr, a);
		/* engravers narrow the characters to fit the arc */
		cairo_scale(cr, 0.82, 1.0);
		cairo_move_to(cr, 0, 0);
		show_glyph_text(cr, font_arc, ch, NULL, NULL, true);
		cairo_restore(cr);
	}

	/* five-pointed star in the centre */
	star_path(cr, c, c - 4, 78);
	cairo_fill(cr);

	/* purpose line under the star, horizontal, condensed to fit the chord */
	const char *purpose = "职业技能等级认定专用章";
	const char *font_line = "FandolSong Bold 32px";
	double w = 0, h = 0;
	show_glyph_text(cr, font_line, purpose, &w, &h, false);
	double y = c + 122;
	double max_w = 2 * sqrt(pow(ring_r - ring_w / 2 - 40, 2) - pow(y - c + h / 2, 2));
	double sx = fmin(0.78, max_w / w);
	cairo_save(cr);
	cairo_translate(cr, c, y);
	cairo_scale(cr, sx, 1.0);
	cairo_move_to(cr, 0, 0);
	show_glyph_text(cr, font_line, purpose, NULL, NULL, true);
	cairo_restore(cr);

	if (cairo_status(cr) != CAIRO_STATUS_SUCCESS)
		die("cairo", cairo_status_to_string(cairo_status(cr)));
	cairo_destroy(cr);
	/* 300 dpi is recorded in pHYs by nobody here (cairo writes none); the
	 * template states the seal's size in millimetres, so that is enough. */
	if (cairo_surface_write_to_png(s, path) != CAIRO_STATUS_SUCCESS)
		die("cannot write", path);
	cairo_surface_destroy(s);
}

/* ----------------------------------------------------------------- main */

int main(int argc, char **argv)
{
	const char *top = argc > 1 ? argv[1] : ".";
	char path[4096];

	/* The project's pinned fonts, not whatever the machine has. */
	const char *fonts[] = {"FandolSong-Bold.otf", "FandolHei-Bold.otf"};
	for (size_t i = 0; i < 2; i++) {
		snprintf(path, sizeof path, "%s/fonts/%s", top, fonts[i]);
		if (!FcConfigAppFontAddFile(NULL, (const FcChar8 *)path))
			die("cannot load font", path);
	}

	snprintf(path, sizeof path, "%s/templates/sample/photos", top);
	if (g_mkdir_with_parents(path, 0755) != 0)
		die(path, strerror(errno));
	write_photos(path);
	snprintf(path, sizeof path, "%s/templates/sample/batch.csv", top);
	write_csv(path);
	snprintf(path, sizeof path, "%s/templates/seal.png", top);
	write_seal(path);
	return 0;
}
