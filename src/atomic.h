/* SPDX-License-Identifier: MIT */
/*
 * Atomic output files and folders. Nothing the engine writes is ever seen
 * half-done, and nothing is left behind by a run that does not finish, even
 * one killed with SIGKILL: output goes to an unlinked file (O_TMPFILE) in the
 * target's own folder, and only a successful commit (flush, fsync, link
 * under a hidden name, rename over the target, fsync of the folder) gives it
 * a name. An abort, a crash or a signal leaves the folder as it was.
 *
 * Where the file system has no O_TMPFILE, the temporary is a named hidden
 * file, .NAME.cptmp-PID-XXXXXX, locked (flock) while it lives. Such names
 * (and those the short commit step uses) are kept in a process-wide table so
 * that a SIGINT/SIGTERM handler can remove them with cp_atomic_cleanup_all();
 * one a SIGKILL left is removed by the next open of the same output once its
 * writer is proven gone (no such process, no lock), and reported through the
 * notice hook (cp_atomic_set_notice()).
 */
#ifndef CP_ATOMIC_H
#define CP_ATOMIC_H

#include <stdbool.h>
#include <stdio.h>

#include "certpress.h"

/* At most this many temporary files and folders are live at once. */
#define CP_ATOMIC_MAX_LIVE 64

typedef enum cp_atomic_flags {
	CP_ATOMIC_PRIVATE = 1u << 0,       /* mode 0600 instead of 0644 (less umask) */
	CP_ATOMIC_ALLOW_SYMLINK = 1u << 1, /* a symlink target is written through
	                                      (the file it points to is replaced) */
} cp_atomic_flags;

/* Checks that path is a sane output: its folder exists and is a folder; it is
 * not a folder itself; it is not a symlink (unless CP_ATOMIC_ALLOW_SYMLINK);
 * and it is not the same file (st_dev/st_ino) as any of inputs, a NULL-
 * terminated list that may be NULL. Fails with CP_E_USAGE or CP_E_IO and a
 * message naming the path. */
bool cp_atomic_check_target(const char *path, const char *const *inputs,
                            unsigned flags, cp_error **err);

typedef struct cp_atomic cp_atomic;

/* Creates the temporary file beside path (after cp_atomic_check_target with no
 * inputs). Free with cp_atomic_commit() or cp_atomic_abort(). */
cp_atomic *cp_atomic_open(const char *path, unsigned flags, cp_error **err);
/* The same, always with a named temporary (for a writer that needs a path,
 * like SQLite's backup); cp_atomic_temp_path() gives it. */
cp_atomic *cp_atomic_open_named(const char *path, unsigned flags, cp_error **err);
/* An anonymous scratch file in dir, read and written, gone when closed:
 * O_TMPFILE where the file system has it, else a named one unlinked at once
 * (a SIGKILL in between leaves it). -1 with CP_E_IO naming label. */
int cp_atomic_scratch(const char *dir, const char *label, cp_error **err);
/* Borrowed stream on the temporary file (buffered; do not fclose it). */
FILE *cp_atomic_file(cp_atomic *a);
/* The descriptor under cp_atomic_file(); flush the stream before using it. */
int cp_atomic_fd(const cp_atomic *a);
/* Borrowed: the temporary file's path (NULL while it is unlinked), the
 * final path, and the folder the output goes into. */
const char *cp_atomic_temp_path(const cp_atomic *a);
const char *cp_atomic_path(const cp_atomic *a);
const char *cp_atomic_folder(const cp_atomic *a);
/* Writes n bytes to the stream; false with CP_E_IO naming the path. */
bool cp_atomic_write(cp_atomic *a, const void *buf, size_t n, cp_error **err);
/* fflush + fsync + fclose + rename + fsync(folder). Frees a whatever happens;
 * on failure the temporary file is removed and the target left untouched. */
bool cp_atomic_commit(cp_atomic *a, cp_error **err);
/* Removes the temporary file and frees a. NULL is allowed. */
void cp_atomic_abort(cp_atomic *a);

typedef struct cp_atomic_dir cp_atomic_dir;

/* An output folder (a batch of PNG pages); path's parent must exist, path
 * itself may not (it is created). Each file is an unlinked file held open
 * until the commit, so a kill at any moment before it leaves the parent
 * folder as it was. The commit links them into a hidden folder beside path,
 * then renames that folder to path when path does not exist yet, or else
 * moves each file into the existing folder, one atomic rename per file
 * (files of the same name are replaced, others kept). The soft limit of open
 * files is raised to the hard one; a batch with more pages than it allows
 * (less a reserve), or a file system without O_TMPFILE, names its pages in
 * the hidden folder as they come instead. Free with cp_atomic_dir_commit()
 * or cp_atomic_dir_abort(). */
cp_atomic_dir *cp_atomic_dir_open(const char *path, unsigned flags, cp_error **err);
/* A file of the folder, named name (no '/'); write it through the stream and
 * finish it with cp_atomic_commit(), which hands it to the folder (nothing
 * is in place before cp_atomic_dir_commit()), or cp_atomic_abort().
 * Thread-safe: workers may each add their own files. */
cp_atomic *cp_atomic_dir_file(cp_atomic_dir *d, const char *name, cp_error **err);
/* Tests: at most pages files are held open before they are named. */
void cp_atomic_dir_set_fd_budget(cp_atomic_dir *d, long pages);
bool cp_atomic_dir_commit(cp_atomic_dir *d, cp_error **err);
/* Removes the temporary folder and what is in it; NULL is allowed. */
void cp_atomic_dir_abort(cp_atomic_dir *d);

/* Called with a translated message when an output is opened beside what an
 * interrupted run left: a temporary removed, or one that cannot be proven
 * stale and is left alone. NULL (the default) drops the messages. */
void cp_atomic_set_notice(void (*fn)(const char *message));
/* Tests: false makes every temporary a named one, as on a file system
 * without O_TMPFILE. */
void cp_atomic_set_anonymous(bool on);

/* Removes every live temporary file (unlink) and temporary folder (its files,
 * then rmdir). Async-signal-safe: only unlink, rmdir, open, getdents64 and
 * close, on paths prepared beforehand; for use in a signal handler. Not safe
 * against another thread committing at the same moment. */
void cp_atomic_cleanup_all(void);

/* Installs handler for SIGINT, SIGTERM and SIGHUP. handler NULL installs the
 * default one, which calls cp_atomic_cleanup_all() and then dies of the same
 * signal (exit status 128+N in a shell); a program with its own handler
 * calls cp_atomic_cleanup_all() from it when it gives up. */
void cp_atomic_install_signal_handlers(void (*handler)(int));

#endif
