/* SPDX-License-Identifier: Apache-2.0 */
/* validate.c: MLflow's validation rules and messages for keys, lengths, names and ids.
 * Pure functions over strings; no storage, no HTTP. */
#include <ctype.h>
#include <string.h>

#include "mltrackd/json.h"
#include "mltrackd/util.h"
#include "mltrackd/validate.h"

size_t utf8_len(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

size_t utf8_prefix_bytes(const char *s, size_t chars)
{
	size_t i = 0, n = 0;
	while (s[i]) {
		if (((unsigned char)s[i] & 0xC0) != 0x80) {
			if (n == chars)
				break;
			n++;
		}
		i++;
	}
	return i;
}

/* Python's \w in a str pattern: letters and digits of any script, and '_'. Non-ASCII is taken as a word
 * character (MLflow accepts e.g. accented letters). */
static bool word_char(unsigned char c) { return c >= 0x80 || isalnum(c) || c == '_'; }

/* True when posixpath.normpath(name) differs from name or escapes (MLflow's path_not_unique). */
static bool path_not_unique(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || name[0] == '/')
		return true; /* normpath("") is "."; a leading '/' is absolute */
	if (name[n - 1] == '/')
		return true;
	const char *seg = name;
	for (;;) {
		const char *end = strchrnul(seg, '/');
		size_t len = (size_t)(end - seg);
		if (len == 0)
			return true; /* "//" */
		if ((len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.'))
			return true;
		if (*end == '\0')
			break;
		seg = end + 1;
	}
	return false;
}

static void json_quote(char *out, size_t cap, const char *s)
{
	size_t j = 0;
	if (cap < 4)
		return;
	out[j++] = '"';
	for (size_t i = 0; s[i] && j + 3 < cap && i < 200; i++) {
		if (s[i] == '"' || s[i] == '\\')
			out[j++] = '\\';
		out[j++] = s[i];
	}
	out[j++] = '"';
	out[j] = '\0';
}

enum mt_error validate_key_name(const char *path, const char *name, struct mt_err *err)
{
	char q[512];
	if (name == NULL)
		return json_fail_missing(err, path);
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if (!(word_char(*p) || *p == '/' || *p == '.' || *p == '-' || *p == ' ' || *p == ':')) {
			json_quote(q, sizeof q, name);
			return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
			               "Invalid value %s for parameter '%s' supplied: Names may only contain alphanumerics, "
			               "underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and slashes (/).",
			               q, path);
		}
	}
	if (path_not_unique(name)) {
		json_quote(q, sizeof q, name);
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE,
		               "Invalid value %s for parameter '%s' supplied: Names may be treated as files in certain "
		               "cases, and must not resolve to other names when treated as such.",
		               q, path);
	}
	return MT_OK;
}

enum mt_error validate_length(const char *entity, size_t limit, const char *value, struct mt_err *err)
{
	if (value && strlen(value) > limit && utf8_len(value) > limit)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "'%s' exceeds the maximum length of %zu characters",
		               entity, limit);
	return MT_OK;
}

enum mt_error validate_experiment_name(const char *name, struct mt_err *err)
{
	if (name == NULL || name[0] == '\0')
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Invalid experiment name: '%s'", name ? name : "");
	return validate_length("name", MT_MAX_EXPERIMENT_NAME_LENGTH, name, err);
}

bool valid_run_id(const char *s)
{
	if (!s || !isalnum((unsigned char)s[0]))
		return false;
	size_t n = 1;
	for (const char *p = s + 1; *p; p++, n++) {
		if (n > 255 || !(isalnum((unsigned char)*p) || *p == '_' || *p == '-'))
			return false;
	}
	return true;
}

enum mt_error parse_experiment_id(const char *s, int64_t *out, struct mt_err *err)
{
	int64_t v;
	if (s == NULL || !mt_parse_i64(s, &v) || v < 0)
		return mt_fail(err, MT_INVALID_PARAMETER_VALUE, "Invalid experiment ID: '%.100s'", s ? s : "");
	*out = v;
	return MT_OK;
}
