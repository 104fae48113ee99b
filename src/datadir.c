/* SPDX-License-Identifier: MIT */
#include "datadir.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "certpress.h"

/* dir/rel with every "." and ".." resolved by name (not through symbolic
 * links: bindir comes from /proc/self/exe and is already resolved). */
static char *join_norm(const char *dir, const char *rel)
{
	char *path = g_build_filename(dir, rel, NULL);
	char *canon = g_canonicalize_filename(path, "/");
	g_free(path);
	return canon;
}

static gboolean holds_fonts(const char *dir)
{
	char *m = g_build_filename(dir, "fonts", "fonts.manifest", NULL);
	gboolean yes = g_file_test(m, G_FILE_TEST_IS_REGULAR);
	g_free(m);
	return yes;
}

void cp_datadir_locate(const char *bindir, char **data, char **locale)
{
	static const struct {
		const char *data, *locale;
	} layouts[] = {
		{"../share/certpress", "../share/locale"}, /* <prefix>/bin */
		{"..", "locale"},                          /* <top>/build */
		{"../..", "../locale"},                    /* <top>/build/tests */
	};
	for (size_t i = 0; i < G_N_ELEMENTS(layouts); i++) {
		char *d = join_norm(bindir, layouts[i].data);
		if (holds_fonts(d)) {
			*data = d;
			*locale = join_norm(bindir, layouts[i].locale);
			return;
		}
		g_free(d);
	}
	*data = join_norm(bindir, layouts[0].data);
	*locale = join_norm(bindir, layouts[0].locale);
}

/* Found once: the program does not move while it runs. */
static char *found_data, *found_locale;

static void locate_self(void)
{
	static gsize once = 0;
	if (!g_once_init_enter(&once))
		return;
	char *exe = g_file_read_link("/proc/self/exe", NULL);
	char *bindir = exe ? g_path_get_dirname(exe) : g_get_current_dir();
	cp_datadir_locate(bindir, &found_data, &found_locale);
	g_free(bindir);
	g_free(exe);
	g_once_init_leave(&once, 1);
}

const char *cp_datadir(void)
{
	const char *d = g_getenv("CERTPRESS_DATADIR");
	if (d && *d)
		return d;
	locate_self();
	return found_data;
}

const char *cp_localedir(void)
{
	const char *d = g_getenv("CERTPRESS_LOCALEDIR");
	if (d && *d)
		return d;
	locate_self();
	return found_locale;
}
