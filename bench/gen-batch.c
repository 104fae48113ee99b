/* SPDX-License-Identifier: MIT */
/*
 * gen-batch — deterministic synthetic batches for the benchmark (bench/README.md).
 *
 *   gen-batch photos DIR COUNT
 *       writes DIR/p01.jpg … (COUNT faceless head-and-shoulders JPEGs,
 *       413 × 579 px, 300 dpi, quality 85), each one different.
 *   gen-batch csv N NPHOTOS OUT.csv [PRINT.tsv]
 *       writes N records valid for templates/org.conf, as an operator exports
 *       them (UTF-8 with BOM, CRLF, the regulation's Chinese header), photos
 *       referenced as photos/pNN.jpg beside OUT.csv. PRINT.tsv, when given,
 *       receives the same records as they are printed (canonical level,
 *       "--" for a blank job type, 2026年11月27日, the QR content), for the
 *       Typst comparison in bench/peers.sh.
 *
 * Every record is derived from its index alone (no clock, no global random
 * state), so the first 100 records of the 10,000 batch are the 100 batch, and
 * reruns are byte-identical. Everything is synthetic: ID numbers have real
 * area codes, real birth dates and correct GB 11643 check characters but
 * belong to nobody. Outputs are written to a temporary name and renamed, so
 * an interrupted run never leaves a half batch that a later run would reuse.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairo.h>
#include <jpeglib.h>

#define CERT_PREFIX "S000044000123"
#define ISSUE_YEAR 2026
#define ISSUE_MONTH 11
#define ISSUE_DAY 27
#define QR_PATTERN "http://jndj.osta.org.cn/?zsbh="
#define ORG_NAME "广东省示例职业技能评价中心"
#define PROVINCE_URL "http://gd.osta.org.cn"

#define PHOTO_W 413
#define PHOTO_H 579
#define MAX_RECORDS 1000000L /* 6-digit serials per level: 999,999 */
#define MAX_PHOTOS 100000L

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "gen-batch: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	exit(2);
}

/* splitmix64: a record's stream depends on its index only. */
static uint64_t mix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static unsigned pick(uint64_t *s, unsigned n)
{
	return (unsigned)(mix(s) % n);
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---------------------------------------------------------------- people */

static const char *const surnames[] = {
	"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱",
	"胡", "郭", "何", "林", "罗", "高", "郑", "梁", "谢", "宋", "唐", "许", "邓", "冯",
	"韩", "曹", "曾", "彭", "萧", "蔡", "潘", "田", "董", "袁", "于", "余", "叶", "蒋",
	"欧阳", "司马", "上官", "诸葛", "司徒",
};

static const char *const given[] = {
	"伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟",
	"涛", "明", "超", "秀", "霞", "平", "刚", "桂", "英", "华", "玉", "兰", "文", "辉",
	"建", "国", "志", "红", "海", "晓", "燕", "鹏", "斌", "宇", "浩", "凯", "婷", "雪",
	"琳", "晨", "欣", "怡", "佳", "俊", "嘉", "子", "梓", "轩", "睿", "琪", "瑶", "颖",
	"鑫", "淑", "慧", "倩",
};

/* Minority names written with the middle dot (U+00B7). */
static const char *const dotted[] = {
	"阿依古丽·买买提", "买买提·艾力", "热依拉·吐尔逊", "古丽娜尔·阿不都", "艾克拜尔·米吉提",
	"扎西·次仁", "巴特尔·其木格",
};

/* Passport holders, Latin letters as on the passport. */
static const char *const latin[] = {
	"MARTIN SCHULZ", "NGUYEN THI LAN", "MARIA GARCIA", "JOHN O'NEIL", "ANNA-LENA BERG",
	"KIM MIN-JUN", "SOMCHAI DEE",
};

/* Names the main face (FandolFang) cannot write, drawn from the fallback
 * faces: given-name characters common in real names but outside GB 2312
 * (喆 堃 赟 玥 昇 珺 …), and a few beyond the basic CJK block (Ext A U+4DAE,
 * Ext B U+201D4). About 2 % of the names, as in a real batch of that size. */
static const char *const rare_given[] = {
	"喆", "堃", "赟", "玥", "昇", "珺", "彧", "镕", "垚", "昉", "旻", "祎",
};
static const char *const rare[] = { "王䶮", "李𠇔", "陈䶮华" };

/* Real GB/T 2260 county-level codes; the birth date and sequence make the rest. */
static const char *const areas[] = {
	"440103", "440104", "440106", "440111", "440304", "440305", "440402", "440604",
	"441302", "441900", "110101", "310104", "320102", "330106", "420102", "430102",
	"450103", "510104", "350203", "460105",
};

static char gb11643_check(const char *d17)
{
	static const int w[17] = { 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2 };
	int sum = 0;
	for (int i = 0; i < 17; i++)
		sum += (d17[i] - '0') * w[i];
	return "10X98765432"[sum % 11];
}

static bool leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int mdays(int y, int m)
{
	static const int d[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	return m == 2 && leap(y) ? 29 : d[m - 1];
}

/* A birth date between 1960 and 2008: every holder is at least 14 (and at
 * most 66) on the issue date. 29 February happens on leap years. */
static void birth_date(uint64_t *s, int *y, int *m, int *d)
{
	*y = 1960 + (int)pick(s, 49);
	*m = 1 + (int)pick(s, 12);
	*d = 1 + (int)pick(s, (unsigned)mdays(*y, *m));
}

/* ------------------------------------------------------------- occupations */

typedef struct occupation {
	const char *name;
	const char *const *job_types; /* NULL: none (printed --) */
	size_t njob;
	int max_level; /* 1 highest … 5 */
	unsigned weight;
} occupation;

static const char *const welding[] = { "电焊工", "气焊工", "钎焊工", "焊接设备操作工" };
static const char *const marketing[] = { "选品员", "直播销售员", "视频创推员", "平台管理员" };

/* templates/org.conf's scope. */
static const occupation occupations[] = {
	{ "电工", NULL, 0, 2, 5 },
	{ "焊工", welding, COUNT(welding), 2, 4 },
	{ "互联网营销师", marketing, COUNT(marketing), 1, 4 },
	{ "育婴员", NULL, 0, 3, 3 },
	{ "中式烹调师", NULL, 0, 1, 3 },
	{ "半导体分立器件和集成电路装调工", NULL, 0, 3, 1 },
};

/* Level as typed in the spreadsheet (every accepted form) and as printed. */
static const char *const level_input[6][4] = {
	{ NULL },
	{ "一级", "1", "高级技师", "一级/高级技师" },
	{ "二级", "2", "技师", "二级/技师" },
	{ "三级", "3", "高级工", "三级/高级工" },
	{ "四级", "4", "中级工", "四级/中级工" },
	{ "五级", "5", "初级工", "五级/初级工" },
};
static const char *const level_print[6] = {
	NULL, "一级/高级技师", "二级/技师", "三级/高级工", "四级/中级工", "五级/初级工",
};

/* --------------------------------------------------------------- records */

typedef struct record {
	char name[96];
	const char *id_type;
	char id[32];
	const occupation *occ;
	const char *job_type; /* "" when none */
	int level;
	const char *level_in;
	char cert_no[48];
	const char *date_in;
	char photo[32];
} record;

static void make_record(long i, unsigned nphotos, long serial[6], record *r)
{
	uint64_t s = 0x5eed2026ull ^ ((uint64_t)i * 0x100000001b3ull);
	memset(r, 0, sizeof *r);

	/* Name and ID document. */
	r->id_type = "居民身份证";
	if (i % 211 == 7) {
		snprintf(r->name, sizeof r->name, "%s", latin[pick(&s, COUNT(latin))]);
		r->id_type = "护照";
		static const char alnum[] = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789";
		r->id[0] = "CEGP"[pick(&s, 4)];
		for (int k = 1; k < 9; k++)
			r->id[k] = alnum[pick(&s, sizeof alnum - 1)];
	} else {
		if (i % 97 == 11)
			snprintf(r->name, sizeof r->name, "%s", dotted[pick(&s, COUNT(dotted))]);
		else if (i % 503 == 13)
			snprintf(r->name, sizeof r->name, "%s", rare[pick(&s, COUNT(rare))]);
		else if (i % 50 == 21) {
			const char *sn = surnames[pick(&s, COUNT(surnames))];
			const char *g1 = rare_given[pick(&s, COUNT(rare_given))];
			const char *g2 = pick(&s, 2) ? given[pick(&s, COUNT(given))] : "";
			snprintf(r->name, sizeof r->name, "%s%s%s", sn, g1, g2);
		}
		else {
			const char *sn = surnames[pick(&s, COUNT(surnames))];
			const char *g1 = given[pick(&s, COUNT(given))];
			const char *g2 = pick(&s, 3) ? given[pick(&s, COUNT(given))] : "";
			snprintf(r->name, sizeof r->name, "%s%s%s", sn, g1, g2);
		}
		if (i % 301 == 17) {
			r->id_type = "港澳居民来往内地通行证";
			snprintf(r->id, sizeof r->id, "%c%08u", pick(&s, 2) ? 'H' : 'M',
			         pick(&s, 100000000));
		} else {
			int y, m, d;
			birth_date(&s, &y, &m, &d);
			char d17[32];
			snprintf(d17, sizeof d17, "%s%04d%02d%02d%03u",
			         areas[pick(&s, COUNT(areas))], y, m, d, pick(&s, 1000));
			if (strlen(d17) != 17)
				die("ID number body not 17 digits", NULL);
			snprintf(r->id, sizeof r->id, "%s%c", d17, gb11643_check(d17));
		}
	}

	/* Occupation, job type and a level within the scope. */
	unsigned total = 0;
	for (size_t k = 0; k < COUNT(occupations); k++)
		total += occupations[k].weight;
	unsigned w = pick(&s, total);
	const occupation *o = occupations;
	while (w >= o->weight) {
		w -= o->weight;
		o++;
	}
	r->occ = o;
	r->job_type = o->job_types ? o->job_types[pick(&s, (unsigned)o->njob)] : "";
	r->level = o->max_level + (int)pick(&s, (unsigned)(6 - o->max_level));
	r->level_in = level_input[r->level][pick(&s, 4)];

	/* 编码规则: prefix, year, level, serial counted per level. */
	long n = ++serial[r->level];
	if (n > 999999)
		die("more than 999,999 certificates of one level", NULL);
	snprintf(r->cert_no, sizeof r->cert_no, "%s%02d%d%06ld", CERT_PREFIX,
	         ISSUE_YEAR % 100, r->level, n);
	if (strlen(r->cert_no) != 22)
		die("certificate number not 22 characters", r->cert_no);

	static const char *const dates[] = { "2026-11-27", "2026/11/27", "2026年11月27日" };
	r->date_in = dates[i % 3];
	snprintf(r->photo, sizeof r->photo, "photos/p%02u.jpg", (unsigned)(i % nphotos) + 1);
}

/* RFC 4180: quote only what needs it (the Latin O'NEIL does not). */
static void cell(FILE *f, const char *v, bool last)
{
	if (strpbrk(v, ",\"\r\n")) {
		fputc('"', f);
		for (const char *p = v; *p; p++) {
			if (*p == '"')
				fputc('"', f);
			fputc(*p, f);
		}
		fputc('"', f);
	} else {
		fputs(v, f);
	}
	fputs(last ? "\r\n" : ",", f);
}

static FILE *open_tmp(const char *path, char *tmp, size_t n)
{
	if ((size_t)snprintf(tmp, n, "%s.tmp", path) >= n)
		die("path too long", path);
	FILE *f = fopen(tmp, "wb");
	if (!f)
		die(tmp, strerror(errno));
	return f;
}

static void close_rename(FILE *f, const char *tmp, const char *path)
{
	if (ferror(f) | (fclose(f) != 0))
		die(tmp, "write failed");
	if (rename(tmp, path) != 0)
		die(path, strerror(errno));
}

static void write_batch(long n, unsigned nphotos, const char *out, const char *print)
{
	char tmp[4096], ptmp[4096];
	FILE *f = open_tmp(out, tmp, sizeof tmp);
	FILE *p = print ? open_tmp(print, ptmp, sizeof ptmp) : NULL;
	static char buf[1 << 16];
	setvbuf(f, buf, _IOFBF, sizeof buf);

	fputs("\xEF\xBB\xBF姓名,证件类型,证件号码,职业名称,工种/职业方向,职业技能等级,"
	      "证书编号,发证日期,照片\r\n", f);
	if (p)
		fputs("name\tid_type\tid_number\toccupation\tjob_type\tlevel\tcert_no\t"
		      "issue_date\torg_name\tprovince_url\tphoto\tqr\n", p);
	long serial[6] = { 0 };
	for (long i = 0; i < n; i++) {
		record r;
		make_record(i, nphotos, serial, &r);
		cell(f, r.name, false);
		cell(f, r.id_type, false);
		cell(f, r.id, false);
		cell(f, r.occ->name, false);
		cell(f, r.job_type, false);
		cell(f, r.level_in, false);
		cell(f, r.cert_no, false);
		cell(f, r.date_in, false);
		cell(f, r.photo, true);
		if (p)
			fprintf(p, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%04d年%02d月%02d日\t%s\t%s\t%s\t%s%s\n",
			        r.name, r.id_type, r.id, r.occ->name,
			        *r.job_type ? r.job_type : "--", level_print[r.level], r.cert_no,
			        ISSUE_YEAR, ISSUE_MONTH, ISSUE_DAY, ORG_NAME, PROVINCE_URL,
			        r.photo, QR_PATTERN, r.cert_no);
	}
	close_rename(f, tmp, out);
	if (p)
		close_rename(p, ptmp, print);
}

/* ---------------------------------------------------------------- photos */

static void write_jpeg(cairo_surface_t *surf, const char *path)
{
	cairo_surface_flush(surf);
	const unsigned char *data = cairo_image_surface_get_data(surf);
	int stride = cairo_image_surface_get_stride(surf);
	char tmp[4096];
	FILE *f = open_tmp(path, tmp, sizeof tmp);
	struct jpeg_compress_struct c;
	struct jpeg_error_mgr jerr;
	c.err = jpeg_std_error(&jerr);
	jpeg_create_compress(&c);
	jpeg_stdio_dest(&c, f);
	c.image_width = PHOTO_W;
	c.image_height = PHOTO_H;
	c.input_components = 3;
	c.in_color_space = JCS_RGB;
	jpeg_set_defaults(&c);
	jpeg_set_quality(&c, 85, TRUE);
	c.write_JFIF_header = TRUE;
	c.density_unit = 1; /* dots per inch: 413 px = 35 mm at 300 dpi */
	c.X_density = 300;
	c.Y_density = 300;
	jpeg_start_compress(&c, TRUE);
	unsigned char row[PHOTO_W * 3];
	for (int y = 0; y < PHOTO_H; y++) {
		const uint32_t *px = (const uint32_t *)(const void *)(data + (size_t)y * (size_t)stride);
		for (int x = 0; x < PHOTO_W; x++) {
			row[3 * x] = (unsigned char)(px[x] >> 16);
			row[3 * x + 1] = (unsigned char)(px[x] >> 8);
			row[3 * x + 2] = (unsigned char)px[x];
		}
		JSAMPROW rp = row;
		jpeg_write_scanlines(&c, &rp, 1);
	}
	jpeg_finish_compress(&c);
	jpeg_destroy_compress(&c);
	close_rename(f, tmp, path);
}

/* A faceless figure on white; colours, proportions and a little sensor-like
 * grain on the figure (not on the background) differ per photo, so that every
 * file is distinct and about as large as a real 1-inch ID photo. */
static void draw_photo(unsigned k, const char *path)
{
	uint64_t s = 0xf0705eedull + k;
	cairo_surface_t *surf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, PHOTO_W, PHOTO_H);
	cairo_t *cr = cairo_create(surf);
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_paint(cr);

	double cloth[3], skin = 0.78 + 0.12 * (double)pick(&s, 100) / 100.0;
	for (int c = 0; c < 3; c++)
		cloth[c] = 0.1 + 0.6 * (double)pick(&s, 100) / 100.0;
	double sw = 170 + pick(&s, 40), cx = PHOTO_W / 2.0 + (double)pick(&s, 21) - 10;

	/* Shoulders and body. */
	cairo_pattern_t *g = cairo_pattern_create_linear(0, 380, 0, PHOTO_H);
	cairo_pattern_add_color_stop_rgb(g, 0, cloth[0], cloth[1], cloth[2]);
	cairo_pattern_add_color_stop_rgb(g, 1, cloth[0] * 0.6, cloth[1] * 0.6, cloth[2] * 0.6);
	cairo_move_to(cr, cx - sw, PHOTO_H);
	cairo_curve_to(cr, cx - sw, 430, cx - 90, 390, cx, 388);
	cairo_curve_to(cr, cx + 90, 390, cx + sw, 430, cx + sw, PHOTO_H);
	cairo_close_path(cr);
	cairo_set_source(cr, g);
	cairo_fill(cr);
	cairo_pattern_destroy(g);

	/* Neck and head. */
	cairo_set_source_rgb(cr, skin, skin * 0.82, skin * 0.7);
	cairo_rectangle(cr, cx - 32, 300, 64, 95);
	cairo_fill(cr);
	double hw = 78 + pick(&s, 14), hh = 100 + pick(&s, 14);
	cairo_save(cr);
	cairo_translate(cr, cx, 230);
	cairo_scale(cr, hw, hh);
	cairo_arc(cr, 0, 0, 1, 0, 2 * M_PI);
	cairo_restore(cr);
	cairo_fill(cr);

	/* Hair. */
	double hair = 0.05 + 0.25 * (double)pick(&s, 100) / 100.0;
	cairo_set_source_rgb(cr, hair, hair * 0.8, hair * 0.6);
	cairo_save(cr);
	cairo_translate(cr, cx, 215);
	cairo_scale(cr, hw + 8, hh);
	cairo_arc(cr, 0, 0, 1, M_PI * 1.02, M_PI * 1.98);
	cairo_restore(cr);
	cairo_fill(cr);
	cairo_destroy(cr);

	/* Grain on the figure only: a white background stays clean. */
	cairo_surface_flush(surf);
	unsigned char *data = cairo_image_surface_get_data(surf);
	int stride = cairo_image_surface_get_stride(surf);
	for (int y = 0; y < PHOTO_H; y++) {
		uint32_t *px = (uint32_t *)(void *)(data + (size_t)y * (size_t)stride);
		for (int x = 0; x < PHOTO_W; x++) {
			if ((px[x] & 0xffffff) == 0xffffff)
				continue;
			int n = (int)pick(&s, 9) - 4;
			uint32_t out = 0;
			for (int sh = 0; sh < 24; sh += 8) {
				int v = (int)((px[x] >> sh) & 0xff) + n;
				v = v < 0 ? 0 : v > 255 ? 255 : v;
				out |= (uint32_t)v << sh;
			}
			px[x] = out;
		}
	}
	cairo_surface_mark_dirty(surf);
	if (cairo_surface_status(surf) != CAIRO_STATUS_SUCCESS)
		die("cairo", cairo_status_to_string(cairo_surface_status(surf)));
	write_jpeg(surf, path);
	cairo_surface_destroy(surf);
}

/* ------------------------------------------------------------------ main */

static long number(const char *s, long lo, long hi, const char *what)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		die(what, s);
	return v;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "photos") == 0) {
		long n = number(argv[3], 1, MAX_PHOTOS, "photo count out of range");
		for (long k = 1; k <= n; k++) {
			char path[4096];
			if ((size_t)snprintf(path, sizeof path, "%s/p%02ld.jpg", argv[2], k) >=
			    sizeof path)
				die("path too long", argv[2]);
			draw_photo((unsigned)k, path);
		}
		return 0;
	}
	if ((argc == 5 || argc == 6) && strcmp(argv[1], "csv") == 0) {
		long n = number(argv[2], 1, MAX_RECORDS, "record count out of range");
		long np = number(argv[3], 1, MAX_PHOTOS, "photo count out of range");
		write_batch(n, (unsigned)np, argv[4], argc == 6 ? argv[5] : NULL);
		return 0;
	}
	fprintf(stderr, "usage: gen-batch photos DIR COUNT\n"
	                "       gen-batch csv N NPHOTOS OUT.csv [PRINT.tsv]\n");
	return 2;
}
