/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target "cffhead": the two lookups in a font file's bytes that the
 * face stream of src/layout/fonts.c makes (src/layout/cffhead.c): the end
 * of a CFF table's header, Name INDEX and Top DICT INDEX, and a face's
 * table in an sfnt file or collection. The whole input is both the table's
 * first bytes and the file's; the first byte also picks the face index
 * (0-3) and the tag looked for.
 *
 * Checked beyond "no crash": an end is inside the input and more than the
 * header, the same end is found in the input cut there and none in the
 * input cut one byte shorter; a table found has its tag in a 16-byte
 * entry inside the input, and is found again in any longer input with the
 * same first bytes (here: the input, cut at that entry's end).
 */
#include "fuzz.h"

#include "layout/cffhead.h"

static uint32_t fuzz_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int cp_fuzz_cffhead(const uint8_t *data, size_t size);
int cp_fuzz_cffhead(const uint8_t *data, size_t size)
{
	size_t end = cp_cff_head_end(data, size);
	if (end) {
		if (end > size || end < 6)
			cp_fuzz_fail("head end %zu of %zu bytes", end, size);
		if (cp_cff_head_end(data, end) != end)
			cp_fuzz_fail("the head ending at %zu is not found in its own bytes", end);
		if (cp_cff_head_end(data, end - 1) != 0)
			cp_fuzz_fail("a head ending at %zu is found in %zu bytes", end, end - 1);
	}
	static const char *const tags[] = {"CFF ", "cmap", "head", "\0\0\0\0"};
	int index = size ? data[0] & 3 : 0;
	const char *tag = tags[size ? (data[0] >> 2) & 3 : 0];
	uint32_t at = 0xdeadbeef, n = 0xdeadbeef;
	if (cp_sfnt_table(data, size, index, tag, &at, &n)) {
		/* the entry: tag, checksum, offset, length, big-endian */
		size_t e = 0;
		bool seen = false;
		for (; e + 16 <= size && !seen; e++)
			seen = memcmp(data + e, tag, 4) == 0 && fuzz_be32(data + e + 8) == at &&
			       fuzz_be32(data + e + 12) == n;
		if (!seen)
			cp_fuzz_fail("table found at %u (%u bytes) without its entry in the input", at, n);
	} else if (at != 0xdeadbeef || n != 0xdeadbeef) {
		cp_fuzz_fail("a table not found changed the results");
	}
	return 0;
}

CP_FUZZ_ENTRY(cffhead)
