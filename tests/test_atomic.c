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
 * no temporary file is left behind and the mode is 0644 less umask. With
 * O_TMPFILE the temporary has no name at all; without, a hidden one. */
static void commit_replaces(bool anonymous)
{
	cp_atomic_set_anonymous(anonymous);
	char *dir = tu_scratch(anonymous ? "atomic-commit" : "atomic-commit-named");
	char *path = tu_write(dir, "out.txt", "old");
	cp_error *err = NULL;
	mode_t old = umask(022);
	cp_atomic *a = cp_atomic_open(path, 0, &err);
	umask(old);
	tu_assert_no_error(err);
	g_assert_true(cp_atomic_write(a, "new", 3, &err));
	if (anonymous) {
		g_assert_null(cp_atomic_temp_path(a));
	} else {
		g_assert_true(g_str_has_prefix(cp_atomic_temp_path(a), dir));
		g_assert_nonnull(strstr(cp_atomic_temp_path(a), "/.out.txt.cptmp-"));
		g_assert_true(g_file_test(cp_atomic_temp_path(a), G_FILE_TEST_EXISTS));
	}
	fflush(cp_atomic_file(a));
	char *s = slurp(path);
	g_assert_cmpstr(s, ==, "old");
	g_free(s);
	g_assert_cmpint(tu_count_entries(dir), ==, anonymous ? 1 : 2);
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
	cp_atomic_set_anonymous(true);
}

static void test_commit_replaces(void)
{
	commit_replaces(true);
}

static void test_commit_replaces_named(void)
{
	commit_replaces(false);
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
	g_assert_cmpint(fstat(cp_atomic_fd(a), &st), ==, 0);
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

/* Adds a file to a folder output. */
static void dir_put(cp_atomic_dir *d, const char *name, const char *text)
{
	cp_error *err = NULL;
	cp_atomic *f = cp_atomic_dir_file(d, name, &err);
	tu_assert_no_error(err);
	g_assert_true(cp_atomic_write(f, text, strlen(text), &err));
	g_assert_true(cp_atomic_commit(f, &err));
	tu_assert_no_error(err);
}

/* cp_atomic_cleanup_all removes every live temporary file and folder. */
static void test_cleanup_all(void)
{
	char *dir = tu_scratch("atomic-cleanup");
	char *p1 = g_build_filename(dir, "a.pdf", NULL);
	char *p2 = g_build_filename(dir, "b.pdf", NULL);
	char *pd = g_build_filename(dir, "pages", NULL);
	cp_error *err = NULL;
	cp_atomic_set_anonymous(false); /* only named temporaries need it */
	cp_atomic *a = cp_atomic_open(p1, 0, &err);
	cp_atomic *b = cp_atomic_open(p2, 0, &err);
	cp_atomic_dir *d = cp_atomic_dir_open(pd, 0, &err);
	tu_assert_no_error(err);
	dir_put(d, "0001.png", "png");
	g_assert_cmpint(tu_count_entries(dir), ==, 3);
	cp_atomic_cleanup_all();
	g_assert_cmpint(tu_count_entries(dir), ==, 0);
	cp_atomic_abort(a);
	cp_atomic_abort(b);
	cp_atomic_dir_abort(d);
	cp_atomic_set_anonymous(true);
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
	dir_put(d, "1.png", "one");
	g_assert_false(g_file_test(target, G_FILE_TEST_EXISTS));
	g_assert_cmpint(tu_count_entries(dir), ==, 0); /* nothing named before the commit */
	g_assert_true(cp_atomic_dir_commit(d, &err));
	tu_assert_no_error(err);
	g_assert_true(g_file_test(target, G_FILE_TEST_IS_DIR));
	g_assert_cmpint(tu_count_entries(dir), ==, 1);

	g_free(tu_write(target, "keep.txt", "keep"));
	d = cp_atomic_dir_open(target, 0, &err);
	tu_assert_no_error(err);
	dir_put(d, "1.png", "ONE");
	dir_put(d, "2.png", "two");
	g_assert_cmpint(tu_count_entries(target), ==, 2);
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
	dir_put(d, "x.png", "x");
	cp_atomic_dir_abort(d);
	cp_atomic_dir_abort(NULL);
	g_assert_cmpint(tu_count_entries(dir), ==, 1);
	g_free(other);
	g_free(target);
	g_free(dir);
}

static gint by_name(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ls -la of a folder, recursively, to the nanosecond: names (hidden ones
 * too), sizes, modes and times, the folder's own included. */
static char *listing(const char *dir)
{
	GString *g = g_string_new(NULL);
	struct stat st;
	if (lstat(dir, &st) == 0)
		g_string_append_printf(g, "%s %o %lld %ld.%09ld\n", dir, st.st_mode,
		                       (long long)st.st_size, (long)st.st_mtim.tv_sec,
		                       st.st_mtim.tv_nsec);
	GDir *d = g_dir_open(dir, 0, NULL);
	if (!d)
		return g_string_free(g, FALSE);
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	const char *n;
	while ((n = g_dir_read_name(d)))
		g_ptr_array_add(names, g_strdup(n));
	g_dir_close(d);
	g_ptr_array_sort(names, by_name);
	for (guint i = 0; i < names->len; i++) {
		char *p = g_build_filename(dir, (char *)names->pdata[i], NULL);
		char *sub = listing(p);
		g_string_append(g, sub);
		g_free(sub);
		g_free(p);
	}
	g_ptr_array_free(names, TRUE);
	return g_string_free(g, FALSE);
}

/* The child: opens a file output over old.pdf, another for new.pdf, a folder
 * output into the existing pages/ and one for fresh/, writes into all of
 * them, says so on the pipe and waits to be killed. */
static void kill_child(const char *dir, int ready)
{
	char *p = g_build_filename(dir, "old.pdf", NULL);
	char *q = g_build_filename(dir, "new.pdf", NULL);
	char *pd = g_build_filename(dir, "pages", NULL);
	char *fd = g_build_filename(dir, "fresh/", NULL);
	cp_atomic *a = cp_atomic_open(p, 0, NULL);
	cp_atomic *b = cp_atomic_open(q, 0, NULL);
	cp_atomic_dir *d1 = cp_atomic_dir_open(pd, 0, NULL);
	cp_atomic_dir *d2 = cp_atomic_dir_open(fd, 0, NULL);
	if (!a || !b || !d1 || !d2)
		_exit(3);
	for (int i = 0; i < 5; i++) {
		char name[16];
		g_snprintf(name, sizeof name, "%d.png", i);
		dir_put(d1, name, "new page");
		dir_put(d2, name, "new page");
	}
	cp_atomic_write(a, "partial", 7, NULL);
	cp_atomic_write(b, "partial", 7, NULL);
	fflush(cp_atomic_file(a));
	fflush(cp_atomic_file(b));
	if (write(ready, "r", 1) != 1)
		_exit(4);
	for (;;)
		pause();
}

static GString *notices;
static void on_notice(const char *m)
{
	g_string_append_printf(notices, "%s\n", m);
}

/* Proves: SIGKILL at any moment before the commit leaves the folder exactly
 * as it was, hidden files included: with O_TMPFILE nothing ever had a name.
 * Without it (named temporaries) the kill leaves them, and the next open of
 * the same output removes them (their writer is dead) and says so; an older
 * certpress's temporary is reported and kept. */
static void kill_9(bool anonymous)
{
	cp_atomic_set_anonymous(anonymous);
	char *dir = tu_scratch(anonymous ? "atomic-kill" : "atomic-kill-named");
	g_free(tu_write(dir, "old.pdf", "the previous output"));
	char *pages = g_build_filename(dir, "pages", NULL);
	g_assert_cmpint(g_mkdir(pages, 0755), ==, 0);
	g_free(tu_write(pages, "0.png", "old page"));
	g_free(tu_write(pages, "keep.txt", "kept"));
	char *before = listing(dir);
	int ready[2];
	g_assert_cmpint(pipe(ready), ==, 0);
	fflush(NULL);
	pid_t pid = fork();
	g_assert_cmpint(pid, >=, 0);
	if (pid == 0) {
		close(ready[0]);
		kill_child(dir, ready[1]);
	}
	close(ready[1]);
	char c;
	g_assert_cmpint(read(ready[0], &c, 1), ==, 1);
	close(ready[0]);
	char *during = listing(dir);
	g_assert_cmpint(kill(pid, SIGKILL), ==, 0);
	int st;
	g_assert_cmpint(waitpid(pid, &st, 0), ==, pid);
	g_assert_true(WIFSIGNALED(st));
	char *after = listing(dir);
	if (anonymous) {
		g_assert_cmpstr(during, ==, before);
		g_assert_cmpstr(after, ==, before);
	} else {
		g_assert_cmpstr(after, !=, before);
		/* the next run of each output cleans up after the dead one */
		g_free(tu_write(dir, ".old.pdf.Ab12Cd", "an older certpress's"));
		notices = g_string_new(NULL);
		cp_atomic_set_notice(on_notice);
		cp_error *err = NULL;
		char *p = g_build_filename(dir, "old.pdf", NULL);
		char *q = g_build_filename(dir, "new.pdf", NULL);
		char *fresh = g_build_filename(dir, "fresh", NULL);
		cp_atomic_abort(cp_atomic_open(p, 0, &err));
		cp_atomic_abort(cp_atomic_open(q, 0, &err));
		cp_atomic_dir_abort(cp_atomic_dir_open(pages, 0, &err));
		cp_atomic_dir_abort(cp_atomic_dir_open(fresh, 0, &err));
		tu_assert_no_error(err);
		cp_atomic_set_notice(NULL);
		g_test_message("%s", notices->str);
		g_assert_cmpint(tu_count(notices->str, notices->len, "left by an interrupted run"),
		                ==, 4);
		g_assert_nonnull(strstr(notices->str, ".old.pdf.Ab12Cd looks like the temporary"));
		char *old = g_build_filename(dir, ".old.pdf.Ab12Cd", NULL);
		g_assert_cmpint(g_unlink(old), ==, 0);
		g_free(old);
		g_string_free(notices, TRUE);
		g_free(after);
		after = listing(dir);
		/* names and contents as before; only the folder's own time moved */
		g_assert_cmpstr(strchr(after, '\n'), ==, strchr(before, '\n'));
		g_free(p);
		g_free(q);
		g_free(fresh);
	}
	g_free(before);
	g_free(during);
	g_free(after);
	g_free(pages);
	g_free(dir);
	cp_atomic_set_anonymous(true);
}

static void test_kill_9(void)
{
	kill_9(true);
}

static void test_kill_9_named(void)
{
	kill_9(false);
}

/* A live writer's temporary is never taken for a stale one. */
static void test_stale_alive(void)
{
	cp_atomic_set_anonymous(false);
	char *dir = tu_scratch("atomic-alive");
	char *path = g_build_filename(dir, "out.pdf", NULL);
	cp_error *err = NULL;
	cp_atomic *a = cp_atomic_open(path, 0, &err);
	cp_atomic *b = cp_atomic_open(path, 0, &err);
	tu_assert_no_error(err);
	g_assert_true(g_file_test(cp_atomic_temp_path(a), G_FILE_TEST_EXISTS));
	g_assert_cmpint(tu_count_entries(dir), ==, 2);
	cp_atomic_abort(a);
	cp_atomic_abort(b);
	g_assert_cmpint(tu_count_entries(dir), ==, 0);
	g_free(path);
	g_free(dir);
	cp_atomic_set_anonymous(true);
}

/* More pages than may be held open: the folder names them in its hidden
 * folder as they come, and the commit still puts every one in place. A
 * folder that does not exist is created (trailing slash or not); one whose
 * parent is missing is a clear error. */
static void test_dir_budget(void)
{
	char *dir = tu_scratch("atomic-budget");
	char *target = g_build_filename(dir, "pages/", NULL);
	cp_error *err = NULL;
	cp_atomic_dir *d = cp_atomic_dir_open(target, 0, &err);
	tu_assert_no_error(err);
	cp_atomic_dir_set_fd_budget(d, 2);
	dir_put(d, "1.png", "one");
	g_assert_cmpint(tu_count_entries(dir), ==, 0);
	dir_put(d, "2.png", "two");
	g_assert_cmpint(tu_count_entries(dir), ==, 1); /* the hidden folder */
	dir_put(d, "3.png", "three");
	g_assert_true(cp_atomic_dir_commit(d, &err));
	tu_assert_no_error(err);
	g_assert_cmpint(tu_count_entries(target), ==, 3);
	g_assert_cmpint(tu_count_entries(dir), ==, 1);
	char *p = g_build_filename(target, "3.png", NULL);
	char *s = slurp(p);
	g_assert_cmpstr(s, ==, "three");
	g_free(s);
	g_free(p);
	char *deep = g_build_filename(dir, "no-such", "pages", NULL);
	g_assert_null(cp_atomic_dir_open(deep, 0, &err));
	tu_assert_error(&err, CP_E_IO, "no-such does not exist");
	g_free(deep);
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
	g_test_add_func("/atomic/commit-replaces-named", test_commit_replaces_named);
	g_test_add_func("/atomic/kill-9", test_kill_9);
	g_test_add_func("/atomic/kill-9-named", test_kill_9_named);
	g_test_add_func("/atomic/stale-alive", test_stale_alive);
	g_test_add_func("/atomic/dir-budget", test_dir_budget);
	return g_test_run();
}
