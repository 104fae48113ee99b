/* SPDX-License-Identifier: MIT */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

/* A font table read whole as pages of a cache file, for the face stream of
 * fonts.c (see tablemap.c): instead of copying a 5-20 MB CFF table into the
 * block Cairo has just allocated, the block's whole pages are mapped from a
 * copy of the table kept in the user's cache folder, and only the pages
 * Cairo reads are ever touched. */

typedef struct cp_table_map cp_table_map;

/* The table of len bytes at offset at of the font file open as fd (path,
 * face index, st its fstat()). Nothing is read or created yet. */
cp_table_map *cp_table_map_new(int fd, const char *path, int index, const struct stat *st,
                               unsigned long at, unsigned long len);
void cp_table_map_free(cp_table_map *m);

/* Fills buf (len bytes, the table's) with the table: its whole pages
 * mapped from the cache file, the bytes before and after them read from
 * the font file. False, buf's pages as they were, when that cannot be done
 * (buf not placed as glibc places a mapped block, no cache folder, a cache
 * file that cannot be written or is not the table's): the caller reads the
 * table instead. The cache file is written on first use and checked once a
 * process. Not thread-safe: one caller at a time for each m. */
bool cp_table_map_fill(cp_table_map *m, unsigned char *buf);

/* count bytes of fd from offset into buf, fewer at the end of the file or
 * on an error: how many (pread() again after a short read or EINTR). The
 * font stream's reads (fonts.c) and the cache file's. */
size_t cp_pread_full(int fd, void *buf, size_t count, off_t offset);

/* How many times cp_table_map_fill() has mapped a table in this process. */
size_t cp_table_map_count(void);

/* The cache file's path for m (g_free), for tests. */
char *cp_table_map_path(const cp_table_map *m);
