# SPDX-License-Identifier: Apache-2.0
# The end-to-end scenario of issue 6: a training loop logging M metrics x S steps with mlflow.log_metrics through
# the real mlflow client against --uri; prints one JSON line. Times the loop only (not imports or server start).
import argparse
import json
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--uri", required=True)
    ap.add_argument("--metrics", type=int, default=100)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--experiment", default="bench-e2e")
    a = ap.parse_args()
    import mlflow
    from mlflow.exceptions import MlflowException
    mlflow.set_tracking_uri(a.uri)
    t0 = time.perf_counter()
    try:
        mlflow.set_experiment(a.experiment)
        with mlflow.start_run():
            mlflow.log_params({"lr": 0.01, "batch": 64})
            for step in range(a.steps):
                mlflow.log_metrics({f"m{i:03d}": (i + 1) / (step + 1) for i in range(a.metrics)}, step=step)
    except MlflowException as e:
        code = getattr(e, "error_code", "")
        ni = "NOT_IMPLEMENTED" in str(code) or "501" in str(e)[:500] or "not implemented" in str(e)[:500]
        print(json.dumps({"state": "not implemented" if ni else "error", "why": str(e)[:200]}))
        return
    except Exception as e:  # noqa: BLE001 - report any client failure as an error cell
        print(json.dumps({"state": "error", "why": f"{type(e).__name__}: {str(e)[:200]}"}))
        return
    dt = time.perf_counter() - t0
    print(json.dumps({"state": "ok", "seconds": round(dt, 3), "points": a.metrics * a.steps,
                      "points_per_s": round(a.metrics * a.steps / dt, 1)}))


if __name__ == "__main__":
    main()
