/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target "profile": the organization profile loader (src/input/profile.c) on
 * arbitrary text written to <scratch>/org.conf. A copy of the shipped seal
 * (templates/seal.png) sits beside it as seal.png, so that profiles naming
 * it can load completely and reach the scope and QR code.
 *
 * Checked beyond "no crash": the error contract; a loaded profile has a
 * 13-character prefix that the prefix rule accepts, its category is the
 * prefix's first letter, every scope is found again by its occupation and
 * has its job types, levels are 1..5, and the QR content for a record with
 * awkward characters in the name is still a valid URI for an http pattern.
 */
#include "fuzz.h"

#include "input/profile.h"
#include "input/rules.h"

int cp_fuzz_profile(const uint8_t *data, size_t size)
{
	cp_fuzz_put_seal();
	char *path = cp_fuzz_write("org.conf", data, size);
	cp_error *err = NULL;
	cp_profile *p = cp_profile_load(path, &err);
	cp_fuzz_check_result(p != NULL, err, "cp_profile_load");
	if (!p) {
		g_free(path);
		return 0;
	}
	const char *name = cp_profile_name(p);
	if (!name || !*name || !g_utf8_validate(name, -1, NULL))
		cp_fuzz_fail("profile without a UTF-8 name");
	const char *prefix = cp_profile_prefix(p);
	if (!prefix || strlen(prefix) != 13)
		cp_fuzz_fail("prefix '%s' is not 13 characters", prefix ? prefix : "(null)");
	cp_violations v = {0};
	if (!cp_rule_cert_prefix(prefix, &v))
		cp_fuzz_fail("loaded prefix %s fails the prefix rule: %s", prefix,
		             v.items[0].message);
	cp_violations_clear(&v);
	char cat = cp_profile_category(p);
	if ((cat != 'Y' && cat != 'S') || cat != prefix[0])
		cp_fuzz_fail("category %c for prefix %s", cat, prefix);
	const char *seal = cp_profile_seal_path(p);
	if (seal && !g_path_is_absolute(seal))
		cp_fuzz_fail("seal path %s is not absolute", seal);
	cp_photo_policy pol = cp_profile_photo_policy(p);
	if (pol != CP_PHOTO_PRINTED && pol != CP_PHOTO_PASTED)
		cp_fuzz_fail("photo policy %d", (int)pol);
	(void)cp_profile_province_url(p);
	(void)cp_profile_special_grades(p);
	if (strcmp(cp_profile_path(p), path) != 0)
		cp_fuzz_fail("profile path changed");
	const char *pattern = cp_profile_qr_pattern(p);
	if (!pattern || !strstr(pattern, "{cert_no}"))
		cp_fuzz_fail("QR pattern without {cert_no}");

	size_t n = cp_profile_nscopes(p);
	if (n == 0 || n > CP_PROFILE_MAX_SCOPES)
		cp_fuzz_fail("%zu scopes", n);
	for (size_t i = 0; i < n; i++) {
		const cp_scope *s = cp_profile_scope_at(p, i);
		if (!s || !s->occupation || !s->job_types)
			cp_fuzz_fail("scope %zu incomplete", i);
		if (s->max_level < 1 || s->max_level > 5)
			cp_fuzz_fail("scope %s max_level %d", s->occupation, s->max_level);
		if (s->njob_types > CP_PROFILE_MAX_JOB_TYPES || s->job_types[s->njob_types])
			cp_fuzz_fail("scope %s job types", s->occupation);
		const cp_scope *again = cp_profile_scope(p, s->occupation);
		if (!again || strcmp(again->occupation, s->occupation) != 0)
			cp_fuzz_fail("scope %s is not found by its occupation", s->occupation);
		for (size_t j = 0; j < s->njob_types; j++)
			if (!cp_scope_has_job_type(s, s->job_types[j]))
				cp_fuzz_fail("scope %s lost job type %s", s->occupation,
				             s->job_types[j]);
		if (cp_scope_has_job_type(s, NULL))
			cp_fuzz_fail("NULL job type found");
	}
	if (cp_profile_scope_at(p, n))
		cp_fuzz_fail("scope past the end");

	cp_record rec = {0};
	rec.raw[CP_FIELD_CERT_NO] = g_strdup("Y000123000001195000001");
	rec.raw[CP_FIELD_NAME] = g_strdup("a b/?#%{}[]&=张 三\"<>\\");
	char *qr = cp_profile_qr_content(p, &rec);
	if (!qr || !g_utf8_validate(qr, -1, NULL))
		cp_fuzz_fail("QR content is not UTF-8");
	if ((g_str_has_prefix(qr, "http://") || g_str_has_prefix(qr, "https://")) &&
	    !g_uri_is_valid(qr, G_URI_FLAGS_NONE, NULL))
		cp_fuzz_fail("QR content '%s' is not a valid URI", qr);
	free(qr);
	cp_record_clear(&rec);
	cp_profile_free(p);
	g_free(path);
	return 0;
}

CP_FUZZ_ENTRY(profile)
