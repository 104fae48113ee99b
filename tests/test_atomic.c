/* SPDX-License-Identifier: MIT */
#include "common/testutil.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "atomic.h"
#include "error.h"

static char *slurp(const char *path)
{
	char *s = NULL;
	g_assert_true(g_file_get_contents(path, &s, NULL, NULL));
	return s;
}

/* The old file stays readable until commit, then is replaced in one step;
 * no temporary file is left behind and the mode is 0644 less umask. */
static void test_commit_replaces(void)
{
	char *dir = tu_scratch("atomic-commit");
	char *path = tu_write(dir, "out.txt", "old");
	cp_error *err = NULL;
	mode_t old = umask(022);
	cp_atomic *a = cp_atomic_open(path, 0, &err);
	umask(old);
	tu_assert_no_error(err);
	g_assert_true(cp_atomic_write(a, "new", 3, &err));
	g_assert_true(g_str_has_prefix(cp_atomic_temp_path(a), dir));
	g_assert_true(g_file_test(cp_atomic_temp_path(a), G_FILE_TEST_EXISTS));
	fflush(cp_atomic_file(a));
	char *s = slurp(path);
	g_assert_cmpstr(s, ==, "old");
	g_free(s);
	g_assert_cmpint(tu_count_entries(dir), ==, 2);
	g_assert_true(cp_atomic_commit(a, &err));
	tu_assert_no_error(err);
	s = slurp(path);
	g_assert_cmpstr(s, ==, "new");
	g_free(s);
	g_assert_cmpint(tu_count_entries(dir), ==, 1);
	struct stat st;
	g_assert_cmpint(stat(path, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0644);
	g_free(path);
	g_free(dir);
}

/* Abort removes the temporary file and never creates the target. */
static void test_abort_leaves_nothing(void)
{
	char *dir = tu_scratch("atomic-abort");
	char *path = g_build_filename(dir, "out.pdf", NULL);
	cp_error *err = NULL;
	cp_atomic *a = cp_atomic_open(path, CP_ATOMIC_PRIVATE, &err);
	tu_assert_no_error(err);
	struct stat st;
	g_assert_cmpint(stat(cp_atomic_temp_path(a), &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0600);
	g_assert_true(cp_atomic_write(a, "x", 1, &err));
	cp_atomic_abort(a);
	cp_atomic_abort(NULL);
	g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
	g_assert_cmpint(tu_count_entries(dir), ==, 0);
	g_free(path);
	g_free(dir);
}

/* A symlink is refused by default; allowed, the file it points to is
 * replaced and the link itself stays a link. */
static void test_symlink(void)
{
	char *dir = tu_scratch("atomic-symlink");
	char *target = tu_write(dir, "real.txt", "real");
	char *link = g_build_filename(dir, "link.txt", NULL);
	g_assert_cmpint(symlink("real.txt", link), ==, 0);
	cp_error *err = NULL;
	g_assert_null(cp_atomic_open(link, 0, &err));
	tu_assert_error(&err, CP_E_USAGE, "symbolic link");
	cp_atomic *a = cp_atomic_open(link, CP_ATOMIC_ALLOW_SYMLINK, &err);
	tu_assert_no_error(err);
	g_assert_true(cp_atomic_write(a, "through", 7, &err));
	g_assert_true(cp_atomic_commit(a, &err));
	g_assert_true(g_file_test(link, G_FILE_TEST_IS_SYMLINK));
	char *s = slurp(target);
	g_assert_cmpstr(s, ==, "through");
	g_free(s);
	/* a dangling link cannot be written through */
	char *dang = g_build_filename(dir, "dangling", NULL);
	g_assert_cmpint(symlink("nowhere/x", dang), ==, 0);
	g_assert_null(cp_atomic_open(dang, CP_ATOMIC_ALLOW_SYMLINK, &err));
	tu_assert_error(&err, CP_E_IO, "points nowhere");
	g_free(dang);
	g_free(link);
	g_free(target);
	g_free(dir);
}

/* The output may not be an input, under its own name or a hard link. */
static void test_same_as_input(void)
{
	char *dir = tu_scratch("atomic-same");
	char *in = tu_write(dir, "batch.csv", "a,b\n");
	char *other = tu_write(dir, "other.csv", "a,b\n");
	char *hard = g_build_filename(dir, "hard.pdf", NULL);
	g_assert_cmpint(link(in, hard), ==, 0);
	const char *inputs[] = {other, in, NULL};
	cp_error *err = NULL;
	g_assert_false(cp_atomic_check_target(in, inputs, 0, &err));
	tu_assert_error(&err, CP_E_USAGE, "same file as the input");
	g_assert_false(cp_atomic_check_target(hard, inputs, 0, &err));
	tu_assert_error(&err, CP_E_USAGE, "batch.csv");
	char *fresh = g_build_filename(dir, "fresh.pdf", NULL);
	g_assert_true(cp_atomic_check_target(fresh, inputs, 0, &err));
	tu_assert_no_error(err);
	g_free(fresh);
	g_free(hard);
	g_free(other);
	g_free(in);
	g_free(dir);
}

/* A missing folder, a folder as output and an empty name get clear errors. */
static void test_bad_targets(void)
{
	char *dir = tu_scratch("atomic-bad");
	char *missing = g_build_filename(dir, "no-such-folder", "out.pdf", NULL);
	cp_error *err = NULL;
	g_assert_null(cp_atomic_open(missing, 0, &err));
	tu_assert_error(&err, CP_E_IO, "no-such-folder does not exist");
	g_assert_null(cp_atomic_open(dir, 0, &err));
	tu_assert_error(&err, CP_E_USAGE, "is a folder");
	g_assert_null(cp_atomic_open("", 0, &err));
	tu_assert_error(&err, CP_E_USAGE, "no output file name");
	char *file = tu_write(dir, "plain", "x");
	char *under = g_build_filename(file, "out.pdf", NULL);
	g_assert_null(cp_atomic_open(under, 0, &err));
	tu_assert_error(&err, CP_E_IO, "is not a folder");
	g_assert_null(cp_atomic_dir_open(file, 0, &err));
	tu_assert_error(&err, CP_E_USAGE, "not a folder");
	g_free(under);
	g_free(file);
	g_free(missing);
	g_free(dir);
}

/* cp_atomic_cleanup_all removes every live temporary file and folder. */
static void test_cleanup_all(void)
{
	char *dir = tu_scratch("atomic-cleanup");
	char *p1 = g_build_filename(dir, "a.pdf", NULL);
	char *p2 = g_build_filename(dir, "b.pdf", NULL);
	char *pd = g_build_filename(dir, "pages", NULL);
	cp_error *err = NULL;
	cp_atomic *a = cp_atomic_open(p1, 0, &err);
	cp_atomic *b = cp_atomic_open(p2, 0, &err);
	cp_atomic_dir *d = cp_atomic_dir_open(pd, 0, &err);
	tu_assert_no_error(err);
	char *inner = tu_write(cp_atomic_dir_temp_path(d), "0001.png", "png");
	g_assert_cmpint(tu_count_entries(dir), ==, 3);
	cp_atomic_cleanup_all();
	g_assert_cmpint(tu_count_entries(dir), ==, 0);
	cp_atomic_abort(a);
	cp_atomic_abort(b);
	cp_atomic_dir_abort(d);
	g_free(inner);
	g_free(pd);
	g_free(p2);
	g_free(p1);
	g_free(dir);
}

/* A SIGTERM in the middle of writing leaves no temporary file, and the
 * process still dies of the signal. */
static void test_signal(void)
{
	char *dir = tu_scratch("atomic-signal");
	char *path = g_build_filename(dir, "out.pdf", NULL);
	pid_t pid = fork();
	g_assert_cmpint(pid, >=, 0);
	if (pid == 0) {
		cp_atomic_install_signal_handlers(NULL);
		cp_atomic *a = cp_atomic_open(path, 0, NULL);
		if (!a)
			_exit(3);
		cp_atomic_write(a, "partial", 7, NULL);
		raise(SIGTERM);
		_exit(4);
	}
	int status = 0;
	g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
	g_assert_true(WIFSIGNALED(status));
	g_assert_cmpint(WTERMSIG(status), ==, SIGTERM);
	g_assert_cmpint(tu_count_entries(dir), ==, 0);
	g_free(path);
	g_free(dir);
}

/* Folder output: a new folder appears whole; into an existing folder files
 * are moved one by one, replacing same-named ones and keeping the rest;
 * abort leaves nothing. */
static void test_dir(void)
{
	char *dir = tu_scratch("atomic-dir");
	char *target = g_build_filename(dir, "pages", NULL);
	cp_error *err = NULL;
	cp_atomic_dir *d = cp_atomic_dir_open(target, 0, &err);
	tu_assert_no_error(err);
	g_free(tu_write(cp_atomic_dir_temp_path(d), "1.png", "one"));
	g_assert_false(g_file_test(target, G_FILE_TEST_EXISTS));
	g_assert_true(cp_atomic_dir_commit(d, &err));
	tu_assert_no_error(err);
	g_assert_true(g_file_test(target, G_FILE_TEST_IS_DIR));
	g_assert_cmpint(tu_count_entries(dir), ==, 1);

	g_free(tu_write(target, "keep.txt", "keep"));
	d = cp_atomic_dir_open(target, 0, &err);
	tu_assert_no_error(err);
	g_free(tu_write(cp_atomic_dir_temp_path(d), "1.png", "ONE"));
	g_free(tu_write(cp_atomic_dir_temp_path(d), "2.png", "two"));
	g_assert_true(cp_atomic_dir_commit(d, &err));
	tu_assert_no_error(err);
	g_assert_cmpint(tu_count_entries(target), ==, 3);
	g_assert_cmpint(tu_count_entries(dir), ==, 1);
	char *p = g_build_filename(target, "1.png", NULL);
	char *s = slurp(p);
	g_assert_cmpstr(s, ==, "ONE");
	g_free(s);
	g_free(p);

	char *other = g_build_filename(dir, "other", NULL);
	d = cp_atomic_dir_open(other, 0, &err);
	g_free(tu_write(cp_atomic_dir_temp_path(d), "x.png", "x"));
	cp_atomic_dir_abort(d);
	cp_atomic_dir_abort(NULL);
	g_assert_cmpint(tu_count_entries(dir), ==, 1);
	g_free(other);
	g_free(target);
	g_free(dir);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/atomic/commit-replaces", test_commit_replaces);
	g_test_add_func("/atomic/abort-leaves-nothing", test_abort_leaves_nothing);
	g_test_add_func("/atomic/symlink", test_symlink);
	g_test_add_func("/atomic/same-as-input", test_same_as_input);
	g_test_add_func("/atomic/bad-targets", test_bad_targets);
	g_test_add_func("/atomic/cleanup-all", test_cleanup_all);
	g_test_add_func("/atomic/signal", test_signal);
	g_test_add_func("/atomic/dir", test_dir);
	return g_test_run();
}
