/* SPDX-License-Identifier: MIT */
/*
 * The compact set of certificate numbers (src/keyset.c), against a
 * GHashTable as the model: keys stored as a lead and nine digits, with the
 * leads' dictionary filling up and full, and keys stored as their bytes;
 * keys that differ only in where the nine digits start or in leading and
 * trailing zeros; payloads that stay where they were while the set grows.
 */
#include "common/testutil.h"

#include <string.h>

#include "keyset.h"

/* A random key of 0..max_len bytes, mostly like a certificate number. */
static char *random_key(GRand *r, size_t max_len)
{
	static const char packable[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
	static const char other[] = "az-_.!~09AZ";
	static const char *const leads[] = {"S0000440001232", "Y000011000012", "", "a-", "S0000440001232 "};
	if (g_rand_int_range(r, 0, 3) == 0) {
		/* A few leads, and 8,000 more than the dictionary takes (4,096):
		 * keys with a lead it has, before and after it is full, and keys
		 * with one it lacks; few enough tails that keys repeat and keys
		 * with other leads share them. */
		char more[16];
		g_snprintf(more, sizeof more, "L%d", g_rand_int_range(r, 0, 8000));
		const char *lead = g_rand_boolean(r) ? more : leads[g_rand_int_range(r, 0, G_N_ELEMENTS(leads))];
		char *k = g_strdup_printf("%s%09d", lead, g_rand_int_range(r, 0, 3000) * 333331);
		if (strlen(k) > max_len)
			k[max_len] = '\0';
		return k;
	}
	size_t len;
	switch (g_rand_int_range(r, 0, 6)) {
	case 0: len = 22; break;
	case 1: len = g_rand_int_range(r, 0, 4); break; /* short keys collide */
	case 2: len = 24; break;
	case 3: len = MIN(max_len, 25); break;
	default: len = g_rand_int_range(r, 0, (gint32)max_len + 1); break;
	}
	len = MIN(len, max_len);
	bool odd = g_rand_int_range(r, 0, 8) == 0;
	char *k = g_malloc(len + 1);
	for (size_t i = 0; i < len; i++)
		k[i] = odd && g_rand_int_range(r, 0, 4) == 0
		               ? other[g_rand_int_range(r, 0, sizeof other - 1)]
		               : packable[g_rand_int_range(r, 0, g_rand_boolean(r) ? 10 : 36)];
	k[len] = '\0';
	return k;
}

static void test_model(void)
{
	GRand *r = g_rand_new_with_seed(20261207);
	cp_keyset *s = cp_keyset_new(32, sizeof(guint64));
	GHashTable *model = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	for (guint64 i = 1; i <= 200000; i++) {
		char *k = random_key(r, 32);
		guint64 *want = g_hash_table_lookup(model, k);
		guint64 *got = cp_keyset_lookup(s, k);
		g_assert_true((want == NULL) == (got == NULL));
		if (want)
			g_assert_cmpuint(*got, ==, *want);
		bool added = true;
		guint64 *p = cp_keyset_add(s, k, &added);
		g_assert_nonnull(p);
		g_assert_true(added == (want == NULL));
		if (added) {
			g_assert_cmpuint(*p, ==, 0); /* a new payload is zeroed */
			*p = i;
			g_hash_table_insert(model, k, g_memdup2(&i, sizeof i));
		} else {
			g_assert_cmpuint(*p, ==, *want);
			g_free(k);
		}
	}
	g_assert_cmpuint(cp_keyset_size(s), ==, g_hash_table_size(model));
	/* every key of the model, once more, after all the growth */
	GHashTableIter it;
	gpointer k, v;
	g_hash_table_iter_init(&it, model);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		guint64 *got = cp_keyset_lookup(s, k);
		g_assert_nonnull(got);
		g_assert_cmpuint(*got, ==, *(guint64 *)v);
	}
	g_hash_table_destroy(model);
	cp_keyset_free(s);
	g_rand_free(r);
}

/* Keys are numbered in the order they were first added, whichever way
 * each is stored: against a model, every time a key is put, and once
 * more for every key at the end. */
static void test_ordinal(void)
{
	GRand *r = g_rand_new_with_seed(20261208);
	cp_keyset *s = cp_keyset_new(32, 0);
	GHashTable *model = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	for (int i = 0; i < 200000; i++) {
		char *k = random_key(r, 32);
		gpointer want;
		bool had = g_hash_table_lookup_extended(model, k, NULL, &want);
		size_t got = 0;
		g_assert_cmpint(cp_keyset_put(s, k, &got), ==, had ? 0 : 1);
		if (had) {
			g_assert_cmpuint(got, ==, GPOINTER_TO_SIZE(want));
			g_free(k);
		} else {
			g_assert_cmpuint(got, ==, g_hash_table_size(model));
			g_hash_table_insert(model, k, GSIZE_TO_POINTER(got));
		}
	}
	GHashTableIter it;
	gpointer k, v;
	g_hash_table_iter_init(&it, model);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		size_t got = 0;
		g_assert_cmpint(cp_keyset_put(s, k, &got), ==, 0);
		g_assert_cmpuint(got, ==, GPOINTER_TO_SIZE(v));
	}
	size_t unused = 7;
	g_assert_cmpint(cp_keyset_put(s, "0123456789012345678901234567890123", &unused), ==, -1);
	g_assert_cmpuint(unused, ==, 7);
	g_hash_table_destroy(model);
	cp_keyset_free(s);
	g_rand_free(r);
}

/* Keys that a careless packing would take for one another. */
static void test_distinct(void)
{
	static const char *const keys[] = {
		"", "0", "00", "000", "A", "A0", "0A", "10", "Z", "ZZ", "a", "A\x01",
		"S000044000123264000001", "S0000440001232640000010", "S00004400012326400000",
		"000000000000000000000000", "0000000000000000000000000", "ZZZZZZZZZZZZZZZZZZZZZZZZ",
		"ZZZZZZZZZZZZZZZZZZZZZZZZZ", "s000044000123264000001", "S000044000123264000001 ",
		"000000000", "0000000000", "A000000000", "A0000000000", "A00000000", "A000000001",
		"4294967295", "999999999", "1999999999", "A999999999", "A1999999999", " 000000000",
	};
	cp_keyset *s = cp_keyset_new(32, 0);
	for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
		g_assert_null(cp_keyset_lookup(s, keys[i]));
		bool added = false;
		g_assert_nonnull(cp_keyset_add(s, keys[i], &added));
		g_assert_true(added);
	}
	g_assert_cmpuint(cp_keyset_size(s), ==, G_N_ELEMENTS(keys));
	for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
		bool added = true;
		g_assert_nonnull(cp_keyset_lookup(s, keys[i]));
		g_assert_nonnull(cp_keyset_add(s, keys[i], &added));
		g_assert_false(added);
	}
	cp_keyset_free(s);
}

static void test_fits(void)
{
	cp_keyset *s = cp_keyset_new(22, 16);
	g_assert_true(cp_keyset_fits(s, "S000044000123264000001"));
	g_assert_false(cp_keyset_fits(s, "S0000440001232640000012"));
	g_assert_false(cp_keyset_fits(s, NULL));
	bool added = true;
	g_assert_null(cp_keyset_add(s, "S0000440001232640000012", &added));
	g_assert_false(added);
	g_assert_null(cp_keyset_lookup(s, "S0000440001232640000012"));
	g_assert_cmpuint(cp_keyset_size(s), ==, 0);
	cp_keyset_free(s);
	g_assert_null(cp_keyset_lookup(NULL, "A") ? (void *)1 : NULL);
	g_assert_cmpuint(cp_keyset_size(NULL), ==, 0);
}

/* A batch's numbers in order: the payloads handed out first stay valid
 * (blocks never move) and every number is found again. */
static void test_batch(void)
{
	cp_keyset *s = cp_keyset_new(22, 2 * sizeof(long));
	long *first = NULL;
	char no[23];
	for (long i = 0; i < 300000; i++) {
		g_snprintf(no, sizeof no, "S00004400012326%07ld", i);
		bool added;
		long *p = cp_keyset_add(s, no, &added);
		g_assert_true(added);
		p[0] = i;
		p[1] = i + 1;
		if (!first)
			first = p;
	}
	g_assert_cmpuint(cp_keyset_size(s), ==, 300000);
	g_assert_true(cp_keyset_lookup(s, "S000044000123260000000") == (void *)first);
	for (long i = 0; i < 300000; i += 7) {
		g_snprintf(no, sizeof no, "S00004400012326%07ld", i);
		long *p = cp_keyset_lookup(s, no);
		g_assert_nonnull(p);
		g_assert_cmpint(p[0], ==, i);
		g_assert_cmpint(p[1], ==, i + 1);
	}
	g_assert_null(cp_keyset_lookup(s, "S000044000123260300000"));
	cp_keyset_free(s);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/keyset/model", test_model);
	g_test_add_func("/keyset/ordinal", test_ordinal);
	g_test_add_func("/keyset/distinct", test_distinct);
	g_test_add_func("/keyset/fits", test_fits);
	g_test_add_func("/keyset/batch", test_batch);
	return g_test_run();
}
