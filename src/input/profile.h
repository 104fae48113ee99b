/* SPDX-License-Identifier: MIT */
/*
 * Internal accessors of an organization profile (cp_profile, certpress.h):
 * the registered scope (第九条) and the settings the checker and the layout
 * need beyond the public ones. Everything returned is borrowed from the
 * profile.
 */
#ifndef CP_PROFILE_H
#define CP_PROFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "certpress.h"

#define CP_PROFILE_MAX_SCOPES 1000    /* [scope …] sections per profile */
#define CP_PROFILE_MAX_JOB_TYPES 200  /* job types per occupation */
#define CP_PROFILE_MAX_PATTERN 1000   /* bytes of the qr pattern */
#define CP_PROFILE_DEFAULT_QR "http://jndj.osta.org.cn/?zsbh={cert_no}"

/* One registered occupation. */
typedef struct cp_scope {
	char *occupation;   /* verbatim, as in [scope NAME] */
	char **job_types;   /* NULL-terminated; empty when the occupation has none */
	size_t njob_types;
	int max_level;      /* 1..5, the highest level it may certify (1 = highest) */
	long line;          /* line of the section header */
} cp_scope;

/* The scope of an occupation (exact, after trimming surrounding blanks), or
 * NULL when it is not registered. */
const cp_scope *cp_profile_scope(const cp_profile *p, const char *occupation);
size_t cp_profile_nscopes(const cp_profile *p);
const cp_scope *cp_profile_scope_at(const cp_profile *p, size_t i);
/* True when job_type is one of the scope's job types. */
bool cp_scope_has_job_type(const cp_scope *s, const char *job_type);

/* 'Y' (employer) or 'S' (social training-and-evaluation organization). */
char cp_profile_category(const cp_profile *p);
/* special_grades = yes: 2-letter certificate numbers allowed (第七条). */
bool cp_profile_special_grades(const cp_profile *p);
/* The qr pattern, the default when the profile has none. */
const char *cp_profile_qr_pattern(const cp_profile *p);
/* cp_profile_load(), except that with signing_names_only the files named in
 * [signing] need not exist yet nor be private: `certpress keys new --org`
 * creates them there. Never sign with a profile loaded this way. */
cp_profile *cp_profile_load_ex(const char *path, bool signing_names_only, cp_error **err);

/* The path given to cp_profile_load(). */
const char *cp_profile_path(const cp_profile *p);

/* [signing]: the seal certificate (PEM, with its chain), the private key
 * (PEM or PKCS#12) and the file holding its passphrase; absolute paths, or
 * NULL when the profile has no [signing] section (no passphrase file: ask
 * on the terminal). */
const char *cp_profile_signing_certificate(const cp_profile *p);
/* [signing] qr_signed = yes: the QR code carries a signed token
 * (src/trust/qrtoken.h). Default no. */
bool cp_profile_qr_signed(const cp_profile *p);
const char *cp_profile_signing_key(const cp_profile *p);
const char *cp_profile_signing_passphrase_file(const cp_profile *p);
/* False (CP_E_PARSE naming the mode and the chmod that fixes it) when the
 * file at path may be read or written by its group or others, as ssh
 * refuses such a key; CP_E_IO when it cannot be examined. */
bool cp_profile_secret_file_ok(const char *path, cp_error **err);

#endif
