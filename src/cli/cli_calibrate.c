/* SPDX-License-Identifier: MIT */
/* certpress calibrate: print a page of rulers and offset marks, read the
 * printer's offset from the printed sheet, save it as a printer profile. The
 * offset is applied as a transform at output time, never by editing a
 * template. */
#include <getopt.h>
#include <glib.h>
#include <math.h>
#include <stdio.h>

#include <pango/pangocairo.h>

#include "atomic.h"
#include "cli/cli.h"
#include "layout/fonts.h"
#include "cli/cli_common.h"
#include "i18n.h"

static void help(void)
{
	printf(_("Usage: certpress calibrate -o PAGE.pdf [OPTIONS]\n"
	         "       certpress calibrate --printer NAME --offset X,Y [--scale SX,SY] --save\n"
	         "Print a calibration page (rulers, crosshairs and numbered offset marks at\n"
	         "known positions) at actual size, read on the printed sheet where the marks\n"
	         "fell, and save the printer's offset and scale under a name. 'render\n"
	         "--printer NAME' then applies them. Printing the page again with --printer\n"
	         "NAME shows whether the saved values are right: every mark reads 0.\n\n"
	         "Options:\n"
	         "  -o, --output FILE       write the calibration page (PDF, or PNG by name)\n"
	         "      --printer NAME      printer profile to apply, or to save with --save\n"
	         "      --offset X,Y        offset in mm (right and down are positive)\n"
	         "      --scale SX,SY       scale (1 = none; 0.9 to 1.1)\n"
	         "      --save              save --offset/--scale as printer NAME\n"
	         "      --force             save an offset beyond the page's scales (±5 mm)\n"
	         "      --printers-dir DIR  where printer profiles live (default\n"
	         "                          ~/.config/certpress/printers)\n"
	         "      --size W,H          page size in mm (default 210,297: A4)\n"
	         "      --dpi N             resolution of PNG output (default 300)\n"
	         "  -h, --help              show this help\n"));
}

/* Writes the calibration page as PDF (actual size, like certificates) or,
 * for a .png name, as a raster at o->dpi. The page's text is set in the
 * project's own fonts: the private font map becomes Pango's default for this
 * thread, so machine fonts cannot change the page either. */
static bool write_page(const char *path, double w, double h, const cp_output_opts *o,
                       cp_error **err)
{
	char *fonts_dir = cli_data_path("fonts");
	cp_fonts *fonts = cp_fonts_new(fonts_dir, NULL, err);
	g_free(fonts_dir);
	if (!fonts)
		return false;
	pango_cairo_font_map_set_default(PANGO_CAIRO_FONT_MAP(cp_fonts_map(fonts)));
	bool ok = false;
	if (g_str_has_suffix(path, ".png") || g_str_has_suffix(path, ".PNG")) {
		cairo_t *cr = NULL;
		cairo_surface_t *s = cp_raster_new(w, h, o->dpi, &cr, err);
		if (s) {
			ok = cp_calibrate_draw(cr, w, h, o, err);
			cairo_destroy(cr);
			ok = ok && cp_png_write(s, path, o->dpi, err);
			cairo_surface_destroy(s);
		}
	} else {
		cp_doc_info info = {
			.title = "certpress 打印机校准页 Printer calibration page",
			.creator = "certpress " CP_VERSION,
		};
		cp_pdf_writer *pw = cp_pdf_writer_new(path, w, h, &info, err);
		cairo_t *cr = pw ? cp_pdf_writer_begin_page(pw, err) : NULL;
		if (cr && cp_calibrate_draw(cr, w, h, o, err) && cp_pdf_writer_end_page(pw, err)) {
			ok = cp_pdf_writer_commit(pw, err);
			pw = NULL;
		}
		cp_pdf_writer_abort(pw);
	}
	pango_cairo_font_map_set_default(NULL);
	cp_fonts_free(fonts);
	return ok;
}

int cli_calibrate(int argc, char **argv)
{
	enum { OPT_PRINTER = 256, OPT_OFFSET, OPT_SCALE, OPT_SAVE, OPT_DIR, OPT_SIZE, OPT_DPI,
	       OPT_FORCE };
	static const struct option longopts[] = {
		{"output", required_argument, NULL, 'o'},
		{"printer", required_argument, NULL, OPT_PRINTER},
		{"offset", required_argument, NULL, OPT_OFFSET},
		{"scale", required_argument, NULL, OPT_SCALE},
		{"save", no_argument, NULL, OPT_SAVE},
		{"force", no_argument, NULL, OPT_FORCE},
		{"printers-dir", required_argument, NULL, OPT_DIR},
		{"size", required_argument, NULL, OPT_SIZE},
		{"dpi", required_argument, NULL, OPT_DPI},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *out = NULL, *printer = NULL, *dir = NULL, *offset = NULL, *scale = NULL;
	bool save = false, force = false, had_profile = false;
	double w = 210, h = 297;
	long v;
	cp_output_opts oo;
	cp_output_opts_init(&oo);
	int ch;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'o': out = optarg; break;
		case OPT_PRINTER: printer = optarg; break;
		case OPT_OFFSET: offset = optarg; break;
		case OPT_SCALE: scale = optarg; break;
		case OPT_SAVE: save = true; break;
		case OPT_FORCE: force = true; break;
		case OPT_DIR: dir = optarg; break;
		case OPT_SIZE:
			if (!cli_parse_pair(optarg, &w, &h) || w < 50 || h < 50 || w > 1000 || h > 1000)
				return cli_usage_error("calibrate", _("--size takes W,H in millimetres (50 to 1000)"));
			break;
		case OPT_DPI:
			if (!cli_parse_long(optarg, 50, 1200, &v))
				return cli_usage_error("calibrate", _("--dpi must be a whole number from 50 to 1200"));
			oo.dpi = v;
			break;
		case 'h': help(); return 0;
		default: return cli_usage_error("calibrate", _("unknown option"));
		}
	}
	if (optind != argc)
		return cli_usage_error("calibrate", _("unexpected argument '%s'"), argv[optind]);
	if (!out && !save)
		return cli_usage_error("calibrate", _("nothing to do: give -o PAGE.pdf, or --save"));
	if (save && !printer)
		return cli_usage_error("calibrate", _("--save needs --printer NAME"));
	if (save && !offset && !scale)
		return cli_usage_error("calibrate", _("--save needs --offset and/or --scale"));
	if (force && !save)
		return cli_usage_error("calibrate", _("--force goes with --save"));

	cp_error *err = NULL;
	/* Start from the saved profile (if any) so that --save of only the
	 * offset keeps a saved scale, and -o with --printer shows its effect. */
	if (printer && !cp_printer_load(printer, dir, &oo, &err)) {
		if (!save || err->code != CP_E_IO)
			return cli_fail(err);
		cp_error_free(err);
		err = NULL;
	} else if (printer) {
		had_profile = true;
	}
	const cp_output_opts old = oo;
	const double mo = CP_PRINTER_MAX_OFFSET_MM;
	if (offset && (!cli_parse_pair(offset, &oo.offset_x_mm, &oo.offset_y_mm) ||
	               !(fabs(oo.offset_x_mm) <= mo && fabs(oo.offset_y_mm) <= mo)))
		return cli_usage_error("calibrate", _("--offset takes X,Y in millimetres, each between -%g and %g"),
		                       mo, mo);
	if (scale && (!cli_parse_pair(scale, &oo.scale_x, &oo.scale_y) ||
	              oo.scale_x < CP_PRINTER_MIN_SCALE || oo.scale_x > CP_PRINTER_MAX_SCALE ||
	              oo.scale_y < CP_PRINTER_MIN_SCALE || oo.scale_y > CP_PRINTER_MAX_SCALE))
		return cli_usage_error("calibrate", _("--scale takes SX,SY between %g and %g"),
		                       CP_PRINTER_MIN_SCALE, CP_PRINTER_MAX_SCALE);
	/* An offset the page cannot show was not read from it: a typo (3.5
	 * typed 35), or a printer to be repaired rather than compensated. */
	const double ms = CP_CALIBRATE_SCALE_MM;
	if (save && offset && !force && !(fabs(oo.offset_x_mm) <= ms && fabs(oo.offset_y_mm) <= ms))
		return cli_usage_error("calibrate", _("--offset %.2f,%.2f is beyond what the calibration "
		                                      "page measures (its scales run -%g to %g mm); check "
		                                      "the reading, or give --force to save it anyway"),
		                       oo.offset_x_mm, oo.offset_y_mm, ms, ms);
	if (save) {
		if (!cp_printer_save(printer, dir, &oo, &err))
			return cli_fail(err);
		if (had_profile)
			fprintf(stderr, _("certpress: replaced printer '%s': was offset %.2f,%.2f mm, scale "
			                  "%.4f,%.4f; now offset %.2f,%.2f mm, scale %.4f,%.4f\n"),
			        printer, old.offset_x_mm, old.offset_y_mm, old.scale_x, old.scale_y,
			        oo.offset_x_mm, oo.offset_y_mm, oo.scale_x, oo.scale_y);
		else
			fprintf(stderr, _("certpress: saved printer '%s': offset %.2f,%.2f mm, scale %.4f,%.4f\n"),
			        printer, oo.offset_x_mm, oo.offset_y_mm, oo.scale_x, oo.scale_y);
	}
	if (out) {
		if (!cp_atomic_check_target(out, NULL, 0, &err) || !write_page(out, w, h, &oo, &err))
			return cli_fail(err);
		fprintf(stderr, _("certpress: wrote calibration page to %s\n"), out);
	}
	return 0;
}
