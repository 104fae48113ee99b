/* SPDX-License-Identifier: MIT */
/* The web console's page (src/console/assets/), embedded into the program at
 * build time by scripts/embed.sh: the installed command needs no other file
 * to serve it. */
#ifndef CP_CONSOLE_ASSETS_H
#define CP_CONSOLE_ASSETS_H

#include <stddef.h>

typedef struct cp_console_asset {
	const char *name; /* file name, "app.js" */
	const char *type; /* Content-Type */
	const unsigned char *bytes;
	size_t size;
} cp_console_asset;

/* Ended by an entry whose name is NULL. */
extern const cp_console_asset cp_console_assets[];

#endif
