/* SPDX-License-Identifier: MIT */
#include "trust/keys.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "atomic.h"
#include "error.h"
#include "i18n.h"
#include "input/profile.h"

#define TEST_SEAL_MARK "TEST SEAL — not for issuing"

struct cp_signer {
	X509 *cert;
	STACK_OF(X509) *chain;
	EVP_PKEY *key;
};

/* The whole of a small file, refusing anything larger than the bound. With
 * secret set, the file must be private to its owner (checked on the open
 * descriptor, so a swap between the check and the read does not matter). */
static GBytes *read_small(const char *path, bool secret, cp_error **err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		cp_set_error(err, CP_E_IO, path, 0, 0, NULL, _("cannot open: %s"),
		             g_strerror(errno));
		return NULL;
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		cp_set_error(err, CP_E_IO, path, 0, 0, NULL, _("not a regular file"));
		close(fd);
		return NULL;
	}
	if (secret && (st.st_mode & (S_IRWXG | S_IRWXO))) {
		cp_set_error(err, CP_E_PARSE, path, 0, 0, NULL,
		             _("the private key file is readable by others (mode %04o); "
		               "make it private with: chmod 600 %s"),
		             (unsigned)(st.st_mode & 07777), path);
		close(fd);
		return NULL;
	}
	if (st.st_size > (off_t)CP_KEYS_MAX_FILE) {
		cp_set_error(err, CP_E_PARSE, path, 0, 0, NULL,
		             _("the file is larger than %u bytes"), CP_KEYS_MAX_FILE);
		close(fd);
		return NULL;
	}
	size_t cap = (size_t)st.st_size, len = 0;
	unsigned char *buf = g_malloc(cap + 1);
	while (len < cap) {
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (len != cap) {
		OPENSSL_cleanse(buf, cap);
		g_free(buf);
		cp_set_error(err, CP_E_IO, path, 0, 0, NULL, _("cannot read the whole file"));
		return NULL;
	}
	return g_bytes_new_take(buf, len);
}

static void bytes_wipe_unref(GBytes *b)
{
	if (!b)
		return;
	gsize n;
	const void *d = g_bytes_get_data(b, &n);
	OPENSSL_cleanse((void *)d, n);
	g_bytes_unref(b);
}

STACK_OF(X509) *cp_keys_read_certs(const char *path, cp_error **err)
{
	GBytes *data = read_small(path, false, err);
	if (!data)
		return NULL;
	gsize n;
	const void *d = g_bytes_get_data(data, &n);
	BIO *bio = BIO_new_mem_buf(d, (int)n);
	STACK_OF(X509) *sk = sk_X509_new_null();
	X509 *x;
	while (sk_X509_num(sk) < CP_KEYS_MAX_CHAIN + 1 &&
	       (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)))
		sk_X509_push(sk, x);
	ERR_clear_error();
	BIO_free(bio);
	g_bytes_unref(data);
	if (sk_X509_num(sk) == 0) {
		sk_X509_free(sk);
		cp_set_error(err, CP_E_PARSE, path, 0, 0, NULL,
		             _("no PEM certificate (-----BEGIN CERTIFICATE-----) in the file"));
		return NULL;
	}
	if (sk_X509_num(sk) > CP_KEYS_MAX_CHAIN) {
		sk_X509_pop_free(sk, X509_free);
		cp_set_error(err, CP_E_PARSE, path, 0, 0, NULL,
		             _("more than %d certificates in the file"), CP_KEYS_MAX_CHAIN);
		return NULL;
	}
	return sk;
}

STACK_OF(X509) *cp_keys_profile_certs(const cp_profile *p, const char *label, cp_error **err)
{
	const char *c = cp_profile_signing_certificate(p);
	if (!c) {
		cp_set_error(err, CP_E_USAGE, label, 0, 0, NULL,
		             _("the profile has no [signing] section"));
		return NULL;
	}
	return cp_keys_read_certs(c, err);
}

/* The passphrase, asked for at most once per load. */
typedef struct pass_ctx {
	const char *file;     /* or NULL: the terminal */
	const char *key_path;
	char pass[CP_KEYS_MAX_PASSPHRASE + 1];
	int len;              /* -1: not read yet */
	cp_error *err;
} pass_ctx;

static bool read_tty_pass(pass_ctx *pc)
{
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		cp_set_error(&pc->err, CP_E_USAGE, pc->key_path, 0, 0, NULL,
		             _("the private key is protected by a passphrase and there is no "
		               "terminal to ask for it: name a file holding it with "
		               "'passphrase_file =' in [signing]"));
		return false;
	}
	struct termios old, quiet;
	bool restore = tcgetattr(fd, &old) == 0;
	if (restore) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(fd, TCSAFLUSH, &quiet);
	}
	char *prompt = g_strdup_printf(_("Passphrase for %s: "), pc->key_path);
	if (write(fd, prompt, strlen(prompt)) < 0) {
		/* the prompt is a courtesy; read anyway */
	}
	g_free(prompt);
	size_t n = 0;
	char c;
	bool ok = true;
	for (;;) {
		ssize_t r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || c == '\n' || c == '\r')
			break;
		if (n >= CP_KEYS_MAX_PASSPHRASE) {
			ok = false;
			continue;
		}
		pc->pass[n++] = c;
	}
	if (restore)
		tcsetattr(fd, TCSAFLUSH, &old);
	if (write(fd, "\n", 1) < 0) {
		/* nothing to do */
	}
	close(fd);
	if (!ok) {
		cp_set_error(&pc->err, CP_E_USAGE, pc->key_path, 0, 0, NULL,
		             _("the passphrase is longer than %d bytes"), CP_KEYS_MAX_PASSPHRASE);
		return false;
	}
	pc->len = (int)n;
	return true;
}

static bool get_pass(pass_ctx *pc)
{
	if (pc->len >= 0)
		return true;
	if (!pc->file)
		return read_tty_pass(pc);
	GBytes *b = read_small(pc->file, true, &pc->err);
	if (!b)
		return false;
	gsize n;
	const char *d = g_bytes_get_data(b, &n);
	size_t l = 0;
	while (l < n && d[l] != '\n' && d[l] != '\r')
		l++;
	if (l > CP_KEYS_MAX_PASSPHRASE) {
		bytes_wipe_unref(b);
		cp_set_error(&pc->err, CP_E_USAGE, pc->file, 0, 0, NULL,
		             _("the passphrase is longer than %d bytes"), CP_KEYS_MAX_PASSPHRASE);
		return false;
	}
	memcpy(pc->pass, d, l);
	pc->len = (int)l;
	bytes_wipe_unref(b);
	return true;
}

static int pem_pass_cb(char *buf, int size, int rwflag, void *u)
{
	pass_ctx *pc = u;
	if (!get_pass(pc) || pc->len > size)
		return -1;
	memcpy(buf, pc->pass, (size_t)pc->len);
	return pc->len;
}

static EVP_PKEY *load_key(const char *path, const char *pass_file, STACK_OF(X509) **p12certs,
                          cp_error **err)
{
	GBytes *data = read_small(path, true, err);
	if (!data)
		return NULL;
	gsize n;
	const unsigned char *d = g_bytes_get_data(data, &n);
	pass_ctx *pc = g_new0(pass_ctx, 1);
	pc->file = pass_file;
	pc->key_path = path;
	pc->len = -1;
	EVP_PKEY *key = NULL;
	bool pem = n >= 10 && memmem(d, n, "-----BEGIN", 10);
	if (pem) {
		BIO *bio = BIO_new_mem_buf(d, (int)n);
		key = PEM_read_bio_PrivateKey(bio, NULL, pem_pass_cb, pc);
		BIO_free(bio);
	} else {
		const unsigned char *q = d;
		PKCS12 *p12 = d2i_PKCS12(NULL, &q, (long)n);
		if (p12) {
			X509 *c = NULL;
			STACK_OF(X509) *ca = NULL;
			/* An empty password first: PKCS#12 files without one are common. */
			if (!PKCS12_verify_mac(p12, "", 0) && !PKCS12_verify_mac(p12, NULL, 0)) {
				if (get_pass(pc))
					pc->pass[pc->len] = '\0';
			} else {
				pc->len = 0;
				pc->pass[0] = '\0';
			}
			if (!pc->err && PKCS12_parse(p12, pc->pass, &key, &c, &ca)) {
				if (p12certs) {
					*p12certs = ca ? ca : sk_X509_new_null();
					if (c)
						sk_X509_unshift(*p12certs, c);
					else
						X509_free(c);
					ca = NULL;
				} else {
					X509_free(c);
				}
			}
			sk_X509_pop_free(ca, X509_free);
			PKCS12_free(p12);
		}
	}
	ERR_clear_error();
	bytes_wipe_unref(data);
	if (!key) {
		if (pc->err)
			cp_propagate_error(err, pc->err);
		else if (pc->len >= 0)
			cp_set_error(err, CP_E_PARSE, path, 0, 0, NULL,
			             _("cannot read the private key: wrong passphrase, or not a "
			               "PEM or PKCS#12 key"));
		else
			cp_set_error(err, CP_E_PARSE, path, 0, 0, NULL,
			             _("cannot read the private key: not a PEM or PKCS#12 key"));
	} else if (pc->err) {
		cp_error_free(pc->err);
	}
	OPENSSL_cleanse(pc, sizeof *pc);
	g_free(pc);
	return key;
}

cp_signer *cp_signer_load(const char *cert_path, const char *key_path,
                          const char *pass_file, cp_error **err)
{
	STACK_OF(X509) *certs = cp_keys_read_certs(cert_path, err);
	if (!certs)
		return NULL;
	EVP_PKEY *key = load_key(key_path, pass_file, NULL, err);
	if (!key) {
		sk_X509_pop_free(certs, X509_free);
		return NULL;
	}
	X509 *cert = sk_X509_shift(certs);
	if (X509_check_private_key(cert, key) != 1) {
		ERR_clear_error();
		cp_set_error(err, CP_E_USAGE, key_path, 0, 0, NULL,
		             _("the private key does not belong to the certificate in %s"),
		             cert_path);
		X509_free(cert);
		sk_X509_pop_free(certs, X509_free);
		EVP_PKEY_free(key);
		return NULL;
	}
	cp_signer *s = g_new0(cp_signer, 1);
	s->cert = cert;
	s->chain = certs;
	s->key = key;
	return s;
}

cp_signer *cp_signer_from_profile(const cp_profile *p, cp_error **err)
{
	const char *cert = cp_profile_signing_certificate(p);
	if (!cert) {
		cp_set_error(err, CP_E_USAGE, cp_profile_path(p), 0, 0, NULL,
		             _("the profile has no [signing] section naming the seal's "
		               "certificate and key (see 'certpress keys --help')"));
		return NULL;
	}
	return cp_signer_load(cert, cp_profile_signing_key(p),
	                      cp_profile_signing_passphrase_file(p), err);
}

void cp_signer_free(cp_signer *s)
{
	if (!s)
		return;
	X509_free(s->cert);
	sk_X509_pop_free(s->chain, X509_free);
	EVP_PKEY_free(s->key);
	g_free(s);
}

X509 *cp_signer_cert(const cp_signer *s)
{
	return s->cert;
}

STACK_OF(X509) *cp_signer_chain(const cp_signer *s)
{
	return s->chain;
}

EVP_PKEY *cp_signer_key(const cp_signer *s)
{
	return s->key;
}

/* ------------------------------------------------------------- new, csr */

static bool add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *ex = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
	if (!ex)
		return false;
	bool ok = X509_add_ext(x, ex, -1) == 1;
	X509_EXTENSION_free(ex);
	return ok;
}

static bool write_pem(const char *path, unsigned flags, BIO *mem, cp_error **err)
{
	char *data;
	long n = BIO_get_mem_data(mem, &data);
	cp_atomic *a = cp_atomic_open(path, flags, err);
	if (!a)
		return false;
	if (!cp_atomic_write(a, data, (size_t)n, err)) {
		cp_atomic_abort(a);
		return false;
	}
	return cp_atomic_commit(a, err);
}

static X509_NAME *org_name(const char *org, bool test)
{
	X509_NAME *nm = X509_NAME_new();
	char *cn = test ? g_strdup_printf("%s (" TEST_SEAL_MARK ")", org) : g_strdup(org);
	/* CN is at most 64 characters (RFC 5280 ub-common-name). */
	if (g_utf8_strlen(cn, -1) > 64) {
		g_free(cn);
		cn = test ? g_strdup(TEST_SEAL_MARK) : g_utf8_substring(org, 0, 64);
	}
	X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
	char *o = g_utf8_strlen(org, -1) > 64 ? g_utf8_substring(org, 0, 64) : g_strdup(org);
	X509_NAME_add_entry_by_txt(nm, "O", MBSTRING_UTF8, (const unsigned char *)o, -1, -1, 0);
	if (test)
		X509_NAME_add_entry_by_txt(nm, "OU", MBSTRING_UTF8,
		                           (const unsigned char *)TEST_SEAL_MARK, -1, -1, 0);
	g_free(cn);
	g_free(o);
	return nm;
}

bool cp_keys_new_test_seal(const char *org, int days, const char *key_path,
                           const char *cert_path, cp_error **err)
{
	if (g_file_test(key_path, G_FILE_TEST_EXISTS)) {
		cp_set_error(err, CP_E_USAGE, key_path, 0, 0, NULL,
		             _("a key file is already there; it is never replaced (move it away "
		               "first if you really mean to)"));
		return false;
	}
	if (!cp_atomic_check_target(key_path, NULL, 0, err) ||
	    !cp_atomic_check_target(cert_path, NULL, 0, err))
		return false;
	bool ok = false;
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *nm = NULL;
	BIO *kb = BIO_new(BIO_s_mem()), *cb = BIO_new(BIO_s_mem());
	if (!key || !x)
		goto openssl_fail;
	unsigned char serial[16];
	if (RAND_bytes(serial, sizeof serial) != 1)
		goto openssl_fail;
	serial[0] &= 0x7f;
	BIGNUM *bn = BN_bin2bn(serial, sizeof serial, NULL);
	BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
	BN_free(bn);
	X509_set_version(x, 2);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_time_adj_ex(X509_getm_notAfter(x), days, 0, NULL);
	nm = org_name(org, true);
	X509_set_subject_name(x, nm);
	X509_set_issuer_name(x, nm);
	X509_set_pubkey(x, key);
	X509V3_CTX ctx;
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	if (!add_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE") ||
	    !add_ext(x, &ctx, NID_key_usage, "critical,digitalSignature,nonRepudiation") ||
	    !add_ext(x, &ctx, NID_subject_key_identifier, "hash") ||
	    !X509_sign(x, key, EVP_sha256()))
		goto openssl_fail;
	if (!PEM_write_bio_PrivateKey(kb, key, NULL, NULL, 0, NULL, NULL) ||
	    !PEM_write_bio_X509(cb, x))
		goto openssl_fail;
	/* The key first: a certificate without its key is no use, the other
	 * way round `keys csr` still works. */
	ok = write_pem(key_path, CP_ATOMIC_PRIVATE, kb, err) &&
	     write_pem(cert_path, 0, cb, err);
	goto done;
openssl_fail:
	ERR_clear_error();
	cp_set_error(err, CP_E_NOMEM, key_path, 0, 0, NULL,
	             _("OpenSSL could not make the key and certificate"));
done:
	{
		char *d;
		long n = BIO_get_mem_data(kb, &d);
		if (n > 0)
			OPENSSL_cleanse(d, (size_t)n);
	}
	BIO_free(kb);
	BIO_free(cb);
	X509_NAME_free(nm);
	X509_free(x);
	EVP_PKEY_free(key);
	return ok;
}

char *cp_keys_csr(const cp_signer *s, const char *org, cp_error **err)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *nm = org_name(org, false);
	BIO *b = BIO_new(BIO_s_mem());
	char *out = NULL;
	if (X509_REQ_set_version(req, 0) && X509_REQ_set_subject_name(req, nm) &&
	    X509_REQ_set_pubkey(req, s->key) && X509_REQ_sign(req, s->key, EVP_sha256()) &&
	    PEM_write_bio_X509_REQ(b, req)) {
		char *d;
		long n = BIO_get_mem_data(b, &d);
		out = g_strndup(d, (gsize)n);
	} else {
		ERR_clear_error();
		cp_set_error(err, CP_E_NOMEM, NULL, 0, 0, NULL,
		             _("OpenSSL could not make the certificate request"));
	}
	BIO_free(b);
	X509_NAME_free(nm);
	X509_REQ_free(req);
	return out;
}

/* In the certificate's own order (C, O, …, CN as CAs write them), UTF-8 kept
 * as it is, ", " between the parts. */
char *cp_keys_name(const X509_NAME *nm)
{
	BIO *b = BIO_new(BIO_s_mem());
	X509_NAME_print_ex(b, nm, 0, (ASN1_STRFLGS_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) |
	                   XN_FLAG_SEP_CPLUS_SPC | XN_FLAG_FN_SN);
	char *d;
	long n = BIO_get_mem_data(b, &d);
	char *s = g_strndup(d, (gsize)n);
	BIO_free(b);
	return s;
}

char *cp_keys_subject(X509 *cert)
{
	return cp_keys_name(X509_get_subject_name(cert));
}

static char *time_line(const ASN1_TIME *t)
{
	struct tm tm;
	if (!ASN1_TIME_to_tm(t, &tm))
		return g_strdup("?");
	return g_strdup_printf("%04d-%02d-%02d %02d:%02d:%02d UTC", tm.tm_year + 1900,
	                       tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

bool cp_keys_is_test_seal(X509 *cert)
{
	char *s = cp_keys_subject(cert);
	bool t = strstr(s, TEST_SEAL_MARK) != NULL;
	g_free(s);
	return t;
}

char *cp_keys_describe(X509 *cert)
{
	GString *g = g_string_new(NULL);
	char *s = cp_keys_subject(cert);
	char *i = cp_keys_name(X509_get_issuer_name(cert));
	char *nb = time_line(X509_get0_notBefore(cert));
	char *na = time_line(X509_get0_notAfter(cert));
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	X509_digest(cert, EVP_sha256(), md, &mdlen);
	g_string_append_printf(g, _("Subject: %s\n"), s);
	g_string_append_printf(g, _("Issuer: %s\n"), i);
	g_string_append_printf(g, _("Valid from: %s\n"), nb);
	g_string_append_printf(g, _("Valid until: %s\n"), na);
	g_string_append(g, _("SHA-256 fingerprint: "));
	for (unsigned k = 0; k < mdlen; k++)
		g_string_append_printf(g, "%s%02X", k ? ":" : "", md[k]);
	g_string_append_c(g, '\n');
	EVP_PKEY *pk = X509_get0_pubkey(cert);
	if (pk)
		g_string_append_printf(g, _("Key: %s, %d bits\n"), EVP_PKEY_get0_type_name(pk),
		                       EVP_PKEY_get_bits(pk));
	if (cp_keys_is_test_seal(cert))
		g_string_append(g, _("Note: a TEST seal, made by 'certpress keys new'; files "
		                     "signed with it prove nothing to anyone else\n"));
	g_free(s);
	g_free(i);
	g_free(nb);
	g_free(na);
	return g_string_free(g, FALSE);
}
