-- SPDX-License-Identifier: Apache-2.0
-- 0010_metric_staging: recent metric points in arrival order. A log-batch appends its points here (a few pages per
-- request) instead of into `metrics`, whose clustering by series made a batch of N distinct keys dirty N leaf pages;
-- the writer merges them into `metrics` in the background and readers see both (src/store/recent.c). Rows are
-- replayed into `metrics` at start-up after a crash; INSERT OR IGNORE makes a replay of merged rows harmless.
CREATE TABLE metric_staging (
    seq       INTEGER PRIMARY KEY,
    series_id INTEGER NOT NULL,
    timestamp INTEGER NOT NULL,
    step      INTEGER NOT NULL,
    value     REAL NOT NULL,
    is_nan    INTEGER NOT NULL
);
