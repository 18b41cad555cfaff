/* SPDX-License-Identifier: Apache-2.0 */
/* error.h: the one error enum of mltrackd, whose values are MLflow's error codes, and the error carrier
 * (code + first message) that every fallible function fills. Only src/http/ turns it into a response. */
#ifndef MLTRACKD_ERROR_H
#define MLTRACKD_ERROR_H

#include <stdarg.h>

enum mt_error {
	MT_OK = 0,
	MT_INVALID_PARAMETER_VALUE, /* 400 */
	MT_BAD_REQUEST,             /* 400 */
	MT_MALFORMED_REQUEST,       /* 400 (reference answers HTML 500; we answer JSON 400) */
	MT_RESOURCE_ALREADY_EXISTS, /* 400, as MLflow does (not 409) */
	MT_RESOURCE_DOES_NOT_EXIST, /* 404 */
	MT_ENDPOINT_NOT_FOUND,      /* 404 */
	MT_METHOD_NOT_ALLOWED,      /* 405 (path exists with another method) */
	MT_UNAUTHENTICATED,         /* 401 */
	MT_PERMISSION_DENIED,       /* 403 */
	MT_RESOURCE_CONFLICT,       /* 409 */
	MT_REQUEST_LIMIT_EXCEEDED,  /* 429 */
	MT_INTERNAL_ERROR,          /* 500 */
	MT_INVALID_STATE,           /* 500, as MLflow maps it */
	MT_NOT_IMPLEMENTED,         /* 501 */
	MT_TEMPORARILY_UNAVAILABLE, /* 503 */
	MT_ERROR__COUNT
};

/* MLflow's error_code string for a code, e.g. "INVALID_PARAMETER_VALUE". */
const char *mt_error_name(enum mt_error code);
/* The HTTP status MLflow answers for a code. */
int mt_error_http_status(enum mt_error code);

#define MT_ERR_MSG_MAX 1024

/* Error carrier: the first failure recorded wins; later mt_fail calls keep the first message. */
struct mt_err {
	enum mt_error code;
	char msg[MT_ERR_MSG_MAX];
};

static inline void mt_err_init(struct mt_err *e) { e->code = MT_OK; e->msg[0] = '\0'; }

/* Records code + formatted message in e (unless an error is already recorded) and returns code, so a
 * caller can write `return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "bad '%s'", k);`. e may be NULL. */
enum mt_error mt_fail(struct mt_err *e, enum mt_error code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
