/* SPDX-License-Identifier: MIT */
/*
 * src/output/zrun.c, the zlib stream written partly by hand: every stream is
 * inflated by zlib (which checks the Adler-32) and must give back exactly the
 * bytes that went in, whichever way each piece was sent.
 */
#include "common/testutil.h"

#include <string.h>
#include <zlib.h>

#include "output/zrun.h"

static bool to_array(void *ctx, const unsigned char *data, size_t len)
{
	g_byte_array_append(ctx, data, (guint)len);
	return true;
}

/* How each piece goes in. */
enum route { R_DENSE, R_SPARSE, R_ZEROS_IF_ZERO, R_ALTERNATE, R_RANDOM };

static bool all_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* Inflates z (which must be one whole zlib stream, nothing after it) and
 * compares with want. */
static void assert_inflates_to(const GByteArray *z, const unsigned char *want, size_t len)
{
	unsigned char *got = g_malloc(len + 1);
	uLongf got_len = len + 1;
	uLong src_len = z->len;
	int r = uncompress2(got, &got_len, z->data, &src_len);
	g_assert_cmpint(r, ==, Z_OK);
	g_assert_cmpuint(src_len, ==, z->len);
	g_assert_cmpuint(got_len, ==, len);
	g_assert_true(memcmp(got, want, len) == 0);
	g_free(got);
}

/* Sends data as rows of `width` bytes (the last one shorter), each by
 * route; returns the compressed size. */
static size_t round_trip(const unsigned char *data, size_t len, size_t width, int level,
                         enum route route, guint32 seed)
{
	GByteArray *out = g_byte_array_new();
	cp_zrun *z = cp_zrun_new(level, to_array, out);
	g_assert_nonnull(z);
	GRand *rnd = g_rand_new_with_seed(seed);
	size_t row = 0;
	for (size_t i = 0; i < len; i += width, row++) {
		size_t n = MIN(width, len - i);
		const unsigned char *p = data + i;
		bool ok;
		switch (route) {
		case R_DENSE:
			ok = cp_zrun_dense(z, p, n);
			break;
		case R_SPARSE:
			ok = cp_zrun_sparse(z, p, n);
			break;
		case R_ZEROS_IF_ZERO:
			/* as the PNG writer does: the filter byte by hand, then
			 * zeros unread, or the whole row through zlib */
			ok = all_zero(p + 1, n - 1) ? cp_zrun_sparse(z, p, 1) && cp_zrun_zeros(z, n - 1)
			                            : cp_zrun_dense(z, p, n);
			break;
		case R_ALTERNATE:
			ok = row % 2 ? cp_zrun_sparse(z, p, n) : cp_zrun_dense(z, p, n);
			break;
		default:
			switch (g_rand_int_range(rnd, 0, 3)) {
			case 0:
				ok = cp_zrun_dense(z, p, n);
				break;
			case 1:
				ok = cp_zrun_sparse(z, p, n);
				break;
			default:
				ok = all_zero(p, n) ? cp_zrun_zeros(z, n) : cp_zrun_sparse(z, p, n);
			}
		}
		g_assert_true(ok);
	}
	g_assert_true(cp_zrun_finish(z));
	cp_zrun_free(z);
	g_rand_free(rnd);
	assert_inflates_to(out, data, len);
	size_t size = out->len;
	g_byte_array_free(out, TRUE);
	return size;
}

static void round_trip_all(const unsigned char *data, size_t len, size_t width)
{
	for (enum route r = R_DENSE; r <= R_RANDOM; r++)
		for (int level = 1; level <= 9; level += 4)
			round_trip(data, len, width, level, r, (guint32)(len * 31 + width + r));
}

typedef enum { K_ZERO, K_FF, K_ALT, K_RANDOM, K_SPARSE, K_ROWS } kind;

static unsigned char *raster(kind k, size_t len, size_t width, guint32 seed)
{
	unsigned char *p = g_malloc0(len ? len : 1);
	GRand *rnd = g_rand_new_with_seed(seed);
	for (size_t i = 0; i < len; i++) {
		switch (k) {
		case K_ZERO:
			break;
		case K_FF:
			p[i] = 0xff;
			break;
		case K_ALT:
			p[i] = i % 2 ? 0xff : 0;
			break;
		case K_RANDOM:
			p[i] = (unsigned char)g_rand_int(rnd);
			break;
		case K_SPARSE:
			/* zero runs of every length, a few bytes between them */
			p[i] = g_rand_int_range(rnd, 0, 100) < 3 ? (unsigned char)g_rand_int(rnd) : 0;
			break;
		case K_ROWS:
			/* whole rows of zeros next to rows with a few marks, a
			 * filter-type byte first as in PNG */
			if (i % width == 0)
				p[i] = 2;
			else if ((i / width) % 3 == 1 && g_rand_int_range(rnd, 0, 50) == 0)
				p[i] = (unsigned char)g_rand_int(rnd);
			break;
		}
	}
	g_rand_free(rnd);
	return p;
}

/* Every kind of data at the sizes that meet the encoder's edges: width 1,
 * height 1, widths around multiples of 258 (the longest match), zero runs
 * that cross row boundaries, an empty stream. */
static void test_rasters(void)
{
	static const size_t widths[] = {1, 2, 3, 4, 257, 258, 259, 260, 261, 516, 517, 1000, 7441};
	static const size_t heights[] = {1, 2, 7};
	for (kind k = K_ZERO; k <= K_ROWS; k++)
		for (size_t w = 0; w < G_N_ELEMENTS(widths); w++)
			for (size_t h = 0; h < G_N_ELEMENTS(heights); h++) {
				size_t len = widths[w] * heights[h];
				unsigned char *p = raster(k, len, widths[w], (guint32)(k * 1000 + w * 10 + h));
				round_trip_all(p, len, widths[w]);
				g_free(p);
			}
	unsigned char none = 0;
	round_trip_all(&none, 0, 1);
}

/* Longer than a window, longer than the output buffer, zero runs longer than
 * 65521 (the Adler-32 modulus) and than 2^16. */
static void test_long(void)
{
	size_t len = 3u << 20;
	unsigned char *p = raster(K_SPARSE, len, 1, 7);
	memset(p + 100000, 0, 200000);
	memset(p + 1000000, 0xff, 70000);
	round_trip_all(p, len, 65536 + 7);
	round_trip_all(p, len, len);
	g_free(p);

	/* zeros never read: cp_zrun_zeros of a huge count */
	GByteArray *out = g_byte_array_new();
	cp_zrun *z = cp_zrun_new(1, to_array, out);
	size_t n = 5u << 20;
	g_assert_true(cp_zrun_sparse(z, (const unsigned char *)"\1", 1));
	g_assert_true(cp_zrun_zeros(z, n));
	g_assert_true(cp_zrun_dense(z, (const unsigned char *)"xyz", 3));
	g_assert_true(cp_zrun_zeros(z, 65521));
	g_assert_true(cp_zrun_finish(z));
	cp_zrun_free(z);
	unsigned char *want = g_malloc0(1 + n + 3 + 65521);
	want[0] = 1;
	memcpy(want + 1 + n, "xyz", 3);
	assert_inflates_to(out, want, 1 + n + 3 + 65521);
	/* 13 bits a 258-byte run: 5 MB of zeros in about 32 KB */
	g_assert_cmpuint(out->len, <, 40000);
	g_free(want);
	g_byte_array_free(out, TRUE);
}

/* An all-zero PNG-like raster sent as zero rows costs a few bytes a row. */
static void test_size(void)
{
	size_t width = 7441, height = 100;
	unsigned char *p = raster(K_ROWS, width * height, width, 3);
	for (size_t y = 0; y < height; y++)
		if (y % 3 != 1)
			g_assert_true(all_zero(p + y * width + 1, width - 1));
	size_t hand = round_trip(p, width * height, width, 1, R_ZEROS_IF_ZERO, 0);
	size_t zlib = round_trip(p, width * height, width, 1, R_DENSE, 0);
	g_test_message("zero rows by hand %zu bytes, all through zlib %zu", hand, zlib);
	/* a hand-coded zero row of 7440 bytes costs 16 bits of literals and
	 * 29 matches (382 bits): 50 bytes */
	g_assert_cmpuint(hand, <, zlib + (height - height / 3) * 50);
	g_assert_cmpuint(hand, >, zlib);
	g_free(p);
}

/* PNG-like rows (filter byte, then mostly zero rows and rows with marks)
 * through one cache, as a worker writes page after page. */
static size_t cached_stream(cp_zrun_cache *cache, const unsigned char *data, size_t len,
                            size_t width)
{
	GByteArray *out = g_byte_array_new();
	cp_zrun *z = cp_zrun_new(1, to_array, out);
	cp_zrun_set_cache(z, cache);
	for (size_t i = 0, row = 0; i < len; i += width, row++) {
		size_t n = MIN(width, len - i);
		const unsigned char *p = data + i;
		/* cut now and then, also where nothing dense is pending */
		if (row % 5 == 3)
			g_assert_true(cp_zrun_cut(z));
		g_assert_true(all_zero(p + 1, n - 1)
		                      ? cp_zrun_sparse(z, p, 1) && cp_zrun_zeros(z, n - 1)
		                      : cp_zrun_dense(z, p, n));
	}
	g_assert_true(cp_zrun_finish(z));
	cp_zrun_free(z);
	assert_inflates_to(out, data, len);
	size_t size = out->len;
	g_byte_array_free(out, TRUE);
	return size;
}

/* A stretch is reused only when equal byte for byte: the same page again,
 * a page with one byte changed, and a page whose changed stretch has the
 * same length and Adler-32 as before (+1, -1 ... -1, +1 keeps both sums)
 * all come back exactly; pages that end in a dense row, pages with no
 * dense row, and the cache forgetting what two streams did not use. */
static void test_cache(void)
{
	size_t width = 1001, height = 60, len = width * height;
	unsigned char *page = raster(K_ROWS, len, width, 5);
	/* a last row with marks: the stream ends in a dense stretch */
	page[len - 7] = 9;
	cp_zrun_cache *cache = cp_zrun_cache_new();
	size_t first = cached_stream(cache, page, len, width);
	size_t plain = round_trip(page, len, width, 1, R_ZEROS_IF_ZERO, 0);
	g_test_message("first page %zu bytes (without a cache %zu)", first, plain);
	/* the same page again: every stretch from the cache, same bytes */
	g_assert_cmpuint(cached_stream(cache, page, len, width), ==, first);
	g_assert_cmpuint(cached_stream(cache, page, len, width), ==, first);

	/* one byte changed in row 4's stretch */
	unsigned char *other = g_memdup2(page, len);
	size_t row = 4 * width;
	other[row + 500] ^= 0x40;
	cached_stream(cache, other, len, width);

	/* the same length and Adler-32 as the page's row 7, other bytes */
	memcpy(other, page, len);
	row = 7 * width;
	for (size_t i = 100; i < 104; i++)
		other[row + i] = 100;
	page[row + 100] = 100, page[row + 101] = 100, page[row + 102] = 100, page[row + 103] = 100;
	other[row + 100] += 1, other[row + 101] -= 1, other[row + 102] -= 1, other[row + 103] += 1;
	g_assert_cmpuint(adler32(1, page + row, (uInt)width), ==, adler32(1, other + row, (uInt)width));
	g_assert_true(memcmp(page + row, other + row, width) != 0);
	cached_stream(cache, page, len, width);
	cached_stream(cache, other, len, width);
	cached_stream(cache, page, len, width);

	/* nothing dense at all; then everything dense */
	unsigned char *zero = raster(K_ROWS, len, width, 5);
	for (size_t y = 0; y < height; y++)
		memset(zero + y * width + 1, 0, width - 1);
	cached_stream(cache, zero, len, width);
	cached_stream(cache, zero, len, width);
	unsigned char *noise = raster(K_RANDOM, len, width, 6);
	cached_stream(cache, noise, len, width);
	cached_stream(cache, noise, len, width);
	cached_stream(cache, page, len, width);
	cached_stream(cache, noise, len, width);
	g_free(noise);
	g_free(zero);
	g_free(other);
	g_free(page);
	cp_zrun_cache_free(cache);
}

static int sink_calls;

static bool failing_sink(void *ctx, const unsigned char *data, size_t len)
{
	sink_calls++;
	return false;
}

/* A sink that refuses stops the stream: every later call fails and the sink
 * is not called again. */
static void test_sink_failure(void)
{
	sink_calls = 0;
	cp_zrun *z = cp_zrun_new(1, failing_sink, NULL);
	unsigned char *p = raster(K_RANDOM, 200000, 1, 9);
	g_assert_false(cp_zrun_dense(z, p, 200000));
	g_assert_false(cp_zrun_sparse(z, p, 10));
	g_assert_false(cp_zrun_zeros(z, 10));
	g_assert_false(cp_zrun_finish(z));
	g_assert_cmpint(sink_calls, ==, 1);
	cp_zrun_free(z);
	g_free(p);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/zrun/rasters", test_rasters);
	g_test_add_func("/zrun/long", test_long);
	g_test_add_func("/zrun/size", test_size);
	g_test_add_func("/zrun/sink-failure", test_sink_failure);
	g_test_add_func("/zrun/cache", test_cache);
	return g_test_run();
}
