/* SPDX-License-Identifier: MIT */
/* Where certpress finds its data (fonts/, templates/) and its message
 * catalogues: from the running program's own location, so that a build tree,
 * a copy of one and an installed tree each read their own files and never
 * the checkout they were built from. The public entry points are
 * cp_datadir() and cp_localedir() in certpress.h. */
#ifndef CP_DATADIR_H
#define CP_DATADIR_H

/* The folders for a program whose file lives in folder bindir (absolute).
 * The first of these that holds fonts/fonts.manifest wins:
 *   bindir/../share/certpress   an installed tree, <prefix>/bin/certpress;
 *                               catalogues in <prefix>/share/locale
 *   bindir/..                   a build tree, <top>/build/certpress;
 *                               catalogues in <top>/build/locale
 *   bindir/../..                a test or fuzz program, <top>/build/tests/X;
 *                               catalogues in <top>/build/locale
 * When none does, the installed layout is returned (errors then name the
 * folder where the fonts were expected). *data and *locale are new strings,
 * normalised (no "." or ".." parts); free with g_free(). */
void cp_datadir_locate(const char *bindir, char **data, char **locale);

#endif
