/* SPDX-License-Identifier: Apache-2.0 */
/* sign.c: the three delivery signatures (MLflow's X-MLflow-Signature, Standard Webhooks' webhook-signature,
 * Databricks' X-Databricks-Signature) and the secret sealing at rest (AES-256-GCM). Never logs a secret. */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>

#include "mltrackd/webhooks.h"

static void hmac_sha256(const void *key, size_t key_len, const char *const *parts, const size_t *lens, size_t n,
                        unsigned char mac[32])
{
	/* HMAC over the concatenation of parts, without copying the body */
	unsigned int mac_len = 32;
	EVP_MAC *m = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = m ? EVP_MAC_CTX_new(m) : NULL;
	OSSL_PARAM params[2];
	params[0] = OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	size_t out_len = 0;
	if (ctx && EVP_MAC_init(ctx, key, key_len, params)) {
		for (size_t i = 0; i < n; i++)
			EVP_MAC_update(ctx, (const unsigned char *)parts[i], lens[i]);
		EVP_MAC_final(ctx, mac, &out_len, 32);
	} else {
		memset(mac, 0, 32);
	}
	(void)mac_len;
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(m);
}

static void b64(const unsigned char *in, size_t n, char *out, size_t cap)
{
	if (cap < 4 * ((n + 2) / 3) + 1) {
		if (cap)
			out[0] = '\0';
		return;
	}
	EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}

static void sign_v1(const void *key, size_t key_len, const char *id, const char *ts, const char *body,
                    size_t body_len, char *out, size_t cap)
{
	const char *parts[] = {id, ".", ts, ".", body};
	size_t lens[] = {strlen(id), 1, strlen(ts), 1, body_len};
	unsigned char mac[32];
	hmac_sha256(key, key_len, parts, lens, 5, mac);
	if (cap < 4) {
		if (cap)
			out[0] = '\0';
		return;
	}
	memcpy(out, "v1,", 3);
	b64(mac, 32, out + 3, cap - 3);
}

void wh_sign_mlflow(const char *secret, const char *id, const char *ts, const char *body, size_t body_len,
                    char *out, size_t cap)
{
	sign_v1(secret, strlen(secret), id, ts, body, body_len, out, cap);
}

void wh_sign_standard(const char *secret, const char *id, const char *ts, const char *body, size_t body_len,
                      char *out, size_t cap)
{
	if (strncmp(secret, "whsec_", 6) == 0) {
		const char *enc = secret + 6;
		size_t n = strlen(enc);
		unsigned char key[256];
		if (n > 0 && n % 4 == 0 && n / 4 * 3 <= sizeof key) {
			int k = EVP_DecodeBlock(key, (const unsigned char *)enc, (int)n);
			if (k >= 0) {
				int pad = (enc[n - 1] == '=') + (n > 1 && enc[n - 2] == '=');
				sign_v1(key, (size_t)(k - pad), id, ts, body, body_len, out, cap);
				OPENSSL_cleanse(key, sizeof key);
				return;
			}
		}
	}
	sign_v1(secret, strlen(secret), id, ts, body, body_len, out, cap);
}

void wh_sign_databricks(const char *secret, const char *body, size_t body_len, char *out, size_t cap)
{
	const char *parts[] = {body};
	size_t lens[] = {body_len};
	unsigned char mac[32];
	hmac_sha256(secret, strlen(secret), parts, lens, 1, mac);
	if (cap < 65) {
		if (cap)
			out[0] = '\0';
		return;
	}
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", mac[i]);
}

/* ---- sealing ---- */

#define NONCE_LEN 12
#define TAG_LEN 16

static void derive_key(const char *key, unsigned char out[32])
{
	SHA256((const unsigned char *)key, strlen(key), out);
}

char *wh_secret_seal(struct arena *a, const char *key, const char *plain)
{
	if (!plain)
		return NULL;
	size_t n = strlen(plain);
	if (!key || !*key) {
		char *s = arena_alloc(a, n + 3);
		memcpy(s, "p:", 2);
		memcpy(s + 2, plain, n + 1);
		return s;
	}
	unsigned char k[32];
	derive_key(key, k);
	unsigned char *raw = arena_alloc(a, NONCE_LEN + n + TAG_LEN);
	RAND_bytes(raw, NONCE_LEN);
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int len = 0, ok = ctx && EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, k, raw) &&
	                  EVP_EncryptUpdate(ctx, raw + NONCE_LEN, &len, (const unsigned char *)plain, (int)n) &&
	                  EVP_EncryptFinal_ex(ctx, raw + NONCE_LEN + len, &len) &&
	                  EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, raw + NONCE_LEN + n);
	EVP_CIPHER_CTX_free(ctx);
	OPENSSL_cleanse(k, sizeof k);
	if (!ok)
		return NULL;
	size_t raw_len = NONCE_LEN + n + TAG_LEN;
	char *s = arena_alloc(a, 2 + 4 * ((raw_len + 2) / 3) + 1);
	memcpy(s, "e:", 2);
	EVP_EncodeBlock((unsigned char *)s + 2, raw, (int)raw_len);
	return s;
}

char *wh_secret_open(struct arena *a, const char *key, const char *sealed)
{
	if (!sealed)
		return NULL;
	if (strncmp(sealed, "p:", 2) == 0)
		return arena_strdup(a, sealed + 2);
	if (strncmp(sealed, "e:", 2) != 0 || !key || !*key)
		return NULL;
	const char *enc = sealed + 2;
	size_t elen = strlen(enc);
	if (elen == 0 || elen % 4)
		return NULL;
	unsigned char *raw = arena_alloc(a, elen / 4 * 3 + 1);
	int rl = EVP_DecodeBlock(raw, (const unsigned char *)enc, (int)elen);
	if (rl < 0)
		return NULL;
	rl -= (enc[elen - 1] == '=') + (elen > 1 && enc[elen - 2] == '=');
	if (rl < NONCE_LEN + TAG_LEN)
		return NULL;
	size_t n = (size_t)rl - NONCE_LEN - TAG_LEN;
	unsigned char k[32];
	derive_key(key, k);
	char *plain = arena_alloc(a, n + 1);
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int len = 0, ok = ctx && EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, k, raw) &&
	                  EVP_DecryptUpdate(ctx, (unsigned char *)plain, &len, raw + NONCE_LEN, (int)n) &&
	                  EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, raw + NONCE_LEN + n) &&
	                  EVP_DecryptFinal_ex(ctx, (unsigned char *)plain + len, &len) > 0;
	EVP_CIPHER_CTX_free(ctx);
	OPENSSL_cleanse(k, sizeof k);
	if (!ok)
		return NULL;
	plain[n] = '\0';
	return plain;
}
