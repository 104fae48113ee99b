/* SPDX-License-Identifier: MIT */
/* What the workbook readers share (sheet.h). */
#include "input/sheet.h"

#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

int cp_sheet_next(cp_sheet *s, cp_sheet_row *row, cp_error **err)
{
	return s->ops->next(s, row, err);
}

double cp_sheet_progress(const cp_sheet *s)
{
	return s->ops->progress ? s->ops->progress(s) : -1;
}

int cp_sheet_pictures(cp_sheet *s, long row, long col, cp_sheet_picture *out, cp_error **err)
{
	*out = (cp_sheet_picture){0};
	return s->ops->pictures ? s->ops->pictures(s, row, col, out, err) : 0;
}

void cp_sheet_picture_clear(cp_sheet_picture *p)
{
	if (!p)
		return;
	g_free(p->missing);
	g_free(p->data);
	*p = (cp_sheet_picture){0};
}

const char *cp_sheet_describe(const cp_sheet *s)
{
	return s->describe;
}

void cp_sheet_free(cp_sheet *s)
{
	if (!s)
		return;
	char *d = s->describe;
	s->ops->free(s);
	g_free(d);
}

void cp_sheet_number_text(double v, char *buf, size_t size)
{
	if (!isfinite(v)) {
		g_strlcpy(buf, "#NUM!", size);
		return;
	}
	if (v == floor(v) && fabs(v) < 1e15) {
		snprintf(buf, size, "%.0f", v);
		return;
	}
	snprintf(buf, size, "%.15G", v);
	/* %G keeps trailing zeros out but writes E+17 as E+17 and 1E-05 as
	 * E-05: Excel writes the same. */
	if (strcmp(buf, "-0") == 0)
		g_strlcpy(buf, "0", size);
}

bool cp_sheet_serial_text(double v, bool date1904, bool time_only, char *buf, size_t size)
{
	if (!isfinite(v) || v < 0 || v >= 2958466.0)
		return false;
	double day = floor(v);
	long secs = lround((v - day) * 86400.0);
	long d = (long)day;
	if (secs >= 86400) {
		secs -= 86400;
		d++;
	}
	int hh = (int)(secs / 3600), mi = (int)(secs / 60 % 60), ss = (int)(secs % 60);
	if (time_only) {
		snprintf(buf, size, "%02d:%02d:%02d", hh, mi, ss);
		return true;
	}
	int y, m, dd;
	if (!date1904 && d == 60) {
		y = 1900, m = 2, dd = 29; /* Lotus 1-2-3's day, kept by Excel */
	} else {
		GDate *g = g_date_new_dmy(date1904 ? 1 : 31, date1904 ? G_DATE_JANUARY
		                                                        : G_DATE_DECEMBER,
		                          date1904 ? 1904 : 1899);
		/* 1900 system: serial 1 is 1900-01-01, and from 61 on one day
		 * less than the count says (the phantom 29 February) */
		long add = date1904 ? d : (d < 60 ? d : d - 1);
		if (!date1904 && d == 0) {
			/* serial 0 shows as 1900-01-00 in Excel: no real date */
			g_date_free(g);
			return false;
		}
		g_date_add_days(g, (guint)add);
		y = g_date_get_year(g), m = g_date_get_month(g), dd = g_date_get_day(g);
		g_date_free(g);
	}
	if (secs)
		snprintf(buf, size, "%04d-%02d-%02d %02d:%02d:%02d", y, m, dd, hh, mi, ss);
	else
		snprintf(buf, size, "%04d-%02d-%02d", y, m, dd);
	return true;
}
