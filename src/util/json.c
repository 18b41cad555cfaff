/* SPDX-License-Identifier: Apache-2.0 */
/* json.c: typed request-field getters over cJSON with MLflow's validation messages.
 * Reads only; never builds responses (that is buf.c's JSON writer). */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mltrackd/json.h"
#include "mltrackd/util.h"

#define API_DOCS_HINT " See the API docs for more information about request parameters."

const cJSON *json_field(const cJSON *obj, const char *name)
{
	if (obj == NULL || !cJSON_IsObject(obj))
		return NULL;
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
	if (v == NULL && strchr(name, '_')) {
		char camel[128];
		size_t j = 0;
		bool up = false;
		for (size_t i = 0; name[i] && j + 1 < sizeof camel; i++) {
			if (name[i] == '_') {
				up = true;
				continue;
			}
			camel[j++] = up ? (char)toupper((unsigned char)name[i]) : name[i];
			up = false;
		}
		camel[j] = '\0';
		v = cJSON_GetObjectItemCaseSensitive(obj, camel);
	}
	if (v != NULL && cJSON_IsNull(v))
		return NULL;
	return v;
}

enum mt_error json_fail_missing(struct mt_err *err, const char *name)
{
	return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Missing value for required parameter '%s'." API_DOCS_HINT,
	               name);
}

static const char *py_type_name(const cJSON *v)
{
	if (cJSON_IsString(v))
		return "str";
	if (cJSON_IsBool(v))
		return "bool";
	if (cJSON_IsNumber(v))
		return v->valuedouble == floor(v->valuedouble) && fabs(v->valuedouble) < 9e15 ? "int" : "float";
	if (cJSON_IsArray(v))
		return "list";
	if (cJSON_IsObject(v))
		return "dict";
	return "NoneType";
}

enum mt_error json_fail_type(struct mt_err *err, const char *name, const cJSON *v)
{
	char *txt = cJSON_PrintUnformatted(v);
	enum mt_error rc = mt_fail(err, MT_INVALID_PARAMETER_VALUE,
	                           "Invalid value %.200s for parameter '%s' supplied: Hint: Value was of type '%s'." API_DOCS_HINT,
	                           txt ? txt : "?", name, py_type_name(v));
	cJSON_free(txt);
	return rc;
}

enum mt_error json_get_str(const cJSON *obj, const char *name, bool required, const char **out,
                           struct mt_err *err)
{
	const cJSON *v = json_field(obj, name);
	if (v == NULL) {
		if (required)
			return json_fail_missing(err, name);
		return MT_OK;
	}
	if (cJSON_IsArray(v) && cJSON_GetArraySize(v) > 0 && cJSON_IsString(cJSON_GetArrayItem(v, 0)))
		v = cJSON_GetArrayItem(v, 0); /* a query parameter repeated: the first wins */
	if (!cJSON_IsString(v))
		return json_fail_type(err, name, v);
	if (required && v->valuestring[0] == '\0')
		return json_fail_missing(err, name);
	*out = v->valuestring;
	return MT_OK;
}

enum mt_error json_get_i64(const cJSON *obj, const char *name, bool required, int64_t *out, bool *present,
                           struct mt_err *err)
{
	const cJSON *v = json_field(obj, name);
	if (present)
		*present = false;
	if (v == NULL) {
		if (required)
			return json_fail_missing(err, name);
		return MT_OK;
	}
	if (cJSON_IsNumber(v)) {
		double d = v->valuedouble;
		if (d != floor(d) || fabs(d) > 9.2e18)
			return json_fail_type(err, name, v);
		/* cJSON keeps only a double; reparse the literal is not possible, so accept the double. */
		*out = (int64_t)d;
	} else if (cJSON_IsString(v)) {
		int64_t x;
		if (!mt_parse_i64(v->valuestring, &x))
			return json_fail_type(err, name, v);
		*out = x;
	} else {
		return json_fail_type(err, name, v);
	}
	if (present)
		*present = true;
	return MT_OK;
}

enum mt_error json_get_double(const cJSON *obj, const char *name, bool required, double *out,
                              struct mt_err *err)
{
	const cJSON *v = json_field(obj, name);
	if (v == NULL) {
		if (required)
			return json_fail_missing(err, name);
		return MT_OK;
	}
	if (cJSON_IsNumber(v)) {
		*out = v->valuedouble;
		return MT_OK;
	}
	if (cJSON_IsString(v)) {
		const char *s = v->valuestring;
		if (strcmp(s, "NaN") == 0 || strcasecmp(s, "nan") == 0) {
			*out = NAN;
			return MT_OK;
		}
		if (strcmp(s, "Infinity") == 0 || strcasecmp(s, "inf") == 0) {
			*out = INFINITY;
			return MT_OK;
		}
		if (strcmp(s, "-Infinity") == 0 || strcasecmp(s, "-inf") == 0) {
			*out = -INFINITY;
			return MT_OK;
		}
		double d;
		if (mt_parse_double(s, &d)) {
			*out = d;
			return MT_OK;
		}
	}
	return json_fail_type(err, name, v);
}

enum mt_error json_get_bool(const cJSON *obj, const char *name, bool required, bool *out, bool *present,
                            struct mt_err *err)
{
	const cJSON *v = json_field(obj, name);
	if (present)
		*present = false;
	if (v == NULL) {
		if (required)
			return json_fail_missing(err, name);
		return MT_OK;
	}
	if (cJSON_IsBool(v)) {
		*out = cJSON_IsTrue(v);
	} else if (cJSON_IsString(v) && strcasecmp(v->valuestring, "true") == 0) {
		*out = true;
	} else if (cJSON_IsString(v) && strcasecmp(v->valuestring, "false") == 0) {
		*out = false;
	} else {
		return json_fail_type(err, name, v);
	}
	if (present)
		*present = true;
	return MT_OK;
}

enum mt_error json_get_array(const cJSON *obj, const char *name, bool required, const cJSON **out,
                             struct mt_err *err)
{
	const cJSON *v = json_field(obj, name);
	*out = NULL;
	if (v == NULL) {
		if (required)
			return json_fail_missing(err, name);
		return MT_OK;
	}
	if (cJSON_IsString(v)) {
		/* A GET query parameter given once arrives as a plain string: wrap it in place into a
		 * one-element array (the request owns the object, so mutating it here is safe). */
		cJSON *arr = cJSON_CreateArray();
		cJSON_AddItemToArray(arr, cJSON_CreateString(v->valuestring));
		/* ...InObject (not ViaPointer) so the replacement keeps the key name */
		cJSON_ReplaceItemInObjectCaseSensitive((cJSON *)obj, v->string, arr);
		v = arr;
	}
	if (!cJSON_IsArray(v))
		return json_fail_type(err, name, v);
	*out = v;
	return MT_OK;
}
