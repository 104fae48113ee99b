/* SPDX-License-Identifier: MIT */
/*
 * Shared by the libFuzzer harnesses (fuzz/fuzz_<target>.c) and by the
 * regression test (tests/test_fuzz_regress.c), which compiles the harnesses
 * in with CP_FUZZ_REGRESS defined so that a crash file is replayed through
 * exactly the code the fuzzer ran.
 *
 * Every harness defines
 *     int cp_fuzz_<target>(const uint8_t *data, size_t size);
 * which returns 0 and calls cp_fuzz_fail() (abort) when an invariant of the
 * module's contract is broken, so that a wrong answer is a finding just like
 * a sanitizer report.
 *
 * The loaders under test read files by path: the input is written to a file
 * in one private folder per process (under /dev/shm when there is one, so no
 * disk is touched), which is removed at exit.
 */
#ifndef CP_FUZZ_H
#define CP_FUZZ_H

#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "certpress.h"

int cp_fuzz_csv(const uint8_t *data, size_t size);
int cp_fuzz_conf(const uint8_t *data, size_t size);
int cp_fuzz_template(const uint8_t *data, size_t size);
int cp_fuzz_profile(const uint8_t *data, size_t size);
int cp_fuzz_rules(const uint8_t *data, size_t size);
int cp_fuzz_image(const uint8_t *data, size_t size);
int cp_fuzz_pdfupdate(const uint8_t *data, size_t size);
int cp_fuzz_pdfjoin(const uint8_t *data, size_t size);
int cp_fuzz_sign(const uint8_t *data, size_t size);
int cp_fuzz_xlsx(const uint8_t *data, size_t size);
int cp_fuzz_zrun(const uint8_t *data, size_t size);

#define cp_fuzz_fail(...) \
	do { \
		fprintf(stderr, "fuzz invariant broken at %s:%d: ", __FILE__, __LINE__); \
		fprintf(stderr, __VA_ARGS__); \
		fputc('\n', stderr); \
		abort(); \
	} while (0)

static char *cp_fuzz_dir_;

static void cp_fuzz_cleanup_(void)
{
	if (!cp_fuzz_dir_)
		return;
	GDir *d = g_dir_open(cp_fuzz_dir_, 0, NULL);
	if (d) {
		const char *n;
		while ((n = g_dir_read_name(d))) {
			char *p = g_build_filename(cp_fuzz_dir_, n, NULL);
			g_remove(p);
			g_free(p);
		}
		g_dir_close(d);
	}
	g_rmdir(cp_fuzz_dir_);
	g_free(cp_fuzz_dir_);
	cp_fuzz_dir_ = NULL;
}

/* The per-process scratch folder. Borrowed; lives until exit. */
static inline const char *cp_fuzz_dir(void)
{
	if (cp_fuzz_dir_)
		return cp_fuzz_dir_;
	const char *base = g_file_test("/dev/shm", G_FILE_TEST_IS_DIR) &&
	                   access("/dev/shm", W_OK) == 0 ? "/dev/shm" : g_get_tmp_dir();
	char *tmpl = g_build_filename(base, "certpress-fuzz-XXXXXX", NULL);
	if (!g_mkdtemp(tmpl))
		cp_fuzz_fail("cannot create a scratch folder in %s", base);
	cp_fuzz_dir_ = tmpl;
	atexit(cp_fuzz_cleanup_);
	return cp_fuzz_dir_;
}

/* Writes data to name in the scratch folder (replacing it) and returns the
 * full path. Free with g_free(). */
static inline char *cp_fuzz_write(const char *name, const uint8_t *data, size_t size)
{
	char *path = g_build_filename(cp_fuzz_dir(), name, NULL);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		cp_fuzz_fail("cannot write %s", path);
	size_t done = 0;
	while (done < size) {
		ssize_t k = write(fd, data + done, size - done);
		if (k <= 0)
			cp_fuzz_fail("cannot write %s", path);
		done += (size_t)k;
	}
	close(fd);
	return path;
}

/* Puts the shipped seal image (templates/seal.png) beside the inputs once,
 * for the profiles and templates that name "seal.png". */
static inline void cp_fuzz_put_seal(void)
{
	static bool done;
	if (done)
		return;
	done = true;
	char *src = g_build_filename(CP_DATADIR, "templates", "seal.png", NULL);
	char *data = NULL;
	gsize len = 0;
	if (g_file_get_contents(src, &data, &len, NULL))
		g_free(cp_fuzz_write("seal.png", (const uint8_t *)data, len));
	g_free(data);
	g_free(src);
}

/* The contract of every fallible call (certpress.h): failure comes with an
 * error that has a message and formats; success comes without one. Frees the
 * error. */
static inline void cp_fuzz_check_result(bool ok, cp_error *err, const char *what)
{
	if (ok && err) {
		char *m = cp_error_format(err);
		cp_fuzz_fail("%s succeeded but set an error: %s", what, m);
	}
	if (!ok) {
		if (!err)
			cp_fuzz_fail("%s failed without an error", what);
		if (!err->message || !*err->message)
			cp_fuzz_fail("%s failed with an empty message", what);
		if (!g_utf8_validate(err->message, -1, NULL))
			cp_fuzz_fail("%s: error message is not UTF-8", what);
		char *m = cp_error_format(err);
		if (!m || !*m)
			cp_fuzz_fail("%s: cp_error_format gave nothing", what);
		free(m);
	}
	cp_error_free(err);
}

/* Each harness file ends with CP_FUZZ_ENTRY(target): the libFuzzer entry
 * point, left out when the file is compiled into the regression test. */
#ifdef CP_FUZZ_REGRESS
#define CP_FUZZ_ENTRY(target)
#else
#define CP_FUZZ_ENTRY(target) \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size); \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) \
	{ \
		return cp_fuzz_##target(data, size); \
	}
#endif

#endif
