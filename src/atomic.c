/* SPDX-License-Identifier: MIT */
#include "atomic.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "i18n.h"

/* The table a signal handler walks. Slots hold malloc'd paths published with
 * an atomic store, so the handler sees either NULL or a complete string; the
 * string is freed only after the slot was cleared. */
static _Atomic(char *) live_files[CP_ATOMIC_MAX_LIVE];
static _Atomic(char *) live_dirs[CP_ATOMIC_MAX_LIVE];

static int live_add(_Atomic(char *) *table, char *path)
{
	for (int i = 0; i < CP_ATOMIC_MAX_LIVE; i++) {
		char *expected = NULL;
		if (atomic_compare_exchange_strong(&table[i], &expected, path))
			return i;
	}
	return -1;
}

static void live_remove(_Atomic(char *) *table, int slot)
{
	if (slot >= 0)
		atomic_store(&table[slot], NULL);
}

/* Signal-safe removal of a folder's entries: no opendir() (it allocates). */
static void remove_dir_contents_signal_safe(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return;
	char buf[4096] __attribute__((aligned(8)));
	for (;;) {
		ssize_t n = getdents64(fd, buf, sizeof buf);
		if (n <= 0)
			break;
		bool removed = false;
		for (ssize_t off = 0; off < n;) {
			struct dirent64 *d = (struct dirent64 *)(buf + off);
			off += d->d_reclen;
			const char *nm = d->d_name;
			if (nm[0] == '.' && (nm[1] == 0 || (nm[1] == '.' && nm[2] == 0)))
				continue;
			if (unlinkat(fd, nm, 0) == 0)
				removed = true;
		}
		/* Entries vanished under the cursor: start again from the top. */
		if (removed)
			lseek(fd, 0, SEEK_SET);
	}
	close(fd);
}

void cp_atomic_cleanup_all(void)
{
	int saved = errno;
	/* Files first: some of them may live inside a temporary folder. */
	for (int i = 0; i < CP_ATOMIC_MAX_LIVE; i++) {
		char *p = atomic_load(&live_files[i]);
		if (p)
			unlink(p);
	}
	for (int i = 0; i < CP_ATOMIC_MAX_LIVE; i++) {
		char *p = atomic_load(&live_dirs[i]);
		if (p) {
			remove_dir_contents_signal_safe(p);
			rmdir(p);
		}
	}
	errno = saved;
}

static void on_signal(int sig)
{
	cp_atomic_cleanup_all();
	signal(sig, SIG_DFL);
	raise(sig);
}

void cp_atomic_install_signal_handlers(void (*handler)(int))
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler ? handler : on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/* The process's umask. umask() can only read it by setting it, and another
 * thread creating a file in that moment (the console answers requests while
 * a job prints) would get the wrong mode; Linux shows it in
 * /proc/self/status ("Umask:", since 4.7) without changing it. Read once:
 * certpress never changes its umask. */
static mode_t umask_now(void)
{
	mode_t mask = 0;
	bool found = false;
	FILE *f = fopen("/proc/self/status", "re");
	if (f) {
		char line[256];
		unsigned m;
		while (!found && fgets(line, sizeof line, f))
			if (sscanf(line, "Umask: %o", &m) == 1)
				mask = (mode_t)(m & 0777), found = true;
		fclose(f);
	}
	if (!found) {
		mask = umask(022);
		umask(mask);
	}
	return mask;
}

static mode_t read_umask(void)
{
	static gsize once;
	static mode_t mask;
	if (g_once_init_enter(&once)) {
		mask = umask_now();
		g_once_init_leave(&once, 1);
	}
	return mask;
}

static mode_t file_mode(unsigned flags, bool is_dir, mode_t mask)
{
	mode_t m = (flags & CP_ATOMIC_PRIVATE) ? 0600 : 0644;
	if (is_dir)
		m |= (m & 0444) >> 2; /* x wherever r */
	return m & ~mask;
}

static bool check_target(const char *path, const char *const *inputs, unsigned flags,
                         bool want_dir, cp_error **err)
{
	if (!path || !*path) {
		cp_set_error(err, CP_E_USAGE, NULL, 0, 0, NULL, _("no output file name given"));
		return false;
	}
	char *dir = g_path_get_dirname(path);
	struct stat st;
	if (stat(dir, &st) != 0) {
		int e = errno;
		if (e == ENOENT)
			cp_set_error(err, CP_E_IO, path, 0, 0, NULL,
			             _("the output folder %s does not exist"), dir);
		else
			cp_set_error(err, CP_E_IO, path, 0, 0, NULL,
			             _("cannot reach the output folder %s: %s"), dir, g_strerror(e));
		g_free(dir);
		return false;
	}
	if (!S_ISDIR(st.st_mode)) {
		cp_set_error(err, CP_E_IO, path, 0, 0, NULL, _("%s is not a folder"), dir);
		g_free(dir);
		return false;
	}
	if (access(dir, W_OK | X_OK) != 0) {
		cp_set_error(err, CP_E_IO, path, 0, 0, NULL,
		             _("cannot write in the output folder %s: %s"), dir,
		             g_strerror(errno));
		g_free(dir);
		return false;
	}
	g_free(dir);

	if (lstat(path, &st) != 0) {
		if (errno != ENOENT) {
			cp_set_error(err, CP_E_IO, path, 0, 0, NULL, _("cannot examine the output: %s"),
			             g_strerror(errno));
			return false;
		}
		return true; /* a new file cannot be the same as an input */
	}
	if (S_ISLNK(st.st_mode)) {
		if (!(flags & CP_ATOMIC_ALLOW_SYMLINK)) {
			cp_set_error(err, CP_E_USAGE, path, 0, 0, NULL,
			             _("the output is a symbolic link; refusing to write through it"));
			return false;
		}
		if (stat(path, &st) != 0) {
			cp_set_error(err, CP_E_IO, path, 0, 0, NULL,
			             _("the output is a symbolic link that points nowhere"));
			return false;
		}
	}
	if (S_ISDIR(st.st_mode) && !want_dir) {
		cp_set_error(err, CP_E_USAGE, path, 0, 0, NULL,
		             _("the output is a folder, not a file"));
		return false;
	}
	if (!S_ISDIR(st.st_mode) && want_dir) {
		cp_set_error(err, CP_E_USAGE, path, 0, 0, NULL,
		             _("the output exists and is not a folder"));
		return false;
	}
	if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) {
		cp_set_error(err, CP_E_USAGE, path, 0, 0, NULL,
		             _("the output exists and is not a regular file"));
		return false;
	}
	for (size_t i = 0; inputs && inputs[i]; i++) {
		struct stat in;
		if (stat(inputs[i], &in) == 0 && in.st_dev == st.st_dev && in.st_ino == st.st_ino) {
			cp_set_error(err, CP_E_USAGE, path, 0, 0, NULL,
			             _("the output is the same file as the input %s"), inputs[i]);
			return false;
		}
	}
	return true;
}

bool cp_atomic_check_target(const char *path, const char *const *inputs, unsigned flags,
                            cp_error **err)
{
	return check_target(path, inputs, flags, false, err);
}

/* With CP_ATOMIC_ALLOW_SYMLINK the file the link points to is what gets
 * replaced; renaming onto the link itself would silently cut it. */
static char *resolve_final(const char *path, unsigned flags, cp_error **err)
{
	struct stat st;
	if ((flags & CP_ATOMIC_ALLOW_SYMLINK) && lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
		char *real = realpath(path, NULL);
		if (!real) {
			cp_set_error(err, CP_E_IO, path, 0, 0, NULL,
			             _("cannot resolve the symbolic link: %s"), g_strerror(errno));
			return NULL;
		}
		return real;
	}
	return g_strdup(path);
}

/* ------------------------------------------------------------ naming */

/* Every name certpress gives a temporary in a user's folder:
 *     .BASE.cptmp-PID-XXXXXX
 * BASE the output's own name, PID the writer's process. That is what lets a
 * later run recognise its own leftovers and prove their writer dead. */
#define TEMP_TAG "cptmp-"

static char *temp_name(const char *dir, const char *base)
{
	char *name = g_strdup_printf(".%s." TEMP_TAG "%ld-XXXXXX", base, (long)getpid());
	char *t = g_build_filename(dir, name, NULL);
	g_free(name);
	return t;
}

/* Fills the trailing XXXXXX of a template with random letters (for linkat,
 * which has no mkstemp of its own). */
static void randomise(char *tmpl)
{
	static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	size_t n = strlen(tmpl);
	for (size_t i = n - 6; i < n; i++)
		tmpl[i] = set[g_random_int_range(0, (gint32)sizeof set - 1)];
}

static void (*notice_fn)(const char *);

void cp_atomic_set_notice(void (*fn)(const char *message))
{
	notice_fn = fn;
}

static void notice(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
static void notice(const char *fmt, ...)
{
	if (!notice_fn)
		return;
	va_list ap;
	va_start(ap, fmt);
	char *m = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	notice_fn(m);
	g_free(m);
}

static bool all_alnum(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!g_ascii_isalnum(s[i]))
			return false;
	return s[n] == 0;
}

static void remove_tree_at(int dfd, const char *name)
{
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0) {
		DIR *d = fdopendir(fd);
		if (d) {
			GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
			struct dirent *e;
			while ((e = readdir(d)))
				if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
					g_ptr_array_add(names, g_strdup(e->d_name));
			for (guint i = 0; i < names->len; i++)
				unlinkat(dirfd(d), names->pdata[i], 0);
			g_ptr_array_free(names, TRUE);
			closedir(d);
		} else {
			close(fd);
		}
	}
	unlinkat(dfd, name, AT_REMOVEDIR);
}

/* Looks in dir for what an interrupted run left of the output named base. A
 * temporary of ours (.BASE.cptmp-PID-XXXXXX) whose writer is dead (no such
 * process here, and no lock held on it from anywhere) is removed; a name an
 * older certpress used (.BASE.XXXXXX) cannot be proven ours and dead, and is
 * reported only. Either way the operator is told through the notice hook. */
static void clean_stale(const char *dir, const char *base)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	char *prefix = g_strdup_printf(".%s.", base);
	size_t plen = strlen(prefix);
	GPtrArray *dead = g_ptr_array_new_with_free_func(g_free);
	GPtrArray *old = g_ptr_array_new_with_free_func(g_free);
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, prefix, plen) != 0)
			continue;
		const char *rest = e->d_name + plen;
		if (strncmp(rest, TEMP_TAG, strlen(TEMP_TAG)) == 0) {
			char *end = NULL;
			errno = 0;
			long pid = strtol(rest + strlen(TEMP_TAG), &end, 10);
			/* with SQLite's journal beside a backup's temporary */
			bool journal = end && *end == '-' && strlen(end + 1) == 14 &&
			               strcmp(end + 7, "-journal") == 0;
			if (errno || pid <= 0 || !end || *end != '-' ||
			    !(all_alnum(end + 1, 6) || journal))
				continue;
			if (pid == (long)getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
				continue; /* its writer may be alive */
			g_ptr_array_add(dead, g_strdup(e->d_name));
		} else if (all_alnum(rest, 6)) {
			g_ptr_array_add(old, g_strdup(e->d_name));
		}
	}
	for (guint i = 0; i < dead->len; i++) {
		const char *name = dead->pdata[i];
		int fd = openat(dirfd(d), name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
		struct stat st;
		if (fd < 0)
			continue;
		/* Ours (same user) and unlocked: a writer on another machine
		 * sharing the folder would still hold its lock. */
		bool mine = fstat(fd, &st) == 0 && st.st_uid == geteuid() &&
		            (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) &&
		            flock(fd, LOCK_EX | LOCK_NB) == 0;
		if (mine) {
			if (S_ISDIR(st.st_mode))
				remove_tree_at(dirfd(d), name);
			else
				unlinkat(dirfd(d), name, 0);
			char *path = g_build_filename(dir, name, NULL);
			notice(_("removed %s, left by an interrupted run"), path);
			g_free(path);
		}
		close(fd);
	}
	for (guint i = 0; i < old->len; i++) {
		char *path = g_build_filename(dir, old->pdata[i], NULL);
		notice(_("%s looks like the temporary file of an interrupted run; remove it if no "
		         "certpress is writing %s"), path, base);
		g_free(path);
	}
	g_ptr_array_free(dead, TRUE);
	g_ptr_array_free(old, TRUE);
	g_free(prefix);
	closedir(d);
}

static void fsync_dir_of(const char *path)
{
	char *dir = g_path_get_dirname(path);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		/* Some file systems refuse fsync on folders (EINVAL); the rename is
		 * still done, so that is not worth failing the output for. */
		(void)fsync(fd);
		close(fd);
	}
	g_free(dir);
}

static bool no_anonymous; /* tests: force the named temporaries */

void cp_atomic_set_anonymous(bool on)
{
	no_anonymous = !on;
}

/* An unlinked file in dir (O_TMPFILE): a kill, even SIGKILL, leaves nothing
 * behind. -1 with errno; errno EOPNOTSUPP when the file system cannot. */
static int anon_open(const char *dir)
{
	if (no_anonymous) {
		errno = EOPNOTSUPP;
		return -1;
	}
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0 && (errno == EISDIR || errno == EINVAL || errno == ENOTSUP))
		errno = EOPNOTSUPP; /* a kernel or file system without O_TMPFILE */
	return fd;
}

int cp_atomic_scratch(const char *dir, const char *label, cp_error **err)
{
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
		char *tmpl = g_build_filename(dir, ".certpress-part-XXXXXX", NULL);
		fd = mkostemp(tmpl, O_CLOEXEC);
		if (fd >= 0)
			unlink(tmpl);
		g_free(tmpl);
	}
	if (fd < 0)
		cp_set_error(err, CP_E_IO, label, 0, 0, NULL,
		             _("cannot create a temporary file beside the output: %s"),
		             g_strerror(errno));
	return fd;
}

/* Gives the unlinked file fd the name path (which must not exist). */
static int link_fd(int fd, const char *path)
{
	if (linkat(fd, "", AT_FDCWD, path, AT_EMPTY_PATH) == 0)
		return 0;
	if (errno != ENOENT && errno != EPERM && errno != EINVAL)
		return -1;
	/* AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH; /proc works for anyone. */
	char proc[64];
	g_snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	return linkat(AT_FDCWD, proc, AT_FDCWD, path, AT_SYMLINK_FOLLOW);
}

/* Links fd into dir under a fresh temporary name for base; returns it, or
 * NULL with errno. The name is published in the live table (slot) so that a
 * signal during the short commit step still removes it. */
static char *link_temp(int fd, const char *dir, const char *base, int *slot)
{
	for (int tries = 0; tries < 100; tries++) {
		char *t = temp_name(dir, base);
		randomise(t);
		if (link_fd(fd, t) == 0) {
			*slot = live_add(live_files, t);
			return t;
		}
		int e = errno;
		g_free(t);
		if (e != EEXIST) {
			errno = e;
			return NULL;
		}
	}
	errno = EEXIST;
	return NULL;
}

struct cp_atomic {
	char *path;  /* final */
	char *dir;   /* its folder */
	char *temp;  /* a named temporary (no O_TMPFILE here), held by the live table */
	FILE *fp;
	int slot;
	cp_atomic_dir *owner; /* a page of a folder output: commit hands it over */
	char *name;           /* its name in that folder */
};

static cp_atomic *atomic_new(const char *final, unsigned flags, mode_t mask, bool named,
                             cp_error **err)
{
	char *dir = g_path_get_dirname(final);
	char *base = g_path_get_basename(final);
	char *temp = NULL;
	int slot = -1;
	int fd = named ? -1 : anon_open(dir);
	if (fd < 0 && (named || errno == EOPNOTSUPP)) {
		temp = temp_name(dir, base);
		fd = mkostemp(temp, O_CLOEXEC);
		if (fd >= 0) {
			slot = live_add(live_files, temp);
			if (slot < 0) {
				close(fd);
				unlink(temp);
				cp_set_error(err, CP_E_NOMEM, final, 0, 0, NULL,
				             _("too many output files open at once (limit %d)"),
				             CP_ATOMIC_MAX_LIVE);
				goto fail;
			}
		}
	}
	/* Held for the file's life, named or not yet (it may get a name in
	 * the commit step): a later run sees the lock and leaves a live
	 * writer's file alone, even one in another pid namespace or machine. */
	if (fd >= 0)
		(void)flock(fd, LOCK_EX | LOCK_NB);
	if (fd < 0) {
		cp_set_error(err, CP_E_IO, final, 0, 0, NULL, _("cannot create a temporary file: %s"),
		             g_strerror(errno));
		goto fail;
	}
	FILE *fp = NULL;
	if (fchmod(fd, file_mode(flags, false, mask)) != 0) {
		cp_set_error(err, CP_E_IO, final, 0, 0, NULL, _("cannot set the file mode: %s"),
		             g_strerror(errno));
	} else if (!(fp = fdopen(fd, "w+b"))) {
		cp_set_error(err, CP_E_NOMEM, final, 0, 0, NULL, _("out of memory"));
	}
	if (!fp) {
		close(fd);
		if (temp) {
			unlink(temp);
			live_remove(live_files, slot);
		}
		goto fail;
	}
	g_free(base);
	cp_atomic *a = g_new0(cp_atomic, 1);
	a->path = g_strdup(final);
	a->dir = dir;
	a->temp = temp;
	a->fp = fp;
	a->slot = slot;
	return a;
fail:
	g_free(temp);
	g_free(dir);
	g_free(base);
	return NULL;
}

static cp_atomic *atomic_open(const char *path, unsigned flags, bool named, cp_error **err)
{
	if (!check_target(path, NULL, flags, false, err))
		return NULL;
	char *final = resolve_final(path, flags, err);
	if (!final)
		return NULL;
	char *dir = g_path_get_dirname(final);
	char *base = g_path_get_basename(final);
	clean_stale(dir, base);
	g_free(dir);
	g_free(base);
	cp_atomic *a = atomic_new(final, flags, read_umask(), named, err);
	g_free(final);
	return a;
}

cp_atomic *cp_atomic_open(const char *path, unsigned flags, cp_error **err)
{
	return atomic_open(path, flags, false, err);
}

cp_atomic *cp_atomic_open_named(const char *path, unsigned flags, cp_error **err)
{
	return atomic_open(path, flags, true, err);
}

FILE *cp_atomic_file(cp_atomic *a)
{
	return a->fp;
}

int cp_atomic_fd(const cp_atomic *a)
{
	return fileno(a->fp);
}

const char *cp_atomic_temp_path(const cp_atomic *a)
{
	return a->temp;
}

const char *cp_atomic_path(const cp_atomic *a)
{
	return a->path;
}

const char *cp_atomic_folder(const cp_atomic *a)
{
	return a->dir;
}

bool cp_atomic_write(cp_atomic *a, const void *buf, size_t n, cp_error **err)
{
	if (n && fwrite(buf, 1, n, a->fp) != n) {
		cp_set_error(err, CP_E_IO, a->path, 0, 0, NULL, _("cannot write: %s"),
		             g_strerror(errno));
		return false;
	}
	return true;
}

static void atomic_free(cp_atomic *a, bool remove_temp)
{
	if (a->temp && remove_temp)
		unlink(a->temp);
	if (a->fp)
		fclose(a->fp); /* after the unlink: the lock covers the file to its end */
	live_remove(live_files, a->slot);
	g_free(a->temp);
	g_free(a->path);
	g_free(a->dir);
	g_free(a->name);
	g_free(a);
}

static bool dir_take(cp_atomic_dir *d, const char *name, int fd, cp_error **err);

bool cp_atomic_commit(cp_atomic *a, cp_error **err)
{
	const char *what = NULL;
	int e = 0;
	int fd = fileno(a->fp);
	if (fflush(a->fp) != 0 || ferror(a->fp))
		what = "write", e = errno ? errno : EIO;
	else if (!a->owner && fsync(fd) != 0) /* a folder's pages: one syncfs at its commit */
		what = "fsync", e = errno;
	if (!what && a->owner) {
		/* A page of a folder output: the folder keeps the open file
		 * until its own commit. Its writeback starts now, without
		 * waiting for it, so that the folder's one syncfs finds most
		 * pages on the disk already instead of writing a whole batch
		 * (120 MB for 1,000 signed PDFs) while the operator waits; the
		 * pattern of git's core.fsyncMethod=batch. Only a hint: a
		 * failure here is found by that syncfs. */
#ifdef SYNC_FILE_RANGE_WRITE
		(void)sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
#endif
		int keep = dup(fd);
		if (keep < 0 || !dir_take(a->owner, a->name, keep, err)) {
			if (keep < 0)
				cp_set_error(err, CP_E_IO, a->path, 0, 0, NULL,
				             _("cannot write the output (%s): %s"), "dup",
				             g_strerror(errno));
			atomic_free(a, true);
			return false;
		}
		atomic_free(a, true); /* a named temporary was linked again: drop it */
		return true;
	}
	if (!what && a->temp) {
		if (rename(a->temp, a->path) != 0)
			what = "rename", e = errno;
	} else if (!what) {
		char *base = g_path_get_basename(a->path);
		a->temp = link_temp(fd, a->dir, base, &a->slot);
		g_free(base);
		if (!a->temp)
			what = "link", e = errno;
		else if (rename(a->temp, a->path) != 0)
			what = "rename", e = errno;
	}
	if (!what && fclose(a->fp) != 0)
		what = "close", e = errno;
	else if (!what)
		a->fp = NULL;
	if (what) {
		cp_set_error(err, CP_E_IO, a->path, 0, 0, NULL,
		             _("cannot write the output (%s): %s"), what, g_strerror(e));
		/* A failed close comes after the rename: the output is in place
		 * but may be incomplete; the caller reports the failure. */
		atomic_free(a, strcmp(what, "close") != 0);
		return false;
	}
	fsync_dir_of(a->path);
	atomic_free(a, false);
	return true;
}

void cp_atomic_abort(cp_atomic *a)
{
	if (a)
		atomic_free(a, true);
}

/* ------------------------------------------------------------------ folders */

typedef struct dir_page {
	char *name;
	int fd;
} dir_page;

struct cp_atomic_dir {
	char *path;   /* final */
	char *parent; /* its folder */
	char *base;
	unsigned flags;
	mode_t mask;   /* the umask when it was opened (read_umask()) */
	GMutex lock;
	bool anon;     /* pages are unlinked files (fds) until the commit */
	GArray *pages; /* dir_page, while anon */
	long fd_budget;
	char *temp;    /* the hidden folder pages are named in; made at commit when anon */
	int lockfd;    /* on temp, flock'd while it lives (see clean_stale) */
	int slot;
	bool failed;
};

/* File descriptors a process may have open: the soft limit is raised to the
 * hard one, so that a batch of PNG pages can be held as unlinked files. */
static long raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 1024;
	if (rl.rlim_cur < rl.rlim_max) {
		rlim_t want = rl.rlim_max;
		if (want == RLIM_INFINITY || want > (1u << 20))
			want = 1u << 20;
		if (want > rl.rlim_cur) {
			struct rlimit nl = {.rlim_cur = want, .rlim_max = rl.rlim_max};
			if (setrlimit(RLIMIT_NOFILE, &nl) == 0)
				rl.rlim_cur = want;
		}
	}
	return rl.rlim_cur == RLIM_INFINITY ? (1L << 20) : (long)rl.rlim_cur;
}

/* Descriptors kept free for everything else a run opens (fonts, photos, the
 * ledger, PDF parts, the rejects file...). */
#define FD_RESERVE 256

static char *strip_slashes(const char *path)
{
	char *p = g_strdup(path);
	size_t n = strlen(p);
	while (n > 1 && p[n - 1] == '/')
		p[--n] = 0;
	return p;
}

static bool make_temp_dir(cp_atomic_dir *d, cp_error **err)
{
	char *temp = temp_name(d->parent, d->base);
	if (!mkdtemp(temp)) {
		cp_set_error(err, CP_E_IO, d->path, 0, 0, NULL, _("cannot create a temporary folder: %s"),
		             g_strerror(errno));
		g_free(temp);
		return false;
	}
	int slot = live_add(live_dirs, temp);
	if (slot < 0) {
		rmdir(temp);
		cp_set_error(err, CP_E_NOMEM, d->path, 0, 0, NULL,
		             _("too many output files open at once (limit %d)"), CP_ATOMIC_MAX_LIVE);
		g_free(temp);
		return false;
	}
	/* mkdtemp makes 0700; when the folder itself becomes the output it
	 * should look like any folder the user would have made. */
	(void)chmod(temp, file_mode(d->flags, true, d->mask) | 0100);
	d->lockfd = open(temp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d->lockfd >= 0)
		(void)flock(d->lockfd, LOCK_EX | LOCK_NB);
	d->temp = temp;
	d->slot = slot;
	return true;
}

cp_atomic_dir *cp_atomic_dir_open(const char *path, unsigned flags, cp_error **err)
{
	char *clean = path ? strip_slashes(path) : NULL;
	if (!check_target(clean, NULL, flags, true, err)) {
		g_free(clean);
		return NULL;
	}
	char *final = resolve_final(clean, flags, err);
	g_free(clean);
	if (!final)
		return NULL;
	cp_atomic_dir *d = g_new0(cp_atomic_dir, 1);
	d->path = final;
	d->parent = g_path_get_dirname(final);
	d->base = g_path_get_basename(final);
	d->flags = flags;
	d->mask = read_umask();
	d->slot = -1;
	d->lockfd = -1;
	g_mutex_init(&d->lock);
	clean_stale(d->parent, d->base);
	d->fd_budget = raise_nofile() - FD_RESERVE;
	int probe = d->fd_budget > 0 ? anon_open(d->parent) : -1;
	if (probe >= 0) {
		close(probe);
		d->anon = true;
		d->pages = g_array_new(FALSE, FALSE, sizeof(dir_page));
		return d;
	}
	if (d->fd_budget > 0 && errno != EOPNOTSUPP) {
		cp_set_error(err, CP_E_IO, d->path, 0, 0, NULL, _("cannot create a temporary file: %s"),
		             g_strerror(errno));
		cp_atomic_dir_abort(d);
		return NULL;
	}
	if (!make_temp_dir(d, err)) {
		cp_atomic_dir_abort(d);
		return NULL;
	}
	return d;
}

void cp_atomic_dir_set_fd_budget(cp_atomic_dir *d, long pages)
{
	g_mutex_lock(&d->lock);
	d->fd_budget = pages;
	g_mutex_unlock(&d->lock);
}

static bool link_page(cp_atomic_dir *d, const dir_page *pg, cp_error **err)
{
	char *to = g_build_filename(d->temp, pg->name, NULL);
	int rc = link_fd(pg->fd, to);
	if (rc != 0 && errno == EEXIST) {
		/* the same name twice: the later page wins, as with files */
		unlink(to);
		rc = link_fd(pg->fd, to);
	}
	if (rc != 0)
		cp_set_error(err, CP_E_IO, d->path, 0, 0, NULL,
		             _("cannot move the output in place: %s"), g_strerror(errno));
	g_free(to);
	return rc == 0;
}

/* From unlinked pages to the named hidden folder: at the commit, or when a
 * batch has more pages than the process may hold open files. Under lock. */
static bool name_pages(cp_atomic_dir *d, cp_error **err)
{
	if (!d->anon)
		return true;
	if (!d->temp && !make_temp_dir(d, err))
		return false;
	bool ok = true;
	for (guint i = 0; i < d->pages->len; i++) {
		dir_page *pg = &g_array_index(d->pages, dir_page, i);
		if (ok)
			ok = link_page(d, pg, err);
		close(pg->fd);
		g_free(pg->name);
	}
	g_array_set_size(d->pages, 0);
	d->anon = false;
	return ok;
}

static bool dir_take(cp_atomic_dir *d, const char *name, int fd, cp_error **err)
{
	g_mutex_lock(&d->lock);
	bool ok = !d->failed;
	if (ok && d->anon) {
		dir_page pg = {g_strdup(name), fd};
		g_array_append_val(d->pages, pg);
		fd = -1;
		if ((long)d->pages->len >= d->fd_budget)
			ok = name_pages(d, err);
	} else if (ok) {
		dir_page pg = {(char *)name, fd};
		ok = link_page(d, &pg, err);
	} else {
		cp_set_error(err, CP_E_IO, d->path, 0, 0, NULL, _("an earlier page could not be kept"));
	}
	if (!ok)
		d->failed = true;
	g_mutex_unlock(&d->lock);
	if (fd >= 0)
		close(fd);
	return ok;
}

cp_atomic *cp_atomic_dir_file(cp_atomic_dir *d, const char *name, cp_error **err)
{
	if (!name || !*name || strchr(name, '/') || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0) {
		cp_set_error(err, CP_E_USAGE, d->path, 0, 0, NULL,
		             _("%s cannot be a file name in the output folder"), name ? name : "");
		return NULL;
	}
	char *final = g_build_filename(d->path, name, NULL);
	g_mutex_lock(&d->lock);
	bool anon = d->anon;
	g_mutex_unlock(&d->lock);
	/* Unlinked in the parent folder while the pages are held as files;
	 * afterwards named in the hidden folder like any atomic file. */
	cp_atomic *a;
	if (anon) {
		int fd = anon_open(d->parent);
		if (fd < 0) {
			cp_set_error(err, CP_E_IO, final, 0, 0, NULL,
			             _("cannot create a temporary file: %s"), g_strerror(errno));
			g_free(final);
			return NULL;
		}
		(void)fchmod(fd, file_mode(d->flags, false, d->mask));
		FILE *fp = fdopen(fd, "w+b");
		if (!fp) {
			close(fd);
			cp_set_error(err, CP_E_NOMEM, final, 0, 0, NULL, _("out of memory"));
			g_free(final);
			return NULL;
		}
		a = g_new0(cp_atomic, 1);
		a->path = final;
		a->dir = g_strdup(d->parent);
		a->fp = fp;
		a->slot = -1;
		a->owner = d;
		a->name = g_strdup(name);
		return a;
	}
	char *inner = g_build_filename(d->temp, name, NULL);
	a = atomic_new(inner, d->flags, d->mask, false, err);
	g_free(inner);
	if (a) {
		g_free(a->path);
		a->path = final; /* for messages: where the page is going */
		a->owner = d;
		a->name = g_strdup(name);
	} else {
		g_free(final);
	}
	return a;
}

static void dir_free(cp_atomic_dir *d, bool remove_temp)
{
	if (d->pages) {
		for (guint i = 0; i < d->pages->len; i++) {
			dir_page *pg = &g_array_index(d->pages, dir_page, i);
			close(pg->fd);
			g_free(pg->name);
		}
		g_array_free(d->pages, TRUE);
	}
	if (remove_temp && d->temp) {
		remove_dir_contents_signal_safe(d->temp);
		rmdir(d->temp);
	}
	live_remove(live_dirs, d->slot);
	if (d->lockfd >= 0)
		close(d->lockfd);
	g_mutex_clear(&d->lock);
	g_free(d->temp);
	g_free(d->path);
	g_free(d->parent);
	g_free(d->base);
	g_free(d);
}

static bool move_files_into(cp_atomic_dir *d, cp_error **err)
{
	GError *gerr = NULL;
	GDir *gd = g_dir_open(d->temp, 0, &gerr);
	if (!gd) {
		cp_set_error(err, CP_E_IO, d->path, 0, 0, NULL, "%s", gerr->message);
		g_error_free(gerr);
		return false;
	}
	/* Names first: renaming while reading a folder may skip entries. */
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	const char *n;
	while ((n = g_dir_read_name(gd)))
		g_ptr_array_add(names, g_strdup(n));
	g_dir_close(gd);
	bool ok = true;
	for (guint i = 0; i < names->len && ok; i++) {
		const char *name = names->pdata[i];
		char *from = g_build_filename(d->temp, name, NULL);
		char *to = g_build_filename(d->path, name, NULL);
		struct stat st;
		if (lstat(to, &st) == 0 && S_ISDIR(st.st_mode)) {
			cp_set_error(err, CP_E_IO, to, 0, 0, NULL,
			             _("cannot replace a folder with an output file"));
			ok = false;
		} else if (rename(from, to) != 0) {
			cp_set_error(err, CP_E_IO, to, 0, 0, NULL, _("cannot move the output in place: %s"),
			             g_strerror(errno));
			ok = false;
		}
		g_free(from);
		g_free(to);
	}
	g_ptr_array_free(names, TRUE);
	return ok;
}

bool cp_atomic_dir_commit(cp_atomic_dir *d, cp_error **err)
{
	if (d->failed) {
		cp_set_error(err, CP_E_IO, d->path, 0, 0, NULL, _("an earlier page could not be kept"));
		dir_free(d, true);
		return false;
	}
	/* Every page on the disk before any gets a name: one syncfs instead
	 * of an fsync per page (each one a journal commit of its own). */
	int pfd = open(d->parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pfd < 0 || syncfs(pfd) != 0) {
		int e = errno;
		if (pfd >= 0)
			close(pfd);
		cp_set_error(err, CP_E_IO, d->path, 0, 0, NULL,
		             _("cannot write the output (%s): %s"), "syncfs", g_strerror(e));
		dir_free(d, true);
		return false;
	}
	close(pfd);
	/* The commit step: until here nothing of this run has a name in the
	 * user's folders (with O_TMPFILE); from here the hidden folder does,
	 * for as long as the links and one rename take. */
	if (!name_pages(d, err)) {
		dir_free(d, true);
		return false;
	}
	int fd = open(d->temp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
	struct stat st;
	bool ok;
	if (lstat(d->path, &st) != 0 && errno == ENOENT) {
		ok = rename(d->temp, d->path) == 0;
		if (!ok && (errno == EEXIST || errno == ENOTEMPTY)) {
			ok = move_files_into(d, err); /* someone made it meanwhile */
		} else if (!ok) {
			cp_set_error(err, CP_E_IO, d->path, 0, 0, NULL,
			             _("cannot move the output in place: %s"), g_strerror(errno));
		}
	} else {
		ok = move_files_into(d, err);
		if (ok) {
			int tfd = open(d->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (tfd >= 0) {
				(void)fsync(tfd);
				close(tfd);
			}
		}
	}
	fsync_dir_of(d->path);
	/* After a folder rename the temp path no longer exists; after moving
	 * files it is empty (or holds what could not be moved): remove it. */
	dir_free(d, true);
	return ok;
}

void cp_atomic_dir_abort(cp_atomic_dir *d)
{
	if (d)
		dir_free(d, true);
}
