/* SPDX-License-Identifier: Apache-2.0 */
/* map.c: which deliveries an outbox event makes: MLflow's entity.action subscriptions get the event's payload as
 * `data`; Databricks' registry webhooks get their own events and body (fixed at fan-out, so a retry resends the
 * same bytes). Example payloads for the test endpoints. No I/O. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "mltrackd/buf.h"
#include "mltrackd/util.h"
#include "mltrackd/webhooks.h"

static const char *const MLFLOW_EVENTS[][2] = {
	{"registered_model", "created"},    {"model_version", "created"},       {"model_version_tag", "set"},
	{"model_version_tag", "deleted"},   {"model_version_alias", "created"}, {"model_version_alias", "deleted"},
	{"prompt", "created"},              {"prompt_version", "created"},      {"prompt_tag", "set"},
	{"prompt_tag", "deleted"},          {"prompt_version_tag", "set"},      {"prompt_version_tag", "deleted"},
	{"prompt_alias", "created"},        {"prompt_alias", "deleted"},        {"budget_policy", "exceeded"},
};

/* MLflow's example payloads (mlflow/webhooks/types.py), as json.dumps writes them. */
static const char *const MLFLOW_EXAMPLES[] = {
	"{\"name\": \"example_model\", \"tags\": {\"example_key\": \"example_value\"}, \"description\": \"An example "
	"registered model\"}",
	"{\"name\": \"example_model\", \"version\": \"1\", \"source\": \"models:/123\", \"run_id\": \"abcd1234abcd5678\", "
	"\"tags\": {\"example_key\": \"example_value\"}, \"description\": \"An example model version\"}",
	"{\"name\": \"example_model\", \"version\": \"1\", \"key\": \"example_key\", \"value\": \"example_value\"}",
	"{\"name\": \"example_model\", \"version\": \"1\", \"key\": \"example_key\"}",
	"{\"name\": \"example_model\", \"alias\": \"example_alias\", \"version\": \"1\"}",
	"{\"name\": \"example_model\", \"alias\": \"example_alias\"}",
	"{\"name\": \"example_prompt\", \"tags\": {\"example_key\": \"example_value\"}, \"description\": \"An example "
	"prompt\"}",
	"{\"name\": \"example_prompt\", \"version\": \"1\", \"template\": \"Hello {{name}}!\", \"tags\": "
	"{\"example_key\": \"example_value\"}, \"description\": \"An example prompt version\"}",
	"{\"name\": \"example_prompt\", \"key\": \"example_key\", \"value\": \"example_value\"}",
	"{\"name\": \"example_prompt\", \"key\": \"example_key\"}",
	"{\"name\": \"example_prompt\", \"version\": \"1\", \"key\": \"example_key\", \"value\": \"example_value\"}",
	"{\"name\": \"example_prompt\", \"version\": \"1\", \"key\": \"example_key\"}",
	"{\"name\": \"example_prompt\", \"alias\": \"example_alias\", \"version\": \"1\"}",
	"{\"name\": \"example_prompt\", \"alias\": \"example_alias\"}",
	"{\"budget_policy_id\": \"bp-abc123\", \"budget_unit\": \"USD\", \"budget_amount\": 100.0, \"current_spend\": "
	"105.5, \"duration_unit\": \"MONTHS\", \"duration_value\": 1, \"target_scope\": \"ENDPOINT\", \"workspace\": "
	"\"default\", \"target_value\": \"ep-abc123\", \"window_start\": 1704067200000}",
};

#define N_MLFLOW (sizeof MLFLOW_EVENTS / sizeof MLFLOW_EVENTS[0])

static int mlflow_index(const char *entity, const char *action)
{
	for (size_t i = 0; i < N_MLFLOW; i++)
		if (strcmp(entity, MLFLOW_EVENTS[i][0]) == 0 && strcmp(action, MLFLOW_EVENTS[i][1]) == 0)
			return (int)i;
	return -1;
}

bool wh_mlflow_event_valid(const char *entity, const char *action) { return mlflow_index(entity, action) >= 0; }

const char *wh_mlflow_example(const char *entity, const char *action)
{
	int i = mlflow_index(entity, action);
	return i < 0 ? NULL : MLFLOW_EXAMPLES[i];
}

static const char *const DATABRICKS_EVENTS[] = {
	"MODEL_VERSION_CREATED",
	"MODEL_VERSION_TRANSITIONED_STAGE",
	"TRANSITION_REQUEST_CREATED",
	"COMMENT_CREATED",
	"REGISTERED_MODEL_CREATED",
	"MODEL_VERSION_TAG_SET",
	"MODEL_VERSION_TRANSITIONED_TO_STAGING",
	"MODEL_VERSION_TRANSITIONED_TO_PRODUCTION",
	"MODEL_VERSION_TRANSITIONED_TO_ARCHIVED",
	"TRANSITION_REQUEST_TO_STAGING_CREATED",
	"TRANSITION_REQUEST_TO_PRODUCTION_CREATED",
	"TRANSITION_REQUEST_TO_ARCHIVED_CREATED",
};

bool wh_databricks_event_valid(const char *event)
{
	for (size_t i = 0; i < sizeof DATABRICKS_EVENTS / sizeof DATABRICKS_EVENTS[0]; i++)
		if (strcmp(event, DATABRICKS_EVENTS[i]) == 0)
			return true;
	return false;
}

static bool subscribed(const struct mt_webhook *wh, const char *event)
{
	for (size_t i = 0; i < wh->n_events; i++)
		if (strcmp(wh->events[i], event) == 0)
			return true;
	return false;
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Databricks' body: {event, webhook_id, event_timestamp, model_name, version?, <extra>, text}. */
struct dbx {
	struct buf b;
	struct jw w;
};

static void dbx_open(struct dbx *d, const char *event, const char *webhook_id, int64_t ts, const char *model,
                     const char *version)
{
	buf_init(&d->b, 1u << 20);
	jw_init(&d->w, &d->b);
	jw_obj_open(&d->w);
	jw_kv_str(&d->w, "event", event);
	jw_kv_str(&d->w, "webhook_id", webhook_id);
	jw_kv_int(&d->w, "event_timestamp", ts);
	jw_kv_str(&d->w, "model_name", model ? model : "");
	if (version)
		jw_kv_str(&d->w, "version", version);
}

static char *dbx_close(struct dbx *d, struct arena *a, const char *text)
{
	jw_kv_str(&d->w, "text", text);
	jw_obj_close(&d->w);
	char *s = d->b.overflow ? NULL : arena_strdup(a, d->b.data);
	buf_free(&d->b);
	return s;
}

static const char *stage_suffix(const char *stage)
{
	if (!stage)
		return NULL;
	if (strcmp(stage, "Staging") == 0)
		return "STAGING";
	if (strcmp(stage, "Production") == 0)
		return "PRODUCTION";
	if (strcmp(stage, "Archived") == 0)
		return "ARCHIVED";
	return NULL;
}

static void emit_transition(const struct mt_event *ev, const struct mt_webhook *wh, struct arena *a,
                            webhook_emit_fn emit, void *ectx, const char *model, const char *version,
                            const char *from, const char *to)
{
	char per_stage[64] = "";
	const char *suf = stage_suffix(to);
	if (suf)
		snprintf(per_stage, sizeof per_stage, "MODEL_VERSION_TRANSITIONED_TO_%s", suf);
	const char *names[2] = {"MODEL_VERSION_TRANSITIONED_STAGE", suf ? per_stage : NULL};
	for (int i = 0; i < 2; i++) {
		if (!names[i] || !subscribed(wh, names[i]))
			continue;
		struct dbx d;
		dbx_open(&d, names[i], wh->id, ev->created_at, model, version);
		jw_kv_str(&d.w, "to_stage", to ? to : "None");
		jw_kv_str(&d.w, "from_stage", from ? from : "None");
		char *text = arena_printf(a, "Registered model '%s' version %s transitioned from %s to %s.", model,
		                          version, from ? from : "None", to ? to : "None");
		char *body = dbx_close(&d, a, text);
		if (body)
			emit(ectx, names[i], body);
	}
}

static void map_databricks(const struct mt_event *ev, const struct mt_webhook *wh, struct arena *a,
                           webhook_emit_fn emit, void *ectx)
{
	cJSON *p = cJSON_Parse(ev->payload ? ev->payload : "{}");
	if (!p)
		return;
	const char *model = jstr(p, "name"), *version = jstr(p, "version");
	if (!model || (wh->model_name && strcmp(wh->model_name, model) != 0))
		goto out;
	struct dbx d;
	char *body;
	if (strcmp(ev->entity, "registered_model") == 0 && strcmp(ev->action, "created") == 0) {
		/* registry-wide webhooks only (Databricks refuses it on a model-scoped one) */
		if (wh->model_name || !subscribed(wh, "REGISTERED_MODEL_CREATED"))
			goto out;
		dbx_open(&d, "REGISTERED_MODEL_CREATED", wh->id, ev->created_at, model, NULL);
		if ((body = dbx_close(&d, a, arena_printf(a, "Registered model '%s' was created.", model))))
			emit(ectx, "REGISTERED_MODEL_CREATED", body);
	} else if (strcmp(ev->entity, "model_version") == 0 && strcmp(ev->action, "created") == 0) {
		if (!subscribed(wh, "MODEL_VERSION_CREATED"))
			goto out;
		dbx_open(&d, "MODEL_VERSION_CREATED", wh->id, ev->created_at, model, version);
		if ((body = dbx_close(&d, a,
		                      arena_printf(a, "A new version %s of registered model '%s' was created.",
		                                   version ? version : "?", model))))
			emit(ectx, "MODEL_VERSION_CREATED", body);
	} else if (strcmp(ev->entity, "model_version_tag") == 0 && strcmp(ev->action, "set") == 0) {
		if (!subscribed(wh, "MODEL_VERSION_TAG_SET"))
			goto out;
		dbx_open(&d, "MODEL_VERSION_TAG_SET", wh->id, ev->created_at, model, version);
		jw_key(&d.w, "tags");
		jw_arr_open(&d.w);
		jw_obj_open(&d.w);
		jw_kv_str(&d.w, "key", jstr(p, "key") ? jstr(p, "key") : "");
		jw_kv_str(&d.w, "value", jstr(p, "value") ? jstr(p, "value") : "");
		jw_obj_close(&d.w);
		jw_arr_close(&d.w);
		if ((body = dbx_close(&d, a,
		                      arena_printf(a, "A tag was set on version %s of registered model '%s'.",
		                                   version ? version : "?", model))))
			emit(ectx, "MODEL_VERSION_TAG_SET", body);
	} else if (strcmp(ev->entity, "model_version") == 0 && strcmp(ev->action, "stage_transitioned") == 0) {
		const char *from = jstr(p, "from_stage"), *to = jstr(p, "to_stage");
		emit_transition(ev, wh, a, emit, ectx, model, version ? version : "", from, to);
		/* versions archive_existing_versions moved out of the target stage */
		const cJSON *arch = cJSON_GetObjectItemCaseSensitive(p, "archived_versions"), *v;
		cJSON_ArrayForEach(v, arch)
		{
			char num[32];
			const char *vs = cJSON_IsString(v) ? v->valuestring : NULL;
			if (!vs && cJSON_IsNumber(v)) {
				snprintf(num, sizeof num, "%.0f", v->valuedouble);
				vs = num;
			}
			if (vs)
				emit_transition(ev, wh, a, emit, ectx, model, vs, to, "Archived");
		}
	} else if (strcmp(ev->entity, "transition_request") == 0 && strcmp(ev->action, "created") == 0) {
		const char *to = jstr(p, "to_stage"), *suf = stage_suffix(to);
		char per_stage[64] = "";
		if (suf)
			snprintf(per_stage, sizeof per_stage, "TRANSITION_REQUEST_TO_%s_CREATED", suf);
		const char *names[2] = {"TRANSITION_REQUEST_CREATED", suf ? per_stage : NULL};
		for (int i = 0; i < 2; i++) {
			if (!names[i] || !subscribed(wh, names[i]))
				continue;
			dbx_open(&d, names[i], wh->id, ev->created_at, model, version);
			jw_kv_str(&d.w, "to_stage", to ? to : "None");
			jw_kv_str_opt(&d.w, "from_stage", jstr(p, "from_stage"));
			jw_kv_str_opt(&d.w, "comment", jstr(p, "comment"));
			jw_kv_str_opt(&d.w, "creator", jstr(p, "creator"));
			jw_kv_str_opt(&d.w, "request_id", jstr(p, "request_id"));
			if ((body = dbx_close(&d, a,
			                      arena_printf(a,
			                                   "A transition of version %s of registered model '%s' to %s was "
			                                   "requested.",
			                                   version ? version : "?", model, to ? to : "None"))))
				emit(ectx, names[i], body);
		}
	} else if (strcmp(ev->entity, "comment") == 0 && strcmp(ev->action, "created") == 0) {
		if (!subscribed(wh, "COMMENT_CREATED"))
			goto out;
		dbx_open(&d, "COMMENT_CREATED", wh->id, ev->created_at, model, version);
		jw_kv_str(&d.w, "comment", jstr(p, "comment") ? jstr(p, "comment") : "");
		jw_kv_str_opt(&d.w, "comment_id", jstr(p, "comment_id"));
		jw_kv_str_opt(&d.w, "user_id", jstr(p, "user_id"));
		if ((body = dbx_close(&d, a,
		                      arena_printf(a, "A comment was added to version %s of registered model '%s'.",
		                                   version ? version : "?", model))))
			emit(ectx, "COMMENT_CREATED", body);
	}
out:
	cJSON_Delete(p);
}

void wh_map_event(const struct mt_event *ev, const struct mt_webhook *wh, struct arena *a, webhook_emit_fn emit,
                  void *ectx)
{
	if (wh->kind == WH_KIND_DATABRICKS) {
		map_databricks(ev, wh, a, emit, ectx);
		return;
	}
	char *name = arena_printf(a, "%s.%s", ev->entity, ev->action);
	if (mlflow_index(ev->entity, ev->action) >= 0 && subscribed(wh, name))
		emit(ectx, name, ev->payload ? ev->payload : "{}");
}

char *wh_databricks_example(struct arena *a, const char *webhook_id, const char *event, const char *model_name)
{
	struct dbx d;
	const char *model = model_name ? model_name : "example_model";
	bool has_version = strcmp(event, "REGISTERED_MODEL_CREATED") != 0;
	dbx_open(&d, event, webhook_id, mt_now_ms(), model, has_version ? "1" : NULL);
	if (strstr(event, "TRANSITION")) {
		const char *to = strstr(event, "STAGING") ? "Staging" : strstr(event, "ARCHIVED") ? "Archived" : "Production";
		jw_kv_str(&d.w, "to_stage", to);
		jw_kv_str(&d.w, "from_stage", "None");
	}
	if (strcmp(event, "COMMENT_CREATED") == 0)
		jw_kv_str(&d.w, "comment", "This is a test comment");
	if (strcmp(event, "MODEL_VERSION_TAG_SET") == 0) {
		jw_key(&d.w, "tags");
		jw_arr_open(&d.w);
		jw_obj_open(&d.w);
		jw_kv_str(&d.w, "key", "test_key");
		jw_kv_str(&d.w, "value", "test_value");
		jw_obj_close(&d.w);
		jw_arr_close(&d.w);
	}
	return dbx_close(&d, a, arena_printf(a, "Test message from model registry webhook %s (%s).", webhook_id, event));
}
