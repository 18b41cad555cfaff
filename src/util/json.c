/* SPDX-License-Identifier: Apache-2.0 */
/* json.c: typed request-field getters over cJSON with MLflow's validation messages.
 * Reads only; never builds responses (that is buf.c's JSON writer). */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mltrackd/buf.h"
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

/* ---- Python's json.dumps ---- */

static void py_str(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	buf_putc(b, '"');
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		uint32_t cp = *p;
		size_t n = 1;
		if (cp >= 0x80) { /* decode UTF-8 (cJSON only accepts valid UTF-8 input; be lenient anyway) */
			if ((cp & 0xE0) == 0xC0 && (p[1] & 0xC0) == 0x80) {
				cp = (cp & 0x1F) << 6 | (p[1] & 0x3F);
				n = 2;
			} else if ((cp & 0xF0) == 0xE0 && (p[1] & 0xC0) == 0x80 && (p[2] & 0xC0) == 0x80) {
				cp = (cp & 0x0F) << 12 | (uint32_t)(p[1] & 0x3F) << 6 | (p[2] & 0x3F);
				n = 3;
			} else if ((cp & 0xF8) == 0xF0 && (p[1] & 0xC0) == 0x80 && (p[2] & 0xC0) == 0x80 &&
			           (p[3] & 0xC0) == 0x80) {
				cp = (cp & 0x07) << 18 | (uint32_t)(p[1] & 0x3F) << 12 | (uint32_t)(p[2] & 0x3F) << 6 | (p[3] & 0x3F);
				n = 4;
			} else {
				cp = 0xFFFD;
			}
		}
		p += n;
		switch (cp) {
		case '"': buf_puts(b, "\\\""); continue;
		case '\\': buf_puts(b, "\\\\"); continue;
		case '\n': buf_puts(b, "\\n"); continue;
		case '\r': buf_puts(b, "\\r"); continue;
		case '\t': buf_puts(b, "\\t"); continue;
		case '\b': buf_puts(b, "\\b"); continue;
		case '\f': buf_puts(b, "\\f"); continue;
		default: break;
		}
		if (cp >= 0x20 && cp < 0x7F) {
			buf_putc(b, (char)cp);
			continue;
		}
		uint32_t units[2] = {cp, 0};
		int nu = 1;
		if (cp > 0xFFFF) {
			cp -= 0x10000;
			units[0] = 0xD800 | (cp >> 10);
			units[1] = 0xDC00 | (cp & 0x3FF);
			nu = 2;
		}
		for (int u = 0; u < nu; u++) {
			char e[7] = {'\\', 'u', hex[units[u] >> 12 & 15], hex[units[u] >> 8 & 15], hex[units[u] >> 4 & 15],
			             hex[units[u] & 15], 0};
			buf_puts(b, e);
		}
	}
	buf_putc(b, '"');
}

void json_dump_python(struct buf *b, const cJSON *v)
{
	if (cJSON_IsNull(v) || v == NULL) {
		buf_puts(b, "null");
	} else if (cJSON_IsTrue(v)) {
		buf_puts(b, "true");
	} else if (cJSON_IsFalse(v)) {
		buf_puts(b, "false");
	} else if (cJSON_IsString(v)) {
		py_str(b, v->valuestring);
	} else if (cJSON_IsNumber(v)) {
		double d = v->valuedouble;
		if (d == floor(d) && fabs(d) < 9007199254740992.0) {
			buf_printf(b, "%lld", (long long)d);
		} else {
			char num[40];
			mt_format_double(num, sizeof num, d);
			buf_puts(b, num);
		}
	} else if (cJSON_IsArray(v) || cJSON_IsObject(v)) {
		bool obj = cJSON_IsObject(v);
		buf_putc(b, obj ? '{' : '[');
		const cJSON *it;
		bool first = true;
		cJSON_ArrayForEach(it, v)
		{
			if (!first)
				buf_puts(b, ", ");
			first = false;
			if (obj) {
				py_str(b, it->string ? it->string : "");
				buf_puts(b, ": ");
			}
			json_dump_python(b, it);
		}
		buf_putc(b, obj ? '}' : ']');
	} else {
		buf_puts(b, "null");
	}
}
