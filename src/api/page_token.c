/* SPDX-License-Identifier: Apache-2.0 */
/* page_token.c: opaque page tokens for offset pagination (base64url of "mt1:<offset>"), and their strict
 * decoding: a token that is not one of ours is a 400, never a crash or a silent restart. */
#include <stdio.h>
#include <string.h>

#include "api_internal.h"
#include "mltrackd/auth.h"
#include "mltrackd/util.h"

const char *api_page_token_encode(struct arena *a, int64_t offset)
{
	char raw[40], b64[64];
	int n = snprintf(raw, sizeof raw, "mt1:%lld", (long long)offset);
	auth_b64_encode((const unsigned char *)raw, (size_t)n, b64, sizeof b64);
	for (char *p = b64; *p; p++)
		*p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
	return arena_strdup(a, b64);
}

enum mt_error api_page_token_decode(const char *tok, int64_t *offset, struct mt_err *err)
{
	*offset = 0;
	if (tok == NULL || tok[0] == '\0')
		return MT_OK;
	size_t n = strlen(tok);
	unsigned char raw[48];
	long got = n <= 64 ? auth_b64_decode(tok, n, raw, sizeof raw - 1) : -1;
	if (got > 4) {
		raw[got] = '\0';
		int64_t v;
		if (memcmp(raw, "mt1:", 4) == 0 && mt_parse_i64((const char *)raw + 4, &v) && v >= 0) {
			*offset = v;
			return MT_OK;
		}
	}
	return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Invalid page token, could not parse it: '%.64s'", tok);
}
