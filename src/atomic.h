/* SPDX-License-Identifier: MIT */
/*
 * Atomic output files and folders. Nothing the engine writes is ever seen
 * half-done: output goes to a hidden temporary file in the target's own
 * folder (same file system, so rename() is atomic), and only a successful
 * commit (flush, fsync, rename, fsync of the folder) puts it in place. An
 * abort, a crash or a signal leaves the old file, if any, untouched.
 *
 * Every live temporary path is kept in a process-wide table so that a
 * SIGINT/SIGTERM handler can remove them with cp_atomic_cleanup_all().
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
/* Borrowed stream on the temporary file (buffered; do not fclose it). */
FILE *cp_atomic_file(cp_atomic *a);
/* The descriptor under cp_atomic_file(); flush the stream before using it. */
int cp_atomic_fd(const cp_atomic *a);
/* Borrowed: the temporary file's path, and the final path. */
const char *cp_atomic_temp_path(const cp_atomic *a);
const char *cp_atomic_path(const cp_atomic *a);
/* Writes n bytes to the stream; false with CP_E_IO naming the path. */
bool cp_atomic_write(cp_atomic *a, const void *buf, size_t n, cp_error **err);
/* fflush + fsync + fclose + rename + fsync(folder). Frees a whatever happens;
 * on failure the temporary file is removed and the target left untouched. */
bool cp_atomic_commit(cp_atomic *a, cp_error **err);
/* Removes the temporary file and frees a. NULL is allowed. */
void cp_atomic_abort(cp_atomic *a);

typedef struct cp_atomic_dir cp_atomic_dir;

/* An output folder (a batch of PNG pages): files are written into a hidden
 * temporary folder beside path; commit renames that folder to path when path
 * does not exist yet, or else moves each file into the existing folder, one
 * atomic rename per file (files of the same name are replaced, others kept).
 * Free with cp_atomic_dir_commit() or cp_atomic_dir_abort(). */
cp_atomic_dir *cp_atomic_dir_open(const char *path, unsigned flags, cp_error **err);
/* Borrowed: the temporary folder to write files into. */
const char *cp_atomic_dir_temp_path(const cp_atomic_dir *d);
bool cp_atomic_dir_commit(cp_atomic_dir *d, cp_error **err);
/* Removes the temporary folder and what is in it; NULL is allowed. */
void cp_atomic_dir_abort(cp_atomic_dir *d);

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
