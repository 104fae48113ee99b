/* SPDX-License-Identifier: MIT */
/*
 * Sending a PDF to a printer through CUPS (libcups) and following the job
 * until it ends.
 *
 * The destination is a CUPS queue name or a printer URI (ipp://, ipps://).
 * It is reached with CUPS_DEST_FLAGS_DEVICE: straight to the printer, so
 * no local cupsd is needed for a URI. The job always asks for the sheet at
 * actual size: print-scaling=none, media iso_a4_210x297mm, sides one-sided,
 * and the copies asked for; a printer that says it cannot do one of these is
 * refused before anything is sent, rather than printing the certificate
 * shrunk or on Letter.
 *
 * Then the job is followed with Get-Job-Attributes until its state is final
 * (completed, canceled or aborted). Anything but completed is an error
 * (CP_E_IO) that names the destination, the job and the printer's reasons;
 * *res says how far it got in every case, for the ledger.
 */
#ifndef CP_IPP_H
#define CP_IPP_H

#include <signal.h>
#include <stdbool.h>

#include "certpress.h"

/* The end of a print, as the ledger records it. */
typedef enum cp_print_state {
	CP_PRINT_UNREACHABLE, /* no connection to the printer: nothing sent */
	CP_PRINT_REFUSED,     /* the printer or the options refused the job */
	CP_PRINT_LOST,        /* sent, then contact lost: the outcome is unknown */
	CP_PRINT_INTERRUPTED, /* stopped by a signal; a cancel was sent */
	CP_PRINT_CANCELED,    /* the job was canceled at the printer */
	CP_PRINT_ABORTED,     /* the printer aborted the job */
	CP_PRINT_COMPLETED,   /* the printer completed the job */
} cp_print_state;

/* The state's stable name for the ledger ("completed", "canceled", …). */
const char *cp_print_state_name(cp_print_state s);

typedef struct cp_print_opts {
	const char *dest;   /* CUPS queue name or ipp:// / ipps:// URI */
	const char *title;  /* job-name; NULL: the file's base name */
	int copies;         /* 1 … 999 */
	int timeout_ms;     /* connection timeout; 0: 30 s */
	int poll_ms;        /* between two Get-Job-Attributes; 0: 250 ms */
	/* Set by a signal handler: the job is canceled at the printer and the
	 * print ends with CP_PRINT_INTERRUPTED (CP_E_INTERRUPTED). */
	volatile sig_atomic_t *cancel;
	/* Called on every change of what is happening (may be NULL): a
	 * translated one-line description, no newline. */
	void (*progress)(void *ud, const char *line);
	void *ud;
} cp_print_opts;

typedef struct cp_print_result {
	cp_print_state state;
	int job_id;          /* 0 until the printer gave one */
	char *printer_uri;   /* what was contacted, or NULL; free with g_free() */
} cp_print_result;

/* Prints the PDF at path as o says. True only when the job completed; *res
 * is filled in either way (free its members with cp_print_result_clear()). */
bool cp_ipp_print(const cp_print_opts *o, const char *path, cp_print_result *res,
                  cp_error **err);
void cp_print_result_clear(cp_print_result *res);

/* The printer profile name for dest (cp_printer_load()): a queue's name, or
 * a URI's host without the port (ipps://front-office.local:631/ipp/print →
 * "front-office.local"). Free with g_free(). */
char *cp_ipp_dest_profile_name(const char *dest);

#endif
