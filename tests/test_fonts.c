/* SPDX-License-Identifier: MIT */
/* Fonts: the manifest, checksum verification and its cache, the private
 * fontconfig set and the fallback chain. */
#include "common/testutil.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <time.h>
#include <utime.h>

#include <cairo-ft.h>
#include FT_TRUETYPE_TABLES_H
#include <cairo-pdf.h>
#include <fontconfig/fontconfig.h>
#include <pango/pangocairo.h>

#include "layout/cffhead.h"
#include "layout/fonts.h"
#include "layout/tablemap.h"

static const char *fonts_dir(void)
{
	return CP_TESTDIR "/../fonts";
}

/* The manifest grammar: comments, relative and absolute names, notes with
 * blanks; malformed lines are errors naming the line. */
static void test_manifest_parse(void)
{
	char *dir = tu_scratch("fonts-manifest");
	char *mf = tu_write(dir, "fonts.manifest",
		"# comment\n"
		"\n"
		"a.otf  0000000000000000000000000000000000000000000000000000000000000000  pkg a 1.0\n"
		"/abs/b.ttc ABCDEF0000000000000000000000000000000000000000000000000000000000\n");
	cp_error *err = NULL;
	cp_font_manifest *m = cp_font_manifest_load(dir, &err);
	tu_assert_no_error(err);
	g_assert_cmpuint(m->n, ==, 2);
	char *want = g_build_filename(dir, "a.otf", NULL);
	g_assert_cmpstr(m->entries[0].path, ==, want);
	g_assert_cmpstr(m->entries[0].note, ==, "pkg a 1.0");
	g_assert_cmpint(m->entries[0].line, ==, 3);
	g_assert_cmpstr(m->entries[1].path, ==, "/abs/b.ttc");
	g_assert_cmpstr(m->entries[1].sha256, ==,
	                "abcdef0000000000000000000000000000000000000000000000000000000000");
	g_assert_cmpstr(m->entries[1].note, ==, "");
	cp_font_manifest_free(m);
	g_free(want);
	g_free(mf);

	mf = tu_write(dir, "fonts.manifest", "# x\nonlyafile.otf\n");
	g_assert_null(cp_font_manifest_load(dir, &err));
	tu_assert_error(&err, CP_E_PARSE, "fonts.manifest:2:");
	g_free(mf);
	mf = tu_write(dir, "fonts.manifest", "a.otf 1234\n");
	g_assert_null(cp_font_manifest_load(dir, &err));
	tu_assert_error(&err, CP_E_PARSE, "is not a SHA-256");
	g_free(mf);
	mf = tu_write(dir, "fonts.manifest", "# nothing\n");
	g_assert_null(cp_font_manifest_load(dir, &err));
	tu_assert_error(&err, CP_E_FONT, "lists no fonts");
	g_free(mf);
	char *none = g_build_filename(dir, "nowhere", NULL);
	g_assert_null(cp_font_manifest_load(none, &err));
	tu_assert_error(&err, CP_E_FONT, "cannot read the font manifest");
	g_free(none);
	g_free(dir);
}

static void copy_file(const char *from, const char *to)
{
	char *data;
	gsize len;
	g_assert_true(g_file_get_contents(from, &data, &len, NULL));
	g_assert_true(g_file_set_contents(to, data, (gssize)len, NULL));
	g_free(data);
}

/* A font whose bytes differ from the pinned checksum, or that is absent, is
 * CP_E_FONT naming the file; the verified-checksum cache skips rehashing
 * until size or mtime change, and a garbage cache does no harm. */
static void test_checksum_and_cache(void)
{
	char *dir = tu_scratch("fonts-checksum");
	char *src = g_build_filename(fonts_dir(), "FandolHei-Bold.otf", NULL);
	char *font = g_build_filename(dir, "Hei.otf", NULL);
	copy_file(src, font);
	cp_error *err = NULL;
	char *sha = cp_fonts_sha256_file(font, &err);
	tu_assert_no_error(err);
	g_assert_cmpstr(sha, ==, "42ca2de27b45e16a284768673b6205a5add9e17871ee0e7db9c0d03f061d96fd");

	char *text = g_strdup_printf("Hei.otf %s test copy\n", sha);
	g_free(tu_write(dir, "fonts.manifest", text));
	g_free(text);
	cp_fonts *f = cp_fonts_new(dir, NULL, &err);
	tu_assert_no_error(err);
	g_assert_cmpuint(cp_fonts_hashed_count(f), ==, 1);
	cp_fonts_free(f);
	f = cp_fonts_new(dir, NULL, &err);
	tu_assert_no_error(err);
	g_assert_cmpuint(cp_fonts_hashed_count(f), ==, 0); /* from the cache */
	cp_fonts_free(f);

	/* A new mtime forces a rehash. */
	struct utimbuf ut = {.actime = 1000000000, .modtime = 1000000000};
	g_assert_cmpint(g_utime(font, &ut), ==, 0);
	f = cp_fonts_new(dir, NULL, &err);
	tu_assert_no_error(err);
	g_assert_cmpuint(cp_fonts_hashed_count(f), ==, 1);
	cp_fonts_free(f);

	/* A damaged cache is ignored, never fatal. */
	char *cache = g_build_filename(g_get_user_cache_dir(), "certpress",
	                               "fonts-verified", NULL);
	g_assert_true(g_file_test(cache, G_FILE_TEST_EXISTS));
	g_assert_true(g_file_set_contents(cache, "zz 1 2\n\xff\xfe garbage 3 4 5\n", -1, NULL));
	f = cp_fonts_new(dir, NULL, &err);
	tu_assert_no_error(err);
	g_assert_cmpuint(cp_fonts_hashed_count(f), ==, 1);
	cp_fonts_free(f);
	g_free(cache);

	/* Changed bytes: the size changes, the cache is bypassed, the checksum
	 * no longer matches. */
	FILE *fp = fopen(font, "ab");
	g_assert_nonnull(fp);
	fputs("tampered", fp);
	fclose(fp);
	g_assert_null(cp_fonts_new(dir, NULL, &err));
	tu_assert_error(&err, CP_E_FONT, "Hei.otf is not the pinned one");

	g_unlink(font);
	g_assert_null(cp_fonts_new(dir, NULL, &err));
	tu_assert_error(&err, CP_E_FONT, "Hei.otf is missing; it is provided by test copy");

	/* Right checksum, but not a font. */
	g_free(tu_write(dir, "Hei.otf", "not a font"));
	char *s2 = cp_fonts_sha256_file(font, &err);
	text = g_strdup_printf("Hei.otf %s\n", s2);
	g_free(tu_write(dir, "fonts.manifest", text));
	g_assert_null(cp_fonts_new(dir, NULL, &err));
	tu_assert_error(&err, CP_E_FONT, "Hei.otf cannot be loaded");

	/* The extra folder must exist. */
	g_assert_null(cp_fonts_new(NULL, "/nonexistent/fonts", &err));
	tu_assert_error(&err, CP_E_FONT, "/nonexistent/fonts");
	g_free(text);
	g_free(s2);
	g_free(sha);
	g_free(font);
	g_free(src);
	g_free(dir);
}

static cp_fonts *project_fonts(void)
{
	cp_error *err = NULL;
	cp_fonts *f = cp_fonts_new(NULL, NULL, &err);
	tu_assert_no_error(err);
	g_assert_nonnull(f);
	return f;
}

static void assert_family(cp_fonts *f, const char *list, const char *text,
                          const char *family)
{
	char *got = cp_fonts_family_for(f, list, text);
	g_test_message("'%s' in '%s' -> %s", text, list ? list : "(default)", got);
	g_assert_cmpstr(got, ==, family);
	g_free(got);
}

/* The chain: FangSong for ordinary text; rare Ext A/B characters come from
 * Noto Serif CJK SC (which covers 䶮 and 𠇔) or, failing that, HanaMin;
 * a machine font (DejaVu Sans is installed system-wide) is never used;
 * a code point no pinned font has gets no font at all. */
static void test_fallback(void)
{
	cp_fonts *f = project_fonts();
	assert_family(f, NULL, "张", "FandolFang");
	assert_family(f, NULL, "A", "FandolFang");
	assert_family(f, NULL, "·", "FandolFang");
	assert_family(f, NULL, "䶮", "Noto Serif CJK SC");     /* U+4DAE, Ext A */
	assert_family(f, NULL, "𠇔", "Noto Serif CJK SC");     /* U+201D4, Ext B */
	assert_family(f, NULL, "𠀁", "HanaMinB");              /* U+20001: only HanaMinB */
	assert_family(f, NULL, "䷀", "HanaMinA");              /* U+4DC0: only HanaMinA */
	assert_family(f, "FandolSong", "证", "FandolSong");
	assert_family(f, "FandolHei", "证", "FandolHei");
	assert_family(f, "DejaVu Sans", "A", "FandolFang");
	char *none = cp_fonts_family_for(f, NULL, "\xf4\x8f\xbf\xbd"); /* U+10FFFD */
	g_assert_null(none);
	/* fontconfig's default configuration, which Pango initializes beside
	 * ours, holds not one of the machine's fonts (DejaVu Sans and the rest
	 * of /usr/share/fonts are installed here) */
	FcConfig *def = FcConfigGetCurrent();
	g_assert_nonnull(def);
	FcFontSet *sys = FcConfigGetFonts(def, FcSetSystem);
	g_assert_true(!sys || sys->nfont == 0);
	FcFontSet *app = FcConfigGetFonts(def, FcSetApplication);
	g_assert_true(!app || app->nfont == 0);
	cp_fonts_free(f);
}

static int unknown_glyphs(cp_fonts *f, const char *text)
{
	PangoContext *ctx = cp_fonts_context_new(f);
	PangoLayout *lay = pango_layout_new(ctx);
	PangoFontDescription *d = cp_fonts_description(NULL, 12, false);
	pango_layout_set_font_description(lay, d);
	pango_layout_set_text(lay, text, -1);
	int n = 0;
	PangoLayoutIter *it = pango_layout_get_iter(lay);
	do {
		PangoLayoutRun *run = pango_layout_iter_get_run_readonly(it);
		if (!run)
			continue;
		for (int i = 0; i < run->glyphs->num_glyphs; i++)
			n += (run->glyphs->glyphs[i].glyph & PANGO_GLYPH_UNKNOWN_FLAG) != 0;
	} while (pango_layout_iter_next_run(it));
	pango_layout_iter_free(it);
	pango_font_description_free(d);
	g_object_unref(lay);
	g_object_unref(ctx);
	return n;
}

/* Names in Latin letters and minority names with a middle dot lay out with no
 * missing glyph; the counter does see a missing one. */
static void test_names_have_glyphs(void)
{
	cp_fonts *f = project_fonts();
	g_assert_cmpint(unknown_glyphs(f, "John O'Brien-Smith"), ==, 0);
	g_assert_cmpint(unknown_glyphs(f, "阿依古丽·买买提"), ==, 0);
	g_assert_cmpint(unknown_glyphs(f, "Zoë Müller"), ==, 0);
	g_assert_cmpint(unknown_glyphs(f, "李䶮𠇔"), ==, 0);
	g_assert_cmpint(unknown_glyphs(f, "a\xf4\x8f\xbf\xbd" "b"), ==, 1);
	cp_fonts_free(f);
}

/* Bold text gets the Bold faces (whose OS/2 weight says regular, which the
 * scan-time rule corrects). */
static void test_bold(void)
{
	cp_fonts *f = project_fonts();
	const char *lists[] = {"FandolSong", "FandolHei"};
	for (int i = 0; i < 2; i++)
		for (int bold = 0; bold < 2; bold++) {
			PangoContext *ctx = cp_fonts_context_new(f);
			PangoLayout *lay = pango_layout_new(ctx);
			PangoFontDescription *d = cp_fonts_description(lists[i], 20, bold);
			pango_layout_set_font_description(lay, d);
			pango_layout_set_text(lay, "证书", -1);
			PangoLayoutIter *it = pango_layout_get_iter(lay);
			PangoLayoutRun *run = pango_layout_iter_get_run_readonly(it);
			PangoFontDescription *got = pango_font_describe(run->item->analysis.font);
			g_assert_cmpstr(pango_font_description_get_family(got), ==, lists[i]);
			g_assert_cmpint(pango_font_description_get_weight(got), ==,
			                bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
			pango_font_description_free(got);
			pango_layout_iter_free(it);
			pango_font_description_free(d);
			g_object_unref(lay);
			g_object_unref(ctx);
		}
	cp_fonts_free(f);
}

static cairo_status_t discard(void *closure, const unsigned char *data, unsigned int len)
{
	(void)closure;
	(void)data;
	(void)len;
	return CAIRO_STATUS_SUCCESS;
}

/* KB of the process resident from mappings of files whose name has one of
 * the words (/proc/self/smaps). */
static long mapped_kb(const char *const *words, size_t nwords)
{
	char *smaps = NULL;
	g_assert_true(g_file_get_contents("/proc/self/smaps", &smaps, NULL, NULL));
	char **lines = g_strsplit(smaps, "\n", -1);
	long kb = 0;
	bool ours = false;
	for (char **l = lines; *l; l++) {
		long v;
		if (g_ascii_isxdigit(**l) && strchr(*l, '-') && strchr(*l, ' ') < strchr(*l, '-') + 20) {
			ours = false;
			for (size_t i = 0; i < nwords; i++)
				ours = ours || strstr(*l, words[i]) != NULL;
		} else if (ours && sscanf(*l, "Rss: %ld kB", &v) == 1) {
			kb += v;
		}
	}
	g_strfreev(lines);
	g_free(smaps);
	return kb;
}

/* Draws a line in each face a certificate's PDF embeds: FandolSong, its
 * Bold, FandolFang, and the fallback face as layout.c matches it to
 * FandolFang (a name is set whole in it); with Latin letters when latin. */
static void draw_faces(cp_fonts *f, cairo_t *cr, bool latin)
{
	static const struct {
		const char *list;
		bool bold;
		const char *text, *latin;
	} runs[] = {
		{"FandolSong", false, "职业技能等级证书", " Certificate"},
		{"FandolSong", true, "证书编号", " No. 0042"},
		{"FandolFang", false, "张三", " Zhang San"},
		{NULL, false, "李䶮", " Li Yan"},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(runs); i++) {
		PangoContext *ctx = cp_fonts_context_new(f);
		PangoLayout *lay = pango_layout_new(ctx);
		PangoFontDescription *d;
		if (runs[i].list) {
			d = cp_fonts_description(runs[i].list, 20, runs[i].bold);
		} else {
			d = pango_font_description_new();
			pango_font_description_set_family(d, "Noto Serif CJK SC");
			pango_font_description_set_weight(d, PANGO_WEIGHT_ULTRALIGHT);
			pango_font_description_set_size(d, 20 * PANGO_SCALE);
		}
		char *text = g_strconcat(runs[i].text, latin ? runs[i].latin : "", NULL);
		pango_layout_set_font_description(lay, d);
		pango_layout_set_text(lay, text, -1);
		cairo_move_to(cr, 50, 50 + 40 * (double)i);
		pango_cairo_show_layout(cr, lay);
		g_free(text);
		pango_font_description_free(d);
		g_object_unref(lay);
		g_object_unref(ctx);
	}
}

/* The faces Cairo embeds are read through certpress's stream, not mapped:
 * a PDF that uses FandolSong, its Bold, FandolFang and the fallback face
 * (Noto Serif CJK SC as layout.c matches it to FandolFang) has Cairo copy
 * each one's whole CFF table (5-20 MB) twice when the document is
 * finished, and none of that becomes resident from the font files.
 * HarfBuzz, which shapes, maps them too and reads some 150 KB of each, but
 * what that makes resident depends on the kernel: where the page cache
 * holds a file in large folios, each page read maps its whole folio (12
 * MB of Noto Serif CJK on a Linux 6.18 host). So what the finishing adds
 * is what is measured. */
static void test_tables_read(void)
{
	cp_fonts *f = project_fonts();
	cairo_surface_t *s = cairo_pdf_surface_create_for_stream(discard, NULL, 595, 842);
	cairo_t *cr = cairo_create(s);
	draw_faces(f, cr, false);
	cairo_destroy(cr);
	const char *const words[] = {"Fandol", "NotoSerifCJK"};
	long shaped = mapped_kb(words, G_N_ELEMENTS(words));
	cairo_surface_finish(s);
	g_assert_cmpint(cairo_surface_status(s), ==, CAIRO_STATUS_SUCCESS);
	cairo_surface_destroy(s);
	long kb = mapped_kb(words, G_N_ELEMENTS(words));
	g_test_message("resident from the font files: %ld KB once shaped, %ld KB once finished",
	               shaped, kb);
	g_assert_cmpint(kb - shaped, <, 4096);
	cp_fonts_free(f);
}

static cairo_status_t append(void *closure, const unsigned char *data, unsigned int len)
{
	g_byte_array_append(closure, data, len);
	return CAIRO_STATUS_SUCCESS;
}

/* A two-page PDF of Chinese and Latin text in FandolSong, its Bold,
 * FandolFang and the fallback face, each page written out with or without
 * cp_fonts_probe_begin() around it as pdf.c does. */
static GByteArray *probe_pdf(cp_fonts *f, bool probe)
{
	GByteArray *out = g_byte_array_new();
	cairo_surface_t *s = cairo_pdf_surface_create_for_stream(append, out, 595, 842);
	cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATE_DATE, "2026-12-07T00:00:00Z");
	cairo_t *cr = cairo_create(s);
	for (int page = 0; page < 2; page++) {
		draw_faces(f, cr, true);
		if (probe)
			cp_fonts_probe_begin();
		cairo_show_page(cr);
		if (probe)
			cp_fonts_probe_end();
	}
	cairo_destroy(cr);
	cairo_surface_finish(s);
	g_assert_cmpint(cairo_surface_status(s), ==, CAIRO_STATUS_SUCCESS);
	cairo_surface_destroy(s);
	return out;
}

/* A page written out under cp_fonts_probe_begin() reads only the head of
 * each face's CFF table the first time the document uses the face (Cairo
 * 1.16 looks there for whether it is CID-keyed), and the PDF is the same,
 * byte for byte, as when the whole tables are read: the faces are embedded
 * as CID-keyed fonts either way, Latin letters included. */
static void test_probe(void)
{
	if (cairo_version() >= CAIRO_VERSION_ENCODE(1, 17, 0) ||
	    cairo_version() < CAIRO_VERSION_ENCODE(1, 16, 0)) {
		g_test_skip("only with Cairo 1.16");
		return;
	}
	cp_fonts *f = project_fonts();
	size_t before = cp_fonts_probed_count();
	GByteArray *whole = probe_pdf(f, false);
	g_assert_cmpuint(cp_fonts_probed_count(), ==, before);
	GByteArray *head = probe_pdf(f, true);
	/* FandolSong, its Bold, FandolFang and Noto Serif CJK SC: once each,
	 * on the first page */
	g_assert_cmpuint(cp_fonts_probed_count() - before, ==, 4);
	g_assert_cmpuint(head->len, ==, whole->len);
	g_assert_true(memcmp(head->data, whole->data, whole->len) == 0);
	g_assert_nonnull(g_strstr_len((const char *)whole->data, whole->len, "/CIDFontType0"));
	g_byte_array_unref(head);
	g_byte_array_unref(whole);
	cp_fonts_free(f);
}

/* The file mapped in [at, at + len) of this process, as /proc/self/maps
 * names it (g_free), or NULL. */
static char *mapped_file(const void *at, size_t len)
{
	char *maps = NULL;
	g_assert_true(g_file_get_contents("/proc/self/maps", &maps, NULL, NULL));
	char **lines = g_strsplit(maps, "\n", -1);
	char *found = NULL;
	for (char **l = lines; *l && !found; l++) {
		unsigned long lo, hi;
		int name = 0;
		if (sscanf(*l, "%lx-%lx %*s %*s %*s %*s %n", &lo, &hi, &name) == 2 && name > 0 &&
		    (*l)[name] == '/' && lo >= (uintptr_t)at && hi <= (uintptr_t)at + len)
			found = g_strdup(*l + name);
	}
	g_strfreev(lines);
	g_free(maps);
	return found;
}

/* A block laid out as glibc lays out one it maps for itself: 16 bytes into
 * fresh pages. */
static unsigned char *glibc_like_block(size_t len, size_t *span)
{
	*span = len + 2 * 4096;
	unsigned char *m = mmap(NULL, *span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
	                        -1, 0);
	g_assert_true(m != MAP_FAILED);
	return m + 2 * sizeof(size_t);
}

/* FandolFang's whole CFF table as FreeType reads it for Cairo into buf
 * (NULL: only its length); returns the length. */
static unsigned long load_cff(cp_fonts *f, unsigned char *buf)
{
	PangoContext *ctx = cp_fonts_context_new(f);
	PangoFontDescription *d = cp_fonts_description("FandolFang", 20, false);
	PangoFont *font = pango_context_load_font(ctx, d);
	g_assert_nonnull(font);
	cairo_scaled_font_t *sf = pango_cairo_font_get_scaled_font(PANGO_CAIRO_FONT(font));
	FT_Face face = cairo_ft_scaled_font_lock_face(sf);
	g_assert_nonnull(face);
	FT_ULong len = 0;
	g_assert_cmpint(FT_Load_Sfnt_Table(face, FT_MAKE_TAG('C', 'F', 'F', ' '), 0, NULL, &len), ==, 0);
	if (buf)
		g_assert_cmpint(FT_Load_Sfnt_Table(face, FT_MAKE_TAG('C', 'F', 'F', ' '), 0, buf, &len),
		                ==, 0);
	cairo_ft_scaled_font_unlock_face(sf);
	g_object_unref(font);
	pango_font_description_free(d);
	g_object_unref(ctx);
	return len;
}

static off_t flen_of(const char *path)
{
	struct stat st;
	g_assert_cmpint(stat(path, &st), ==, 0);
	return st.st_size;
}

/* Writes path: the header page of the cache file made (its text, to its
 * first NUL) with from replaced by to, padded with NULs as tablemap.c
 * pads it, and no table. */
static void header_with(const char *path, const char *made, const char *from, const char *to)
{
	GString *h = g_string_new(made);
	g_assert_cmpint(g_string_replace(h, from, to, 1), ==, 1);
	size_t n = 4096 + 2 * sizeof(size_t);
	g_assert_cmpuint(h->len, <, n);
	char *page = g_malloc0(n);
	memcpy(page, h->str, h->len);
	g_assert_true(g_file_set_contents(path, page, (gssize)n, NULL));
	g_free(page);
	g_string_free(h, TRUE);
}

/* FandolFang's CFF table as its file has it, in *len bytes (g_free). */
static unsigned char *fang_cff(size_t *len)
{
	char *otf = g_build_filename(fonts_dir(), "FandolFang-Regular.otf", NULL);
	gchar *file = NULL;
	gsize flen = 0;
	g_assert_true(g_file_get_contents(otf, &file, &flen, NULL));
	uint32_t at = 0, n = 0;
	g_assert_true(cp_sfnt_table((const unsigned char *)file, flen, 0, "CFF ", &at, &n));
	unsigned char *t = g_memdup2(file + at, n);
	*len = n;
	g_free(file);
	g_free(otf);
	return t;
}

/* Reads FandolFang's table into a block placed as glibc places its
 * mapped blocks: the block's pages come from the cache file (tablemap.c),
 * the bytes are the font's. Returns the cache file's path (g_free). */
static char *mapped_read(cp_fonts *f, const unsigned char *want, size_t len)
{
	size_t span, before = cp_table_map_count();
	unsigned char *buf = glibc_like_block(len, &span);
	g_assert_cmpuint(load_cff(f, buf), ==, len);
	g_assert_cmpuint(cp_table_map_count(), ==, before + 1);
	g_assert_true(memcmp(buf, want, len) == 0);
	char *file = mapped_file(buf, len);
	g_assert_nonnull(file);
	g_assert_nonnull(strstr(file, "/certpress/cff-tables/"));
	g_assert_cmpint(munmap(buf - 2 * sizeof(size_t), span), ==, 0);
	return file;
}

/* The mappings in the pages of a block placed as glibc_like_block() places
 * it, at, of len bytes, as file (/proc/self/maps or smaps) lists them: how
 * many, and *kb, the KB resident in them (smaps' Rss lines). Line by line
 * with memchr(): ASan's strict string checks make each strstr() of
 * g_strsplit() measure the rest of the text. */
static size_t block_mappings(const char *file, const void *at, size_t len, size_t *kb)
{
	char *text = NULL;
	gsize n_text = 0;
	g_assert_true(g_file_get_contents(file, &text, &n_text, NULL));
	size_t n = 0;
	bool inside = false;
	*kb = 0;
	for (char *l = text, *end = text + n_text; l < end;) {
		char *nl = memchr(l, '\n', (size_t)(end - l));
		if (nl)
			*nl = '\0';
		unsigned long lo, hi, v;
		if (sscanf(l, "%lx-%lx ", &lo, &hi) == 2) {
			inside = lo >= (uintptr_t)at - 2 * sizeof(size_t) && hi <= (uintptr_t)at + len + 4096;
			n += inside;
		} else if (inside && sscanf(l, "Rss: %lu kB", &v) == 1) {
			*kb += v;
		}
		l = nl ? nl + 1 : end;
	}
	g_free(text);
	return n;
}

/* KB of this process's memory resident in such a block (smaps, which walks
 * the page tables: slow under ASan, whose shadow they span); *mappings:
 * how many mappings. */
static size_t resident_kb(const void *at, size_t len, size_t *mappings)
{
	size_t kb;
	*mappings = block_mappings("/proc/self/smaps", at, len, &kb);
	return kb;
}

/* How many mappings lie in such a block (/proc/self/maps). */
static size_t mappings_in(const void *at, size_t len)
{
	size_t kb;
	return block_mappings("/proc/self/maps", at, len, &kb);
}

/* A byte read from the middle of a mapped table makes a few pages of it
 * resident, not the 64 KB around it that Linux maps at once from a file
 * in the page cache (fault-around): the table's pages are mapped in
 * pieces of 16 KB that the kernel keeps apart. */
static void test_table_mapped_pieces(void)
{
	size_t len;
	unsigned char *want = fang_cff(&len);
	cp_fonts *f = project_fonts();
	g_free(mapped_read(f, want, len)); /* the cache file, in the page cache */
	size_t span, before = cp_table_map_count(), mappings;
	unsigned char *buf = glibc_like_block(len, &span);
	g_assert_cmpuint(load_cff(f, buf), ==, len);
	g_assert_cmpuint(cp_table_map_count(), ==, before + 1);
	/* the first and the last page: read from the font, not mapped; the
	 * pieces (the block's first page may be part of a mapping that
	 * reaches beyond it, as under ASan) */
	g_assert_cmpuint(resident_kb(buf, len, &mappings), <=, 8);
	g_assert_cmpuint(mappings, >, len / (32 * 1024));
	size_t page = (len / 4096) / 2 / 16 * 16 + 5; /* inside a 64 KB window */
	g_assert_cmpint(buf[page * 4096], ==, want[page * 4096]);
	size_t kb = resident_kb(buf, len, &mappings);
	g_test_message("%zu KB resident in %zu mappings", kb, mappings);
	g_assert_cmpuint(kb, >=, 12);
	g_assert_cmpuint(kb, <=, 8 + 16);
	g_assert_true(memcmp(buf, want, len) == 0);
	g_assert_cmpint(munmap(buf - 2 * sizeof(size_t), span), ==, 0);
	cp_fonts_free(f);
	g_free(want);
}


/* Pieces are mappings of their own, of which a process has a limited
 * number: past a bound, a table is mapped whole again, and once the blocks
 * mapped in pieces are freed, pieces are mapped again. */
static void test_table_pieces_bounded(void)
{
	size_t len;
	unsigned char *want = fang_cff(&len);
	cp_fonts *f = project_fonts();
	GPtrArray *blocks = g_ptr_array_new();
	size_t span = 0, mappings = 0, whole = 0;
	while (blocks->len < 400) {
		unsigned char *buf = glibc_like_block(len, &span);
		g_ptr_array_add(blocks, buf);
		g_assert_cmpuint(load_cff(f, buf), ==, len);
		mappings = mappings_in(buf, len);
		if (mappings <= 3) {
			whole = blocks->len;
			break;
		}
		g_assert_cmpuint(mappings, >, len / (32 * 1024));
	}
	g_test_message("block %zu of FandolFang's table mapped whole", whole);
	g_assert_cmpuint(whole, >, 20);  /* two parts' faces, several times over */
	g_assert_cmpuint(whole, <, 400); /* not without bound */
	g_assert_true(memcmp(blocks->pdata[whole - 1], want, len) == 0);
	for (guint i = 0; i < blocks->len; i++)
		g_assert_cmpint(munmap((unsigned char *)blocks->pdata[i] - 2 * sizeof(size_t), span),
		                ==, 0);
	g_ptr_array_set_size(blocks, 0);
	unsigned char *buf = glibc_like_block(len, &span);
	g_assert_cmpuint(load_cff(f, buf), ==, len);
	g_assert_cmpuint(mappings_in(buf, len), >, len / (32 * 1024)); /* in pieces again */
	g_assert_true(memcmp(buf, want, len) == 0);
	g_assert_cmpint(munmap(buf - 2 * sizeof(size_t), span), ==, 0);
	g_ptr_array_unref(blocks);
	cp_fonts_free(f);
	g_free(want);
}

/* The subprocess of test_table_mapped(): a fresh process reads the table
 * through the cache file it finds spoiled, which it writes again. */
static void test_table_mapped_fresh(void)
{
	if (!g_test_subprocess())
		return;
	size_t len;
	unsigned char *want = fang_cff(&len);
	cp_fonts *f = project_fonts();
	g_free(mapped_read(f, want, len));
	cp_fonts_free(f);
	g_free(want);
}

/* A face's whole CFF table read into a block placed as glibc places the
 * blocks it maps for itself comes as pages of a cache file, the font's
 * bytes; into a block placed otherwise it is read. A cache file that is
 * not the table's (a page of it spoiled, its header not the font file's,
 * cut short) is written again by the next process, which reads the font's
 * bytes all the same. */
static void test_table_mapped(void)
{
	size_t len;
	unsigned char *want = fang_cff(&len);
	cp_fonts *f = project_fonts();
	char *cache = mapped_read(f, want, len);
	g_assert_true(g_str_has_suffix(cache, ".cff"));
	gchar *made = NULL;
	gsize made_len = 0;
	g_assert_true(g_file_get_contents(cache, &made, &made_len, NULL));
	g_assert_cmpuint(made_len, ==, 4096 + 2 * sizeof(size_t) + len);
	g_assert_true(memcmp(made + 4096 + 2 * sizeof(size_t), want, len) == 0);

	/* a block elsewhere in its page: read, not mapped */
	size_t span, before = cp_table_map_count();
	unsigned char *buf = glibc_like_block(len, &span) + 16;
	g_assert_cmpuint(load_cff(f, buf), ==, len);
	g_assert_cmpuint(cp_table_map_count(), ==, before);
	g_assert_true(memcmp(buf, want, len) == 0);
	g_assert_null(mapped_file(buf, len));
	munmap(buf - 16 - 2 * sizeof(size_t), span);
	cp_fonts_free(f);

	/* what a writer killed an hour ago left, and one writing now */
	char *stale = g_strconcat(cache, ".AbC123", NULL), *busy = g_strconcat(cache, ".XyZ789", NULL);
	g_assert_true(g_file_set_contents(stale, "half a table", -1, NULL));
	g_assert_true(g_file_set_contents(busy, "half a table", -1, NULL));
	struct utimbuf hour_ago = {.actime = time(NULL) - 3600, .modtime = time(NULL) - 3600};
	g_assert_cmpint(utime(stale, &hour_ago), ==, 0);

	/* beside it, cache files of a font file that is gone and of one that
	 * changed (orphans), a copy of a valid one under another name and a
	 * file that is not a cache file: the orphans are removed when a cache
	 * file is written, the others left */
	char *folder = g_path_get_dirname(cache);
	char *gone = g_build_filename(folder, "gone.otf.0.0000000000000000.cff", NULL);
	char *changed = g_build_filename(folder, "changed.otf.0.0000000000000000.cff", NULL);
	char *valid = g_build_filename(folder, "valid-copy.cff", NULL);
	char *other = g_build_filename(folder, "not-a-table.cff", NULL);
	const char *fl = strstr(made, "\nfont ");
	g_assert_nonnull(fl);
	char *font = g_strndup(fl + 6, strcspn(fl + 6, "\n")); /* the header's font */
	header_with(gone, made, font, "/no/such/folder/FandolFang-Regular.otf");
	char *size = g_strdup_printf("\nsize %ld\n", (long)flen_of(font));
	header_with(changed, made, size, "\nsize 1\n");
	g_assert_true(g_file_set_contents(valid, made, (gssize)made_len, NULL));
	/* named by a link to the font: tables are named by real paths now */
	char *link = g_build_filename(folder, "link-to-fang.otf", NULL);
	char *linked = g_build_filename(folder, "linked.otf.0.0000000000000000.cff", NULL);
	g_unlink(link);
	g_assert_cmpint(symlink(font, link), ==, 0);
	header_with(linked, made, font, link);
	g_assert_true(g_file_set_contents(other, "hello", -1, NULL));

	/* the table's first page spoiled; the header's font file changed; the
	 * file cut short */
	for (int spoil = 0; spoil < 3; spoil++) {
		int fd = open(cache, O_RDWR);
		g_assert_cmpint(fd, >=, 0);
		if (spoil == 0)
			g_assert_cmpint(pwrite(fd, "spoiled", 7, 2 * 4096 + 100), ==, 7); /* mapped */
		else if (spoil == 1)
			g_assert_cmpint(pwrite(fd, "9", 1, 200), ==, 1);
		else
			g_assert_cmpint(ftruncate(fd, 3 * 4096), ==, 0);
		close(fd);
		g_setenv("CP_TEST_PARENT_CACHE", "1", TRUE);
		g_test_trap_subprocess("/fonts/table-mapped/fresh", 0, G_TEST_SUBPROCESS_DEFAULT);
		g_unsetenv("CP_TEST_PARENT_CACHE");
		g_test_trap_assert_passed();
		gchar *now = NULL;
		gsize n = 0;
		g_assert_true(g_file_get_contents(cache, &now, &n, NULL));
		g_assert_cmpuint(n, ==, made_len); /* written again */
		g_assert_true(memcmp(now, made, made_len) == 0);
		g_free(now);
	}
	g_assert_false(g_file_test(stale, G_FILE_TEST_EXISTS)); /* removed */
	g_assert_false(g_file_test(gone, G_FILE_TEST_EXISTS));
	g_assert_false(g_file_test(changed, G_FILE_TEST_EXISTS));
	g_assert_false(g_file_test(linked, G_FILE_TEST_EXISTS));
	g_unlink(link);
	g_free(link);
	g_free(linked);
	g_assert_true(g_file_test(valid, G_FILE_TEST_EXISTS));
	g_assert_true(g_file_test(other, G_FILE_TEST_EXISTS));
	g_unlink(valid);
	g_unlink(other);
	g_free(size);
	g_free(font);
	g_free(gone);
	g_free(changed);
	g_free(valid);
	g_free(other);
	g_free(folder);
	g_assert_true(g_file_test(busy, G_FILE_TEST_EXISTS));   /* left to its writer */
	g_unlink(busy);
	g_free(stale);
	g_free(busy);
	g_free(made);
	g_free(cache);
	g_free(want);
}

/* The first 64 KB of path from offset, in *len bytes; g_free(). */
static unsigned char *file_head(const char *path, long offset, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	g_assert_nonnull(fp);
	g_assert_cmpint(fseek(fp, offset, SEEK_SET), ==, 0);
	unsigned char *d = g_malloc(65536);
	*len = fread(d, 1, 65536, fp);
	fclose(fp);
	return d;
}

/* cffhead.c finds a face's CFF table in an OpenType file and in each face
 * of a collection (Noto's faces share one), and the end of the table's
 * header, Name INDEX and Top DICT INDEX; anything cut short or out of
 * range is refused, never read past. */
static void test_cff_head(void)
{
	char *otf = g_build_filename(fonts_dir(), "FandolSong-Regular.otf", NULL);
	size_t len;
	unsigned char *d = file_head(otf, 0, &len);
	uint32_t at = 0, n = 0;
	g_assert_true(cp_sfnt_table(d, len, 0, "CFF ", &at, &n));
	g_assert_cmpuint(n, >, 1000000); /* the whole font's outlines */
	g_assert_false(cp_sfnt_table(d, len, 1, "CFF ", &at, &n)); /* one face only */
	g_assert_false(cp_sfnt_table(d, len, 0, "CFF2", &at, &n));
	g_assert_false(cp_sfnt_table(d, 11, 0, "CFF ", &at, &n));
	g_free(d);
	unsigned char *cff = file_head(otf, (long)at, &len);
	size_t end = cp_cff_head_end(cff, len);
	g_assert_cmpuint(end, >, 4);
	g_assert_cmpuint(end, <, 4096);
	g_assert_cmpuint(cp_cff_head_end(cff, end), ==, end); /* exactly inside */
	for (size_t cut = 0; cut < end; cut++)
		g_assert_cmpuint(cp_cff_head_end(cff, cut), ==, 0);
	unsigned char bad[8];
	memcpy(bad, cff, sizeof bad);
	bad[0] = 2; /* CFF2 */
	g_assert_cmpuint(cp_cff_head_end(bad, sizeof bad), ==, 0);
	g_free(cff);
	g_free(otf);

	const char *ttc = "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc";
	if (!g_file_test(ttc, G_FILE_TEST_EXISTS)) {
		g_test_skip("Noto Serif CJK is not installed");
		return;
	}
	d = file_head(ttc, 0, &len);
	uint32_t at0 = 0, n0 = 0;
	g_assert_true(cp_sfnt_table(d, len, 0, "CFF ", &at0, &n0));
	for (int i = 1; i < 5; i++) {
		g_assert_true(cp_sfnt_table(d, len, i, "CFF ", &at, &n));
		g_assert_cmpuint(at, ==, at0);
		g_assert_cmpuint(n, ==, n0);
	}
	g_assert_false(cp_sfnt_table(d, len, 5, "CFF ", &at, &n));
	g_assert_false(cp_sfnt_table(d, len, -1, "CFF ", &at, &n));
	g_assert_false(cp_sfnt_table(d, 16, 3, "CFF ", &at, &n));
	g_free(d);
}

/* The single cache file fontconfig wrote for our folder, or NULL. */
static char *fc_cache_file(void)
{
	char *dir = g_build_filename(g_get_user_cache_dir(), "certpress", "fontconfig",
	                             "cache", NULL);
	GDir *d = g_dir_open(dir, 0, NULL);
	char *found = NULL;
	const char *name;
	while (d && (name = g_dir_read_name(d)) != NULL)
		if (strstr(name, ".cache-") && !found)
			found = g_build_filename(dir, name, NULL);
	if (d)
		g_dir_close(d);
	g_free(dir);
	return found;
}

/* The manifest's fonts load through fontconfig's folder cache: the first
 * run writes one cache file, later runs read it without rewriting it (same
 * inode and mtime), and text still finds the same faces. A font slipped into
 * the private folder of links is removed before use (only manifest fonts),
 * and a new manifest (another checksum) gets a folder of its own. */
static void test_fontconfig_cache(void)
{
	char *dir = tu_scratch("fonts-fccache");
	char *src = g_build_filename(fonts_dir(), "FandolFang-Regular.otf", NULL);
	char *font = g_build_filename(dir, "Fang.otf", NULL);
	copy_file(src, font);
	cp_error *err = NULL;
	char *sha = cp_fonts_sha256_file(font, &err);
	char *text = g_strdup_printf("Fang.otf %s test copy\n", sha);
	g_free(tu_write(dir, "fonts.manifest", text));
	g_free(text);
	cp_fonts *f = cp_fonts_new(dir, NULL, &err);
	tu_assert_no_error(err);
	g_assert_true(cp_fonts_from_cache(f));
	cp_fonts_free(f);
	char *cache = fc_cache_file();
	g_assert_nonnull(cache);
	GStatBuf st1, st2;
	g_assert_cmpint(g_stat(cache, &st1), ==, 0);
	f = cp_fonts_new(dir, NULL, &err);
	tu_assert_no_error(err);
	g_assert_true(cp_fonts_from_cache(f));
	char *fam = cp_fonts_family_for(f, "FandolFang", "证");
	g_assert_cmpstr(fam, ==, "FandolFang");
	g_free(fam);
	/* Hei is not in this manifest */
	fam = cp_fonts_family_for(f, "FandolHei", "A");
	g_assert_cmpstr(fam, ==, "FandolFang");
	g_free(fam);
	cp_fonts_free(f);
	g_assert_cmpint(g_stat(cache, &st2), ==, 0);
	g_assert_cmpuint(st1.st_ino, ==, st2.st_ino);
	g_assert_cmpint(st1.st_mtime, ==, st2.st_mtime);

	/* Find our folder of links and slip a foreign font into it. */
	char *root = g_build_filename(g_get_user_cache_dir(), "certpress", "fontconfig", NULL);
	GDir *d = g_dir_open(root, 0, NULL);
	g_assert_nonnull(d);
	char *ours = NULL;
	const char *name;
	while ((name = g_dir_read_name(d)) != NULL) {
		char *full = g_build_filename(root, name, "000-Fang.otf", NULL);
		char *to = g_file_read_link(full, NULL);
		char *canon = g_canonicalize_filename(font, NULL);
		if (to && strcmp(to, canon) == 0)
			ours = g_build_filename(root, name, NULL);
		g_free(canon);
		g_free(to);
		g_free(full);
	}
	g_dir_close(d);
	g_assert_nonnull(ours);
	char *hei = g_build_filename(fonts_dir(), "FandolHei-Bold.otf", NULL);
	char *intruder = g_build_filename(ours, "001-Hei.otf", NULL);
	g_assert_cmpint(symlink(hei, intruder), ==, 0);
	f = cp_fonts_new(dir, NULL, &err);
	tu_assert_no_error(err);
	g_assert_true(cp_fonts_from_cache(f));
	g_assert_false(g_file_test(intruder, G_FILE_TEST_EXISTS));
	fam = cp_fonts_family_for(f, "FandolHei", "A");
	g_assert_cmpstr(fam, ==, "FandolFang");
	g_free(fam);
	cp_fonts_free(f);

	/* Another font under the same name: a new checksum, a new folder. */
	copy_file(hei, font);
	g_free(sha);
	sha = cp_fonts_sha256_file(font, &err);
	text = g_strdup_printf("Fang.otf %s now Hei\n", sha);
	g_free(tu_write(dir, "fonts.manifest", text));
	g_free(text);
	f = cp_fonts_new(dir, NULL, &err);
	tu_assert_no_error(err);
	fam = cp_fonts_family_for(f, "FandolFang", "A");
	g_assert_cmpstr(fam, ==, "FandolHei");
	g_free(fam);
	cp_fonts_free(f);

	g_free(intruder);
	g_free(hei);
	g_free(ours);
	g_free(root);
	g_free(cache);
	g_free(sha);
	g_free(font);
	g_free(src);
	g_free(dir);
}

int main(int argc, char **argv)
{
	/* Keep the checksum cache inside the build tree; must precede the
	 * first g_get_user_cache_dir() call, which caches the answer. */
	if (!g_getenv("CP_TEST_PARENT_CACHE")) { /* test_table_mapped()'s subprocess */
		char *cache = tu_scratch("fonts-cache-home");
		g_setenv("XDG_CACHE_HOME", cache, TRUE);
		g_free(cache);
	}
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/fonts/manifest", test_manifest_parse);
	g_test_add_func("/fonts/checksum-cache", test_checksum_and_cache);
	g_test_add_func("/fonts/fontconfig-cache", test_fontconfig_cache);
	g_test_add_func("/fonts/fallback", test_fallback);
	g_test_add_func("/fonts/names", test_names_have_glyphs);
	g_test_add_func("/fonts/bold", test_bold);
	g_test_add_func("/fonts/tables-read", test_tables_read);
	g_test_add_func("/fonts/probe", test_probe);
	g_test_add_func("/fonts/cff-head", test_cff_head);
	/* before /fonts/table-mapped, which spoils the cache file under the
	 * faces this process keeps open */
	g_test_add_func("/fonts/table-pieces", test_table_mapped_pieces);
	g_test_add_func("/fonts/table-pieces-bounded", test_table_pieces_bounded);
	g_test_add_func("/fonts/table-mapped", test_table_mapped);
	g_test_add_func("/fonts/table-mapped/fresh", test_table_mapped_fresh);
	return g_test_run();
}
