/* SPDX-License-Identifier: MIT */
/*
 * The text format shared by templates, organization profiles and printer
 * profiles: sections and key = value lines, comments, errors with file, line
 * and key.
 *
 *   # a comment (whole lines starting with '#' or ';')
 *   [kind optional name]
 *   key = value            value trimmed; "quoted" keeps blanks and takes
 *                          \" \\ \n escapes
 *
 * Keys are unique within a section. Every consumer asks for the keys it knows
 * and then calls cp_conf_check_unused() so that a misspelt key is an error
 * naming its line instead of being silently ignored.
 */
#ifndef CP_CONF_H
#define CP_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "certpress.h"

#define CP_CONF_MAX_BYTES (1u << 20)  /* 1 MiB per file */
#define CP_CONF_MAX_SECTIONS 2000
#define CP_CONF_MAX_ENTRIES 200       /* per section */

typedef struct cp_conf_entry {
	char *key;
	char *value;
	long line;
	bool used;
} cp_conf_entry;

typedef struct cp_conf_section {
	char *kind;   /* the first word inside [ ] */
	char *name;   /* the rest, trimmed, or NULL */
	long line;
	cp_conf_entry *entries;
	size_t nentries;
} cp_conf_section;

typedef struct cp_conf {
	char *path;   /* as given, for messages */
	char *dir;    /* folder of path, for relative file names */
	cp_conf_section *sections;
	size_t nsections;
} cp_conf;

/* Reads a whole file of at most max bytes into *text (NUL-terminated, free
 * with g_free()) and its length into *len. Reading stops after max + 1
 * bytes, so a device or an endless file (/dev/zero) cannot exhaust memory:
 * CP_E_NOMEM "larger than" then; CP_E_IO for a file that cannot be read or
 * is a folder. Errors name path. */
bool cp_conf_read_file(const char *path, size_t max, char **text, size_t *len,
                       cp_error **err);

/* Reads (at most CP_CONF_MAX_BYTES) and parses a file. Errors (CP_E_IO,
 * CP_E_PARSE, CP_E_NOMEM) name file and line. */
cp_conf *cp_conf_load(const char *path, cp_error **err);
/* Parses text of len bytes; path is used for messages and relative names
 * (may be NULL: then the current folder). */
cp_conf *cp_conf_parse(const char *text, size_t len, const char *path,
                       cp_error **err);
void cp_conf_free(cp_conf *c);

/* The entry for key (marked used), or NULL. Borrowed. */
const cp_conf_entry *cp_conf_find(const cp_conf_section *s, const char *key);
/* The value for key (marked used), or NULL. Borrowed. */
const char *cp_conf_get(const cp_conf_section *s, const char *key);

/* Reads a required (or, with required false, optional: *out untouched when
 * absent) number in [min, max]. Returns false with a CP_E_PARSE error naming
 * file, line and key. */
bool cp_conf_number(const cp_conf *c, const cp_conf_section *s, const char *key,
                    bool required, double min, double max, double *out,
                    cp_error **err);
/* Reads exactly n blank- or comma-separated numbers, each in [min, max]. */
bool cp_conf_numbers(const cp_conf *c, const cp_conf_section *s, const char *key,
                     bool required, size_t n, double min, double max,
                     double *out, cp_error **err);
/* Reads yes/no/true/false/1/0. */
bool cp_conf_bool(const cp_conf *c, const cp_conf_section *s, const char *key,
                  bool required, bool *out, cp_error **err);
/* Reads one of choices (NULL-terminated); *out is its index. */
bool cp_conf_choice(const cp_conf *c, const cp_conf_section *s, const char *key,
                    bool required, const char *const *choices, int *out,
                    cp_error **err);
/* A required string: false with an error naming the key when absent or blank. */
const char *cp_conf_require(const cp_conf *c, const cp_conf_section *s,
                            const char *key, cp_error **err);

/* Fails on the first key of s that no one asked for ("unknown key"). */
bool cp_conf_check_unused(const cp_conf *c, const cp_conf_section *s,
                          cp_error **err);

/* Resolves a file name from the file against its folder. Free with g_free(). */
char *cp_conf_resolve(const cp_conf *c, const char *name);

#endif
