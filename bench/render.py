#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Re-renders a results file from the JSON bench.py wrote beside it (bench/results/<date>.json), with the current
# report.py: for when the report's wording changes after a long run. It measures nothing and changes no number.
#   bench/render.py bench/results/2026-12-02.json [out.md]   (default: the .md beside the .json)
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402
import report  # noqa: E402


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__ or "usage: render.py RESULT.json [OUT.md]")
    src = sys.argv[1]
    with open(src) as f:
        result = json.load(f)
    ran = {c["op"] for c in result["cells"]} if result["cells"] and "op" in result["cells"][0] else None
    ops = [o for o in bench.operations(result["scale"]) if ran is None or o.key in ran]
    out = sys.argv[2] if len(sys.argv) == 3 else (src[:-5] if src.endswith(".json") else src) + ".md"
    with open(out, "w") as f:
        f.write(report.render(result, ops, list(result["servers"])))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
