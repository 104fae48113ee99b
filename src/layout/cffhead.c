/* SPDX-License-Identifier: MIT */
#include "layout/cffhead.h"

#include <string.h>

static uint32_t be_uint(const unsigned char *p, int n)
{
	uint32_t v = 0;
	while (n-- > 0)
		v = v << 8 | *p++;
	return v;
}

/* Where the CFF INDEX at pos in d[0, len) ends, or 0 when it does not end
 * inside or is not well formed. An INDEX: a 2-byte count; unless 0, a
 * 1-byte offset size (1-4) and count + 1 offsets, counted from the byte
 * before the data: the first is 1 and none is smaller than the one before,
 * so that every element ends inside the last offset. */
static size_t index_end(const unsigned char *d, size_t len, size_t pos)
{
	if (pos > len || len - pos < 2)
		return 0;
	size_t count = be_uint(d + pos, 2);
	if (count == 0)
		return pos + 2;
	if (len - pos < 3)
		return 0;
	size_t size = d[pos + 2];
	if (size < 1 || size > 4)
		return 0;
	size_t first = pos + 3, last = first + count * size; /* offsets 0 and count */
	if (last > len || len - last < size)
		return 0;
	uint32_t prev = 1;
	if (be_uint(d + first, (int)size) != 1)
		return 0;
	for (size_t o = first + size; o <= last; o += size) {
		uint32_t v = be_uint(d + o, (int)size);
		if (v < prev)
			return 0;
		prev = v;
	}
	size_t end = last + size - 1 + prev;
	return end <= len ? end : 0;
}

size_t cp_cff_head_end(const unsigned char *d, size_t len)
{
	/* the header: major 1, minor, its own size (4 or more), offset size */
	if (len < 4 || d[0] != 1 || d[2] < 4)
		return 0;
	size_t names = index_end(d, len, d[2]);
	return names ? index_end(d, len, names) : 0;
}

bool cp_sfnt_table(const unsigned char *d, size_t len, int index, const char tag[4],
                   uint32_t *at, uint32_t *n)
{
	size_t dir = 0;
	if (len < 12 || index < 0)
		return false;
	if (memcmp(d, "ttcf", 4) == 0) {
		/* 'ttcf', version, the number of faces, then each one's table
		 * directory's offset */
		if ((uint32_t)index >= be_uint(d + 8, 4) || (len - 12) / 4 <= (size_t)index)
			return false;
		dir = be_uint(d + 12 + 4 * (size_t)index, 4);
		if (dir > len || len - dir < 12)
			return false;
	} else if (index != 0) {
		return false;
	}
	/* a table directory: version, the number of tables, three fields,
	 * then 16 bytes a table: tag, checksum, offset, length */
	size_t tables = be_uint(d + dir + 4, 2);
	for (size_t i = 0; i < tables; i++) {
		size_t e = dir + 12 + 16 * i;
		if (e > len || len - e < 16)
			return false;
		if (memcmp(d + e, tag, 4) == 0) {
			*at = be_uint(d + e + 8, 4);
			*n = be_uint(d + e + 12, 4);
			return true;
		}
	}
	return false;
}
