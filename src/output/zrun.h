/* SPDX-License-Identifier: MIT */
/*
 * A zlib stream (RFC 1950/1951) written in two ways, chosen by the caller for
 * each piece of data:
 *
 *   dense   bytes go through zlib's raw deflate (LZ77 + dynamic Huffman);
 *   sparse  bytes are coded by hand in fixed-Huffman blocks: every run of
 *           zero bytes as matches at distance 1 (13 bits per 258 bytes),
 *           every other byte as a literal. Nothing is hashed or searched.
 *
 * PNG's electronic certificates are the use: after the Up filter most rows
 * of a 300 dpi page are entirely zero, and zlib spends its time hashing
 * those. Before each sparse stretch zlib is flushed with Z_FULL_FLUSH (its
 * window is reset, so none of its later matches reaches across the
 * hand-written block) and each hand-written stretch ends on a byte boundary
 * with an empty stored block, where zlib's next output starts. The Adler-32
 * of a zero run is computed in closed form.
 *
 * The result is an ordinary zlib stream: any inflater reads it.
 *
 * With a cache (cp_zrun_set_cache), each dense stretch is compressed as a
 * whole and ends with Z_FULL_FLUSH, so its compressed bytes are
 * self-contained deflate blocks (no match reaches before them, they end on
 * a byte boundary): a stretch equal byte for byte to one compressed for
 * the previous stream is written from the cache instead of being
 * compressed again. A folder of certificates repeats the stretches that
 * hold only the page's static art.
 */
#ifndef CP_OUTPUT_ZRUN_H
#define CP_OUTPUT_ZRUN_H

#include <stdbool.h>
#include <stddef.h>

typedef struct cp_zrun cp_zrun;
typedef struct cp_zrun_cache cp_zrun_cache;

/* Receives compressed bytes, in order, in pieces of any size; false stops
 * the stream (every later call fails). */
typedef bool (*cp_zrun_sink)(void *ctx, const unsigned char *data, size_t len);

/* A new stream at zlib level 1..9 for the dense parts; the zlib header is
 * written to the sink with the first output. NULL when out of memory. */
cp_zrun *cp_zrun_new(int level, cp_zrun_sink sink, void *ctx);

/* Appends len bytes through zlib. */
bool cp_zrun_dense(cp_zrun *z, const unsigned char *data, size_t len);

/* Appends len bytes coded by hand (any bytes; cheap when most are zero). */
bool cp_zrun_sparse(cp_zrun *z, const unsigned char *data, size_t len);

/* Appends n zero bytes coded by hand, without reading them. */
bool cp_zrun_zeros(cp_zrun *z, size_t n);

/* Ends the stream (final block and Adler-32) and hands out the rest. */
bool cp_zrun_finish(cp_zrun *z);

void cp_zrun_free(cp_zrun *z);

/* A cache for the streams written one after another by one thread (not
 * shared between threads). It keeps the stretches of the last two streams
 * that were used, at most CP_ZRUN_CACHE_MAX bytes of them (raw, compared
 * byte for byte before any reuse). */
#define CP_ZRUN_CACHE_MAX (48u << 20)
cp_zrun_cache *cp_zrun_cache_new(void);
void cp_zrun_cache_free(cp_zrun_cache *c);
/* Before the first write: use cache for this stream (and start its next
 * generation). */
void cp_zrun_set_cache(cp_zrun *z, cp_zrun_cache *cache);
/* With a cache: ends the dense stretch here (so that a part of it equal to
 * the previous stream's can be reused). Without one: nothing. */
bool cp_zrun_cut(cp_zrun *z);

#endif
