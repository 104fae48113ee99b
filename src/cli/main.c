/* SPDX-License-Identifier: MIT */
/* certpress command: a thin front end over libcertpress. */
#include <glib.h>
#include <libintl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "atomic.h"
#include "certpress.h"
#include "cli/cli.h"
#include "cli/cli_batch.h"
#include "cli/cli_common.h"
#include "i18n.h"
#include "output/pdf.h"

static const struct {
	const char *name;
	int (*run)(int, char **);
	const char *summary;
} commands[] = {
	{"check", cli_check, N_("check a batch: every problem by row, column and rule")},
	{"render", cli_render, N_("print a batch to PDF, PNG files, or one PNG preview")},
	{"print", cli_print, N_("send a rendered PDF to a printer at actual size and follow the job")},
	{"reprint", cli_reprint, N_("record a spoiled sheet and print the certificate again")},
	{"reissue", cli_reissue, N_("reissue a lost or damaged certificate on a new sheet (第十七条)")},
	{"calibrate", cli_calibrate, N_("print a calibration page; save a printer's offset")},
	{"ledger", cli_ledger, N_("the print ledger: stock, spoiled sheets, history, reports")},
	{"keys", cli_keys, N_("the seal's signing key: a test seal, a certificate request, show")},
	{"verify", cli_verify, N_("check the electronic seal (signature) of certificate PDFs")},
	{"serve", cli_serve, N_("a web console on this machine: check, preview in a browser")},
};

static void usage(FILE *out)
{
	fprintf(out, _("Usage: certpress COMMAND [OPTIONS] …\n"
	               "Lay out and print vocational skill level certificates (职业技能等级证书).\n\n"
	               "Commands:\n"));
	for (size_t i = 0; i < G_N_ELEMENTS(commands); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, _(commands[i].summary));
	fprintf(out, _("\n'certpress COMMAND --help' describes each command's options.\n"
	               "Exit status: 0 success, 1 records refused or checks failed,\n"
	               "2 usage or environment error, 130 interrupted.\n"));
}

int main(int argc, char **argv)
{
#ifdef __GLIBC__
	/* glibc gives every thread that allocates an arena of its own, up to
	 * eight per processor, and memory freed in one is not reused by
	 * another: with the render workers that cost a quarter more peak
	 * memory (118 MB instead of 95 for 1,000 certificates on 2 cores) and
	 * more page faults. One arena per worker and one for the reading
	 * thread: fewer and the threads wait for each other's malloc locks
	 * (two arenas for the three threads of 2 cores: 11 % more CPU for
	 * 10,000 certificates, 2.01 s instead of 1.78), with the same peak
	 * (79 MB at 100,000). An operator's MALLOC_ARENA_MAX still wins. */
	if (!getenv("MALLOC_ARENA_MAX"))
		mallopt(M_ARENA_MAX, cli_pool_default_workers() + 1);
	/* Cairo copies a CFF font's whole table when a document first uses
	 * the face and again when it subsets it: 23 MB for the fallback face
	 * of rare characters, 5-7 MB for each Fandol face. glibc's sliding
	 * threshold serves such a block from an mmap once, then, once one is
	 * freed, from the arenas, which keep it: 101-106 MB peak at 10,000
	 * certificates instead of 89-90 (bench/README.md). Blocks of 4 MB and
	 * more always come from mmap and go back when freed; a page's own
	 * buffers (a decoded photo is under 1 MB) stay below. Such a block is
	 * where src/layout/tablemap.c maps a CFF table's pages from a file. */
	if (!getenv("MALLOC_MMAP_THRESHOLD_"))
		mallopt(M_MMAP_THRESHOLD, 4 * 1024 * 1024);
	/* Fixing that threshold also fixes the trim threshold at its 128 KB
	 * default (glibc raises both together only while it slides them): every
	 * free() that left 128 KB at the top of an arena gave it back, and the
	 * next page faulted it in again. 2 MB keeps what a page's drawing
	 * reuses: a third fewer page faults (62,000 to 42,000 for 1,000 PDF
	 * certificates, 42,000 to 17,000 for 100 PNGs) for about 1 MB of
	 * peak. */
	if (!getenv("MALLOC_TRIM_THRESHOLD_"))
		mallopt(M_TRIM_THRESHOLD, 2 * 1024 * 1024);
#endif
	cp_pdf_process_init(); /* before any thread (src/output/pdf.h) */
	cli_init_i18n();
	cp_atomic_set_notice(cli_notice);
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("certpress %s\n", CP_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < G_N_ELEMENTS(commands); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, _("certpress: unknown command '%s'\n"), argv[1]);
	usage(stderr);
	return 2;
}
