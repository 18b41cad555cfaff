/* SPDX-License-Identifier: Apache-2.0 */
/* page_token.c: opaque page tokens for offset pagination, base64url of "mt", a version byte, the offset (8 bytes,
 * big-endian) and a 16-bit check. It holds no secret and must accept nothing but what it encoded itself. */
#include <string.h>

#include "mltrackd/search.h"

#define RAW_LEN 13 /* 'm' 't' version offset[8] check[2] */
#define TOKEN_LEN 18 /* base64url of 13 bytes, unpadded */
#define VERSION 1

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static unsigned check(const unsigned char *p, size_t n)
{
	uint32_t h = 2166136261u; /* FNV-1a, folded to 16 bits */
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return (h >> 16) ^ (h & 0xffffu);
}

const char *search_page_token_encode(struct arena *a, int64_t offset)
{
	unsigned char raw[RAW_LEN + 2] = {'m', 't', VERSION};
	uint64_t v = offset < 0 ? 0 : (uint64_t)offset;
	for (int i = 0; i < 8; i++)
		raw[3 + i] = (unsigned char)(v >> (56 - 8 * i));
	unsigned c = check(raw, 11);
	raw[11] = (unsigned char)(c >> 8);
	raw[12] = (unsigned char)c;
	char *out = arena_alloc(a, TOKEN_LEN + 1);
	size_t j = 0;
	for (size_t i = 0; i < RAW_LEN; i += 3) {
		uint32_t w = (uint32_t)raw[i] << 16 | (uint32_t)raw[i + 1] << 8 | raw[i + 2]; /* raw[13..14] are 0 */
		size_t left = RAW_LEN - i;
		out[j++] = B64[w >> 18 & 63];
		out[j++] = B64[w >> 12 & 63];
		if (left > 1)
			out[j++] = B64[w >> 6 & 63];
		if (left > 2)
			out[j++] = B64[w & 63];
	}
	out[j] = '\0';
	return out;
}

static int b64val(char c)
{
	const char *p = c ? strchr(B64, c) : NULL;
	return p ? (int)(p - B64) : -1;
}

enum mt_error search_page_token_decode(const char *tok, int64_t *offset, struct mt_err *err)
{
	*offset = 0;
	if (tok == NULL || tok[0] == '\0')
		return MT_OK;
	size_t n = strnlen(tok, SEARCH_PAGE_TOKEN_MAX + 1);
	if (n != TOKEN_LEN)
		goto bad;
	unsigned char raw[RAW_LEN + 2] = {0};
	size_t j = 0;
	for (size_t i = 0; i < TOKEN_LEN; i += 4) {
		uint32_t w = 0;
		size_t k;
		for (k = 0; k < 4 && i + k < TOKEN_LEN; k++) {
			int v = b64val(tok[i + k]);
			if (v < 0)
				goto bad;
			w |= (uint32_t)v << (18 - 6 * k);
		}
		raw[j++] = (unsigned char)(w >> 16);
		if (k > 2)
			raw[j++] = (unsigned char)(w >> 8);
		if (k > 3)
			raw[j++] = (unsigned char)w;
		else if ((k == 2 && (w & 0xffff)) || (k == 3 && (w & 0xff)))
			goto bad; /* non-canonical trailing bits */
	}
	if (j != RAW_LEN || raw[0] != 'm' || raw[1] != 't' || raw[2] != VERSION)
		goto bad;
	if (check(raw, 11) != ((unsigned)raw[11] << 8 | raw[12]))
		goto bad;
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | raw[3 + i];
	if (v > (uint64_t)INT64_MAX)
		goto bad;
	*offset = (int64_t)v;
	return MT_OK;
bad:
	return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Invalid page token, could not decode it: '%.64s'", tok);
}
