/* SPDX-License-Identifier: Apache-2.0 */
/* fixture.c: a server context on a fresh temporary database for in-process tests, and a tiny request
 * driver over mt_dispatch (no sockets). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "mltrackd/server.h"
#include "mltrackd/util.h"
#include "suites.h"

void fixture_setup(struct fixture *f)
{
	memset(f, 0, sizeof *f);
	mt_log_set_level(MT_LOG_ERROR);
	snprintf(f->dir, sizeof f->dir, "/tmp/mt_unit_XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(f->dir));
	char *argv[] = {"mltrackd", "--quiet", NULL};
	ck_assert_int_eq(mt_config_load(&f->cfg, 2, argv), 0);
	free(f->cfg.db_path);
	f->cfg.db_path = malloc(strlen(f->dir) + 16);
	sprintf(f->cfg.db_path, "%s/t.db", f->dir); /* NOLINT: sized above */
	f->cfg.artifacts_destination = f->dir;
	struct mt_err err;
	mt_err_init(&err);
	ck_assert_msg(mt_server_init(&f->srv, &f->cfg, &err) == MT_OK, "%s", err.msg);
}

static struct fx_response last;
const char *fx_auth_header;

static const char *fx_header(void *ctx, const char *name)
{
	(void)ctx;
	return strcasecmp(name, "Authorization") == 0 ? fx_auth_header : NULL;
}

void fixture_teardown(struct fixture *f)
{
	mt_server_close(&f->srv);
	mt_config_free(&f->cfg);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", f->dir);
	free(last.body);
	cJSON_Delete(last.json);
	memset(&last, 0, sizeof last);
}

struct fx_response *fx_call(struct fixture *f, enum mt_method m, const char *url, const char *body)
{
	free(last.body);
	cJSON_Delete(last.json);
	memset(&last, 0, sizeof last);
	struct mt_request req;
	memset(&req, 0, sizeof req);
	req.arena = arena_new();
	req.srv = &f->srv;
	req.method = m;
	const char *q = strchr(url, '?');
	req.url = q ? arena_strndup(req.arena, url, (size_t)(q - url)) : url;
	req.query = http_parse_query(q ? q + 1 : "");
	req.body = body ? body : "";
	req.body_len = body ? strlen(body) : 0;
	req.content_type = body ? "application/json" : NULL;
	req.header = fx_header;
	struct mt_response resp;
	mt_response_init(&resp);
	mt_dispatch(&req, &resp);
	last.status = resp.status;
	last.body = buf_steal(&resp.body, NULL);
	if (!last.body)
		last.body = strdup("");
	last.json = cJSON_Parse(last.body);
	mt_response_free(&resp);
	cJSON_Delete(req.query);
	arena_free(req.arena);
	return &last;
}

const char *fx_str(struct fx_response *r, const char *path)
{
	const cJSON *cur = r->json;
	char tmp[256];
	snprintf(tmp, sizeof tmp, "%s", path);
	for (char *tok = strtok(tmp, "."); tok && cur; tok = strtok(NULL, ".")) /* NOLINT: test code */
		cur = cJSON_GetObjectItemCaseSensitive(cur, tok);
	return cur && cJSON_IsString(cur) ? cur->valuestring : NULL;
}
