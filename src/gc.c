/* SPDX-License-Identifier: Apache-2.0 */
/* gc.c: `mltrackd gc [--older-than 30d] [--backend-store-uri ...] [--artifacts-destination ...]`: like
 * `mlflow gc`, permanently removes deleted runs and experiments, then their artifact folders. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mltrackd/artifacts.h"
#include "mltrackd/config.h"
#include "mltrackd/gc.h"
#include "mltrackd/store.h"
#include "mltrackd/store_gc.h"
#include "mltrackd/util.h"

/* "30d", "12h", "15m", "45s" or "0" -> milliseconds; -1 when malformed. */
static int64_t parse_age(const char *s)
{
	if (!s || !*s)
		return 0;
	char *end;
	long long v = strtoll(s, &end, 10);
	if (v < 0 || end == s)
		return -1;
	int64_t unit = *end == 'd' ? 86400000LL : *end == 'h' ? 3600000LL : *end == 'm' ? 60000LL : *end == 's' ? 1000LL
	             : *end == '\0' ? 1000LL : -1;
	if (unit < 0 || (*end && end[1]))
		return -1;
	return v * unit;
}

/* "mlflow-artifacts:/<rest>" -> "<rest>"; NULL when the artifacts are not in the proxied store. */
static const char *proxied_path(const char *uri)
{
	if (!uri || strncmp(uri, "mlflow-artifacts:", 17) != 0)
		return NULL;
	uri += 17;
	while (*uri == '/')
		uri++;
	return uri;
}

int mt_gc_main(const struct mt_config *cfg)
{
	int64_t age = parse_age(cfg->gc_older_than);
	if (age < 0) {
		fprintf(stderr, "mltrackd gc: invalid --older-than '%s' (e.g. 30d, 12h, 0)\n", cfg->gc_older_than);
		return 2;
	}
	/* hard deletes under a running server would leave its writer's caches naming rows that are gone */
	char why[4400];
	if (mt_lock_database(cfg->db_path, why, sizeof why) < 0) {
		fprintf(stderr, "mltrackd gc: %s\n", why);
		return 1;
	}
	struct mt_err err;
	mt_err_init(&err);
	struct store *s;
	if (store_open(cfg->db_path, &s, &err) != MT_OK) {
		fprintf(stderr, "mltrackd gc: %s\n", err.msg);
		return 1;
	}
	struct arena *a = arena_new();
	struct gc_victim *v;
	size_t n;
	int rc = 0;
	if (store_gc(s, a, mt_now_ms() - age, &v, &n, &err) != MT_OK) {
		fprintf(stderr, "mltrackd gc: %s\n", err.msg);
		rc = 1;
	}
	struct artifact_store *as = NULL;
	if (rc == 0 && n > 0 && artifacts_open(cfg->artifacts_destination, &as, &err) != MT_OK) {
		fprintf(stderr, "mltrackd gc: %s\n", err.msg);
		rc = 1;
	}
	for (size_t i = 0; rc == 0 && i < n; i++) {
		const char *p = proxied_path(v[i].artifact_uri);
		if (p && v[i].run_id) {
			/* a run's folder is <exp>/<run>; its URI ends with /artifacts */
			const char *slash = strrchr(p, '/');
			char *dir = slash && !strcmp(slash, "/artifacts") ? arena_strndup(a, p, (size_t)(slash - p)) : arena_strdup(a, p);
			p = dir;
		}
		struct mt_err derr;
		mt_err_init(&derr);
		if (p && *p && artifacts_delete(as, p, &derr) != MT_OK && derr.code != MT_RESOURCE_DOES_NOT_EXIST)
			fprintf(stderr, "mltrackd gc: could not remove the artifacts at %s: %s\n", p, derr.msg);
		if (v[i].run_id)
			printf("removed run %s (experiment %lld)\n", v[i].run_id, (long long)v[i].experiment_id);
		else
			printf("removed experiment %lld\n", (long long)v[i].experiment_id);
	}
	artifacts_close(as);
	arena_free(a);
	store_close(s);
	return rc;
}
