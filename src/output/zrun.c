/* SPDX-License-Identifier: MIT */
#include "output/zrun.h"

#include <glib.h>
#include <libdeflate.h>
#include <stdint.h>
#include <string.h>
#include <zlib.h>

#define ADLER_BASE 65521u
#define OUT_CAP (64u * 1024u)

enum mode { M_NONE, M_DENSE, M_SPARSE };

typedef struct cache_entry {
	unsigned char *raw;
	size_t len;
	uint32_t adler;      /* of raw alone */
	GByteArray *comp;    /* the deflate blocks, ending with a full flush */
	unsigned gen;        /* the last stream that wrote or used it */
} cache_entry;

struct cp_zrun_cache {
	GPtrArray *entries;  /* cache_entry */
	size_t bytes;        /* raw plus compressed */
	unsigned gen;
};

struct cp_zrun {
	z_stream zs;
	cp_zrun_cache *cache;
	GByteArray *seg;     /* with a cache: the dense stretch so far */
	GByteArray *capture; /* with a cache: the compressed bytes of a new stretch */
	bool zs_ok;
	bool failed;
	bool dense_pending; /* zlib has taken input since its last flush */
	enum mode mode;
	cp_zrun_sink sink;
	void *ctx;
	uint32_t s1, s2;    /* Adler-32 halves */
	uint64_t bits;      /* bit writer, least significant bit first */
	unsigned nbits;
	int last;           /* the last byte of the current sparse block, -1 at its start */
	size_t len;
	unsigned char out[OUT_CAP];
};

/* ---- output ------------------------------------------------------------- */

static bool drain(cp_zrun *z)
{
	if (z->len && !z->failed && !z->sink(z->ctx, z->out, z->len))
		z->failed = true;
	z->len = 0;
	return !z->failed;
}

static inline void put_byte(cp_zrun *z, unsigned char b)
{
	if (z->len == OUT_CAP)
		drain(z);
	z->out[z->len++] = b;
}

/* n <= 32 bits of v, least significant first. */
static inline void put_bits(cp_zrun *z, uint32_t v, unsigned n)
{
	z->bits |= (uint64_t)v << z->nbits;
	z->nbits += n;
	while (z->nbits >= 8) {
		put_byte(z, (unsigned char)z->bits);
		z->bits >>= 8;
		z->nbits -= 8;
	}
}

static void align_byte(cp_zrun *z)
{
	if (z->nbits)
		put_bits(z, 0, 8 - z->nbits);
}

/* ---- Adler-32 ----------------------------------------------------------- */

static void adler_bytes(cp_zrun *z, const unsigned char *p, size_t n)
{
	/* libdeflate's is vectorised: a third of the instructions of zlib's */
	uint32_t a = libdeflate_adler32(z->s2 << 16 | z->s1, p, n);
	z->s1 = a & 0xffff;
	z->s2 = a >> 16;
}

/* n zero bytes: s1 stays, s2 grows by n times s1. */
static void adler_zeros(cp_zrun *z, size_t n)
{
	z->s2 = (uint32_t)((z->s2 + (uint64_t)(n % ADLER_BASE) * z->s1) % ADLER_BASE);
}

static void adler_byte(cp_zrun *z, unsigned char b)
{
	z->s1 += b;
	if (z->s1 >= ADLER_BASE)
		z->s1 -= ADLER_BASE;
	z->s2 += z->s1;
	if (z->s2 >= ADLER_BASE)
		z->s2 -= ADLER_BASE;
}

/* ---- fixed Huffman codes (RFC 1951 3.2.6) --------------------------------- */

/* The fixed literal/length code, bit-reversed for the writer: code and
 * length of symbols 0..287. */
static uint16_t fixed_code[288];
static uint8_t fixed_len[288];

static void fixed_init(void)
{
	static gsize done;
	if (!g_once_init_enter(&done))
		return;
	for (unsigned sym = 0; sym < 288; sym++) {
		uint32_t code;
		unsigned len;
		if (sym < 144)
			code = 0x30 + sym, len = 8;
		else if (sym < 256)
			code = 0x190 + (sym - 144), len = 9;
		else if (sym < 280)
			code = sym - 256, len = 7;
		else
			code = 0xc0 + (sym - 280), len = 8;
		uint32_t r = 0;
		for (unsigned i = 0; i < len; i++, code >>= 1)
			r = r << 1 | (code & 1);
		fixed_code[sym] = (uint16_t)r;
		fixed_len[sym] = (uint8_t)len;
	}
	g_once_init_leave(&done, 1);
}

static inline void put_sym(cp_zrun *z, unsigned sym)
{
	put_bits(z, fixed_code[sym], fixed_len[sym]);
}

static const uint16_t len_base[29] = {3,  4,  5,  6,  7,  8,  9,  10,  11,  13,
                                      15, 17, 19, 23, 27, 31, 35, 43,  51,  59,
                                      67, 83, 99, 115, 131, 163, 195, 227, 258};
static const uint8_t len_extra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                      2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};

/* A match of 3..258 bytes at distance 1. */
static void put_match1(cp_zrun *z, unsigned length)
{
	unsigned i = 28;
	while (len_base[i] > length)
		i--;
	put_sym(z, 257 + i);
	if (len_extra[i])
		put_bits(z, length - len_base[i], len_extra[i]);
	put_bits(z, 0, 5); /* distance code 0: distance 1, no extra bits */
}

/* The match that long zero runs repeat: symbol 285 (length 258, 8 bits)
 * and distance code 0 (5 bits), precomputed. */
static inline void put_match258(cp_zrun *z)
{
	put_bits(z, 0xa3, 13); /* 0xc5 reversed; the distance bits are zero */
}

static void literal(cp_zrun *z, unsigned char b)
{
	put_sym(z, b);
	z->last = b;
}

/* n zero bytes inside a sparse block. */
static void zero_run(cp_zrun *z, size_t n)
{
	if (n && z->last != 0) {
		literal(z, 0);
		n--;
	}
	while (n >= 3) {
		if (n >= 258 + 3 || n == 258) {
			put_match258(z);
			n -= 258;
		} else if (n > 258) {
			/* 259 or 260: two matches, each at least 3 */
			put_match1(z, 128);
			n -= 128;
		} else {
			put_match1(z, (unsigned)n);
			n = 0;
		}
	}
	while (n--)
		put_sym(z, 0);
}

/* ---- switching between zlib and hand-written blocks --------------------- */

/* Runs deflate until it has taken all input (Z_NO_FLUSH), emitted all it
 * holds (Z_FULL_FLUSH) or ended the stream (Z_FINISH). */
static bool deflate_all(cp_zrun *z, int flush)
{
	for (;;) {
		size_t before = z->len;
		z->zs.next_out = z->out + z->len;
		z->zs.avail_out = (uInt)(OUT_CAP - z->len);
		int r = deflate(&z->zs, flush);
		z->len = OUT_CAP - z->zs.avail_out;
		if (z->capture)
			g_byte_array_append(z->capture, z->out + before, (guint)(z->len - before));
		if (r == Z_STREAM_ERROR) {
			z->failed = true;
			return false;
		}
		if (flush == Z_FINISH ? r == Z_STREAM_END : z->zs.avail_out != 0)
			return !z->failed;
		if (z->len == 0) { /* no room was used and still not done */
			z->failed = true;
			return false;
		}
		if (!drain(z))
			return false;
	}
}

/* Closes a hand-written block with end-of-block and an empty stored block,
 * which leaves the output on a byte boundary for zlib. */
static void end_sparse(cp_zrun *z)
{
	put_sym(z, 256);
	put_bits(z, 0, 3); /* BFINAL 0, BTYPE 00 */
	align_byte(z);
	put_byte(z, 0x00);
	put_byte(z, 0x00);
	put_byte(z, 0xff);
	put_byte(z, 0xff);
}

static bool end_segment(cp_zrun *z);

static bool to_sparse(cp_zrun *z)
{
	if (z->mode == M_SPARSE)
		return !z->failed;
	if (z->seg && z->seg->len && !end_segment(z))
		return false;
	if (z->dense_pending) {
		if (!deflate_all(z, Z_FULL_FLUSH))
			return false;
		z->dense_pending = false;
	}
	put_bits(z, 1u << 1, 3); /* BFINAL 0, BTYPE 01 (fixed Huffman) */
	z->last = -1;
	z->mode = M_SPARSE;
	return !z->failed;
}

static bool to_dense(cp_zrun *z)
{
	if (z->mode == M_SPARSE)
		end_sparse(z);
	z->mode = M_DENSE;
	return !z->failed;
}

/* ---- the interface ------------------------------------------------------ */

cp_zrun *cp_zrun_new(int level, cp_zrun_sink sink, void *ctx)
{
	cp_zrun *z = g_try_new0(cp_zrun, 1);
	if (!z)
		return NULL;
	if (deflateInit2(&z->zs, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		g_free(z);
		return NULL;
	}
	z->zs_ok = true;
	fixed_init();
	z->sink = sink;
	z->ctx = ctx;
	z->s1 = 1;
	z->s2 = 0;
	/* CMF: deflate, 32 KB window; FLG: no dictionary, check bits. */
	put_byte(z, 0x78);
	put_byte(z, 0x01);
	return z;
}

bool cp_zrun_dense(cp_zrun *z, const unsigned char *data, size_t len)
{
	if (z->failed || !len)
		return !z->failed;
	if (!to_dense(z))
		return false;
	if (z->seg) {
		g_byte_array_append(z->seg, data, (guint)len);
		return true;
	}
	adler_bytes(z, data, len);
	while (len) {
		uInt n = len > (1u << 30) ? (1u << 30) : (uInt)len;
		z->zs.next_in = (Bytef *)data;
		z->zs.avail_in = n;
		if (!deflate_all(z, Z_NO_FLUSH))
			return false;
		data += n;
		len -= n;
	}
	z->dense_pending = true;
	return true;
}

/* The index of the first non-zero byte of p[0..n), or n. */
static size_t zero_prefix(const unsigned char *p, size_t n)
{
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, p + i, 8);
		if (w)
			break;
	}
	while (i < n && !p[i])
		i++;
	return i;
}

bool cp_zrun_sparse(cp_zrun *z, const unsigned char *data, size_t len)
{
	if (z->failed || !len)
		return !z->failed;
	if (!to_sparse(z))
		return false;
	size_t i = 0;
	while (i < len) {
		if (data[i]) {
			adler_byte(z, data[i]);
			literal(z, data[i]);
			i++;
			continue;
		}
		size_t n = zero_prefix(data + i, len - i);
		adler_zeros(z, n);
		zero_run(z, n);
		i += n;
	}
	return !z->failed;
}

bool cp_zrun_zeros(cp_zrun *z, size_t n)
{
	if (z->failed || !n)
		return !z->failed;
	if (!to_sparse(z))
		return false;
	adler_zeros(z, n);
	zero_run(z, n);
	return !z->failed;
}

bool cp_zrun_finish(cp_zrun *z)
{
	if (z->failed)
		return false;
	if (z->seg && z->seg->len && !end_segment(z))
		return false;
	if (z->mode == M_DENSE && z->dense_pending) {
		if (!deflate_all(z, Z_FINISH))
			return false;
	} else {
		if (z->mode == M_SPARSE)
			put_sym(z, 256);
		/* an empty final fixed-Huffman block */
		put_bits(z, 1u | 1u << 1, 3);
		put_sym(z, 256);
		align_byte(z);
	}
	put_byte(z, (unsigned char)(z->s2 >> 8));
	put_byte(z, (unsigned char)z->s2);
	put_byte(z, (unsigned char)(z->s1 >> 8));
	put_byte(z, (unsigned char)z->s1);
	return drain(z);
}

void cp_zrun_free(cp_zrun *z)
{
	if (!z)
		return;
	if (z->seg)
		g_byte_array_free(z->seg, TRUE);
	if (z->capture)
		g_byte_array_free(z->capture, TRUE);
	if (z->zs_ok)
		deflateEnd(&z->zs);
	g_free(z);
}

/* ---- the cache of dense stretches --------------------------------------- */

static void entry_free(gpointer p)
{
	cache_entry *e = p;
	g_free(e->raw);
	g_byte_array_free(e->comp, TRUE);
	g_free(e);
}

cp_zrun_cache *cp_zrun_cache_new(void)
{
	cp_zrun_cache *c = g_new0(cp_zrun_cache, 1);
	c->entries = g_ptr_array_new_with_free_func(entry_free);
	return c;
}

void cp_zrun_cache_free(cp_zrun_cache *c)
{
	if (!c)
		return;
	g_ptr_array_free(c->entries, TRUE);
	g_free(c);
}

void cp_zrun_set_cache(cp_zrun *z, cp_zrun_cache *cache)
{
	if (!cache || z->cache)
		return;
	z->cache = cache;
	cache->gen++;
	/* what the last stream neither wrote nor used goes */
	for (guint i = cache->entries->len; i-- > 0;) {
		cache_entry *e = cache->entries->pdata[i];
		if (e->gen + 1 < cache->gen) {
			cache->bytes -= e->len + e->comp->len;
			g_ptr_array_remove_index_fast(cache->entries, i);
		}
	}
	z->seg = g_byte_array_new();
}

static cache_entry *cache_find(cp_zrun_cache *c, const unsigned char *raw, size_t len,
                               uint32_t adler)
{
	for (guint i = 0; i < c->entries->len; i++) {
		cache_entry *e = c->entries->pdata[i];
		if (e->len == len && e->adler == adler && memcmp(e->raw, raw, len) == 0)
			return e;
	}
	return NULL;
}

static void put_bytes(cp_zrun *z, const unsigned char *p, size_t n)
{
	while (n && !z->failed) {
		size_t k = MIN(n, OUT_CAP - z->len);
		memcpy(z->out + z->len, p, k);
		z->len += k;
		p += k;
		n -= k;
		if (z->len == OUT_CAP)
			drain(z);
	}
}

/* The dense stretch buffered in z->seg: from the cache, or compressed with
 * a full flush (and then kept). Either way it ends on a byte boundary with
 * zlib's window reset. */
static bool end_segment(cp_zrun *z)
{
	GByteArray *seg = z->seg;
	size_t len = seg->len;
	uint32_t adler = libdeflate_adler32(1, seg->data, len);
	uint32_t whole = (uint32_t)adler32_combine((uLong)z->s2 << 16 | z->s1, adler, (z_off_t)len);
	z->s1 = whole & 0xffff;
	z->s2 = whole >> 16;
	cp_zrun_cache *c = z->cache;
	cache_entry *e = cache_find(c, seg->data, len, adler);
	if (e) {
		e->gen = c->gen;
		put_bytes(z, e->comp->data, e->comp->len);
		g_byte_array_set_size(seg, 0);
		return !z->failed;
	}
	z->capture = g_byte_array_new();
	z->zs.next_in = seg->data;
	z->zs.avail_in = (uInt)len;
	bool ok = deflate_all(z, Z_FULL_FLUSH);
	GByteArray *comp = z->capture;
	z->capture = NULL;
	z->dense_pending = false;
	if (ok && c->bytes + len + comp->len <= CP_ZRUN_CACHE_MAX) {
		e = g_new0(cache_entry, 1);
		e->len = len;
		e->adler = adler;
		e->comp = comp;
		e->gen = c->gen;
		e->raw = (unsigned char *)g_byte_array_free(seg, FALSE);
		c->bytes += len + comp->len;
		g_ptr_array_add(c->entries, e);
		z->seg = g_byte_array_new();
	} else {
		g_byte_array_free(comp, TRUE);
		g_byte_array_set_size(seg, 0);
	}
	return ok;
}

bool cp_zrun_cut(cp_zrun *z)
{
	if (z->failed)
		return false;
	return !z->seg || !z->seg->len || end_segment(z);
}
