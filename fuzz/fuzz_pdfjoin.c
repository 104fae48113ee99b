/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target "pdfjoin": the part joiner (src/output/pdfjoin.c) on arbitrary bytes
 * in a memfd, as the only part and as both of two parts.
 *
 * Checked beyond "no crash": cp_pdf_join accepts no part that
 * cp_pdf_part_pages (which reads only the structure) refuses; runs that take one page too many are
 * CP_E_USAGE; the joined file of a good part is itself a part that can be
 * joined again, with the pages of both inputs, and joining is deterministic.
 * The same bytes as the shared layer under a good part's pages
 * (cp_pdf_join_under): refused only with CP_E_PARSE or CP_E_NOMEM, and when
 * accepted the result is a part with the good part's pages.
 */
#include "fuzz.h"

#include <sys/mman.h>

#include "output/pdfjoin.h"

static int memfd_with(const char *name, const uint8_t *data, size_t size)
{
	int fd = memfd_create(name, MFD_CLOEXEC);
	if (fd < 0)
		cp_fuzz_fail("memfd_create failed");
	if (size && pwrite(fd, data, size, 0) != (ssize_t)size)
		cp_fuzz_fail("pwrite failed");
	lseek(fd, (off_t)(size / 2), SEEK_SET); /* the joiner must not use the offset */
	return fd;
}

/* Joins (with the layer read through layer_fd, or -1) and returns the
 * output (g_free) or NULL with *err set. */
static uint8_t *join_under(const int *fds, int n, const cp_pdf_run *runs, size_t nruns,
                           int layer_fd, size_t *out_size, cp_error **err)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	if (!out)
		cp_fuzz_fail("open_memstream failed");
	bool ok = cp_pdf_join_under(out, "fuzz.pdf", fds, n, runs, nruns, layer_fd,
	                            "/ViewerPreferences << /PrintScaling /None >>", err);
	fclose(out);
	if (!ok) {
		free(buf);
		return NULL;
	}
	uint8_t *copy = g_memdup2(buf, len);
	free(buf);
	*out_size = len;
	return copy;
}

static uint8_t *join(const int *fds, int n, const cp_pdf_run *runs, size_t nruns,
                     size_t *out_size, cp_error **err)
{
	return join_under(fds, n, runs, nruns, -1, out_size, err);
}

int cp_fuzz_pdfjoin(const uint8_t *data, size_t size)
{
	int fd = memfd_with("part.pdf", data, size);
	cp_error *err = NULL;
	long pages = 0;
	bool ok = cp_pdf_part_pages(fd, &pages, &err);
	cp_fuzz_check_result(ok, err, "cp_pdf_part_pages");
	err = NULL;

	int fds[2] = {fd, fd};
	cp_pdf_run runs[2] = {{0, ok ? pages : 1}, {1, ok ? pages : 1}};
	size_t n1 = 0, n2 = 0;
	uint8_t *one = join(fds, 1, runs, 1, &n1, &err);
	if (one && !ok)
		cp_fuzz_fail("cp_pdf_join accepted a part cp_pdf_part_pages refused");
	if (!one && err->code != CP_E_PARSE && err->code != CP_E_NOMEM)
		cp_fuzz_fail("a bad part gave error code %d", err->code);
	cp_fuzz_check_result(one != NULL, err, "cp_pdf_join(one part)");
	err = NULL;
	if (!one) {
		close(fd);
		return 0;
	}

	uint8_t *two = join(fds, 2, runs, 2, &n2, &err);
	if (!two) {
		char *m = cp_error_format(err);
		cp_fuzz_fail("a good part cannot be joined with itself: %s", m);
	}
	cp_error_free(err);
	err = NULL;
	size_t n3 = 0;
	uint8_t *again = join(fds, 2, runs, 2, &n3, &err);
	if (!again || n3 != n2 || memcmp(again, two, n2) != 0)
		cp_fuzz_fail("joining the same parts twice gave different bytes");
	g_free(again);
	cp_error_free(err);
	err = NULL;

	/* The input as the layer under its own pages (a good part). */
	size_t nl = 0;
	uint8_t *under = join_under(fds, 1, runs, 1, fd, &nl, &err);
	if (!under && err->code != CP_E_PARSE && err->code != CP_E_NOMEM)
		cp_fuzz_fail("a bad layer gave error code %d", err->code);
	cp_fuzz_check_result(under != NULL, err, "cp_pdf_join_under");
	err = NULL;
	if (under) {
		int u = memfd_with("under.pdf", under, nl);
		long pages_u = 0;
		if (!cp_pdf_part_pages(u, &pages_u, &err)) {
			char *m = cp_error_format(err);
			cp_fuzz_fail("the file with the layer under is not a part: %s", m);
		}
		if (pages_u != pages)
			cp_fuzz_fail("%ld pages with the layer under, %ld without", pages_u, pages);
		close(u);
		g_free(under);
	}

	/* Our own output is a part again, with both inputs' pages. */
	int joined = memfd_with("joined.pdf", two, n2);
	long pages2 = 0;
	if (!cp_pdf_part_pages(joined, &pages2, &err)) {
		char *m = cp_error_format(err);
		cp_fuzz_fail("the joined file is not a part: %s", m);
	}
	if (pages2 != 2 * pages)
		cp_fuzz_fail("joined %ld + %ld pages, found %ld", pages, pages, pages2);
	close(joined);

	cp_pdf_run over[2] = {{0, pages}, {0, 1}};
	if (join(fds, 1, over, 2, &n3, &err) || !err || err->code != CP_E_USAGE)
		cp_fuzz_fail("one page too many was not refused with CP_E_USAGE");
	cp_fuzz_check_result(false, err, "cp_pdf_join(too many pages)");
	g_free(one);
	g_free(two);
	close(fd);
	return 0;
}

CP_FUZZ_ENTRY(pdfjoin)
