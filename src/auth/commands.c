/* SPDX-License-Identifier: Apache-2.0 */
/* commands.c: the operator's subcommands: `mltrackd user add|passwd|token` working on the database directly
 * (for bootstrap and recovery, no server needed), and `mltrackd routes --json` printing the route table with
 * each route's declared resource and permission (docs/security.md's table is generated from it). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mltrackd/auth.h"
#include "mltrackd/config.h"
#include "mltrackd/route.h"
#include "mltrackd/store.h"
#include "mltrackd/store_auth.h"
#include "mltrackd/util.h"

static void user_usage(FILE *f)
{
	fprintf(f, "Usage: mltrackd user add NAME [--admin] [--backend-store-uri URI]\n"
	           "       mltrackd user passwd NAME [--backend-store-uri URI]\n"
	           "       mltrackd user token NAME [--token-name LABEL] [--expires-days N] [--backend-store-uri URI]\n"
	           "The password is read from MLTRACKD_USER_PASSWORD or, when unset, from the first line of stdin\n"
	           "(at least %d characters). `token` prints a new bearer token once; only its hash is stored.\n"
	           "A running server notices a password changed here within its credential cache lifetime (5 minutes).\n",
	           AUTH_MIN_PASSWORD_LENGTH);
}

static char *read_password(void)
{
	const char *env = getenv("MLTRACKD_USER_PASSWORD");
	if (env && *env)
		return xstrdup(env);
	char line[1024];
	if (!fgets(line, sizeof line, stdin))
		return NULL;
	line[strcspn(line, "\r\n")] = '\0';
	return xstrdup(line);
}

int mt_user_main(int argc, char **argv)
{
	/* argv: user ACTION NAME [options] */
	if (argc < 3 || (strcmp(argv[1], "add") && strcmp(argv[1], "passwd") && strcmp(argv[1], "token"))) {
		user_usage(stderr);
		return 2;
	}
	const char *action = argv[1], *name = argv[2], *label = "cli";
	bool admin = false;
	long days = 0;
	char **rest = xcalloc((size_t)argc + 1, sizeof *rest);
	int nrest = 0;
	rest[nrest++] = "mltrackd";
	for (int i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "--admin")) {
			admin = true;
		} else if (!strcmp(argv[i], "--token-name") && i + 1 < argc) {
			label = argv[++i];
		} else if (!strcmp(argv[i], "--expires-days") && i + 1 < argc) {
			char *end;
			days = strtol(argv[++i], &end, 10);
			if (*end || days < 0 || days > 3650) {
				fprintf(stderr, "mltrackd user: invalid --expires-days '%s'\n", argv[i]);
				free(rest);
				return 2;
			}
		} else {
			rest[nrest++] = argv[i];
		}
	}
	struct mt_config cfg;
	int rc = mt_config_load(&cfg, nrest, rest);
	free(rest);
	if (rc != 0) {
		mt_config_free(&cfg);
		return rc > 0 ? 0 : 2;
	}
	struct mt_err err;
	mt_err_init(&err);
	struct store *s = NULL;
	if (store_open(cfg.db_path, &s, &err) != MT_OK) {
		fprintf(stderr, "mltrackd user: %s\n", err.msg);
		mt_config_free(&cfg);
		return 1;
	}
	int status = 0;
	if (!strcmp(action, "token")) {
		struct arena *a = arena_new();
		struct mt_user u;
		char *tok = auth_token_new();
		char hex[65];
		auth_token_hash(tok, hex);
		int64_t exp = days ? mt_now_ms() + (int64_t)days * 86400 * 1000 : 0, id = 0;
		if (store_user_get(s, a, name, &u, &err) != MT_OK ||
		    store_token_create_id(s, u.id, hex, label, exp, &id, &err) != MT_OK) {
			fprintf(stderr, "mltrackd user token: %s\n", err.msg);
			status = 1;
		} else {
			printf("%s\n", tok);
		}
		free(tok);
		arena_free(a);
	} else {
		char *pw = read_password();
		if (!pw || strlen(pw) < AUTH_MIN_PASSWORD_LENGTH) {
			fprintf(stderr, "mltrackd user: the password must be at least %d characters long\n",
			        AUTH_MIN_PASSWORD_LENGTH);
			status = 2;
		} else {
			char *hash = auth_password_hash_new(pw, AUTH_PBKDF2_ITERATIONS);
			enum mt_error e = !strcmp(action, "add") ? store_user_create(s, name, hash, admin, NULL, &err)
			                                         : store_user_set_password(s, name, hash, &err);
			free(hash);
			if (e != MT_OK) {
				fprintf(stderr, "mltrackd user %s: %s\n", action, err.msg);
				status = 1;
			} else {
				printf("%s user '%s'%s\n", !strcmp(action, "add") ? "created" : "changed the password of", name,
				       admin ? " (admin)" : "");
			}
		}
		if (pw) {
			explicit_bzero(pw, strlen(pw));
			free(pw);
		}
	}
	store_close(s);
	mt_config_free(&cfg);
	return status;
}

static const char *const res_names[] = {"server", "experiment", "experiment_name", "experiment_new", "experiment_list",
                                        "run", "run_list", "logged_model", "registered_model", "model_version",
                                        "artifact", "webhook", "user", "grant_target", "role"};
static const char *const perm_names[] = {"PUBLIC", "AUTHENTICATED", "READ", "USE", "EDIT", "MANAGE", "ADMIN"};

int mt_routes_main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--json") != 0) {
		fprintf(stderr, "Usage: mltrackd routes --json\n");
		return 2;
	}
	static const struct {
		unsigned bit;
		const char *name;
	} methods[] = {{MT_GET, "GET"}, {MT_POST, "POST"}, {MT_PUT, "PUT"}, {MT_PATCH, "PATCH"}, {MT_DELETE, "DELETE"}};
	printf("[\n");
	for (size_t i = 0; i < mt_routes_count; i++) {
		const struct mt_route *r = &mt_routes[i];
		printf("  {\"methods\": [");
		int k = 0;
		for (size_t m = 0; m < sizeof methods / sizeof methods[0]; m++)
			if (r->methods & methods[m].bit)
				printf("%s\"%s\"", k++ ? ", " : "", methods[m].name);
		printf("], \"paths\": [");
		k = 0;
		if (r->flags & ROUTE_ROOT)
			printf("%s\"%s\"", k++ ? ", " : "", r->pattern);
		if ((r->flags & ROUTE_V2) && !(r->flags & ROUTE_AJAX_ONLY))
			printf("%s\"/api/2.0%s\"", k++ ? ", " : "", r->pattern);
		if (r->flags & ROUTE_V2)
			printf("%s\"/ajax-api/2.0%s\"", k++ ? ", " : "", r->pattern);
		if ((r->flags & ROUTE_V3) && !(r->flags & ROUTE_AJAX_ONLY))
			printf("%s\"/api/3.0%s\"", k++ ? ", " : "", r->pattern);
		if (r->flags & ROUTE_V3)
			printf("%s\"/ajax-api/3.0%s\"", k++ ? ", " : "", r->pattern);
		bool res_ok = (size_t)r->res < sizeof res_names / sizeof res_names[0];
		bool perm_ok = (size_t)r->perm < sizeof perm_names / sizeof perm_names[0];
		printf("], \"pattern\": \"%s\", \"resource\": \"%s\", \"resource_id\": ", r->pattern,
		       res_ok ? res_names[r->res] : "?");
		if (r->res_field)
			printf("\"%s\"", r->res_field);
		else
			printf("null");
		printf(", \"permission\": \"%s\", \"implemented\": %s}%s\n", perm_ok ? perm_names[r->perm] : "?",
		       r->handler ? "true" : "false", i + 1 < mt_routes_count ? "," : "");
	}
	printf("]\n");
	return 0;
}
