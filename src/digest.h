/* SPDX-License-Identifier: MIT */
#pragma once
#include <stddef.h>

/* The SHA-256 of len bytes at data in lower-case hex, as
 * g_compute_checksum_for_data() gives it; g_free(). */
char *cp_sha256_hex(const void *data, size_t len);
