/* SPDX-License-Identifier: MIT */
/* `certpress keys new|show|csr`: the seal's key and certificate (第二十一条). */
#include <getopt.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "atomic.h"
#include "cli/cli.h"
#include "cli/cli_common.h"
#include "error.h"
#include "i18n.h"
#include "input/profile.h"
#include "trust/keys.h"

static void help(void)
{
	printf(_("Usage: certpress keys ACTION [OPTIONS]\n"
	         "The organization's seal key: the electronic seal on e-certificates is a\n"
	         "digital signature made with it (PAdES).\n\n"
	         "Actions:\n"
	         "  new (--org PROFILE | --name ORG --key FILE --cert FILE) [--days N]\n"
	         "        make a P-256 key and a self-signed TEST seal certificate, for\n"
	         "        trying things out; it is marked \"TEST SEAL — not for issuing\"\n"
	         "  csr --org PROFILE [-o FILE]\n"
	         "        a certificate request (PKCS#10, PEM) from the profile's key, for a\n"
	         "        real certification authority\n"
	         "  show [--org PROFILE] [CERT.pem …]\n"
	         "        subject, issuer, validity and SHA-256 fingerprint\n\n"
	         "The profile names the seal in its [signing] section:\n"
	         "  [signing]\n"
	         "  certificate = seal.pem        (PEM, the seal certificate then its chain)\n"
	         "  key = seal.key                (PEM or PKCS#12, mode 0600)\n"
	         "  passphrase_file = seal.pass   (optional; otherwise asked on the terminal)\n"));
}

enum { OPT_KEY = 300, OPT_CERT, OPT_NAME, OPT_DAYS };

static const struct option longopts[] = {
	{"org", required_argument, NULL, 'O'},
	{"output", required_argument, NULL, 'o'},
	{"key", required_argument, NULL, OPT_KEY},
	{"cert", required_argument, NULL, OPT_CERT},
	{"name", required_argument, NULL, OPT_NAME},
	{"days", required_argument, NULL, OPT_DAYS},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static int show_cert(X509 *x, const char *label)
{
	char *d = cp_keys_describe(x);
	printf("%s:\n%s", label, d);
	g_free(d);
	return 0;
}

int cli_keys(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		help();
		return argc < 2 ? 2 : 0;
	}
	const char *action = argv[1];
	if (strcmp(action, "new") != 0 && strcmp(action, "show") != 0 &&
	    strcmp(action, "csr") != 0)
		return cli_usage_error("keys", _("unknown action '%s': new, csr or show"), action);
	const char *org = NULL, *out = NULL, *key = NULL, *cert = NULL, *name = NULL;
	long days = 365;
	int ch;
	optind = 1;
	while ((ch = getopt_long(argc - 1, argv + 1, "O:o:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'O': org = optarg; break;
		case 'o': out = optarg; break;
		case OPT_KEY: key = optarg; break;
		case OPT_CERT: cert = optarg; break;
		case OPT_NAME: name = optarg; break;
		case OPT_DAYS:
			if (!cli_parse_long(optarg, 1, 36500, &days))
				return cli_usage_error("keys", _("--days must be a whole number from 1 to 36500"));
			break;
		case 'h': help(); return 0;
		default: return cli_usage_error("keys", _("unknown option"));
		}
	}
	int first = optind + 1; /* argv index of the first operand */
	cp_error *err = NULL;
	cp_profile *p = NULL;
	int status = 2;
	if (strcmp(action, "new") == 0) {
		if (first < argc)
			return cli_usage_error("keys", _("'keys new' takes no file operands"));
		if (!!org == !!name)
			return cli_usage_error("keys", _("'keys new' needs one of --org PROFILE or --name ORG"));
		if (org) {
			/* The files may not exist yet: --org names where they go. */
			p = cp_profile_load_ex(org, true, &err);
			if (!p)
				goto out;
			name = cp_profile_name(p);
			if (!key && !cert) {
				key = cp_profile_signing_key(p);
				cert = cp_profile_signing_certificate(p);
				if (!key || !cert) {
					cp_profile_free(p);
					return cli_usage_error("keys", _("the profile has no [signing] section: "
					                                 "name the files with --key and --cert"));
				}
			}
		}
		if (!key || !cert) {
			cp_profile_free(p);
			return cli_usage_error("keys", _("'keys new' needs --key FILE and --cert FILE "
			                                 "(or --org PROFILE whose [signing] names them)"));
		}
		if (cli_same_file(key, cert)) {
			cp_profile_free(p);
			return cli_usage_error("keys", _("--key and --cert must be different files"));
		}
		if (!cp_keys_new_test_seal(name, (int)days, key, cert, &err))
			goto out;
		fprintf(stderr, _("certpress keys: wrote the key to %s (mode 0600) and the TEST "
		                  "seal certificate to %s\n"), key, cert);
		status = 0;
	} else if (strcmp(action, "csr") == 0) {
		if (!org || first < argc)
			return cli_usage_error("keys", _("'keys csr' needs --org PROFILE and no operands"));
		p = cp_profile_load(org, &err);
		if (!p)
			goto out;
		cp_signer *s = cp_signer_from_profile(p, &err);
		if (!s)
			goto out;
		char *pem = cp_keys_csr(s, cp_profile_name(p), &err);
		cp_signer_free(s);
		if (!pem)
			goto out;
		if (out) {
			cp_atomic *a = cp_atomic_open(out, 0, &err);
			bool ok = a != NULL;
			if (ok && !cp_atomic_write(a, pem, strlen(pem), &err)) {
				cp_atomic_abort(a);
				ok = false;
			} else if (ok) {
				ok = cp_atomic_commit(a, &err);
			}
			g_free(pem);
			if (!ok)
				goto out;
		} else {
			fputs(pem, stdout);
			g_free(pem);
		}
		status = 0;
	} else {
		if (!org && first >= argc)
			return cli_usage_error("keys", _("'keys show' needs --org PROFILE or certificate files"));
		status = 0;
		if (org) {
			p = cp_profile_load(org, &err);
			if (!p)
				goto out;
			STACK_OF(X509) *sk = cp_keys_profile_certs(p, org, &err);
			if (!sk)
				goto out;
			const char *c = cp_profile_signing_certificate(p);
			for (int i = 0; i < sk_X509_num(sk); i++)
				show_cert(sk_X509_value(sk, i), c);
			sk_X509_pop_free(sk, X509_free);
		}
		for (int i = first; i < argc; i++) {
			STACK_OF(X509) *sk = cp_keys_read_certs(argv[i], &err);
			if (!sk)
				goto out;
			for (int k = 0; k < sk_X509_num(sk); k++)
				show_cert(sk_X509_value(sk, k), argv[i]);
			sk_X509_pop_free(sk, X509_free);
		}
	}
out:
	cp_profile_free(p);
	if (err)
		status = cli_fail(err);
	return status;
}
