/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "atomic.h"
#include "certpress.h"
#include "input/conf.h"
#include "error.h"
#include "i18n.h"

#define MAX_NAME 64

static bool valid_name(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > MAX_NAME || name[0] == '.')
		return false; /* also rules out "." and ".." */
	for (const char *p = name; *p; p++)
		if (!g_ascii_isalnum(*p) && *p != '.' && *p != '_' && *p != '-')
			return false;
	return true;
}

char *cp_printer_path(const char *name, const char *dir, cp_error **err)
{
	if (!valid_name(name)) {
		cp_set_error(err, CP_E_USAGE, NULL, 0, 0, NULL,
		             _("invalid printer profile name '%s': use 1 to %d letters, digits, "
		               "'.', '_' or '-', not starting with '.'"),
		             name ? name : "", MAX_NAME);
		return NULL;
	}
	char *file = g_strconcat(name, ".conf", NULL);
	char *p = dir ? g_build_filename(dir, file, NULL)
	              : g_build_filename(g_get_user_config_dir(), "certpress", "printers", file,
	                                 NULL);
	g_free(file);
	return p;
}

static bool check_values(const char *path, double ox, double oy, double sx, double sy,
                         cp_error **err)
{
	double m = CP_PRINTER_MAX_OFFSET_MM;
	if (!(fabs(ox) <= m && fabs(oy) <= m)) {
		cp_set_error(err, CP_E_USAGE, path, 0, 0, "offset",
		             _("offset %g %g mm is outside -%g..%g"), ox, oy, m, m);
		return false;
	}
	if (!(sx >= CP_PRINTER_MIN_SCALE && sx <= CP_PRINTER_MAX_SCALE &&
	      sy >= CP_PRINTER_MIN_SCALE && sy <= CP_PRINTER_MAX_SCALE)) {
		cp_set_error(err, CP_E_USAGE, path, 0, 0, "scale", _("scale %g %g is outside %g..%g"),
		             sx, sy, CP_PRINTER_MIN_SCALE, CP_PRINTER_MAX_SCALE);
		return false;
	}
	return true;
}

bool cp_printer_load(const char *name, const char *dir, cp_output_opts *o, cp_error **err)
{
	char *path = cp_printer_path(name, dir, err);
	if (!path)
		return false;
	if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
		cp_set_error(err, CP_E_IO, path, 0, 0, NULL,
		             _("no printer profile named '%s' (run the calibration and save one)"),
		             name);
		g_free(path);
		return false;
	}
	bool ok = false;
	cp_conf *c = cp_conf_load(path, err);
	if (!c)
		goto done;
	const cp_conf_section *sec = NULL;
	for (size_t i = 0; i < c->nsections; i++) {
		const cp_conf_section *s = &c->sections[i];
		if (strcmp(s->kind, "printer") != 0 || s->name || sec) {
			cp_set_error(err, CP_E_PARSE, path, s->line, 0, NULL,
			             _("a printer profile holds exactly one [printer] section"));
			goto done;
		}
		sec = s;
	}
	if (!sec) {
		cp_set_error(err, CP_E_PARSE, path, 0, 0, NULL, _("no [printer] section"));
		goto done;
	}
	double off[2] = {0, 0}, sc[2] = {1, 1};
	double m = CP_PRINTER_MAX_OFFSET_MM;
	if (!cp_conf_numbers(c, sec, "offset", false, 2, -m, m, off, err) ||
	    !cp_conf_numbers(c, sec, "scale", false, 2, CP_PRINTER_MIN_SCALE,
	                     CP_PRINTER_MAX_SCALE, sc, err) ||
	    !cp_conf_check_unused(c, sec, err))
		goto done;
	o->offset_x_mm = off[0];
	o->offset_y_mm = off[1];
	o->scale_x = sc[0];
	o->scale_y = sc[1];
	ok = true;
done:
	cp_conf_free(c);
	g_free(path);
	return ok;
}

bool cp_printer_save(const char *name, const char *dir, const cp_output_opts *o,
                     cp_error **err)
{
	char *path = cp_printer_path(name, dir, err);
	if (!path)
		return false;
	bool ok = false;
	cp_atomic *a = NULL;
	if (!check_values(path, o->offset_x_mm, o->offset_y_mm, o->scale_x, o->scale_y, err))
		goto done;
	char *folder = g_path_get_dirname(path);
	int rc = g_mkdir_with_parents(folder, 0755);
	int e = errno;
	g_free(folder);
	if (rc != 0) {
		cp_set_error(err, CP_E_IO, path, 0, 0, NULL,
		             _("cannot create the printer profile folder: %s"), g_strerror(e));
		goto done;
	}
	a = cp_atomic_open(path, 0, err);
	if (!a)
		goto done;
	/* g_ascii_formatd: a decimal point whatever the locale, so that the
	 * file reads back the same everywhere. */
	char ox[G_ASCII_DTOSTR_BUF_SIZE], oy[G_ASCII_DTOSTR_BUF_SIZE];
	char sx[G_ASCII_DTOSTR_BUF_SIZE], sy[G_ASCII_DTOSTR_BUF_SIZE];
	g_ascii_formatd(ox, sizeof ox, "%.2f", o->offset_x_mm);
	g_ascii_formatd(oy, sizeof oy, "%.2f", o->offset_y_mm);
	g_ascii_formatd(sx, sizeof sx, "%.4f", o->scale_x);
	g_ascii_formatd(sy, sizeof sy, "%.4f", o->scale_y);
	char *text = g_strdup_printf("# certpress printer profile '%s'\n"
	                             "# offset: millimetres added to every position (x y)\n"
	                             "# scale: factor applied about the page's top-left corner\n"
	                             "[printer]\noffset = %s %s\nscale = %s %s\n",
	                             name, ox, oy, sx, sy);
	bool w = cp_atomic_write(a, text, strlen(text), err);
	g_free(text);
	if (!w)
		goto done;
	ok = cp_atomic_commit(a, err);
	a = NULL;
done:
	cp_atomic_abort(a);
	g_free(path);
	return ok;
}
