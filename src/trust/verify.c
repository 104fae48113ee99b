/* SPDX-License-Identifier: MIT */
/* Verification of the electronic seal of a certpress PDF (src/trust/sign.h). */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "i18n.h"
#include "output/pdfsyntax.h"
#include "trust/keys.h"
#include "trust/pdfdoc.h"
#include "trust/sign.h"

void cp_verify_result_clear(cp_verify_result *r)
{
	g_free(r->reason);
	g_free(r->signer);
	g_free(r->issuer);
	g_free(r->fingerprint);
	g_free(r->signed_at);
	g_free(r->subfilter);
	g_free(r->cert_no);
	g_free(r->name);
	g_free(r->id_masked);
	g_free(r->occupation);
	g_free(r->level);
	g_free(r->job_type);
	g_free(r->issue_date);
	g_free(r->organization);
	g_free(r->query_url);
	g_free(r->image_reason);
	g_free(r->token_reason);
	memset(r, 0, sizeof *r);
}

static char *read_file(const char *path, size_t *len, cp_error **err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		cp_set_error(err, CP_E_IO, path, 0, 0, NULL, _("cannot open: %s"), g_strerror(errno));
		return NULL;
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		cp_set_error(err, CP_E_IO, path, 0, 0, NULL, _("not a regular file"));
		close(fd);
		return NULL;
	}
	if (st.st_size > (off_t)CP_SIGN_MAX_FILE) {
		cp_set_error(err, CP_E_PARSE, path, 0, 0, NULL, _("the file is larger than %u bytes"),
		             CP_SIGN_MAX_FILE);
		close(fd);
		return NULL;
	}
	size_t n = (size_t)st.st_size, got = 0;
	char *b = g_malloc(n + 1);
	while (got < n) {
		ssize_t r = read(fd, b + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	if (got != n) {
		g_free(b);
		cp_set_error(err, CP_E_IO, path, 0, 0, NULL, _("cannot read the whole file"));
		return NULL;
	}
	b[n] = '\0';
	*len = n;
	return b;
}

/* A dictionary value that is direct ("<< … >>") or a reference to one. */
static bool resolve_dict(const cp_pdfdoc *d, const cp_pdf_dict_entry *e, const char **p,
                         const char **end)
{
	if (!e)
		return false;
	if (e->vlen >= 2 && e->val[0] == '<' && e->val[1] == '<') {
		*p = e->val;
		*end = e->val + e->vlen;
		return true;
	}
	int64_t num, gen;
	return cp_pdfsyntax_match_ref(e->val, e->val + e->vlen, &num, &gen) &&
	       cp_pdfdoc_object(d, num, gen, p, end, NULL);
}

/* A PDF text string as UTF-8: <FEFF…> hex UTF-16BE (what sign.c writes) or
 * a plain literal of printable ASCII. NULL otherwise. */
static char *text_string(const cp_pdf_dict_entry *e)
{
	if (!e || e->vlen < 2)
		return NULL;
	if (e->val[0] == '<' && e->val[e->vlen - 1] == '>') {
		size_t nd = e->vlen - 2;
		const char *h = e->val + 1;
		if (nd < 4 || nd % 4 || g_ascii_strncasecmp(h, "FEFF", 4) != 0)
			return NULL;
		size_t nu = nd / 4 - 1;
		gunichar2 *u = g_new(gunichar2, nu + 1);
		for (size_t i = 0; i < nu; i++) {
			unsigned v = 0;
			for (int k = 0; k < 4; k++) {
				int x = g_ascii_xdigit_value(h[4 + 4 * i + (size_t)k]);
				if (x < 0) {
					g_free(u);
					return NULL;
				}
				v = v * 16 + (unsigned)x;
			}
			u[i] = (gunichar2)v;
		}
		char *s = g_utf16_to_utf8(u, (glong)nu, NULL, NULL, NULL);
		g_free(u);
		return s;
	}
	if (e->val[0] == '(' && e->val[e->vlen - 1] == ')') {
		for (size_t i = 1; i + 1 < e->vlen; i++)
			if (e->val[i] < 0x20 || e->val[i] > 0x7e || e->val[i] == '\\')
				return NULL;
		return g_strndup(e->val + 1, e->vlen - 2);
	}
	return NULL;
}

/* "D:YYYYMMDDHHmmSS" with an optional zone (Z, +HH'mm', -HH'mm'). */
static bool parse_pdf_date(const char *s, time_t *t)
{
	if (!g_str_has_prefix(s, "D:"))
		return false;
	s += 2;
	int f[6] = {0, 1, 1, 0, 0, 0}, w[6] = {4, 2, 2, 2, 2, 2};
	size_t at = 0, len = strlen(s);
	for (int i = 0; i < 6; i++) {
		if (at + (size_t)w[i] > len)
			return false;
		int v = 0;
		for (int k = 0; k < w[i]; k++) {
			if (!g_ascii_isdigit(s[at + (size_t)k]))
				return false;
			v = v * 10 + (s[at + (size_t)k] - '0');
		}
		f[i] = v;
		at += (size_t)w[i];
	}
	int off = 0;
	if (s[at] == '+' || s[at] == '-') {
		if (len < at + 3 || !g_ascii_isdigit(s[at + 1]) || !g_ascii_isdigit(s[at + 2]))
			return false;
		int hh = (s[at + 1] - '0') * 10 + (s[at + 2] - '0'), mm = 0;
		const char *m = s + at + 3;
		if (*m == '\'')
			m++;
		if (g_ascii_isdigit(m[0]) && g_ascii_isdigit(m[1]))
			mm = (m[0] - '0') * 10 + (m[1] - '0');
		off = (hh * 60 + mm) * 60 * (s[at] == '-' ? -1 : 1);
	}
	GDateTime *dt = g_date_time_new_utc(f[0], f[1], f[2], f[3], f[4], f[5]);
	if (!dt)
		return false;
	*t = (time_t)g_date_time_to_unix(dt) - off;
	g_date_time_unref(dt);
	return true;
}

static char *time_text(time_t t)
{
	GDateTime *dt = g_date_time_new_from_unix_utc((gint64)t);
	char *s = g_date_time_format(dt, "%Y-%m-%d %H:%M:%S UTC");
	g_date_time_unref(dt);
	return s;
}

static void set_status(cp_verify_result *r, cp_verify_status st, const char *reason)
{
	r->status = st;
	g_free(r->reason);
	r->reason = reason ? g_strdup(reason) : NULL;
}

/* The last signature field's /V: its dictionary. */
static bool find_signature(const cp_pdfdoc *d, const char **sp, const char **se)
{
	const char *cd, *ce;
	if (!cp_pdfdoc_object(d, d->root_num, d->root_gen, &cd, &ce, NULL))
		return false;
	bool found = false;
	GArray *cat = g_array_new(FALSE, FALSE, sizeof(cp_pdf_dict_entry));
	GArray *form = g_array_new(FALSE, FALSE, sizeof(cp_pdf_dict_entry));
	GArray *field = g_array_new(FALSE, FALSE, sizeof(cp_pdf_dict_entry));
	cp_pdfdoc_dict(cd, ce, cat);
	const char *fp, *fe;
	if (!resolve_dict(d, cp_pdfsyntax_dict_find(cat, "AcroForm"), &fp, &fe))
		goto done;
	cp_pdfdoc_dict(fp, fe, form);
	const cp_pdf_dict_entry *fields = cp_pdfsyntax_dict_find(form, "Fields");
	if (!fields || fields->vlen < 2 || fields->val[0] != '[')
		goto done;
	const char *p = fields->val + 1, *end = fields->val + fields->vlen - 1;
	for (int guard = 0; guard < 10000; guard++) {
		int64_t num, gen;
		const char *q = cp_pdfsyntax_match_ref(p, end, &num, &gen);
		if (!q)
			break;
		p = q;
		const char *op, *oe;
		if (!cp_pdfdoc_object(d, num, gen, &op, &oe, NULL))
			continue;
		g_array_set_size(field, 0);
		cp_pdfdoc_dict(op, oe, field);
		const cp_pdf_dict_entry *ft = cp_pdfsyntax_dict_find(field, "FT");
		if (!ft || !cp_pdfsyntax_entry_is(ft, "/Sig"))
			continue;
		const char *vp, *ve;
		if (resolve_dict(d, cp_pdfsyntax_dict_find(field, "V"), &vp, &ve)) {
			*sp = vp;
			*se = ve;
			found = true;
		}
	}
done:
	g_array_free(cat, TRUE);
	g_array_free(form, TRUE);
	g_array_free(field, TRUE);
	return found;
}

static bool parse_byterange(const cp_pdf_dict_entry *e, int64_t br[4], size_t n)
{
	if (!e || e->vlen < 2 || e->val[0] != '[')
		return false;
	const char *p = e->val + 1, *end = e->val + e->vlen;
	for (int i = 0; i < 4; i++) {
		p = cp_pdfsyntax_skip_ws(p, end);
		if (!cp_pdfsyntax_parse_uint(p, end, (int64_t)n + 1, &br[i], &p))
			return false;
	}
	p = cp_pdfsyntax_skip_ws(p, end);
	return p < end && *p == ']';
}

static void fill_signer(cp_verify_result *r, X509 *x)
{
	r->signer = cp_keys_subject(x);
	r->issuer = cp_keys_name(X509_get_issuer_name(x));
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	X509_digest(x, EVP_sha256(), md, &mdlen);
	GString *g = g_string_new(NULL);
	for (unsigned i = 0; i < mdlen; i++)
		g_string_append_printf(g, "%s%02X", i ? ":" : "", md[i]);
	r->fingerprint = g_string_free(g, FALSE);
}

/* The chain of the signer at the claimed time, against the anchors. */
static void check_chain(cp_verify_result *r, X509 *signer, STACK_OF(X509) *untrusted,
                        STACK_OF(X509) *anchors, time_t when)
{
	X509_STORE *store = X509_STORE_new();
	for (int i = 0; anchors && i < sk_X509_num(anchors); i++)
		X509_STORE_add_cert(store, sk_X509_value(anchors, i));
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int ok = -1, code = 0;
	if (store && ctx && X509_STORE_CTX_init(ctx, store, signer, untrusted)) {
		/* A seal certificate named as a trust anchor by itself (the
		 * profile's own, not self-signed) is trusted as such. */
		X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_PARTIAL_CHAIN);
		X509_STORE_CTX_set_time(ctx, 0, when);
		ok = X509_verify_cert(ctx);
		code = X509_STORE_CTX_get_error(ctx);
	}
	ERR_clear_error();
	if (ok != 1) {
		char *why;
		switch (code) {
		case X509_V_ERR_CERT_HAS_EXPIRED:
			why = g_strdup(_("the seal certificate had expired at the claimed signing time"));
			break;
		case X509_V_ERR_CERT_NOT_YET_VALID:
			why = g_strdup(_("the seal certificate was not yet valid at the claimed signing time"));
			break;
		case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
		case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
		case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
		case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
			why = g_strdup(_("unknown signer: the seal certificate does not chain to a "
			                 "trusted certificate (--trust, or the profile's certificate)"));
			break;
		default:
			why = g_strdup_printf(_("the seal certificate is not valid: %s"),
			                      X509_verify_cert_error_string(code));
		}
		set_status(r, CP_VERIFY_UNTRUSTED, why);
		g_free(why);
	}
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	/* A certificate restricted to other uses (only key encipherment, only
	 * certificate signing …) does not make seals. */
	uint32_t ku = X509_get_key_usage(signer);
	if (r->status == CP_VERIFY_VALID && ku != UINT32_MAX &&
	    !(ku & (KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION)))
		set_status(r, CP_VERIFY_UNTRUSTED,
		           _("the seal certificate is not for signing (its key usage has neither "
		             "digitalSignature nor nonRepudiation)"));
}

/* The CAdES rules OpenSSL checks (signing-certificate-v2 present and naming
 * the signer), once digest, signature and chain are known to be good. */
static bool check_cades(CMS_ContentInfo *cms, const unsigned char *data, size_t n,
                        STACK_OF(X509) *anchors, time_t when)
{
	CMS_SignerInfo *si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms), 0);
	if (!si || CMS_signed_get_attr_by_NID(si, NID_id_smime_aa_signingCertificateV2, -1) < 0)
		return false;
	X509_STORE *store = X509_STORE_new();
	for (int i = 0; anchors && i < sk_X509_num(anchors); i++)
		X509_STORE_add_cert(store, sk_X509_value(anchors, i));
	X509_VERIFY_PARAM *vp = X509_STORE_get0_param(store);
	X509_VERIFY_PARAM_set_flags(vp, X509_V_FLAG_PARTIAL_CHAIN);
	X509_VERIFY_PARAM_set_time(vp, when);
	X509_VERIFY_PARAM_set_purpose(vp, X509_PURPOSE_ANY);
	BIO *in = BIO_new_mem_buf(data, (int)n);
	int ok = CMS_verify(cms, NULL, store, in, NULL, CMS_BINARY | CMS_CADES);
	ERR_clear_error();
	BIO_free(in);
	X509_STORE_free(store);
	return ok == 1;
}

bool cp_verify_pdf(const char *path, STACK_OF(X509) *anchors, cp_verify_result *r,
                   cp_error **err)
{
	memset(r, 0, sizeof *r);
	size_t n;
	char *b = read_file(path, &n, err);
	if (!b)
		return false;
	bool ok = false;
	cp_pdfdoc d;
	GArray *sig = g_array_new(FALSE, FALSE, sizeof(cp_pdf_dict_entry));
	GArray *cp = g_array_new(FALSE, FALSE, sizeof(cp_pdf_dict_entry));
	unsigned char *der = NULL, *data = NULL;
	CMS_ContentInfo *cms = NULL;
	BIO *content = NULL;
	STACK_OF(X509) *signers = NULL;
	r->file_bytes = (int64_t)n;
	if (!cp_pdfdoc_open(&d, b, n, path, _("cannot verify this PDF"), err))
		goto done;
	ok = true;
	const char *sp, *se;
	if (!find_signature(&d, &sp, &se)) {
		set_status(r, CP_VERIFY_UNSIGNED, _("the file has no signature: its seal, if any, "
		                                   "is only a picture"));
		goto done;
	}
	cp_pdfdoc_dict(sp, se, sig);
	const cp_pdf_dict_entry *e = cp_pdfsyntax_dict_find(sig, "SubFilter");
	if (e)
		r->subfilter = g_strndup(e->val + (e->vlen && e->val[0] == '/'),
		                         e->vlen - (e->vlen && e->val[0] == '/'));
	time_t when = time(NULL);
	char *m = text_string(cp_pdfsyntax_dict_find(sig, "M"));
	if (m && parse_pdf_date(m, &when))
		r->signed_at = time_text(when);
	g_free(m);
	const char *cpp, *cpe;
	const cp_pdf_dict_entry *ce = cp_pdfsyntax_dict_find(sig, "CP.Cert");
	if (ce && ce->vlen >= 2 && ce->val[0] == '<' && ce->val[1] == '<') {
		cpp = ce->val;
		cpe = ce->val + ce->vlen;
		cp_pdfdoc_dict(cpp, cpe, cp);
		r->cert_no = text_string(cp_pdfsyntax_dict_find(cp, "CertNo"));
		r->name = text_string(cp_pdfsyntax_dict_find(cp, "Name"));
		r->id_masked = text_string(cp_pdfsyntax_dict_find(cp, "ID"));
		r->occupation = text_string(cp_pdfsyntax_dict_find(cp, "Occupation"));
		r->level = text_string(cp_pdfsyntax_dict_find(cp, "Level"));
	}

	/* The byte range must be the whole file but this dictionary's own
	 * /Contents hex string. */
	int64_t br[4];
	const cp_pdf_dict_entry *ct = cp_pdfsyntax_dict_find(sig, "Contents");
	if (!parse_byterange(cp_pdfsyntax_dict_find(sig, "ByteRange"), br, n) || !ct) {
		set_status(r, CP_VERIFY_TAMPERED, _("the signature has no valid /ByteRange or /Contents"));
		goto done;
	}
	int64_t hole_at = (int64_t)(ct->val - b), hole_end = hole_at + (int64_t)ct->vlen;
	if (br[0] != 0 || br[1] != hole_at || br[2] != hole_end || br[2] + br[3] > (int64_t)n ||
	    ct->vlen < 2 || ct->val[0] != '<' || ct->val[ct->vlen - 1] != '>') {
		set_status(r, CP_VERIFY_TAMPERED,
		           _("the signed byte range does not cover the file except the signature"));
		goto done;
	}
	r->signed_bytes = br[1] + br[3];
	size_t hexn = ct->vlen - 2;
	if (hexn % 2 || hexn / 2 > CP_SIGN_MAX_CMS) {
		set_status(r, CP_VERIFY_TAMPERED, _("the signature value is damaged"));
		goto done;
	}
	der = g_malloc(hexn / 2 + 1);
	for (size_t i = 0; i < hexn / 2; i++) {
		int hi = g_ascii_xdigit_value(ct->val[1 + 2 * i]);
		int lo = g_ascii_xdigit_value(ct->val[2 + 2 * i]);
		if (hi < 0 || lo < 0) {
			set_status(r, CP_VERIFY_TAMPERED, _("the signature value is damaged"));
			goto done;
		}
		der[i] = (unsigned char)(hi * 16 + lo);
	}
	const unsigned char *dp = der;
	cms = d2i_CMS_ContentInfo(NULL, &dp, (long)(hexn / 2));
	if (!cms || OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed) {
		ERR_clear_error();
		set_status(r, CP_VERIFY_TAMPERED, _("the signature value is not a CMS SignedData"));
		goto done;
	}
	data = g_malloc((size_t)r->signed_bytes + 1);
	memcpy(data, b, (size_t)br[1]);
	memcpy(data + br[1], b + br[2], (size_t)br[3]);
	/* OpenSSL 3.0's CMS_verify copies a memory BIO into one of its own and
	 * leaks that copy when the signature fails (found by fuzz target sign);
	 * a buffer filter over the memory is read as it is, copied by nothing. */
	BIO *mem = BIO_new_mem_buf(data, (int)r->signed_bytes);
	BIO *buf = mem ? BIO_new(BIO_f_buffer()) : NULL;
	if (!buf) {
		BIO_free(mem);
		ERR_clear_error();
		cp_set_error(err, CP_E_NOMEM, path, 0, 0, NULL, _("out of memory"));
		ok = false;
		goto done;
	}
	content = BIO_push(buf, mem);
	/* Digest and signature first; the chain is judged on its own below,
	 * so that each failure gets its own reason. */
	if (CMS_verify(cms, NULL, NULL, content, NULL,
	               CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY) != 1) {
		unsigned long ec = ERR_peek_last_error();
		ERR_clear_error();
		if (ERR_GET_REASON(ec) == CMS_R_CONTENT_VERIFY_ERROR ||
		    ERR_GET_REASON(ec) == CMS_R_VERIFICATION_FAILURE)
			set_status(r, CP_VERIFY_TAMPERED,
			           ERR_GET_REASON(ec) == CMS_R_CONTENT_VERIFY_ERROR
			               ? _("digest mismatch: the document was changed after it was signed")
			               : _("the signature does not match the document: it was changed "
			                   "after signing, or signed by another key"));
		else
			set_status(r, CP_VERIFY_TAMPERED, _("the signature cannot be verified (damaged "
			                                   "or not a PAdES signature)"));
		goto done;
	}
	signers = CMS_get0_signers(cms);
	X509 *signer = signers && sk_X509_num(signers) == 1 ? sk_X509_value(signers, 0) : NULL;
	if (!signer) {
		set_status(r, CP_VERIFY_TAMPERED, _("the signature names no single signer"));
		goto done;
	}
	fill_signer(r, signer);
	set_status(r, CP_VERIFY_VALID, NULL);
	STACK_OF(X509) *certs = CMS_get1_certs(cms);
	check_chain(r, signer, certs, anchors, when);
	sk_X509_pop_free(certs, X509_free);
	if (r->status == CP_VERIFY_VALID && !check_cades(cms, data, (size_t)r->signed_bytes,
	                                                 anchors, when))
		set_status(r, CP_VERIFY_TAMPERED,
		           _("not a PAdES signature: the signing-certificate-v2 attribute is "
		             "missing or names another certificate"));
	if (r->status == CP_VERIFY_VALID && br[2] + br[3] < (int64_t)n)
		set_status(r, CP_VERIFY_CHANGED,
		           _("the document changed after signing: bytes were appended after the "
		             "signed range"));
done:
	sk_X509_free(signers);
	BIO_free_all(content);
	CMS_ContentInfo_free(cms);
	g_free(data);
	g_free(der);
	g_array_free(sig, TRUE);
	g_array_free(cp, TRUE);
	if (d.revs)
		cp_pdfdoc_clear(&d);
	g_free(b);
	return ok;
}
