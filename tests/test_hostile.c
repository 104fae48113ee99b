/* SPDX-License-Identifier: MIT */
/*
 * Hostile and broken input at library level (the command's side is
 * tests/cli/hostile.sh; what is promised is docs/guarantees.md):
 *  - every invisible, reordering or control character is refused by the text
 *    and name rules, and the message names its code point;
 *  - reports show such characters as escapes, never raw;
 *  - a CSV with NUL bytes, a 10 MB cell, a 10 MB line without end, 10,000
 *    columns or invalid UTF-8 ends in a clean error within 2 s and without
 *    the memory growing with the input;
 *  - the command's peak memory does not grow with the batch (PDF output of
 *    a small and a 20 times larger batch, every photo a different file).
 * Big fixtures are written here at test time, never committed.
 */
#include "common/testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "input/csv.h"
#include "layout/fonts.h"
#include "output/report.h"
#include "input/rules.h"

#if defined(__SANITIZE_ADDRESS__)
#define TU_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TU_SANITIZED 1
#endif
#endif
#ifndef TU_SANITIZED
#define TU_SANITIZED 0
#endif

static const char HEADER[] =
	"姓名,证件类型,证件号码,职业名称,工种/职业方向,职业技能等级,证书编号,发证日期,照片\n";
/* Synthetic person (valid GB 11643 check digit, made-up). */
#define ROW_TAIL "居民身份证,44010319850312149X,电工,,三级,S000044000123263000001,2026-11-27,p.jpg"

/* Peak resident memory of this process so far, in KiB. */
static long maxrss_kib(void)
{
	struct rusage ru;
	g_assert_cmpint(getrusage(RUSAGE_SELF, &ru), ==, 0);
	return ru.ru_maxrss;
}

/* ------------------------------------------------------------- characters */

/* Each must be refused by cp_rule_text() and by cp_rule_name(), with the
 * code point in the message. The Hangul fillers, CGJ, Khmer inherent vowels
 * and variation selectors are not of category Cf but are default-ignorable:
 * they print as nothing. */
static const gunichar refused_chars[] = {
	0x07, 0x1B, 0x7F, 0x85,                   /* C0/C1 controls, DEL */
	0x202A, 0x202B, 0x202C, 0x202D, 0x202E,  /* bidi embeddings, overrides */
	0x2066, 0x2067, 0x2068, 0x2069,          /* bidi isolates */
	0x200E, 0x200F, 0x061C,                  /* bidi marks */
	0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF,  /* zero-width */
	0x00AD, 0x180E, 0x2062, 0xFFF9, 0xE0001, /* soft hyphen, other Cf */
	0x2028, 0x2029,                          /* line, paragraph separator */
	0x034F, 0x115F, 0x1160, 0x3164, 0xFFA0,  /* CGJ, Hangul fillers */
	0x17B4, 0xFE0F, 0xE0100,                 /* Khmer, variation selectors */
	0xE000, 0xF0000,                         /* private use */
	0xFFFE,                                  /* noncharacter */
};

static void test_text_chars(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(refused_chars); i++) {
		gunichar c = refused_chars[i];
		char u[8] = {0};
		g_unichar_to_utf8(c, u);
		char *text = g_strdup_printf("育婴%s员", u);
		char *name = g_strdup_printf("李%s晓敏", u);
		char *cp = g_strdup_printf("U+%04X", c);

		cp_violations v = {0};
		bool ok = cp_rule_text("the occupation", text, 100, &v);
		if (ok || v.len == 0 || !strstr(v.items[0].message, cp))
			g_test_message("%s: text rule: %s", cp, v.len ? v.items[0].message : "accepted");
		g_assert_false(ok);
		g_assert_nonnull(strstr(v.items[0].message, cp));
		cp_violations_clear(&v);

		char *n = cp_rule_name(name, &v);
		g_assert_null(n);
		bool named = false;
		for (size_t k = 0; k < v.len; k++)
			named |= strstr(v.items[k].message, cp) != NULL;
		if (!named)
			g_test_message("%s: name rule: %s", cp, v.len ? v.items[0].message : "?");
		g_assert_true(named);
		cp_violations_clear(&v);
		g_free(text);
		g_free(name);
		g_free(cp);
	}
	/* A plain occupation and name still pass: the refusals are not blanket. */
	cp_violations v = {0};
	g_assert_true(cp_rule_text("the occupation", "半导体分立器件和集成电路装调工", 100, &v));
	char *n = cp_rule_name("阿依古丽·买买提", &v);
	g_assert_cmpstr(n, ==, "阿依古丽·买买提");
	g_free(n);
	g_assert_cmpuint(v.len, ==, 0);
}

/* ---------------------------------------------------------------- reports */

static char *text_report(const cp_problems *ps)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	g_assert_nonnull(f);
	cp_report_summary s = {.records = 1, .refused = 1, .csv_path = "b.csv"};
	cp_report_text(f, ps, &s);
	fclose(f);
	return buf;
}

/* A value with a bidi override echoed raw would reorder the rest of the
 * report line on the operator's terminal; a zero-width character would hide
 * what was refused. Both come out as \uXXXX in the text and HTML reports. */
static void test_report_escapes(void)
{
	const char *value = "李\u202e晓敏\u200b\u3164\x1b[2J";
	cp_problem p = {
		.severity = CP_SEV_ERROR, .row = 2, .line = 2, .field = CP_FIELD_NAME,
		.column = (char *)"姓名", .value = (char *)value, .rule = "text.bidi",
		.message = (char *)"refused",
	};
	cp_problems ps = {.items = &p, .len = 1, .cap = 1};
	char *out = text_report(&ps);
	g_test_message("%s", out);
	g_assert_null(strstr(out, "\u202e"));
	g_assert_null(strstr(out, "\u200b"));
	g_assert_null(strstr(out, "\u3164"));
	g_assert_null(strchr(out, 0x1b));
	g_assert_nonnull(strstr(out, "李\\u202e晓敏\\u200b"));
	g_free(out);

	char *dir = tu_scratch("hostile-report");
	char *path = g_build_filename(dir, "r.html", NULL);
	cp_error *err = NULL;
	cp_html *h = cp_html_open(path, &err);
	tu_assert_no_error(err);
	cp_record rec = {.row = 2, .line = 2};
	rec.raw[CP_FIELD_NAME] = (char *)value;
	rec.raw[CP_FIELD_ID_NUMBER] = (char *)"44010319850312149X";
	g_assert_true(cp_html_add(h, &rec, false, &ps, NULL, 0, &err));
	cp_report_summary s = {.records = 1, .refused = 1, .csv_path = "b.csv"};
	g_assert_true(cp_html_close(h, &s, &err));
	tu_assert_no_error(err);
	char *html = NULL;
	g_assert_true(g_file_get_contents(path, &html, NULL, NULL));
	g_assert_null(strstr(html, "\u202e"));
	g_assert_null(strstr(html, "\u200b"));
	g_assert_null(strchr(html, 0x1b));
	g_assert_nonnull(strstr(html, "\\u202e"));
	g_assert_null(strstr(html, "44010319850312149X"));
	g_free(html);
	g_free(path);
	g_free(dir);
}

/* -------------------------------------------------------------------- CSV */

/* Writes HEADER, then prefix, then n copies of fill, then suffix, in 64 KiB
 * pieces so that the test itself does not hold the big file in memory. */
static char *write_big(const char *dir, const char *name, const char *prefix, char fill,
                       size_t n, const char *suffix)
{
	char *path = g_build_filename(dir, name, NULL);
	FILE *f = fopen(path, "wb");
	g_assert_nonnull(f);
	fputs(HEADER, f);
	fputs(prefix, f);
	char buf[65536];
	memset(buf, fill, sizeof buf);
	while (n > 0) {
		size_t k = MIN(n, sizeof buf);
		g_assert_cmpuint(fwrite(buf, 1, k, f), ==, k);
		n -= k;
	}
	fputs(suffix, f);
	g_assert_cmpint(fclose(f), ==, 0);
	return path;
}

/* Reads every record of path; returns the stopping error (or NULL at a clean
 * end) and asserts it took under 32 MiB of extra peak memory. The time is
 * shown, not judged: it would turn on the machine (make bench measures it). */
static cp_error *read_all(const char *path, long *records)
{
	long rss0 = maxrss_kib();
	gint64 t0 = g_get_monotonic_time();
	cp_error *err = NULL;
	*records = 0;
	cp_reader *r = cp_reader_open(path, &err);
	if (r) {
		cp_record rec = {0};
		int st;
		while ((st = cp_reader_next(r, &rec, &err)) == 1)
			++*records;
		cp_record_clear(&rec);
		cp_reader_free(r);
	}
	double secs = (g_get_monotonic_time() - t0) / 1e6;
	long grew = maxrss_kib() - rss0;
	g_test_message("%s: %.3f s, peak memory +%ld KiB", path, secs, grew);
	/* Under ASan (make asan unwinds the stack on every malloc) memory is
	 * the sanitizer's: its quarantine alone holds 256 MB. */
	if (!TU_SANITIZED)
		g_assert_cmpint(grew, <, 32 * 1024);
	return err;
}

static void test_csv_hostile(void)
{
	char *dir = tu_scratch("hostile-csv");
	long n;
	char *p;

	/* A 10 MB cell, quoted and unquoted: refused naming row and column. */
	p = write_big(dir, "field.csv", "陈志强,居民身份证,44010319850312149X,", 'A', 10u << 20,
	              ",,三级,S000044000123263000001,2026-11-27,p.jpg\n");
	cp_error *err = read_all(p, &n);
	g_assert_nonnull(err);
	g_assert_cmpint(err->row, ==, 2);
	g_assert_cmpstr(err->column, ==, "职业名称");
	tu_assert_error(&err, err->code, "65536");
	g_free(p);
	p = write_big(dir, "quoted.csv", "陈志强,居民身份证,44010319850312149X,\"", 'A', 10u << 20,
	              "\",,三级,S000044000123263000001,2026-11-27,p.jpg\n");
	err = read_all(p, &n);
	g_assert_nonnull(err);
	g_assert_cmpint(err->row, ==, 2);
	g_assert_cmpstr(err->column, ==, "职业名称");
	cp_error_free(err);
	g_free(p);

	/* An unterminated quote running 10 MB to the end of the file. */
	p = write_big(dir, "unterminated.csv", "\"", 'x', 10u << 20, "");
	err = read_all(p, &n);
	g_assert_nonnull(err);
	g_assert_cmpint(err->row, ==, 2);
	cp_error_free(err);
	g_free(p);

	/* 10,000 columns: commas only, so the row is small in bytes. */
	p = write_big(dir, "columns.csv", "陈志强," ROW_TAIL, ',', 10000, "\n");
	err = read_all(p, &n);
	g_assert_nonnull(err);
	g_assert_cmpint(err->row, ==, 2);
	tu_assert_error(&err, err->code, "1000");
	g_free(p);

	/* A NUL byte: the file is refused, naming the line. */
	p = write_big(dir, "nul.csv", "陈志强,", '\0', 1, ROW_TAIL "\n");
	err = read_all(p, &n);
	g_assert_nonnull(err);
	g_assert_cmpint(err->line, ==, 2);
	tu_assert_error(&err, err->code, "NUL");
	g_free(p);

	/* Invalid UTF-8 is read (the reader does not stop on it) and the
	 * checker's text rule refuses the cell: see test_text_chars and
	 * hostile.sh. Here: 100,000 short rows of it read fast (2,000 under ASan). */
	p = g_build_filename(dir, "bad-utf8.csv", NULL);
	FILE *f = fopen(p, "wb");
	fputs(HEADER, f);
	const long rows = TU_SANITIZED ? 2000 : 100000;
	for (long i = 0; i < rows; i++)
		fputs("\xff\xfe\x80," ROW_TAIL "\n", f);
	fclose(f);
	err = read_all(p, &n);
	tu_assert_no_error(err);
	g_assert_cmpint(n, ==, rows);
	cp_violations v = {0};
	g_assert_false(cp_rule_text("the name", "\xff\xfe\x80", 64, &v));
	g_assert_cmpstr(v.items[0].rule, ==, "text.utf8");
	cp_violations_clear(&v);
	g_free(p);
	g_free(dir);
}

/* ------------------------------------------------------------ font sets */

/* A program embedding the library may load fonts once per job: a new/free
 * pair (with the fonts used in between) must give its memory back. Pango
 * used to keep the whole scanned font set, about 600 KB, every time. */
static void test_fonts_cycle(void)
{
	if (TU_SANITIZED) {
		g_test_skip("resident memory is not measured under sanitizers");
		return;
	}
	char *dir = g_build_filename(CP_TESTDIR, "..", "fonts", NULL);
	long before = 0;
	for (int i = 0; i < 24; i++) {
		if (i == 4)
			before = maxrss_kib(); /* after caches (hash cache, FreeType) settle */
		cp_error *err = NULL;
		cp_fonts *f = cp_fonts_new(dir, NULL, &err);
		tu_assert_no_error(err);
		char *fam = cp_fonts_family_for(f, NULL, "陈");
		g_assert_nonnull(fam);
		g_free(fam);
		cp_fonts_free(f);
	}
	long grew = maxrss_kib() - before;
	g_test_message("20 more cp_fonts_new/free cycles: peak memory +%ld KiB", grew);
	g_assert_cmpint(grew, <, 2048);
	g_free(dir);
}

/* ----------------------------------------------------- command peak memory */

static const char *certpress_path(void)
{
	static char *path;
	if (!path) {
		const char *env = g_getenv("CERTPRESS");
		const char *build = g_getenv("BUILD");
		path = env ? g_strdup(env)
		           : g_build_filename(build ? build : CP_TESTDIR "/../build", "certpress",
		                              NULL);
	}
	return path;
}

/* Runs argv (argv[0] is the program) with stdout and stderr into log, and
 * returns its exit status and peak resident memory (KiB) from wait4(). */
static int run_measured(char *const argv[], const char *log, long *maxrss_kib_out)
{
	pid_t pid = fork();
	g_assert_cmpint(pid, >=, 0);
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0)
			_exit(127);
		dup2(fd, 1);
		dup2(fd, 2);
		setenv("CERTPRESS_NO_PROGRESS", "1", 1);
		execv(argv[0], argv);
		_exit(127);
	}
	int st = 0;
	struct rusage ru;
	pid_t w;
	while ((w = wait4(pid, &st, 0, &ru)) < 0 && errno == EINTR)
		;
	g_assert_cmpint(w, ==, pid);
	*maxrss_kib_out = ru.ru_maxrss;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* A batch of n valid rows whose photos are n different files (the sample
 * photo with a JPEG comment naming the row), so that a PDF surface keeping
 * every image it met would show. */
static char *write_batch(const char *dir, long n, const char *photo_bytes, gsize photo_len)
{
	char *name = g_strdup_printf("batch%ld.csv", n);
	char *path = g_build_filename(dir, name, NULL);
	g_free(name);
	char *pdir = g_build_filename(dir, "p", NULL);
	g_mkdir_with_parents(pdir, 0755);
	FILE *f = fopen(path, "wb");
	g_assert_nonnull(f);
	fputs(HEADER, f);
	for (long i = 1; i <= n; i++) {
		char *pn = g_strdup_printf("%s/%06ld.jpg", pdir, i);
		if (!g_file_test(pn, G_FILE_TEST_EXISTS)) {
			FILE *pf = fopen(pn, "wb");
			g_assert_nonnull(pf);
			char com[16];
			int cl = g_snprintf(com, sizeof com, "row %06ld", i);
			unsigned char seg[4] = {0xFF, 0xFE, 0, (unsigned char)(cl + 2)};
			fwrite(photo_bytes, 1, 2, pf); /* SOI */
			fwrite(seg, 1, 4, pf);
			fwrite(com, 1, (size_t)cl, pf);
			fwrite(photo_bytes + 2, 1, photo_len - 2, pf);
			g_assert_cmpint(fclose(pf), ==, 0);
		}
		g_free(pn);
		fprintf(f, "陈志强,居民身份证,44010319850312149X,电工,,三级,"
		           "S000044000123263%06ld,2026-11-27,p/%06ld.jpg\n", i, i);
	}
	g_assert_cmpint(fclose(f), ==, 0);
	g_free(pdir);
	return path;
}

static long render_peak(const char *dir, long n, const char *photo, gsize len)
{
	char *csv = write_batch(dir, n, photo, len);
	char *pdf = g_strdup_printf("%s/out%ld.pdf", dir, n);
	char *ledger = g_strdup_printf("%s/ledger%ld.sqlite", dir, n);
	char *log = g_strdup_printf("%s/render%ld.log", dir, n);
	char *org = g_build_filename(CP_TESTDIR, "..", "templates", "org.conf", NULL);
	/* One worker: how far the reader runs ahead of several workers, and so
	 * the pages in flight and each thread's malloc arena, depends on how
	 * the machine schedules them; the growth per row is what is measured. */
	char *argv[] = {(char *)certpress_path(), (char *)"render", (char *)"-q",
	                (char *)"--jobs", (char *)"1",
	                (char *)"--org", org, (char *)"--ledger", ledger, (char *)"-o", pdf,
	                csv, NULL};
	gint64 t0 = g_get_monotonic_time();
	long rss = 0;
	int st = run_measured(argv, log, &rss);
	g_test_message("%ld rows: exit %d, %.1f s, peak RSS %ld KiB", n, st,
	               (g_get_monotonic_time() - t0) / 1e6, rss);
	if (st != 0) {
		char *text = NULL;
		g_file_get_contents(log, &text, NULL, NULL);
		g_test_message("%s", text ? text : "(no log)");
		g_free(text);
	}
	g_assert_cmpint(st, ==, 0);
	struct stat sb;
	g_assert_cmpint(stat(pdf, &sb), ==, 0);
	g_assert_cmpint(sb.st_size, >, n * 1000);
	g_unlink(pdf); /* tens of MB: not worth keeping */
	g_free(csv);
	g_free(pdf);
	g_free(ledger);
	g_free(log);
	g_free(org);
	return rss;
}

/* The brief's numbers are 1,000 against 20,000 rows (CERTPRESS_SLOW_TESTS=1;
 * some minutes of rendering). By default 100 against 2,000: the same factor
 * of 20, so a cost per row of a few hundred bytes still shows. */
static void test_peak_rss(void)
{
	if (TU_SANITIZED) {
		g_test_skip("peak memory is not measured under sanitizers");
		return;
	}
	if (!g_file_test(certpress_path(), G_FILE_TEST_IS_EXECUTABLE)) {
		g_test_skip("the certpress command is not built");
		return;
	}
	bool slow = g_getenv("CERTPRESS_SLOW_TESTS") != NULL;
	long small = slow ? 1000 : 100, big = slow ? 20000 : 2000;
	char *photo_path = g_build_filename(CP_TESTDIR, "..", "templates", "sample", "photos",
	                                    "001.jpg", NULL);
	char *photo = NULL;
	gsize len = 0;
	g_assert_true(g_file_get_contents(photo_path, &photo, &len, NULL));
	char *dir = tu_scratch("hostile-rss");
	long a = render_peak(dir, small, photo, len);
	long b = render_peak(dir, big, photo, len);
	g_test_message("peak RSS: %ld rows %ld KiB, %ld rows %ld KiB (x%.2f)", small, a, big,
	               b, (double)b / a);
	g_assert_cmpfloat((double)b, <=, 1.3 * a);
	g_assert_cmpint(b, <=, 150 * 1024);
	/* The photos are the bulk of the scratch folder. */
	char *cmd[] = {(char *)"/bin/rm", (char *)"-rf", dir, NULL};
	g_spawn_sync(NULL, cmd, NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL);
	g_free(dir);
	g_free(photo);
	g_free(photo_path);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/hostile/text-chars", test_text_chars);
	g_test_add_func("/hostile/report-escapes", test_report_escapes);
	g_test_add_func("/hostile/csv", test_csv_hostile);
	g_test_add_func("/hostile/fonts-cycle", test_fonts_cycle);
	g_test_add_func("/hostile/peak-rss", test_peak_rss);
	return g_test_run();
}
