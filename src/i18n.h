/* SPDX-License-Identifier: MIT */
/* Message translation. The library translates in its own text domain
 * ("certpress"), independent of the embedding program's domain: the program
 * only has to bind it (bindtextdomain("certpress", dir), as the CLI does in
 * cli_init_i18n) or install the catalogue in the system locale folder. */
#ifndef CP_I18N_H
#define CP_I18N_H

#include <libintl.h>

#define CP_TEXTDOMAIN "certpress"
#define _(s) dgettext(CP_TEXTDOMAIN, s)
#define N_(s) (s)

#endif
