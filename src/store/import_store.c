/* SPDX-License-Identifier: Apache-2.0 */
/* import_store.c: copies an MLflow SQLite database (schemas of MLflow 2.x and 3.x) into ours, in one
 * transaction, with the MLflow file ATTACHed read-only as `src`. Every statement is a static INSERT OR IGNORE
 * ... SELECT, so ids are kept, a second import adds nothing, and a row that conflicts with ours is skipped and
 * counted. Never writes to the MLflow database. */
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "mltrackd/store_import.h"
#include "store_internal.h"

struct step {
	const char *what;       /* summary label */
	const char *needs;      /* source table that must exist, or NULL */
	const char *needs_col;  /* and a column of it, or NULL */
	const char *count;      /* rows of the source it reads (for "skipped") */
	const char *sql;        /* the copy (?1, ?2: the --artifacts prefixes of MAP_LOC) */
	const char *unless_col; /* a column of `needs` that must NOT exist (the variant for older schemas), or NULL */
	int variant;            /* one of two variants for different schemas: silent when it does not apply */
	const char *why;        /* sql NULL: MLflow data mltrackd has no place for; reported when the table has rows */
};

/* An artifact location of MLflow's as ours: a file: URI (?1 = "file://<--artifacts>/") or plain path
 * (?2 = "<--artifacts>/") inside the --artifacts tree becomes mlflow-artifacts:/<the rest>, where the tree's copy puts
 * its files; anything else (mlflow-artifacts:/, s3://, a file: path elsewhere) is kept as it is. */
#define MAP_LOC(x)                                                                                                    \
	"CASE WHEN ?1 IS NOT NULL AND substr(" x ", 1, length(?1)) = ?1 THEN 'mlflow-artifacts:/' || substr(" x       \
	", length(?1) + 1) WHEN ?2 IS NOT NULL AND substr(" x ", 1, length(?2)) = ?2 THEN 'mlflow-artifacts:/' ||"     \
	" substr(" x ", length(?2) + 1) ELSE " x " END"

/* Rows only come in under what is already ours: runs of imported (or existing) experiments, and so on. */
static const struct step STEPS[] = {
	{"experiments", "experiments", NULL, "SELECT count(*) FROM src.experiments",
	 "INSERT OR IGNORE INTO experiments (experiment_id, name, artifact_location, lifecycle_stage, creation_time,"
	 " last_update_time) SELECT experiment_id, name, " MAP_LOC("COALESCE(artifact_location, '')") ","
	 " COALESCE(lifecycle_stage, 'active'), COALESCE(creation_time, 0), COALESCE(last_update_time, creation_time, 0)"
	 " FROM src.experiments WHERE experiment_id NOT IN (SELECT experiment_id FROM experiments)"
	 " AND name NOT IN (SELECT name FROM experiments)", NULL, 0, NULL},
	{"experiment tags", "experiment_tags", NULL, "SELECT count(*) FROM src.experiment_tags",
	 "INSERT OR IGNORE INTO experiment_tags (experiment_id, key, value) SELECT t.experiment_id, t.key, t.value"
	 " FROM src.experiment_tags t JOIN experiments e ON e.experiment_id = t.experiment_id", NULL, 0, NULL},
	{"runs", "runs", "deleted_time", "SELECT count(*) FROM src.runs",
	 "INSERT OR IGNORE INTO runs (run_uuid, experiment_id, name, user_id, status, start_time, end_time, artifact_uri,"
	 " lifecycle_stage, deleted_time) SELECT r.run_uuid, r.experiment_id, COALESCE(r.name, ''),"
	 " COALESCE(r.user_id, ''), CASE WHEN r.status IN ('RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED')"
	 " THEN r.status ELSE 'FINISHED' END, r.start_time, r.end_time, " MAP_LOC("COALESCE(r.artifact_uri, '')") ","
	 " COALESCE(r.lifecycle_stage, 'active'), r.deleted_time"
	 " FROM src.runs r JOIN experiments e ON e.experiment_id = r.experiment_id", NULL, 1, NULL},
	/* MLflow before 2.0: no runs.deleted_time */
	{"runs", "runs", NULL, "SELECT count(*) FROM src.runs",
	 "INSERT OR IGNORE INTO runs (run_uuid, experiment_id, name, user_id, status, start_time, end_time, artifact_uri,"
	 " lifecycle_stage, deleted_time) SELECT r.run_uuid, r.experiment_id, COALESCE(r.name, ''),"
	 " COALESCE(r.user_id, ''), CASE WHEN r.status IN ('RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED')"
	 " THEN r.status ELSE 'FINISHED' END, r.start_time, r.end_time, " MAP_LOC("COALESCE(r.artifact_uri, '')") ","
	 " COALESCE(r.lifecycle_stage, 'active'), NULL"
	 " FROM src.runs r JOIN experiments e ON e.experiment_id = r.experiment_id", "deleted_time", 1, NULL},
	{"params", "params", NULL, "SELECT count(*) FROM src.params",
	 "INSERT OR IGNORE INTO params (run_pk, key, value) SELECT r.run_pk, p.key, p.value"
	 " FROM src.params p JOIN runs r ON r.run_uuid = p.run_uuid", NULL, 0, NULL},
	{"run tags", "tags", NULL, "SELECT count(*) FROM src.tags",
	 "INSERT OR IGNORE INTO run_tags (run_pk, key, value) SELECT r.run_pk, t.key, t.value"
	 " FROM src.tags t JOIN runs r ON r.run_uuid = t.run_uuid", NULL, 0, NULL},
	{"metric keys", "metrics", NULL, "SELECT count(DISTINCT key) FROM src.metrics",
	 "INSERT OR IGNORE INTO metric_keys (key) SELECT DISTINCT key FROM src.metrics", NULL, 0, NULL},
	{"metric series", "latest_metrics", NULL, "SELECT count(*) FROM src.latest_metrics",
	 "INSERT OR IGNORE INTO metric_series (run_pk, key_id, latest_value, latest_timestamp, latest_step,"
	 " latest_is_nan) SELECT r.run_pk, k.key_id, CASE WHEN lm.is_nan THEN 0 ELSE lm.value END,"
	 " COALESCE(lm.timestamp, 0), lm.step, lm.is_nan FROM src.latest_metrics lm"
	 " JOIN runs r ON r.run_uuid = lm.run_uuid JOIN metric_keys k ON k.key = lm.key", NULL, 0, NULL},
	{"metric points", "metrics", NULL, "SELECT count(*) FROM src.metrics",
	 "INSERT OR IGNORE INTO metrics (series_id, timestamp, step, value, is_nan) SELECT s.series_id, m.timestamp,"
	 " m.step, CASE WHEN m.is_nan THEN 0 ELSE m.value END, m.is_nan FROM src.metrics m"
	 " JOIN runs r ON r.run_uuid = m.run_uuid JOIN metric_keys k ON k.key = m.key"
	 " JOIN metric_series s ON s.run_pk = r.run_pk AND s.key_id = k.key_id", NULL, 0, NULL},
	{"datasets", "datasets", NULL, "SELECT count(*) FROM src.datasets",
	 "INSERT OR IGNORE INTO datasets (experiment_id, name, digest, source_type, source, schema, profile)"
	 " SELECT d.experiment_id, d.name, d.digest, d.dataset_source_type, d.dataset_source, d.dataset_schema,"
	 " d.dataset_profile FROM src.datasets d JOIN experiments e ON e.experiment_id = d.experiment_id", NULL, 0, NULL},
	{"dataset inputs", "inputs", NULL, "SELECT count(*) FROM src.inputs WHERE source_type = 'DATASET'",
	 "INSERT OR IGNORE INTO run_dataset_inputs (run_pk, dataset_pk) SELECT r.run_pk, o.dataset_pk"
	 " FROM src.inputs i JOIN src.datasets d ON d.dataset_uuid = i.source_id"
	 " JOIN runs r ON r.run_uuid = i.destination_id"
	 " JOIN datasets o ON o.experiment_id = d.experiment_id AND o.name = d.name AND o.digest = d.digest"
	 " WHERE i.source_type = 'DATASET' AND i.destination_type = 'RUN'", NULL, 0, NULL},
	{"dataset input tags", "input_tags", NULL, "SELECT count(*) FROM src.input_tags",
	 "INSERT OR IGNORE INTO run_dataset_input_tags (run_pk, dataset_pk, key, value)"
	 " SELECT r.run_pk, o.dataset_pk, t.name, t.value FROM src.input_tags t"
	 " JOIN src.inputs i ON i.input_uuid = t.input_uuid JOIN src.datasets d ON d.dataset_uuid = i.source_id"
	 " JOIN runs r ON r.run_uuid = i.destination_id"
	 " JOIN datasets o ON o.experiment_id = d.experiment_id AND o.name = d.name AND o.digest = d.digest"
	 " WHERE i.source_type = 'DATASET' AND i.destination_type = 'RUN'", NULL, 0, NULL},
	{"logged models", "logged_models", NULL, "SELECT count(*) FROM src.logged_models",
	 "INSERT OR IGNORE INTO logged_models (model_id, experiment_id, name, artifact_location, creation_timestamp_ms,"
	 " last_updated_timestamp_ms, status, lifecycle_stage, model_type, source_run_id, status_message)"
	 " SELECT m.model_id, m.experiment_id, m.name, " MAP_LOC("m.artifact_location") ", m.creation_timestamp_ms,"
	 " m.last_updated_timestamp_ms, m.status, COALESCE(m.lifecycle_stage, 'active'), m.model_type,"
	 " m.source_run_id, m.status_message FROM src.logged_models m"
	 " JOIN experiments e ON e.experiment_id = m.experiment_id", NULL, 0, NULL},
	{"logged model params", "logged_model_params", NULL, "SELECT count(*) FROM src.logged_model_params",
	 "INSERT OR IGNORE INTO logged_model_params (model_pk, key, value) SELECT l.model_pk, p.param_key,"
	 " p.param_value FROM src.logged_model_params p JOIN logged_models l ON l.model_id = p.model_id", NULL, 0, NULL},
	{"logged model tags", "logged_model_tags", NULL, "SELECT count(*) FROM src.logged_model_tags",
	 "INSERT OR IGNORE INTO logged_model_tags (model_pk, key, value) SELECT l.model_pk, t.tag_key, t.tag_value"
	 " FROM src.logged_model_tags t JOIN logged_models l ON l.model_id = t.model_id", NULL, 0, NULL},
	{"metric links to logged models", "logged_model_metrics", NULL, "SELECT count(*) FROM src.logged_model_metrics",
	 "UPDATE metrics SET model_id = x.model_id, dataset_name = x.dataset_name, dataset_digest = x.dataset_digest"
	 " FROM (SELECT s.series_id, lm.metric_timestamp_ms AS ts, lm.metric_step AS step, lm.model_id,"
	 " lm.dataset_name, lm.dataset_digest FROM src.logged_model_metrics lm JOIN runs r ON r.run_uuid = lm.run_id"
	 " JOIN metric_keys k ON k.key = lm.metric_name"
	 " JOIN metric_series s ON s.run_pk = r.run_pk AND s.key_id = k.key_id) AS x"
	 " WHERE metrics.series_id = x.series_id AND metrics.timestamp = x.ts AND metrics.step = x.step"
	 " AND metrics.model_id IS NULL", NULL, 0, NULL},
	{"model outputs", "inputs", "step", "SELECT count(*) FROM src.inputs WHERE source_type = 'RUN_OUTPUT'",
	 "INSERT OR IGNORE INTO run_model_io (run_pk, direction, model_id, step) SELECT r.run_pk, 'output',"
	 " i.destination_id, i.step FROM src.inputs i JOIN runs r ON r.run_uuid = i.source_id"
	 " WHERE i.source_type = 'RUN_OUTPUT' AND i.destination_type = 'MODEL_OUTPUT'", NULL, 0, NULL},
	{"registered models", "registered_models", NULL, "SELECT count(*) FROM src.registered_models",
	 "INSERT OR IGNORE INTO registered_models (name, creation_time, last_updated_time, description)"
	 " SELECT name, COALESCE(creation_time, 0), COALESCE(last_updated_time, creation_time, 0), description"
	 " FROM src.registered_models", NULL, 0, NULL},
	{"registered model tags", "registered_model_tags", NULL, "SELECT count(*) FROM src.registered_model_tags",
	 "INSERT OR IGNORE INTO registered_model_tags (model_pk, key, value) SELECT m.model_pk, t.key, t.value"
	 " FROM src.registered_model_tags t JOIN registered_models m ON m.name = t.name", NULL, 0, NULL},
	{"model versions", "model_versions", "storage_location", "SELECT count(*) FROM src.model_versions",
	 "INSERT OR IGNORE INTO model_versions (model_pk, version, creation_time, last_updated_time, description,"
	 " user_id, current_stage, source, storage_location, run_id, run_link, status, status_message)"
	 " SELECT m.model_pk, v.version, COALESCE(v.creation_time, 0), COALESCE(v.last_updated_time, v.creation_time, 0),"
	 " v.description, v.user_id, CASE WHEN v.current_stage IN ('None', 'Staging', 'Production', 'Archived',"
	 " 'Deleted_Internal') THEN v.current_stage ELSE 'None' END, " MAP_LOC("v.source") ","
	 " " MAP_LOC("v.storage_location") ","
	 " v.run_id, v.run_link,"
	 " COALESCE(v.status, 'READY'), v.status_message FROM src.model_versions v"
	 " JOIN registered_models m ON m.name = v.name", NULL, 1, NULL},
	/* MLflow before 2.9: no model_versions.storage_location */
	{"model versions", "model_versions", NULL, "SELECT count(*) FROM src.model_versions",
	 "INSERT OR IGNORE INTO model_versions (model_pk, version, creation_time, last_updated_time, description,"
	 " user_id, current_stage, source, storage_location, run_id, run_link, status, status_message)"
	 " SELECT m.model_pk, v.version, COALESCE(v.creation_time, 0), COALESCE(v.last_updated_time, v.creation_time, 0),"
	 " v.description, v.user_id, CASE WHEN v.current_stage IN ('None', 'Staging', 'Production', 'Archived',"
	 " 'Deleted_Internal') THEN v.current_stage ELSE 'None' END, " MAP_LOC("v.source") ", NULL,"
	 " v.run_id, v.run_link,"
	 " COALESCE(v.status, 'READY'), v.status_message FROM src.model_versions v"
	 " JOIN registered_models m ON m.name = v.name", "storage_location", 1, NULL},
	{"model version tags", "model_version_tags", NULL, "SELECT count(*) FROM src.model_version_tags",
	 "INSERT OR IGNORE INTO model_version_tags (mv_pk, key, value) SELECT mv.mv_pk, t.key, t.value"
	 " FROM src.model_version_tags t JOIN registered_models m ON m.name = t.name"
	 " JOIN model_versions mv ON mv.model_pk = m.model_pk AND mv.version = t.version", NULL, 0, NULL},
	{"aliases", "registered_model_aliases", NULL, "SELECT count(*) FROM src.registered_model_aliases",
	 "INSERT OR IGNORE INTO registered_model_aliases (model_pk, alias, version) SELECT m.model_pk, a.alias, a.version"
	 " FROM src.registered_model_aliases a JOIN registered_models m ON m.name = a.name", NULL, 0, NULL},
	/* MLflow tables with no counterpart here: said in the summary when they hold rows, never copied */
	{"traces", "trace_info", NULL, "SELECT count(*) FROM src.trace_info", NULL, NULL, 0,
	 "mltrackd has no trace store (GenAI tracing)"},
	{"spans", "spans", NULL, "SELECT count(*) FROM src.spans", NULL, NULL, 0, "mltrackd has no trace store"},
	{"assessments", "assessments", NULL, "SELECT count(*) FROM src.assessments", NULL, NULL, 0,
	 "mltrackd has no trace store"},
	{"evaluation datasets", "evaluation_datasets", NULL, "SELECT count(*) FROM src.evaluation_datasets", NULL, NULL,
	 0, "mltrackd has no GenAI evaluation datasets"},
	{"scorers", "scorers", NULL, "SELECT count(*) FROM src.scorers", NULL, NULL, 0, "mltrackd has no scorers"},
	{"webhooks", "webhooks", NULL, "SELECT count(*) FROM src.webhooks", NULL, NULL, 0,
	 "MLflow keeps their secrets encrypted with its own key; create them again (docs/events.md)"},
	{"gateway endpoints", "endpoints", NULL, "SELECT count(*) FROM src.endpoints", NULL, NULL, 0,
	 "mltrackd has no AI gateway"},
};

static const char SQL_HAS_TABLE[] = "SELECT 1 FROM src.sqlite_master WHERE type = 'table' AND name = ?1";
static const char SQL_HAS_COLUMN[] = "SELECT 1 FROM pragma_table_info(?1, 'src') WHERE name = ?2";

/* Runs a one-off query on the import's connection with text parameters a and b (NULL: left unbound): whether
 * it yields a row, and that row's first column in *v when v is not NULL. A failing query yields no row. */
static bool first_row(sqlite3 *db, const char *sql, const char *a, const char *b, long long *v)
{
	sqlite3_stmt *st = NULL;
	bool row = false;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
		if (a)
			sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
		if (b)
			sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
		row = sqlite3_step(st) == SQLITE_ROW;
		if (row && v)
			*v = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	return row;
}

static bool exists(sqlite3 *db, const char *sql, const char *a, const char *b)
{
	return first_row(db, sql, a, b, NULL);
}

/* A source table's row count; -1 when it cannot be counted. */
static long long count(sqlite3 *db, const char *sql)
{
	long long n = -1;
	(void)first_row(db, sql, NULL, NULL, &n);
	return n;
}

enum mt_error store_import_mlflow(const char *db_path, const char *mlflow_db, const char *artifacts_dir,
                                  store_import_progress_fn progress, void *ctx, struct mt_err *err)
{
	/* the prefixes of file: locations (and plain paths) inside --artifacts, mapped onto mlflow-artifacts:/ */
	char file_prefix_buf[4200], path_prefix_buf[4200];
	const char *file_prefix = NULL, *path_prefix = NULL;
	if (artifacts_dir && artifacts_dir[0] == '/') {
		bool slash = artifacts_dir[strlen(artifacts_dir) - 1] == '/';
		if (snprintf(file_prefix_buf, sizeof file_prefix_buf, "file://%s%s", artifacts_dir, slash ? "" : "/") <
		        (int)sizeof file_prefix_buf &&
		    snprintf(path_prefix_buf, sizeof path_prefix_buf, "%s%s", artifacts_dir, slash ? "" : "/") <
		        (int)sizeof path_prefix_buf) {
			file_prefix = file_prefix_buf;
			path_prefix = path_prefix_buf;
		}
	}
	sqlite3 *db = NULL;
	enum mt_error rc = MT_OK;
	bool in_tx = false; /* a failure after BEGIN rolls back at `out` */
	if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_URI, NULL) != SQLITE_OK) {
		rc = mt_fail(err, MT_INTERNAL_ERROR, "cannot open %s: %s", db_path, db ? sqlite3_errmsg(db) : "no memory");
		goto out;
	}
	sqlite3_busy_timeout(db, 10000);
	/* the MLflow file read-only, through a URI (mode=ro): nothing can create or change it */
	char uri[4200];
	if (snprintf(uri, sizeof uri, "file:%s?mode=ro", mlflow_db) >= (int)sizeof uri ||
	    strpbrk(mlflow_db, "?#%") != NULL) {
		rc = mt_fail(err, MT_INVALID_PARAMETER_VALUE, "unsupported characters in the MLflow database path");
		goto out;
	}
	sqlite3_stmt *st = NULL;
	if (sqlite3_exec(db, "PRAGMA foreign_keys=ON", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "ATTACH DATABASE ?1 AS src", -1, &st, NULL) != SQLITE_OK) {
		rc = mt_fail(err, MT_INTERNAL_ERROR, "cannot attach the MLflow database: %s", sqlite3_errmsg(db));
		sqlite3_finalize(st);
		goto out;
	}
	sqlite3_bind_text(st, 1, uri, -1, SQLITE_STATIC);
	int r = sqlite3_step(st);
	sqlite3_finalize(st);
	if (r != SQLITE_DONE || !exists(db, SQL_HAS_TABLE, "experiments", NULL) || !exists(db, SQL_HAS_TABLE, "runs", NULL)) {
		rc = mt_fail(err, MT_INVALID_PARAMETER_VALUE, "%s is not an MLflow tracking database (%s)", mlflow_db,
		             r != SQLITE_DONE ? sqlite3_errmsg(db) : "no experiments or runs table");
		goto out;
	}
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		rc = mt_fail(err, MT_INTERNAL_ERROR, "cannot start the import: %s", sqlite3_errmsg(db));
		goto out;
	}
	in_tx = true;
	char why[256];
	for (size_t i = 0; i < sizeof STEPS / sizeof STEPS[0]; i++) {
		const struct step *s = &STEPS[i];
		struct store_import_step out = {s->what, -1, 0, NULL, 0};
		bool has_table = !s->needs || exists(db, SQL_HAS_TABLE, s->needs, NULL);
		bool applies = has_table && (!s->needs_col || exists(db, SQL_HAS_COLUMN, s->needs, s->needs_col)) &&
		               (!s->unless_col || !exists(db, SQL_HAS_COLUMN, s->needs, s->unless_col));
		if (!applies) {
			if ((s->variant && has_table) || !s->sql)
				continue; /* the other variant of this step applies; or nothing to say about an absent table */
			out.note = "not in this MLflow schema";
			progress(ctx, &out);
			continue;
		}
		out.source_rows = count(db, s->count);
		if (!s->sql) {
			if (out.source_rows > 0) {
				snprintf(why, sizeof why, "%lld rows not imported: %s", (long long)out.source_rows, s->why);
				out.note = why;
				progress(ctx, &out);
			}
			continue;
		}
		out.started = 1;
		progress(ctx, &out);
		out.started = 0;
		sqlite3_stmt *q = NULL;
		int qr = sqlite3_prepare_v2(db, s->sql, -1, &q, NULL);
		if (qr == SQLITE_OK) {
			int np = sqlite3_bind_parameter_count(q);
			if (np >= 1)
				db_bind_text(q, 1, file_prefix);
			if (np >= 2)
				db_bind_text(q, 2, path_prefix);
			qr = sqlite3_step(q);
		}
		sqlite3_finalize(q);
		if (qr != SQLITE_DONE) {
			rc = mt_fail(err, MT_INTERNAL_ERROR, "importing %s failed: %s", s->what, sqlite3_errmsg(db));
			goto out;
		}
		out.imported = sqlite3_changes64(db);
		progress(ctx, &out);
	}
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		rc = mt_fail(err, MT_INTERNAL_ERROR, "committing the import failed: %s", sqlite3_errmsg(db));
		goto out;
	}
	in_tx = false;
out:
	if (in_tx)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(db);
	return rc;
}
