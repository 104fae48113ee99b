/* SPDX-License-Identifier: MIT */
/*
 * The .xlsx reader: Office Open XML workbooks as Excel and WPS write them
 * (README "The spreadsheet"), through libzip for the package and expat for
 * the parts.
 *
 * The package: _rels/.rels names the workbook part; its relationships name
 * the sheets, the shared strings (absent when every string is inline, as
 * openpyxl writes) and the styles (which number formats are dates). Part
 * names are found ignoring case, elements and attributes by their local
 * name (writers use prefixes; Strict OOXML uses other namespaces).
 *
 * The sheet is streamed: expat is suspended at the end of every row that
 * holds a cell, so memory stays one row plus the shared strings, whatever
 * the sheet's size.
 *
 * Hostile files: a DTD is refused outright (no writer of workbooks makes
 * one; entities are the way to billion laughs and external files), parts
 * are read up to CP_XLSX_MAX_PART bytes counted as they are inflated (not
 * as the zip's directory claims), the entry count, shared strings, styles,
 * columns and element depth are bounded (xlsx.h).
 */
#include "input/xlsx.h"

#include <errno.h>
#include <expat.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

#include "error.h"
#include "i18n.h"
#include "input/csv.h"
#include "input/sheet.h"

enum { FMT_NUMBER, FMT_DATE, FMT_TIME };

typedef struct xlsx {
	cp_sheet base;
	char *path;
	zip_t *zip;
	bool date1904;
	/* shared strings: one chunk, offsets into it */
	GString *sst;
	GArray *sst_off; /* size_t, count+1 entries */
	/* cellXfs: FMT_* of each style index */
	GByteArray *xf_kind;
	/* pictures anchored on the sheet (pic), in drawing order */
	GArray *pics;
	/* where they are: row << 16 | col → the count there (upper 32 bits)
	 * and the index of the first (lower), as a guint64 */
	GHashTable *pic_at;
	/* pictures in cells: WPS's, name ("ID_…") → media part */
	GHashTable *wps_images;
	/* Excel's: value metadata (vm - 1) → rich value index or -1; rich
	 * value → index in richValueRel, -1 (not an image) or -2 (an image
	 * from the web, IMAGE("https://…"), not in the workbook); that index →
	 * media part (NULL when the relationship is not there) */
	GArray *vm_rv, *rv_rel;
	GPtrArray *rel_media;
	/* the cells of the sheet read so far that hold one (row << 16 | col →
	 * cellpic) */
	GHashTable *cellpics;

	/* the sheet being streamed */
	zip_file_t *zf;
	uint64_t part_size, part_read;
	XML_Parser xp;
	bool suspended, final_fed, done;
	cp_error *error; /* set by a handler; reading stops */
	int depth;
	/* where in the sheet */
	bool in_sheetdata, in_row, in_cell, in_v, in_t, in_rph, in_is, in_f;
	long row, last_row;
	long col, last_col;
	char ctype[12];
	long cstyle;
	long cvm;       /* the cell's vm (value metadata, from 1), or 0 */
	GString *text;  /* <v> or <is> text of the current cell */
	GString *formula; /* <f> of the current cell */
	/* the row being built: cells by column, NULL when empty */
	char **cells;
	bool *number;
	size_t ncells, cap;
	bool row_ready;
} xlsx;

/* ------------------------------------------------------------- helpers */

static const char *local(const char *name)
{
	const char *c = strrchr(name, ':');
	return c ? c + 1 : name;
}

static const char *attr(const char **atts, const char *name)
{
	for (size_t i = 0; atts[i]; i += 2)
		if (strcmp(local(atts[i]), name) == 0)
			return atts[i + 1];
	return NULL;
}

/* Reads a whole part (at most max bytes, counted while inflating). NULL
 * with *err set, or with nothing set when the part is absent and
 * optional. */
static char *read_part(xlsx *x, const char *name, size_t max, bool optional, size_t *len,
                       cp_error **err)
{
	zip_int64_t i = zip_name_locate(x->zip, name, ZIP_FL_NOCASE);
	if (i < 0) {
		if (!optional)
			cp_set_error(err, CP_E_PARSE, x->path, 0, 0, NULL,
			             _("the workbook has no part %s: it is damaged or not an "
			               "Excel workbook"), name);
		return NULL;
	}
	zip_stat_t st;
	if (zip_stat_index(x->zip, (zip_uint64_t)i, 0, &st) == 0 && (st.valid & ZIP_STAT_SIZE) &&
	    st.size > max) {
		cp_set_error(err, CP_E_NOMEM, x->path, 0, 0, NULL,
		             _("the workbook part %s inflates to more than the limit of %zu "
		               "bytes"), name, max);
		return NULL;
	}
	zip_file_t *f = zip_fopen_index(x->zip, (zip_uint64_t)i, 0);
	if (!f) {
		cp_set_error(err, CP_E_PARSE, x->path, 0, 0, NULL,
		             _("cannot read the workbook part %s: %s"), name,
		             zip_strerror(x->zip));
		return NULL;
	}
	GString *g = g_string_sized_new(4096);
	char buf[65536];
	zip_int64_t n;
	while ((n = zip_fread(f, buf, sizeof buf)) > 0) {
		if (g->len + (size_t)n > max) {
			cp_set_error(err, CP_E_NOMEM, x->path, 0, 0, NULL,
			             _("the workbook part %s inflates to more than the limit of "
			               "%zu bytes"), name, max);
			zip_fclose(f);
			g_string_free(g, TRUE);
			return NULL;
		}
		g_string_append_len(g, buf, (gssize)n);
	}
	if (n < 0) {
		cp_set_error(err, CP_E_PARSE, x->path, 0, 0, NULL,
		             _("cannot read the workbook part %s: %s"), name,
		             zip_file_strerror(f));
		zip_fclose(f);
		g_string_free(g, TRUE);
		return NULL;
	}
	zip_fclose(f);
	*len = g->len;
	return g_string_free(g, FALSE);
}

/* ------------------------------------------------------ whole-part parse */

typedef struct part_ctx {
	xlsx *x;
	const char *part;
	int depth;
	cp_error *error;
	XML_Parser xp;
	void (*start)(struct part_ctx *c, const char *el, const char **atts);
	void (*end)(struct part_ctx *c, const char *el);
	void (*text)(struct part_ctx *c, const char *s, int len);
	void *user;
} part_ctx;

static void part_fail(part_ctx *c, cp_code code, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

static void part_fail(part_ctx *c, cp_code code, const char *fmt, ...)
{
	if (!c->error) {
		va_list ap;
		va_start(ap, fmt);
		char *m = g_strdup_vprintf(fmt, ap);
		va_end(ap);
		cp_set_error(&c->error, code, c->x->path, 0, 0, NULL, "%s", m);
		g_free(m);
	}
	XML_StopParser(c->xp, XML_FALSE);
}

static void XMLCALL part_doctype(void *ud, const XML_Char *name, const XML_Char *sys,
                                 const XML_Char *pub, int internal)
{
	part_ctx *c = ud;
	part_fail(c, CP_E_PARSE, _("the workbook part %s declares a DTD, which Excel and "
	                           "WPS never write; refused"), c->part);
}

static void XMLCALL part_start(void *ud, const XML_Char *el, const XML_Char **atts)
{
	part_ctx *c = ud;
	if (++c->depth > CP_XLSX_MAX_DEPTH) {
		part_fail(c, CP_E_PARSE, _("the workbook part %s nests elements deeper than "
		                           "%d levels"), c->part, CP_XLSX_MAX_DEPTH);
		return;
	}
	if (c->start)
		c->start(c, local(el), atts);
}

static void XMLCALL part_end(void *ud, const XML_Char *el)
{
	part_ctx *c = ud;
	c->depth--;
	if (c->end)
		c->end(c, local(el));
}

static void XMLCALL part_text(void *ud, const XML_Char *s, int len)
{
	part_ctx *c = ud;
	if (c->text)
		c->text(c, s, len);
}

/* A parser with the guards every part gets. */
static XML_Parser new_parser(void *ud)
{
	XML_Parser p = XML_ParserCreate(NULL); /* as the part declares: UTF-8 or UTF-16 */
	if (!p)
		return NULL;
	XML_SetUserData(p, ud);
	XML_SetStartDoctypeDeclHandler(p, part_doctype);
	XML_SetParamEntityParsing(p, XML_PARAM_ENTITY_PARSING_NEVER);
	return p;
}

static bool parse_part(part_ctx *c, const char *data, size_t len, cp_error **err)
{
	c->xp = new_parser(c);
	if (!c->xp) {
		cp_set_error(err, CP_E_NOMEM, c->x->path, 0, 0, NULL, _("out of memory"));
		return false;
	}
	XML_SetElementHandler(c->xp, part_start, part_end);
	XML_SetCharacterDataHandler(c->xp, part_text);
	enum XML_Status st = XML_STATUS_OK;
	/* fed in pieces: expat takes an int length */
	for (size_t off = 0; st == XML_STATUS_OK && off <= len;) {
		size_t n = len - off > (1u << 20) ? (1u << 20) : len - off;
		bool last = off + n == len;
		st = XML_Parse(c->xp, data + off, (int)n, last);
		off += n;
		if (last)
			break;
	}
	bool ok = st == XML_STATUS_OK && !c->error;
	if (!ok) {
		if (c->error) {
			cp_propagate_error(err, c->error);
			c->error = NULL;
		} else {
			cp_set_error(err, CP_E_PARSE, c->x->path,
			             (long)XML_GetCurrentLineNumber(c->xp), 0, NULL,
			             _("the workbook part %s is not well-formed XML: %s"), c->part,
			             XML_ErrorString(XML_GetErrorCode(c->xp)));
		}
	}
	XML_ParserFree(c->xp);
	c->xp = NULL;
	return ok;
}

static bool parse_named_part(xlsx *x, part_ctx *c, const char *name, bool optional,
                             size_t max, bool *found, cp_error **err)
{
	size_t len = 0;
	cp_error *e = NULL;
	char *data = read_part(x, name, max, optional, &len, &e);
	*found = data != NULL;
	if (!data) {
		if (e) {
			cp_propagate_error(err, e);
			return false;
		}
		return optional;
	}
	c->x = x;
	c->part = name;
	bool ok = parse_part(c, data, len, err);
	g_free(data);
	return ok;
}

/* ------------------------------------------------------ relationships */

typedef struct rel {
	char *id, *type, *target;
} rel;

static void rels_start(part_ctx *c, const char *el, const char **atts)
{
	if (strcmp(el, "Relationship") != 0)
		return;
	GArray *a = c->user;
	const char *id = attr(atts, "Id"), *type = attr(atts, "Type");
	const char *target = attr(atts, "Target"), *mode = attr(atts, "TargetMode");
	if (!id || !type || !target || (mode && strcmp(mode, "External") == 0))
		return;
	/* a drawing or cellimages.xml relates each of its pictures */
	if (a->len >= CP_XLSX_MAX_PICTURES + CP_XLSX_MAX_SHEETS * 4u) {
		part_fail(c, CP_E_NOMEM, _("the workbook part %s has too many relationships"),
		          c->part);
		return;
	}
	rel r = {g_strdup(id), g_strdup(type), g_strdup(target)};
	g_array_append_val(a, r);
}

static void rels_free(GArray *a)
{
	for (guint i = 0; a && i < a->len; i++) {
		rel *r = &g_array_index(a, rel, i);
		g_free(r->id);
		g_free(r->type);
		g_free(r->target);
	}
	if (a)
		g_array_free(a, TRUE);
}

/* The part a relationship of part `from` points to: relative to from's
 * folder, or absolute from the package root; "." and ".." resolved. */
static char *resolve_target(const char *from, const char *target)
{
	char *base = NULL;
	if (target[0] == '/') {
		base = g_strdup(target + 1);
	} else {
		const char *slash = strrchr(from, '/');
		base = slash ? g_strdup_printf("%.*s/%s", (int)(slash - from), from, target)
		             : g_strdup(target);
	}
	char **parts = g_strsplit(base, "/", -1);
	g_free(base);
	GPtrArray *out = g_ptr_array_new();
	for (size_t i = 0; parts[i]; i++) {
		if (!*parts[i] || strcmp(parts[i], ".") == 0)
			continue;
		if (strcmp(parts[i], "..") == 0) {
			if (out->len)
				g_ptr_array_set_size(out, out->len - 1);
			continue;
		}
		g_ptr_array_add(out, parts[i]);
	}
	g_ptr_array_add(out, NULL);
	char *r = g_strjoinv("/", (char **)out->pdata);
	g_ptr_array_free(out, TRUE);
	g_strfreev(parts);
	return r;
}

/* The rels part of a part: xl/workbook.xml → xl/_rels/workbook.xml.rels. */
static char *rels_name(const char *part)
{
	const char *slash = strrchr(part, '/');
	if (!slash)
		return g_strdup_printf("_rels/%s.rels", part);
	return g_strdup_printf("%.*s/_rels/%s.rels", (int)(slash - part), part, slash + 1);
}

static bool type_is(const char *type, const char *last)
{
	const char *s = strrchr(type, '/');
	return s && strcmp(s + 1, last) == 0;
}

static GArray *load_rels(xlsx *x, const char *name, cp_error **err)
{
	GArray *a = g_array_new(FALSE, TRUE, sizeof(rel));
	part_ctx c = {.start = rels_start, .user = a};
	bool found;
	if (!parse_named_part(x, &c, name, true, CP_XLSX_MAX_META, &found, err)) {
		rels_free(a);
		return NULL;
	}
	return a;
}

/* ------------------------------------------------------------ workbook */

typedef struct sheet_entry {
	char *name, *rid;
	bool hidden;
} sheet_entry;

static void workbook_start(part_ctx *c, const char *el, const char **atts)
{
	GArray *a = c->user;
	if (strcmp(el, "workbookPr") == 0) {
		const char *v = attr(atts, "date1904");
		c->x->date1904 = v && (strcmp(v, "1") == 0 || g_ascii_strcasecmp(v, "true") == 0);
	} else if (strcmp(el, "sheet") == 0) {
		const char *name = attr(atts, "name"), *rid = attr(atts, "id");
		const char *state = attr(atts, "state");
		if (!name || !rid)
			return;
		if (a->len >= CP_XLSX_MAX_SHEETS) {
			part_fail(c, CP_E_NOMEM, _("the workbook has more than %d sheets"),
			          CP_XLSX_MAX_SHEETS);
			return;
		}
		sheet_entry s = {g_strdup(name), g_strdup(rid),
		                 state && strcmp(state, "visible") != 0};
		g_array_append_val(a, s);
	}
}

static void sheets_free(GArray *a)
{
	for (guint i = 0; a && i < a->len; i++) {
		g_free(g_array_index(a, sheet_entry, i).name);
		g_free(g_array_index(a, sheet_entry, i).rid);
	}
	if (a)
		g_array_free(a, TRUE);
}

/* ---------------------------------------------------- shared strings */

typedef struct sst_ctx {
	bool in_si, in_t, in_rph;
	GString *cur;
	bool too_long;
} sst_ctx;

/* Appends s, decoding the _xHHHH_ escapes OOXML uses for characters XML
 * cannot carry. */
static void append_unescaped(GString *g, const char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		if (s[i] == '_' && i + 6 < n && s[i + 1] == 'x' && g_ascii_isxdigit(s[i + 2]) &&
		    g_ascii_isxdigit(s[i + 3]) && g_ascii_isxdigit(s[i + 4]) &&
		    g_ascii_isxdigit(s[i + 5]) && s[i + 6] == '_') {
			gunichar u = (gunichar)g_ascii_strtoull(s + i + 2, NULL, 16);
			if (g_unichar_validate(u) && u != 0) {
				g_string_append_unichar(g, u);
				i += 7;
				continue;
			}
		}
		g_string_append_c(g, s[i++]);
	}
}

static void sst_start(part_ctx *c, const char *el, const char **atts)
{
	sst_ctx *s = c->user;
	if (strcmp(el, "si") == 0) {
		s->in_si = true;
		g_string_truncate(s->cur, 0);
		s->too_long = false;
	} else if (strcmp(el, "rPh") == 0) {
		s->in_rph = true; /* phonetic guide: not the cell's text */
	} else if (strcmp(el, "t") == 0 && s->in_si && !s->in_rph) {
		s->in_t = true;
	}
}

static void sst_end(part_ctx *c, const char *el)
{
	sst_ctx *s = c->user;
	xlsx *x = c->x;
	if (strcmp(el, "t") == 0) {
		s->in_t = false;
	} else if (strcmp(el, "rPh") == 0) {
		s->in_rph = false;
	} else if (strcmp(el, "si") == 0 && s->in_si) {
		s->in_si = false;
		if (x->sst_off->len > CP_XLSX_MAX_STRINGS) {
			part_fail(c, CP_E_NOMEM, _("the workbook has more than %u shared strings"),
			          CP_XLSX_MAX_STRINGS);
			return;
		}
		GString *d = g_string_sized_new(s->cur->len);
		append_unescaped(d, s->cur->str, s->cur->len);
		if (x->sst->len + d->len + 1 > CP_XLSX_MAX_STRING_BYTES) {
			g_string_free(d, TRUE);
			part_fail(c, CP_E_NOMEM, _("the workbook's shared strings take more than "
			                           "the limit of %u bytes"), CP_XLSX_MAX_STRING_BYTES);
			return;
		}
		g_string_append_len(x->sst, d->str, (gssize)d->len);
		g_string_append_c(x->sst, '\0');
		g_string_free(d, TRUE);
		size_t off = x->sst->len;
		g_array_append_val(x->sst_off, off);
	}
}

static void sst_text(part_ctx *c, const char *t, int len)
{
	sst_ctx *s = c->user;
	if (!s->in_t)
		return;
	if (s->cur->len + (size_t)len > CP_CSV_MAX_FIELD) {
		part_fail(c, CP_E_NOMEM, _("a shared string of the workbook is longer than the "
		                           "limit of %u bytes"), CP_CSV_MAX_FIELD);
		return;
	}
	g_string_append_len(s->cur, t, len);
}

/* ---------------------------------------------------------------- styles */

typedef struct styles_ctx {
	GHashTable *custom; /* numFmtId → FMT_* */
	bool in_cellxfs;
	GArray *ids; /* numFmtId of each cellXfs xf */
} styles_ctx;

/* Whether a number format code shows a date, a time of day, or a number:
 * y, m, d, e outside quotes, escapes and [...] make a date; h, s or
 * [h]/[mm]/[ss] without them a time. */
static int classify_format(const char *code)
{
	bool date = false, time = false;
	for (const char *p = code; *p && *p != ';'; p++) {
		char c = g_ascii_tolower(*p);
		if (*p == '"') {
			const char *q = strchr(p + 1, '"');
			if (!q)
				break;
			p = q;
		} else if (*p == '\\' || *p == '_' || *p == '*') {
			if (!p[1])
				break;
			p++;
		} else if (*p == '[') {
			const char *q = strchr(p, ']');
			if (!q)
				break;
			if (q - p >= 2 && strchr("hms", g_ascii_tolower(p[1])))
				time = true; /* [h], [mm], [ss]: elapsed time */
			p = q;
		} else if (g_ascii_strncasecmp(p, "general", 7) == 0) {
			p += 6;
		} else if (g_ascii_strncasecmp(p, "am/pm", 5) == 0) {
			p += 4;
		} else if (g_ascii_strncasecmp(p, "a/p", 3) == 0) {
			p += 2;
		} else if (c == 'y' || c == 'd' || c == 'e') {
			date = true;
		} else if (c == 'm') {
			date = true; /* month, unless hours or seconds say minutes */
		} else if (c == 'h' || c == 's') {
			time = true;
		}
	}
	if (time && !date)
		return FMT_TIME;
	if (time && date) {
		/* "h:mm" alone has m as minutes: a date needs y, d or e */
		bool ymd = false;
		for (const char *p = code; *p && *p != ';'; p++) {
			char c = g_ascii_tolower(*p);
			if (*p == '"') {
				const char *q = strchr(p + 1, '"');
				if (!q)
					break;
				p = q;
			} else if (*p == '[') {
				const char *q = strchr(p, ']');
				if (!q)
					break;
				p = q;
			} else if (*p == '\\' && p[1]) {
				p++;
			} else if (g_ascii_strncasecmp(p, "general", 7) == 0) {
				p += 6;
			} else if (c == 'y' || c == 'd' || c == 'e') {
				ymd = true;
			}
		}
		return ymd ? FMT_DATE : FMT_TIME;
	}
	return date ? FMT_DATE : FMT_NUMBER;
}

/* Built-in number formats (ECMA-376 18.8.30, with the zh-CN ids 27-36 and
 * 50-58 Excel and WPS write for Chinese dates). */
static int builtin_kind(long id)
{
	if ((id >= 14 && id <= 17) || id == 22 || (id >= 27 && id <= 31) || id == 36 ||
	    (id >= 50 && id <= 54) || id == 57 || id == 58)
		return FMT_DATE;
	if ((id >= 18 && id <= 21) || (id >= 45 && id <= 47) || (id >= 32 && id <= 35) ||
	    id == 55 || id == 56)
		return FMT_TIME;
	return FMT_NUMBER;
}

static void styles_start(part_ctx *c, const char *el, const char **atts)
{
	styles_ctx *s = c->user;
	if (strcmp(el, "numFmt") == 0) {
		const char *id = attr(atts, "numFmtId"), *code = attr(atts, "formatCode");
		if (!id || !code)
			return;
		if (g_hash_table_size(s->custom) >= CP_XLSX_MAX_STYLES) {
			part_fail(c, CP_E_NOMEM, _("the workbook has more than %u number formats"),
			          CP_XLSX_MAX_STYLES);
			return;
		}
		g_hash_table_insert(s->custom, GINT_TO_POINTER((int)strtol(id, NULL, 10)),
		                    GINT_TO_POINTER(classify_format(code) + 1));
	} else if (strcmp(el, "cellXfs") == 0) {
		s->in_cellxfs = true;
	} else if (strcmp(el, "xf") == 0 && s->in_cellxfs) {
		if (s->ids->len >= CP_XLSX_MAX_STYLES) {
			part_fail(c, CP_E_NOMEM, _("the workbook has more than %u cell styles"),
			          CP_XLSX_MAX_STYLES);
			return;
		}
		const char *id = attr(atts, "numFmtId");
		long v = id ? strtol(id, NULL, 10) : 0;
		g_array_append_val(s->ids, v);
	}
}

static void styles_end(part_ctx *c, const char *el)
{
	styles_ctx *s = c->user;
	if (strcmp(el, "cellXfs") == 0)
		s->in_cellxfs = false;
}

/* -------------------------------------------------------------- drawings */

typedef struct pic {
	long row, col;   /* the anchor's top-left cell: row from 1, column from 0 */
	long to_row;     /* the row its bottom edge reaches into, or 0 */
	char *media;     /* the part holding the image */
} pic;

typedef struct drawing_ctx {
	GArray *rels;    /* of the drawing part */
	const char *part;
	int anchor;      /* 0 none, 1 one-cell, 2 two-cell */
	int where;       /* 1 in <from>, 2 in <to> */
	int field;       /* 1 <col>, 2 <row>, 3 <rowOff> */
	GString *text;
	long from_col, from_row, to_row, to_rowoff;
	char *embed;
} drawing_ctx;

static void drawing_start(part_ctx *c, const char *el, const char **atts)
{
	drawing_ctx *d = c->user;
	if (strcmp(el, "oneCellAnchor") == 0 || strcmp(el, "twoCellAnchor") == 0) {
		d->anchor = el[0] == 'o' ? 1 : 2;
		d->from_col = d->from_row = -1;
		d->to_row = -1;
		d->to_rowoff = 0;
		g_free(d->embed);
		d->embed = NULL;
	} else if (!d->anchor) {
		return;
	} else if (strcmp(el, "from") == 0) {
		d->where = 1;
	} else if (strcmp(el, "to") == 0) {
		d->where = 2;
	} else if (d->where && (strcmp(el, "col") == 0 || strcmp(el, "row") == 0 ||
	                        strcmp(el, "rowOff") == 0)) {
		d->field = el[0] == 'c' ? 1 : strcmp(el, "row") == 0 ? 2 : 3;
		g_string_truncate(d->text, 0);
	} else if (strcmp(el, "blip") == 0) {
		const char *e = attr(atts, "embed");
		if (e && !d->embed)
			d->embed = g_strdup(e);
	}
}

static void drawing_end(part_ctx *c, const char *el)
{
	drawing_ctx *d = c->user;
	xlsx *x = c->x;
	if (d->field && (strcmp(el, "col") == 0 || strcmp(el, "row") == 0 ||
	                 strcmp(el, "rowOff") == 0)) {
		long v = strtol(d->text->str, NULL, 10);
		if (d->where == 1 && d->field == 1)
			d->from_col = v;
		else if (d->where == 1 && d->field == 2)
			d->from_row = v;
		else if (d->where == 2 && d->field == 2)
			d->to_row = v;
		else if (d->where == 2 && d->field == 3)
			d->to_rowoff = v;
		d->field = 0;
	} else if (strcmp(el, "from") == 0 || strcmp(el, "to") == 0) {
		d->where = 0;
	} else if (d->anchor && (strcmp(el, "oneCellAnchor") == 0 ||
	                         strcmp(el, "twoCellAnchor") == 0)) {
		const rel *r = NULL;
		for (guint i = 0; d->embed && i < d->rels->len && !r; i++)
			if (strcmp(g_array_index(d->rels, rel, i).id, d->embed) == 0)
				r = &g_array_index(d->rels, rel, i);
		if (r && d->from_row >= 0 && d->from_row < CP_XLSX_MAX_ROWNUM && d->from_col >= 0 &&
		    d->from_col < (long)CP_CSV_MAX_COLUMNS) {
			if (x->pics->len >= CP_XLSX_MAX_PICTURES) {
				part_fail(c, CP_E_NOMEM, _("the workbook has more than %u pictures"),
				          CP_XLSX_MAX_PICTURES);
				return;
			}
			/* the bottom edge at the very top of the next row is still
			 * within this one */
			long to = d->anchor == 2 && d->to_row >= 0
			                  ? d->to_row + 1 - (d->to_row > d->from_row && d->to_rowoff == 0)
			                  : 0;
			if (to && to < d->from_row + 1)
				to = d->from_row + 1; /* a bottom edge above the top: its own row */
			pic p = {d->from_row + 1, d->from_col, to, resolve_target(d->part, r->target)};
			g_array_append_val(x->pics, p);
			gint64 key = (gint64)p.row << 16 | p.col;
			guint64 *at = g_hash_table_lookup(x->pic_at, &key);
			if (at) {
				*at += (guint64)1 << 32;
			} else {
				gint64 *k = g_new(gint64, 1);
				*k = key;
				at = g_new(guint64, 1);
				*at = (guint64)1 << 32 | (x->pics->len - 1);
				g_hash_table_insert(x->pic_at, k, at);
			}
		}
		d->anchor = 0;
	}
}

static void drawing_text(part_ctx *c, const char *t, int len)
{
	drawing_ctx *d = c->user;
	if (d->field && d->text->len < 32)
		g_string_append_len(d->text, t, len);
}

/* The pictures of the sheet's drawings (sheet → drawing → image). */
static bool load_pictures(xlsx *x, const char *sheet_part, cp_error **err)
{
	char *rn = rels_name(sheet_part);
	GArray *srels = load_rels(x, rn, err);
	g_free(rn);
	if (!srels)
		return false;
	bool ok = true;
	for (guint i = 0; ok && i < srels->len; i++) {
		const rel *r = &g_array_index(srels, rel, i);
		if (!type_is(r->type, "drawing"))
			continue;
		char *dpart = resolve_target(sheet_part, r->target);
		char *drn = rels_name(dpart);
		GArray *drels = load_rels(x, drn, err);
		if (drels) {
			drawing_ctx d = {.rels = drels, .part = dpart, .text = g_string_new(NULL)};
			part_ctx c = {.start = drawing_start, .end = drawing_end,
			              .text = drawing_text, .user = &d};
			bool found;
			ok = parse_named_part(x, &c, dpart, true, CP_XLSX_MAX_META, &found, err);
			g_free(d.embed);
			g_string_free(d.text, TRUE);
			rels_free(drels);
		} else {
			ok = false;
		}
		g_free(drn);
		g_free(dpart);
	}
	rels_free(srels);
	return ok;
}

/* ------------------------------------------------------ pictures in cells */

/* A picture placed in a cell as its value, two ways:
 *  - WPS: the cell holds the formula DISPIMG("ID_…",1) (its cached value
 *    the same text); xl/cellimages.xml (relationship type …/cellImage)
 *    lists the pictures, each an xdr:pic whose cNvPr name is the ID and
 *    whose blip r:embed names the image in xl/_rels/cellimages.xml.rels.
 *  - Excel 365 (Place in Cell, IMAGE): the cell is an error #VALUE! with
 *    vm="N", the N-th (from 1) valueMetadata block of xl/metadata.xml;
 *    its rc t names the metadata type (from 1: XLRICHVALUE) and v the
 *    futureMetadata block of that name (from 0), whose xlrd:rvb i is the
 *    rich value (xl/richData/rdrichvalue.xml, rv from 0). The rv's values
 *    follow the keys of its structure (rdrichvaluestructure.xml, s from 0);
 *    the key _rvRel:LocalImageIdentifier is the index of a rel in
 *    richValueRel.xml, whose r:id its .rels resolves to the image. A
 *    structure with WebImageIdentifier instead is IMAGE("https://…"): a
 *    picture, but not in the workbook.
 * (The shapes XlsxWriter writes for embed_image() and WPS for 嵌入单元格;
 * tests/data/workbook/gen_incell.py makes both.) */

typedef struct cellpic {
	char *media;   /* the image part, or NULL when the workbook lacks it */
	char *ref;     /* how the cell names it: DISPIMG "ID_…", or vm="3" */
} cellpic;

static void cellpic_free(gpointer p)
{
	cellpic *c = p;
	g_free(c->media);
	g_free(c->ref);
	g_free(c);
}

static const char *rel_target(GArray *rels, const char *id)
{
	for (guint i = 0; id && rels && i < rels->len; i++)
		if (strcmp(g_array_index(rels, rel, i).id, id) == 0)
			return g_array_index(rels, rel, i).target;
	return NULL;
}

typedef struct wps_ctx {
	GArray *rels;
	char *name, *embed;
} wps_ctx;

static void wps_start(part_ctx *c, const char *el, const char **atts)
{
	wps_ctx *w = c->user;
	if (strcmp(el, "pic") == 0) {
		g_clear_pointer(&w->name, g_free);
		g_clear_pointer(&w->embed, g_free);
	} else if (strcmp(el, "cNvPr") == 0 && !w->name) {
		const char *n = attr(atts, "name");
		w->name = n ? g_strdup(n) : NULL;
	} else if (strcmp(el, "blip") == 0 && !w->embed) {
		const char *e = attr(atts, "embed");
		w->embed = e ? g_strdup(e) : NULL;
	}
}

static void wps_end(part_ctx *c, const char *el)
{
	wps_ctx *w = c->user;
	if (strcmp(el, "pic") != 0)
		return;
	const char *target = rel_target(w->rels, w->embed);
	if (w->name && target) {
		if (g_hash_table_size(c->x->wps_images) >= CP_XLSX_MAX_PICTURES) {
			part_fail(c, CP_E_NOMEM, _("the workbook has more than %u pictures"),
			          CP_XLSX_MAX_PICTURES);
			return;
		}
		g_hash_table_replace(c->x->wps_images, g_strdup(w->name),
		                     resolve_target(c->part, target));
	}
	g_clear_pointer(&w->name, g_free);
	g_clear_pointer(&w->embed, g_free);
}

/* The part the workbook relates with a type ending in `type`, or `fallback`
 * when it has no such relationship but the package holds that part. */
static char *related_part(xlsx *x, const char *wbname, GArray *wbrels, const char *type,
                          const char *fallback)
{
	for (guint i = 0; wbrels && i < wbrels->len; i++) {
		const rel *r = &g_array_index(wbrels, rel, i);
		const char *s = strrchr(r->type, '/');
		if (s && g_ascii_strcasecmp(s + 1, type) == 0)
			return resolve_target(wbname, r->target);
	}
	if (fallback && zip_name_locate(x->zip, fallback, ZIP_FL_NOCASE) >= 0)
		return g_strdup(fallback);
	return NULL;
}

static bool load_wps_images(xlsx *x, const char *wbname, GArray *wbrels, cp_error **err)
{
	char *part = related_part(x, wbname, wbrels, "cellImage", "xl/cellimages.xml");
	if (!part)
		return true;
	char *rn = rels_name(part);
	GArray *rels = load_rels(x, rn, err);
	g_free(rn);
	bool ok = rels != NULL;
	if (ok) {
		wps_ctx w = {.rels = rels};
		part_ctx c = {.start = wps_start, .end = wps_end, .user = &w};
		bool found;
		ok = parse_named_part(x, &c, part, true, CP_XLSX_MAX_META, &found, err);
		g_free(w.name);
		g_free(w.embed);
		rels_free(rels);
	}
	g_free(part);
	return ok;
}

/* Appends v to a bounded array of longs. */
static bool push_long(part_ctx *c, GArray *a, long v)
{
	if (a->len >= CP_XLSX_MAX_PICTURES) {
		part_fail(c, CP_E_NOMEM, _("the workbook part %s has more than %u entries"),
		          c->part, CP_XLSX_MAX_PICTURES);
		return false;
	}
	g_array_append_val(a, v);
	return true;
}

static long attr_long(const char **atts, const char *name, long dflt)
{
	const char *v = attr(atts, name);
	if (!v)
		return dflt;
	char *end;
	errno = 0;
	long n = strtol(v, &end, 10);
	return *end || errno || n < 0 || n > (long)CP_XLSX_MAX_PICTURES * 16 ? dflt : n;
}

typedef struct meta_ctx {
	GPtrArray *types;  /* metadataType names */
	GArray *future;    /* XLRICHVALUE futureMetadata blocks: rich value or -1 */
	GArray *rc_t, *rc_v; /* valueMetadata blocks */
	int in;            /* 1 XLRICHVALUE futureMetadata, 2 valueMetadata */
	bool rc_seen;
} meta_ctx;

static void meta_start(part_ctx *c, const char *el, const char **atts)
{
	meta_ctx *m = c->user;
	if (strcmp(el, "metadataType") == 0) {
		const char *n = attr(atts, "name");
		if (m->types->len >= 1000) {
			part_fail(c, CP_E_NOMEM, _("the workbook part %s has more than %u entries"),
			          c->part, 1000u);
			return;
		}
		g_ptr_array_add(m->types, g_strdup(n ? n : ""));
	} else if (strcmp(el, "futureMetadata") == 0) {
		const char *n = attr(atts, "name");
		m->in = n && strcmp(n, "XLRICHVALUE") == 0 ? 1 : 0;
	} else if (strcmp(el, "valueMetadata") == 0) {
		m->in = 2;
	} else if (strcmp(el, "bk") == 0 && m->in == 1) {
		push_long(c, m->future, -1);
	} else if (strcmp(el, "rvb") == 0 && m->in == 1 && m->future->len) {
		g_array_index(m->future, long, m->future->len - 1) = attr_long(atts, "i", -1);
	} else if (strcmp(el, "bk") == 0 && m->in == 2) {
		if (push_long(c, m->rc_t, -1))
			push_long(c, m->rc_v, -1);
		m->rc_seen = false;
	} else if (strcmp(el, "rc") == 0 && m->in == 2 && m->rc_t->len && !m->rc_seen) {
		m->rc_seen = true;
		g_array_index(m->rc_t, long, m->rc_t->len - 1) = attr_long(atts, "t", -1);
		g_array_index(m->rc_v, long, m->rc_v->len - 1) = attr_long(atts, "v", -1);
	}
}

static void meta_end(part_ctx *c, const char *el)
{
	meta_ctx *m = c->user;
	if (strcmp(el, "futureMetadata") == 0 || strcmp(el, "valueMetadata") == 0)
		m->in = 0;
}

/* rdrichvaluestructure.xml: for each structure, the position of the key
 * _rvRel:LocalImageIdentifier among its keys, -2 for an image from the web
 * (_webimage: a WebImageIdentifier, the address kept elsewhere), or -1. */
typedef struct struct_ctx {
	GArray *keypos;
	long nkeys;
} struct_ctx;

static void struct_start(part_ctx *c, const char *el, const char **atts)
{
	struct_ctx *r = c->user;
	if (strcmp(el, "s") == 0) {
		push_long(c, r->keypos, -1);
		r->nkeys = 0;
	} else if (strcmp(el, "k") == 0 && r->keypos->len) {
		const char *n = attr(atts, "n");
		long *pos = &g_array_index(r->keypos, long, r->keypos->len - 1);
		if (n && strcmp(n, "_rvRel:LocalImageIdentifier") == 0)
			*pos = r->nkeys;
		else if (n && strcmp(n, "WebImageIdentifier") == 0 && *pos == -1)
			*pos = -2;
		r->nkeys++;
	}
}

/* rdrichvalue.xml: for each rich value, its image's index in
 * richValueRel.xml, or -1 (x->rv_rel). */
typedef struct rv_ctx {
	GArray *keypos;
	long pos, want;
	bool in_rv, in_v;
	GString *text;
} rv_ctx;

static void rv_start(part_ctx *c, const char *el, const char **atts)
{
	rv_ctx *r = c->user;
	if (strcmp(el, "rv") == 0) {
		long s = attr_long(atts, "s", -1);
		r->want = s >= 0 && (guint)s < r->keypos->len ? g_array_index(r->keypos, long, s)
		                                               : -1;
		r->pos = 0;
		r->in_rv = true;
		push_long(c, c->x->rv_rel, r->want == -2 ? -2 : -1);
	} else if (strcmp(el, "v") == 0 && r->in_rv) {
		r->in_v = true;
		g_string_truncate(r->text, 0);
	}
}

static void rv_end(part_ctx *c, const char *el)
{
	rv_ctx *r = c->user;
	if (strcmp(el, "rv") == 0) {
		r->in_rv = false;
	} else if (strcmp(el, "v") == 0 && r->in_v) {
		r->in_v = false;
		if (r->pos++ == r->want && c->x->rv_rel->len) {
			char *end;
			errno = 0;
			long n = strtol(r->text->str, &end, 10);
			if (!*end && !errno && end != r->text->str && n >= 0)
				g_array_index(c->x->rv_rel, long, c->x->rv_rel->len - 1) = n;
		}
	}
}

static void rv_text(part_ctx *c, const char *t, int len)
{
	rv_ctx *r = c->user;
	if (r->in_v && r->text->len < 32)
		g_string_append_len(r->text, t, len);
}

/* richValueRel.xml: the r:id of each rel. */
static void relid_start(part_ctx *c, const char *el, const char **atts)
{
	GPtrArray *ids = c->user;
	if (strcmp(el, "rel") != 0)
		return;
	if (ids->len >= CP_XLSX_MAX_PICTURES) {
		part_fail(c, CP_E_NOMEM, _("the workbook part %s has more than %u entries"),
		          c->part, CP_XLSX_MAX_PICTURES);
		return;
	}
	const char *id = attr(atts, "id");
	g_ptr_array_add(ids, g_strdup(id ? id : ""));
}

static bool parse_related(xlsx *x, const char *wbname, GArray *wbrels, const char *type,
                          const char *fallback, part_ctx *c, cp_error **err)
{
	char *part = related_part(x, wbname, wbrels, type, fallback);
	if (!part)
		return true;
	bool found;
	bool ok = parse_named_part(x, c, part, true, CP_XLSX_MAX_META, &found, err);
	g_free(part);
	return ok;
}

/* Excel's rich values: what each vm of the sheet's cells stands for. */
static bool load_rich_images(xlsx *x, const char *wbname, GArray *wbrels, cp_error **err)
{
	meta_ctx m = {g_ptr_array_new_with_free_func(g_free), g_array_new(FALSE, FALSE, sizeof(long)),
	              g_array_new(FALSE, FALSE, sizeof(long)), g_array_new(FALSE, FALSE, sizeof(long)),
	              0, false};
	struct_ctx st = {g_array_new(FALSE, FALSE, sizeof(long)), 0};
	rv_ctx rv = {.keypos = st.keypos, .text = g_string_new(NULL)};
	GPtrArray *ids = g_ptr_array_new_with_free_func(g_free);
	part_ctx mc = {.start = meta_start, .end = meta_end, .user = &m};
	part_ctx sc = {.start = struct_start, .user = &st};
	part_ctx vc = {.start = rv_start, .end = rv_end, .text = rv_text, .user = &rv};
	part_ctx ic = {.start = relid_start, .user = ids};
	char *relpart = NULL, *rn = NULL;
	GArray *rels = NULL;
	bool ok = parse_related(x, wbname, wbrels, "sheetMetadata", "xl/metadata.xml", &mc, err) &&
	          parse_related(x, wbname, wbrels, "rdRichValueStructure",
	                        "xl/richData/rdrichvaluestructure.xml", &sc, err) &&
	          parse_related(x, wbname, wbrels, "rdRichValue", "xl/richData/rdrichvalue.xml",
	                        &vc, err);
	if (ok) {
		relpart = related_part(x, wbname, wbrels, "richValueRel",
		                       "xl/richData/richValueRel.xml");
		if (relpart) {
			bool found;
			ok = parse_named_part(x, &ic, relpart, true, CP_XLSX_MAX_META, &found, err);
			rn = rels_name(relpart);
			if (ok)
				ok = (rels = load_rels(x, rn, err)) != NULL;
		}
	}
	if (ok) {
		for (guint i = 0; i < m.rc_t->len; i++) {
			long t = g_array_index(m.rc_t, long, i), v = g_array_index(m.rc_v, long, i);
			long rvi = -1;
			if (t >= 1 && (guint)t <= m.types->len &&
			    strcmp(g_ptr_array_index(m.types, t - 1), "XLRICHVALUE") == 0 && v >= 0 &&
			    (guint)v < m.future->len)
				rvi = g_array_index(m.future, long, v);
			g_array_append_val(x->vm_rv, rvi);
		}
		for (guint i = 0; i < ids->len; i++) {
			const char *target = rel_target(rels, g_ptr_array_index(ids, i));
			g_ptr_array_add(x->rel_media, target ? resolve_target(relpart, target) : NULL);
		}
	}
	g_ptr_array_free(m.types, TRUE);
	g_array_free(m.future, TRUE);
	g_array_free(m.rc_t, TRUE);
	g_array_free(m.rc_v, TRUE);
	g_array_free(st.keypos, TRUE);
	g_string_free(rv.text, TRUE);
	g_ptr_array_free(ids, TRUE);
	rels_free(rels);
	g_free(rn);
	g_free(relpart);
	return ok;
}

/* The DISPIMG ID of a formula or cached value, =DISPIMG("ID_…",1) in any
 * case, with _xlfn. or @ before it; NULL when it is something else. */
static char *dispimg_id(const char *s)
{
	while (*s == ' ' || *s == '=' || *s == '@')
		s++;
	if (g_ascii_strncasecmp(s, "_xlfn.", 6) == 0)
		s += 6;
	if (g_ascii_strncasecmp(s, "DISPIMG(", 8) != 0)
		return NULL;
	s += 8;
	while (*s == ' ')
		s++;
	if (*s != '"')
		return NULL;
	const char *q = strchr(s + 1, '"');
	if (!q || q == s + 1 || q - s > 256)
		return NULL;
	return g_strndup(s + 1, (gsize)(q - s - 1));
}

/* The picture the current cell holds as its value, when it holds one: its
 * part (or NULL when the workbook lacks it) and how the cell names it. */
static bool cell_picture(xlsx *x, char **media, char **ref)
{
	*media = *ref = NULL;
	if (x->cvm > 0) {
		long rvi = -2; /* -2: the workbook does not say */
		if ((guint)x->cvm <= x->vm_rv->len) {
			rvi = g_array_index(x->vm_rv, long, x->cvm - 1);
			if (rvi == -1)
				return false; /* value metadata of another kind */
		}
		if (rvi >= 0 && (guint)rvi < x->rv_rel->len) {
			long ri = g_array_index(x->rv_rel, long, rvi);
			if (ri == -1)
				return false; /* a rich value that is not an image (a data type) */
			if ((guint)ri < x->rel_media->len && g_ptr_array_index(x->rel_media, ri))
				*media = g_strdup(g_ptr_array_index(x->rel_media, ri));
		}
		*ref = g_strdup_printf("vm=\"%ld\"", x->cvm);
		return true;
	}
	char *id = x->formula->len ? dispimg_id(x->formula->str) : NULL;
	if (!id && strcmp(x->ctype, "str") == 0)
		id = dispimg_id(x->text->str);
	if (!id)
		return false;
	const char *m = g_hash_table_lookup(x->wps_images, id);
	*media = m ? g_strdup(m) : NULL;
	*ref = g_strdup_printf("DISPIMG \"%s\"", id);
	g_free(id);
	return true;
}

static int xlsx_pictures(cp_sheet *s, long row, long col, cp_sheet_picture *out, cp_error **err)
{
	xlsx *x = (xlsx *)s;
	const pic *first = NULL;
	gint64 key = (gint64)row << 16 | col;
	const guint64 *at = g_hash_table_lookup(x->pic_at, &key);
	if (at) {
		out->anchored = (int)(*at >> 32);
		first = &g_array_index(x->pics, pic, (guint)(*at & 0xffffffffu));
	}
	const cellpic *cp = g_hash_table_lookup(x->cellpics, &key);
	out->in_cell = cp != NULL;
	if (first)
		out->to_row = first->to_row;
	if (cp && (!cp->media || zip_name_locate(x->zip, cp->media, ZIP_FL_NOCASE) < 0))
		out->missing = g_strdup(cp->ref);
	int n = out->anchored + out->in_cell;
	if (n != 1 || out->missing)
		return n;
	size_t l = 0;
	char *bytes = read_part(x, cp ? cp->media : first->media, CP_IMAGE_FILE_MAX, false, &l, err);
	if (!bytes)
		return -1;
	out->data = (unsigned char *)bytes;
	out->len = l;
	return n;
}

/* ---------------------------------------------------------------- sheet */

static void sheet_fail(xlsx *x, cp_code code, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

static void sheet_fail(xlsx *x, cp_code code, const char *fmt, ...)
{
	if (!x->error) {
		va_list ap;
		va_start(ap, fmt);
		char *m = g_strdup_vprintf(fmt, ap);
		va_end(ap);
		cp_set_error(&x->error, code, x->path, x->row, x->row, NULL, "%s", m);
		g_free(m);
	}
	XML_StopParser(x->xp, XML_FALSE);
}

static void XMLCALL sheet_doctype(void *ud, const XML_Char *name, const XML_Char *sys,
                                  const XML_Char *pub, int internal)
{
	sheet_fail(ud, CP_E_PARSE, _("the sheet declares a DTD, which Excel and WPS never "
	                             "write; refused"));
}

static void clear_row(xlsx *x)
{
	for (size_t i = 0; i < x->ncells; i++) {
		g_free(x->cells[i]);
		x->cells[i] = NULL;
		x->number[i] = false;
	}
	x->ncells = 0;
}

/* "AB12" → column 27 (0-based), row 12; false when it is not a reference. */
static bool parse_ref(const char *r, long *col, long *row)
{
	long c = 0;
	const char *p = r;
	while (g_ascii_isalpha(*p) && p - r < 3)
		c = c * 26 + (g_ascii_toupper(*p++) - 'A' + 1);
	if (p == r || !g_ascii_isdigit(*p))
		return false;
	char *end;
	errno = 0;
	long n = strtol(p, &end, 10);
	if (*end || errno || n < 1 || n > CP_XLSX_MAX_ROWNUM)
		return false;
	*col = c - 1;
	*row = n;
	return true;
}

static void XMLCALL sheet_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	xlsx *x = ud;
	if (++x->depth > CP_XLSX_MAX_DEPTH) {
		sheet_fail(x, CP_E_PARSE, _("the sheet nests elements deeper than %d levels"),
		           CP_XLSX_MAX_DEPTH);
		return;
	}
	const char *el = local(name);
	if (strcmp(el, "sheetData") == 0) {
		x->in_sheetdata = true;
	} else if (!x->in_sheetdata) {
		return;
	} else if (strcmp(el, "row") == 0) {
		const char *r = attr(atts, "r");
		long n = x->last_row + 1;
		if (r) {
			char *end;
			errno = 0;
			n = strtol(r, &end, 10);
			if (*end || errno || n < 1 || n > CP_XLSX_MAX_ROWNUM) {
				sheet_fail(x, CP_E_PARSE, _("the sheet has a row numbered \"%s\""), r);
				return;
			}
		}
		if (n <= x->last_row) {
			sheet_fail(x, CP_E_PARSE, _("the sheet's rows are out of order (row %ld "
			                            "after row %ld)"), n, x->last_row);
			return;
		}
		x->row = n;
		x->in_row = true;
		x->last_col = -1;
		clear_row(x);
	} else if (strcmp(el, "c") == 0 && x->in_row) {
		const char *r = attr(atts, "r"), *t = attr(atts, "t"), *s = attr(atts, "s");
		long col = x->last_col + 1, row = x->row;
		if (r && (!parse_ref(r, &col, &row) || row != x->row)) {
			sheet_fail(x, CP_E_PARSE, _("the sheet has a cell \"%s\" that is not a "
			                            "cell of row %ld"), r, x->row);
			return;
		}
		if (col >= (long)CP_CSV_MAX_COLUMNS) {
			sheet_fail(x, CP_E_NOMEM, _("the row has a cell beyond the limit of %u "
			                            "columns"), CP_CSV_MAX_COLUMNS);
			return;
		}
		x->col = col;
		x->last_col = col;
		g_strlcpy(x->ctype, t ? t : "n", sizeof x->ctype);
		x->cstyle = s ? strtol(s, NULL, 10) : 0;
		const char *vm = attr(atts, "vm");
		x->cvm = vm ? strtol(vm, NULL, 10) : 0;
		if (x->cvm < 0 || x->cvm > (long)CP_XLSX_MAX_PICTURES)
			x->cvm = CP_XLSX_MAX_PICTURES; /* out of range: not in the workbook */
		x->in_cell = true;
		g_string_truncate(x->text, 0);
		g_string_truncate(x->formula, 0);
	} else if (x->in_cell && strcmp(el, "f") == 0) {
		x->in_f = true;
	} else if (x->in_cell && strcmp(el, "v") == 0) {
		x->in_v = true;
	} else if (x->in_cell && strcmp(el, "is") == 0) {
		x->in_is = true;
	} else if (x->in_is && strcmp(el, "rPh") == 0) {
		x->in_rph = true;
	} else if (x->in_is && !x->in_rph && strcmp(el, "t") == 0) {
		x->in_t = true;
	}
}

/* The cell's text as a CSV export would hold it. Returns a new string, or
 * NULL for an empty cell; *number for a plain number. */
static char *cell_text(xlsx *x, bool *number)
{
	*number = false;
	const char *t = x->ctype;
	const char *v = x->text->str;
	if (strcmp(t, "inlineStr") == 0) {
		GString *g = g_string_sized_new(x->text->len);
		append_unescaped(g, x->text->str, x->text->len);
		return g_string_free(g, FALSE);
	}
	if (x->text->len == 0)
		return NULL;
	if (strcmp(t, "s") == 0) {
		char *end;
		errno = 0;
		unsigned long i = strtoul(v, &end, 10);
		if (*end || errno || i + 1 >= x->sst_off->len) {
			sheet_fail(x, CP_E_PARSE, _("the cell refers to shared string %s, which "
			                            "the workbook does not have"), v);
			return NULL;
		}
		size_t off = g_array_index(x->sst_off, size_t, i);
		return g_strdup(x->sst->str + off);
	}
	if (strcmp(t, "b") == 0)
		return g_strdup(strcmp(v, "1") == 0 ? "TRUE" : "FALSE");
	if (strcmp(t, "str") == 0 || strcmp(t, "e") == 0)
		return g_strdup(v);
	if (strcmp(t, "d") == 0) {
		/* ISO 8601: the date, and the time when it is not midnight */
		char *s = g_strdup(v);
		char *tt = strchr(s, 'T');
		if (tt) {
			*tt = ' ';
			if (g_str_has_prefix(tt + 1, "00:00:00") || strcmp(tt + 1, "00:00") == 0)
				*tt = '\0';
		}
		return s;
	}
	/* a number */
	char *end;
	double d = g_ascii_strtod(v, &end);
	if (*end || end == v)
		return g_strdup(v); /* not a number after all: as written */
	int kind = FMT_NUMBER;
	if (x->cstyle >= 0 && (guint)x->cstyle < x->xf_kind->len)
		kind = x->xf_kind->data[x->cstyle];
	char buf[64];
	if (kind != FMT_NUMBER &&
	    cp_sheet_serial_text(d, x->date1904, kind == FMT_TIME, buf, sizeof buf))
		return g_strdup(buf);
	cp_sheet_number_text(d, buf, sizeof buf);
	*number = true;
	return g_strdup(buf);
}

static void XMLCALL sheet_end(void *ud, const XML_Char *name)
{
	xlsx *x = ud;
	x->depth--;
	if (!x->in_sheetdata)
		return;
	const char *el = local(name);
	if (strcmp(el, "sheetData") == 0) {
		x->in_sheetdata = false;
	} else if (strcmp(el, "v") == 0) {
		x->in_v = false;
	} else if (strcmp(el, "f") == 0) {
		x->in_f = false;
	} else if (strcmp(el, "t") == 0) {
		x->in_t = false;
	} else if (strcmp(el, "rPh") == 0) {
		x->in_rph = false;
	} else if (strcmp(el, "is") == 0) {
		x->in_is = false;
	} else if (strcmp(el, "c") == 0 && x->in_cell) {
		x->in_cell = x->in_v = x->in_is = x->in_t = x->in_rph = x->in_f = false;
		char *media, *ref;
		if (cell_picture(x, &media, &ref)) {
			/* a picture in the cell: the cell reads as empty */
			if (g_hash_table_size(x->cellpics) >= CP_XLSX_MAX_PICTURES) {
				g_free(media);
				g_free(ref);
				sheet_fail(x, CP_E_NOMEM, _("the workbook has more than %u pictures"),
				           CP_XLSX_MAX_PICTURES);
				return;
			}
			gint64 *key = g_new(gint64, 1);
			*key = (gint64)x->row << 16 | x->col;
			cellpic *cp = g_new(cellpic, 1);
			*cp = (cellpic){media, ref};
			g_hash_table_replace(x->cellpics, key, cp);
			return;
		}
		bool number;
		char *s = cell_text(x, &number);
		if (x->error) {
			g_free(s);
			return;
		}
		if (!s)
			return;
		size_t col = (size_t)x->col;
		if (col >= x->cap) {
			size_t cap = x->cap ? x->cap : 16;
			while (cap <= col)
				cap *= 2;
			x->cells = g_renew(char *, x->cells, cap);
			x->number = g_renew(bool, x->number, cap);
			for (size_t i = x->cap; i < cap; i++) {
				x->cells[i] = NULL;
				x->number[i] = false;
			}
			x->cap = cap;
		}
		g_free(x->cells[col]);
		x->cells[col] = s;
		x->number[col] = number;
		if (col + 1 > x->ncells)
			x->ncells = col + 1;
	} else if (strcmp(el, "row") == 0 && x->in_row) {
		x->in_row = false;
		x->last_row = x->row;
		if (x->ncells) {
			x->row_ready = true;
			XML_StopParser(x->xp, XML_TRUE); /* hand the row over */
		}
	}
}

static void XMLCALL sheet_chars(void *ud, const XML_Char *s, int len)
{
	xlsx *x = ud;
	if (x->in_f) {
		if (x->formula->len < 1024) /* DISPIMG("ID_…",1) is all that is looked for */
			g_string_append_len(x->formula, s, len);
		return;
	}
	if (!(x->in_v || x->in_t))
		return;
	if (x->text->len + (size_t)len > CP_CSV_MAX_FIELD) {
		sheet_fail(x, CP_E_NOMEM, _("the cell in column %ld is longer than the limit "
		                            "of %u bytes"), x->col + 1, CP_CSV_MAX_FIELD);
		return;
	}
	g_string_append_len(x->text, s, len);
}

static int xlsx_next(cp_sheet *s, cp_sheet_row *row, cp_error **err)
{
	xlsx *x = (xlsx *)s;
	if (x->error) {
		cp_set_error(err, CP_E_PARSE, x->path, 0, 0, NULL,
		             _("reading stopped at an earlier error"));
		return -1;
	}
	x->row_ready = false;
	while (!x->row_ready) {
		enum XML_Status st;
		if (x->suspended) {
			x->suspended = false;
			st = XML_ResumeParser(x->xp);
		} else if (x->final_fed) {
			return 0;
		} else {
			void *buf = XML_GetBuffer(x->xp, 65536);
			if (!buf) {
				cp_set_error(err, CP_E_NOMEM, x->path, 0, 0, NULL, _("out of memory"));
				return -1;
			}
			zip_int64_t n = zip_fread(x->zf, buf, 65536);
			if (n < 0) {
				cp_set_error(err, CP_E_PARSE, x->path, x->row, 0, NULL,
				             _("cannot read the sheet: %s"), zip_file_strerror(x->zf));
				x->error = cp_error_copy(*err);
				return -1;
			}
			x->part_read += (uint64_t)n;
			if (x->part_read > CP_XLSX_MAX_PART) {
				cp_set_error(err, CP_E_NOMEM, x->path, 0, 0, NULL,
				             _("the sheet inflates to more than the limit of %u bytes"),
				             CP_XLSX_MAX_PART);
				x->error = cp_error_copy(*err);
				return -1;
			}
			x->final_fed = n == 0;
			st = XML_ParseBuffer(x->xp, (int)n, n == 0);
		}
		if (st == XML_STATUS_SUSPENDED) {
			x->suspended = true;
			continue; /* row_ready is set */
		}
		if (st == XML_STATUS_ERROR || x->error) {
			if (!x->error)
				cp_set_error(&x->error, CP_E_PARSE, x->path,
				             (long)XML_GetCurrentLineNumber(x->xp), x->row, NULL,
				             _("the sheet is not well-formed XML: %s"),
				             XML_ErrorString(XML_GetErrorCode(x->xp)));
			cp_propagate_error(err, cp_error_copy(x->error));
			return -1;
		}
	}
	row->row = x->row;
	row->ncells = x->ncells;
	row->cells = x->cells;
	row->number = x->number;
	return 1;
}

static double xlsx_progress(const cp_sheet *s)
{
	const xlsx *x = (const xlsx *)s;
	if (!x->part_size)
		return -1;
	double f = (double)x->part_read / (double)x->part_size;
	return f > 1 ? 1 : f;
}

static void xlsx_free(cp_sheet *s)
{
	xlsx *x = (xlsx *)s;
	if (x->xp)
		XML_ParserFree(x->xp);
	if (x->zf)
		zip_fclose(x->zf);
	if (x->zip)
		zip_discard(x->zip);
	clear_row(x);
	g_free(x->cells);
	g_free(x->number);
	if (x->text)
		g_string_free(x->text, TRUE);
	if (x->sst)
		g_string_free(x->sst, TRUE);
	if (x->sst_off)
		g_array_free(x->sst_off, TRUE);
	if (x->xf_kind)
		g_byte_array_free(x->xf_kind, TRUE);
	for (guint i = 0; x->pics && i < x->pics->len; i++)
		g_free(g_array_index(x->pics, pic, i).media);
	if (x->pics)
		g_array_free(x->pics, TRUE);
	if (x->pic_at)
		g_hash_table_destroy(x->pic_at);
	if (x->wps_images)
		g_hash_table_destroy(x->wps_images);
	if (x->vm_rv)
		g_array_free(x->vm_rv, TRUE);
	if (x->rv_rel)
		g_array_free(x->rv_rel, TRUE);
	if (x->rel_media)
		g_ptr_array_free(x->rel_media, TRUE);
	if (x->cellpics)
		g_hash_table_destroy(x->cellpics);
	if (x->formula)
		g_string_free(x->formula, TRUE);
	cp_error_free(x->error);
	g_free(x->path);
	g_free(x);
}

static const cp_sheet_ops xlsx_ops = {xlsx_next, xlsx_free, xlsx_progress, xlsx_pictures};

/* ------------------------------------------------------------------ open */

static const rel *find_rel(GArray *rels, const char *id, const char *type)
{
	for (guint i = 0; rels && i < rels->len; i++) {
		const rel *r = &g_array_index(rels, rel, i);
		if ((id && strcmp(r->id, id) == 0) || (type && type_is(r->type, type)))
			return r;
	}
	return NULL;
}

static bool load_styles(xlsx *x, const char *name, cp_error **err)
{
	styles_ctx sc = {g_hash_table_new(NULL, NULL), false, g_array_new(FALSE, FALSE, sizeof(long))};
	part_ctx c = {.start = styles_start, .end = styles_end, .user = &sc};
	bool found;
	bool ok = parse_named_part(x, &c, name, true, CP_XLSX_MAX_META, &found, err);
	for (guint i = 0; ok && i < sc.ids->len; i++) {
		long id = g_array_index(sc.ids, long, i);
		gpointer k = g_hash_table_lookup(sc.custom, GINT_TO_POINTER((int)id));
		guint8 kind = k ? (guint8)(GPOINTER_TO_INT(k) - 1) : (guint8)builtin_kind(id);
		g_byte_array_append(x->xf_kind, &kind, 1);
	}
	g_hash_table_destroy(sc.custom);
	g_array_free(sc.ids, TRUE);
	return ok;
}

cp_sheet *cp_xlsx_open(const char *path, const char *sheet, cp_error **err)
{
	int ze = 0;
	zip_t *zip = zip_open(path, ZIP_RDONLY | ZIP_CHECKCONS, &ze);
	if (!zip) {
		zip_error_t e;
		zip_error_init_with_code(&e, ze);
		cp_set_error(err, ze == ZIP_ER_OPEN || ze == ZIP_ER_READ ? CP_E_IO : CP_E_PARSE,
		             path, 0, 0, NULL, _("cannot open the workbook: %s"),
		             zip_error_strerror(&e));
		zip_error_fini(&e);
		return NULL;
	}
	xlsx *x = g_new0(xlsx, 1);
	x->base.ops = &xlsx_ops;
	x->path = g_strdup(path);
	x->zip = zip;
	x->sst = g_string_new(NULL);
	x->sst_off = g_array_new(FALSE, FALSE, sizeof(size_t));
	size_t zero = 0;
	g_array_append_val(x->sst_off, zero);
	x->xf_kind = g_byte_array_new();
	x->pics = g_array_new(FALSE, FALSE, sizeof(pic));
	x->pic_at = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
	x->text = g_string_new(NULL);
	x->formula = g_string_new(NULL);
	x->wps_images = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	x->vm_rv = g_array_new(FALSE, FALSE, sizeof(long));
	x->rv_rel = g_array_new(FALSE, FALSE, sizeof(long));
	x->rel_media = g_ptr_array_new_with_free_func(g_free);
	x->cellpics = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, cellpic_free);
	x->last_row = 0;
	GArray *root = NULL, *wbrels = NULL, *sheets = NULL;
	char *wbname = NULL, *wbrels_name = NULL, *sheet_part = NULL;

	if (zip_get_num_entries(zip, 0) > CP_XLSX_MAX_ENTRIES) {
		cp_set_error(err, CP_E_NOMEM, path, 0, 0, NULL,
		             _("the workbook has more than %u parts"), CP_XLSX_MAX_ENTRIES);
		goto fail;
	}
	root = load_rels(x, "_rels/.rels", err);
	if (!root)
		goto fail;
	const rel *office = find_rel(root, NULL, "officeDocument");
	wbname = office ? resolve_target("", office->target) : g_strdup("xl/workbook.xml");
	sheets = g_array_new(FALSE, TRUE, sizeof(sheet_entry));
	part_ctx wc = {.start = workbook_start, .user = sheets};
	bool found;
	if (!parse_named_part(x, &wc, wbname, false, CP_XLSX_MAX_META, &found, err))
		goto fail;
	wbrels_name = rels_name(wbname);
	wbrels = load_rels(x, wbrels_name, err);
	if (!wbrels)
		goto fail;

	/* the sheet: by name, or the first visible worksheet */
	const sheet_entry *chosen = NULL;
	const rel *sheet_rel = NULL;
	for (guint i = 0; i < sheets->len && !chosen; i++) {
		const sheet_entry *s = &g_array_index(sheets, sheet_entry, i);
		const rel *r = find_rel(wbrels, s->rid, NULL);
		bool worksheet = r && type_is(r->type, "worksheet");
		if (sheet ? strcmp(s->name, sheet) == 0 : worksheet && !s->hidden) {
			chosen = s;
			sheet_rel = r;
		}
	}
	if (!chosen || !sheet_rel || !type_is(sheet_rel->type, "worksheet")) {
		GString *names = g_string_new(NULL);
		for (guint i = 0; i < sheets->len; i++)
			g_string_append_printf(names, "%s%s", i ? "、" : "",
			                       g_array_index(sheets, sheet_entry, i).name);
		if (sheet && chosen)
			cp_set_error(err, CP_E_PARSE, path, 0, 0, NULL,
			             _("sheet %s is not a worksheet (a chart?)"), sheet);
		else if (sheet)
			cp_set_error(err, CP_E_USAGE, path, 0, 0, NULL,
			             _("the workbook has no sheet named %s (its sheets: %s)"), sheet,
			             names->str);
		else
			cp_set_error(err, CP_E_PARSE, path, 0, 0, NULL,
			             _("the workbook has no visible worksheet"));
		g_string_free(names, TRUE);
		goto fail;
	}
	sheet_part = resolve_target(wbname, sheet_rel->target);

	const rel *r = find_rel(wbrels, NULL, "sharedStrings");
	if (r) {
		char *name = resolve_target(wbname, r->target);
		sst_ctx sc = {.cur = g_string_new(NULL)};
		part_ctx c = {.start = sst_start, .end = sst_end, .text = sst_text, .user = &sc};
		bool ok = parse_named_part(x, &c, name, true, CP_XLSX_MAX_PART, &found, err);
		g_string_free(sc.cur, TRUE);
		g_free(name);
		if (!ok)
			goto fail;
	}
	r = find_rel(wbrels, NULL, "styles");
	if (r) {
		char *name = resolve_target(wbname, r->target);
		bool ok = load_styles(x, name, err);
		g_free(name);
		if (!ok)
			goto fail;
	}

	if (!load_pictures(x, sheet_part, err) || !load_wps_images(x, wbname, wbrels, err) ||
	    !load_rich_images(x, wbname, wbrels, err))
		goto fail;

	zip_int64_t idx = zip_name_locate(zip, sheet_part, ZIP_FL_NOCASE);
	zip_stat_t st;
	if (idx < 0 || zip_stat_index(zip, (zip_uint64_t)idx, 0, &st) != 0) {
		cp_set_error(err, CP_E_PARSE, path, 0, 0, NULL,
		             _("the workbook has no part %s: it is damaged or not an Excel "
		               "workbook"), sheet_part);
		goto fail;
	}
	if ((st.valid & ZIP_STAT_SIZE) && st.size > CP_XLSX_MAX_PART) {
		cp_set_error(err, CP_E_NOMEM, path, 0, 0, NULL,
		             _("the sheet inflates to more than the limit of %u bytes"),
		             CP_XLSX_MAX_PART);
		goto fail;
	}
	x->part_size = (st.valid & ZIP_STAT_SIZE) ? st.size : 0;
	x->zf = zip_fopen_index(zip, (zip_uint64_t)idx, 0);
	if (!x->zf) {
		cp_set_error(err, CP_E_PARSE, path, 0, 0, NULL,
		             _("cannot read the workbook part %s: %s"), sheet_part,
		             zip_strerror(zip));
		goto fail;
	}
	x->xp = new_parser(x);
	if (!x->xp) {
		cp_set_error(err, CP_E_NOMEM, path, 0, 0, NULL, _("out of memory"));
		goto fail;
	}
	/* the DOCTYPE handler of new_parser() reads a part_ctx: the sheet has
	 * its own */
	XML_SetStartDoctypeDeclHandler(x->xp, sheet_doctype);
	XML_SetElementHandler(x->xp, sheet_start, sheet_end);
	XML_SetCharacterDataHandler(x->xp, sheet_chars);
	x->base.describe = g_strdup_printf(_("xlsx workbook, sheet %s"), chosen->name);
	rels_free(root);
	rels_free(wbrels);
	sheets_free(sheets);
	g_free(wbname);
	g_free(wbrels_name);
	g_free(sheet_part);
	return &x->base;
fail:
	rels_free(root);
	rels_free(wbrels);
	sheets_free(sheets);
	g_free(wbname);
	g_free(wbrels_name);
	g_free(sheet_part);
	xlsx_free(&x->base);
	return NULL;
}
