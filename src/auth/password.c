/* SPDX-License-Identifier: Apache-2.0 */
/* password.c: password hashing (PBKDF2-HMAC-SHA256 via OpenSSL, per-user random salt), verification in
 * constant time, bearer tokens (random, stored as SHA-256), base64, and Authorization header parsing.
 * Holds no state and touches no storage. */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mltrackd/auth.h"
#include "mltrackd/util.h"

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t auth_b64_encode(const unsigned char *in, size_t n, char *out, size_t cap)
{
	size_t need = 4 * ((n + 2) / 3) + 1, j = 0;
	if (cap < need)
		return 0;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0) | (i + 2 < n ? in[i + 2] : 0);
		out[j++] = B64[(v >> 18) & 63];
		out[j++] = B64[(v >> 12) & 63];
		out[j++] = i + 1 < n ? B64[(v >> 6) & 63] : '=';
		out[j++] = i + 2 < n ? B64[v & 63] : '=';
	}
	out[j] = '\0';
	return j;
}

static int b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

long auth_b64_decode(const char *in, size_t n, unsigned char *out, size_t cap)
{
	while (n > 0 && in[n - 1] == '=')
		n--;
	if (n % 4 == 1)
		return -1;
	size_t j = 0;
	unsigned acc = 0;
	int bits = 0;
	for (size_t i = 0; i < n; i++) {
		int v = b64val(in[i]);
		if (v < 0)
			return -1;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (j >= cap)
				return -1;
			out[j++] = (unsigned char)((acc >> bits) & 0xFF);
		}
	}
	return (long)j;
}

char *auth_password_hash_new(const char *password, unsigned iterations)
{
	unsigned char salt[16], dk[32];
	if (RAND_bytes(salt, sizeof salt) != 1)
		abort();
	if (PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, sizeof salt, (int)iterations, EVP_sha256(),
	                      sizeof dk, dk) != 1)
		abort();
	char s64[32], d64[48];
	auth_b64_encode(salt, sizeof salt, s64, sizeof s64);
	auth_b64_encode(dk, sizeof dk, d64, sizeof d64);
	size_t n = strlen(s64) + strlen(d64) + 48;
	char *out = xmalloc(n);
	snprintf(out, n, "pbkdf2-sha256$%u$%s$%s", iterations, s64, d64);
	OPENSSL_cleanse(dk, sizeof dk);
	return out;
}

bool auth_password_verify(const char *password, const char *encoded)
{
	if (!password || !encoded || strncmp(encoded, "pbkdf2-sha256$", 14) != 0)
		return false;
	const char *p = encoded + 14;
	char *end;
	unsigned long iters = strtoul(p, &end, 10);
	if (*end != '$' || iters < 1000 || iters > 10000000)
		return false;
	const char *salt64 = end + 1, *dollar = strchr(salt64, '$');
	if (!dollar)
		return false;
	unsigned char salt[64], want[64], got[64];
	long sn = auth_b64_decode(salt64, (size_t)(dollar - salt64), salt, sizeof salt);
	long wn = auth_b64_decode(dollar + 1, strlen(dollar + 1), want, sizeof want);
	if (sn <= 0 || wn != 32)
		return false;
	if (PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, (int)sn, (int)iters, EVP_sha256(), 32, got) != 1)
		return false;
	bool ok = CRYPTO_memcmp(got, want, 32) == 0;
	OPENSSL_cleanse(got, sizeof got);
	return ok;
}

char *auth_token_new(void)
{
	unsigned char raw[32];
	if (RAND_bytes(raw, sizeof raw) != 1)
		abort();
	char b[64];
	auth_b64_encode(raw, sizeof raw, b, sizeof b);
	/* url-safe, unpadded */
	size_t n = strlen(b);
	while (n && b[n - 1] == '=')
		b[--n] = '\0';
	for (size_t i = 0; i < n; i++)
		b[i] = b[i] == '+' ? '-' : b[i] == '/' ? '_' : b[i];
	char *out = xmalloc(n + 5);
	snprintf(out, n + 5, "mlt_%s", b);
	return out;
}

void auth_token_hash(const char *token, char out_hex[65])
{
	unsigned char d[SHA256_DIGEST_LENGTH];
	SHA256((const unsigned char *)token, strlen(token), d);
	static const char hex[] = "0123456789abcdef";
	for (int i = 0; i < SHA256_DIGEST_LENGTH; i++) {
		out_hex[2 * i] = hex[d[i] >> 4];
		out_hex[2 * i + 1] = hex[d[i] & 15];
	}
	out_hex[64] = '\0';
}

enum mt_error auth_parse_header(struct arena *a, const char *header, struct auth_credentials *out,
                                struct mt_err *err)
{
	memset(out, 0, sizeof *out);
	if (header == NULL || header[0] == '\0')
		return MT_OK;
	if (strlen(header) > 8192)
		return mt_fail(err, MT_UNAUTHENTICATED, "Authorization header too long");
	while (*header == ' ')
		header++;
	if (strncasecmp(header, "Basic ", 6) == 0) {
		const char *b = header + 6;
		while (*b == ' ')
			b++;
		size_t n = strlen(b);
		while (n && b[n - 1] == ' ')
			n--;
		unsigned char *dec = arena_alloc(a, n + 1);
		long dn = auth_b64_decode(b, n, dec, n);
		if (dn <= 0)
			return mt_fail(err, MT_UNAUTHENTICATED, "Malformed Basic credentials");
		dec[dn] = '\0';
		if (memchr(dec, '\0', (size_t)dn))
			return mt_fail(err, MT_UNAUTHENTICATED, "Malformed Basic credentials");
		char *colon = strchr((char *)dec, ':');
		if (!colon)
			return mt_fail(err, MT_UNAUTHENTICATED, "Malformed Basic credentials");
		*colon = '\0';
		out->scheme = AUTH_BASIC;
		out->username = (const char *)dec;
		out->password = colon + 1;
		return MT_OK;
	}
	if (strncasecmp(header, "Bearer ", 7) == 0) {
		const char *t = header + 7;
		while (*t == ' ')
			t++;
		if (*t == '\0')
			return mt_fail(err, MT_UNAUTHENTICATED, "Malformed Bearer token");
		out->scheme = AUTH_BEARER;
		out->token = arena_strdup(a, t);
		return MT_OK;
	}
	return mt_fail(err, MT_UNAUTHENTICATED, "Unsupported authorization scheme");
}
