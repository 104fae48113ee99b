/* SPDX-License-Identifier: MIT */
#include "layout/fonts.h"

#include <cairo.h>
#include <errno.h>
#include <fcntl.h>
#include <fontconfig/fontconfig.h>
#include <ft2build.h>
#include FT_FREETYPE_H
#include <fontconfig/fcfreetype.h> /* after fontconfig.h and FreeType */
#include <glib.h>
#include <glib/gstdio.h>
#include <pango/pangofc-fontmap.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "input/conf.h"
#include "layout/cffhead.h"
#include "layout/tablemap.h"
#include "error.h"
#include "i18n.h"

struct cp_fonts {
	char *dir;
	PangoFontMap *map;
	cairo_font_options_t *options;
	size_t hashed;
	bool cached;      /* fonts loaded through fontconfig's folder cache */
	GHashTable *charsets; /* "family\tweight" → FcCharSet* (owned), or a
	                         placeholder when fontconfig has no such family */
};

/* ------------------------------------------------------------- manifest */

void cp_font_manifest_free(cp_font_manifest *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++) {
		g_free(m->entries[i].file);
		g_free(m->entries[i].path);
		g_free(m->entries[i].sha256);
		g_free(m->entries[i].note);
	}
	g_free(m->entries);
	g_free(m->path);
	g_free(m);
}

static bool is_sha256(const char *s)
{
	if (strlen(s) != 64)
		return false;
	for (const char *p = s; *p; p++)
		if (!g_ascii_isxdigit(*p))
			return false;
	return true;
}

cp_font_manifest *cp_font_manifest_load(const char *fonts_dir, cp_error **err)
{
	char *path = g_build_filename(fonts_dir, CP_FONTS_MANIFEST, NULL);
	char *text = NULL;
	size_t len = 0;
	cp_error *re = NULL;
	if (!cp_conf_read_file(path, CP_CONF_MAX_BYTES, &text, &len, &re)) {
		/* The fonts are part of the installation: without the list no
		 * output can be trusted, hence a font error, not a plain I/O one. */
		cp_set_error(err, CP_E_FONT, path, 0, 0, NULL,
		             _("cannot read the font manifest: %s"), re->message);
		cp_error_free(re);
		g_free(path);
		return NULL;
	}
	cp_font_manifest *m = g_new0(cp_font_manifest, 1);
	m->path = path;
	if (!g_utf8_validate(text, (gssize)len, NULL) || memchr(text, '\0', len)) {
		cp_set_error(err, CP_E_PARSE, path, 0, 0, NULL,
		             _("the font manifest is not UTF-8 text"));
		goto fail;
	}
	char **lines = g_strsplit(text, "\n", -1);
	for (long ln = 0; lines[ln]; ln++) {
		char *l = g_strstrip(lines[ln]);
		if (*l == '\0' || *l == '#')
			continue;
		char **w = g_regex_split_simple("[ \t]+", l, 0, 0);
		guint nw = g_strv_length(w);
		if (nw < 2) {
			cp_set_error(err, CP_E_PARSE, path, ln + 1, 0, NULL,
			             _("expected 'file sha256 [note]'"));
			g_strfreev(w);
			g_strfreev(lines);
			goto fail;
		}
		if (!is_sha256(w[1])) {
			cp_set_error(err, CP_E_PARSE, path, ln + 1, 0, NULL,
			             _("'%s' is not a SHA-256 checksum (64 hex digits)"), w[1]);
			g_strfreev(w);
			g_strfreev(lines);
			goto fail;
		}
		if (m->n >= CP_FONTS_MAX_ENTRIES) {
			cp_set_error(err, CP_E_PARSE, path, ln + 1, 0, NULL,
			             _("more than %d fonts in the manifest"), CP_FONTS_MAX_ENTRIES);
			g_strfreev(w);
			g_strfreev(lines);
			goto fail;
		}
		m->entries = g_renew(cp_font_entry, m->entries, m->n + 1);
		cp_font_entry *e = &m->entries[m->n++];
		e->file = g_strdup(w[0]);
		e->path = g_path_is_absolute(w[0]) ? g_strdup(w[0])
		                                   : g_build_filename(fonts_dir, w[0], NULL);
		e->sha256 = g_ascii_strdown(w[1], -1);
		e->note = nw > 2 ? g_strjoinv(" ", w + 2) : g_strdup("");
		e->line = ln + 1;
		g_strfreev(w);
	}
	g_strfreev(lines);
	if (m->n == 0) {
		cp_set_error(err, CP_E_FONT, path, 0, 0, NULL,
		             _("the font manifest lists no fonts"));
		goto fail;
	}
	g_free(text);
	return m;
fail:
	g_free(text);
	cp_font_manifest_free(m);
	return NULL;
}

char *cp_fonts_sha256_file(const char *path, cp_error **err)
{
	FILE *fp = fopen(path, "rb");
	if (!fp) {
		cp_set_error(err, CP_E_IO, path, 0, 0, NULL, _("cannot read: %s"),
		             g_strerror(errno));
		return NULL;
	}
	GChecksum *ck = g_checksum_new(G_CHECKSUM_SHA256);
	enum { CHUNK = 1 << 20 };
	guchar *buf = g_malloc(CHUNK);
	size_t n;
	while ((n = fread(buf, 1, CHUNK, fp)) > 0)
		g_checksum_update(ck, buf, n);
	bool bad = ferror(fp);
	int saved = errno;
	fclose(fp);
	g_free(buf);
	if (bad) {
		g_checksum_free(ck);
		cp_set_error(err, CP_E_IO, path, 0, 0, NULL, _("cannot read: %s"),
		             g_strerror(saved));
		return NULL;
	}
	char *hex = g_strdup(g_checksum_get_string(ck));
	g_checksum_free(ck);
	return hex;
}

/* ------------------------------------------------------ checksum cache */

/* One line per verified file: "sha256 size mtime_ns path". The path comes
 * last so that it may hold blanks. */
typedef struct cache_rec {
	char sha[65];
	gint64 size, mtime;
} cache_rec;

static char *cache_path(void)
{
	return g_build_filename(g_get_user_cache_dir(), "certpress", "fonts-verified",
	                        NULL);
}

static GHashTable *cache_read(void)
{
	GHashTable *h = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	char *p = cache_path();
	char *text = NULL;
	gsize len = 0;
	/* Anything odd in the cache only means "not verified yet". */
	if (g_file_get_contents(p, &text, &len, NULL) && len < (1u << 20)) {
		char **lines = g_strsplit(text, "\n", -1);
		for (char **l = lines; *l; l++) {
			char sha[65];
			gint64 size, mtime;
			int off = 0;
			if (sscanf(*l, "%64s %" G_GINT64_FORMAT " %" G_GINT64_FORMAT " %n",
			           sha, &size, &mtime, &off) != 3 || off <= 0 ||
			    !is_sha256(sha) || (*l)[off] == '\0')
				continue;
			cache_rec *r = g_new(cache_rec, 1);
			memcpy(r->sha, sha, sizeof r->sha);
			r->size = size;
			r->mtime = mtime;
			g_hash_table_replace(h, g_strdup(*l + off), r);
		}
		g_strfreev(lines);
	}
	g_free(text);
	g_free(p);
	return h;
}

static void cache_write(GHashTable *h)
{
	GString *s = g_string_new("# certpress: font files whose SHA-256 was verified\n");
	GHashTableIter it;
	gpointer k, v;
	g_hash_table_iter_init(&it, h);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		const cache_rec *r = v;
		if (strchr(k, '\n'))
			continue;
		g_string_append_printf(s, "%s %" G_GINT64_FORMAT " %" G_GINT64_FORMAT " %s\n",
		                       r->sha, r->size, r->mtime, (const char *)k);
	}
	char *p = cache_path();
	char *dir = g_path_get_dirname(p);
	if (g_mkdir_with_parents(dir, 0700) == 0)
		g_file_set_contents(p, s->str, (gssize)s->len, NULL);
	g_free(dir);
	g_free(p);
	g_string_free(s, TRUE);
}

static gint64 mtime_ns(const struct stat *st)
{
	return (gint64)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

/* Verifies one font. Returns false with CP_E_FONT naming the file. */
static bool verify(const cp_font_manifest *m, const cp_font_entry *e, GHashTable *cache,
                   bool *cache_dirty, size_t *hashed, cp_error **err)
{
	struct stat st;
	if (g_stat(e->path, &st) != 0 || !S_ISREG(st.st_mode)) {
		cp_set_error(err, CP_E_FONT, m->path, e->line, 0, NULL,
		             _("font file %s is missing%s%s"), e->path,
		             *e->note ? _("; it is provided by ") : "", e->note);
		return false;
	}
	char *abs = g_canonicalize_filename(e->path, NULL);
	const cache_rec *c = g_hash_table_lookup(cache, abs);
	if (c && c->size == (gint64)st.st_size && c->mtime == mtime_ns(&st) &&
	    strcmp(c->sha, e->sha256) == 0) {
		g_free(abs);
		return true;
	}
	cp_error *ioerr = NULL;
	char *sha = cp_fonts_sha256_file(e->path, &ioerr);
	(*hashed)++;
	if (!sha) {
		cp_set_error(err, CP_E_FONT, m->path, e->line, 0, NULL,
		             _("font file %s cannot be read: %s"), e->path, ioerr->message);
		cp_error_free(ioerr);
		g_free(abs);
		return false;
	}
	if (strcmp(sha, e->sha256) != 0) {
		cp_set_error(err, CP_E_FONT, m->path, e->line, 0, NULL,
		             _("font file %s is not the pinned one: its SHA-256 is %s, "
		               "the manifest expects %s"), e->path, sha, e->sha256);
		g_free(sha);
		g_free(abs);
		return false;
	}
	cache_rec *r = g_new(cache_rec, 1);
	memcpy(r->sha, sha, sizeof r->sha);
	r->size = (gint64)st.st_size;
	r->mtime = mtime_ns(&st);
	g_hash_table_replace(cache, abs, r);
	*cache_dirty = true;
	g_free(sha);
	return true;
}

/* ------------------------------------------------- fontconfig cache */

/* FcConfigAppFontAddFile() has no cache: every run rescanned every face of
 * the big CJK collections (about half a second). Fontconfig caches whole
 * folders, so the manifest's fonts are put in a private folder of symbolic
 * links, named after a hash of the manifest (paths, checksums) and the scan
 * rules: any change of font gives a new folder, scanned once. Fontconfig
 * trusts a folder cache while the folder's mtime is unchanged; ours is built
 * once, atomically, and checked to hold exactly the expected links before
 * each use. The font files themselves were verified against the manifest
 * just before. */
#define FONTDIR_VERSION "certpress-fontdir-1"

static char *link_name(size_t i, const char *path)
{
	char *base = g_path_get_basename(path);
	/* The number keeps the manifest's order (fontconfig scans a folder in
	 * name order) and tells apart two fonts of the same name. */
	char *name = g_strdup_printf("%03zu-%s", i, base);
	g_free(base);
	return name;
}

/* True when dir holds exactly one link per manifest font, each to its
 * canonical path, and nothing else. */
static bool fontdir_ok(const char *dir, const cp_font_manifest *m, char *const *targets)
{
	GDir *d = g_dir_open(dir, 0, NULL);
	if (!d)
		return false;
	size_t seen = 0;
	bool ok = true;
	const char *name;
	while (ok && (name = g_dir_read_name(d)) != NULL) {
		char *end;
		guint64 i = g_ascii_strtoull(name, &end, 10);
		char *want = i < m->n && *end == '-' ? link_name(i, m->entries[i].path) : NULL;
		char *full = g_build_filename(dir, name, NULL);
		char *to = want && strcmp(want, name) == 0 ? g_file_read_link(full, NULL) : NULL;
		ok = to && strcmp(to, targets[i]) == 0;
		seen += ok;
		g_free(to);
		g_free(full);
		g_free(want);
	}
	g_dir_close(d);
	return ok && seen == m->n;
}

static void remove_dir(const char *dir)
{
	GDir *d = g_dir_open(dir, 0, NULL);
	if (d) {
		const char *name;
		while ((name = g_dir_read_name(d)) != NULL) {
			char *full = g_build_filename(dir, name, NULL);
			g_unlink(full);
			g_free(full);
		}
		g_dir_close(d);
	}
	g_rmdir(dir);
}

/* certpress's own fontconfig folder, lexically canonical as fontconfig
 * records FC_FILE (add_cached() looks each link up there). g_free. */
static char *fontconfig_root(void)
{
	char *cache_root = g_build_filename(g_get_user_cache_dir(), "certpress", "fontconfig",
	                                    NULL);
	char *root = g_canonicalize_filename(cache_root, NULL);
	g_free(cache_root);
	return root;
}

/* Gives cfg a folder for the caches fontconfig writes of every folder it
 * scans (the manifest's links, --font-dir): without one it complains on
 * stderr, "No writable cache directories", and scans again next time.
 * False when the folder cannot be made (read-only home …). */
static bool use_cachedir(FcConfig *cfg)
{
	char *root = fontconfig_root();
	char *cachedir = g_build_filename(root, "cache", NULL);
	char *esc = g_markup_escape_text(cachedir, -1);
	char *xml = g_strdup_printf("<?xml version=\"1.0\"?><!DOCTYPE fontconfig SYSTEM "
	                            "\"fonts.dtd\"><fontconfig><cachedir>%s</cachedir>"
	                            "</fontconfig>", esc);
	bool ok = g_mkdir_with_parents(cachedir, 0700) == 0 &&
	          FcConfigParseAndLoadFromMemory(cfg, (const FcChar8 *)xml, FcTrue);
	g_free(xml);
	g_free(esc);
	g_free(cachedir);
	g_free(root);
	return ok;
}

/* Returns the folder of links (g_free), or NULL when the cache folder
 * cannot be used (read-only home …): the caller then loads the files one
 * by one. */
static char *fontdir_prepare(const cp_font_manifest *m, const char *rules)
{
	char **targets = g_new0(char *, m->n + 1);
	GChecksum *ck = g_checksum_new(G_CHECKSUM_SHA256);
	g_checksum_update(ck, (const guchar *)FONTDIR_VERSION "\n", -1);
	g_checksum_update(ck, (const guchar *)rules, -1);
	for (size_t i = 0; i < m->n; i++) {
		targets[i] = g_canonicalize_filename(m->entries[i].path, NULL);
		char *line = g_strdup_printf("\n%s\t%s", m->entries[i].sha256, targets[i]);
		g_checksum_update(ck, (const guchar *)line, -1);
		g_free(line);
	}
	char key[33];
	g_strlcpy(key, g_checksum_get_string(ck), sizeof key);
	g_checksum_free(ck);
	char *root = fontconfig_root();
	char *dir = g_build_filename(root, key, NULL);
	char *tmp = NULL;
	bool ok = false;
	if (g_mkdir_with_parents(root, 0700) != 0)
		goto out;
	for (int attempt = 0; attempt < 2 && !ok; attempt++) {
		if (fontdir_ok(dir, m, targets)) {
			ok = true;
			break;
		}
		/* Missing, half-made or tampered with: made anew beside it and
		 * renamed into place, so no reader ever sees a partial folder. */
		if (g_file_test(dir, G_FILE_TEST_EXISTS))
			remove_dir(dir);
		g_free(tmp);
		tmp = g_build_filename(root, "tmp-XXXXXX", NULL);
		if (!g_mkdtemp_full(tmp, 0700))
			goto out;
		bool made = true;
		for (size_t i = 0; i < m->n && made; i++) {
			char *name = link_name(i, m->entries[i].path);
			char *full = g_build_filename(tmp, name, NULL);
			made = symlink(targets[i], full) == 0;
			g_free(full);
			g_free(name);
		}
		if (made && rename(tmp, dir) == 0) {
			ok = fontdir_ok(dir, m, targets);
		} else {
			/* Another process may have won the race: look again. */
			remove_dir(tmp);
		}
	}
out:
	g_free(tmp);
	g_strfreev(targets);
	if (!ok) {
		g_free(dir);
		g_free(root);
		return NULL;
	}
	g_free(root);
	return dir;
}

/* Adds the manifest's fonts through the cached folder (when use_cachedir()
 * gave cfg its cache folder: cachedir). Returns 1 when done,
 * 0 when that cannot be set up (nothing added: load the files one by one),
 * -1 with CP_E_FONT when a manifest file gave no font, as
 * FcConfigAppFontAddFile() would have failed for it. */
static int add_cached(FcConfig *cfg, bool cachedir, const cp_font_manifest *m,
                      const char *rules, cp_error **err)
{
	char *dir = cachedir ? fontdir_prepare(m, rules) : NULL;
	if (!dir)
		return 0;
	int ret = FcConfigAppFontAddDir(cfg, (const FcChar8 *)dir);
	if (ret) {
		/* Every link must have given at least one face. */
		GHashTable *files = g_hash_table_new(g_str_hash, g_str_equal);
		FcFontSet *set = FcConfigGetFonts(cfg, FcSetApplication);
		for (int i = 0; set && i < set->nfont; i++) {
			FcChar8 *file;
			if (FcPatternGetString(set->fonts[i], FC_FILE, 0, &file) == FcResultMatch)
				g_hash_table_add(files, file);
		}
		for (size_t i = 0; i < m->n && ret > 0; i++) {
			char *name = link_name(i, m->entries[i].path);
			char *full = g_build_filename(dir, name, NULL);
			if (!g_hash_table_contains(files, full)) {
				cp_set_error(err, CP_E_FONT, m->path, m->entries[i].line, 0, NULL,
				             _("font file %s cannot be loaded"), m->entries[i].path);
				ret = -1;
			}
			g_free(full);
			g_free(name);
		}
		g_hash_table_destroy(files);
	}
	g_free(dir);
	return ret;
}

/* How the faces of the fallback chain are matched to FandolFang, measured
 * with bench/fontmatch (docs/fonts.md, "Matching the fallback face"): at
 * 12 pt FandolFang's mean stroke is 0.372 pt, its box characters' ink is
 * 9.587 pt high with its centre 0.2959 em above the baseline. Noto Serif CJK
 * SC ExtraLight (0.405 pt, 10.157 pt) is the weight nearest by stroke; at
 * 0.944 of the size its ink is as high as FandolFang's and its stroke
 * 0.382 pt. HanaMin (measured on HanaMinA; HanaMinB has none of the
 * reference characters, and over the Extension B characters both have the
 * two measure the same) has 9.969 pt of ink. */
static const struct face_match {
	const char *family;
	PangoWeight weight;
	double scale, rise;
} matches[] = {
	{"Noto Serif CJK SC", PANGO_WEIGHT_ULTRALIGHT, 0.9439, -0.0429},
	{"HanaMinA", PANGO_WEIGHT_NORMAL, 0.9617, -0.0486},
	{"HanaMinB", PANGO_WEIGHT_NORMAL, 0.9617, -0.0486},
};

/* ------------------------------------------------- faces read, not mapped */

/* Cairo copies a CFF font's whole table when a PDF first uses the face and
 * again when it subsets it. FreeType opens a font file by mapping it, so each
 * copy also makes every page of the file resident in the process: for Noto
 * Serif CJK SC, the fallback of rare characters, 23 MB on top of the 20 MB
 * copy, kept for the rest of the run, for what 2 % of the pages use. The
 * CFF faces that fields and the layer use (the fallback faces of matches[]
 * and every font file of one face, the Fandol faces) are therefore opened
 * by certpress on a FreeType stream that reads with pread(): the copies
 * remain (transient, from mmap since main.c's M_MMAP_THRESHOLD), the file's
 * pages stay in the page cache and out of the process. Fontconfig's
 * patterns of those faces carry the FT_Face (FC_FT_FACE), which Cairo then
 * uses instead of opening the file; the glyphs, metrics and subsets are the
 * file's own. The faces live as long as the process: Cairo's caches key
 * them by address.
 *
 * A table read whole lands in a block Cairo has just allocated, never
 * touched: every 4 KB page of it faults in, zeroed, then is unmapped when
 * Cairo frees it, 144 MB of them for a 1,000-certificate PDF (the fallback
 * face's 20 MB table four times, a Fandol face's 5-7 MB eight). A face's
 * CFF table of 2 MB and more is therefore mapped there from a copy in the
 * user's cache folder where it can be (src/layout/tablemap.c: only the
 * pages Cairo reads are touched, none is copied or zeroed), and the
 * probe below spares most reads. Where a table is still read, asking for
 * transparent huge pages there (MADV_HUGEPAGE, on the 2 MB-aligned span
 * inside the block only: a hint about paging, nothing Cairo can see) makes
 * that one fault per 2 MB: 0.325 → 0.286 s for that PDF, 0.49 → 0.46 s of
 * CPU, with the fallback face alone (bench/README.md). Where the kernel
 * gives huge pages to every mapping, or none, the call changes nothing. */

/* Reads at least this much at once: a whole table (see above); a CFF
 * table as large is mapped when it can be. */
#define HUGE_READ (2u << 20)

/* FreeType reads a stream two or three bytes at a time where it walks a
 * table (a CFF face's charset and index offsets, each glyph's charstring,
 * here and there in the file): 29,000 pread() calls for a 1,000-certificate
 * PDF. Short reads are served from the stream's own cache of the file's
 * 4 KB blocks (32 of them, a block in the slot its number picks); whole
 * tables are read straight into the caller's block. A single window read
 * ahead missed as often as not (FreeType goes back and forth between a
 * glyph's offset, its charstring and the metrics); copying the short reads
 * from a mapping of the file made 10 MB more of it resident, each page
 * fault mapping the 64 KB around it. Cairo holds a face's lock whenever
 * FreeType uses it, so a stream is read by one thread at a time; the lock
 * here makes that certain. */
#define BLOCK 4096u
#define BLOCKS 32u
#define CACHED_READ (4 * BLOCK) /* shorter reads go through the blocks */

typedef struct read_stream {
	FT_StreamRec st; /* first: FreeType is given &st */
	unsigned long cff_at, cff_len; /* the face's CFF table in the file, or 0, 0 */
	cp_table_map *cff_map;         /* for reading it whole (tablemap.c), or NULL */
	GMutex lock;
	unsigned long tag[BLOCKS]; /* the block number + 1 each slot holds, or 0 */
	unsigned len[BLOCKS];      /* its bytes: BLOCK, fewer at the end of the file */
	unsigned char data[BLOCKS][BLOCK];
} read_stream;

static void want_huge_pages(unsigned char *buf, unsigned long count)
{
#ifdef MADV_HUGEPAGE
	if (count < HUGE_READ)
		return;
	uintptr_t lo = ((uintptr_t)buf + HUGE_READ - 1) & ~(uintptr_t)(HUGE_READ - 1);
	uintptr_t hi = ((uintptr_t)buf + count) & ~(uintptr_t)(HUGE_READ - 1);
	if (hi > lo)
		(void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
#else
	(void)buf;
	(void)count;
#endif
}

/* count bytes of fd from offset into buf, fewer at the end of the file. */
static unsigned long pread_all(int fd, unsigned char *buf, unsigned long count,
                               unsigned long offset)
{
	return (unsigned long)cp_pread_full(fd, buf, count, (off_t)offset);
}

/* Cairo 1.16 reads a CFF face's whole table twice a document: to subset it
 * when the document is finished, and before, when a page first uses the
 * face, only to learn whether it is CID-keyed
 * (_cairo_cff_scaled_font_is_cid_cff(), called by the page's font subsets
 * for each new face): it looks at the table's header, skips the Name INDEX
 * and reads the first Top DICT, then frees the block. That is half the
 * copies (72 MB for a 1,000-certificate PDF) and the block's pages (never
 * touched when they are not read: untouched pages of a fresh mapping cost
 * nothing). While pdf.c writes a page out (cp_fonts_probe_begin()), a read
 * of a face's whole CFF table on this thread fills in only the first
 * PROBE_READ bytes, when they hold the header, the Name INDEX and the Top
 * DICT INDEX; anything else, and every read under another Cairo, is
 * served whole (mapped or read, above). tests/test_fonts.c checks that the PDF is the same either way. */
#define PROBE_READ (64u << 10)

static _Thread_local bool probing;
static gint probed; /* atomic */

size_t cp_fonts_probed_count(void)
{
	return (size_t)g_atomic_int_get(&probed);
}

void cp_fonts_probe_begin(void)
{
	probing = cairo_version() >= CAIRO_VERSION_ENCODE(1, 16, 0) &&
	          cairo_version() < CAIRO_VERSION_ENCODE(1, 17, 0);
}

void cp_fonts_probe_end(void)
{
	probing = false;
}

/* The face's CFF table in fd (face index of a collection): its place in
 * rs, or 0, 0 when the file's table directory is not in its first 64 KB. */
static void find_cff(read_stream *rs, int fd, int index)
{
	unsigned char *head = g_malloc(PROBE_READ);
	unsigned long got = pread_all(fd, head, PROBE_READ, 0);
	uint32_t at, n;
	if (cp_sfnt_table(head, got, index, "CFF ", &at, &n)) {
		rs->cff_at = at;
		rs->cff_len = n;
	}
	g_free(head);
}

static unsigned long stream_read(FT_Stream st, unsigned long offset, unsigned char *buf,
                                 unsigned long count)
{
	if (count == 0) /* a seek: FreeType asks whether offset is inside */
		return offset > st->size ? 1 : 0;
	int fd = (int)st->descriptor.value;
	read_stream *rs = (read_stream *)st;
	if (probing && count > PROBE_READ && offset == rs->cff_at && count == rs->cff_len) {
		unsigned long got = pread_all(fd, buf, PROBE_READ, offset);
		if (got == PROBE_READ && cp_cff_head_end(buf, got) != 0) {
			g_atomic_int_inc(&probed);
			return count; /* the rest is not read (see above) */
		}
		if (got < PROBE_READ)
			return got;
		/* read whole, below */
	}
	if (rs->cff_map && offset == rs->cff_at && count == rs->cff_len) {
		g_mutex_lock(&rs->lock);
		bool filled = cp_table_map_fill(rs->cff_map, buf);
		g_mutex_unlock(&rs->lock);
		if (filled)
			return count;
	}
	if (count >= CACHED_READ) {
		want_huge_pages(buf, count);
		return pread_all(fd, buf, count, offset);
	}
	unsigned long done = 0;
	g_mutex_lock(&rs->lock);
	while (done < count) {
		unsigned long pos = offset + done, b = pos / BLOCK, in = pos % BLOCK;
		unsigned slot = (unsigned)(b % BLOCKS);
		if (rs->tag[slot] != b + 1) {
			rs->len[slot] = (unsigned)pread_all(fd, rs->data[slot], BLOCK, b * BLOCK);
			/* kept only when whole or the end of the file: a read that
			 * failed is tried again next time */
			bool whole = rs->len[slot] == BLOCK || b * BLOCK + rs->len[slot] == st->size;
			rs->tag[slot] = whole ? b + 1 : 0;
		}
		if (in >= rs->len[slot])
			break;
		unsigned long n = MIN(count - done, rs->len[slot] - in);
		memcpy(buf + done, rs->data[slot] + in, n);
		done += n;
	}
	g_mutex_unlock(&rs->lock);
	return done;
}

static GMutex read_faces_lock;
static FT_Library read_faces_lib;
static GHashTable *read_faces; /* "index\tpath" → FT_Face */

/* The face index of path, opened on a pread() stream; NULL when it cannot
 * be (the pattern then keeps the file, as before). */
static FT_Face read_face(const char *path, int index)
{
	g_mutex_lock(&read_faces_lock);
	if (!read_faces) {
		if (FT_Init_FreeType(&read_faces_lib) != 0) {
			g_mutex_unlock(&read_faces_lock);
			return NULL;
		}
		read_faces = g_hash_table_new(g_str_hash, g_str_equal);
	}
	char *key = g_strdup_printf("%d\t%s", index, path);
	FT_Face face = g_hash_table_lookup(read_faces, key);
	if (face) {
		g_free(key);
		g_mutex_unlock(&read_faces_lock);
		return face;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat sb;
	if (fd < 0 || fstat(fd, &sb) != 0) {
		if (fd >= 0)
			close(fd);
		g_free(key);
		g_mutex_unlock(&read_faces_lock);
		return NULL;
	}
	read_stream *rs = g_new0(read_stream, 1);
	g_mutex_init(&rs->lock);
	find_cff(rs, fd, index);
	if (rs->cff_len >= HUGE_READ)
		rs->cff_map = cp_table_map_new(fd, path, index, &sb, rs->cff_at, rs->cff_len);
	FT_Stream st = &rs->st;
	st->descriptor.value = fd;
	st->size = (unsigned long)sb.st_size;
	st->read = stream_read;
	FT_Open_Args args = {.flags = FT_OPEN_STREAM, .stream = st};
	if (FT_Open_Face(read_faces_lib, &args, index, &face) != 0) {
		cp_table_map_free(rs->cff_map);
		close(fd);
		g_mutex_clear(&rs->lock);
		g_free(rs);
		g_free(key);
		g_mutex_unlock(&read_faces_lock);
		return NULL;
	}
	g_hash_table_insert(read_faces, key, face);
	g_mutex_unlock(&read_faces_lock);
	return face;
}

/* True when no other face of set comes from file: a font file of one
 * face, not a collection. */
static bool only_face(const FcFontSet *set, const FcChar8 *file)
{
	int n = 0;
	for (int i = 0; i < set->nfont && n < 2; i++) {
		FcChar8 *f;
		if (FcPatternGetString(set->fonts[i], FC_FILE, 0, &f) == FcResultMatch &&
		    strcmp((const char *)f, (const char *)file) == 0)
			n++;
	}
	return n == 1;
}

/* Gives the CFF faces of the fallback chain matched to FandolFang and those
 * of font files of one face in cfg's application fonts their read_face()
 * (see above). */
static void use_read_faces(FcConfig *cfg)
{
	FcFontSet *set = FcConfigGetFonts(cfg, FcSetApplication);
	for (int i = 0; set && i < set->nfont; i++) {
		FcPattern *p = set->fonts[i];
		FcChar8 *file, *format, *fam;
		int index = 0;
		if (FcPatternGetString(p, FC_FILE, 0, &file) != FcResultMatch ||
		    FcPatternGetString(p, FC_FONTFORMAT, 0, &format) != FcResultMatch ||
		    strcmp((const char *)format, "CFF") != 0)
			continue;
		FcPatternGetInteger(p, FC_INDEX, 0, &index);
		/* Of a collection, only the faces matched to FandolFang
		 * (matches[], the ones fields use): opening a CID-keyed face on
		 * a stream costs some 3 MB of FreeType's tables, worth it for a
		 * face whose file would otherwise be mapped whole, not for the
		 * other faces of Noto's collections, which no field uses. A file
		 * of one face (the Fandol faces, an organization's own) is
		 * there to be used. */
		int weight = -1;
		FcPatternGetInteger(p, FC_WEIGHT, 0, &weight);
		bool fallback = only_face(set, file);
		for (int f = 0; !fallback && FcPatternGetString(p, FC_FAMILY, f, &fam) == FcResultMatch; f++)
			for (size_t m = 0; m < G_N_ELEMENTS(matches) && !fallback; m++)
				fallback = g_ascii_strcasecmp(matches[m].family, (const char *)fam) == 0 &&
				           (int)FcWeightFromOpenType((int)matches[m].weight) == weight;
		if (!fallback)
			continue;
		FT_Face face = read_face((const char *)file, index);
		FcPattern *dup = face ? FcPatternDuplicate(p) : NULL;
		if (!dup)
			continue;
		if (!FcPatternAddFTFace(dup, FC_FT_FACE, face)) {
			FcPatternDestroy(dup);
			continue;
		}
		set->fonts[i] = dup;
		FcPatternDestroy(p);
	}
}

/* ---------------------------------------------------------------- fonts */

void cp_fonts_free(cp_fonts *f)
{
	if (!f)
		return;
	if (f->map) {
		/* Pango (1.50) takes a reference on the configuration in
		 * set_config() and never drops it when the map is finalized:
		 * every cp_fonts_new()/free() pair leaked the whole scanned font
		 * set (~600 KB here). Handing the configuration back first
		 * releases it; the map is not used again. */
		pango_fc_font_map_set_config(PANGO_FC_FONT_MAP(f->map), NULL);
		g_object_unref(f->map);
	}
	if (f->options)
		cairo_font_options_destroy(f->options);
	if (f->charsets)
		g_hash_table_destroy(f->charsets);
	g_free(f->dir);
	g_free(f);
}

static char *default_dir(void)
{
	return g_build_filename(cp_datadir(), "fonts", NULL);
}

/* fontconfig's default configuration is the machine's (/etc/fonts and every
 * font installed). certpress never asks it for a font: each cp_fonts has a
 * configuration of its own. But Pango (1.50) initializes it for every new font
 * map, on a thread that the map's first use waits for: 3.5 ms of reading the
 * machine's configuration and font caches, before any worker could lay out
 * a page. An empty default configuration, made current once before any font
 * map, is ready at once, and no code path can reach the machine's fonts
 * through it. */
static gpointer empty_default_config(gpointer unused)
{
	(void)unused;
	FcConfig *empty = FcConfigCreate();
	if (empty) {
		FcConfigSetCurrent(empty);
		FcConfigDestroy(empty); /* the current configuration holds it */
	}
	return NULL;
}

cp_fonts *cp_fonts_new(const char *fonts_dir, const char *extra_dir, cp_error **err)
{
	static GOnce once = G_ONCE_INIT;
	g_once(&once, empty_default_config, NULL);
	cp_fonts *f = g_new0(cp_fonts, 1);
	f->dir = fonts_dir ? g_strdup(fonts_dir) : default_dir();
	FcConfig *cfg = NULL;
	GHashTable *cache = NULL;
	cp_font_manifest *m = cp_font_manifest_load(f->dir, err);
	if (!m)
		goto fail;

	cache = cache_read();
	bool dirty = false;
	for (size_t i = 0; i < m->n; i++)
		if (!verify(m, &m->entries[i], cache, &dirty, &f->hashed, err))
			goto fail;
	if (dirty)
		cache_write(cache);

	/* An empty configuration: no system font folders, no user fonts.conf,
	 * so the machine's fonts can never change what is printed. */
	cfg = FcConfigCreate();
	if (!cfg) {
		cp_set_error(err, CP_E_NOMEM, NULL, 0, 0, NULL,
		             _("cannot create a font configuration"));
		goto fail;
	}
	FcConfigSetRescanInterval(cfg, 0);
	/* The Fandol Bold faces declare a regular weight in their OS/2 table,
	 * so fontconfig would never pick them for bold text. Correct it at scan
	 * time, for these faces only. */
	static const char scan_rules[] =
		"<?xml version=\"1.0\"?><!DOCTYPE fontconfig SYSTEM \"fonts.dtd\">"
		"<fontconfig><match target=\"scan\">"
		"<test name=\"style\"><string>Bold</string></test>"
		"<test name=\"weight\" compare=\"less\"><const>bold</const></test>"
		"<edit name=\"weight\" mode=\"assign\"><const>bold</const></edit>"
		"</match></fontconfig>";
	if (!FcConfigParseAndLoadFromMemory(cfg, (const FcChar8 *)scan_rules, FcTrue)) {
		cp_set_error(err, CP_E_FONT, NULL, 0, 0, NULL,
		             _("cannot set up the font configuration"));
		goto fail;
	}
	bool cachedir = use_cachedir(cfg);
	if (extra_dir) {
		if (!g_file_test(extra_dir, G_FILE_TEST_IS_DIR)) {
			cp_set_error(err, CP_E_FONT, extra_dir, 0, 0, NULL,
			             _("the extra font folder does not exist"));
			goto fail;
		}
		if (!FcConfigAppFontAddDir(cfg, (const FcChar8 *)extra_dir)) {
			cp_set_error(err, CP_E_FONT, extra_dir, 0, 0, NULL,
			             _("cannot load fonts from this folder"));
			goto fail;
		}
	}
	int cached = add_cached(cfg, cachedir, m, scan_rules, err);
	if (cached < 0)
		goto fail;
	f->cached = cached > 0;
	for (size_t i = 0; i < m->n && !f->cached; i++) {
		if (!FcConfigAppFontAddFile(cfg, (const FcChar8 *)m->entries[i].path)) {
			cp_set_error(err, CP_E_FONT, m->path, m->entries[i].line, 0, NULL,
			             _("font file %s cannot be loaded"), m->entries[i].path);
			goto fail;
		}
	}
	use_read_faces(cfg);
	f->map = pango_cairo_font_map_new_for_font_type(CAIRO_FONT_TYPE_FT);
	if (!f->map) {
		cp_set_error(err, CP_E_FONT, NULL, 0, 0, NULL,
		             _("cairo has no FreeType font support"));
		goto fail;
	}
	pango_fc_font_map_set_config(PANGO_FC_FONT_MAP(f->map), cfg);
	FcConfigDestroy(cfg);
	cfg = NULL;

	/* Outlines exactly as designed: hinting would move glyphs by device
	 * pixels and make a PNG wrap differently from the PDF. */
	f->options = cairo_font_options_create();
	cairo_font_options_set_hint_style(f->options, CAIRO_HINT_STYLE_NONE);
	cairo_font_options_set_hint_metrics(f->options, CAIRO_HINT_METRICS_OFF);
	cairo_font_options_set_antialias(f->options, CAIRO_ANTIALIAS_GRAY);

	g_hash_table_destroy(cache);
	cp_font_manifest_free(m);
	return f;
fail:
	if (cfg)
		FcConfigDestroy(cfg);
	if (cache)
		g_hash_table_destroy(cache);
	cp_font_manifest_free(m);
	cp_fonts_free(f);
	return NULL;
}

PangoFontMap *cp_fonts_map(cp_fonts *f)
{
	return f->map;
}

const char *cp_fonts_dir(const cp_fonts *f)
{
	return f->dir;
}

bool cp_fonts_from_cache(const cp_fonts *f)
{
	return f->cached;
}

size_t cp_fonts_hashed_count(const cp_fonts *f)
{
	return f->hashed;
}

PangoContext *cp_fonts_context_new(cp_fonts *f)
{
	PangoContext *ctx = pango_font_map_create_context(f->map);
	pango_cairo_context_set_resolution(ctx, 72.0);
	pango_cairo_context_set_font_options(ctx, f->options);
	/* Unrounded positions keep the layout independent of the output's
	 * pixel grid (PDF and PNG agree). */
	pango_context_set_round_glyph_positions(ctx, FALSE);
	pango_context_set_language(ctx, pango_language_from_string("zh-cn"));
	return ctx;
}

PangoFontDescription *cp_fonts_description(const char *font_list, double size_pt,
                                           bool bold)
{
	char *families = g_strdup_printf("%s, %s",
	                                 font_list && *font_list ? font_list
	                                                         : CP_FONTS_DEFAULT_FIELD,
	                                 CP_FONTS_FALLBACK);
	PangoFontDescription *d = pango_font_description_new();
	pango_font_description_set_family(d, families);
	pango_font_description_set_size(d, (gint)(size_pt * PANGO_SCALE + 0.5));
	pango_font_description_set_weight(d, bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
	g_free(families);
	return d;
}

char *cp_fonts_family_for(cp_fonts *f, const char *font_list, const char *text)
{
	PangoContext *ctx = cp_fonts_context_new(f);
	PangoLayout *lay = pango_layout_new(ctx);
	PangoFontDescription *d = cp_fonts_description(font_list, 12, false);
	pango_layout_set_font_description(lay, d);
	pango_layout_set_text(lay, text, -1);
	char *family = NULL;
	PangoLayoutIter *it = pango_layout_get_iter(lay);
	PangoLayoutRun *run = pango_layout_iter_get_run_readonly(it);
	if (run && run->glyphs->num_glyphs > 0 &&
	    !(run->glyphs->glyphs[0].glyph & PANGO_GLYPH_UNKNOWN_FLAG)) {
		PangoFontDescription *fd = pango_font_describe(run->item->analysis.font);
		family = g_strdup(pango_font_description_get_family(fd));
		pango_font_description_free(fd);
	}
	pango_layout_iter_free(it);
	pango_font_description_free(d);
	g_object_unref(lay);
	g_object_unref(ctx);
	return family;
}

/* ------------------------------------------------------- faces of a field */

/* Stands for "fontconfig has no such family" in the charset cache. */
static char no_family;

static void charset_free(gpointer p)
{
	if (p != &no_family)
		FcCharSetDestroy(p);
}

static const void *face_charset(cp_fonts *f, const char *family, PangoWeight weight)
{
	if (!f->charsets)
		f->charsets = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
		                                    charset_free);
	char *key = g_strdup_printf("%s\t%d", family, (int)weight);
	gpointer hit = g_hash_table_lookup(f->charsets, key);
	if (hit) {
		g_free(key);
		return hit == &no_family ? NULL : hit;
	}
	FcConfig *cfg = pango_fc_font_map_get_config(PANGO_FC_FONT_MAP(f->map));
	FcPattern *pat = FcPatternCreate();
	FcPatternAddString(pat, FC_FAMILY, (const FcChar8 *)family);
	FcPatternAddInteger(pat, FC_WEIGHT, (int)FcWeightFromOpenType((int)weight));
	FcConfigSubstitute(cfg, pat, FcMatchPattern);
	FcDefaultSubstitute(pat);
	FcResult res;
	FcPattern *m = FcFontMatch(cfg, pat, &res);
	FcPatternDestroy(pat);
	gpointer val = &no_family;
	/* Fontconfig always answers with some font: it counts only if it is
	 * the family asked for. */
	bool named = false;
	FcChar8 *fam;
	for (int i = 0; m && FcPatternGetString(m, FC_FAMILY, i, &fam) == FcResultMatch; i++)
		named = named || g_ascii_strcasecmp((const char *)fam, family) == 0;
	FcCharSet *cs;
	if (named && FcPatternGetCharSet(m, FC_CHARSET, 0, &cs) == FcResultMatch)
		val = FcCharSetCopy(cs);
	if (m)
		FcPatternDestroy(m);
	g_hash_table_insert(f->charsets, key, val);
	return val == &no_family ? NULL : val;
}

cp_face cp_fonts_face(cp_fonts *f, const char *family, bool bold, bool match_fang)
{
	cp_face face = {.family = g_intern_string(family),
	                .weight = bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL,
	                .scale = 1, .rise = 0};
	for (size_t i = 0; match_fang && !bold && i < G_N_ELEMENTS(matches); i++) {
		if (g_ascii_strcasecmp(matches[i].family, family) != 0)
			continue;
		face.weight = matches[i].weight;
		face.scale = matches[i].scale;
		face.rise = matches[i].rise;
	}
	face.charset = face_charset(f, face.family, face.weight);
	return face;
}

bool cp_face_has(const cp_face *face, gunichar c)
{
	return face->charset && FcCharSetHasChar((FcCharSet *)face->charset, c);
}
