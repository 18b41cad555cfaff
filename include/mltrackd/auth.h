/* SPDX-License-Identifier: Apache-2.0 */
/* auth.h: authentication primitives: salted PBKDF2-HMAC-SHA256 password hashes, constant-time checks,
 * random bearer tokens stored only as hashes, and parsing of the Authorization header. */
#ifndef MLTRACKD_AUTH_H
#define MLTRACKD_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "mltrackd/arena.h"
#include "mltrackd/error.h"

#define AUTH_PBKDF2_ITERATIONS 600000
#define AUTH_MIN_PASSWORD_LENGTH 12

/* "pbkdf2-sha256$<iterations>$<salt b64>$<hash b64>" for a new random salt; caller frees (free()). */
char *auth_password_hash_new(const char *password, unsigned iterations);
/* True when password matches the encoded hash (constant time in the hash comparison). */
bool auth_password_verify(const char *password, const char *encoded);

/* A new bearer token "mlt_<43 base64url chars>" (caller frees) and its storage hash (hex SHA-256). */
char *auth_token_new(void);
void auth_token_hash(const char *token, char out_hex[65]);

enum auth_scheme { AUTH_NONE, AUTH_BASIC, AUTH_BEARER };
struct auth_credentials {
	enum auth_scheme scheme;
	const char *username; /* Basic */
	const char *password; /* Basic */
	const char *token;    /* Bearer */
};
/* Parses an Authorization header value into the arena; malformed -> MT_UNAUTHENTICATED. NULL -> AUTH_NONE. */
enum mt_error auth_parse_header(struct arena *a, const char *header, struct auth_credentials *out,
                                struct mt_err *err);

/* `mltrackd user add|passwd|token NAME ...` on the database directly, and `mltrackd routes --json`
 * (src/auth/commands.c); argv[0] is the subcommand. Return the process exit status. */
int mt_user_main(int argc, char **argv);
int mt_routes_main(int argc, char **argv);

/* Base64 (standard alphabet, padded) of n bytes into out (cap >= 4*((n+2)/3)+1); returns length. */
size_t auth_b64_encode(const unsigned char *in, size_t n, char *out, size_t cap);
/* Decodes standard or url-safe base64 (padding optional); returns bytes written or -1. */
long auth_b64_decode(const char *in, size_t n, unsigned char *out, size_t cap);

#endif
