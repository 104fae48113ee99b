/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target "qr": the QR encoder (src/layout/qr.c), which has libqrencode
 * encode with mask 0 and then scores the eight masks itself, 64 or 128
 * modules at a time (src/layout/qr_mask.inc), instead of the library's
 * module-by-module scoring.
 *
 * Checked beyond "no crash": for any content (the first byte picks the
 * error-correction level, the rest is the text up to its first NUL), the
 * symbol is exactly the one libqrencode makes with its own mask choice —
 * same version, same width, every module — and a content refused by
 * cp_qr_encode is refused by the library too (too long for the level).
 */
#include "fuzz.h"

#include <qrencode.h>

#include "layout/qr.h"

/* The library's symbol for text, built as cp_qr_encode builds its input
 * (byte mode, ECI 26 before non-ASCII content), or NULL. */
static QRcode *library_symbol(const char *text, size_t len, int ec)
{
	QRecLevel level = ec >= 3 ? QR_ECLEVEL_H : ec == 2 ? QR_ECLEVEL_Q : QR_ECLEVEL_M;
	QRinput *in = QRinput_new2(0, level);
	if (!in)
		cp_fuzz_fail("QRinput_new2 failed");
	bool ascii = true;
	for (size_t i = 0; i < len; i++)
		ascii = ascii && (unsigned char)text[i] < 0x80;
	QRcode *c = NULL;
	if ((ascii || QRinput_appendECIheader(in, 26) == 0) &&
	    QRinput_append(in, QR_MODE_8, (int)len, (const unsigned char *)text) == 0)
		c = QRcode_encodeInput(in);
	QRinput_free(in);
	return c;
}

int cp_fuzz_qr(const uint8_t *data, size_t size);
int cp_fuzz_qr(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	int ec = 1 + data[0] % 3;
	char *text = g_strndup((const char *)data + 1, size - 1);
	size_t len = strlen(text);
	cp_error *err = NULL;
	cp_qr *q = cp_qr_encode(text, ec, &err);
	QRcode *c = len ? library_symbol(text, len, ec) : NULL;
	if (!q) {
		cp_fuzz_check_result(false, err, "cp_qr_encode");
		if (c && len <= CP_QR_MAX_BYTES)
			cp_fuzz_fail("cp_qr_encode refused %zu bytes at ec %d that the library encodes",
			             len, ec);
	} else {
		cp_fuzz_check_result(true, err, "cp_qr_encode");
		if (!c)
			cp_fuzz_fail("cp_qr_encode encoded %zu bytes the library refuses", len);
		if (cp_qr_width(q) != c->width || cp_qr_version(q) != c->version)
			cp_fuzz_fail("version %d width %d, the library's %d and %d", cp_qr_version(q),
			             cp_qr_width(q), c->version, c->width);
		for (int y = 0; y < c->width; y++)
			for (int x = 0; x < c->width; x++)
				if (cp_qr_dark(q, x, y) != (bool)(c->data[y * c->width + x] & 1))
					cp_fuzz_fail("%zu bytes, ec %d: module (%d, %d) is not the library's",
					             len, ec, x, y);
		cp_qr_free(q);
	}
	if (c)
		QRcode_free(c);
	g_free(text);
	return 0;
}

CP_FUZZ_ENTRY(qr)
