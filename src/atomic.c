/* SPDX-License-Identifier: MIT */
#include "atomic.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
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

static mode_t file_mode(unsigned flags, bool is_dir)
{
	/* umask() can only be read by setting it; done once per output, before
	 * any thread of ours could race on it. */
	mode_t mask = umask(022);
	umask(mask);
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

static char *temp_template(const char *final)
{
	char *dir = g_path_get_dirname(final);
	char *base = g_path_get_basename(final);
	char *name = g_strdup_printf(".%s.XXXXXX", base);
	char *t = g_build_filename(dir, name, NULL);
	g_free(dir);
	g_free(base);
	g_free(name);
	return t;
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

struct cp_atomic {
	char *path;  /* final */
	char *temp;  /* also held by the live table */
	FILE *fp;
	int slot;
};

cp_atomic *cp_atomic_open(const char *path, unsigned flags, cp_error **err)
{
	if (!check_target(path, NULL, flags, false, err))
		return NULL;
	char *final = resolve_final(path, flags, err);
	if (!final)
		return NULL;
	char *temp = temp_template(final);
	int fd = mkostemp(temp, O_CLOEXEC);
	if (fd < 0) {
		cp_set_error(err, CP_E_IO, path, 0, 0, NULL, _("cannot create a temporary file: %s"),
		             g_strerror(errno));
		goto fail;
	}
	int slot = live_add(live_files, temp);
	if (slot < 0) {
		cp_set_error(err, CP_E_NOMEM, path, 0, 0, NULL,
		             _("too many output files open at once (limit %d)"), CP_ATOMIC_MAX_LIVE);
		close(fd);
		unlink(temp);
		goto fail;
	}
	if (fchmod(fd, file_mode(flags, false)) != 0) {
		int e = errno;
		live_remove(live_files, slot);
		close(fd);
		unlink(temp);
		cp_set_error(err, CP_E_IO, path, 0, 0, NULL, _("cannot set the file mode: %s"),
		             g_strerror(e));
		goto fail;
	}
	FILE *fp = fdopen(fd, "wb");
	if (!fp) {
		live_remove(live_files, slot);
		close(fd);
		unlink(temp);
		cp_set_error(err, CP_E_NOMEM, path, 0, 0, NULL, _("out of memory"));
		goto fail;
	}
	cp_atomic *a = g_new0(cp_atomic, 1);
	a->path = final;
	a->temp = temp;
	a->fp = fp;
	a->slot = slot;
	return a;
fail:
	g_free(final);
	g_free(temp);
	return NULL;
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
	if (a->fp)
		fclose(a->fp);
	if (remove_temp)
		unlink(a->temp);
	live_remove(live_files, a->slot);
	g_free(a->temp);
	g_free(a->path);
	g_free(a);
}

bool cp_atomic_commit(cp_atomic *a, cp_error **err)
{
	FILE *fp = a->fp;
	a->fp = NULL;
	const char *what = NULL;
	int e = 0;
	if (fflush(fp) != 0 || ferror(fp))
		what = "write", e = errno ? errno : EIO;
	else if (fsync(fileno(fp)) != 0)
		what = "fsync", e = errno;
	if (fclose(fp) != 0 && !what)
		what = "close", e = errno;
	if (!what && rename(a->temp, a->path) != 0)
		what = "rename", e = errno;
	if (what) {
		cp_set_error(err, CP_E_IO, a->path, 0, 0, NULL,
		             _("cannot write the output (%s): %s"), what, g_strerror(e));
		atomic_free(a, true);
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

struct cp_atomic_dir {
	char *path;
	char *temp;
	int slot;
};

cp_atomic_dir *cp_atomic_dir_open(const char *path, unsigned flags, cp_error **err)
{
	if (!check_target(path, NULL, flags, true, err))
		return NULL;
	char *final = resolve_final(path, flags, err);
	if (!final)
		return NULL;
	char *temp = temp_template(final);
	if (!mkdtemp(temp)) {
		cp_set_error(err, CP_E_IO, path, 0, 0, NULL, _("cannot create a temporary folder: %s"),
		             g_strerror(errno));
		g_free(final);
		g_free(temp);
		return NULL;
	}
	int slot = live_add(live_dirs, temp);
	if (slot < 0) {
		rmdir(temp);
		cp_set_error(err, CP_E_NOMEM, path, 0, 0, NULL,
		             _("too many output files open at once (limit %d)"), CP_ATOMIC_MAX_LIVE);
		g_free(final);
		g_free(temp);
		return NULL;
	}
	/* mkdtemp makes 0700; when the folder itself becomes the output it
	 * should look like any folder the user would have made. */
	(void)chmod(temp, file_mode(flags, true) | 0100);
	cp_atomic_dir *d = g_new0(cp_atomic_dir, 1);
	d->path = final;
	d->temp = temp;
	d->slot = slot;
	return d;
}

const char *cp_atomic_dir_temp_path(const cp_atomic_dir *d)
{
	return d->temp;
}

static void dir_free(cp_atomic_dir *d, bool remove_temp)
{
	if (remove_temp) {
		remove_dir_contents_signal_safe(d->temp);
		rmdir(d->temp);
	}
	live_remove(live_dirs, d->slot);
	g_free(d->temp);
	g_free(d->path);
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
