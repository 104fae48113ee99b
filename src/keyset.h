/* SPDX-License-Identifier: MIT */
/*
 * A compact set of short string keys, each with a fixed-width payload: the
 * certificate numbers of a batch, which the checker (to name the first row of
 * a duplicate) and the ledger (the pages added) keep for the whole run.
 *
 * A key that ends in nine digits is stored as 8 bytes: the index of the
 * characters before them in a small dictionary (a batch's numbers share
 * them: the organisation's part of a certificate number) and the digits'
 * value; any other key as its bytes. Each with its payload, in insertion
 * order, in blocks that never move. A table of 32-bit indexes, at most 4/5
 * full, finds them. At 100,000 numbers that is 13 bytes a number with no
 * payload, against some 55 in a GHashTable of strings (bench/README.md).
 *
 * Keys are strings of at most `key_len` bytes (a longer one is refused, see
 * cp_keyset_fits()), compared exactly. Not thread-safe.
 */
#ifndef CP_KEYSET_H
#define CP_KEYSET_H

#include <stdbool.h>
#include <stddef.h>

typedef struct cp_keyset cp_keyset;

/* A set of keys of at most key_len bytes (1..255) with payload_len bytes
 * (0..255) of payload each. Aborts only when memory runs out (as GLib). */
cp_keyset *cp_keyset_new(size_t key_len, size_t payload_len);
void cp_keyset_free(cp_keyset *s);

/* Whether the string key can be a key of s (no longer than key_len). */
bool cp_keyset_fits(const cp_keyset *s, const char *key);

/* The payload of key (payload_len bytes; not NULL for an empty payload), or
 * NULL when key is not in s or does not fit. Valid until s is freed. */
void *cp_keyset_lookup(const cp_keyset *s, const char *key);

/* Adds key when it is not in s. Returns its payload (zeroed when it was
 * added, as it was otherwise) and sets *added; NULL when key does not fit. */
void *cp_keyset_add(cp_keyset *s, const char *key, bool *added);

/* Adds key when it is not in s, as cp_keyset_add(). Keys are numbered
 * from 0 in the order they were first added: *ordinal is key's number.
 * 1 when key was added, 0 when it was there, -1 when it does not fit. */
int cp_keyset_put(cp_keyset *s, const char *key, size_t *ordinal);

size_t cp_keyset_size(const cp_keyset *s);

#endif
