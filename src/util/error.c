/* SPDX-License-Identifier: Apache-2.0 */
/* error.c: the one place that maps enum mt_error to MLflow's error_code and HTTP status.
 * The switches have no default: so -Wswitch flags a new code that lacks a mapping. */
#include <stdio.h>

#include "mltrackd/error.h"

const char *mt_error_name(enum mt_error code)
{
	switch (code) {
	case MT_OK: return "OK";
	case MT_INVALID_PARAMETER_VALUE: return "INVALID_PARAMETER_VALUE";
	case MT_BAD_REQUEST: return "BAD_REQUEST";
	case MT_MALFORMED_REQUEST: return "MALFORMED_REQUEST";
	case MT_RESOURCE_ALREADY_EXISTS: return "RESOURCE_ALREADY_EXISTS";
	case MT_RESOURCE_DOES_NOT_EXIST: return "RESOURCE_DOES_NOT_EXIST";
	case MT_ENDPOINT_NOT_FOUND: return "ENDPOINT_NOT_FOUND";
	case MT_METHOD_NOT_ALLOWED: return "ENDPOINT_NOT_FOUND";
	case MT_UNAUTHENTICATED: return "UNAUTHENTICATED";
	case MT_PERMISSION_DENIED: return "PERMISSION_DENIED";
	case MT_RESOURCE_CONFLICT: return "RESOURCE_CONFLICT";
	case MT_REQUEST_LIMIT_EXCEEDED: return "REQUEST_LIMIT_EXCEEDED";
	case MT_INTERNAL_ERROR: return "INTERNAL_ERROR";
	case MT_INVALID_STATE: return "INVALID_STATE";
	case MT_NOT_IMPLEMENTED: return "NOT_IMPLEMENTED";
	case MT_TEMPORARILY_UNAVAILABLE: return "TEMPORARILY_UNAVAILABLE";
	case MT_ERROR__COUNT: break;
	}
	return "INTERNAL_ERROR";
}

int mt_error_http_status(enum mt_error code)
{
	switch (code) {
	case MT_OK: return 200;
	case MT_INVALID_PARAMETER_VALUE:
	case MT_BAD_REQUEST:
	case MT_MALFORMED_REQUEST:
	case MT_RESOURCE_ALREADY_EXISTS: return 400;
	case MT_UNAUTHENTICATED: return 401;
	case MT_PERMISSION_DENIED: return 403;
	case MT_RESOURCE_DOES_NOT_EXIST:
	case MT_ENDPOINT_NOT_FOUND: return 404;
	case MT_METHOD_NOT_ALLOWED: return 405;
	case MT_RESOURCE_CONFLICT: return 409;
	case MT_REQUEST_LIMIT_EXCEEDED: return 429;
	case MT_INTERNAL_ERROR:
	case MT_INVALID_STATE: return 500;
	case MT_NOT_IMPLEMENTED: return 501;
	case MT_TEMPORARILY_UNAVAILABLE: return 503;
	case MT_ERROR__COUNT: break;
	}
	return 500;
}

enum mt_error mt_fail(struct mt_err *e, enum mt_error code, const char *fmt, ...)
{
	if (e == NULL || e->code != MT_OK)
		return code;
	e->code = code;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	return code;
}
