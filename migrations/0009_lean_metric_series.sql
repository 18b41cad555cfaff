-- SPDX-License-Identifier: Apache-2.0
-- 0009_lean_metric_series: drop the (key_id, latest_value) index of metric_series. Every logged point that
-- moves a series' latest value had to rewrite an entry of it (a delete and an insert in another B-tree), which
-- cost a third of log-batch's time; search reaches a run's series through UNIQUE (run_pk, key_id) instead.
DROP INDEX IF EXISTS metric_series_by_key;
