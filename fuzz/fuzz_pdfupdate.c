/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target "pdfupdate": the PDF incremental-update writer
 * (src/output/pdfupdate.c) on arbitrary bytes in a memfd (no disk, no path).
 *
 * Checked beyond "no crash": on failure the file is left exactly as it was;
 * on success the old bytes are an unchanged prefix of the new file, and the
 * new file, being our own output, can be updated once more the same way.
 * A bad key is refused with CP_E_USAGE before anything is touched.
 */
#include "fuzz.h"

#include <sys/mman.h>

#include "output/pdfupdate.h"

static int pdf_fd = -1;

static void fd_set_contents(const uint8_t *data, size_t size)
{
	if (pdf_fd < 0) {
		pdf_fd = memfd_create("fuzz.pdf", MFD_CLOEXEC);
		if (pdf_fd < 0)
			cp_fuzz_fail("memfd_create failed");
	}
	if (ftruncate(pdf_fd, 0) != 0)
		cp_fuzz_fail("ftruncate failed");
	if (size && pwrite(pdf_fd, data, size, 0) != (ssize_t)size)
		cp_fuzz_fail("pwrite failed");
	/* "positioned anywhere": the writer must not rely on the offset */
	lseek(pdf_fd, (off_t)(size / 2), SEEK_SET);
}

static uint8_t *fd_contents(size_t *size)
{
	off_t end = lseek(pdf_fd, 0, SEEK_END);
	if (end < 0)
		cp_fuzz_fail("lseek failed");
	uint8_t *buf = g_malloc((size_t)end + 1);
	if (end && pread(pdf_fd, buf, (size_t)end, 0) != (ssize_t)end)
		cp_fuzz_fail("pread failed");
	*size = (size_t)end;
	return buf;
}

/* One update; returns the new contents (g_free) or NULL when it failed, in
 * which case the file was checked to be unchanged. */
static uint8_t *update(const uint8_t *data, size_t size, const char *key,
                       const char *value, size_t *out_size, cp_error **err)
{
	fd_set_contents(data, size);
	bool ok = cp_pdf_set_catalog_entry_fd(pdf_fd, "fuzz.pdf", key, value, err);
	size_t n;
	uint8_t *now = fd_contents(&n);
	if (!ok) {
		if (n != size || memcmp(now, data, size) != 0)
			cp_fuzz_fail("failed update changed the file (%zu -> %zu bytes)", size, n);
		g_free(now);
		return NULL;
	}
	if (n <= size || memcmp(now, data, size) != 0)
		cp_fuzz_fail("update did not keep the old bytes as a prefix");
	*out_size = n;
	return now;
}

int cp_fuzz_pdfupdate(const uint8_t *data, size_t size)
{
	static const char key[] = "ViewerPreferences", value[] = "<< /PrintScaling /None >>";
	cp_error *err = NULL;
	size_t n1 = 0, n2 = 0;
	uint8_t *once = update(data, size, key, value, &n1, &err);
	cp_fuzz_check_result(once != NULL, err, "cp_pdf_set_catalog_entry_fd");
	err = NULL;
	if (once) {
		uint8_t *twice = update(once, n1, "PageMode", "/UseNone", &n2, &err);
		if (!twice) {
			char *m = cp_error_format(err);
			cp_fuzz_fail("our own update cannot be updated again: %s", m);
		}
		g_free(twice);
		g_free(once);
	}

	uint8_t *bad = update(data, size, "Bad Key", value, &n1, &err);
	if (bad || !err || err->code != CP_E_USAGE)
		cp_fuzz_fail("a key with a blank was not refused with CP_E_USAGE");
	cp_fuzz_check_result(false, err, "cp_pdf_set_catalog_entry_fd(bad key)");
	return 0;
}

CP_FUZZ_ENTRY(pdfupdate)
