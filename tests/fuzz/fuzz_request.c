/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_request.c: whole-request fuzzing through mt_dispatch (route matching, query and JSON body parsing,
 * validation, handlers, SQLite) on a scratch database. Input: "METHOD URL[?query]\n" then the body.
 * Invariants: never crashes, always answers a status in 200..599 with a JSON or text body. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mltrackd/config.h"
#include "mltrackd/http.h"
#include "mltrackd/server.h"

static struct mt_config cfg;
static struct mt_server srv;
static char dir[64];

static void cleanup(void)
{
	mt_server_close(&srv);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	mt_config_free(&cfg);
}

static void init_once(void)
{
	static int done;
	if (done)
		return;
	done = 1;
	snprintf(dir, sizeof dir, "/tmp/mt_fuzz_XXXXXX");
	if (!mkdtemp(dir))
		abort();
	char *argv[] = {"mltrackd", "--quiet", NULL};
	if (mt_config_load(&cfg, 2, argv) != 0)
		abort();
	free(cfg.db_path);
	cfg.db_path = malloc(strlen(dir) + 8);
	snprintf(cfg.db_path, strlen(dir) + 8, "%s/f.db", dir);
	cfg.artifacts_destination = dir;
	struct mt_err err;
	mt_err_init(&err);
	if (mt_server_init(&srv, &cfg, &err) != MT_OK)
		abort();
	atexit(cleanup);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	init_once();
	const char *nl = memchr(data, '\n', size);
	size_t head = nl ? (size_t)(nl - (const char *)data) : size;
	if (head == 0 || head > 4096)
		return 0;
	char line[4097];
	memcpy(line, data, head);
	line[head] = '\0';
	char *sp = strchr(line, ' ');
	if (!sp)
		return 0;
	*sp = '\0';
	const char *url = sp + 1;
	if (url[0] != '/')
		return 0;
	static const struct {
		const char *name;
		enum mt_method m;
	} methods[] = {{"GET", MT_GET}, {"POST", MT_POST}, {"PUT", MT_PUT}, {"PATCH", MT_PATCH}, {"DELETE", MT_DELETE}};
	enum mt_method m = 0;
	for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
		if (strcmp(line, methods[i].name) == 0)
			m = methods[i].m;
	if (m == 0)
		return 0;
	/* Uploads stream to the artifact store; keep the fuzzer on the JSON API. */
	if (m == MT_PUT)
		return 0;

	struct mt_request req;
	memset(&req, 0, sizeof req);
	req.arena = arena_new();
	req.srv = &srv;
	req.method = m;
	const char *q = strchr(url, '?');
	req.url = q ? arena_strndup(req.arena, url, (size_t)(q - url)) : arena_strdup(req.arena, url);
	req.query = http_parse_query(q ? q + 1 : "");
	size_t body_len = nl ? size - head - 1 : 0;
	char *body = arena_strndup(req.arena, nl ? nl + 1 : "", body_len);
	req.body = body;
	req.body_len = body_len;
	req.content_type = "application/json";
	struct mt_response resp;
	mt_response_init(&resp);
	mt_dispatch(&req, &resp);
	if (resp.status < 200 || resp.status > 599)
		abort();
	if (resp.fd >= 0)
		close(resp.fd);
	mt_response_free(&resp);
	cJSON_Delete(req.query);
	arena_free(req.arena);
	return 0;
}
