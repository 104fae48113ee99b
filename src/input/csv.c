/* SPDX-License-Identifier: MIT */
/*
 * The CSV reader: spreadsheet exports (RFC 4180 quoting, any line ending) in
 * UTF-8, GB18030/GBK or UTF-16, read in chunks so that memory stays bounded
 * whatever the file holds.
 *
 * Three layers: the file is read CP_CSV_CHUNK bytes at a time into raw[];
 * when it is not UTF-8 it is converted with GIConv into dec[] (otherwise the
 * bytes go to dec[] unchanged); the tokenizer walks dec[] one byte at a time
 * and builds one row in rowbuf[] (cells separated by NUL, their offsets in
 * cellstart[]). Only a whole row is turned into a cp_record.
 *
 * A file whose first chunk is all ASCII is decided at its first non-ASCII
 * byte (decide_late), and a workbook (.xlsx, .xls) gives its rows through
 * sheet.h instead of the tokenizer, into the same rowbuf[].
 */
#include "input/csv.h"

#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "i18n.h"
#include "input/record.h"
#include "input/sheet.h"

/* Room after a chunk for the few bytes of a multibyte sequence that a chunk
 * boundary split (kept for the next conversion). */
#define RAW_CAP (CP_CSV_CHUNK + 16)
/* UTF-8 never takes more than twice the bytes of GB18030 or UTF-16 input. */
#define DEC_CAP (2 * RAW_CAP)

enum pending { PEND_NONE, PEND_INVALID, PEND_TRUNCATED };
enum state { S_START, S_UNQUOTED, S_QUOTED, S_QUOTE_IN_QUOTED };

struct cp_reader {
	char *path;
	char *dir;
	FILE *fp;
	cp_sheet *sheet;     /* a workbook's sheet instead of CSV text */
	char *picdir;        /* private folder of the pictures taken out of it */
	bool *cellnum;       /* of the current row (workbooks): a number cell */
	const char *encoding;
	char delim;
	uint64_t size;       /* of a regular file, for progress; 0 when unknown */
	uint64_t bytes_read; /* raw bytes taken from fp so far */
	GChecksum *stream_sha; /* a pipe or FIFO: SHA-256 of every byte read */
	const volatile sig_atomic_t *cancel; /* stop a blocked read when set; may be NULL */

	/* Input and conversion. */
	GIConv cd;
	bool convert;
	char *raw;
	size_t rawlen;
	bool raw_eof;
	enum pending pending;
	bool undecided;   /* only ASCII so far: UTF-8 or GB18030 is still open */
	char *dec;
	size_t dpos, dlen;

	/* Tokenizer. */
	long line;      /* physical line of the next byte */
	bool prev_cr;   /* the last byte was CR: a following LF ends no new line */
	bool skip_lf;   /* a row ended at CR: swallow the LF of CRLF */
	long rowno;     /* rows read so far, blank ones included */
	char *rowbuf;
	size_t rowlen, rowcap;
	size_t *cellstart; /* CP_CSV_MAX_COLUMNS + 1 offsets */
	size_t ncur;       /* complete cells in the current row */
	long row_line;     /* line where the current row starts */
	long cell_line;    /* line where the current cell starts */
	bool stop_unquoted[256]; /* bytes that end a run of plain text */
	bool stop_quoted[256];
	bool failed;

	/* Header. */
	char **header;
	size_t nheader;
	long header_row;
	int colidx[CP_FIELD_COUNT];
	char *column[CP_FIELD_COUNT]; /* trimmed header text of each mapped field */
};

/* ------------------------------------------------------------- input */

static const char *pending_message(enum pending p)
{
	if (p == PEND_TRUNCATED)
		return _("the file ends in the middle of a %s character");
	return _("the text is not valid %s (convert the file to CSV UTF-8)");
}

static const char *nul_message(void)
{
	return _("NUL byte in the text: this is not a CSV file "
	         "(a UTF-16 file without byte-order mark?)");
}

/* Converts what raw[] holds into dec[], keeping an incomplete trailing
 * sequence in raw[] for the next chunk. A conversion failure is remembered
 * and raised only when the tokenizer has used up the text before it, so that
 * the error names the line where the bad bytes are. */
static void convert(cp_reader *r)
{
	char *in = r->raw;
	gsize inleft = r->rawlen;
	char *out = r->dec;
	gsize outleft = DEC_CAP;
	gsize rc = g_iconv(r->cd, &in, &inleft, &out, &outleft);
	if (rc == (gsize)-1) {
		if (errno == EILSEQ)
			r->pending = PEND_INVALID;
		else if (errno == EINVAL && r->raw_eof)
			r->pending = PEND_TRUNCATED;
		/* EINVAL before the end: the rest arrives with the next chunk;
		 * E2BIG: cannot happen with DEC_CAP, and would just be resumed. */
	}
	r->dlen = (size_t)(out - r->dec);
	r->dpos = 0;
	memmove(r->raw, in, inleft);
	r->rawlen = inleft;
}

/* One read(2), not fread: from a pipe or a FIFO (`… | certpress render …
 * /dev/stdin`) the records that have arrived are handed on at once instead of
 * waiting for a full chunk. A signal that interrupts a blocked read ends the
 * reading when the caller's cancel flag is set, and is retried otherwise. */
static bool read_raw(cp_reader *r, char *buf, size_t cap, size_t *got, cp_error **err)
{
	ssize_t n;
	for (;;) {
		n = read(fileno(r->fp), buf, cap);
		if (n >= 0 || errno != EINTR)
			break;
		if (r->cancel && *r->cancel) {
			cp_set_error(err, CP_E_INTERRUPTED, r->path, r->line, 0, NULL,
			             _("interrupted; nothing was written"));
			return false;
		}
	}
	if (n < 0) {
		cp_set_error(err, CP_E_IO, r->path, r->line, 0, NULL, _("cannot read the file: %s"),
		             g_strerror(errno));
		return false;
	}
	*got = (size_t)n;
	r->bytes_read += *got;
	if (r->stream_sha && n > 0)
		g_checksum_update(r->stream_sha, (const guchar *)buf, (gssize)n);
	if (n == 0)
		r->raw_eof = true;
	return true;
}

/* Fills buf as far as cap or the end of the input (the encoding is judged on
 * a whole sample, however the bytes arrive). */
static bool read_full(cp_reader *r, char *buf, size_t cap, size_t *got, cp_error **err)
{
	*got = 0;
	while (*got < cap && !r->raw_eof) {
		size_t n;
		if (!read_raw(r, buf + *got, cap - *got, &n, err))
			return false;
		*got += n;
	}
	return true;
}

static bool sample_is_utf8(const char *p, size_t n, bool at_eof);
static bool open_converter(cp_reader *r, const char *from, const char *name,
                           cp_error **err);

/* A file whose first chunk was all ASCII is decided at its first non-ASCII
 * byte, wherever that is (a GB18030 export with a long ASCII head would
 * otherwise be read as broken UTF-8): valid UTF-8 stays as it is; text that
 * converts from GB18030 is converted from this chunk on (ASCII is the same
 * in both); anything else goes on as UTF-8, for the checker to name the
 * rows. dec[0..dlen) holds the chunk just read. */
static bool decide_late(cp_reader *r, cp_error **err)
{
	size_t i = 0;
	while (i < r->dlen && !((unsigned char)r->dec[i] & 0x80))
		i++;
	if (i == r->dlen)
		return true; /* still nothing but ASCII */
	if (r->dlen - i < 4 && !r->raw_eof) {
		/* a character cut by the chunk's end tells nothing yet: hold it
		 * back for the next chunk (refill puts it first) */
		memcpy(r->raw, r->dec + i, r->dlen - i);
		r->rawlen = r->dlen - i;
		r->dlen = i;
		return true;
	}
	r->undecided = false;
	if (sample_is_utf8(r->dec + i, r->dlen - i, r->raw_eof))
		return true;
	GIConv cd = g_iconv_open("UTF-8", "GB18030");
	if (cd == (GIConv)-1)
		return true;
	char *in = r->dec + i, *scratch = g_malloc(DEC_CAP), *out = scratch;
	gsize inleft = r->dlen - i, outleft = DEC_CAP;
	gsize rc = g_iconv(cd, &in, &inleft, &out, &outleft);
	bool gb = rc != (gsize)-1 || (errno == EINVAL && !r->raw_eof);
	g_iconv_close(cd);
	g_free(scratch);
	if (!gb)
		return true;
	if (!open_converter(r, "GB18030", "GB18030", err))
		return false;
	/* the chunk goes through the converter like every one after it */
	memcpy(r->raw, r->dec, r->dlen);
	r->rawlen = r->dlen;
	convert(r);
	return true;
}

/* Makes dec[dpos..dlen) non-empty. Returns 1, 0 at the end of the text, -1 on
 * an error. */
static int refill(cp_reader *r, cp_error **err)
{
	r->dpos = r->dlen = 0;
	for (;;) {
		if (r->pending) {
			cp_set_error(err, CP_E_PARSE, r->path, r->line, r->rowno + 1, NULL,
			             pending_message(r->pending), r->encoding);
			return -1;
		}
		if (!r->convert) {
			if (r->raw_eof)
				return 0;
			/* bytes decide_late() held back come first */
			size_t n, keep = r->rawlen;
			memcpy(r->dec, r->raw, keep);
			r->rawlen = 0;
			if (!read_raw(r, r->dec + keep, CP_CSV_CHUNK - keep, &n, err))
				return -1;
			r->dlen = keep + n;
			if (r->undecided && !decide_late(r, err))
				return -1;
			if (r->dlen)
				return 1;
			continue;
		}
		if (!r->raw_eof) {
			size_t n, room = RAW_CAP - r->rawlen;
			if (room > CP_CSV_CHUNK)
				room = CP_CSV_CHUNK;
			if (!read_raw(r, r->raw + r->rawlen, room, &n, err))
				return -1;
			r->rawlen += n;
		}
		if (r->rawlen == 0 && r->raw_eof)
			return 0;
		convert(r);
		if (r->dlen)
			return 1;
	}
}

/* True when the n bytes at p are valid UTF-8, allowing one character cut off
 * by the end of the sample when more of the file follows. */
static bool sample_is_utf8(const char *p, size_t n, bool at_eof)
{
	const char *end;
	if (g_utf8_validate_len(p, n, &end))
		return true;
	size_t rest = n - (size_t)(end - p);
	return !at_eof && rest < 4 &&
	       g_utf8_get_char_validated(end, (gssize)rest) == (gunichar)-2;
}

static bool open_converter(cp_reader *r, const char *from, const char *name,
                           cp_error **err)
{
	r->cd = g_iconv_open("UTF-8", from);
	if (r->cd == (GIConv)-1) {
		cp_set_error(err, CP_E_IO, r->path, 0, 0, NULL,
		             _("cannot convert from %s on this system"), from);
		return false;
	}
	r->convert = true;
	r->encoding = name;
	return true;
}

/* Reads the first chunk and decides the encoding (see cp_reader_open). */
static bool detect_encoding(cp_reader *r, cp_error **err)
{
	size_t n;
	if (!read_full(r, r->raw, CP_CSV_SNIFF, &n, err))
		return false;
	r->rawlen = n;
	const unsigned char *u = (const unsigned char *)r->raw;
	size_t skip = 0;
	if (n >= 3 && u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF) {
		r->encoding = "UTF-8 (BOM)";
		skip = 3;
	} else if (n >= 2 && ((u[0] == 0xFF && u[1] == 0xFE) || (u[0] == 0xFE && u[1] == 0xFF))) {
		/* Excel's "Unicode text". */
		bool le = u[0] == 0xFF;
		if (!open_converter(r, le ? "UTF-16LE" : "UTF-16BE",
		                    le ? "UTF-16LE" : "UTF-16BE", err))
			return false;
		memmove(r->raw, r->raw + 2, n - 2);
		r->rawlen = n - 2;
		convert(r);
		return true;
	} else if (memchr(r->raw, '\0', n)) {
		/* No text in any encoding we take holds NUL; stop before line
		 * breaks inside UTF-16 code units make the header look odd. */
		const char *z = memchr(r->raw, '\0', n);
		long line = 1;
		for (const char *p = r->raw; p < z; p++)
			if (*p == '\n' ? p == r->raw || p[-1] != '\r' : *p == '\r')
				line++;
		cp_set_error(err, CP_E_PARSE, r->path, line, 0, NULL, "%s", nul_message());
		return false;
	} else if (sample_is_utf8(r->raw, n, r->raw_eof)) {
		r->encoding = "UTF-8";
		bool ascii = true;
		for (size_t i = 0; i < n && ascii; i++)
			ascii = !(u[i] & 0x80);
		r->undecided = ascii && !r->raw_eof;
	} else {
		if (!open_converter(r, "GB18030", "GB18030", err))
			return false;
		char *in = r->raw;
		gsize inleft = n;
		char *out = r->dec;
		gsize outleft = DEC_CAP;
		gsize rc = g_iconv(r->cd, &in, &inleft, &out, &outleft);
		if (rc != (gsize)-1 || errno == EINVAL) {
			/* Clean, maybe with a character cut by the sample's end:
			 * redo it through the streaming path from the start. */
			g_iconv(r->cd, NULL, NULL, NULL, NULL);
			convert(r);
			return true;
		}
		/* Neither UTF-8 nor GB18030: pass the bytes on and let the
		 * checker name the rows whose text is invalid. */
		g_iconv_close(r->cd);
		r->cd = (GIConv)-1;
		r->convert = false;
		r->encoding = "UTF-8";
	}
	memcpy(r->dec, r->raw + skip, n - skip);
	r->dlen = n - skip;
	r->dpos = 0;
	r->rawlen = 0;
	return true;
}

/* Excel's "Unicode text" and some tools separate cells with tabs: a line
 * with tabs and no comma cannot be our comma-separated header, whose
 * required columns are many. The first line that has either decides, so a
 * title line above the header ("2026年第3批鉴定合格人员名单") does not. */
static char detect_delimiter(const cp_reader *r)
{
	size_t tabs = 0, commas = 0;
	unsigned lines = 0;
	for (size_t i = r->dpos; i < r->dlen; i++) {
		char c = r->dec[i];
		if (c == '\n' || c == '\r') {
			if (tabs || commas || ++lines >= CP_CSV_HEADER_SCAN)
				break;
			continue;
		}
		tabs += c == '\t';
		commas += c == ',';
	}
	return tabs && !commas ? '\t' : ',';
}

/* ------------------------------------------------------------- tokenizer */

static const char *header_name(const cp_reader *r, size_t col)
{
	if (col < r->nheader && !cp_text_blank(r->header[col]))
		return r->header[col];
	return NULL;
}

static bool cell_too_long(cp_reader *r, cp_error **err)
{
	cp_set_error(err, CP_E_NOMEM, r->path, r->cell_line, r->rowno + 1,
	             header_name(r, r->ncur),
	             _("the cell in column %zu is longer than the limit of %u bytes"),
	             r->ncur + 1, CP_CSV_MAX_FIELD);
	return false;
}

static bool grow_row(cp_reader *r, cp_error **err)
{
	/* Cells and their NUL separators together. */
	size_t limit = CP_CSV_MAX_ROW + CP_CSV_MAX_COLUMNS + 1;
	if (r->rowcap >= limit) {
		cp_set_error(err, CP_E_NOMEM, r->path, r->row_line, r->rowno + 1, NULL,
		             _("the row is longer than the limit of %u bytes"),
		             CP_CSV_MAX_ROW);
		return false;
	}
	size_t cap = r->rowcap * 2;
	if (cap > limit)
		cap = limit;
	r->rowbuf = g_realloc(r->rowbuf, cap);
	r->rowcap = cap;
	return true;
}

static inline bool put(cp_reader *r, char c, cp_error **err)
{
	if (G_UNLIKELY(r->rowlen - r->cellstart[r->ncur] >= CP_CSV_MAX_FIELD))
		return cell_too_long(r, err);
	if (G_UNLIKELY(r->rowlen + 1 >= r->rowcap) && !grow_row(r, err))
		return false;
	r->rowbuf[r->rowlen++] = c;
	return true;
}

/* Appends a run of plain text at once: most bytes of a file are such runs,
 * and copying them byte by byte is what makes a naive reader slow. */
static bool put_run(cp_reader *r, const char *p, size_t n, cp_error **err)
{
	if (r->rowlen - r->cellstart[r->ncur] + n > CP_CSV_MAX_FIELD)
		return cell_too_long(r, err);
	while (r->rowlen + n + 1 >= r->rowcap)
		if (!grow_row(r, err))
			return false;
	memcpy(r->rowbuf + r->rowlen, p, n);
	r->rowlen += n;
	return true;
}

static bool end_cell(cp_reader *r, cp_error **err)
{
	if (r->ncur >= CP_CSV_MAX_COLUMNS) {
		cp_set_error(err, CP_E_NOMEM, r->path, r->row_line, r->rowno + 1, NULL,
		             _("the row has more than the limit of %u cells"),
		             CP_CSV_MAX_COLUMNS);
		return false;
	}
	if (r->rowlen + 1 >= r->rowcap && !grow_row(r, err))
		return false;
	r->rowbuf[r->rowlen++] = '\0';
	r->cellstart[++r->ncur] = r->rowlen;
	r->cell_line = r->line;
	return true;
}

/* Reads one row into rowbuf/cellstart. Returns 1, 0 at the end of the file
 * (nothing left), -1 on an error. */
static int read_row(cp_reader *r, cp_error **err)
{
	enum state st = S_START;
	bool started = false;
	long quote_line = 0;
	r->rowlen = 0;
	r->ncur = 0;
	r->cellstart[0] = 0;
	r->row_line = r->cell_line = r->line;
	const char delim = r->delim;

	for (;;) {
		if (r->dpos == r->dlen) {
			int k = refill(r, err);
			if (k < 0)
				return -1;
			if (k == 0)
				break;
		}
		if (st == S_UNQUOTED || st == S_QUOTED) {
			/* No line break in a run: prev_cr and skip_lf stay false. */
			const bool *stop = st == S_QUOTED ? r->stop_quoted : r->stop_unquoted;
			size_t i = r->dpos;
			while (i < r->dlen && !stop[(unsigned char)r->dec[i]])
				i++;
			if (i > r->dpos) {
				if (!put_run(r, r->dec + r->dpos, i - r->dpos, err))
					return -1;
				r->dpos = i;
				r->prev_cr = false;
				continue;
			}
		}
		char c = r->dec[r->dpos++];
		/* Lines end at LF, CRLF or a lone CR. */
		if (c == '\n') {
			if (!r->prev_cr)
				r->line++;
		} else if (c == '\r') {
			r->line++;
		}
		r->prev_cr = c == '\r';
		if (r->skip_lf) {
			r->skip_lf = false;
			if (c == '\n')
				continue;
		}
		if (G_UNLIKELY(c == '\0')) {
			cp_set_error(err, CP_E_PARSE, r->path, r->line, r->rowno + 1, NULL,
			             "%s", nul_message());
			return -1;
		}
		started = true;
		switch (st) {
		case S_QUOTED:
			if (c == '"')
				st = S_QUOTE_IN_QUOTED;
			else if (!put(r, c, err))
				return -1;
			continue;
		case S_QUOTE_IN_QUOTED:
			if (c == '"') {
				if (!put(r, '"', err))
					return -1;
				st = S_QUOTED;
				continue;
			}
			break;
		case S_START:
			if (c == '"') {
				st = S_QUOTED;
				quote_line = r->line;
				continue;
			}
			break;
		case S_UNQUOTED:
			break;
		}
		/* Outside quotes. */
		if (c == delim) {
			if (!end_cell(r, err))
				return -1;
			st = S_START;
		} else if (c == '\n' || c == '\r') {
			r->skip_lf = c == '\r';
			return end_cell(r, err) ? 1 : -1;
		} else {
			/* Text after a closing quote, or a quote inside an
			 * unquoted cell, is kept as it is, as Excel does. */
			if (!put(r, c, err))
				return -1;
			st = S_UNQUOTED;
		}
	}
	if (st == S_QUOTED) {
		cp_set_error(err, CP_E_PARSE, r->path, quote_line, r->rowno + 1,
		             header_name(r, r->ncur),
		             _("the quoted cell that starts on line %ld is never closed"),
		             quote_line);
		return -1;
	}
	if (!started)
		return 0;
	return end_cell(r, err) ? 1 : -1;
}

static bool row_blank(const cp_reader *r)
{
	for (size_t i = 0; i < r->ncur; i++)
		if (!cp_text_blank(r->rowbuf + r->cellstart[i]))
			return false;
	return true;
}

static char *cell_dup(const cp_reader *r, size_t i)
{
	size_t n = r->cellstart[i + 1] - r->cellstart[i]; /* with its NUL */
	const char *v = r->rowbuf + r->cellstart[i];
	/* A cell certpress neutralised when it wrote it (cp_csv_append_cell). */
	if (v[0] == '\'' && cp_csv_formula_like(v + 1)) {
		v++;
		n--;
	}
	char *s = g_malloc(n);
	memcpy(s, v, n);
	return s;
}

/* Takes the next row of a workbook's sheet into rowbuf/cellstart, under
 * the same limits as a CSV row. Returns 1, 0 at the end, -1. */
static int sheet_row(cp_reader *r, cp_error **err)
{
	cp_sheet_row sr;
	int k = cp_sheet_next(r->sheet, &sr, err);
	if (k <= 0)
		return k;
	r->rowlen = 0;
	r->ncur = 0;
	r->cellstart[0] = 0;
	/* a workbook has no lines: the row is where to look */
	r->rowno = sr.row;
	r->row_line = r->cell_line = r->line = sr.row;
	for (size_t i = 0; i < sr.ncells; i++) {
		const char *c = sr.cells[i] ? sr.cells[i] : "";
		size_t n = strlen(c);
		if (i >= CP_CSV_MAX_COLUMNS) {
			cp_set_error(err, CP_E_NOMEM, r->path, r->row_line, r->rowno, NULL,
			             _("the row has more than the limit of %u cells"),
			             CP_CSV_MAX_COLUMNS);
			return -1;
		}
		if (n > CP_CSV_MAX_FIELD) {
			r->rowno--; /* cell_too_long names rowno + 1 */
			cell_too_long(r, err);
			r->rowno++;
			return -1;
		}
		if (!put_run(r, c, n, err) || !end_cell(r, err))
			return -1;
		r->cellnum[i] = sr.number[i];
	}
	/* A sheet stores no empty cells at the end of a row; a CSV export
	 * writes them: the row is as wide as the header. */
	while (r->ncur < r->nheader) {
		r->cellnum[r->ncur] = false;
		if (!end_cell(r, err))
			return -1;
	}
	return 1;
}

/* Reads rows until one is not blank. Returns 1, 0 at the end, -1. */
static int next_row(cp_reader *r, cp_error **err)
{
	for (;;) {
		int k = r->sheet ? sheet_row(r, err) : read_row(r, err);
		if (k <= 0)
			return k;
		if (!r->sheet)
			r->rowno++;
		if (!row_blank(r))
			return 1;
	}
}

/* ------------------------------------------------------------- header */

static char *field_label(cp_field f)
{
	return g_strdup_printf("%s (%s)", cp_field_header(f), cp_field_key(f));
}

/* The required columns a row names (each field once) and the list of those
 * it lacks ("证件号码 (id_number), …", NULL when none; free with g_free()). */
static int required_named(const cp_reader *r, char **missing, int *nmissing)
{
	bool seen[CP_FIELD_COUNT] = {false};
	for (size_t i = 0; i < r->ncur; i++) {
		int f = cp_field_lookup(r->rowbuf + r->cellstart[i]);
		if (f >= 0)
			seen[f] = true;
	}
	int named = 0;
	GString *g = NULL;
	*nmissing = 0;
	for (int f = 0; f < CP_FIELD_COUNT; f++) {
		if (!cp_field_required(f))
			continue;
		if (seen[f]) {
			named++;
			continue;
		}
		if (!g)
			g = g_string_new(NULL);
		else
			g_string_append(g, ", ");
		g_string_append_printf(g, "%s (%s)", cp_field_header(f), cp_field_key(f));
		(*nmissing)++;
	}
	*missing = g ? g_string_free(g, FALSE) : NULL;
	return named;
}

/* The header is the first of the first CP_CSV_HEADER_SCAN non-blank rows
 * that names every required column: a title ("2026年第3批鉴定合格人员名单")
 * or a note above it is skipped, and rows keep the numbers the spreadsheet
 * shows. When none does, the row naming the most of them is the one the
 * message is about. */
static bool find_header(cp_reader *r, cp_error **err)
{
	int best = -1, best_nmissing = 0;
	long best_row = 0, best_line = 0;
	char *best_missing = NULL;
	for (unsigned scanned = 0; scanned < CP_CSV_HEADER_SCAN; scanned++) {
		int k = next_row(r, err);
		if (k < 0) {
			g_free(best_missing);
			return false;
		}
		if (k == 0)
			break;
		char *missing;
		int nmissing;
		int named = required_named(r, &missing, &nmissing);
		if (!missing) {
			g_free(best_missing);
			return true;
		}
		if (named > best) {
			g_free(best_missing);
			best = named;
			best_missing = missing;
			best_nmissing = nmissing;
			best_row = r->rowno;
			best_line = r->row_line;
		} else {
			g_free(missing);
		}
	}
	if (best < 0) {
		cp_set_error(err, CP_E_PARSE, r->path, 0, 0, NULL,
		             _("the file has no header row (it is empty)"));
	} else if (best >= 1) {
		/* a header, short of some columns */
		cp_set_error(err, CP_E_PARSE, r->path, best_line, best_row, NULL,
		             dngettext(CP_TEXTDOMAIN, "missing required column: %s",
		                       "missing required columns: %s",
		                       (unsigned long)best_nmissing),
		             best_missing);
	} else {
		char *wanted = NULL;
		int n;
		r->ncur = 0; /* an empty row lacks them all */
		required_named(r, &wanted, &n);
		cp_set_error(err, CP_E_PARSE, r->path, 0, 0, NULL,
		             _("no header row found in the first %u rows: looked for a row "
		               "with the columns %s; if the header is further down, delete "
		               "the title or note rows above it"),
		             CP_CSV_HEADER_SCAN, wanted);
		g_free(wanted);
	}
	g_free(best_missing);
	return false;
}

static bool read_header(cp_reader *r, cp_error **err)
{
	if (!find_header(r, err))
		return false;
	r->header_row = r->rowno;
	r->nheader = r->ncur;
	r->header = g_new0(char *, r->ncur + 1);
	for (size_t i = 0; i < r->ncur; i++)
		r->header[i] = cell_dup(r, i);

	for (size_t i = 0; i < r->nheader; i++) {
		int f = cp_field_lookup(r->header[i]);
		if (f < 0)
			continue; /* unknown columns are carried in cells only */
		const char *s = r->header[i];
		size_t n = strlen(s);
		cp_text_trim(&s, &n);
		char *name = g_strndup(s, n);
		if (r->colidx[f] >= 0) {
			char *label = field_label(f);
			cp_set_error(err, CP_E_PARSE, r->path, r->row_line, r->header_row, name,
			             _("columns %d (%s) and %zu (%s) both give %s"),
			             r->colidx[f] + 1, r->column[f], i + 1, name, label);
			g_free(label);
			g_free(name);
			return false;
		}
		r->colidx[f] = (int)i;
		r->column[f] = name;
	}

	return true;
}

/* ------------------------------------------------------------- public */

static char *folder_of(const char *path)
{
	char *dir = g_path_get_dirname(path);
	char *real = realpath(dir, NULL);
	if (real) {
		g_free(dir);
		return real;
	}
	char *abs = g_canonicalize_filename(dir, NULL);
	g_free(dir);
	return abs;
}

/* What the first bytes say the file is. */
enum kind { KIND_TEXT, KIND_ZIP, KIND_OLE };

static enum kind sniff_kind(FILE *fp)
{
	unsigned char b[8];
	size_t n = fread(b, 1, sizeof b, fp);
	rewind(fp);
	if (n >= 4 && memcmp(b, "PK\x03\x04", 4) == 0)
		return KIND_ZIP;
	if (n >= 8 && memcmp(b, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8) == 0)
		return KIND_OLE;
	return KIND_TEXT;
}

cp_reader *cp_reader_open(const char *path, cp_error **err)
{
	return cp_reader_open_ex(path, NULL, NULL, err);
}

cp_reader *cp_reader_open_sheet(const char *path, const char *sheet, cp_error **err)
{
	return cp_reader_open_ex(path, sheet, NULL, err);
}

cp_reader *cp_reader_open_cancellable(const char *path, const volatile sig_atomic_t *cancel,
                                      cp_error **err)
{
	return cp_reader_open_ex(path, NULL, cancel, err);
}

cp_reader *cp_reader_open_ex(const char *path, const char *sheet,
                             const volatile sig_atomic_t *cancel, cp_error **err)
{
	if (!path) {
		cp_set_error(err, CP_E_USAGE, NULL, 0, 0, NULL, _("no CSV file given"));
		return NULL;
	}
	FILE *fp = g_fopen(path, "rb");
	if (!fp) {
		cp_set_error(err, CP_E_IO, path, 0, 0, NULL, _("cannot open the file: %s"),
		             g_strerror(errno));
		return NULL;
	}
	cp_reader *r = g_new0(cp_reader, 1);
	r->fp = fp;
	r->cancel = cancel;
	struct stat st;
	bool regular = fstat(fileno(fp), &st) == 0 && S_ISREG(st.st_mode);
	if (regular && st.st_size > 0)
		r->size = (uint64_t)st.st_size;
	r->path = g_strdup(path);
	r->dir = folder_of(path);
	r->cd = (GIConv)-1;
	r->raw = g_malloc(RAW_CAP);
	r->dec = g_malloc(DEC_CAP);
	r->line = 1;
	r->rowcap = 4096;
	r->rowbuf = g_malloc(r->rowcap);
	r->cellstart = g_new(size_t, CP_CSV_MAX_COLUMNS + 1);
	for (int f = 0; f < CP_FIELD_COUNT; f++)
		r->colidx[f] = -1;

	/* Operators hand over the workbook itself as often as a CSV export of
	 * it: read it directly, rather than have digits and dates mangled by
	 * one more export. */
	/* A pipe or FIFO cannot be read twice: it is CSV text, read as it comes. */
	enum kind kind = regular ? sniff_kind(fp) : KIND_TEXT;
	/* What came through it is hashed as it is read: the ledger records the
	 * checksum, against which the same data given as a file is checked
	 * later (certpress reprint --input). */
	if (!regular)
		r->stream_sha = g_checksum_new(G_CHECKSUM_SHA256);
	if (kind != KIND_TEXT) {
		fclose(r->fp);
		r->fp = NULL;
		r->sheet = kind == KIND_ZIP ? cp_xlsx_open(path, sheet, err)
		                            : cp_xls_open(path, sheet, err);
		if (!r->sheet)
			goto fail;
		r->encoding = cp_sheet_describe(r->sheet);
		r->cellnum = g_new0(bool, CP_CSV_MAX_COLUMNS + 1);
	} else {
		if (sheet) {
			cp_set_error(err, CP_E_USAGE, path, 0, 0, NULL,
			             _("--sheet is for workbooks (.xlsx, .xls); this is a CSV file"));
			goto fail;
		}
		if (!detect_encoding(r, err))
			goto fail;
		r->delim = detect_delimiter(r);
		static const unsigned char common_stops[] = {'\0', '\n', '\r'};
		for (size_t i = 0; i < sizeof common_stops; i++)
			r->stop_unquoted[common_stops[i]] = r->stop_quoted[common_stops[i]] = true;
		r->stop_unquoted[(unsigned char)r->delim] = true;
		r->stop_quoted['"'] = true;
	}
	if (!read_header(r, err))
		goto fail;
	return r;
fail:
	cp_reader_free(r);
	return NULL;
}

void cp_reader_free(cp_reader *r)
{
	if (!r)
		return;
	if (r->fp)
		fclose(r->fp);
	if (r->stream_sha)
		g_checksum_free(r->stream_sha);
	cp_sheet_free(r->sheet);
	g_free(r->cellnum);
	if (r->picdir) {
		GDir *d = g_dir_open(r->picdir, 0, NULL);
		const char *n;
		while (d && (n = g_dir_read_name(d))) {
			char *f = g_build_filename(r->picdir, n, NULL);
			g_unlink(f);
			g_free(f);
		}
		if (d)
			g_dir_close(d);
		g_rmdir(r->picdir);
		g_free(r->picdir);
	}
	if (r->cd != (GIConv)-1)
		g_iconv_close(r->cd);
	g_free(r->path);
	free(r->dir); /* realpath() or GLib: both free() (GLib >= 2.46) */
	g_free(r->raw);
	g_free(r->dec);
	g_free(r->rowbuf);
	g_free(r->cellstart);
	g_strfreev(r->header);
	for (int f = 0; f < CP_FIELD_COUNT; f++)
		g_free(r->column[f]);
	g_free(r);
}

/* "I5" for column 8 (from 0) of row 5. */
static void cell_name(long col, long row, char *buf, size_t size)
{
	char letters[8];
	int n = 0;
	for (long c = col + 1; c > 0 && n < 7; c = (c - 1) / 26)
		letters[n++] = (char)('A' + (c - 1) % 26);
	char rev[8];
	for (int i = 0; i < n; i++)
		rev[i] = letters[n - 1 - i];
	rev[n] = '\0';
	snprintf(buf, size, "%s%ld", rev, row);
}

/* A picture in the row's photo cell (workbooks): saved to the reader's
 * private folder for the checker and the layout to use as a photo file, or
 * the reason it cannot be used. False on an error that stops reading. */
static bool take_picture(cp_reader *r, cp_record *out, cp_error **err)
{
	int col = r->colidx[CP_FIELD_PHOTO];
	if (!r->sheet || col < 0)
		return true;
	cp_sheet_picture pic;
	int n = cp_sheet_pictures(r->sheet, out->row, col, &pic, err);
	if (n < 0) {
		r->failed = true;
		return false;
	}
	if (n == 0)
		return true;
	char cell[32];
	cell_name(col, out->row, cell, sizeof cell);
	if (pic.in_cell && pic.anchored) {
		out->photo_picture_problem =
			g_strdup_printf(_("cell %s holds a picture in the cell and another placed "
			                  "over it; keep one photo in each row"), cell);
	} else if (n > 1) {
		out->photo_picture_problem =
			g_strdup_printf(_("cell %s holds %d pictures; keep one photo in each row"),
			                cell, n);
	} else if (pic.missing) {
		out->photo_picture_problem =
			g_strdup_printf(_("the picture in cell %s (%s) is not in the workbook; put "
			                  "the photo in the cell again"), cell, pic.missing);
	} else if (pic.to_row && pic.to_row != out->row) {
		out->photo_picture_problem =
			g_strdup_printf(_("the picture in cell %s reaches down into row %ld, so it "
			                  "belongs to no one row; make it fit inside its cell"),
			                cell, pic.to_row);
	} else if (!cp_text_blank(out->raw[CP_FIELD_PHOTO] ? out->raw[CP_FIELD_PHOTO] : "")) {
		out->photo_picture_problem =
			g_strdup_printf(_("cell %s holds both a file name and a picture; keep one"),
			                cell);
	} else {
		if (!r->picdir) {
			GError *ge = NULL;
			r->picdir = g_dir_make_tmp("certpress-pictures-XXXXXX", &ge);
			if (!r->picdir) {
				cp_set_error(err, CP_E_IO, r->path, out->line, out->row, NULL,
				             _("cannot take the picture out of cell %s: %s"), cell,
				             ge->message);
				g_error_free(ge);
				cp_sheet_picture_clear(&pic);
				r->failed = true;
				return false;
			}
		}
		char name[48];
		snprintf(name, sizeof name, "row-%ld", out->row);
		char *path = g_build_filename(r->picdir, name, NULL);
		GError *ge = NULL;
		if (!g_file_set_contents(path, (const char *)pic.data, (gssize)pic.len, &ge)) {
			cp_set_error(err, CP_E_IO, r->path, out->line, out->row, NULL,
			             _("cannot take the picture out of cell %s: %s"), cell,
			             ge->message);
			g_error_free(ge);
			g_free(path);
			cp_sheet_picture_clear(&pic);
			r->failed = true;
			return false;
		}
		out->photo_picture = path;
	}
	cp_sheet_picture_clear(&pic);
	return true;
}

int cp_reader_next(cp_reader *r, cp_record *out, cp_error **err)
{
	cp_record_clear(out);
	if (r->failed) {
		cp_set_error(err, CP_E_PARSE, r->path, 0, 0, NULL,
		             _("reading stopped at an earlier error"));
		return -1;
	}
	int k = next_row(r, err);
	if (k < 0)
		r->failed = true;
	if (k <= 0)
		return k;
	out->row = r->rowno;
	out->line = r->row_line;
	out->ncells = r->ncur;
	out->cells = g_new(char *, r->ncur + 1);
	for (size_t i = 0; i < r->ncur; i++)
		out->cells[i] = cell_dup(r, i);
	out->cells[r->ncur] = NULL;
	for (int f = 0; f < CP_FIELD_COUNT; f++) {
		int c = r->colidx[f];
		if (c >= 0 && (size_t)c < r->ncur) {
			out->raw[f] = g_strdup(out->cells[c]);
			out->number[f] = r->cellnum && r->cellnum[c];
		}
	}
	if (!take_picture(r, out, err)) {
		cp_record_clear(out);
		return -1;
	}
	return 1;
}

const char *const *cp_reader_header(const cp_reader *r, size_t *n)
{
	if (n)
		*n = r->nheader;
	return (const char *const *)r->header;
}

const char *cp_reader_column(const cp_reader *r, cp_field f)
{
	return (unsigned)f < CP_FIELD_COUNT ? r->column[f] : NULL;
}

const char *cp_reader_encoding(const cp_reader *r)
{
	return r->encoding;
}

const char *cp_reader_dir(const cp_reader *r)
{
	return r->dir;
}

const char *cp_reader_path(const cp_reader *r)
{
	return r->path;
}

long cp_reader_header_row(const cp_reader *r)
{
	return r->header_row;
}

bool cp_reader_progress(const cp_reader *r, double *fraction)
{
	if (r && r->sheet) {
		double f = cp_sheet_progress(r->sheet);
		if (f < 0)
			return false;
		*fraction = f;
		return true;
	}
	if (!r || r->size == 0)
		return false;
	/* Bytes read but not yet tokenised still wait in the buffers; after
	 * conversion the text is UTF-8, about 3/2 of GB18030's bytes. */
	double pending = (double)(r->dlen - r->dpos);
	if (r->convert)
		pending = pending * 2 / 3 + (double)r->rawlen;
	double f = ((double)r->bytes_read - pending) / (double)r->size;
	*fraction = f < 0 ? 0 : f > 1 ? 1 : f;
	return true;
}

/* ------------------------------------------------------------- writing */

/* [+-]digits[.digits]: a number a spreadsheet reads as a number. */
static bool plain_number(const char *s)
{
	if (*s == '+' || *s == '-')
		s++;
	if (!g_ascii_isdigit(*s))
		return false;
	while (g_ascii_isdigit(*s))
		s++;
	if (*s == '.') {
		s++;
		if (!g_ascii_isdigit(*s))
			return false;
		while (g_ascii_isdigit(*s))
			s++;
	}
	return *s == '\0';
}

bool cp_csv_formula_like(const char *s)
{
	return s && s[0] && strchr("=+-@\t\r", s[0]) && !plain_number(s);
}

void cp_csv_append_cell(GString *g, const char *s)
{
	if (!s)
		s = "";
	size_t n = strlen(s);
	bool formula = cp_csv_formula_like(s);
	if (!formula && !strpbrk(s, ",\"\r\n") && !(n && (s[0] == ' ' || s[n - 1] == ' '))) {
		g_string_append(g, s);
		return;
	}
	g_string_append_c(g, '"');
	if (formula)
		g_string_append_c(g, '\'');
	for (; *s; s++) {
		if (*s == '"')
			g_string_append_c(g, '"');
		g_string_append_c(g, *s);
	}
	g_string_append_c(g, '"');
}

char *cp_reader_stream_sha256(const cp_reader *r)
{
	if (!r->stream_sha || !r->raw_eof)
		return NULL;
	GChecksum *c = g_checksum_copy(r->stream_sha);
	char *hex = g_strdup(g_checksum_get_string(c));
	g_checksum_free(c);
	return hex;
}
