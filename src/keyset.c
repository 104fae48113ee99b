/* SPDX-License-Identifier: MIT */
#include "keyset.h"

#include <glib.h>
#include <stdint.h>
#include <string.h>

#define KS_BLOCK_SHIFT 12 /* 4,096 entries a block */
#define KS_BLOCK (1u << KS_BLOCK_SHIFT)
#define KS_MIN_SLOTS 64u
#define KS_MAX_KEY 255
#define KS_MAX_STRIDE 256 /* KS_MAX_KEY rounded up to 8 */
/* A key that ends in KS_TAIL digits is stored as 8 bytes: the index of the
 * characters before them (its lead) in a dictionary of leads, and the
 * digits' value (below 10^9, 32 bits). A batch's numbers share their lead:
 * a certificate number's 13 characters of its organisation (SPEC.md). The
 * dictionary holds at most KS_MAX_LEADS leads; a key with a lead it lacks
 * once full is stored as its bytes. */
#define KS_TAIL 9
#define KS_SPLIT 8
#define KS_MAX_LEADS 4096u
/* Entries in insertion order, in blocks that never move, found through a
 * table of 32-bit indexes (linear probing, at most 4/5 full). */
typedef struct ks_table {
	size_t stride; /* bytes of a key as stored, a multiple of 8 */
	size_t entry;  /* stride + the payload rounded up to 8 */
	uint32_t n;
	uint32_t mask;   /* slots - 1 (a power of two) */
	uint32_t *slots; /* 0: empty; else the entry's index + 1 */
	unsigned char **blocks;
	size_t nblocks, blocks_cap;
} ks_table;

struct cp_keyset {
	size_t key_len;
	size_t payload;
	ks_table split; /* keys whose lead is in leads: 8 bytes each (KS_TAIL) */
	ks_table raw;   /* any other: the key's bytes, padded with NULs */
	GHashTable *leads; /* lead (owned) -> its index + 1; NULL while empty */
	/* For each raw key, in order: how many split keys there were when it
	 * was added. A key's ordinal (cp_keyset_put()) is its index in its
	 * table plus the keys of the other table added before it. */
	GArray *split_before; /* uint32_t */
};

static size_t round8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

static void table_init(ks_table *t, size_t stride, size_t payload)
{
	t->stride = stride;
	t->entry = stride + round8(payload);
}

static void table_clear(ks_table *t)
{
	for (size_t i = 0; i < t->nblocks; i++)
		g_free(t->blocks[i]);
	g_free(t->blocks);
	g_free(t->slots);
}

cp_keyset *cp_keyset_new(size_t key_len, size_t payload_len)
{
	g_return_val_if_fail(key_len >= 1 && key_len <= KS_MAX_KEY && payload_len <= 255, NULL);
	cp_keyset *s = g_new0(cp_keyset, 1);
	s->key_len = key_len;
	s->payload = payload_len;
	table_init(&s->split, KS_SPLIT, payload_len);
	table_init(&s->raw, round8(key_len), payload_len);
	return s;
}

void cp_keyset_free(cp_keyset *s)
{
	if (!s)
		return;
	table_clear(&s->split);
	table_clear(&s->raw);
	if (s->leads)
		g_hash_table_destroy(s->leads);
	if (s->split_before)
		g_array_unref(s->split_before);
	g_free(s);
}

size_t cp_keyset_size(const cp_keyset *s)
{
	return s ? (size_t)s->split.n + s->raw.n : 0;
}

bool cp_keyset_fits(const cp_keyset *s, const char *key)
{
	return s && key && strnlen(key, s->key_len + 1) <= s->key_len;
}

static unsigned char *entry_at(const ks_table *t, uint32_t i)
{
	return t->blocks[i >> KS_BLOCK_SHIFT] + (size_t)(i & (KS_BLOCK - 1)) * t->entry;
}

/* The table that holds key, and the key as stored there (out, the table's
 * stride); NULL when key does not fit. A key whose lead is not in the
 * dictionary is added to it when add is set and the dictionary has room.
 * Each key has one stored form in one table: a key is split exactly when
 * its lead was in the dictionary when it was added, and the dictionary
 * only grows (a lead it lacks once full it lacks for ever). */
static ks_table *stored_key(cp_keyset *s, const char *key, bool add, unsigned char *out)
{
	if (!cp_keyset_fits(s, key))
		return NULL;
	size_t len = strlen(key);
	if (len >= KS_TAIL) {
		const char *tail = key + len - KS_TAIL;
		uint32_t v = 0;
		size_t i = 0;
		for (; i < KS_TAIL && tail[i] >= '0' && tail[i] <= '9'; i++)
			v = v * 10 + (uint32_t)(tail[i] - '0');
		if (i == KS_TAIL) {
			char lead[KS_MAX_KEY + 1];
			memcpy(lead, key, len - KS_TAIL);
			lead[len - KS_TAIL] = '\0';
			uintptr_t id = s->leads ? (uintptr_t)g_hash_table_lookup(s->leads, lead) : 0;
			if (!id && add && (!s->leads || g_hash_table_size(s->leads) < KS_MAX_LEADS)) {
				if (!s->leads)
					s->leads = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
				id = g_hash_table_size(s->leads) + 1;
				g_hash_table_insert(s->leads, g_strdup(lead), (gpointer)id);
			}
			if (id) {
				uint32_t w[2] = {(uint32_t)(id - 1), v};
				memcpy(out, w, KS_SPLIT);
				return &s->split;
			}
		}
	}
	memset(out, 0, s->raw.stride);
	memcpy(out, key, len);
	return &s->raw;
}

/* 64-bit words mixed by multiplication, then the finaliser of splitmix64: the
 * numbers of a batch differ only in their last digits. */
static uint64_t hash_key(const ks_table *t, const unsigned char *k)
{
	uint64_t h = 0x243F6A8885A308D3u ^ t->stride;
	for (size_t i = 0; i < t->stride; i += 8) {
		uint64_t w;
		memcpy(&w, k + i, 8);
		h = (h ^ w) * 0x9E3779B97F4A7C15u;
		h ^= h >> 29;
	}
	h ^= h >> 30;
	h *= 0xBF58476D1CE4E5B9u;
	h ^= h >> 27;
	h *= 0x94D049BB133111EBu;
	h ^= h >> 31;
	return h;
}

/* The slot holding k, or the empty slot where it would go. */
static uint32_t find_slot(const ks_table *t, const unsigned char *k, uint64_t h)
{
	uint32_t at = (uint32_t)h & t->mask;
	for (;;) {
		uint32_t v = t->slots[at];
		if (!v || memcmp(entry_at(t, v - 1), k, t->stride) == 0)
			return at;
		at = (at + 1) & t->mask;
	}
}

void *cp_keyset_lookup(const cp_keyset *s, const char *key)
{
	unsigned char k[KS_MAX_STRIDE];
	const ks_table *t = stored_key((cp_keyset *)s, key, false, k);
	if (!t || !t->slots)
		return NULL;
	uint32_t v = t->slots[find_slot(t, k, hash_key(t, k))];
	return v ? entry_at(t, v - 1) + t->stride : NULL;
}

static void grow_slots(ks_table *t)
{
	uint32_t cap = t->slots ? (t->mask + 1) * 2 : KS_MIN_SLOTS;
	g_free(t->slots);
	t->slots = g_new0(uint32_t, cap);
	t->mask = cap - 1;
	for (uint32_t i = 0; i < t->n; i++) {
		const unsigned char *k = entry_at(t, i);
		t->slots[find_slot(t, k, hash_key(t, k))] = i + 1;
	}
}

/* Adds key when it is not in s: its table, and its index there (*at_index);
 * *added whether it was added. NULL when key does not fit. */
static ks_table *add_key(cp_keyset *s, const char *key, uint32_t *at_index, bool *added)
{
	unsigned char k[KS_MAX_STRIDE];
	*added = false;
	ks_table *t = stored_key(s, key, true, k);
	if (!t)
		return NULL;
	uint64_t h = hash_key(t, k);
	uint32_t at = t->slots ? find_slot(t, k, h) : 0;
	if (t->slots && t->slots[at]) {
		*at_index = t->slots[at] - 1;
		return t;
	}
	/* At most 4/5 full, counting the key to add. */
	if (!t->slots || (uint64_t)(t->n + 1) * 5 > ((uint64_t)t->mask + 1) * 4) {
		grow_slots(t);
		at = find_slot(t, k, h);
	}
	if (cp_keyset_size(s) >= UINT32_MAX - 1)
		g_error("cp_keyset: more than %u keys", UINT32_MAX - 1);
	uint32_t i = t->n;
	if ((i & (KS_BLOCK - 1)) == 0) {
		if (t->nblocks == t->blocks_cap) {
			t->blocks_cap = t->blocks_cap ? t->blocks_cap * 2 : 8;
			t->blocks = g_renew(unsigned char *, t->blocks, t->blocks_cap);
		}
		t->blocks[t->nblocks++] = g_malloc(KS_BLOCK * t->entry);
	}
	unsigned char *e = entry_at(t, i);
	memcpy(e, k, t->stride);
	memset(e + t->stride, 0, t->entry - t->stride);
	t->slots[at] = i + 1;
	t->n++;
	if (t == &s->raw) {
		if (!s->split_before)
			s->split_before = g_array_new(FALSE, FALSE, sizeof(uint32_t));
		g_array_append_val(s->split_before, s->split.n);
	}
	*at_index = i;
	*added = true;
	return t;
}

void *cp_keyset_add(cp_keyset *s, const char *key, bool *added)
{
	uint32_t i;
	bool was_added;
	ks_table *t = add_key(s, key, &i, &was_added);
	if (added)
		*added = was_added;
	return t ? entry_at(t, i) + t->stride : NULL;
}

int cp_keyset_put(cp_keyset *s, const char *key, size_t *ordinal)
{
	uint32_t i;
	bool added;
	ks_table *t = add_key(s, key, &i, &added);
	if (!t)
		return -1;
	const uint32_t *before = s->split_before ? (const uint32_t *)s->split_before->data : NULL;
	if (t == &s->raw) {
		*ordinal = (size_t)i + before[i];
	} else {
		/* raw keys added before split key i: those whose split_before is
		 * at most i (the list never decreases) */
		size_t lo = 0, hi = s->raw.n;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (before[mid] <= i)
				lo = mid + 1;
			else
				hi = mid;
		}
		*ordinal = (size_t)i + lo;
	}
	return added;
}
