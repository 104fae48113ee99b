/* SPDX-License-Identifier: MIT */
/* certpress command: a thin front end over libcertpress. */
#include <stdio.h>
#include <string.h>

#include "certpress.h"

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--version") == 0) {
		printf("certpress %s\n", CP_VERSION);
		return 0;
	}
	fprintf(stderr, "certpress: usage: certpress COMMAND [OPTIONS] (see --help)\n");
	return 2;
}
