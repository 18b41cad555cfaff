/* SPDX-License-Identifier: Apache-2.0 */
/* test_artifacts.c: path validation table, symlinks never followed out of the root, atomic uploads (an
 * aborted upload leaves nothing), listing and deletion. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mltrackd/artifacts.h"
#include "suites.h"

static char dir[256], root[300];
static struct artifact_store *st;

static void setup(void)
{
	snprintf(dir, sizeof dir, "/tmp/mt_art_XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(root, sizeof root, "%s/root", dir);
	struct mt_err err;
	mt_err_init(&err);
	ck_assert_int_eq(artifacts_open(root, &st, &err), MT_OK);
}

static void teardown(void)
{
	artifacts_close(st);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(path_table)
{
	const char *good[] = {"a", "a/b.txt", "1/abc/artifacts/model/MLmodel", "dir/", "50%.txt", "with space/x y", "ü/é"};
	const char *bad[] = {"..", "../x", "a/../../x", "/etc/passwd", "a//b", ".", "a/./b", "a\\b", "a#b", "C:/x",
	                     "%2e%2e/x", "a/%2E%2E/b", "%2fetc", "a%00b", "a%5cb", "x/\x01y", "\xc0\xae\xc0\xae/x", "%c0%ae/x",
	                     "\xed\xa0\x80"};
	struct mt_err err;
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		mt_err_init(&err);
		ck_assert_msg(artifacts_check_path(good[i], false, &err) == MT_OK, "%s: %s", good[i], err.msg);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		mt_err_init(&err);
		ck_assert_msg(artifacts_check_path(bad[i], false, &err) == MT_INVALID_PARAMETER_VALUE, "accepted %s", bad[i]);
	}
	mt_err_init(&err);
	ck_assert_int_eq(artifacts_check_path("", true, &err), MT_OK);
	ck_assert_int_eq(artifacts_check_path("", false, &err), MT_INVALID_PARAMETER_VALUE);
}
END_TEST

static void put(const char *path, const char *data)
{
	struct arena *a = arena_new();
	struct artifact_upload *up;
	struct mt_err err;
	mt_err_init(&err);
	ck_assert_msg(artifacts_upload_begin(st, a, path, &up, &err) == MT_OK, "%s", err.msg);
	ck_assert_int_eq(artifacts_upload_write(up, data, strlen(data), &err), MT_OK);
	ck_assert_int_eq(artifacts_upload_commit(up, &err), MT_OK);
	arena_free(a);
}

START_TEST(upload_list_read_delete)
{
	put("e/r/artifacts/a.txt", "hello");
	put("e/r/artifacts/sub/b.txt", "bb");
	struct arena *a = arena_new();
	struct artifact_entry *e;
	size_t n;
	bool exists;
	struct mt_err err;
	mt_err_init(&err);
	ck_assert_int_eq(artifacts_list(st, a, "e/r/artifacts", &e, &n, &exists, &err), MT_OK);
	ck_assert(exists);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(e[0].name, "a.txt");
	ck_assert(!e[0].is_dir && e[0].size == 5);
	ck_assert(e[1].is_dir);
	ck_assert_int_eq(artifacts_list(st, a, "e/r/artifacts/a.txt", &e, &n, &exists, &err), MT_OK);
	ck_assert(!exists && n == 0);
	int fd;
	uint64_t size;
	ck_assert_int_eq(artifacts_open_file(st, "e/r/artifacts/a.txt", &fd, &size, &err), MT_OK);
	char buf[8] = {0};
	ck_assert_int_eq(read(fd, buf, sizeof buf), 5);
	ck_assert_str_eq(buf, "hello");
	close(fd);
	ck_assert_int_eq(artifacts_open_file(st, "e/r/artifacts/nope", &fd, &size, &err), MT_RESOURCE_DOES_NOT_EXIST);
	mt_err_init(&err);
	ck_assert_int_eq(artifacts_delete(st, "e/r/artifacts/sub", &err), MT_OK);
	ck_assert_int_eq(artifacts_list(st, a, "e/r/artifacts", &e, &n, &exists, &err), MT_OK);
	ck_assert_uint_eq(n, 1);
	arena_free(a);
}
END_TEST

START_TEST(aborted_upload_leaves_nothing)
{
	struct arena *a = arena_new();
	struct artifact_upload *up;
	struct mt_err err;
	mt_err_init(&err);
	ck_assert_int_eq(artifacts_upload_begin(st, a, "x/partial.bin", &up, &err), MT_OK);
	ck_assert_int_eq(artifacts_upload_write(up, "half", 4, &err), MT_OK);
	arena_free(a); /* the connection dropped before the body completed */
	char p[400];
	snprintf(p, sizeof p, "%s/x", root);
	DIR *d = opendir(p);
	ck_assert_ptr_nonnull(d);
	struct dirent *e;
	int files = 0;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.' || strlen(e->d_name) > 2)
			files++;
	closedir(d);
	ck_assert_int_eq(files, 0);
}
END_TEST

START_TEST(symlinks_are_not_followed)
{
	char outside[400], link[400];
	snprintf(outside, sizeof outside, "%s/secret.txt", dir);
	FILE *f = fopen(outside, "w");
	fputs("secret", f);
	fclose(f);
	snprintf(link, sizeof link, "%s/link.txt", root);
	ck_assert_int_eq(symlink(outside, link), 0);
	char linkdir[400];
	snprintf(linkdir, sizeof linkdir, "%s/linkdir", root);
	ck_assert_int_eq(symlink(dir, linkdir), 0);
	int fd;
	uint64_t size;
	struct mt_err err;
	mt_err_init(&err);
	ck_assert_int_ne(artifacts_open_file(st, "link.txt", &fd, &size, &err), MT_OK);
	mt_err_init(&err);
	ck_assert_int_ne(artifacts_open_file(st, "linkdir/secret.txt", &fd, &size, &err), MT_OK);
	struct arena *a = arena_new();
	struct artifact_upload *up;
	mt_err_init(&err);
	ck_assert_int_ne(artifacts_upload_begin(st, a, "linkdir/new.txt", &up, &err), MT_OK);
	arena_free(a);
	char created[400];
	snprintf(created, sizeof created, "%s/new.txt", dir);
	ck_assert_int_ne(access(created, F_OK), 0);
	mt_err_init(&err);
	ck_assert_int_eq(artifacts_delete(st, "linkdir", &err), MT_OK); /* removes the link, not its target */
	ck_assert_int_eq(access(outside, F_OK), 0);
}
END_TEST

START_TEST(mime_types)
{
	/* MLflow's text list first (case-sensitive, whole name without an extension), then mimetypes */
	const char *cases[][2] = {{"a.txt", "text/plain"}, {"cfg.json", "text/plain"}, {"d/MLmodel", "text/plain"},
	                          {"c.yaml", "text/plain"}, {"x.csv", "text/plain"}, {"x.CSV", "text/csv"},
	                          {"i.png", "image/png"}, {"i.PNG", "image/png"}, {"p.html", "text/html"},
	                          {"m.pkl", "application/octet-stream"}, {"noext", "application/octet-stream"},
	                          {".json", "application/octet-stream"}, {"a.tar.gz", "application/octet-stream"},
	                          {"requirements.txt", "text/plain"}, {"dir.png/x", "application/octet-stream"}};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		ck_assert_msg(strcmp(artifacts_mime_type(cases[i][0]), cases[i][1]) == 0, "%s -> %s", cases[i][0],
		              artifacts_mime_type(cases[i][0]));
}
END_TEST

/* In-process: the server-level flags and the UI upload route, through mt_dispatch. */
START_TEST(artifacts_only_refuses_tracking)
{
	struct fixture f;
	fixture_setup(&f);
	f.cfg.artifacts_only = true;
	struct fx_response *r = fx_call(&f, MT_POST, "/api/2.0/mlflow/experiments/create", "{\"name\": \"x\"}");
	ck_assert_int_eq(r->status, 503);
	ck_assert_ptr_nonnull(strstr(r->body, "`--artifacts-only` mode"));
	r = fx_call(&f, MT_GET, "/get-artifact?run_id=abc&path=x", NULL);
	ck_assert_int_eq(r->status, 503);
	r = fx_call(&f, MT_GET, "/api/2.0/mlflow/registered-models/search", NULL);
	ck_assert_int_eq(r->status, 503);
	r = fx_call(&f, MT_GET, "/api/2.0/mlflow-artifacts/artifacts?path=", NULL);
	ck_assert_int_eq(r->status, 200);
	r = fx_call(&f, MT_GET, "/health", NULL);
	ck_assert_int_eq(r->status, 200);
	fixture_teardown(&f);
}
END_TEST

START_TEST(ui_upload_into_run)
{
	struct fixture f;
	fixture_setup(&f);
	struct fx_response *r = fx_call(&f, MT_POST, "/api/2.0/mlflow/runs/create", "{\"experiment_id\": \"0\"}");
	ck_assert_int_eq(r->status, 200);
	char rid[64], url[256], path[512];
	snprintf(rid, sizeof rid, "%s", fx_str(r, "run.info.run_id"));
	snprintf(url, sizeof url, "/ajax-api/2.0/mlflow/upload-artifact?run_uuid=%s&path=ui/a.txt", rid);
	r = fx_call(&f, MT_POST, url, "hello");
	ck_assert_msg(r->status == 200, "%s", r->body);
	snprintf(path, sizeof path, "%s/0/%s/artifacts/ui/a.txt", f.dir, rid);
	FILE *fp = fopen(path, "r");
	ck_assert_ptr_nonnull(fp);
	char buf[16] = {0};
	ck_assert_uint_eq(fread(buf, 1, sizeof buf - 1, fp), 5);
	fclose(fp);
	ck_assert_str_eq(buf, "hello");
	snprintf(url, sizeof url, "/ajax-api/2.0/mlflow/upload-artifact?run_uuid=%s&path=%%2e%%2e/%%2e%%2e/x.txt", rid);
	r = fx_call(&f, MT_POST, url, "x");
	ck_assert_int_eq(r->status, 400);
	snprintf(url, sizeof url, "/ajax-api/2.0/mlflow/upload-artifact?run_uuid=%s&path=e.txt", rid);
	r = fx_call(&f, MT_POST, url, NULL);
	ck_assert_int_eq(r->status, 400);
	ck_assert_ptr_nonnull(strstr(r->body, "Request must specify data."));
	fixture_teardown(&f);
}
END_TEST

Suite *artifacts_suite(void)
{
	Suite *s = suite_create("artifacts");
	TCase *tc = tcase_create("fs");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, path_table);
	tcase_add_test(tc, upload_list_read_delete);
	tcase_add_test(tc, aborted_upload_leaves_nothing);
	tcase_add_test(tc, symlinks_are_not_followed);
	tcase_add_test(tc, mime_types);
	suite_add_tcase(s, tc);
	TCase *api = tcase_create("api");
	tcase_set_timeout(api, 30);
	tcase_add_test(api, artifacts_only_refuses_tracking);
	tcase_add_test(api, ui_upload_into_run);
	suite_add_tcase(s, api);
	return s;
}
