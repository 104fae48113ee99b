/* SPDX-License-Identifier: MIT */
/* `certpress verify FILE…`: is the electronic seal of each certificate PDF a
 * valid signature of a trusted organization over the whole file, and (with
 * --ledger) is the certificate number still in force (第二十四条)? */
#include <getopt.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_common.h"
#include "error.h"
#include "i18n.h"
#include "input/profile.h"
#include "output/report.h"
#include "trust/keys.h"
#include "trust/pdfscan.h"
#include "trust/pngsig.h"
#include "trust/qrtoken.h"
#include "trust/sign.h"

static void help(void)
{
	printf(_("Usage: certpress verify [OPTIONS] FILE.pdf|IMAGE …\n"
	         "Check the electronic seal of certificate PDFs made by 'certpress render\n"
	         "--format pdf': the signature covers the whole file, its digest and CMS\n"
	         "signature are right, and the seal certificate was valid at the claimed\n"
	         "signing time and chains to a trusted certificate.\n"
	         "For a PNG or JPEG scan or photo of a certificate, read its QR code and\n"
	         "check the signed token in it (profile [signing] qr_signed; the seal\n"
	         "certificate itself must be trusted), then print the signed fields to\n"
	         "compare with the paper. An electronic PNG signed by certpress is checked\n"
	         "as the exact file issued (its cpSG chunk) and by its token (its iTXt\n"
	         "chunk). A PDF without a seal of its own (a printed batch, a scan saved\n"
	         "as PDF) is checked page by page through the QR codes on its pages.\n\n"
	         "Options:\n"
	         "      --trust FILE     trusted certificates (PEM; may be repeated)\n"
	         "  -O, --org PROFILE    trust the seal certificate of this profile\n"
	         "      --ledger FILE    also report whether the certificate number is issued,\n"
	         "                       reissued or revoked in this print ledger\n"
	         "      --json           one JSON document on standard output\n"
	         "  -q, --quiet          no report; only the exit status\n"
	         "  -h, --help           show this help\n\n"
	         "Exit status: 0 every file valid, 1 a file invalid, changed after signing,\n"
	         "unsigned, signed by an unknown signer, revoked or damaged, 2 usage or a\n"
	         "file that cannot be read.\n"));
}

static const char *status_word(cp_verify_status s)
{
	switch (s) {
	case CP_VERIFY_VALID: return "valid";
	case CP_VERIFY_UNSIGNED: return "unsigned";
	case CP_VERIFY_TAMPERED: return "invalid";
	case CP_VERIFY_CHANGED: return "changed";
	case CP_VERIFY_UNTRUSTED: return "untrusted";
	}
	return "invalid";
}

static const char *ledger_word(cp_ledger_state s)
{
	switch (s) {
	case CP_LEDGER_ISSUED: return "issued";
	case CP_LEDGER_REISSUED: return "reissued";
	case CP_LEDGER_REVOKED: return "revoked";
	case CP_LEDGER_UNKNOWN: break;
	}
	return "unknown";
}

static void add_anchors(STACK_OF(X509) *dst, STACK_OF(X509) *src)
{
	while (sk_X509_num(src) > 0)
		sk_X509_push(dst, sk_X509_shift(src));
	sk_X509_free(src);
}

static void line(const char *label, const char *v)
{
	if (v)
		printf("  %s: %s\n", label, v);
}

static bool is_pdf(const char *path)
{
	char b[5] = {0};
	FILE *fp = fopen(path, "rbe");
	if (!fp)
		return false;
	bool yes = fread(b, 1, 5, fp) == 5 && memcmp(b, "%PDF-", 5) == 0;
	fclose(fp);
	return yes;
}

/* A PNG signed by certpress: its chunk signature and token; any other
 * image, or a PNG without the chunk: its QR code, read as a scan. */
static bool image_verify(const char *f, STACK_OF(X509) *anchors, cp_verify_result *r,
                         bool *sealed, cp_error **err)
{
	*sealed = false;
	cp_error *pe = NULL;
	if (cp_pngsig_verify(f, anchors, r, sealed, &pe) && *sealed)
		return true;
	cp_error_free(pe); /* a JPEG, or a PNG libpng will judge */
	return cp_qrtoken_verify_image(f, anchors, r, err);
}

/* Reports one result (a file, or one page of a PDF read by its QR codes);
 * false when it is not valid. */
static bool report(const char *f, cp_verify_result *r, bool by_qr, cp_ledger *ledger, bool json,
                   bool quiet, GString *js, bool *first)
{
	bool good = r->status == CP_VERIFY_VALID;
	cp_ledger_state ls = CP_LEDGER_UNKNOWN;
	char *revoked = NULL, *ledger_reason = NULL;
	if (ledger && r->status != CP_VERIFY_UNSIGNED && r->status != CP_VERIFY_TAMPERED) {
		cp_error *le = NULL;
		if (!r->cert_no) {
			ledger_reason = g_strdup(_("the signature names no certificate number"));
			good = false;
		} else if (!cp_ledger_cert_state(ledger, r->cert_no, &ls, &revoked, &le)) {
			ledger_reason = g_strdup(le ? le->message : "?");
			cp_error_free(le);
			good = false;
		} else if (ls == CP_LEDGER_REVOKED) {
			ledger_reason = g_strdup_printf(_("certificate %s was revoked (第二十四条): %s"),
			                                r->cert_no, revoked);
			good = false;
		} else if (ls == CP_LEDGER_UNKNOWN) {
			ledger_reason = g_strdup_printf(_("certificate %s is not in the ledger"),
			                                r->cert_no);
			good = false;
		}
	}
	if (json) {
		g_string_append(js, *first ? "\n {" : ",\n {");
		g_string_append(js, "\"file\": ");
		cp_report_json_str(js, f);
		if (r->page)
			g_string_append_printf(js, ", \"page\": %d", r->page);
		g_string_append_printf(js, ", \"valid\": %s, \"status\": \"%s\", \"reason\": ",
		                       good ? "true" : "false", status_word(r->status));
		cp_report_json_str(js, r->reason ? r->reason : ledger_reason);
		const char *keys[] = {"subfilter", "signer", "issuer", "fingerprint_sha256",
		                      "signed_at", "cert_no", "name", "id_masked",
		                      "occupation", "level", "job_type", "issue_date",
		                      "organization", "query_url"};
		const char *vals[] = {r->subfilter, r->signer, r->issuer, r->fingerprint,
		                      r->signed_at, r->cert_no, r->name, r->id_masked,
		                      r->occupation, r->level, r->job_type, r->issue_date,
		                      r->organization, r->query_url};
		for (size_t k = 0; k < G_N_ELEMENTS(keys); k++) {
			g_string_append_printf(js, ", \"%s\": ", keys[k]);
			cp_report_json_str(js, vals[k]);
		}
		if (r->image_sealed) {
			g_string_append_printf(js, ", \"image_signature\": \"%s\", \"image_reason\": ",
			                       status_word(r->image_status));
			cp_report_json_str(js, r->image_reason);
			g_string_append_printf(js, ", \"qr_token\": \"%s\", \"qr_reason\": ",
			                       status_word(r->token_status));
			cp_report_json_str(js, r->token_reason);
		} else if (by_qr && !r->page) {
			g_string_append(js, ", \"image_signature\": \"none\"");
		}
		if (!by_qr)
			g_string_append_printf(js, ", \"signed_bytes\": %lld, \"file_bytes\": %lld",
			                       (long long)r->signed_bytes, (long long)r->file_bytes);
		if (ledger) {
			g_string_append_printf(js, ", \"ledger\": \"%s\"", ledger_word(ls));
			if (revoked) {
				g_string_append(js, ", \"revoked_reason\": ");
				cp_report_json_str(js, revoked);
			}
		}
		g_string_append_c(js, '}');
	} else if (!quiet) {
		char *label = r->page ? g_strdup_printf(_("%s page %d"), f, r->page) : g_strdup(f);
		if (good && r->image_sealed)
			printf(_("%s: valid: the exact image issued, and its QR code, signed by %s; "
			         "compare these fields with the paper\n"), label, r->signer);
		else if (good && by_qr)
			printf(_("%s: valid QR code: signed by %s; compare these fields with "
			         "the paper\n"), label, r->signer);
		else if (good)
			printf(_("%s: valid: sealed by %s\n"), label, r->signer);
		else
			printf(_("%s: NOT VALID: %s\n"), label, r->reason ? r->reason : ledger_reason);
		g_free(label);
		if (r->image_sealed) {
			line(_("Image signature"), r->image_reason ? r->image_reason : _("valid"));
			line(_("QR token"), r->token_reason ? r->token_reason : _("valid"));
		}
		if (r->status != CP_VERIFY_UNSIGNED) {
			line(_("Signer"), r->signer);
			line(_("Issuer"), r->issuer);
			line(_("SHA-256 fingerprint"), r->fingerprint);
			line(_("Signed at (claimed)"), r->signed_at);
			line(_("Signature type"), r->subfilter);
			line(_("Certificate number"), r->cert_no);
			line(_("Name"), r->name);
			line(_("ID number"), r->id_masked);
			line(_("Occupation"), r->occupation);
			line(_("Job type"), r->job_type);
			line(_("Level"), r->level);
			line(_("Issue date"), r->issue_date);
			line(_("Organization"), r->organization);
			line(_("Query address"), r->query_url);
			if (ledger)
				line(_("Ledger"), ledger_word(ls));
		}
	}
	*first = false;
	g_free(revoked);
	g_free(ledger_reason);
	return good;
}

int cli_verify(int argc, char **argv)
{
	enum { OPT_TRUST = 300, OPT_LEDGER, OPT_JSON };
	static const struct option longopts[] = {
		{"trust", required_argument, NULL, OPT_TRUST},
		{"org", required_argument, NULL, 'O'},
		{"ledger", required_argument, NULL, OPT_LEDGER},
		{"json", no_argument, NULL, OPT_JSON},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	GPtrArray *trust = g_ptr_array_new();
	const char *org = NULL, *ledger_path = NULL;
	bool json = false, quiet = false;
	int ch;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "O:qh", longopts, NULL)) != -1) {
		switch (ch) {
		case OPT_TRUST: g_ptr_array_add(trust, optarg); break;
		case 'O': org = optarg; break;
		case OPT_LEDGER: ledger_path = optarg; break;
		case OPT_JSON: json = true; break;
		case 'q': quiet = true; break;
		case 'h': help(); g_ptr_array_free(trust, TRUE); return 0;
		default: g_ptr_array_free(trust, TRUE); return cli_usage_error("verify", _("unknown option"));
		}
	}
	if (optind >= argc) {
		g_ptr_array_free(trust, TRUE);
		return cli_usage_error("verify", _("expected one or more PDF or image files"));
	}
	if (!org && trust->len == 0) {
		g_ptr_array_free(trust, TRUE);
		return cli_usage_error("verify", _("say whom to trust: --trust CA.pem or --org PROFILE"));
	}
	cp_error *err = NULL;
	cp_profile *p = NULL;
	cp_ledger *ledger = NULL;
	STACK_OF(X509) *anchors = sk_X509_new_null();
	GString *js = g_string_new("[");
	int status = 2;
	for (guint i = 0; i < trust->len; i++) {
		STACK_OF(X509) *sk = cp_keys_read_certs(trust->pdata[i], &err);
		if (!sk)
			goto out;
		add_anchors(anchors, sk);
	}
	if (org) {
		p = cp_profile_load(org, &err);
		if (!p)
			goto out;
		STACK_OF(X509) *sk = cp_keys_profile_certs(p, org, &err);
		if (!sk)
			goto out;
		/* The seal certificate itself, not its chain: trusting the
		 * profile means trusting that one seal. */
		X509 *seal = sk_X509_shift(sk);
		sk_X509_pop_free(sk, X509_free);
		sk_X509_push(anchors, seal);
	}
	if (ledger_path) {
		ledger = cp_ledger_open(ledger_path, -1, &err);
		if (!ledger)
			goto out;
	}
	status = 0;
	bool first = true;
	for (int i = optind; i < argc; i++) {
		const char *f = argv[i];
		cp_verify_result r;
		GArray *pages = NULL;
		bool image = cp_qrtoken_is_image(f), sealed = false;
		bool ok = image ? image_verify(f, anchors, &r, &sealed, &err)
		                : cp_verify_pdf(f, anchors, &r, &err);
		/* A PDF without a seal of its own: a scan or a printed batch,
		 * checked page by page by the QR codes on it. */
		if (!image && ((ok && r.status == CP_VERIFY_UNSIGNED) ||
		               (!ok && err->code == CP_E_PARSE && is_pdf(f)))) {
			cp_error *pe = NULL;
			bool any = false;
			if (cp_pdfscan_verify(f, anchors, &pages, &pe)) {
				for (guint k = 0; k < pages->len; k++)
					any |= g_array_index(pages, cp_verify_result, k).status !=
					       CP_VERIFY_UNSIGNED;
			} else {
				cp_error_free(pe);
			}
			if (pages && ok && !any) {
				/* neither a seal nor a signed QR code: unsigned, as before */
				char *m = g_strdup_printf(_("%s; no page has a QR code with a signed "
				                            "token"), r.reason);
				g_free(r.reason);
				r.reason = m;
				for (guint k = 0; k < pages->len; k++)
					cp_verify_result_clear(&g_array_index(pages, cp_verify_result, k));
				g_array_free(pages, TRUE);
				pages = NULL;
			}
			if (pages) {
				if (ok)
					cp_verify_result_clear(&r);
				cp_error_free(err);
				err = NULL;
				ok = true;
			}
		}
		if (!ok) {
			if (!quiet) {
				char *m = cp_error_format(err);
				fprintf(stderr, "certpress verify: %s\n", m);
				g_free(m);
			}
			/* A file that is not a PDF we can read is not a valid
			 * certificate (1); one that cannot be opened is an
			 * environment error (2). */
			bool damaged = err->code == CP_E_PARSE;
			if (json) {
				g_string_append(js, first ? "\n {\"file\": " : ",\n {\"file\": ");
				cp_report_json_str(js, f);
				g_string_append_printf(js, ", \"valid\": false, \"status\": \"%s\", \"reason\": ",
				                       damaged ? "damaged" : "unreadable");
				cp_report_json_str(js, err->message);
				g_string_append_c(js, '}');
			}
			first = false;
			cp_error_free(err);
			err = NULL;
			if (damaged && status == 0)
				status = 1;
			else if (!damaged)
				status = 2;
			continue;
		}
		guint n = pages ? pages->len : 1;
		for (guint k = 0; k < n; k++) {
			cp_verify_result *pr = pages ? &g_array_index(pages, cp_verify_result, k) : &r;
			if (!report(f, pr, image || pages, ledger, json, quiet, js, &first) && status == 0)
				status = 1;
			cp_verify_result_clear(pr);
		}
		if (pages)
			g_array_free(pages, TRUE);
	}
	if (json) {
		g_string_append(js, "\n]\n");
		fputs(js->str, stdout);
	}
out:
	g_string_free(js, TRUE);
	sk_X509_pop_free(anchors, X509_free);
	g_ptr_array_free(trust, TRUE);
	cp_ledger_free(ledger);
	cp_profile_free(p);
	if (err)
		status = cli_fail(err);
	return status;
}
