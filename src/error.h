/* SPDX-License-Identifier: MIT */
#ifndef CP_ERROR_H
#define CP_ERROR_H

#include <stdarg.h>
#include "certpress.h"

/* Stores a new error in *err when err is not NULL and *err is still NULL (the
 * first error wins: it is the one nearest the cause). file and column may be
 * NULL; line and row may be 0. The message is a printf format, already
 * translated by the caller. */
void cp_set_error(cp_error **err, cp_code code, const char *file, long line,
                  long row, const char *column, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

void cp_set_errorv(cp_error **err, cp_code code, const char *file, long line,
                   long row, const char *column, const char *fmt, va_list ap)
	__attribute__((format(printf, 7, 0)));

/* Moves src into *dst (same first-wins rule); src is freed when not moved. */
void cp_propagate_error(cp_error **dst, cp_error *src);

/* Files the error in *err (when there is one) under rule, a static string
 * such as "ledger.revoked": a caller that reports refusals by rule needs no
 * guess from the wording. */
void cp_error_set_rule(cp_error **err, const char *rule);

/* A deep copy of e (NULL for NULL): one cause reported to several callers. */
cp_error *cp_error_copy(const cp_error *e);

#endif
