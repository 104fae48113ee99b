/* SPDX-License-Identifier: MIT */
/* Message translation. The library translates in its own text domain so that
 * a program embedding it gets Chinese messages without extra set-up. */
#ifndef CP_I18N_H
#define CP_I18N_H

#include <libintl.h>

#define CP_TEXTDOMAIN "certpress"
#define _(s) dgettext(CP_TEXTDOMAIN, s)
#define N_(s) (s)

#endif
