/* SPDX-License-Identifier: Apache-2.0 */
/* json.h: typed, validated reads of request fields from a cJSON object (a JSON body, or the query string
 * converted to one), with MLflow's messages for missing and mistyped parameters. */
#ifndef MLTRACKD_JSON_H
#define MLTRACKD_JSON_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "mltrackd/error.h"

/* Field lookup by proto name, falling back to its lowerCamelCase JSON name (as protobuf's parser does).
 * JSON null counts as absent. */
const cJSON *json_field(const cJSON *obj, const char *name);

/* Each getter: absent -> *out untouched and MT_OK, unless required (then INVALID_PARAMETER_VALUE
 * "Missing value for required parameter 'name'. ..."). Wrong type -> INVALID_PARAMETER_VALUE
 * "Invalid value ... for parameter 'name' supplied: ...". A required string must be non-empty. */
enum mt_error json_get_str(const cJSON *obj, const char *name, bool required, const char **out,
                           struct mt_err *err);
/* int64: a JSON integer or a string of decimal digits (proto int64 JSON). */
enum mt_error json_get_i64(const cJSON *obj, const char *name, bool required, int64_t *out, bool *present,
                           struct mt_err *err);
/* double: a JSON number, or "NaN", "Infinity", "-Infinity", or a numeric string. Booleans are refused. */
enum mt_error json_get_double(const cJSON *obj, const char *name, bool required, double *out,
                              struct mt_err *err);
/* bool: true/false, or the strings "true"/"false" in any case (GET query parameters). */
enum mt_error json_get_bool(const cJSON *obj, const char *name, bool required, bool *out, bool *present,
                            struct mt_err *err);
/* array: a JSON array; a lone string (a query parameter given once) counts as a one-element array,
 * (the object is rewritten in place to hold the array). Absent -> *out = NULL. */
enum mt_error json_get_array(const cJSON *obj, const char *name, bool required, const cJSON **out,
                             struct mt_err *err);

/* The MLflow "required parameter" and "invalid value" failures, for callers validating by hand. */
enum mt_error json_fail_missing(struct mt_err *err, const char *name);
enum mt_error json_fail_type(struct mt_err *err, const char *name, const cJSON *v);

/* Writes v as Python's json.dumps(v) does with its defaults (", " and ": " separators, ensure_ascii: every
 * non-ASCII character as \uXXXX, surrogate pairs above U+FFFF), so a value stored for the client reads back as
 * the reference stores it. Integral numbers below 2^53 print without a fraction (cJSON keeps no int/float
 * distinction); others as the shortest text that round-trips. */
struct buf;
void json_dump_python(struct buf *b, const cJSON *v);

#endif
