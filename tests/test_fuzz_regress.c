/* SPDX-License-Identifier: MIT */
/*
 * Replays the fuzz seed corpora (fuzz/corpus/<target>/) and every input a
 * fuzzer ever found trouble with (tests/data/fuzz-regress/<target>/) through
 * the harnesses themselves, compiled in here, so each past crash, leak or
 * broken invariant stays fixed under `make test` and `make asan`.
 *
 * A harness aborts on a broken invariant and the sanitizers abort on memory
 * errors: either fails this program. The Makefile defines CP_FUZZ_HAVE_<t>
 * for each target whose module is present.
 */
#include "common/testutil.h"

#define CP_FUZZ_REGRESS 1
#include "../fuzz/fuzz.h"

#ifdef CP_FUZZ_HAVE_csv
#include "../fuzz/fuzz_csv.c"
#endif
#ifdef CP_FUZZ_HAVE_conf
#include "../fuzz/fuzz_conf.c"
#endif
#ifdef CP_FUZZ_HAVE_template
#include "../fuzz/fuzz_template.c"
#endif
#ifdef CP_FUZZ_HAVE_profile
#include "../fuzz/fuzz_profile.c"
#endif
#ifdef CP_FUZZ_HAVE_rules
#include "../fuzz/fuzz_rules.c"
#endif
#ifdef CP_FUZZ_HAVE_image
#include "../fuzz/fuzz_image.c"
#endif
#ifdef CP_FUZZ_HAVE_pdfupdate
#include "../fuzz/fuzz_pdfupdate.c"
#endif
#ifdef CP_FUZZ_HAVE_xlsx
#include "../fuzz/fuzz_xlsx.c"
#endif
#ifdef CP_FUZZ_HAVE_pdfjoin
#include "../fuzz/fuzz_pdfjoin.c"
#endif
#ifdef CP_FUZZ_HAVE_sign
#include "../fuzz/fuzz_sign.c"
#endif
#ifdef CP_FUZZ_HAVE_zrun
#include "../fuzz/fuzz_zrun.c"
#endif
#ifdef CP_FUZZ_HAVE_qrtoken
#include "../fuzz/fuzz_qrtoken.c"
#endif
#ifdef CP_FUZZ_HAVE_pngsig
#include "../fuzz/fuzz_pngsig.c"
#endif
#ifdef CP_FUZZ_HAVE_pdfsplit
#include "../fuzz/fuzz_pdfsplit.c"
#endif
#ifdef CP_FUZZ_HAVE_cffhead
#include "../fuzz/fuzz_cffhead.c"
#endif
#ifdef CP_FUZZ_HAVE_qr
#include "../fuzz/fuzz_qr.c"
#endif

typedef struct target {
	const char *name;
	int (*run)(const uint8_t *data, size_t size);
} target;

/* Runs every regular file of dir through t; returns how many. A missing
 * folder counts zero (no crash found yet for that target). */
static unsigned replay_dir(const target *t, const char *dir)
{
	GDir *d = g_dir_open(dir, 0, NULL);
	if (!d)
		return 0;
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	const char *n;
	while ((n = g_dir_read_name(d)))
		g_ptr_array_add(names, g_strdup(n));
	g_dir_close(d);
	/* a fixed order, so a failure reproduces the same way */
	g_ptr_array_sort(names, (GCompareFunc)g_ascii_strcasecmp);
	unsigned count = 0;
	for (guint i = 0; i < names->len; i++) {
		char *path = g_build_filename(dir, names->pdata[i], NULL);
		if (g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
			char *data = NULL;
			gsize len = 0;
			GError *ge = NULL;
			if (!g_file_get_contents(path, &data, &len, &ge))
				g_error("%s: %s", path, ge->message);
			/* printed first: the log names the input that brought a crash */
			g_test_message("replay %s: %s (%zu bytes)", t->name, path, (size_t)len);
			t->run((const uint8_t *)data, len);
			g_free(data);
			count++;
		}
		g_free(path);
	}
	g_ptr_array_free(names, TRUE);
	return count;
}

/* Every seed and every regression input of one target runs to the end
 * without a crash, sanitizer report or broken invariant; the target has
 * seeds at all (an empty corpus would make this test prove nothing). */
static void test_target(gconstpointer data)
{
	const target *t = data;
	char *seeds = g_build_filename(CP_DATADIR, "fuzz", "corpus", t->name, NULL);
	char *regress = tu_path("data/fuzz-regress");
	char *rdir = g_build_filename(regress, t->name, NULL);
	unsigned nseeds = replay_dir(t, seeds);
	unsigned nregress = replay_dir(t, rdir);
	g_test_message("%s: %u seeds, %u regression inputs", t->name, nseeds, nregress);
	g_assert_cmpuint(nseeds, >, 0);
	g_free(seeds);
	g_free(regress);
	g_free(rdir);
}

static const target targets[] = {
#ifdef CP_FUZZ_HAVE_csv
	{"csv", cp_fuzz_csv},
#endif
#ifdef CP_FUZZ_HAVE_conf
	{"conf", cp_fuzz_conf},
#endif
#ifdef CP_FUZZ_HAVE_template
	{"template", cp_fuzz_template},
#endif
#ifdef CP_FUZZ_HAVE_profile
	{"profile", cp_fuzz_profile},
#endif
#ifdef CP_FUZZ_HAVE_rules
	{"rules", cp_fuzz_rules},
#endif
#ifdef CP_FUZZ_HAVE_image
	{"image", cp_fuzz_image},
#endif
#ifdef CP_FUZZ_HAVE_pdfupdate
	{"pdfupdate", cp_fuzz_pdfupdate},
#endif
#ifdef CP_FUZZ_HAVE_xlsx
	{"xlsx", cp_fuzz_xlsx},
#endif
#ifdef CP_FUZZ_HAVE_pdfjoin
	{"pdfjoin", cp_fuzz_pdfjoin},
#endif
#ifdef CP_FUZZ_HAVE_sign
	{"sign", cp_fuzz_sign},
#endif
#ifdef CP_FUZZ_HAVE_zrun
	{"zrun", cp_fuzz_zrun},
#endif
#ifdef CP_FUZZ_HAVE_qrtoken
	{"qrtoken", cp_fuzz_qrtoken},
#endif
#ifdef CP_FUZZ_HAVE_pngsig
	{"pngsig", cp_fuzz_pngsig},
#endif
#ifdef CP_FUZZ_HAVE_pdfsplit
	{"pdfsplit", cp_fuzz_pdfsplit},
#endif
#ifdef CP_FUZZ_HAVE_cffhead
	{"cffhead", cp_fuzz_cffhead},
#endif
#ifdef CP_FUZZ_HAVE_qr
	{"qr", cp_fuzz_qr},
#endif
	{NULL, NULL},
};

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	for (const target *t = targets; t->name; t++) {
		char *name = g_strdup_printf("/fuzz-regress/%s", t->name);
		g_test_add_data_func(name, t, test_target);
		g_free(name);
	}
	return g_test_run();
}
