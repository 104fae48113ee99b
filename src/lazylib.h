/* SPDX-License-Identifier: MIT */
/*
 * Libraries opened when a command first needs them. PostgreSQL's client,
 * CUPS, poppler, zbar and libmicrohttpd bring some 55 more shared objects
 * (GnuTLS, Kerberos, LDAP, libstdc++, NSS …); linked into the program, the
 * dynamic loader maps and relocates all of them before main(), for every
 * command: 19 ms of a 22 ms `certpress --version`, 13 ms more for each
 * render or check that never prints to a printer or opens a PostgreSQL
 * ledger. Each is opened by its soname (the one the build compiled against,
 * read from the development library by the Makefile) the first time a
 * command needs it, and its functions are called through a table:
 *
 *     #define PQ_FUNCTIONS(X) X(PQconnectdb) X(PQexec) ...
 *     CP_LAZY_LIBRARY(pq, CP_SONAME_PQ, N_("a PostgreSQL ledger"), PQ_FUNCTIONS)
 *     ...
 *     if (!cp_lazy_open(&pq_lib, err)) return false;
 *     PGconn *c = pq.PQconnectdb(conninfo);
 *
 * Each table member has its function's own type (__typeof__), so calls are
 * checked by the compiler as direct ones. A library that cannot be opened,
 * or lacks a function, fails the command with an error naming both.
 */
#ifndef CP_LAZYLIB_H
#define CP_LAZYLIB_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

#include "error.h"

typedef struct cp_lazy_lib {
	const char *soname;       /* "libpq.so.5" */
	const char *what;         /* what needs it, for the error (N_() text) */
	const char *const *names; /* the functions, in the order of slots */
	void *table;              /* of n function pointers, filled by cp_lazy_open() */
	size_t n;
	GMutex lock;
	gint ready;               /* atomic: the table is filled */
	char *failure;            /* why it could not be opened (kept) */
} cp_lazy_lib;

#define CP_LAZY_SLOT(fn) __typeof__(fn) *fn;
#define CP_LAZY_NAME(fn) #fn,

/* Defines the table NAME (one member per function of LIST, an X-macro) and
 * NAME_lib, its library, both static to the file. */
#define CP_LAZY_LIBRARY(name, soname_, what_, LIST)                                      \
	static struct {                                                                  \
		LIST(CP_LAZY_SLOT)                                                       \
	} name;                                                                          \
	static const char *const name##_names[] = {LIST(CP_LAZY_NAME)};                  \
	_Static_assert(sizeof(soname_) > 1, "no soname: the Makefile's objdump found none"); \
	_Static_assert(sizeof name == sizeof name##_names / sizeof name##_names[0] *      \
	                                      sizeof(void *),                            \
	               "a table of function pointers only");                            \
	static cp_lazy_lib name##_lib = {                                                \
		.soname = soname_,                                                       \
		.what = what_,                                                           \
		.names = name##_names,                                                   \
		.table = &name,                                                          \
		.n = sizeof name##_names / sizeof name##_names[0],                       \
	}

/* Opens lib and fills its table, once per process; true when every
 * function is there. Safe from any thread; cheap once opened. Fails with
 * CP_E_IO naming the library, what needs it, and the loader's reason (the
 * same each time it is asked again). */
bool cp_lazy_open(cp_lazy_lib *lib, cp_error **err);

#endif
