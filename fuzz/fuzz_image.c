/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target "image": PNG/JPEG probing and decoding (src/input/image.c) on
 * arbitrary bytes written to <scratch>/fuzz.img. libFuzzer runs with
 * -malloc_limit_mb (see the Makefile), so a header that lies about the size
 * and makes the decoder allocate beyond CP_IMAGE_MAX_PIXELS is a finding.
 *
 * Checked beyond "no crash": probe and load agree (a file that loads also
 * probes, with the same format and size), sizes stay within the limits, the
 * surface is the promised format and size and every row can be read, and
 * JPEG data attached for PDF embedding is exactly the file's bytes, and only
 * to a JPEG drawn as stored (EXIF orientation 1); orientation within 1-8.
 */
#include "fuzz.h"

#include "input/image.h"

int cp_fuzz_image(const uint8_t *data, size_t size)
{
	char *path = cp_fuzz_write("fuzz.img", data, size);
	cp_error *err = NULL;
	cp_image_info pi = {0}, li = {0};
	bool probed = cp_image_probe(path, &pi, &err);
	cp_fuzz_check_result(probed, err, "cp_image_probe");
	err = NULL;
	if (probed) {
		if (pi.width < 1 || pi.height < 1 || pi.width > CP_IMAGE_MAX_SIDE ||
		    pi.height > CP_IMAGE_MAX_SIDE ||
		    (uint64_t)pi.width * (uint64_t)pi.height > CP_IMAGE_MAX_PIXELS)
			cp_fuzz_fail("probe accepted %d x %d", pi.width, pi.height);
		if (!(pi.dpi_x >= 0 && pi.dpi_y >= 0))
			cp_fuzz_fail("density %g x %g", pi.dpi_x, pi.dpi_y);
		if (pi.orientation < 1 || pi.orientation > 8 ||
		    (pi.format != CP_IMAGE_JPEG && pi.orientation != 1))
			cp_fuzz_fail("orientation %d", pi.orientation);
	}

	cairo_surface_t *s = cp_image_load(path, &li, &err);
	cp_fuzz_check_result(s != NULL, err, "cp_image_load");
	g_free(path);
	if (!s)
		return 0;
	if (!probed)
		cp_fuzz_fail("load succeeded where probe failed");
	if (li.format != pi.format || li.width != pi.width || li.height != pi.height ||
	    li.has_alpha != pi.has_alpha || li.orientation != pi.orientation)
		cp_fuzz_fail("probe %d %dx%d alpha %d, load %d %dx%d alpha %d", pi.format,
		             pi.width, pi.height, pi.has_alpha, li.format, li.width,
		             li.height, li.has_alpha);
	if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS ||
	    cairo_surface_get_type(s) != CAIRO_SURFACE_TYPE_IMAGE)
		cp_fuzz_fail("surface in error or not an image surface");
	cairo_format_t want = li.has_alpha ? CAIRO_FORMAT_ARGB32 : CAIRO_FORMAT_RGB24;
	if (cairo_image_surface_get_format(s) != want)
		cp_fuzz_fail("surface format %d, expected %d",
		             (int)cairo_image_surface_get_format(s), (int)want);
	int w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
	if (w != li.width || h != li.height)
		cp_fuzz_fail("surface %dx%d, info %dx%d", w, h, li.width, li.height);
	/* Before anything touches the pixels: cairo_surface_flush() and
	 * mark_dirty() drop mime data. CMYK JPEGs are embedded decoded (see
	 * image.c), so the JPEG bytes may be absent, but never different. */
	const unsigned char *mime = NULL;
	unsigned long mlen = 0;
	cairo_surface_get_mime_data(s, CAIRO_MIME_TYPE_JPEG, &mime, &mlen);
	if (mime && (li.format != CP_IMAGE_JPEG || li.orientation != 1 || mlen != size ||
	             memcmp(mime, data, size) != 0))
		cp_fuzz_fail("surface carries JPEG data that is not the file");
	/* first and last pixel of every row: ASan names a short pixel buffer */
	const unsigned char *px = cairo_image_surface_get_data(s);
	int stride = cairo_image_surface_get_stride(s);
	unsigned acc = 0;
	for (int y = 0; y < h; y++)
		acc += px[(size_t)y * stride] + px[(size_t)y * stride + (size_t)w * 4 - 1];
	(void)acc;
	cairo_surface_destroy(s);
	return 0;
}

CP_FUZZ_ENTRY(image)
