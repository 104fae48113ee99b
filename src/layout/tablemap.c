/* SPDX-License-Identifier: MIT */
#include "layout/tablemap.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <unistd.h>

/* Cairo 1.16 subsets a CFF face by copying its whole CFF table into a
 * block it allocates (FT_Load_Sfnt_Table(), which fonts.c's stream
 * serves), then reads the parts it needs: the header, the INDEXes, the
 * charstrings of the glyphs used, a few hundred KB of 5-20 MB. Each copy
 * makes every page of the block resident, each a fresh page the kernel
 * zeroes first: 34 MB for a 1,000-certificate PDF, about 5 % of its CPU
 * and most of its memory peak (bench/README.md). On a virtual machine a
 * fresh page can cost far more than zeroing: the host may have to find it
 * first.
 *
 * Such a block comes from glibc's own mapping of it (main.c sets
 * M_MMAP_THRESHOLD to 4 MB), 16 bytes into the mapping's first page. A copy
 * of the table kept in a cache file, at the same place in its page, makes
 * each whole page of the block a page of that file: cp_table_map_fill()
 * maps them there (MAP_PRIVATE | MAP_FIXED, over the block's own pages,
 * which nothing has touched yet) and reads the few bytes before and after
 * them from the font file. Cairo then reads the table as before; only the
 * pages it reads are touched, from the page cache, shared, never copied or
 * zeroed. It does not write there (a write would get a private copy of the
 * page, as it would of any page). When Cairo frees the block, glibc unmaps
 * the whole mapping, ours with it. A block anywhere else (another
 * allocator, Valgrind's, a smaller threshold) is read as before.
 *
 * The cache file is certpress's, in the user's cache folder
 * (certpress/cff-tables), one for each face: a header page naming the
 * font file's identity (device, inode, size, modification and change
 * time: the last cannot be set back by a user, so a font file changed in
 * place is noticed) and the table's place, then the table. It is written
 * whole under a temporary name, synced and renamed, so that another
 * process sees the old file or the new one; a file whose header is not the
 * font file's, whose size is wrong, or whose sampled pages (CHECKED_PAGES,
 * spread over the table) differ from the font file's, is written again,
 * once a process (a temporary a killed process left is removed a minute
 * later, and so are the cache files of font files that are gone or have
 * changed). It is trusted as far as the fonts-verified cache beside
 * it (fonts.c): who can write there can already have a font file taken as
 * verified. Without a cache folder, or on any failure, the table is read. */

#define PAGE 4096u
/* Where glibc places a block in a mapping of its own: after the chunk's
 * header, two size_t. */
#define BLOCK_AT (2 * sizeof(size_t))
/* The table in its cache file: after a page of header, at BLOCK_AT in its
 * page as the block is in its own. */
#define TABLE_AT (PAGE + BLOCK_AT)
#define CHECKED_PAGES 16u

/* The table's pages are mapped in pieces of this size, from two opens of
 * the cache file in turn (see map_pieces()). */
#define PIECE (4 * PAGE)

struct cp_table_map {
	int font_fd;
	int fd;        /* the cache file, open and checked; -1 until then */
	int fd2;       /* the same file opened again (map_pieces()), or -1 */
	bool failed;   /* none to be had in this process: the caller reads */
	char *font;    /* the font file's path */
	int index;
	unsigned long at, len;
	char *header;  /* the TABLE_AT bytes the cache file starts with, or NULL */
};

static gint mapped; /* atomic */

size_t cp_table_map_count(void)
{
	return (size_t)g_atomic_int_get(&mapped);
}

static char *make_header(const char *font, int index, const struct stat *st,
                         unsigned long at, unsigned long len)
{
	char *h = g_malloc0(TABLE_AT);
	int n = snprintf(h, TABLE_AT,
	                 "certpress: a copy of a font's CFF table, from byte %u on "
	                 "(src/layout/tablemap.c)\n"
	                 "font %s\nface %d\ndevice %" PRIuMAX "\ninode %" PRIuMAX "\n"
	                 "size %" PRIdMAX "\nmtime %" PRIdMAX ".%09ld\nctime %" PRIdMAX ".%09ld\n"
	                 "table at %lu, %lu bytes\n",
	                 (unsigned)TABLE_AT, font, index, (uintmax_t)st->st_dev,
	                 (uintmax_t)st->st_ino, (intmax_t)st->st_size,
	                 (intmax_t)st->st_mtim.tv_sec, (long)st->st_mtim.tv_nsec,
	                 (intmax_t)st->st_ctim.tv_sec, (long)st->st_ctim.tv_nsec, at, len);
	if (n < 0 || (size_t)n >= TABLE_AT) { /* a path too long to name */
		g_free(h);
		return NULL;
	}
	return h;
}

cp_table_map *cp_table_map_new(int fd, const char *path, int index, const struct stat *st,
                               unsigned long at, unsigned long len)
{
	cp_table_map *m = g_new0(cp_table_map, 1);
	m->font_fd = fd;
	m->fd = -1;
	m->fd2 = -1;
	/* Named by its real path: a font reached through links (each checkout's
	 * fontconfig folder links the system's faces) has one cache file. */
	char *real = realpath(path, NULL);
	m->font = g_strdup(real ? real : path);
	free(real);
	m->index = index;
	m->at = at;
	m->len = len;
	m->header = make_header(m->font, index, st, at, len);
	return m;
}

void cp_table_map_free(cp_table_map *m)
{
	if (!m)
		return;
	if (m->fd >= 0)
		close(m->fd);
	if (m->fd2 >= 0)
		close(m->fd2);
	g_free(m->font);
	g_free(m->header);
	g_free(m);
}

char *cp_table_map_path(const cp_table_map *m)
{
	char *key = g_strdup_printf("%d\t%s", m->index, m->font);
	char *sha = g_compute_checksum_for_string(G_CHECKSUM_SHA256, key, -1);
	char *base = g_path_get_basename(m->font);
	char *name = g_strdup_printf("%s.%d.%.16s.cff", base, m->index, sha);
	char *p = g_build_filename(g_get_user_cache_dir(), "certpress", "cff-tables", name, NULL);
	g_free(name);
	g_free(base);
	g_free(sha);
	g_free(key);
	return p;
}

size_t cp_pread_full(int fd, void *buf, size_t count, off_t offset)
{
	size_t done = 0;
	while (done < count) {
		ssize_t n = pread(fd, (char *)buf + done, count - done, offset + (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	return done;
}

static bool pwrite_all(int fd, const void *buf, size_t count, off_t offset)
{
	size_t done = 0;
	while (done < count) {
		ssize_t n = pwrite(fd, (const char *)buf + done, count - done, offset + (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		done += (size_t)n;
	}
	return true;
}

/* The table into fd at TABLE_AT: by the kernel (sendfile), else through a
 * small buffer. */
static bool copy_table(const cp_table_map *m, int fd)
{
	off_t in = (off_t)m->at;
	size_t left = m->len;
	if (lseek(fd, (off_t)TABLE_AT, SEEK_SET) != (off_t)TABLE_AT)
		return false;
	while (left > 0) {
		ssize_t n = sendfile(fd, m->font_fd, &in, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		left -= (size_t)n;
	}
	unsigned char *chunk = left ? g_malloc(1u << 16) : NULL;
	while (left > 0) {
		size_t want = MIN(left, (size_t)1u << 16);
		off_t out = (off_t)TABLE_AT + (off_t)(m->len - left);
		if (cp_pread_full(m->font_fd, chunk, want, in) != want || !pwrite_all(fd, chunk, want, out))
			break;
		in += (off_t)want;
		left -= want;
	}
	g_free(chunk);
	return left == 0;
}

/* True when fd is the table's cache file: its size, its header, and
 * CHECKED_PAGES of its pages, spread over the table, as in the font. */
static bool cache_ok(const cp_table_map *m, int fd)
{
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_size != (off_t)TABLE_AT + (off_t)m->len)
		return false;
	unsigned char *a = g_malloc(TABLE_AT), *b = g_malloc(PAGE);
	bool ok = cp_pread_full(fd, a, TABLE_AT, 0) == TABLE_AT && memcmp(a, m->header, TABLE_AT) == 0;
	/* the file's pages as they are mapped, from its third on: the table
	 * from its byte PAGE - BLOCK_AT */
	size_t first = PAGE - BLOCK_AT;
	size_t pages = m->len > first ? (m->len - first) / PAGE : 0;
	for (unsigned i = 0; ok && pages > 0 && i < CHECKED_PAGES; i++) {
		size_t off = first + (size_t)((uint64_t)(pages - 1) * i / (CHECKED_PAGES - 1)) * PAGE;
		ok = cp_pread_full(fd, a, PAGE, (off_t)(TABLE_AT + off)) == PAGE &&
		     cp_pread_full(m->font_fd, b, PAGE, (off_t)(m->at + off)) == PAGE &&
		     memcmp(a, b, PAGE) == 0;
	}
	g_free(a);
	g_free(b);
	return ok;
}

/* Whether the cache file p can never serve again: its header is
 * certpress's, and the font file it names is gone or is no longer the
 * file it names (another device, inode, size or time: a checkout deleted,
 * a font package upgraded), or is named by a path that is not its real
 * one (cache files are named by real paths). Any other file is left
 * alone. */
static bool orphaned(const char *p)
{
	static const char magic[] = "certpress: a copy of a font's CFF table, from byte ";
	int fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return false;
	char *h = g_malloc0(TABLE_AT + 1);
	bool whole = cp_pread_full(fd, h, TABLE_AT, 0) == TABLE_AT;
	close(fd);
	char *font, *nl; /* the header's "font PATH" line and its end */
	const char *table;
	int index;
	unsigned long at, len;
	bool gone = false;
	if (whole && strncmp(h, magic, sizeof magic - 1) == 0 &&
	    (font = strstr(h, "\nfont ")) && (nl = strchr(font + 6, '\n')) &&
	    sscanf(nl, "\nface %d\n", &index) == 1 && (table = strstr(nl, "\ntable at ")) &&
	    sscanf(table, "\ntable at %lu, %lu bytes\n", &at, &len) == 2) {
		*nl = '\0';
		struct stat st;
		char *real = realpath(font + 6, NULL);
		char *want = real && stat(real, &st) == 0 ? make_header(real, index, &st, at, len)
		                                          : NULL;
		free(real);
		*nl = '\n';
		gone = !want || memcmp(want, h, TABLE_AT) != 0;
		g_free(want);
	}
	g_free(h);
	return gone;
}

/* Tidies the folder when path's cache file is about to be written:
 * - a process killed while it wrote path's file left its temporary
 *   (path.XXXXXX, up to 20 MB): removed once it is a minute old, when no
 *   writer can still be at it (writing takes a fraction of a second);
 * - cache files that can never serve again (orphaned()) are removed, so
 *   that the folder holds the tables of the fonts in use, not of every
 *   font file certpress ever read (38 MB of tables for the project's faces
 *   at each path a checkout of it had). */
static void tidy_folder(const char *dir, const char *path)
{
	GDir *d = g_dir_open(dir, 0, NULL);
	if (!d)
		return;
	char *base = g_path_get_basename(path);
	size_t n = strlen(base);
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;
	const char *name;
	while ((name = g_dir_read_name(d))) {
		bool temp = strlen(name) == n + 7 && strncmp(name, base, n) == 0 && name[n] == '.';
		if (!temp && !g_str_has_suffix(name, ".cff"))
			continue;
		char *p = g_build_filename(dir, name, NULL);
		struct stat st;
		if (temp ? lstat(p, &st) == 0 && S_ISREG(st.st_mode) && st.st_mtime < now - 60
		         : strcmp(p, path) != 0 && orphaned(p))
			g_unlink(p);
		g_free(p);
	}
	g_free(base);
	g_dir_close(d);
}

/* Writes the cache file anew (see above); its descriptor, or -1. */
static int write_cache(const cp_table_map *m, const char *path)
{
	char *dir = g_path_get_dirname(path);
	int ok = g_mkdir_with_parents(dir, 0700);
	if (ok == 0)
		tidy_folder(dir, path);
	g_free(dir);
	if (ok != 0)
		return -1;
	char *tmp = g_strconcat(path, ".XXXXXX", NULL);
	int fd = g_mkstemp_full(tmp, O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0 && (!pwrite_all(fd, m->header, TABLE_AT, 0) || !copy_table(m, fd) ||
	                fsync(fd) != 0 || rename(tmp, path) != 0)) {
		close(fd);
		g_unlink(tmp);
		fd = -1;
	}
	g_free(tmp);
	return fd;
}

static int open_cache(const cp_table_map *m)
{
	char *path = cp_table_map_path(m);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && !cache_ok(m, fd)) {
		close(fd);
		fd = -1;
	}
	if (fd < 0) {
		fd = write_cache(m, path);
		if (fd >= 0 && !cache_ok(m, fd)) { /* the font changed meanwhile */
			close(fd);
			fd = -1;
		}
	}
	g_free(path);
	return fd;
}

/* fd's file opened again: another open file description of the same
 * file, so that the kernel keeps the mappings of each apart; -1 when that
 * cannot be had (no /proc). */
static int open_again(int fd)
{
	char path[64];
	g_snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	int again = open(path, O_RDONLY | O_CLOEXEC);
	struct stat a, b;
	if (again >= 0 && (fstat(fd, &a) != 0 || fstat(again, &b) != 0 || a.st_dev != b.st_dev ||
	                   a.st_ino != b.st_ino)) {
		close(again);
		again = -1;
	}
	return again;
}

/* Each piece is a mapping of its own, and a process may have some 65,000
 * (vm.max_map_count): a malloc() that needs one more would fail. At most
 * PIECES_MAX pieces are mapped at a time, some 1,300 for Noto Serif CJK's
 * table and 300-450 for each Fandol face's: two parts finished side by side
 * with every face take 5,000. A table that would go past it is one mapping,
 * as the kernel would have it. Known to be gone: a block whose first page
 * is no longer mapped (mincore()); one whose place glibc has given to
 * another mapping is counted until that goes too. */
#define PIECES_MAX 12000

typedef struct pieced {
	uintptr_t lo;
	size_t n;
} pieced;

static GMutex pieces_lock;
static GArray *pieces_out; /* pieced: the blocks mapped in pieces */
static size_t pieces_live;

/* Whether n more pieces may be mapped at lo; if so they are counted. */
static bool pieces_take(uintptr_t lo, size_t n)
{
	g_mutex_lock(&pieces_lock);
	if (!pieces_out)
		pieces_out = g_array_new(FALSE, FALSE, sizeof(pieced));
	unsigned char v;
	for (guint i = 0; i < pieces_out->len;) {
		pieced *p = &g_array_index(pieces_out, pieced, i);
		if (mincore((void *)p->lo, PAGE, &v) != 0 && errno == ENOMEM) {
			pieces_live -= p->n;
			g_array_remove_index_fast(pieces_out, i);
		} else {
			i++;
		}
	}
	bool ok = pieces_live + n <= PIECES_MAX;
	if (ok) {
		pieced p = {.lo = lo, .n = n};
		g_array_append_val(pieces_out, p);
		pieces_live += n;
	}
	g_mutex_unlock(&pieces_lock);
	return ok;
}

/* Maps the cache file's pages from offset `from` over [lo, hi). When Cairo
 * reads a page of a file mapping that is in the page cache, Linux maps
 * the pages around it as well, up to 64 KB (fault-around), and they count
 * as the process's: the charstrings of a part file's rare characters,
 * scattered over Noto Serif CJK's 20 MB table, made 4.8 MB of it resident
 * for a 6,000-page file. The kernel does this within one mapping only,
 * and joins neighbouring mappings of one open file: pieces of PIECE bytes
 * taken in turn from two opens of the file stay apart, and at most a
 * piece around each page read is mapped (bench/README.md). With one open
 * only, or past PIECES_MAX, the whole range is one mapping. False when a
 * piece cannot be mapped. */
static bool map_pieces(const cp_table_map *m, uintptr_t lo, uintptr_t hi, off_t from)
{
	if (m->fd2 < 0 || !pieces_take(lo, (hi - lo + PIECE - 1) / PIECE))
		return mmap((void *)lo, hi - lo, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED,
		            m->fd, from) != MAP_FAILED;
	for (uintptr_t at = lo; at < hi; at += PIECE) {
		int fd = ((at - lo) / PIECE) % 2 ? m->fd2 : m->fd;
		if (mmap((void *)at, MIN(PIECE, hi - at), PROT_READ | PROT_WRITE,
		         MAP_PRIVATE | MAP_FIXED, fd, from + (off_t)(at - lo)) == MAP_FAILED)
			return false;
	}
	return true;
}

bool cp_table_map_fill(cp_table_map *m, unsigned char *buf)
{
	uintptr_t b = (uintptr_t)buf;
	if (m->failed || !m->header || b % PAGE != BLOCK_AT || m->len < 2 * PAGE ||
	    sysconf(_SC_PAGESIZE) != PAGE)
		return false;
	uintptr_t lo = b - BLOCK_AT + PAGE, hi = (b + m->len) & ~(uintptr_t)(PAGE - 1);
	if (m->fd < 0) {
		if ((m->fd = open_cache(m)) < 0) {
			m->failed = true;
			return false;
		}
		m->fd2 = open_again(m->fd);
	}
	size_t head = lo - b, tail = b + m->len - hi;
	if (cp_pread_full(m->font_fd, buf, head, (off_t)m->at) != head ||
	    cp_pread_full(m->font_fd, (unsigned char *)hi, tail, (off_t)(m->at + (hi - b))) != tail)
		return false;
	if (!map_pieces(m, lo, hi, (off_t)(TABLE_AT + head))) {
		/* Linux may have unmapped the block's pages before it failed:
		 * fresh ones in their place, and the caller reads. */
		if (mmap((void *)lo, hi - lo, PROT_READ | PROT_WRITE,
		         MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
			g_error("certpress: a font table's block could not be mapped again: %s",
			        g_strerror(errno));
		m->failed = true;
		return false;
	}
	g_atomic_int_inc(&mapped);
	return true;
}
